/**
 * The SAP S/4HANA ERP adapter: Harmony's ErpPort on the OData v2 APIs
 * API_BUSINESS_PARTNER (customers) and API_SALES_ORDER_SRV (sales orders).
 *
 * Idempotency: SAP has no idempotency header, so every create is preceded by a lookup —
 * a customer by `BusinessPartnerIDByExtSystem` (derived from the CRM id), an order by
 * `PurchaseOrderByCustomer` (the deal's reference) — and a create retried after a lost
 * answer finds what the first one made.
 * Confirmation: API_SALES_ORDER_SRV has no release action; orders are created with the
 * delivery block from the settings and confirming removes it (PATCH `DeliveryBlockReason`
 * with If-Match, one re-read on 412). Without that setting orders are created confirmed.
 * Cancellation: every item gets the reason for rejection from the settings, which SAP
 * reports as a fully rejected order (`OverallSDDocumentRejectionSts` `C`).
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import { describeIssues, parseOrThrow } from '../../../core/validation.ts';
import type { Party } from '../../crm/port.ts';
import { draftInput, PartyInput } from '../inputs.ts';
import type { CustomerUpsertResult, ErpOrder, ErpPort, SalesOrderDraft } from '../port.ts';
import { SapClient, type SapClientOptions } from './client.ts';
import {
  compactVat,
  customerOfCreated,
  isRejected,
  itemsOf,
  newestOrder,
  purchaseOrderReferenceFor,
  SapCreatedPartner,
  SapEmailAddress,
  SapPartnerAddress,
  SapPartnerRef,
  SapSalesOrder,
  SapTaxNumber,
  toErpOrder,
  toPartnerCreate,
  toSalesOrderCreate,
  partnerKeyFor,
  type CustomerDefaults,
  type OrderDefaults,
} from './mapping.ts';
import { decimalText, entityPath, odataString, SAP_SYSTEM } from './odata.ts';

const SYSTEM = SAP_SYSTEM;
const BP = 'API_BUSINESS_PARTNER';
const SO = 'API_SALES_ORDER_SRV';

/** How to reach the system and what new customers and orders get. */
export interface SapErpOptions extends SapClientOptions {
  readonly customers: CustomerDefaults;
  readonly orders: OrderDefaults;
  /** Reason for rejection set on every item when an order is cancelled, e.g. `10`. */
  readonly rejectionReason: string;
}

/** SAP document and partner numbers: up to 10 letters or digits. */
const SapNumber = z.string().trim().regex(/^[A-Za-z0-9]{1,10}$/, 'expected an SAP number (up to 10 letters or digits)');

const DraftInput = draftInput({
  customerId: SapNumber,
  sku: z.string().trim().min(1).max(40, 'SAP material numbers have at most 40 characters'),
  quantity: z.number().positive().refine((quantity) => decimalText(quantity, 3) !== undefined, 'SAP takes at most 3 decimals in a quantity'),
});

/** Address ids per `$filter` of the email lookup. */
const ADDRESSES_PER_QUERY = 20;

/** Harmony's ErpPort for SAP S/4HANA (Cloud or on premise) over OData v2. */
export class SapErp implements ErpPort {
  readonly system = SYSTEM;
  readonly #client: SapClient;
  readonly #customers: CustomerDefaults;
  readonly #orders: OrderDefaults;
  readonly #rejectionReason: string;

  constructor(options: SapErpOptions) {
    this.#client = new SapClient(options);
    this.#customers = options.customers;
    this.#orders = options.orders;
    this.#rejectionReason = z.string().regex(/^[A-Z0-9]{1,2}$/, 'expected a reason for rejection code such as "10"').parse(options.rejectionReason);
  }

