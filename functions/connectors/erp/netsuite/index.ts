/**
 * The Oracle NetSuite ERP adapter: Harmony's ErpPort on NetSuite's REST web services
 * (`customer` and `salesOrder` records, SuiteQL over `customer`, `item` and `currency`).
 *
 * Every write is idempotent. Customers and orders carry the CRM's reference as their
 * external id and are looked up by it (`eid:`) before anything is created; an order is
 * created asynchronously with an `X-NetSuite-Idempotency-Key` derived from its reference,
 * so a create whose answer was lost runs once however often it is retried. Approving
 * (`orderStatus` B) and cancelling (closing every line, NetSuite's documented REST route)
 * read the order back and act only when its state needs it.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { ReferenceCache } from '../../../core/reference-cache.ts';
import type { Party } from '../../crm/port.ts';
import { inputValidator } from '../inputs.ts';
import type { CustomerUpsertResult, ErpOrder, ErpPort, SalesOrderDraft } from '../port.ts';
import { NetsuiteClient, suiteqlString, type NetsuiteCredentials } from './client.ts';
import { idempotencyKeyFor, toExternalId } from './external-id.ts';
import {
  APPROVED_ORDER_STATUS,
  compactVat,
  CurrencyRow,
  CustomerMatchRow,
  CustomerRecord,
  DraftInput,
  ItemRow,
  PartyInput,
  SalesOrderRecord,
  toCustomerBody,
  toErpOrder,
  toErpOrderStatus,
  toSalesOrderBody,
} from './mapping.ts';
import { SYSTEM } from './vendor-errors.ts';

const validate = inputValidator({ vendor: 'NetSuite', system: SYSTEM });

/** How to reach one NetSuite account. */
export interface NetsuiteErpOptions {
  /** The account's REST domain, already checked with `checkOutboundUrl`. */
  readonly baseUrl: URL;
  /** The account id as the TBA realm spells it, e.g. `1234567_SB1`. */
  readonly realm: string;
  readonly credentials: NetsuiteCredentials;
  /** Subsidiary new customers and orders belong to (OneWorld accounts need one). */
  readonly subsidiaryId?: string | undefined;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** How long item ids by SKU and currency ids by ISO code are kept. @default 300000 (5 minutes) */
  readonly referenceDataTtlMs?: number;
}

const OrderId = z.string().regex(/^[1-9]\d{0,17}$/, 'expected a NetSuite sales order internal id such as "1042"');

/** Harmony's ErpPort for NetSuite. */
export class NetsuiteErp implements ErpPort {
  readonly system = SYSTEM;
  private readonly client: NetsuiteClient;
  private readonly subsidiaryId: string | undefined;
  private readonly items: ReferenceCache<string>;
  private readonly currencies: ReferenceCache<string>;

  constructor(options: NetsuiteErpOptions) {
    this.client = new NetsuiteClient(options);
    this.subsidiaryId = options.subsidiaryId;
    const ttl = options.referenceDataTtlMs ?? 300_000;
    this.items = new ReferenceCache(ttl);
    this.currencies = new ReferenceCache(ttl);
  }

  /**
   * Finds the customer by the CRM id (`eid:`), then among active customers by VAT number
   * (as typed or compacted, case-insensitively), then by email; a customer found by VAT or
   * email without an external id gets the CRM id. Creates the customer when nothing matches.
   */
  async upsertCustomer(party: Party): Promise<CustomerUpsertResult> {
    const input = validate(PartyInput, party, 'party');
    const externalId = toExternalId(input.externalId);
    const byExternalId = await this.client.getRecord('customer', `eid:${externalId}`, CustomerRecord);
    if (byExternalId !== undefined) return { customerId: byExternalId.id, created: false, matchedBy: 'externalId' };
    const vat = input.vatNumber;
    if (vat !== undefined && vat !== '') {
      const candidates = [...new Set([vat.toUpperCase(), compactVat(vat)])].map(suiteqlString).join(', ');
      const byVat = await this.findCustomer(`UPPER(vatregnumber) IN (${candidates})`);
      if (byVat !== undefined) return this.adopt(byVat, externalId, 'vatNumber');
    }
    const email = input.email;
    if (email !== undefined && email !== '') {
      const byEmail = await this.findCustomer(`UPPER(email) = ${suiteqlString(email.toUpperCase())}`);
      if (byEmail !== undefined) return this.adopt(byEmail, externalId, 'email');
    }
    try {
      return { customerId: await this.client.createRecord('customer', toCustomerBody(input, this.subsidiaryId)), created: true };
    } catch (error) {
      // Another run may have created it between the lookup and the create (external ids are unique).
      const raced = await this.client.getRecord('customer', `eid:${externalId}`, CustomerRecord);
      if (raced === undefined) throw error;
      return { customerId: raced.id, created: false, matchedBy: 'externalId' };
    }
  }

