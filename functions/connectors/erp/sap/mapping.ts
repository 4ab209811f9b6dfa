/**
 * SAP S/4HANA record shapes (API_BUSINESS_PARTNER, API_SALES_ORDER_SRV; validated with
 * zod) and the pure functions between them and Harmony's Party, SalesOrderDraft and
 * ErpOrder: where the CRM's ids live in SAP, what the deep-insert bodies are, and how
 * SAP's status fields read in Harmony's words.
 *
 * Where the CRM ids live:
 * - a CRM party: `BusinessPartnerIDByExtSystem` ("Business partner number from an external
 *   system", 20 characters, upper case) holds `CRM-` and 16 hex digits of the SHA-256 of
 *   the CRM id — CRM ids are case-sensitive and longer than 20 characters;
 * - a CRM deal: `PurchaseOrderByCustomer` (35 characters, case kept) holds the reference,
 *   or for a longer one its first 20 characters, `~` and 14 hex digits of its SHA-256.
 *
 * Status (`toErpOrderStatus`), first match wins:
 * | SAP                                                    | Harmony     |
 * | ------------------------------------------------------ | ----------- |
 * | OverallSDDocumentRejectionSts `C` (all items rejected) | `cancelled` |
 * | OverallOrdReltdBillgStatus `C` (order-related billing) | `invoiced`  |
 * | OverallTotalDeliveryStatus `C` (fully delivered)       | `shipped`   |
 * | DeliveryBlockReason set (held, e.g. until confirmed)   | `draft`     |
 * | anything else (OverallSDProcessStatus `A`/`B`)         | `confirmed` |
 * Delivery-related billing and payment happen in documents the sales order API does not
 * show (billing documents, FI), so `paid`, and `invoiced` for delivered goods, are never reported.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { countryCode } from '../../../core/country-code.ts';
import type { Party } from '../../crm/port.ts';
import type { ErpOrder, ErpOrderStatus, SalesOrderLineDraft } from '../port.ts';
import { decimalText, EntityMetadata, expanded, SapDecimal } from './odata.ts';

/** A business partner as the lookups read it (`$select=BusinessPartner,Customer`); `Customer` is empty for a partner without the customer role. */
export const SapPartnerRef = z.object({ BusinessPartner: z.string().min(1), Customer: z.string() });
export type SapPartnerRef = z.infer<typeof SapPartnerRef>;

/** An `A_BusinessPartnerTaxNumber` row. */
export const SapTaxNumber = z.object({ BusinessPartner: z.string().min(1), BPTaxType: z.string(), BPTaxNumber: z.string() });

/** An `A_AddressEmailAddress` row. */
export const SapEmailAddress = z.object({ AddressID: z.string().min(1), EmailAddress: z.string() });

/** An `A_BusinessPartnerAddress` row, as far as the email lookup needs it. */
export const SapPartnerAddress = z.object({ BusinessPartner: z.string().min(1), AddressID: z.string().min(1) });

/** SAP's answer to the business partner deep insert: the new number and, when SAP includes it, the customer. */
export const SapCreatedPartner = z.object({
  BusinessPartner: z.string().min(1),
  Customer: z.string().optional(),
  to_Customer: z.union([z.object({ Customer: z.string() }), z.object({ __deferred: z.unknown() }), z.null()]).optional(),
});
export type SapCreatedPartner = z.infer<typeof SapCreatedPartner>;

/** The fields of an `A_SalesOrderItem` Harmony reads; `TaxAmount` exists in newer releases of the API only. */
export const SapSalesOrderItem = z.object({
  SalesOrderItem: z.string().min(1),
  Material: z.string(),
  SalesDocumentRjcnReason: z.string(),
  NetAmount: SapDecimal,
  TaxAmount: SapDecimal.optional(),
});
export type SapSalesOrderItem = z.infer<typeof SapSalesOrderItem>;