  /**
   * Finds the customer by `BusinessPartnerIDByExtSystem` (from the CRM id), then by VAT
   * number (`A_BusinessPartnerTaxNumber`), then by email (`A_AddressEmailAddress` →
   * `A_BusinessPartnerAddress`); creates it (deep insert, role FLCU01 with the sales area)
   * when none matches. A match that is a business partner but not a customer is a
   * PermanentError: someone must extend it in SAP rather than Harmony making a twin.
   */
  async upsertCustomer(party: Party): Promise<CustomerUpsertResult> {
    const input = parseOrThrow(PartyInput, party, 'party');
    const key = partnerKeyFor(input.externalId);
    const byKey = await this.#partners(`BusinessPartnerIDByExtSystem eq ${odataString(key)}`);
    if (byKey[0] !== undefined) return customerResult(byKey[0], 'externalId');
    const vat = input.vatNumber?.trim();
    if (vat !== undefined && vat !== '') {
      const taxNumbers = await this.#client.list('GET A_BusinessPartnerTaxNumber', BP, 'A_BusinessPartnerTaxNumber', { filter: `BPTaxNumber eq ${odataString(compactVat(vat))}` }, SapTaxNumber);
      const partner = await this.#firstPartner(taxNumbers.map((row) => row.BusinessPartner));
      if (partner !== undefined) return customerResult(partner, 'vatNumber');
    }
    const email = input.email?.trim();
    if (email !== undefined && email !== '') {
      const partner = await this.#partnerByEmail(email);
      if (partner !== undefined) return customerResult(partner, 'email');
    }
    const built = toPartnerCreate(party, this.#customers);
    if ('issues' in built) {
      throw new PermanentError(`invalid party for SAP — ${describeIssues(built.issues.issues, 'party')}`, { system: SYSTEM, code: 'validation' });
    }
    const created = await this.#client.create('POST A_BusinessPartner', BP, 'A_BusinessPartner', built.body, SapCreatedPartner);
    let customer = customerOfCreated(created);
    if (customer === undefined) {
      const partner = await this.#client.read('GET A_BusinessPartner', BP, entityPath('A_BusinessPartner', created.BusinessPartner), SapPartnerRef, { select: ['BusinessPartner', 'Customer'] });
      customer = partner?.Customer;
    }
    if (customer === undefined || customer === '') {
      throw new PermanentError(`SAP created business partner ${created.BusinessPartner} for ${input.externalId} without a customer number; check the FLCU01 role and the sales area settings`, {
        system: SYSTEM,
        code: 'incomplete-customer',
      });
    }
    return { customerId: customer, created: true };
  }

  /** The newest order whose `PurchaseOrderByCustomer` carries `externalRef` and that is not fully rejected. */
  async findSalesOrderByExternalRef(externalRef: string): Promise<ErpOrder | undefined> {
    const reference = parseOrThrow(z.string().trim().min(1), externalRef, 'externalRef');
    const orders = await this.#client.list(
      'GET A_SalesOrder',
      SO,
      'A_SalesOrder',
      { filter: `PurchaseOrderByCustomer eq ${odataString(purchaseOrderReferenceFor(reference))}`, expand: ['to_Item'] },
      SapSalesOrder,
    );
    const newest = newestOrder(orders.filter((order) => !isRejected(order)));
    return newest === undefined ? undefined : toErpOrder(newest, reference);
  }

  /**
   * Creates the order with its items in one deep insert, or returns the open order that
   * already carries the draft's reference. SAP checks the materials: an unknown one is
   * SAP's message naming it, as a PermanentError.
   */
  async createSalesOrder(draft: SalesOrderDraft): Promise<ErpOrder> {
    const input = parseOrThrow(DraftInput, draft, 'draft');
    const existing = await this.findSalesOrderByExternalRef(input.externalRef);
    if (existing !== undefined) return existing;
    const body = toSalesOrderCreate(input, this.#orders);
    let created: SapSalesOrder;
    try {
      created = await this.#client.create('POST A_SalesOrder', SO, 'A_SalesOrder', body, SapSalesOrder);
    } catch (error) {
      // SAP's business refusals (400 and kin) get the order's context; auth, CSRF and configuration errors stay as they are.
      if (error instanceof PermanentError && /^4\d\d$/.test(error.code ?? '') && error.code !== '403') {
        throw new PermanentError(`SAP refused sales order ${input.externalRef} (materials ${input.lines.map((line) => line.sku).join(', ')}): ${error.message}`, {
          system: SYSTEM,
          code: error.code ?? 'rejected',
          cause: error,
        });
      }
      throw error;
    }
    const items = itemsOf(created);
    if (items !== undefined && items.length !== input.lines.length) {
      throw new PermanentError(`SAP created sales order ${created.SalesOrder} with ${items.length} of ${input.lines.length} items`, { system: SYSTEM, code: 'incomplete-order' });
    }
    // The create answer may lack the items (and so their tax): read the order as SAP now holds it.
    const order = items === undefined ? await this.#readOrder(created.SalesOrder) : created;
    return toErpOrder(order ?? created, input.externalRef);
  }

  /**
   * Releases the order by removing Harmony's delivery block (PATCH with If-Match; on 412
   * reads again and tries once more). An order without a block is confirmed already; a
   * block Harmony did not set (credit, manual) is a RetryableError until someone lifts it.
   */
  async confirmSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = parseOrThrow(SapNumber, orderId, 'orderId');
    for (let attempt = 1; ; attempt += 1) {
      const order = await this.#mustReadOrder(id);
      if (isRejected(order)) {
        throw new PermanentError(`SAP sales order ${id} is cancelled (all items rejected); it cannot be confirmed`, { system: SYSTEM, code: 'cancelled' });
      }
      const block = order.DeliveryBlockReason;
      if (block === '') return toErpOrder(order);
      if (block !== this.#orders.deliveryBlock) {
        throw new RetryableError(`SAP sales order ${id} has delivery block ${block}, which Harmony did not set; it is confirmed once someone removes it in SAP`, { system: SYSTEM, code: 'blocked' });
      }
      const etag = order.__metadata.etag;
      if (etag === undefined) {
        throw new PermanentError(`${SYSTEM} GET A_SalesOrder: order ${id} came without __metadata.etag, which its update needs`, { system: SYSTEM, code: 'malformed-response' });
      }
      const outcome = await this.#client.update('PATCH A_SalesOrder', SO, entityPath('A_SalesOrder', id), { DeliveryBlockReason: '' }, etag);
      if (outcome === 'not-found') throw notFound(id);
      if (outcome === 'updated') return toErpOrder(await this.#mustReadOrder(id));
      if (attempt >= 2) {
        throw new RetryableError(`SAP sales order ${id} changed twice while Harmony was releasing it (HTTP 412)`, { system: SYSTEM, code: '412' });
      }
    }
  }

  /**
   * Sets the reason for rejection from the settings on every item not yet rejected; SAP
   * then reports the order fully rejected, which reads `cancelled`. Items SAP cannot
   * reject (delivered already) fail with SAP's message. A cancelled order is a no-op.
   */
  async cancelSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = parseOrThrow(SapNumber, orderId, 'orderId');
    for (let pass = 1; ; pass += 1) {
      const order = await this.#mustReadOrder(id);
      if (isRejected(order)) return toErpOrder(order);
      const open = (itemsOf(order) ?? []).filter((item) => item.SalesDocumentRjcnReason === '');
      for (const item of open) {
        await this.#client.update(
          'PATCH A_SalesOrderItem',
          SO,
          entityPath('A_SalesOrderItem', { SalesOrder: id, SalesOrderItem: item.SalesOrderItem }),
          { SalesDocumentRjcnReason: this.#rejectionReason },
        );
      }
      if (pass >= 2) {
        const after = await this.#mustReadOrder(id);
        if (isRejected(after)) return toErpOrder(after);
        throw new RetryableError(`SAP sales order ${id} is not fully rejected after rejecting every item (rejection status ${after.OverallSDDocumentRejectionSts || 'blank'})`, {
          system: SYSTEM,
          code: 'not-rejected',
        });
      }
    }
  }

