/**
 * Pure functions between Pipedrive's API shapes (v2 deals, deal products, products, persons,
 * organizations; v1 fields) and Harmony's port shapes. The schemas follow the v2 OpenAPI
 * document (developers.pipedrive.com/docs/api/v1/openapi-v2.yaml) and the v2 migration guide
 * (custom fields in `custom_fields`, RFC 3339 times, ids as integers).
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { WON_DEAL_STAGE } from '../../../core/events.ts';
import type { Address, Deal, DealLine, DealSyncUpdate, Party } from '../port.ts';

/** The system name in errors, events and externalIds. */
export const PIPEDRIVE_SYSTEM = 'pipedrive';

/** Harmony's stage for a lost deal, beside WON_DEAL_STAGE (`closedwon`). */
export const LOST_DEAL_STAGE = 'closedlost';

/** Custom field keys are 40 hexadecimal characters (`DealField.key`). */
const FIELD_KEY = /^[0-9a-f]{40}$/;

/** True when `text` is a custom field key rather than a field name. */
export function isFieldKey(text: string): boolean {
  return FIELD_KEY.test(text);
}

const Id = z.number().int().positive();
const Text = z.string().nullable().optional();

/** `{success: true, data}`: one record. */
export function singleRecord<Schema extends z.ZodType>(data: Schema) {
  return z.looseObject({ success: z.literal(true), data });
}

/** One page of a v2 list: `data` and `additional_data.next_cursor` (null or absent on the last page). */
export function cursorPage<Schema extends z.ZodType>(item: Schema) {
  return z.looseObject({
    success: z.literal(true),
    data: z.array(item).nullable(),
    additional_data: z.looseObject({ next_cursor: z.string().min(1).nullable().optional() }).nullable().optional(),
  });
}

/** One page of a v1 list: `additional_data.pagination` with `more_items_in_collection` and `next_start`. */
export function offsetPage<Schema extends z.ZodType>(item: Schema) {
  return z.looseObject({
    success: z.literal(true),
    data: z.array(item).nullable(),
    additional_data: z
      .looseObject({
        pagination: z
          .looseObject({ more_items_in_collection: z.boolean(), next_start: z.number().int().nonnegative().optional() })
          .optional(),
      })
      .nullable()
      .optional(),
  });
}

/** Pipedrive's error body, `{success: false, error, error_info}` (401 adds `errorCode`). */
export const PipedriveErrorBody = z.looseObject({
  success: z.literal(false),
  error: z.string(),
  error_info: z.string().optional(),
  errorCode: z.number().optional(),
});

/** An address as v2 gives it (organization `address`, person `postal_address`, address custom fields). */
export const PipedriveAddress = z.looseObject({
  value: Text,
  street_number: Text,
  route: Text,
  subpremise: Text,
  locality: Text,
  postal_code: Text,
  country: Text,
});
export type PipedriveAddress = z.infer<typeof PipedriveAddress>;

