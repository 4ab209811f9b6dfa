/**
 * Business Central API v2.0 record shapes (validated with zod) and the pure functions
 * between them and Harmony's Party, SalesOrderDraft and ErpOrder: where the CRM's ids
 * live in BC (which has no external-id field in v2.0), what the request bodies are, and
 * how BC's order and invoice statuses read in Harmony's words.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Party } from '../../crm/port.ts';
import type { ErpOrder, ErpOrderStatus, SalesOrderLineDraft } from '../port.ts';

const Guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a GUID');

/** An OData collection: `value` and, when more pages follow, `@odata.nextLink`. */
export function odataCollection<Item extends z.ZodType>(item: Item) {
  return z.object({ value: z.array(item), '@odata.nextLink': z.string().optional() });
}

/** The fields of a `customer` Harmony reads. */
export const BcCustomer = z.object({
  id: Guid,
  number: z.string(),
  displayName: z.string(),
  email: z.string().optional(),
  taxRegistrationNumber: z.string().optional(),
});
export type BcCustomer = z.infer<typeof BcCustomer>;

/** The fields of an `item` Harmony reads. */
export const BcItem = z.object({
  id: Guid,
  number: z.string(),
  displayName: z.string().optional(),
  blocked: z.boolean().optional(),
});
export type BcItem = z.infer<typeof BcItem>;

/** The fields of a `currency` Harmony reads. */
export const BcCurrency = z.object({ id: Guid, code: z.string() });

/**
 * `NAV.salesOrderEntityBufferStatus`: Draft (document status Open), In Review (Pending
 * Approval; OData spells the space `_x0020_`), Open (Released or Pending Prepayment).
 */
const SalesOrderStatus = z.enum(['Draft', 'In Review', 'In_x0020_Review', 'Open']);

/**
 * The fields of a `salesOrder` Harmony reads. `@odata.etag` is what DELETE's If-Match
 * needs; BC sends it with every entity (Microsoft Learn's examples leave it out).
 */
export const BcSalesOrder = z.object({
  '@odata.etag': z.string().min(1).optional(),
  id: Guid,
  number: z.string().min(1),
  externalDocumentNumber: z.string(),
  customerId: Guid,
  currencyCode: z.string(),
  totalAmountIncludingTax: z.number(),
  status: SalesOrderStatus,
  fullyShipped: z.boolean(),
  salesOrderLines: z.array(z.object({ id: Guid, lineObjectNumber: z.string() })).optional(),
});
export type BcSalesOrder = z.infer<typeof BcSalesOrder>;

/** `NAV.invoiceEntityAggregateStatus` of a sales invoice. */
const InvoiceStatus = z.enum([' ', '_x0020_', 'Draft', 'In Review', 'In_x0020_Review', 'Open', 'Paid', 'Canceled', 'Corrective']);

/** The fields of a `salesInvoice` Harmony reads: what became of an order BC posted (and so deleted). */
export const BcSalesInvoice = z.object({
  id: Guid,
  number: z.string(),
  externalDocumentNumber: z.string(),
  orderId: Guid,
  orderNumber: z.string(),
  currencyCode: z.string(),
  totalAmountIncludingTax: z.number(),
  status: InvoiceStatus,
});
export type BcSalesInvoice = z.infer<typeof BcSalesInvoice>;

/** BC's `number` of a customer is a Code[20]; the prefix marks the ones Harmony numbered. */
const CUSTOMER_NUMBER_PREFIX = 'CRM-';
/** `externalDocumentNumber` is a Code/Text[35] in BC. */
export const EXTERNAL_DOCUMENT_NUMBER_LENGTH = 35;

/** RFC 4648 base32 (A–Z, 2–7): upper-case only, so BC's upper-casing of Code fields changes nothing. */
function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return text;
}

function digest(text: string): string {
  return base32(createHash('sha256').update(text, 'utf8').digest());
}