/** The fields of an `A_SalesOrder` Harmony reads, with `to_Item` expanded (or deferred when not asked for). */
export const SapSalesOrder = z.object({
  __metadata: EntityMetadata,
  SalesOrder: z.string().min(1),
  SoldToParty: z.string(),
  PurchaseOrderByCustomer: z.string(),
  TransactionCurrency: z.string(),
  TotalNetAmount: SapDecimal,
  DeliveryBlockReason: z.string(),
  OverallSDProcessStatus: z.string(),
  OverallTotalDeliveryStatus: z.string(),
  OverallSDDocumentRejectionSts: z.string(),
  OverallOrdReltdBillgStatus: z.string().optional(),
  to_Item: z.union([expanded(SapSalesOrderItem), z.object({ __deferred: z.unknown() })]).optional(),
});
export type SapSalesOrder = z.infer<typeof SapSalesOrder>;

/** The sales area orders are created in and customers are extended to (settings). */
export interface SalesArea {
  readonly salesOrganization: string;
  readonly distributionChannel: string;
  readonly division: string;
}

/** What a new customer gets besides the party's own data (settings). */
export interface CustomerDefaults {
  readonly salesArea: SalesArea;
  /** Currency of the customer's sales area data. */
  readonly currency: string;
  /** Country of the address when the party has none; undefined makes such a party an error. */
  readonly country?: string | undefined;
  /** BP grouping (number range); undefined leaves SAP's default grouping. */
  readonly grouping?: string | undefined;
}