  /** The order whose external id is the reference, unless it is cancelled or closed. */
  async findSalesOrderByExternalRef(externalRef: string): Promise<ErpOrder | undefined> {
    const reference = validate(z.string().trim().min(1), externalRef, 'externalRef');
    const record = await this.client.getRecord('salesOrder', `eid:${toExternalId(reference)}`, SalesOrderRecord);
    if (record === undefined || toErpOrderStatus(record) === 'cancelled') return undefined;
    return this.toOrder(record);
  }

  /**
   * Creates the order (pending approval), or returns the one that already carries the
   * draft's reference. Items are found by SKU (`itemid`) and the currency by ISO code; an
   * unknown SKU or currency is a PermanentError naming it and nothing is sent. A reference
   * held by a cancelled order is a PermanentError: NetSuite's external ids are unique.
   */
  async createSalesOrder(draft: SalesOrderDraft): Promise<ErpOrder> {
    const input = validate(DraftInput, draft, 'draft');
    const externalId = toExternalId(input.externalRef);
    const existing = await this.client.getRecord('salesOrder', `eid:${externalId}`, SalesOrderRecord);
    if (existing !== undefined) {
      if (toErpOrderStatus(existing) !== 'cancelled') return this.toOrder(existing);
      throw new PermanentError(
        `${SYSTEM}: order ${existing.tranId} with external reference ${input.externalRef} is cancelled; NetSuite keeps external ids unique, so it cannot be created again`,
        { system: SYSTEM, code: 'cancelled-duplicate' },
      );
    }
    const skus = input.lines.map((line) => line.sku);
    const itemIds = await this.items.resolve(skus, (missing) => this.loadItems(missing));
    const unknown = [...new Set(skus.filter((sku) => !itemIds.has(sku)))];
    if (unknown.length > 0) {
      throw new PermanentError(`${SYSTEM}: no active item with SKU ${unknown.join(', ')}; order ${input.externalRef} was not created`, {
        system: SYSTEM,
        code: 'unknown-sku',
      });
    }
    const currencyId = await this.currencyId(input.currency);
    const body = toSalesOrderBody(input, itemIds, currencyId, this.subsidiaryId);
    let id: string;
    try {
      id = await this.client.createRecordOnce('salesOrder', body, idempotencyKeyFor(`salesOrder:${input.externalRef}`));
    } catch (error) {
      const raced = error instanceof PermanentError ? await this.client.getRecord('salesOrder', `eid:${externalId}`, SalesOrderRecord) : undefined;
      if (raced === undefined) throw error;
      id = raced.id;
    }
    return this.getSalesOrder(id);
  }

