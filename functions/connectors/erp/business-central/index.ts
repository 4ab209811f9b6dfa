/**
 * The Business Central ERP adapter: Harmony's ErpPort on the BC API v2.0 (`customers`,
 * `items`, `currencies`, `salesOrders` with `salesOrderLines`, `salesInvoices`).
 *
 * Idempotency: a customer's `number` is derived from the CRM id, so a retried create
 * collides instead of duplicating; an order is found by `externalDocumentNumber` before
 * one is created. Confirmation: BC v2.0 has no release action and its order `status` is
 * read-only, so a BC sales order (not awaiting approval) is the confirmed order and
 * confirming only checks that. Cancellation: BC has no cancelled state, so cancelling
 * deletes the order (If-Match, re-read and one retry on 412).
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import { ReferenceCache } from '../../../core/reference-cache.ts';
import type { Party } from '../../crm/port.ts';
import { draftInput, inputValidator, PartyInput } from '../inputs.ts';
import type { CustomerUpsertResult, ErpOrder, ErpPort, SalesOrderDraft } from '../port.ts';
import { BusinessCentralClient, BUSINESS_CENTRAL_SYSTEM, type BusinessCentralClientOptions } from './client.ts';
import {
  awaitsApproval,
  BcCurrency,
  BcCustomer,
  BcItem,
  BcSalesInvoice,
  BcSalesOrder,
  compactVat,
  customerFieldIssues,
  customerNumberFor,
  deletedOrder,
  externalDocumentNumberFor,
  invoicedOrder,
  newestOrder,
  odataString,
  toCustomerCreate,
  toErpOrder,
  toSalesOrderCreate,
} from './mapping.ts';

const SYSTEM = BUSINESS_CENTRAL_SYSTEM;
const validate = inputValidator({ vendor: 'Business Central', system: SYSTEM });

/** How to reach one BC company, and its local currency. */
export interface BusinessCentralErpOptions extends BusinessCentralClientOptions {
  /** The company's local currency (LCY): BC leaves `currencyCode` blank for it. */
  readonly localCurrency: string;
  /** How long item ids by SKU and known currencies are cached. @default 300000 (5 minutes) */
  readonly referenceDataTtlMs?: number;
}

const Guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a Business Central id (a GUID)');

const DraftInput = draftInput({ customerId: Guid });

/** BC item numbers are Code[20]: a longer SKU cannot be an item (and would be a filter error). */
const ITEM_NUMBER_LENGTH = 20;
/** SKUs per `$filter` (`number eq … or …`), well inside BC's URL length limit. */
const SKUS_PER_QUERY = 20;

/** Harmony's ErpPort for Microsoft Dynamics 365 Business Central (API v2.0). */
export class BusinessCentralErp implements ErpPort {
  readonly system = SYSTEM;
  readonly #client: BusinessCentralClient;
  readonly #localCurrency: string;
  /** Items by SKU; `item` undefined: BC has no such item (kept too, so an unknown SKU costs one lookup a while). */
  readonly #items: ReferenceCache<{ readonly item: z.infer<typeof BcItem> | undefined }>;
  /** Foreign currencies BC is known to have. */
  readonly #currencies: ReferenceCache<true>;

  constructor(options: BusinessCentralErpOptions) {
    this.#client = new BusinessCentralClient(options);
    this.#localCurrency = z.string().regex(/^[A-Z]{3}$/).parse(options.localCurrency);
    const ttlMs = z.number().int().nonnegative().default(300_000).parse(options.referenceDataTtlMs);
    this.#items = new ReferenceCache(ttlMs);
    this.#currencies = new ReferenceCache(ttlMs);
  }

  /**
   * Finds the customer by the number derived from the CRM id, then by
   * `taxRegistrationNumber`, then by `email`; creates it when none matches. A create
   * that BC refuses because the number exists (a retry after a lost answer) is found again.
   */
  async upsertCustomer(party: Party): Promise<CustomerUpsertResult> {
    const input = validate(PartyInput, party, 'party');
    const number = customerNumberFor(input.externalId);
    const byNumber = await this.#findCustomer(`number eq ${odataString(number)}`);
    if (byNumber !== undefined) return { customerId: byNumber.id, created: false, matchedBy: 'externalId' };
    const vat = input.vatNumber?.trim();
    if (vat !== undefined && vat !== '') {
      const compact = compactVat(vat);
      const filter = compact === vat
        ? `taxRegistrationNumber eq ${odataString(vat)}`
        : `taxRegistrationNumber eq ${odataString(vat)} or taxRegistrationNumber eq ${odataString(compact)}`;
      const byVat = await this.#findCustomer(filter);
      if (byVat !== undefined) return { customerId: byVat.id, created: false, matchedBy: 'vatNumber' };
    }
    const email = input.email?.trim();
    if (email !== undefined && email !== '') {
      const byEmail = await this.#findCustomer(`email eq ${odataString(email)}`);
      if (byEmail !== undefined) return { customerId: byEmail.id, created: false, matchedBy: 'email' };
    }
    const body = toCustomerCreate(party);
    const issues = customerFieldIssues(body);
    if (issues !== undefined) {
      throw new PermanentError(`Invalid party for Business Central: ${z.prettifyError(issues)}`, { system: SYSTEM, code: 'invalid-input' });
    }
    try {
      const created = await this.#client.create('POST customers', 'customers', body, BcCustomer);
      return { customerId: created.id, created: true };
    } catch (error) {
      // BC refuses a second customer with the same number: the first create went through.
      if (error instanceof PermanentError && /EntityWithSameKeyExists|already exists/i.test(error.message)) {
        const existing = await this.#findCustomer(`number eq ${odataString(number)}`);
        if (existing !== undefined) return { customerId: existing.id, created: false, matchedBy: 'externalId' };
      }
      throw error;
    }
  }