/**
 * The BC customer `number` that stands for a CRM id: `CRM-` and 16 base32 characters
 * of its SHA-256 (80 bits), 20 characters in all. BC v2.0 customers have no external-id
 * field, and `number` is the one unique key an API client may set: a create retried
 * after a lost answer collides with the first instead of making a second customer.
 * Hashed always (never the id itself) because CRM ids are case-sensitive and longer
 * than 20 characters, while BC upper-cases Code fields.
 */
export function customerNumberFor(externalId: string): string {
  return `${CUSTOMER_NUMBER_PREFIX}${digest(externalId).slice(0, 16)}`;
}

/**
 * The `externalDocumentNumber` that carries a draft's external reference: the reference
 * itself when it fits BC's 35 characters, else its first 20 characters, `~` and 14 base32
 * characters of its SHA-256 — stable, so a retry finds the order, and still readable.
 */
export function externalDocumentNumberFor(externalRef: string): string {
  if (externalRef.length <= EXTERNAL_DOCUMENT_NUMBER_LENGTH) return externalRef;
  return `${externalRef.slice(0, 20)}~${digest(externalRef).slice(0, 14)}`;
}

/** Escapes a value for an OData string literal: `'` becomes `''`. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A VAT number without the spaces, dots and dashes people type into it, upper-cased. */
export function compactVat(vat: string): string {
  return vat.replace(/[\s.\-/]/g, '').toUpperCase();
}

/** The customer fields Harmony sends, with BC's field lengths (`Customer` table). */
const CustomerFields = z.object({
  displayName: z.string().max(100),
  email: z.string().max(80).optional(),
  phoneNumber: z.string().max(30).optional(),
  taxRegistrationNumber: z.string().max(20).optional(),
  addressLine1: z.string().max(100).optional(),
  city: z.string().max(30).optional(),
  postalCode: z.string().max(20).optional(),
  country: z.string().max(10).optional(),
});

/** A `POST customers` body. */
export type BcCustomerCreate = z.infer<typeof CustomerFields> & { readonly number: string; readonly type: 'Company' | 'Person' };

/**
 * The body that creates the customer for a party: `number` from the CRM id, the rest
 * from the party with absent or blank fields left out. A value longer than BC's field
 * is an error naming the field (validated by the caller), never silently cut.
 */
export function toCustomerCreate(party: Party): BcCustomerCreate {
  const optional = (value: string | undefined): string | undefined => {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };
  const fields = {
    displayName: party.name.trim(),
    email: optional(party.email),
    phoneNumber: optional(party.phone),
    taxRegistrationNumber: optional(party.vatNumber),
    addressLine1: optional(party.address?.street),
    city: optional(party.address?.city),
    postalCode: optional(party.address?.postalCode),
    country: optional(party.address?.countryCode)?.toUpperCase(),
  };
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return { number: customerNumberFor(party.externalId), type: party.kind === 'company' ? 'Company' : 'Person', ...defined } as BcCustomerCreate;
}

/** Checks a customer body against BC's field lengths; the issues name the fields. */
export function customerFieldIssues(body: BcCustomerCreate): z.ZodError | undefined {
  const parsed = CustomerFields.safeParse(body);
  return parsed.success ? undefined : parsed.error;
}

/** One line of a `POST salesOrders` deep insert. */
export interface BcSalesOrderLineCreate {
  readonly lineType: 'Item';
  readonly lineObjectNumber: string;
  readonly description: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly discountPercent: number;
}

/** A `POST salesOrders` body with its lines (deep insert: one request, one transaction in BC). */
export interface BcSalesOrderCreate {
  readonly customerId: string;
  readonly externalDocumentNumber: string;
  /** Blank for the company's local currency (BC's convention for LCY). */
  readonly currencyCode: string;
  readonly salesOrderLines: readonly BcSalesOrderLineCreate[];
}

/** `Sales Line` Description is a Text[100]. */
const LINE_DESCRIPTION_LENGTH = 100;

