/**
 * The Dynamics NAV ERP adapter: Harmony's ErpPort on NAV / Business Central on-premises
 * SOAP page web services (Customer card, Sales Order) and one codeunit web service
 * that releases an order. NAV has no idempotency key, so every write is made safe by
 * reading first: customers are found by the CRM id (kept in a Customer card field, by
 * default Search Name), VAT number or email before one is created; orders by their
 * External Document No. before one is created; release and delete act only when the
 * record's state needs it. Delete carries the record's `Key`; when another session
 * changed the record in between (a stale Key), the adapter reads it again and retries once.
 *
 * Choices, with their reasons:
 * - confirm = release. The Sales Order page's `Status` is read-only (Sales Header field
 *   120 is `Editable = false`) and page actions are not SOAP operations, so release runs
 *   codeunit 414 "Release Sales Document" through a small published codeunit
 *   (`HarmonySalesOrder.Codeunit.al` beside this file).
 * - cancel = delete. A NAV sales order has no cancelled status; deleting it is what a
 *   user does (and NAV archives it when "Archive Orders" is set up). A cancel that finds
 *   no order answers `cancelled`: it was deleted before, possibly by this very call
 *   whose answer was lost.
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import type { Party } from '../../crm/port.ts';
import { draftInput, inputValidator, PartyInput } from '../inputs.ts';
import type { CustomerUpsertResult, ErpOrder, ErpPort, SalesOrderDraft } from '../port.ts';
import { NavClient, NOT_FOUND, STALE_KEY, type NavFilter } from './client.ts';
import {
  anyOfFilter,
  compactVat,
  exactFilter,
  NavCustomer,
  NavSalesOrder,
  parseNavRecord,
  toErpOrder,
  toNavCustomer,
  toNavSalesLines,
} from './mapping.ts';

const SYSTEM = 'dynamics-nav';
const validate = inputValidator({ vendor: 'Dynamics NAV', system: SYSTEM });

/** How to reach one NAV company and which of its web services to use. */
export interface DynamicsNavErpOptions {
  /** `…/<ServerInstance>/WS/<Company>`, company URL-encoded (already checked with checkOutboundUrl). */
  readonly baseUrl: URL;
  readonly username: string;
  readonly password: string;
  /** The company's local currency (LCY): what a blank Currency Code means. */
  readonly localCurrency: string;
  /** Published name of the Customer card page service. @default 'Customer' */
  readonly customerService?: string;
  /** Published name of the Sales Order page service. @default 'SalesOrder' */
  readonly salesOrderService?: string;
  /** Published name of the codeunit with `ReleaseSalesOrder(documentNo)`. @default 'HarmonySalesOrder' */
  readonly releaseCodeunit?: string;
  /** Customer card field holding the CRM id. @default 'Search_Name' */
  readonly customerRefField?: string;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** A NAV document or customer number: Code[20]. */
const NavNumber = z.string().trim().min(1).max(20, 'NAV numbers (Code[20]) have at most 20 characters');

const DraftInput = draftInput({
  externalRef: z.string().trim().min(1).max(35, 'NAV keeps the reference in External Document No. (Code[35])'),
  customerId: NavNumber,
  sku: z.string().trim().min(1).max(20, 'NAV item numbers (Code[20]) have at most 20 characters'),
});

/** Harmony's ErpPort for Dynamics NAV 2013–2018 and Business Central on-premises (SOAP page web services). */
export class DynamicsNavErp implements ErpPort {
  readonly system = SYSTEM;
  private readonly client: NavClient;
  private readonly localCurrency: string;
  private readonly customers: string;
  private readonly orders: string;
  private readonly releaseCodeunit: string;
  private readonly refField: string;

