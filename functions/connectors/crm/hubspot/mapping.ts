/**
 * Pure functions between HubSpot's CRM v3 shapes and Harmony's port shapes.
 * Every vendor response is validated here; a response that does not fit becomes a
 * `PermanentError` naming the path that failed (`deal.properties.amount: …`).
 */
import * as z from 'zod';
import { countryCode } from '../../../core/country-code.ts';
import { PermanentError } from '../../../core/errors.ts';
import { describeIssues } from '../../../core/validation.ts';
import type { Address, Deal, DealLine, DealSyncUpdate, Party } from '../port.ts';

/** Default name of the company property holding the VAT number (a custom property in HubSpot). */
export const DEFAULT_VAT_PROPERTY = 'vat_number';

/** Deal properties the adapter reads. */
export const DEAL_PROPERTIES = ['dealname', 'dealstage', 'amount', 'deal_currency_code', 'closedate'] as const;

/** Contact properties the adapter reads (address too, for people who buy for themselves). */
export const CONTACT_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'address', 'city', 'zip', 'country'] as const;

/** Line item properties the adapter reads. */
export const LINE_ITEM_PROPERTIES = ['name', 'quantity', 'price', 'hs_sku', 'hs_discount_percentage', 'discount'] as const;

/** Association types requested with a deal, as the `associations` query parameter spells them. */
export const DEAL_ASSOCIATIONS = ['companies', 'contacts', 'line_items'] as const;

/**
 * Custom deal properties Harmony writes back. A portal admin must create them
 * (Settings → Properties → Deal): two single-line texts and one dropdown whose options
 * are the `ErpSyncStatus` values.
 */
export const ERP_WRITE_BACK_PROPERTIES = {
  orderRef: 'erp_order_ref',
  status: 'erp_status',
  syncError: 'erp_sync_error',
} as const;

/** Company properties the adapter reads, with the portal's VAT property. */
export function companyProperties(vatProperty: string = DEFAULT_VAT_PROPERTY): string[] {
  return ['name', 'phone', 'address', 'city', 'zip', 'country', 'domain', vatProperty];
}

/** `hubspot:company:<id>` / `hubspot:contact:<id>`. */
export function partyExternalId(kind: 'company' | 'contact', id: string): string {
  return `hubspot:${kind}:${id}`;
}

const ObjectId = z.string().regex(/^\d+$/, { error: 'expected a numeric HubSpot id' });
const PropertyValues = z.record(z.string(), z.string().nullable());

/** One CRM record as the v3 objects API returns it (extra fields are ignored). */
const HubspotRecord = z.object({
  id: ObjectId,
  properties: PropertyValues,
});

const AssociationList = z.object({
  results: z.array(z.object({ id: ObjectId, type: z.string() })),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional().nullable(),
});

/** A deal read with `associations=companies,contacts,line_items`. */
const HubspotDealRecord = HubspotRecord.extend({
  associations: z.record(z.string(), AssociationList).optional().nullable(),
});

/** The answer of `POST /crm/v3/objects/{type}/batch/read` (200, or 207 with errors). */
const HubspotBatchRead = z.object({
  status: z.string(),
  results: z.array(HubspotRecord),
  errors: z
    .array(
      z.object({
        category: z.string().optional(),
        message: z.string().optional(),
        context: z.record(z.string(), z.array(z.string())).optional().nullable(),
      }),
    )
    .optional()
    .nullable(),
});

/** A HubSpot record reduced to what the mapping needs. */
export interface HubspotObject {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null>>;
}

/** A deal with the ids of its associated records, in HubSpot's order. */
export interface HubspotDeal extends HubspotObject {
  /** Primary company first (association type `deal_to_company`), then the others. */
  readonly companyIds: readonly string[];
  readonly contactIds: readonly string[];
  readonly lineItemIds: readonly string[];
}

/** Validates `GET /crm/v3/objects/deals/{id}?associations=…` and extracts the associated ids. */
export function parseDealResponse(data: unknown): HubspotDeal {
  const deal = parseVendor(HubspotDealRecord, data, 'deal');
  const associations = deal.associations ?? {};
  const lineItems = associations['line items'] ?? associations['line_items'];
  if (lineItems?.paging?.next !== undefined) {
    throw new PermanentError(
      `deal ${deal.id}: more line items than HubSpot lists with the deal; Harmony would miss some`,
      { system: 'hubspot', code: 'too_many_line_items' },
    );
  }
  const companies = associations['companies']?.results ?? [];
  const primaryFirst = [
    ...companies.filter((association) => association.type === 'deal_to_company'),
    ...companies,
  ];
  return {
    id: deal.id,
    properties: deal.properties,
    companyIds: unique(primaryFirst.map((association) => association.id)),
    contactIds: unique((associations['contacts']?.results ?? []).map((association) => association.id)),
    lineItemIds: unique((lineItems?.results ?? []).map((association) => association.id)),
  };
}