  /** Reads one order; PermanentError `not-found` when SAP has no such order. */
  async getSalesOrder(orderId: string): Promise<ErpOrder> {
    const id = parseOrThrow(SapNumber, orderId, 'orderId');
    return toErpOrder(await this.#mustReadOrder(id));
  }

  #readOrder(id: string): Promise<SapSalesOrder | undefined> {
    return this.#client.read('GET A_SalesOrder', SO, entityPath('A_SalesOrder', id), SapSalesOrder, { expand: ['to_Item'] });
  }

  async #mustReadOrder(id: string): Promise<SapSalesOrder> {
    const order = await this.#readOrder(id);
    if (order === undefined) throw notFound(id);
    return order;
  }

  #partners(filter: string): Promise<SapPartnerRef[]> {
    return this.#client.list('GET A_BusinessPartner', BP, 'A_BusinessPartner', { filter, select: ['BusinessPartner', 'Customer'] }, SapPartnerRef);
  }

  /** The first (lowest-numbered) of these business partners SAP still has. */
  async #firstPartner(numbers: readonly string[]): Promise<SapPartnerRef | undefined> {
    const unique = [...new Set(numbers)].slice(0, ADDRESSES_PER_QUERY);
    if (unique.length === 0) return undefined;
    const partners = await this.#partners(unique.map((number) => `BusinessPartner eq ${odataString(number)}`).join(' or '));
    return partners.sort((left, right) => left.BusinessPartner.localeCompare(right.BusinessPartner, 'en', { numeric: true }))[0];
  }

  /** Email → its addresses → the partners that hold them (SAP keeps emails per address, not per partner). */
  async #partnerByEmail(email: string): Promise<SapPartnerRef | undefined> {
    const emails = await this.#client.list('GET A_AddressEmailAddress', BP, 'A_AddressEmailAddress', { filter: `EmailAddress eq ${odataString(email)}`, select: ['AddressID', 'EmailAddress'] }, SapEmailAddress);
    const addressIds = [...new Set(emails.map((row) => row.AddressID))].slice(0, ADDRESSES_PER_QUERY);
    if (addressIds.length === 0) return undefined;
    const addresses = await this.#client.list(
      'GET A_BusinessPartnerAddress',
      BP,
      'A_BusinessPartnerAddress',
      { filter: addressIds.map((addressId) => `AddressID eq ${odataString(addressId)}`).join(' or '), select: ['BusinessPartner', 'AddressID'] },
      SapPartnerAddress,
    );
    return this.#firstPartner(addresses.map((address) => address.BusinessPartner));
  }
}

function customerResult(partner: SapPartnerRef, matchedBy: NonNullable<CustomerUpsertResult['matchedBy']>): CustomerUpsertResult {
  if (partner.Customer === '') {
    throw new PermanentError(
      `SAP business partner ${partner.BusinessPartner} matches the party by ${matchedBy} but is not a customer (no FLCU01 role); extend it to the customer role in SAP, then retry`,
      { system: SYSTEM, code: 'not-a-customer' },
    );
  }
  return { customerId: partner.Customer, created: false, matchedBy };
}

function notFound(id: string): PermanentError {
  return new PermanentError(`SAP has no sales order ${id}`, { system: SYSTEM, code: 'not-found' });
}
