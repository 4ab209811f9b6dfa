/**
 * The Odoo ERP adapter: Harmony's ErpPort on Odoo's external JSON-RPC API
 * (`res.partner`, `product.product`, `product.pricelist`, `sale.order` and the
 * `sale.order.cancel` wizard). Every write is idempotent: orders are found by
 * their external reference (`client_order_ref`) before one is created, and
 * confirm/cancel read the order back and act only when its state needs it.
 */
import * as z from 'zod';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { PermanentError } from '../../../core/errors.ts';
import { ReferenceCache } from '../../../core/reference-cache.ts';
import type { Party } from '../../crm/port.ts';
import { draftInput, inputValidator, PartyInput } from '../inputs.ts';
import type { CustomerUpsertResult, ErpOrder, ErpPort, SalesOrderDraft } from '../port.ts';
import { OdooClient } from './client.ts';
import {
  compactVat,
  escapeLikePattern,
  OdooPartnerMatches,
  OdooSaleOrders,
  PARTNER_MATCH_FIELDS,
  SALE_ORDER_FIELDS,
  toErpOrder,
  toOrderLineCommands,
  toPartnerValues,
  type OdooSaleOrder,
} from './mapping.ts';

const SYSTEM = 'odoo';
const validate = inputValidator({ vendor: 'Odoo', system: SYSTEM });

/** How to reach one Odoo database. */
export interface OdooErpOptions {
  /** Base URL of the Odoo server, e.g. `https://acme.odoo.com`. */
  readonly url: string;
  /** Database name. */
  readonly db: string;
  /** Login of the API user. */
  readonly username: string;
  /** API key of that user. */
  readonly apiKey: string;
  /** Per-request timeout in milliseconds. @default 30000 */
  readonly timeoutMs?: number;
  /** The server's request budget, shared by every instance. @default none */
  readonly rateLimiter?: RateLimiter | undefined;
  /** How long country ids, product ids by SKU and pricelists by currency are cached. @default 300000 (5 minutes) */
  readonly referenceDataTtlMs?: number;
}

/** Odoo takes negative unit prices (a discount or refund line), so only the customer id is narrowed. */
const DraftInput = draftInput({
  customerId: z.string().regex(/^[1-9]\d*$/, 'expected an Odoo res.partner id such as "42"'),
  unitPrice: z.number(),
});

const OrderId = z.string().regex(/^[1-9]\d*$/, 'expected an Odoo sale.order id such as "42"');

/** A window action as Odoo returns it when a method wants to open a wizard. */
const WindowAction = z.object({
  type: z.literal('ir.actions.act_window'),
  res_model: z.string(),
  context: z.record(z.string(), z.unknown()).optional(),
});

const RecordId = z.number().int().positive();
const IdRows = z.array(z.object({ id: RecordId }));
const Countries = z.array(z.object({ id: RecordId, code: z.union([z.string(), z.literal(false)]) }));
const Products = z.array(z.object({ id: RecordId, default_code: z.union([z.string(), z.literal(false)]) }));

/** Harmony's ErpPort for Odoo (tested against Odoo 17's API through the sandbox). */
export class OdooErp implements ErpPort {
  readonly system = SYSTEM;
  private readonly client: OdooClient;
  private readonly countries: ReferenceCache<ReadonlyMap<string, number>>;
  private readonly products: ReferenceCache<number>;
  private readonly pricelists: ReferenceCache<number>;

  constructor(options: OdooErpOptions) {
    const ttl = z.number().int().nonnegative().default(300_000).parse(options.referenceDataTtlMs);
    this.client = new OdooClient({
      url: options.url,
      db: options.db,
      username: options.username,
      apiKey: options.apiKey,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      rateLimiter: options.rateLimiter,
    });
    this.countries = new ReferenceCache(ttl);
    this.products = new ReferenceCache(ttl);
    this.pricelists = new ReferenceCache(ttl);
  }

