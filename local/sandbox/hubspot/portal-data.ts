/**
 * The sandbox portal's data model and seed: object types, their property
 * definitions (HubSpot's defaults plus the custom properties Harmony needs), and a
 * small deterministic set of products, companies, contacts, deals and line items.
 */

/** CRM object types the sandbox serves, by the plural name in `/crm/v3/objects/{type}`. */
export type ObjectType = 'deals' | 'companies' | 'contacts' | 'line_items' | 'products';

/** Every served object type. */
export const OBJECT_TYPES: readonly ObjectType[] = ['deals', 'companies', 'contacts', 'line_items', 'products'];

/** A property's value type, as far as the sandbox validates writes. */
export type PropertyType = 'string' | 'number' | 'enumeration' | 'datetime';

/** One property of an object type. */
export interface PropertyDefinition {
  readonly type: PropertyType;
  /** Allowed values of an enumeration. */
  readonly options?: readonly string[];
  /** Set by HubSpot itself; a PATCH may not write it. */
  readonly readOnly?: boolean;
}

/** A link from one record to another, as `associations` lists it. */
export interface AssociationLink {
  readonly id: string;
  /** HubSpot's association type name, e.g. `deal_to_company` (primary) or `deal_to_company_unlabeled`. */
  readonly type: string;
}

/** One stored record. Property values are strings, as HubSpot returns them; unset ones are absent. */
export interface StoredRecord {
  readonly id: string;
  properties: Record<string, string>;
  readonly createdAt: string;
  updatedAt: string;
}

/** A seeded record with its links to other records, by target type, in order. */
export interface SeededRecord extends StoredRecord {
  associations: Partial<Record<ObjectType, AssociationLink[]>>;
}

/** The seeded records of the portal, by type and id. */
export type SeededObjects = Record<ObjectType, Record<string, SeededRecord>>;

/** The deal stages of the default pipeline. */
export const DEAL_STAGES = [
  'appointmentscheduled',
  'qualifiedtobuy',
  'presentationscheduled',
  'decisionmakerboughtin',
  'contractsent',
  'closedwon',
  'closedlost',
] as const;

const SYSTEM: Readonly<Record<string, PropertyDefinition>> = {
  hs_object_id: { type: 'number', readOnly: true },
  createdate: { type: 'datetime', readOnly: true },
  hs_lastmodifieddate: { type: 'datetime', readOnly: true },
};

/** Property definitions per type: HubSpot defaults the adapter uses plus Harmony's custom ones. */
export const PROPERTY_DEFINITIONS: Readonly<Record<ObjectType, Readonly<Record<string, PropertyDefinition>>>> = {
  deals: {
    ...SYSTEM,
    dealname: { type: 'string' },
    dealstage: { type: 'enumeration', options: DEAL_STAGES },
    pipeline: { type: 'enumeration', options: ['default'] },
    amount: { type: 'number' },
    deal_currency_code: { type: 'enumeration', options: ['EUR', 'USD', 'GBP', 'CHF'] },
    closedate: { type: 'datetime' },
    description: { type: 'string' },
    // Custom properties a portal admin creates for Harmony.
    erp_order_ref: { type: 'string' },
    erp_status: { type: 'enumeration', options: ['confirmed', 'shipped', 'invoiced', 'paid', 'cancelled', 'sync_failed'] },
    erp_sync_error: { type: 'string' },
  },
  companies: {
    ...SYSTEM,
    name: { type: 'string' },
    domain: { type: 'string' },
    phone: { type: 'string' },
    address: { type: 'string' },
    city: { type: 'string' },
    zip: { type: 'string' },
    country: { type: 'string' },
    // Custom property: HubSpot has no standard VAT field.
    vat_number: { type: 'string' },
  },
  contacts: {
    hs_object_id: { type: 'number', readOnly: true },
    createdate: { type: 'datetime', readOnly: true },
    lastmodifieddate: { type: 'datetime', readOnly: true },
    email: { type: 'string' },
    firstname: { type: 'string' },
    lastname: { type: 'string' },
    phone: { type: 'string' },
    address: { type: 'string' },
    city: { type: 'string' },
    zip: { type: 'string' },
    country: { type: 'string' },
  },
  line_items: {
    ...SYSTEM,
    name: { type: 'string' },
    quantity: { type: 'number' },
    price: { type: 'number' },
    amount: { type: 'number' },
    hs_sku: { type: 'string' },
    hs_product_id: { type: 'number' },
    hs_discount_percentage: { type: 'number' },
    discount: { type: 'number' },
  },
  products: {
    ...SYSTEM,
    name: { type: 'string' },
    description: { type: 'string' },
    price: { type: 'number' },
    hs_sku: { type: 'string' },
  },
};