  /** The newest order whose `externalDocumentNumber` carries `externalRef` (cancelled orders are deleted, so never found). */
  async findSalesOrderByExternalRef(externalRef: string): Promise<ErpOrder | undefined> {
    const reference = validate(z.string().trim().min(1), externalRef, 'externalRef');
    const orders = await this.#client.list(
      'GET salesOrders',
      'salesOrders',
      `externalDocumentNumber eq ${odataString(externalDocumentNumberFor(reference))}`,
      BcSalesOrder,
    );
    const newest = newestOrder(orders);
    return newest === undefined ? undefined : toErpOrder(newest, this.#localCurrency, reference);
  }

  /**
   * Creates the order with its lines in one deep insert, or returns the order that
   * already carries the draft's external reference. Items are looked up by SKU first:
   * a SKU BC lacks (or blocks) is a PermanentError naming it, and nothing is created.
   */
  async createSalesOrder(draft: SalesOrderDraft): Promise<ErpOrder> {
    const input = validate(DraftInput, draft, 'draft');
    const existing = await this.findSalesOrderByExternalRef(input.externalRef);
    if (existing !== undefined) return existing;
    const skus = [...new Set(input.lines.map((line) => line.sku))];
    const items = await this.#itemsBySku(skus);
    const unknown = skus.filter((sku) => items.get(sku) === undefined);
    if (unknown.length > 0) {
      throw new PermanentError(`Business Central has no item with SKU ${unknown.join(', ')}; order ${input.externalRef} was not created`, {
        system: SYSTEM,
        code: 'unknown-sku',
      });
    }
    const blocked = skus.filter((sku) => items.get(sku)?.blocked === true);
    if (blocked.length > 0) {
      throw new PermanentError(`Business Central blocks item ${blocked.join(', ')} for sales; order ${input.externalRef} was not created`, {
        system: SYSTEM,
        code: 'blocked-item',
      });
    }
    const currencyCode = input.currency === this.#localCurrency ? '' : await this.#currencyCode(input.currency);
    const body = toSalesOrderCreate(input.customerId, input.externalRef, currencyCode, input.lines);
    let order: z.infer<typeof BcSalesOrder>;
    try {
      order = await this.#client.create('POST salesOrders', 'salesOrders', body, BcSalesOrder, '$expand=salesOrderLines');
    } catch (error) {
      if (error instanceof PermanentError && /Item does not exist/i.test(error.message)) {
        this.#items.clear();
        throw new PermanentError(`Business Central no longer has an item for one of SKU ${skus.join(', ')}: ${error.message}`, { system: SYSTEM, code: 'unknown-sku', cause: error });
      }
      throw error;
    }
    if (order.salesOrderLines !== undefined && order.salesOrderLines.length !== body.salesOrderLines.length) {
      throw new PermanentError(
        `Business Central created order ${order.number} with ${order.salesOrderLines.length} of ${body.salesOrderLines.length} lines`,
        { system: SYSTEM, code: 'incomplete-order' },
      );
    }
    return toErpOrder(order, this.#localCurrency, input.externalRef);
  }

  /**
   * BC's order is the confirmed order (its draft stage is the sales quote), and API
   * v2.0 can neither release an order nor set its read-only `status`; so confirming
   * reads the order and returns it. An order held by an approval workflow is a
   * RetryableError: it may be approved later. Posted (invoiced) orders are returned as such.
   */
  async confirmSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = validate(Guid, orderId, 'orderId');
    const order = await this.#readOrder(id);
    if (order !== undefined) {
      if (awaitsApproval(order)) {
        throw new RetryableError(`Business Central order ${order.number} awaits approval (status In Review); it is confirmed once approved`, {
          system: SYSTEM,
          code: 'awaiting-approval',
        });
      }
      return toErpOrder(order, this.#localCurrency);
    }
    const invoice = await this.#invoiceOf(id);
    if (invoice !== undefined) return invoicedOrder(invoice, this.#localCurrency);
    throw notFound(id);
  }

  /**
   * Deletes the order (BC has no cancelled state). DELETE carries the etag just read;
   * when someone changed the order in between (412), reads it again and retries once
   * with the fresh etag. An order already gone is cancelled already; an order BC posted
   * to an invoice cannot be cancelled (PermanentError).
   */
  async cancelSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = validate(Guid, orderId, 'orderId');
    for (let attempt = 1; ; attempt += 1) {
      const order = await this.#readOrder(id);
      if (order === undefined) {
        const invoice = await this.#invoiceOf(id);
        if (invoice !== undefined) {
          throw new PermanentError(`Business Central posted order ${invoice.orderNumber} as invoice ${invoice.number}; it cannot be cancelled`, {
            system: SYSTEM,
            code: 'already-invoiced',
          });
        }
        return deletedOrder(id);
      }
      const etag = order['@odata.etag'];
      if (etag === undefined) {
        throw new PermanentError(`${SYSTEM} GET salesOrders: order ${order.number} came without @odata.etag, which DELETE needs`, { system: SYSTEM, code: 'malformed-response' });
      }
      const outcome = await this.#client.remove('DELETE salesOrders', `salesOrders(${id})`, etag);
      if (outcome !== 'changed') return { ...toErpOrder(order, this.#localCurrency), status: 'cancelled' };
      if (attempt >= 2) {
        throw new RetryableError(`Business Central order ${order.number} changed twice while Harmony was deleting it (HTTP 412)`, {
          system: SYSTEM,
          code: '412',
        });
      }
    }
  }

  /** Reads one order; after a cancel (deleted) PermanentError `not-found`; a posted order reads invoiced or paid. */
  async getSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = validate(Guid, orderId, 'orderId');
    const order = await this.#readOrder(id);
    if (order !== undefined) return toErpOrder(order, this.#localCurrency);
    const invoice = await this.#invoiceOf(id);
    if (invoice !== undefined) return invoicedOrder(invoice, this.#localCurrency);
    throw notFound(id);
  }

  #readOrder(id: string): Promise<z.infer<typeof BcSalesOrder> | undefined> {
    return this.#client.getOne('GET salesOrders', `salesOrders(${id})`, BcSalesOrder);
  }

  async #invoiceOf(orderId: string): Promise<z.infer<typeof BcSalesInvoice> | undefined> {
    const invoices = await this.#client.list('GET salesInvoices', 'salesInvoices', `orderId eq ${orderId}`, BcSalesInvoice);
    return invoices[0];
  }

  async #findCustomer(filter: string): Promise<z.infer<typeof BcCustomer> | undefined> {
    // Several may match (a VAT number shared by two records): the first BC lists, in number order.
    const customers = await this.#client.list('GET customers', 'customers', filter, BcCustomer);
    return customers[0];
  }

  /** Items by SKU, from the cache or one `$filter` per 20 SKUs not cached; a SKU BC lacks maps to undefined. */
  async #itemsBySku(skus: readonly string[]): Promise<Map<string, z.infer<typeof BcItem> | undefined>> {
    const cached = await this.#items.resolve(
      skus.filter((sku) => sku.length <= ITEM_NUMBER_LENGTH),
      async (missing) => {
        const loaded = new Map<string, { readonly item: z.infer<typeof BcItem> | undefined }>();
        for (let start = 0; start < missing.length; start += SKUS_PER_QUERY) {
          const batch = missing.slice(start, start + SKUS_PER_QUERY);
          const items = await this.#client.list('GET items', 'items', batch.map((sku) => `number eq ${odataString(sku)}`).join(' or '), BcItem);
          for (const sku of batch) loaded.set(sku, { item: items.find((candidate) => candidate.number.toUpperCase() === sku.toUpperCase()) });
        }
        return loaded;
      },
    );
    return new Map(skus.map((sku) => [sku, cached.get(sku)?.item]));
  }

  /** The code to send for a foreign currency, once BC is known to have it. */
  async #currencyCode(code: string): Promise<string> {
    if (this.#currencies.get(code) !== undefined) return code;
    const currencies = await this.#client.list('GET currencies', 'currencies', `code eq ${odataString(code)}`, BcCurrency);
    if (currencies.length === 0) {
      throw new PermanentError(`Business Central has no currency ${code} (and ${this.#localCurrency} is the local currency); the order cannot be created in it`, {
        system: SYSTEM,
        code: 'unknown-currency',
      });
    }
    this.#currencies.set(code, true);
    return code;
  }
}

function notFound(id: string): PermanentError {
  return new PermanentError(`Business Central has no sales order ${id} (never created, or cancelled and so deleted)`, { system: SYSTEM, code: 'not-found' });
}
