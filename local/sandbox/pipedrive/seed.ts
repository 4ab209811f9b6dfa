/**
 * What a fresh Pipedrive sandbox company holds: the five products Harmony's demos and tests
 * sell (code = SKU; names and EUR prices as the Odoo sandbox has them) and one without a
 * code, EUR and USD, one pipeline with five stages, two organizations with their people and a
 * private buyer, and the deal and organization fields, among them the three text fields
 * Harmony writes and a `VAT number` organization field, keyed by 40-character hashes.
 */
import { createHash } from 'node:crypto';
import type { PipedriveStore, RecordType } from './store.ts';

/** The company id webhooks carry in `meta.company_id`. */
export const SANDBOX_COMPANY_ID = 13_011_977;
/** The one user: owner of everything, and the user webhooks name. */
export const SANDBOX_USER_ID = 21_440_810;
/** The one pipeline and its stage ids. */
export const SANDBOX_PIPELINE_ID = 1;
export const SANDBOX_STAGE_IDS: readonly number[] = [1, 2, 3, 4, 5];
/** Currencies deals may be in. */
export const SANDBOX_CURRENCIES: readonly string[] = ['EUR', 'USD'];
/** Codes (SKUs) of the seeded products. */
export const SEEDED_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;

/** The names of the custom fields the sandbox has, as Harmony's defaults name them. */
export const SANDBOX_FIELD_NAMES = {
  orderRef: 'Harmony ERP order',
  status: 'Harmony ERP status',
  syncError: 'Harmony sync error',
  vatNumber: 'VAT number',
} as const;

/** A custom field key as Pipedrive makes them: 40 hex characters (stable here, so restarts and tests agree). */
export function customFieldKey(entity: string, name: string): string {
  return createHash('sha1').update(`harmony-sandbox/${entity}/${name}`).digest('hex');
}

/** The seed's fixed clock, so every fresh sandbox starts alike. */
const SEEDED_AT = '2026-01-05T09:00:00Z';

/** An instant as Pipedrive v2 writes it: RFC 3339, whole seconds, `Z`. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A Pipedrive address object (`address`, `postal_address`). */
export interface AddressRecord {
  readonly value: string | null;
  readonly country: string | null;
  readonly admin_area_level_1: string | null;
  readonly admin_area_level_2: string | null;
  readonly locality: string | null;
  readonly sublocality: string | null;
  readonly route: string | null;
  readonly street_number: string | null;
  readonly subpremise: string | null;
  readonly postal_code: string | null;
}

/** The parts of an address the sandbox is given; the rest is null, `value` composed when absent. */
export type AddressInput = Partial<AddressRecord>;

/** A full address record from its parts. */
export function addressRecord(input: AddressInput): AddressRecord {
  const composed = [[input.route, input.street_number].filter(Boolean).join(' '), [input.postal_code, input.locality].filter(Boolean).join(' '), input.country]
    .filter((part) => part !== undefined && part !== null && part !== '')
    .join(', ');
  return {
    value: input.value ?? (composed === '' ? null : composed),
    country: input.country ?? null,
    admin_area_level_1: input.admin_area_level_1 ?? null,
    admin_area_level_2: input.admin_area_level_2 ?? null,
    locality: input.locality ?? null,
    sublocality: input.sublocality ?? null,
    route: input.route ?? null,
    street_number: input.street_number ?? null,
    subpremise: input.subpremise ?? null,
    postal_code: input.postal_code ?? null,
  };
}

/** A v1 field (`GET /v1/dealFields` item). */
function field(id: number, key: string, name: string, fieldType: string, custom: boolean, orderNr: number) {
  return {
    id,
    key,
    name,
    order_nr: orderNr,
    field_type: fieldType,
    add_time: '2026-01-05 09:00:00',
    update_time: '2026-01-05 09:00:00',
    last_updated_by_user_id: SANDBOX_USER_ID,
    created_by_user_id: SANDBOX_USER_ID,
    active_flag: true,
    edit_flag: custom,
    index_visible_flag: true,
    details_visible_flag: true,
    add_visible_flag: !custom,
    important_flag: false,
    bulk_edit_allowed: true,
    searchable_flag: false,
    filtering_allowed: true,
    sortable_flag: true,
    options: null,
    mandatory_flag: key === 'title' || key === 'name',
  };
}

/** Deal fields: the standard ones the sandbox models, then Harmony's three text fields. */
function dealFields() {
  const standard: [string, string, string][] = [
    ['title', 'Title', 'varchar'],
    ['value', 'Value', 'monetary'],
    ['currency', 'Currency', 'varchar_options'],
    ['status', 'Status', 'status'],
    ['stage_id', 'Stage', 'stage'],
    ['pipeline_id', 'Pipeline', 'double'],
    ['org_id', 'Organization', 'org'],
    ['person_id', 'Contact person', 'people'],
    ['expected_close_date', 'Expected close date', 'date'],
  ];
  const custom: [string, string][] = [
    [SANDBOX_FIELD_NAMES.orderRef, 'varchar'],
    [SANDBOX_FIELD_NAMES.status, 'varchar'],
    [SANDBOX_FIELD_NAMES.syncError, 'text'],
  ];
  return [
    ...standard.map(([key, name, type], index) => field(index + 1, key, name, type, false, index + 1)),
    ...custom.map(([name, type], index) => field(standard.length + index + 1, customFieldKey('deal', name), name, type, true, standard.length + index + 1)),
  ];
}