/** Properties HubSpot returns when a read names none. */
export const DEFAULT_PROPERTIES: Readonly<Record<ObjectType, readonly string[]>> = {
  deals: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  line_items: ['amount', 'createdate', 'hs_lastmodifieddate', 'hs_object_id', 'hs_product_id', 'name', 'price', 'quantity'],
  products: ['createdate', 'description', 'hs_lastmodifieddate', 'hs_object_id', 'name', 'price'],
};

/** Properties HubSpot returns with every record, whatever was asked. */
export const ALWAYS_RETURNED: Readonly<Record<ObjectType, readonly string[]>> = {
  deals: ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  companies: ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  contacts: ['createdate', 'lastmodifieddate', 'hs_object_id'],
  line_items: ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  products: ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};

/** The property that records a type's last modification. */
export function lastModifiedProperty(type: ObjectType): string {
  return type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
}

/** The key under which `associations` lists records of a type (HubSpot writes "line items" with a space). */
export const ASSOCIATION_KEYS: Readonly<Record<ObjectType, string>> = {
  deals: 'deals',
  companies: 'companies',
  contacts: 'contacts',
  line_items: 'line items',
  products: 'products',
};

const SINGULAR: Readonly<Record<ObjectType, string>> = {
  deals: 'deal',
  companies: 'company',
  contacts: 'contact',
  line_items: 'line_item',
  products: 'product',
};

const TYPE_IDS: Readonly<Record<ObjectType, string>> = {
  contacts: '0-1',
  companies: '0-2',
  deals: '0-3',
  products: '0-7',
  line_items: '0-8',
};

/** HubSpot's object type id, e.g. `0-3` for deals. */
export function objectTypeId(type: ObjectType): string {
  return TYPE_IDS[type];
}

/** One of HubSpot's default (`HUBSPOT_DEFINED`) association types, in one direction. */
export interface AssociationKind {
  readonly from: ObjectType;
  readonly to: ObjectType;
  /** Type names written on the `from` record, as v3 reads list them; a primary label brings its unlabeled twin. */
  readonly forward: readonly string[];
  /** Type names written on the `to` record. */
  readonly backward: readonly string[];
  /** HubSpot's "Primary" company label: a deal or contact has at most one primary company. */
  readonly primaryCompany?: true;
}

function pair(
  from: ObjectType,
  to: ObjectType,
  forward: readonly string[],
  backward: readonly string[],
  primaryCompany = false,
): [AssociationKind, AssociationKind] {
  const flag = primaryCompany ? { primaryCompany: true as const } : {};
  return [
    { from, to, forward, backward, ...flag },
    { from: to, to: from, forward: backward, backward: forward, ...flag },
  ];
}

const [CONTACT_TO_PRIMARY_COMPANY, PRIMARY_COMPANY_TO_CONTACT] = pair(
  'contacts',
  'companies',
  ['contact_to_company', 'contact_to_company_unlabeled'],
  ['company_to_contact', 'company_to_contact_unlabeled'],
  true,
);
const [DEAL_TO_CONTACT, CONTACT_TO_DEAL] = pair('deals', 'contacts', ['deal_to_contact'], ['contact_to_deal']);
const [DEAL_TO_PRIMARY_COMPANY, PRIMARY_COMPANY_TO_DEAL] = pair(
  'deals',
  'companies',
  ['deal_to_company', 'deal_to_company_unlabeled'],
  ['company_to_deal', 'company_to_deal_unlabeled'],
  true,
);
const [DEAL_TO_LINE_ITEM, LINE_ITEM_TO_DEAL] = pair('deals', 'line_items', ['deal_to_line_item'], ['line_item_to_deal']);
const [CONTACT_TO_COMPANY, COMPANY_TO_CONTACT] = pair(
  'contacts',
  'companies',
  ['contact_to_company_unlabeled'],
  ['company_to_contact_unlabeled'],
);
const [DEAL_TO_COMPANY, COMPANY_TO_DEAL] = pair(
  'deals',
  'companies',
  ['deal_to_company_unlabeled'],
  ['company_to_deal_unlabeled'],
);