/** Validates `GET /crm/v3/objects/{type}/{id}`. @param label path prefix for errors, e.g. `company` */
export function parseObjectResponse(data: unknown, label: string): HubspotObject {
  return parseVendor(HubspotRecord, data, label);
}

/**
 * Validates a batch read and checks every requested id came back.
 * @param label path prefix for errors, e.g. `line_items`
 */
export function parseBatchReadResponse(
  data: unknown,
  requestedIds: readonly string[],
  label: string,
): HubspotObject[] {
  const batch = parseVendor(HubspotBatchRead, data, label);
  const found = new Map(batch.results.map((record) => [record.id, record]));
  const missing = requestedIds.filter((id) => !found.has(id));
  if (missing.length > 0) {
    const reasons = (batch.errors ?? []).map((error) => error.message ?? error.category ?? 'error').join('; ');
    throw new PermanentError(
      `${label}: HubSpot returned no record for id ${missing.join(', ')}${reasons ? ` (${reasons})` : ''}`,
      { system: 'hubspot', code: 'OBJECT_NOT_FOUND' },
    );
  }
  return requestedIds.map((id) => found.get(id)!);
}

/** A HubSpot company as the customer of a deal. */
export function companyToParty(company: HubspotObject, vatProperty: string = DEFAULT_VAT_PROPERTY): Party {
  const label = `company ${company.id}`;
  const name = text(company.properties['name']) ?? text(company.properties['domain']);
  if (name === undefined) {
    throw new PermanentError(`${label}.properties.name: the company has neither a name nor a domain`, {
      system: 'hubspot',
      code: 'invalid_vendor_data',
    });
  }
  return compact({
    externalId: partyExternalId('company', company.id),
    kind: 'company' as const,
    name,
    phone: text(company.properties['phone']),
    vatNumber: text(company.properties[vatProperty]),
    address: toAddress(company.properties),
  });
}

/** A HubSpot contact as a person (the buyer's contact, or the customer when no company is associated). */
export function contactToParty(contact: HubspotObject): Party {
  const email = text(contact.properties['email']);
  const fullName = [text(contact.properties['firstname']), text(contact.properties['lastname'])]
    .filter((part) => part !== undefined)
    .join(' ');
  const name = fullName || email;
  if (name === undefined) {
    throw new PermanentError(`contact ${contact.id}.properties: the contact has no name and no email`, {
      system: 'hubspot',
      code: 'invalid_vendor_data',
    });
  }
  return compact({
    externalId: partyExternalId('contact', contact.id),
    kind: 'person' as const,
    name,
    email,
    phone: text(contact.properties['phone']),
    address: toAddress(contact.properties),
  });
}

/**
 * A HubSpot line item as a deal line. `hs_discount_percentage` wins; a unit `discount`
 * (an amount in the deal currency) is turned into a percentage of the price.
 * @param index position on the deal, for error messages
 */
export function lineItemToDealLine(lineItem: HubspotObject, index: number): DealLine {
  const properties = lineItem.properties;
  const name = text(properties['name']) ?? '';
  const label = `line_items[${index}] (id ${lineItem.id}${name ? `, "${name}"` : ''})`;
  const sku = text(properties['hs_sku']);
  if (sku === undefined) {
    throw new PermanentError(
      `${label}.properties.hs_sku: the line item has no SKU, so no ERP product can be matched`,
      { system: 'hubspot', code: 'missing_sku' },
    );
  }
  const quantity = requiredNumber(properties, 'quantity', label);
  const unitPrice = requiredNumber(properties, 'price', label);
  const percent = optionalNumber(properties, 'hs_discount_percentage', label);
  const unitDiscount = optionalNumber(properties, 'discount', label);
  const discountPercent =
    percent ?? (unitDiscount !== undefined && unitPrice > 0 ? round((unitDiscount / unitPrice) * 100, 4) : undefined);
  if (discountPercent !== undefined && (discountPercent < 0 || discountPercent > 100)) {
    throw new PermanentError(`${label}.properties: discount of ${discountPercent}% is outside 0–100`, {
      system: 'hubspot',
      code: 'invalid_vendor_data',
    });
  }
  return compact({
    sku,
    name: name || sku,
    quantity,
    unitPrice,
    discountPercent: discountPercent === 0 ? undefined : discountPercent,
  });
}

/** Everything a {@link Deal} is built from, already read and validated. */
export interface DealParts {
  readonly deal: HubspotDeal;
  readonly company?: HubspotObject;
  readonly contact?: HubspotObject;
  readonly lineItems: readonly HubspotObject[];
  /** @default DEFAULT_VAT_PROPERTY */
  readonly vatProperty?: string;
  /** Used when the deal has no `deal_currency_code` (single-currency portals often leave it empty). */
  readonly defaultCurrency?: string;
}