  /**
   * Finds an active `res.partner` by `ref` (the CRM id), then by VAT number,
   * then by email (case-insensitive); a partner found by VAT or email gets the
   * CRM id as `ref` when it has none. Creates the partner when nothing matches.
   */
  async upsertCustomer(party: Party): Promise<CustomerUpsertResult> {
    const input = validate(PartyInput, party, 'party');
    const byExternalId = await this.findPartner([['ref', '=', input.externalId]]);
    if (byExternalId !== undefined) {
      return { customerId: String(byExternalId.id), created: false, matchedBy: 'externalId' };
    }
    const vat = input.vatNumber?.trim();
    if (vat !== undefined && vat !== '') {
      const compact = compactVat(vat);
      const domain = compact === vat
        ? [['vat', '=ilike', escapeLikePattern(vat)]]
        : ['|', ['vat', '=ilike', escapeLikePattern(vat)], ['vat', '=ilike', escapeLikePattern(compact)]];
      const byVat = await this.findPartner(domain);
      if (byVat !== undefined) return this.adopt(byVat, input.externalId, 'vatNumber');
    }
    const email = input.email?.trim();
    if (email !== undefined && email !== '') {
      const byEmail = await this.findPartner([['email', '=ilike', escapeLikePattern(email)]]);
      if (byEmail !== undefined) return this.adopt(byEmail, input.externalId, 'email');
    }
    const countryCode = party.address?.countryCode?.trim().toUpperCase();
    const countryId = countryCode === undefined || countryCode === '' ? undefined : await this.countryId(countryCode);
    const id = await this.client.executeKw('res.partner', 'create', [toPartnerValues(party, countryId)], {}, RecordId);
    return { customerId: String(id), created: true };
  }

  /** The newest order (highest id) whose `client_order_ref` is `externalRef` and whose state is not `cancel`. */
  async findSalesOrderByExternalRef(externalRef: string): Promise<ErpOrder | undefined> {
    const orders = await this.client.executeKw(
      'sale.order',
      'search_read',
      [[['client_order_ref', '=', externalRef], ['state', '!=', 'cancel']]],
      { fields: SALE_ORDER_FIELDS, order: 'id desc', limit: 1 },
      OdooSaleOrders,
    );
    const newest = orders[0];
    return newest === undefined ? undefined : toErpOrder(newest);
  }

  /**
   * Creates a quotation with the draft's lines, or returns the order that already
   * carries the draft's external reference. Products are found by SKU
   * (`default_code`, saleable and active) and the pricelist by currency; an
   * unknown SKU or currency is a PermanentError and nothing is created.
   */
  async createSalesOrder(draft: SalesOrderDraft): Promise<ErpOrder> {
    const input = validate(DraftInput, draft, 'draft');
    const existing = await this.findSalesOrderByExternalRef(input.externalRef);
    if (existing !== undefined) return existing;
    const productIds = await this.productIds(input.lines.map((line) => line.sku));
    const unknown = [...new Set(input.lines.map((line) => line.sku).filter((sku) => !productIds.has(sku)))];
    if (unknown.length > 0) {
      throw new PermanentError(
        `Odoo has no saleable product with SKU ${unknown.join(', ')}; order ${input.externalRef} was not created`,
        { system: SYSTEM, code: 'unknown-sku' },
      );
    }
    const pricelistId = await this.pricelistId(input.currency);
    const values = {
      partner_id: Number(input.customerId),
      client_order_ref: input.externalRef,
      pricelist_id: pricelistId,
      order_line: toOrderLineCommands(input.lines, productIds),
      ...(input.note === undefined ? {} : { note: input.note }),
    };
    const id = await this.client.executeKw('sale.order', 'create', [values], {}, RecordId);
    return toErpOrder(await this.readOrder(id));
  }