function organizationFields() {
  return [
    field(1, 'name', 'Name', 'varchar', false, 1),
    field(2, 'address', 'Address', 'address', false, 2),
    field(3, customFieldKey('organization', SANDBOX_FIELD_NAMES.vatNumber), SANDBOX_FIELD_NAMES.vatNumber, 'varchar', true, 3),
  ];
}

/** A v2 product. */
export function productRecord(id: number, name: string, code: string | null, prices: Readonly<Record<string, number>>) {
  return {
    id,
    name,
    code,
    description: null,
    unit: '',
    tax: 0,
    category: null,
    is_linkable: true,
    is_deleted: false,
    visible_to: 3,
    owner_id: SANDBOX_USER_ID,
    add_time: SEEDED_AT,
    update_time: SEEDED_AT,
    billing_frequency: 'one-time',
    billing_frequency_cycles: null,
    prices: Object.entries(prices).map(([currency, price]) => ({ product_id: id, price, currency, cost: 0, direct_cost: 0, notes: '' })),
    custom_fields: {},
  };
}

/** The shape of a stored v2 product. */
export type ProductRecord = ReturnType<typeof productRecord>;

/** A v2 organization; `vatNumber` goes into the `VAT number` custom field. */
export function organizationRecord(id: number, name: string, address: AddressInput | undefined, vatNumber: string | undefined, at: string) {
  return {
    id,
    name,
    owner_id: SANDBOX_USER_ID,
    add_time: at,
    update_time: at,
    address: address === undefined ? null : addressRecord(address),
    is_deleted: false,
    visible_to: 3,
    label_ids: [] as number[],
    custom_fields: { [customFieldKey('organization', SANDBOX_FIELD_NAMES.vatNumber)]: vatNumber ?? null },
  };
}

/** A v2 person. */
export function personRecord(
  id: number,
  input: { readonly name: string; readonly email?: string | undefined; readonly phone?: string | undefined; readonly orgId?: number | undefined; readonly postalAddress?: AddressInput | undefined },
  at: string,
) {
  const [first, ...rest] = input.name.split(' ');
  return {
    id,
    name: input.name,
    first_name: first ?? input.name,
    last_name: rest.length === 0 ? null : rest.join(' '),
    owner_id: SANDBOX_USER_ID,
    org_id: input.orgId ?? null,
    add_time: at,
    update_time: at,
    emails: input.email === undefined ? [] : [{ value: input.email, primary: true, label: 'work' }],
    phones: input.phone === undefined ? [] : [{ value: input.phone, primary: true, label: 'work' }],
    is_deleted: false,
    visible_to: 3,
    label_ids: [] as number[],
    picture_id: null,
    custom_fields: {},
    notes: null,
    im: [] as unknown[],
    birthday: null,
    job_title: null,
    postal_address: input.postalAddress === undefined ? null : addressRecord(input.postalAddress),
  };
}

/** Fills an empty store. */
export function seedCompany(store: PipedriveStore): void {
  const put = (type: RecordType, records: readonly { readonly id: number }[]) => {
    for (const record of records) store.put(type, record);
    store.setCounter(`next_${type}`, records.length + 1);
  };
  put('deal_field', dealFields());
  put('organization_field', organizationFields());
  put('product', [
    productRecord(1, 'Widget', 'WIDGET-1', { EUR: 25, USD: 27 }),
    productRecord(2, 'Gadget', 'GADGET-2', { EUR: 120, USD: 130 }),
    productRecord(3, 'Consulting Hour', 'SERVICE-HOUR', { EUR: 95, USD: 105 }),
    productRecord(4, 'USB-C Cable', 'CABLE-3', { EUR: 4.5, USD: 4.9 }),
    productRecord(5, 'Docking Station', 'DOCK-4', { EUR: 189, USD: 205 }),
    productRecord(6, 'Custom engraving', null, { EUR: 15, USD: 16 }),
  ]);
  put('organization', [
    organizationRecord(1, 'Azure Interior', { route: 'Rue de la Loi', street_number: '16', postal_code: '1000', locality: 'Brussels', country: 'Belgium' }, 'BE0477472701', SEEDED_AT),
    organizationRecord(2, 'Deco Addict', { route: 'Keizersgracht', street_number: '100', postal_code: '1015 CX', locality: 'Amsterdam', country: 'Netherlands' }, 'NL123456789B01', SEEDED_AT),
  ]);
  put('person', [
    personRecord(1, { name: 'Brandon Freeman', email: 'brandon.freeman@azure-interior.example', phone: '+32 2 555 01 02', orgId: 1 }, SEEDED_AT),
    personRecord(2, { name: 'Addison Olson', email: 'addison.olson@deco-addict.example', orgId: 2 }, SEEDED_AT),
    personRecord(3, { name: 'Ana Example', email: 'ana@example.com', postalAddress: { route: 'Invalidenstraße', street_number: '1', postal_code: '10115', locality: 'Berlin', country: 'Germany' } }, SEEDED_AT),
  ]);
  store.setCounter('next_deal', 1);
  store.setCounter('next_deal_product', 1);
  store.setCounter('seeded', 1);
}