/**
 * Assembles the port's {@link Deal}. The customer is the associated company, else the
 * contact; an empty `amount` is the sum of the lines after discount.
 */
export function toDeal(parts: DealParts): Deal {
  const { deal } = parts;
  const label = 'deal';
  const properties = deal.properties;
  const name = text(properties['dealname']);
  if (name === undefined) throw vendorDataError(`${label}.properties.dealname: the deal has no name`);
  const stage = text(properties['dealstage']);
  if (stage === undefined) throw vendorDataError(`${label}.properties.dealstage: the deal has no stage`);
  const currency = text(properties['deal_currency_code'])?.toUpperCase() ?? parts.defaultCurrency?.toUpperCase();
  if (currency === undefined || !/^[A-Z]{3}$/.test(currency)) {
    throw vendorDataError(
      `${label}.properties.deal_currency_code: expected an ISO 4217 code, got ${JSON.stringify(properties['deal_currency_code'] ?? null)}`,
    );
  }
  const lines = parts.lineItems.map((lineItem, index) => lineItemToDealLine(lineItem, index));
  const amount =
    optionalNumber(properties, 'amount', label) ??
    round(
      lines.reduce((sum, line) => sum + line.quantity * line.unitPrice * (1 - (line.discountPercent ?? 0) / 100), 0),
      2,
    );
  const vatProperty = parts.vatProperty ?? DEFAULT_VAT_PROPERTY;
  const contact = parts.contact === undefined ? undefined : contactToParty(parts.contact);
  const customer = parts.company === undefined ? contact : companyToParty(parts.company, vatProperty);
  if (customer === undefined) {
    throw vendorDataError(`deal ${deal.id}.associations: the deal has neither a company nor a contact`);
  }
  return compact({
    id: deal.id,
    name,
    stage,
    amount,
    currency,
    closeDate: text(properties['closedate']),
    customer,
    contact,
    lines,
  });
}

/**
 * The deal properties to PATCH for a sync update. The status is always written and the
 * error always written (empty clears it), so a retried sync leaves no stale error; the
 * order reference is written only when known, so a later failure keeps it.
 */
export function toDealProperties(update: DealSyncUpdate): Record<string, string> {
  const properties: Record<string, string> = {
    [ERP_WRITE_BACK_PROPERTIES.status]: update.erpStatus,
    [ERP_WRITE_BACK_PROPERTIES.syncError]: (update.syncError ?? '').slice(0, 65_536),
  };
  if (update.erpOrderRef !== undefined) properties[ERP_WRITE_BACK_PROPERTIES.orderRef] = update.erpOrderRef;
  return properties;
}

/** Validates a vendor payload; failures become a PermanentError naming the first bad path. */
function parseVendor<Schema extends z.ZodType>(schema: Schema, data: unknown, label: string): z.output<Schema> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new PermanentError(`Malformed HubSpot response: ${describeIssues(result.error.issues.slice(0, 3), label)}`, {
    system: 'hubspot',
    code: 'malformed_response',
    cause: result.error,
  });
}

function vendorDataError(message: string): PermanentError {
  return new PermanentError(message, { system: 'hubspot', code: 'invalid_vendor_data' });
}

/** A property value with surrounding space removed; empty and null are "not set". */
function text(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function optionalNumber(
  properties: Readonly<Record<string, string | null>>,
  name: string,
  label: string,
): number | undefined {
  const value = text(properties[name]);
  if (value === undefined) return undefined;
  if (!DECIMAL.test(value)) {
    throw new PermanentError(`${label}.properties.${name}: expected a number, got ${JSON.stringify(value)}`, {
      system: 'hubspot',
      code: 'malformed_response',
    });
  }
  return Number(value);
}

function requiredNumber(properties: Readonly<Record<string, string | null>>, name: string, label: string): number {
  const value = optionalNumber(properties, name, label);
  if (value === undefined) throw vendorDataError(`${label}.properties.${name}: expected a number, got nothing`);
  return value;
}

function toAddress(properties: Readonly<Record<string, string | null>>): Address | undefined {
  const address = compact({
    street: text(properties['address']),
    city: text(properties['city']),
    postalCode: text(properties['zip']),
    countryCode: countryCode(text(properties['country'])),
  });
  return Object.keys(address).length === 0 ? undefined : address;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Drops keys whose value is undefined, so port objects carry no `key: undefined`. */
function compact<Shape extends object>(shape: Shape): Shape {
  return Object.fromEntries(Object.entries(shape).filter(([, value]) => value !== undefined)) as Shape;
}