/** How new orders are made (settings). */
export interface OrderDefaults {
  readonly salesOrderType: string;
  readonly salesArea: SalesArea;
  /** Delivery block set on create and removed on confirm; '' creates orders unblocked (confirmed at once). */
  readonly deliveryBlock: string;
  /** `crm`: the CRM's net unit price goes in as a manual price condition; `sap`: SAP's condition records price the order. */
  readonly pricing: 'crm' | 'sap';
  /** The price condition type for `crm` pricing, e.g. `PR00` (on premise) or `PPR0` (S/4HANA Cloud). */
  readonly priceConditionType: string;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `BusinessPartnerIDByExtSystem` of the CRM party `externalId`: `CRM-` and 16 upper-case hex digits (20 characters). */
export function partnerKeyFor(externalId: string): string {
  return `CRM-${sha256Hex(externalId).slice(0, 16).toUpperCase()}`;
}

/** `PurchaseOrderByCustomer` is 35 characters in SAP. */
export const PURCHASE_ORDER_REFERENCE_LENGTH = 35;

/** The `PurchaseOrderByCustomer` that carries `externalRef`: itself when it fits, else a stable shortened form. */
export function purchaseOrderReferenceFor(externalRef: string): string {
  if (externalRef.length <= PURCHASE_ORDER_REFERENCE_LENGTH) return externalRef;
  return `${externalRef.slice(0, 20)}~${sha256Hex(externalRef).slice(0, 14)}`;
}

/** A VAT number without the spaces, dots and dashes people type, upper-cased (SAP keeps `BPTaxNumber` upper case). */
export function compactVat(vat: string): string {
  return vat.replace(/[\s.\-/]/g, '').toUpperCase();
}

/**
 * The tax number category of a VAT number: `<country>0` (`DE0`, `FR0`…), the EU VAT
 * categories in S/4HANA; the country from the VAT prefix (Greece's `EL` is SAP's `GR`),
 * else the address's.
 */
export function taxTypeFor(vat: string, addressCountry: string): string {
  const prefix = /^[A-Z]{2}/.exec(vat)?.[0];
  const country = prefix === undefined ? addressCountry : prefix === 'EL' ? 'GR' : prefix;
  return `${country}0`;
}

/** Splits a name into pieces of at most `width` characters at spaces where it can. */
export function splitName(name: string, width: number): string[] {
  const pieces: string[] = [];
  let rest = name.trim().replace(/\s+/g, ' ');
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const cut = space > 0 ? space : width;
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}

/** Field lengths of what Harmony writes into a business partner (API_BUSINESS_PARTNER `$metadata`). */
const PartnerFields = z.object({
  name: z.array(z.string()).max(4, 'longer than SAP\'s four 40-character name fields'),
  FirstName: z.string().max(40).optional(),
  LastName: z.string().min(1, 'a person needs a last name').max(40).optional(),
  Country: z.string().regex(/^[A-Z]{2,3}$/, 'expected an ISO country code such as "DE"'),
  CityName: z.string().max(40).optional(),
  PostalCode: z.string().max(10).optional(),
  StreetName: z.string().max(60).optional(),
  EmailAddress: z.string().max(241).optional(),
  PhoneNumber: z.string().max(30).optional(),
  BPTaxNumber: z.string().max(20).optional(),
});

/** A `POST A_BusinessPartner` deep-insert body. */
export type SapPartnerCreate = Readonly<Record<string, unknown>> & { readonly BusinessPartnerIDByExtSystem: string };

/**
 * The deep insert that creates the customer for a party: the business partner (category
 * 2 organization or 1 person), role FLCU01 (customer) with the sales area from the
 * settings, one address with the email and phone, the VAT number as a tax number. A value
 * longer than SAP's field is an error naming the field, never silently cut.
 */
export function toPartnerCreate(party: Party, defaults: CustomerDefaults): { body: SapPartnerCreate } | { issues: z.ZodError } {
  const optional = (value: string | undefined): string | undefined => {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };
  // CRMs keep countries as text ("Germany", "de"): SAP wants the ISO code; text that is none is an error naming it.
  const givenCountry = optional(party.address?.countryCode);
  const country = givenCountry === undefined ? defaults.country ?? '' : countryCode(givenCountry) ?? givenCountry;
  const vat = optional(party.vatNumber) === undefined ? undefined : compactVat(party.vatNumber!);
  const email = optional(party.email);
  const phone = optional(party.phone);
  const isCompany = party.kind === 'company';
  const words = party.name.trim().split(/\s+/);
  const fields = {
    name: isCompany ? splitName(party.name, 40) : [],
    FirstName: isCompany || words.length < 2 ? undefined : words.slice(0, -1).join(' '),
    LastName: isCompany ? undefined : words.at(-1) ?? '',
    Country: country,
    CityName: optional(party.address?.city),
    PostalCode: optional(party.address?.postalCode)?.toUpperCase(),
    StreetName: optional(party.address?.street),
    EmailAddress: email,
    PhoneNumber: phone,
    BPTaxNumber: vat,
  };
  const checked = PartnerFields.safeParse(fields);
  if (!checked.success) return { issues: checked.error };
  const defined = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
  const names = isCompany
    ? Object.fromEntries(fields.name.map((piece, index) => [`OrganizationBPName${index + 1}`, piece]))
    : defined({ FirstName: fields.FirstName, LastName: fields.LastName });
  const address = defined({
    Country: country,
    CityName: fields.CityName,
    PostalCode: fields.PostalCode,
    StreetName: fields.StreetName,
    to_EmailAddress: email === undefined ? undefined : [{ EmailAddress: email }],
    to_PhoneNumber: phone === undefined ? undefined : [{ PhoneNumber: phone }],
  });
  const body = defined({
    BusinessPartnerCategory: isCompany ? '2' : '1',
    BusinessPartnerGrouping: defaults.grouping,
    BusinessPartnerIDByExtSystem: partnerKeyFor(party.externalId),
    ...names,
    to_BusinessPartnerRole: [{ BusinessPartnerRole: 'FLCU01' }],
    to_BusinessPartnerAddress: [address],
    to_BusinessPartnerTax: vat === undefined ? undefined : [{ BPTaxType: taxTypeFor(vat, country), BPTaxNumber: vat }],
    to_Customer: {
      to_CustomerSalesArea: [{
        SalesOrganization: defaults.salesArea.salesOrganization,
        DistributionChannel: defaults.salesArea.distributionChannel,
        Division: defaults.salesArea.division,
        Currency: defaults.currency,
      }],
    },
  }) as SapPartnerCreate;
  return { body };
}

/** The customer number SAP answered a partner create with, when it said. */
export function customerOfCreated(created: SapCreatedPartner): string | undefined {
  if (created.Customer !== undefined && created.Customer !== '') return created.Customer;
  const customer = created.to_Customer;
  return customer !== null && customer !== undefined && 'Customer' in customer && customer.Customer !== '' ? customer.Customer : undefined;
}

/** Decimals of `RequestedQuantity` (Edm.Decimal scale 3) and of a condition rate (scale 9). */
export const QUANTITY_SCALE = 3;
const RATE_SCALE = 6;

/**
 * The deep insert for a draft: header with the sales area and order type from the
 * settings, the customer, the reference and the currency; one item per line numbered
 * 10, 20, … with `Material` = SKU and `RequestedQuantity`; for `crm` pricing a manual
 * price condition with the line's net unit price (discount folded in).
 */
export function toSalesOrderCreate(
  draft: { readonly externalRef: string; readonly customerId: string; readonly currency: string; readonly lines: readonly SalesOrderLineDraft[] },
  defaults: OrderDefaults,
): Record<string, unknown> {
  return {
    SalesOrderType: defaults.salesOrderType,
    SalesOrganization: defaults.salesArea.salesOrganization,
    DistributionChannel: defaults.salesArea.distributionChannel,
    OrganizationDivision: defaults.salesArea.division,
    SoldToParty: draft.customerId,
    PurchaseOrderByCustomer: purchaseOrderReferenceFor(draft.externalRef),
    TransactionCurrency: draft.currency,
    ...(defaults.deliveryBlock === '' ? {} : { DeliveryBlockReason: defaults.deliveryBlock }),
    to_Item: draft.lines.map((line, index) => {
      const netUnitPrice = line.unitPrice * (1 - (line.discountPercent ?? 0) / 100);
      const rate = decimalText(Math.round(netUnitPrice * 10 ** RATE_SCALE) / 10 ** RATE_SCALE, RATE_SCALE)!;
      return {
        SalesOrderItem: String((index + 1) * 10),
        Material: line.sku,
        RequestedQuantity: decimalText(line.quantity, QUANTITY_SCALE),
        ...(defaults.pricing === 'crm'
          ? { to_PricingElement: [{ ConditionType: defaults.priceConditionType, ConditionRateValue: rate, ConditionCurrency: draft.currency }] }
          : {}),
      };
    }),
  };
}

/** The order's items when they were expanded, else undefined. */
export function itemsOf(order: SapSalesOrder): readonly SapSalesOrderItem[] | undefined {
  return order.to_Item !== undefined && 'results' in order.to_Item ? order.to_Item.results : undefined;
}

/** True when every item carries a reason for rejection (SAP: rejection status `C`). */
export function isRejected(order: Pick<SapSalesOrder, 'OverallSDDocumentRejectionSts'>): boolean {
  return order.OverallSDDocumentRejectionSts === 'C';
}

/** Harmony's status of an order (table in this file's header). */
export function toErpOrderStatus(order: SapSalesOrder): ErpOrderStatus {
  if (isRejected(order)) return 'cancelled';
  if (order.OverallOrdReltdBillgStatus === 'C') return 'invoiced';
  if (order.OverallTotalDeliveryStatus === 'C') return 'shipped';
  if (order.DeliveryBlockReason !== '') return 'draft';
  return 'confirmed';
}

/**
 * Maps an order to an ErpOrder. The amount is `TotalNetAmount` plus the items' `TaxAmount`
 * (items with a reason for rejection count for neither), as SAP priced them; releases of
 * the API before item `TaxAmount` existed give the net value only.
 * `externalRef` is the CRM's reference when the caller knows it, else `PurchaseOrderByCustomer`.
 */
export function toErpOrder(order: SapSalesOrder, externalRef?: string): ErpOrder {
  const tax = (itemsOf(order) ?? [])
    .filter((item) => item.SalesDocumentRjcnReason === '')
    .reduce((sum, item) => sum + (item.TaxAmount ?? 0), 0);
  return {
    id: order.SalesOrder,
    reference: order.SalesOrder,
    externalRef: externalRef ?? order.PurchaseOrderByCustomer,
    status: toErpOrderStatus(order),
    amountTotal: Math.round((order.TotalNetAmount + tax) * 1000) / 1000,
    currency: order.TransactionCurrency,
  };
}

/** SAP numbers orders from a number range, so the highest number is the newest. */
export function newestOrder<Order extends Pick<SapSalesOrder, 'SalesOrder'>>(orders: readonly Order[]): Order | undefined {
  const normalized = (number: string): string => number.replace(/^0+(?=\d)/, '');
  const later = (left: string, right: string): boolean => {
    const a = normalized(left);
    const b = normalized(right);
    return a.length === b.length ? a > b : a.length > b.length;
  };
  return orders.reduce<Order | undefined>((newest, order) => (newest === undefined || later(order.SalesOrder, newest.SalesOrder) ? order : newest), undefined);
}