  /** Confirms a quotation with `action_confirm`; an order already confirmed is returned as it is. */
  async confirmSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = parseOrderId(orderId);
    const order = await this.readOrder(id);
    if (order.state === 'sale' || order.state === 'done') return toErpOrder(order);
    await this.client.executeKw('sale.order', 'action_confirm', [[id]], {}, z.unknown());
    const confirmed = await this.readOrder(id);
    if (confirmed.state !== 'sale' && confirmed.state !== 'done') {
      throw new PermanentError(`Odoo did not confirm ${confirmed.name}; it is still in state ${confirmed.state}`, {
        system: SYSTEM,
        code: 'not-confirmed',
      });
    }
    return toErpOrder(confirmed);
  }

  /**
   * Cancels an order so that its state really is `cancel`. Calls `action_cancel`
   * with `disable_cancel_warning` (Odoo otherwise answers non-draft orders with
   * the `sale.order.cancel` wizard and cancels nothing); if a wizard comes back
   * anyway, creates it and runs its `action_cancel`, as the Odoo UI does. Reads
   * the order back and fails unless it is cancelled. A cancelled order is returned as it is.
   */
  async cancelSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = parseOrderId(orderId);
    const order = await this.readOrder(id);
    if (order.state === 'cancel') return toErpOrder(order);
    const context = { disable_cancel_warning: true };
    const result = await this.client.executeKw('sale.order', 'action_cancel', [[id]], { context }, z.unknown());
    let cancelled = await this.readOrder(id);
    const wizard = WindowAction.safeParse(result);
    if (cancelled.state !== 'cancel' && wizard.success) {
      if (wizard.data.res_model !== 'sale.order.cancel') {
        throw new PermanentError(
          `Odoo answered the cancellation of ${cancelled.name} with a ${wizard.data.res_model} dialog; the order was not cancelled`,
          { system: SYSTEM, code: 'not-cancelled' },
        );
      }
      const wizardContext = { ...wizard.data.context, ...context };
      const wizardId = await this.client.executeKw(
        'sale.order.cancel',
        'create',
        [{ order_id: id }],
        { context: wizardContext },
        RecordId,
      );
      await this.client.executeKw('sale.order.cancel', 'action_cancel', [[wizardId]], { context: wizardContext }, z.unknown());
      cancelled = await this.readOrder(id);
    }
    if (cancelled.state !== 'cancel') {
      throw new PermanentError(`Odoo did not cancel ${cancelled.name}; it is still in state ${cancelled.state}`, {
        system: SYSTEM,
        code: 'not-cancelled',
      });
    }
    return toErpOrder(cancelled);
  }

  /** Reads one order; PermanentError when it does not exist. */
  async getSalesOrder(orderId: string): Promise<ErpOrder> {
    return toErpOrder(await this.readOrder(parseOrderId(orderId)));
  }

  private async readOrder(id: number): Promise<OdooSaleOrder> {
    const orders = await this.client.executeKw('sale.order', 'read', [[id]], { fields: SALE_ORDER_FIELDS }, OdooSaleOrders);
    const order = orders[0];
    if (order === undefined) {
      throw new PermanentError(`Odoo has no sales order with id ${id}`, { system: SYSTEM, code: 'odoo.exceptions.MissingError' });
    }
    return order;
  }

  private async findPartner(domain: readonly unknown[]): Promise<z.infer<typeof OdooPartnerMatches>[number] | undefined> {
    const partners = await this.client.executeKw(
      'res.partner',
      'search_read',
      [[...domain, ['active', '=', true]]],
      { fields: PARTNER_MATCH_FIELDS, order: 'id asc', limit: 1 },
      OdooPartnerMatches,
    );
    return partners[0];
  }

  private async adopt(
    partner: z.infer<typeof OdooPartnerMatches>[number],
    externalId: string,
    matchedBy: 'vatNumber' | 'email',
  ): Promise<CustomerUpsertResult> {
    if (partner.ref === false || partner.ref.trim() === '') {
      await this.client.executeKw('res.partner', 'write', [[partner.id], { ref: externalId }], {}, z.literal(true));
    }
    return { customerId: String(partner.id), created: false, matchedBy };
  }

  /** The `res.country` id for an ISO code; undefined when Odoo has no such country (the partner is created without one). */
  private async countryId(code: string): Promise<number | undefined> {
    let byCode = this.countries.get('all');
    if (byCode === undefined) {
      const rows = await this.client.executeKw('res.country', 'search_read', [[]], { fields: ['id', 'code'] }, Countries);
      byCode = new Map(rows.flatMap((row) => (row.code === false ? [] : [[row.code.toUpperCase(), row.id] as const])));
      this.countries.set('all', byCode);
    }
    return byCode.get(code);
  }

  /** Product ids by SKU in one `search_read` for the SKUs not cached; SKUs Odoo lacks are absent from the map. */
  private productIds(skus: readonly string[]): Promise<Map<string, number>> {
    return this.products.resolve(skus, async (missing) => {
      const rows = await this.client.executeKw(
        'product.product',
        'search_read',
        [[['default_code', 'in', missing], ['sale_ok', '=', true]]],
        { fields: ['id', 'default_code'], order: 'id asc' },
        Products,
      );
      const loaded = new Map<string, number>();
      // Several products may share a SKU: the oldest wins.
      for (const row of rows) if (row.default_code !== false && !loaded.has(row.default_code)) loaded.set(row.default_code, row.id);
      return loaded;
    });
  }

  /** The first active pricelist in `currency` (Odoo sets an order's currency from its pricelist). */
  private async pricelistId(currency: string): Promise<number> {
    const cached = this.pricelists.get(currency);
    if (cached !== undefined) return cached;
    const rows = await this.client.executeKw(
      'product.pricelist',
      'search_read',
      [[['currency_id.name', '=', currency]]],
      { fields: ['id'], order: 'sequence, id', limit: 1 },
      IdRows,
    );
    const pricelist = rows[0];
    if (pricelist === undefined) {
      throw new PermanentError(`Odoo has no active pricelist in ${currency}; the order cannot be created in that currency`, {
        system: SYSTEM,
        code: 'unknown-currency',
      });
    }
    this.pricelists.set(currency, pricelist.id);
    return pricelist.id;
  }
}

function parseOrderId(orderId: string): number {
  return Number(validate(OrderId, orderId, 'orderId'));
}