/** The deep-insert body for a draft; `currencyCode` blank when the draft is in the local currency. */
export function toSalesOrderCreate(
  customerId: string,
  externalRef: string,
  currencyCode: string,
  lines: readonly SalesOrderLineDraft[],
): BcSalesOrderCreate {
  return {
    customerId,
    externalDocumentNumber: externalDocumentNumberFor(externalRef),
    currencyCode,
    salesOrderLines: lines.map((line) => ({
      lineType: 'Item',
      lineObjectNumber: line.sku,
      // BC fills the item's own description when none is sent; send the CRM's when it has one.
      description: (line.name.trim() === '' ? line.sku : line.name.trim()).slice(0, LINE_DESCRIPTION_LENGTH),
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      discountPercent: line.discountPercent ?? 0,
    })),
  };
}

/**
 * Harmony's status for an open BC sales order. BC's order is already the accepted,
 * binding document (the stage before it is the sales quote), so `Draft` (BC document
 * status Open, still editable) and `Open` (Released) both read `confirmed`; `In Review`
 * (held by an approval workflow) reads `draft`; a fully shipped order reads `shipped`.
 */
export function toErpOrderStatus(order: Pick<BcSalesOrder, 'status' | 'fullyShipped'>): ErpOrderStatus {
  if (order.status === 'In Review' || order.status === 'In_x0020_Review') return 'draft';
  return order.fullyShipped ? 'shipped' : 'confirmed';
}

/** True when BC's approval workflow holds the order. */
export function awaitsApproval(order: Pick<BcSalesOrder, 'status'>): boolean {
  return order.status === 'In Review' || order.status === 'In_x0020_Review';
}

/** BC answers the local currency as blank (or as its code); Harmony always shows the code. */
function currencyOf(code: string, localCurrency: string): string {
  return code === '' ? localCurrency : code;
}

/**
 * Maps a sales order to an ErpOrder. `externalRef` is the CRM's reference when the
 * caller knows it; otherwise the stored `externalDocumentNumber` (which for references
 * longer than 35 characters is the hashed form).
 */
export function toErpOrder(order: BcSalesOrder, localCurrency: string, externalRef?: string): ErpOrder {
  return {
    id: order.id,
    reference: order.number,
    externalRef: externalRef ?? order.externalDocumentNumber,
    status: toErpOrderStatus(order),
    amountTotal: order.totalAmountIncludingTax,
    currency: currencyOf(order.currencyCode, localCurrency),
  };
}

/**
 * An order BC posted with shipAndInvoice: BC deletes a fully shipped and invoiced order,
 * and its sales invoice (`orderId` = the order's id) is what remains. `Paid` reads paid,
 * any other state invoiced.
 */
export function invoicedOrder(invoice: BcSalesInvoice, localCurrency: string): ErpOrder {
  return {
    id: invoice.orderId,
    reference: invoice.orderNumber,
    externalRef: invoice.externalDocumentNumber,
    status: invoice.status === 'Paid' ? 'paid' : 'invoiced',
    amountTotal: invoice.totalAmountIncludingTax,
    currency: currencyOf(invoice.currencyCode, localCurrency),
  };
}

/** What a cancel returns for an order BC no longer has (deleted by an earlier cancel). */
export function deletedOrder(orderId: string): ErpOrder {
  return { id: orderId, reference: '', externalRef: '', status: 'cancelled', amountTotal: 0, currency: '' };
}

/** Picks the newest order: BC numbers orders from a series, so the highest number is the latest. */
export function newestOrder<Order extends Pick<BcSalesOrder, 'number'>>(orders: readonly Order[]): Order | undefined {
  const byNumber = (left: string, right: string): number =>
    left.length === right.length ? (left < right ? -1 : left > right ? 1 : 0) : left.length - right.length;
  return orders.reduce<Order | undefined>((newest, order) => (newest === undefined || byNumber(order.number, newest.number) > 0 ? order : newest), undefined);
}