  constructor(options: DynamicsNavErpOptions) {
    this.client = new NavClient({
      baseUrl: options.baseUrl,
      username: options.username,
      password: options.password,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    this.localCurrency = options.localCurrency;
    this.customers = options.customerService ?? 'Customer';
    this.orders = options.salesOrderService ?? 'SalesOrder';
    this.releaseCodeunit = options.releaseCodeunit ?? 'HarmonySalesOrder';
    this.refField = options.customerRefField ?? 'Search_Name';
  }

  /**
   * Finds a customer by the CRM id (in the ref field, as written or upper-cased as NAV
   * keeps Code fields), then by VAT number (as typed or compacted), then by email (as typed
   * or lower-cased); creates one when none matches.
   */
  async upsertCustomer(party: Party): Promise<CustomerUpsertResult> {
    const input = validate(PartyInput, party, 'party');
    // As written (a Text field keeps case) or upper-cased (a Code field such as Search Name holds it so).
    const byExternalId = await this.findCustomer({ field: this.refField, criteria: anyOfFilter([input.externalId, input.externalId.toUpperCase()]) });
    if (byExternalId !== undefined) return { customerId: byExternalId.No, created: false, matchedBy: 'externalId' };
    const vat = input.vatNumber?.trim();
    if (vat !== undefined && vat !== '') {
      const byVat = await this.findCustomer({ field: 'VAT_Registration_No', criteria: anyOfFilter([vat, compactVat(vat)]) });
      if (byVat !== undefined) return { customerId: byVat.No, created: false, matchedBy: 'vatNumber' };
    }
    const email = input.email?.trim();
    if (email !== undefined && email !== '') {
      const byEmail = await this.findCustomer({ field: 'E_Mail', criteria: anyOfFilter([email, email.toLowerCase()]) });
      if (byEmail !== undefined) return { customerId: byEmail.No, created: false, matchedBy: 'email' };
    }
    const created = await this.client.create(this.customers, toNavCustomer(party, this.refField));
    return { customerId: parseNavRecord(NavCustomer, created, `${this.customers}.Create`).No, created: true };
  }

  /** The newest (highest-numbered) order whose External Document No. is `externalRef`; deleted (cancelled) orders are gone. */
  async findSalesOrderByExternalRef(externalRef: string): Promise<ErpOrder | undefined> {
    const order = await this.findOrder(externalRef);
    return order === undefined ? undefined : toErpOrder(order, this.localCurrency, externalRef);
  }

  /**
   * Creates an Open order with the draft's item lines in one atomic `Create` (header and
   * SalesLines), or returns the order that already carries the draft's reference. NAV
   * validates items and the currency itself: an unknown SKU is a PermanentError naming it,
   * and nothing is created. A blank Currency Code means the local currency.
   */
  async createSalesOrder(draft: SalesOrderDraft): Promise<ErpOrder> {
    const input = validate(DraftInput, draft, 'draft');
    const existing = await this.findOrder(input.externalRef);
    if (existing !== undefined) return toErpOrder(existing, this.localCurrency, input.externalRef);
    const created = await this.client.create(this.orders, {
      Sell_to_Customer_No: input.customerId,
      External_Document_No: input.externalRef,
      Currency_Code: input.currency === this.localCurrency ? '' : input.currency,
      SalesLines: toNavSalesLines(input.lines),
    });
    return toErpOrder(parseNavRecord(NavSalesOrder, created, `${this.orders}.Create`), this.localCurrency, input.externalRef);
  }

  /** Releases an Open order through the release codeunit; a released order is returned as it is. */
  async confirmSalesOrder(orderId: string): Promise<ErpOrder> {
    const no = validate(NavNumber, orderId, 'orderId');
    const order = await this.requireOrder(no);
    if (order.Status === 'Released' || order.Status === 'Pending_Prepayment') return toErpOrder(order, this.localCurrency);
    await this.client.codeunit(this.releaseCodeunit, 'ReleaseSalesOrder', { documentNo: no });
    const released = await this.requireOrder(no);
    if (released.Status !== 'Released' && released.Status !== 'Pending_Prepayment') {
      throw new PermanentError(`Dynamics NAV did not release order ${no}; its status is still ${released.Status}`, { system: SYSTEM, code: 'not-confirmed' });
    }
    return toErpOrder(released, this.localCurrency);
  }

  /**
   * Deletes the order with its current Key (NAV has no cancelled status). A stale Key is
   * read again and deleted once more; a second stale Key is a RetryableError `stale-key`.
   * An order NAV no longer has is answered as cancelled.
   */
  async cancelSalesOrder(orderId: string): Promise<ErpOrder> {
    const no = validate(NavNumber, orderId, 'orderId');
    for (let attempt = 1; ; attempt += 1) {
      const order = await this.readOrder(no);
      if (order === undefined) return this.deletedOrder(no);
      try {
        await this.client.delete(this.orders, order.Key);
        return { ...toErpOrder(order, this.localCurrency), status: 'cancelled' };
      } catch (error) {
        if (isCode(error, NOT_FOUND)) return { ...toErpOrder(order, this.localCurrency), status: 'cancelled' };
        if (attempt === 1 && error instanceof RetryableError && error.code === STALE_KEY) continue;
        throw error;
      }
    }
  }

  /** Reads one order; PermanentError `not-found` when NAV has none with this number. */
  async getSalesOrder(orderId: string): Promise<ErpOrder> {
    return toErpOrder(await this.requireOrder(validate(NavNumber, orderId, 'orderId')), this.localCurrency);
  }

  private async findCustomer(filter: NavFilter): Promise<NavCustomer | undefined> {
    const [first] = await this.client.readMultiple(this.customers, [filter], 1);
    return first === undefined ? undefined : parseNavRecord(NavCustomer, first, `${this.customers}.ReadMultiple`);
  }

  private async findOrder(externalRef: string): Promise<NavSalesOrder | undefined> {
    const found = await this.client.readMultiple(this.orders, [{ field: 'External_Document_No', criteria: exactFilter(externalRef.toUpperCase()) }], 0);
    const orders = found.map((element) => parseNavRecord(NavSalesOrder, element, `${this.orders}.ReadMultiple`));
    return orders.sort((left, right) => right.No.localeCompare(left.No, 'en', { numeric: true }))[0];
  }

  private async readOrder(no: string): Promise<NavSalesOrder | undefined> {
    const element = await this.client.read(this.orders, { No: no });
    return element === undefined ? undefined : parseNavRecord(NavSalesOrder, element, `${this.orders}.Read`);
  }

  private async requireOrder(no: string): Promise<NavSalesOrder> {
    const order = await this.readOrder(no);
    if (order === undefined) throw new PermanentError(`Dynamics NAV has no sales order ${no}`, { system: SYSTEM, code: NOT_FOUND });
    return order;
  }

  /** What a cancel answers for an order that is no longer there: all it still knows is the number. */
  private deletedOrder(no: string): ErpOrder {
    return { id: no, reference: no, externalRef: '', status: 'cancelled', amountTotal: 0, currency: this.localCurrency };
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error instanceof PermanentError || error instanceof RetryableError) && error.code === code;
}