  /** Approves a pending order (`orderStatus` A → B); an order past approval is returned as it is. */
  async confirmSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = validate(OrderId, orderId, 'orderId');
    const order = await this.readOrder(id);
    const status = toErpOrderStatus(order);
    if (status === 'cancelled') {
      throw new PermanentError(`${SYSTEM}: order ${order.tranId} is cancelled and cannot be confirmed`, { system: SYSTEM, code: 'not-confirmed' });
    }
    if (status !== 'draft') return this.toOrder(order);
    await this.client.updateRecord('salesOrder', id, { orderStatus: APPROVED_ORDER_STATUS });
    const approved = await this.readOrder(id);
    if (toErpOrderStatus(approved) !== 'confirmed') {
      throw new PermanentError(`${SYSTEM}: NetSuite did not approve ${approved.tranId}; its status is ${approved.status?.refName ?? approved.orderStatus?.id}`, {
        system: SYSTEM,
        code: 'not-confirmed',
      });
    }
    return this.toOrder(approved);
  }

  /**
   * Cancels an order by closing every open line in one PATCH (NetSuite's documented REST
   * route: "Close a Sales Order"; the order then reads Closed), then reads it back and fails
   * unless it is closed or cancelled. Fully fulfilled or billed orders are refused: they
   * need a return or credit memo, not a cancellation. A cancelled order is returned as it is.
   */
  async cancelSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = validate(OrderId, orderId, 'orderId');
    const order = await this.readOrder(id, true);
    const letter = order.orderStatus?.id;
    const status = toErpOrderStatus(order);
    if (status === 'cancelled') return this.toOrder(order);
    if (letter === 'F' || letter === 'G' || status === 'invoiced') {
      throw new PermanentError(`${SYSTEM}: order ${order.tranId} is ${order.status?.refName ?? status}; it can no longer be cancelled`, {
        system: SYSTEM,
        code: 'not-cancelled',
      });
    }
    const open = (order.item?.items ?? []).filter((line) => line.isClosed !== true);
    if (open.length > 0) {
      await this.client.updateRecord('salesOrder', id, { item: { items: open.map((line) => ({ line: line.line, isClosed: true })) } });
    }
    const closed = await this.readOrder(id);
    if (toErpOrderStatus(closed) !== 'cancelled') {
      throw new PermanentError(`${SYSTEM}: NetSuite did not close ${closed.tranId}; its status is ${closed.status?.refName ?? closed.orderStatus?.id}`, {
        system: SYSTEM,
        code: 'not-cancelled',
      });
    }
    return this.toOrder(closed);
  }

  /** Reads one order; PermanentError `not-found` when NetSuite has no such sales order. */
  async getSalesOrder(orderId: string): Promise<ErpOrder> {
    return this.toOrder(await this.readOrder(validate(OrderId, orderId, 'orderId')));
  }

  private async readOrder(id: string, withLines = false): Promise<SalesOrderRecord> {
    const record = await this.client.getRecord('salesOrder', id, SalesOrderRecord, withLines ? { expandSubResources: 'true' } : {});
    if (record === undefined) throw new PermanentError(`${SYSTEM}: no sales order with internal id ${id}`, { system: SYSTEM, code: 'not-found' });
    return record;
  }

  private async toOrder(record: SalesOrderRecord): Promise<ErpOrder> {
    const key = `id:${record.currency.id}`;
    const code = (await this.currencies.resolve([key], () => this.loadCurrencies())).get(key);
    if (code === undefined) {
      throw new PermanentError(`${SYSTEM}: sales order ${record.id} is in currency ${record.currency.id}, which NetSuite does not list`, {
        system: SYSTEM,
        code: 'unknown-currency',
      });
    }
    return toErpOrder(record, code);
  }

  /** The lowest-id active customer matching a SuiteQL condition. */
  private async findCustomer(condition: string): Promise<z.infer<typeof CustomerMatchRow> | undefined> {
    const rows = await this.client.suiteql(`SELECT id, externalid FROM customer WHERE ${condition} AND isinactive = 'F' ORDER BY id`, CustomerMatchRow);
    return rows[0];
  }

  private async adopt(customer: z.infer<typeof CustomerMatchRow>, externalId: string, matchedBy: 'vatNumber' | 'email'): Promise<CustomerUpsertResult> {
    if (customer.externalid === undefined || customer.externalid === '') {
      await this.client.updateRecord('customer', customer.id, { externalId });
    }
    return { customerId: customer.id, created: false, matchedBy };
  }

  private async loadItems(skus: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.client.suiteql(
      `SELECT id, itemid FROM item WHERE itemid IN (${skus.map(suiteqlString).join(', ')}) AND isinactive = 'F' ORDER BY id`,
      ItemRow,
    );
    const ids = new Map<string, string>();
    for (const row of rows) if (!ids.has(row.itemid)) ids.set(row.itemid, row.id);
    return ids;
  }

  /**
   * Every currency by `id:<internal id>` (orders read in any currency), and the active ones
   * by `iso:<code>` (new orders only in an active one).
   */
  private async loadCurrencies(): Promise<Map<string, string>> {
    const rows = await this.client.suiteql(`SELECT id, symbol, isinactive FROM currency ORDER BY id`, CurrencyRow);
    return new Map(
      rows.flatMap((row) => [
        [`id:${row.id}`, row.symbol.toUpperCase()] as const,
        ...(row.isinactive === 'T' ? [] : [[`iso:${row.symbol.toUpperCase()}`, row.id] as const]),
      ]),
    );
  }

  private async currencyId(code: string): Promise<string> {
    const key = `iso:${code}`;
    const id = (await this.currencies.resolve([key], () => this.loadCurrencies())).get(key);
    if (id === undefined) {
      throw new PermanentError(`${SYSTEM}: no active currency ${code}; the order cannot be created in it`, { system: SYSTEM, code: 'unknown-currency' });
    }
    return id;
  }
}