/** `GET /api/v2/deals/{id}`: the fields the adapter reads. */
export const PipedriveDeal = z.looseObject({
  id: Id,
  title: z.string(),
  value: z.number(),
  currency: z.string().regex(/^[A-Z]{3}$/, { error: 'expected an ISO 4217 code such as "EUR"' }),
  status: z.enum(['open', 'won', 'lost', 'deleted']),
  stage_id: Id.nullable().optional(),
  org_id: Id.nullable().optional(),
  person_id: Id.nullable().optional(),
  is_deleted: z.boolean().optional(),
  close_time: Text,
  expected_close_date: Text,
  custom_fields: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type PipedriveDeal = z.infer<typeof PipedriveDeal>;

/** One item of `GET /api/v2/deals/{id}/products` (it names the product but carries no code). */
export const PipedriveDealProduct = z.looseObject({
  id: Id,
  product_id: Id,
  name: z.string(),
  quantity: z.number().positive({ error: 'expected a quantity above 0' }),
  item_price: z.number(),
  discount: z.number().nonnegative().nullable().optional(),
  discount_type: z.enum(['percentage', 'amount']).nullable().optional(),
  is_enabled: z.boolean().optional(),
});
export type PipedriveDealProduct = z.infer<typeof PipedriveDealProduct>;

/** `GET /api/v2/products/{id}`: `code` is the SKU Harmony shares with the ERP. */
export const PipedriveProduct = z.looseObject({ id: Id, name: z.string(), code: Text });
export type PipedriveProduct = z.infer<typeof PipedriveProduct>;

const ContactPoint = z.looseObject({ value: z.string(), primary: z.boolean().optional(), label: Text });

/** `GET /api/v2/persons/{id}`. */
export const PipedrivePerson = z.looseObject({
  id: Id,
  name: Text,
  first_name: Text,
  last_name: Text,
  emails: z.array(ContactPoint).nullable().optional(),
  phones: z.array(ContactPoint).nullable().optional(),
  postal_address: PipedriveAddress.nullable().optional(),
});
export type PipedrivePerson = z.infer<typeof PipedrivePerson>;

/** `GET /api/v2/organizations/{id}`. */
export const PipedriveOrganization = z.looseObject({
  id: Id,
  name: z.string(),
  address: PipedriveAddress.nullable().optional(),
  custom_fields: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type PipedriveOrganization = z.infer<typeof PipedriveOrganization>;

/** One item of `GET /api/v1/dealFields` or `/organizationFields`. */
export const PipedriveField = z.looseObject({ key: z.string().min(1), name: z.string(), field_type: z.string() });
export type PipedriveField = z.infer<typeof PipedriveField>;

/** Field types that hold the free text Harmony writes. */
export const TEXT_FIELD_TYPES: ReadonlySet<string> = new Set(['varchar', 'text', 'varchar_auto']);

function vendorDataError(message: string): PermanentError {
  return new PermanentError(`${PIPEDRIVE_SYSTEM}: ${message}`, { system: PIPEDRIVE_SYSTEM, code: 'invalid_vendor_data' });
}

const text = (value: string | null | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/** `pipedrive:organization:<id>` / `pipedrive:person:<id>`. */
export function partyExternalId(kind: 'organization' | 'person', id: number): string {
  return `${PIPEDRIVE_SYSTEM}:${kind}:${id}`;
}

/** Won is Harmony's `closedwon` (the stage the saga starts on), lost `closedlost`, open the stage id as text. */
export function dealStage(deal: PipedriveDeal): string {
  if (deal.is_deleted === true || deal.status === 'deleted') return 'deleted';
  if (deal.status === 'won') return WON_DEAL_STAGE;
  if (deal.status === 'lost') return LOST_DEAL_STAGE;
  return deal.stage_id === null || deal.stage_id === undefined ? 'open' : String(deal.stage_id);
}

/** Countries whose addresses put the house number before the street. */
const NUMBER_FIRST = new Set(['US', 'CA', 'GB', 'IE', 'AU', 'NZ', 'FR', 'LU']);

const ALIASES: Readonly<Record<string, string>> = { usa: 'US', 'united states of america': 'US', uk: 'GB', 'great britain': 'GB', england: 'GB' };
/** Region codes Intl names that are not ISO 3166-1 countries (UK is reserved; GB is the code). */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'UK', 'QO', 'XA', 'XB', 'ZZ']);
let countryCodes: Map<string, string> | undefined;

/**
 * ISO 3166-1 alpha-2 for Pipedrive's `country`, which holds the name Google Maps gave
 * (`Germany`, `United States`, `USA`); undefined when it names no country Harmony knows.
 */
export function countryCode(country: string | undefined): string | undefined {
  if (country === undefined) return undefined;
  if (/^[A-Za-z]{2}$/.test(country)) return country.toUpperCase();
  if (countryCodes === undefined) {
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    countryCodes = new Map(Object.entries(ALIASES));
    for (let first = 65; first <= 90; first += 1) {
      for (let second = 65; second <= 90; second += 1) {
        const code = String.fromCharCode(first, second);
        const name = names.of(code);
        if (name !== undefined && name !== code && !NOT_COUNTRIES.has(code)) countryCodes.set(name.toLowerCase(), code);
      }
    }
  }
  return countryCodes.get(country.trim().toLowerCase());
}

/** A Pipedrive address as Harmony's; the street from `route` and `street_number` (the formatted `value` when there is no route). */
export function toAddress(address: PipedriveAddress | null | undefined): Address | undefined {
  if (address === null || address === undefined) return undefined;
  const code = countryCode(text(address.country));
  const route = text(address.route);
  const number = text(address.street_number);
  const street = route === undefined
    ? text(address.value)
    : [number !== undefined && NUMBER_FIRST.has(code ?? '') ? `${number} ${route}` : [route, number].filter(Boolean).join(' '), text(address.subpremise)]
        .filter(Boolean)
        .join(', ');
  const result = compact({ street, city: text(address.locality), postalCode: text(address.postal_code), countryCode: code });
  return Object.keys(result).length === 0 ? undefined : result;
}

function primary(points: readonly z.infer<typeof ContactPoint>[] | null | undefined): string | undefined {
  const list = (points ?? []).filter((point) => text(point.value) !== undefined);
  return text((list.find((point) => point.primary === true) ?? list[0])?.value);
}

/** A custom field value as text: plain text, a number, or the `value` of an object field. */
function fieldText(value: unknown): string | undefined {
  if (typeof value === 'string') return text(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'object' && value !== null && 'value' in value) return fieldText((value as { value: unknown }).value);
  return undefined;
}

/** An organization as the company buying. @param vatKey the organization custom field holding the VAT number */
export function organizationToParty(organization: PipedriveOrganization, vatKey?: string): Party {
  const name = text(organization.name);
  if (name === undefined) throw vendorDataError(`organization ${organization.id}.name: the organization has no name`);
  return compact({
    externalId: partyExternalId('organization', organization.id),
    kind: 'company' as const,
    name,
    vatNumber: vatKey === undefined ? undefined : fieldText(organization.custom_fields?.[vatKey]),
    address: toAddress(organization.address),
  });
}

/** A person: the contact of a deal, or its customer when no organization is linked. */
export function personToParty(person: PipedrivePerson): Party {
  const email = primary(person.emails);
  const fullName = [text(person.first_name), text(person.last_name)].filter(Boolean).join(' ');
  const name = text(person.name) ?? (fullName || email);
  if (name === undefined) throw vendorDataError(`person ${person.id}: the person has no name and no email`);
  return compact({
    externalId: partyExternalId('person', person.id),
    kind: 'person' as const,
    name,
    email,
    phone: primary(person.phones),
    address: toAddress(person.postal_address),
  });
}

/**
 * A deal product as a deal line, its SKU the product's `code`. A discount of type `amount`
 * is taken off the line (`sum = quantity × item_price − discount`) and so becomes the
 * percentage of the line it is.
 * @param index position on the deal, for error messages
 */
export function dealProductToLine(dealProduct: PipedriveDealProduct, product: PipedriveProduct | undefined, index: number): DealLine {
  const label = `products[${index}] (product ${dealProduct.product_id} "${dealProduct.name}")`;
  const sku = text(product?.code);
  if (sku === undefined) {
    throw vendorDataError(`${label}.code: the product has no code; give it the SKU the ERP knows it by`);
  }
  const discount = dealProduct.discount ?? 0;
  const gross = dealProduct.quantity * dealProduct.item_price;
  let discountPercent: number | undefined;
  if (discount > 0 && dealProduct.discount_type === 'amount') {
    if (gross <= 0 || discount > gross) throw vendorDataError(`${label}.discount: ${discount} is more than the line's ${gross}`);
    discountPercent = round((discount / gross) * 100, 6);
  } else if (discount > 0) {
    if (discount > 100) throw vendorDataError(`${label}.discount: ${discount}% is more than 100%`);
    discountPercent = discount;
  }
  return compact({ sku, name: text(dealProduct.name) ?? sku, quantity: dealProduct.quantity, unitPrice: dealProduct.item_price, discountPercent });
}

/** What `toDeal` puts together. */
export interface DealParts {
  readonly deal: PipedriveDeal;
  readonly lines: readonly DealLine[];
  readonly organization?: PipedriveOrganization | undefined;
  readonly person?: PipedrivePerson | undefined;
  /** The organization custom field holding the VAT number. */
  readonly vatKey?: string | undefined;
}

/** A deal with its organization (the customer when linked), person and lines. */
export function toDeal(parts: DealParts): Deal {
  const { deal } = parts;
  const contact = parts.person === undefined ? undefined : personToParty(parts.person);
  const customer = parts.organization === undefined ? contact : organizationToParty(parts.organization, parts.vatKey);
  if (customer === undefined) {
    throw vendorDataError(`deal ${deal.id}: the deal has neither an organization nor a person; link one in Pipedrive`);
  }
  return compact({
    id: String(deal.id),
    name: deal.title,
    stage: dealStage(deal),
    amount: deal.value,
    currency: deal.currency,
    closeDate: text(deal.close_time) ?? text(deal.expected_close_date),
    customer,
    contact,
    lines: parts.lines,
  });
}

/** The keys of the three deal custom fields Harmony writes. */
export interface SyncFieldKeys {
  readonly orderRef: string;
  readonly status: string;
  readonly syncError: string;
}

/**
 * `custom_fields` of the PATCH for a sync update. Status and error are always written (null
 * clears an old error), so a retried sync leaves no stale error; the order reference only
 * when known, so a later failure keeps it.
 */
export function toSyncCustomFields(update: DealSyncUpdate, keys: SyncFieldKeys): Record<string, string | null> {
  const fields: Record<string, string | null> = {
    [keys.status]: update.erpStatus,
    [keys.syncError]: update.syncError === undefined || update.syncError === '' ? null : update.syncError.slice(0, 65_000),
  };
  if (update.erpOrderRef !== undefined) fields[keys.orderRef] = update.erpOrderRef;
  return fields;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Drops undefined properties, so results compare cleanly and stay JSON-like. */
function compact<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