/**
 * HubSpot's default association type ids between the sandbox's object types, as
 * `@hubspot/api-client`'s `AssociationTypes` lists them (e.g. 5 deal → primary company,
 * 19 deal → line item, 20 line item → deal). The portal has no custom labels.
 */
export const HUBSPOT_DEFINED_ASSOCIATIONS: Readonly<Record<number, AssociationKind>> = {
  1: CONTACT_TO_PRIMARY_COMPANY,
  2: PRIMARY_COMPANY_TO_CONTACT,
  3: DEAL_TO_CONTACT,
  4: CONTACT_TO_DEAL,
  5: DEAL_TO_PRIMARY_COMPANY,
  6: PRIMARY_COMPANY_TO_DEAL,
  19: DEAL_TO_LINE_ITEM,
  20: LINE_ITEM_TO_DEAL,
  279: CONTACT_TO_COMPANY,
  280: COMPANY_TO_CONTACT,
  341: DEAL_TO_COMPANY,
  342: COMPANY_TO_DEAL,
};

/** Resolves an object type as HubSpot accepts it in paths and `associations`: plural, singular or `0-3`-style id. */
export function resolveObjectType(name: string): ObjectType | undefined {
  const key = name.trim().toLowerCase();
  return OBJECT_TYPES.find((type) => type === key || SINGULAR[type] === key || TYPE_IDS[type] === key);
}

/** The singular name of a type, e.g. `deal` (webhook subscription types use it). */
export function singularName(type: ObjectType): string {
  return SINGULAR[type];
}

const SEEDED_AT = '2026-01-05T09:00:00.000Z';

function record(type: ObjectType, id: string, properties: Record<string, string>): SeededRecord {
  return {
    id,
    properties: {
      ...properties,
      hs_object_id: id,
      createdate: SEEDED_AT,
      [lastModifiedProperty(type)]: SEEDED_AT,
    },
    createdAt: SEEDED_AT,
    updatedAt: SEEDED_AT,
    associations: {},
  };
}

function associate(objects: SeededObjects, from: [ObjectType, string], to: [ObjectType, string], typeId: number): void {
  const kind = HUBSPOT_DEFINED_ASSOCIATIONS[typeId]!;
  const source = objects[from[0]][from[1]]!;
  const target = objects[to[0]][to[1]]!;
  (source.associations[to[0]] ??= []).push(...kind.forward.map((type) => ({ id: to[1], type })));
  (target.associations[from[0]] ??= []).push(...kind.backward.map((type) => ({ id: from[1], type })));
}

interface SeedLine {
  readonly id: string;
  readonly productId: string;
  readonly quantity: number;
  readonly discountPercent?: number;
  /** A unit discount amount instead of a percentage. */
  readonly unitDiscount?: number;
}

const PRODUCTS = {
  '1001': { name: 'Widget', hs_sku: 'WIDGET-1', price: '25.00', description: 'Standard widget' },
  '1002': { name: 'Gadget', hs_sku: 'GADGET-2', price: '149.90', description: 'Gadget, boxed' },
  '1003': { name: 'Service hour', hs_sku: 'SERVICE-HOUR', price: '95.00', description: 'One hour of on-site service' },
} as const;

/**
 * Seeded ids: products 1001–1003, companies 2001–2002, contacts 3001–3003,
 * deals 4001–4003 (stage `appointmentscheduled`), line items 5001–5005.
 * Deal 4003 has a contact and no company (a private buyer).
 */
export const SEEDED_IDS = {
  products: ['1001', '1002', '1003'],
  companies: ['2001', '2002'],
  contacts: ['3001', '3002', '3003'],
  deals: ['4001', '4002', '4003'],
  lineItems: ['5001', '5002', '5003', '5004', '5005'],
} as const;

/** A fresh copy of the seeded portal. */
export function seedPortalObjects(): SeededObjects {
  const objects: SeededObjects = { deals: {}, companies: {}, contacts: {}, line_items: {}, products: {} };
  for (const [id, product] of Object.entries(PRODUCTS)) objects.products[id] = record('products', id, { ...product });

  objects.companies['2001'] = record('companies', '2001', {
    name: 'Acme Industrie GmbH',
    domain: 'acme.example',
    phone: '+49 30 1234567',
    address: 'Hauptstraße 1',
    city: 'Berlin',
    zip: '10115',
    country: 'Germany',
    vat_number: 'DE123456789',
  });
  objects.companies['2002'] = record('companies', '2002', {
    name: 'Globex SARL',
    domain: 'globex.example',
    phone: '+33 1 23 45 67 89',
    address: '12 Rue de Rivoli',
    city: 'Paris',
    zip: '75001',
    country: 'FR',
    vat_number: 'FR40303265045',
  });

  objects.contacts['3001'] = record('contacts', '3001', {
    email: 'anna.schmidt@acme.example',
    firstname: 'Anna',
    lastname: 'Schmidt',
    phone: '+49 30 1234568',
  });
  objects.contacts['3002'] = record('contacts', '3002', {
    email: 'jean.dupont@globex.example',
    firstname: 'Jean',
    lastname: 'Dupont',
  });
  objects.contacts['3003'] = record('contacts', '3003', {
    email: 'maria.rossi@example.com',
    firstname: 'Maria',
    lastname: 'Rossi',
    phone: '+39 02 555 0101',
    address: 'Via Roma 1',
    city: 'Milano',
    zip: '20121',
    country: 'Italy',
  });
  associate(objects, ['contacts', '3001'], ['companies', '2001'], 1);
  associate(objects, ['contacts', '3002'], ['companies', '2002'], 1);

  const deals: { id: string; name: string; company?: string; contact: string; closedate: string; lines: SeedLine[] }[] = [
    {
      id: '4001',
      name: 'Acme – widgets and installation',
      company: '2001',
      contact: '3001',
      closedate: '2026-03-31T00:00:00.000Z',
      lines: [
        { id: '5001', productId: '1001', quantity: 10 },
        { id: '5002', productId: '1003', quantity: 4, discountPercent: 10 },
      ],
    },
    {
      id: '4002',
      name: 'Globex – gadgets',
      company: '2002',
      contact: '3002',
      closedate: '2026-04-15T00:00:00.000Z',
      lines: [{ id: '5003', productId: '1002', quantity: 2 }],
    },
    {
      id: '4003',
      name: 'Maria Rossi – starter kit',
      contact: '3003',
      closedate: '2026-02-28T00:00:00.000Z',
      lines: [
        { id: '5004', productId: '1001', quantity: 1 },
        { id: '5005', productId: '1002', quantity: 1, unitDiscount: 14.99 },
      ],
    },
  ];
  for (const deal of deals) {
    let total = 0;
    objects.deals[deal.id] = record('deals', deal.id, {
      dealname: deal.name,
      dealstage: 'appointmentscheduled',
      pipeline: 'default',
      deal_currency_code: 'EUR',
      closedate: deal.closedate,
    });
    if (deal.company !== undefined) associate(objects, ['deals', deal.id], ['companies', deal.company], 5);
    associate(objects, ['deals', deal.id], ['contacts', deal.contact], 3);
    for (const line of deal.lines) {
      const product = PRODUCTS[line.productId as keyof typeof PRODUCTS];
      const price = Number(product.price);
      const unitNet = price * (1 - (line.discountPercent ?? 0) / 100) - (line.unitDiscount ?? 0);
      const amount = Math.round(unitNet * line.quantity * 100) / 100;
      total += amount;
      objects.line_items[line.id] = record('line_items', line.id, {
        name: product.name,
        hs_sku: product.hs_sku,
        hs_product_id: line.productId,
        quantity: String(line.quantity),
        price: product.price,
        amount: amount.toFixed(2),
        ...(line.discountPercent === undefined ? {} : { hs_discount_percentage: String(line.discountPercent) }),
        ...(line.unitDiscount === undefined ? {} : { discount: line.unitDiscount.toFixed(2) }),
      });
      associate(objects, ['deals', deal.id], ['line_items', line.id], 19);
    }
    objects.deals[deal.id]!.properties['amount'] = total.toFixed(2);
  }
  return objects;
}
