/**
 * The record API of the NetSuite sandbox for `customer` and `salesOrder`: GET (by internal id
 * or `eid:`, `expandSubResources`), POST (204 + `Location`), PATCH (204; sublist lines merged
 * by `line`). Field names are matched case-insensitively, as NetSuite's own examples mix
 * `isClosed` and `isclosed`; invalid values answer 400 `INVALID_CONTENT` with `o:errorPath`.
 *
 * Sales orders start Pending Approval (`orderStatus` A) unless created with B; approving is
 * a PATCH to B; closing every line leaves the order Closed (H). Amounts are computed here:
 * each line `round(quantity × rate, 2)` (rate defaults to the item's base price), tax per
 * line at SANDBOX_TAX_RATE rounded to cents, total = subtotal + tax. Order numbers run
 * `SO1001`, `SO1002`…
 */
import * as z from 'zod';
import { invalidContent, netsuiteError, nonexistentId, type SandboxAnswer } from './responses.ts';
import { FIRST_CREATED_ID, SANDBOX_SUBSIDIARY_ID } from './seed.ts';
import type { NetsuiteStore, StoredRecord } from './store.ts';

/** The sales tax rate the sandbox applies to every line. */
export const SANDBOX_TAX_RATE = 0.19;

/** Record types the record API serves, by the lower-case name NetSuite also accepts. */
const RECORD_TYPES: Readonly<Record<string, string>> = { customer: 'customer', salesorder: 'salesOrder' };

/** `orderStatus` letters and their labels. */
const ORDER_STATUS_LABELS: Readonly<Record<string, string>> = {
  A: 'Pending Approval',
  B: 'Pending Fulfillment',
  C: 'Cancelled',
  D: 'Partially Fulfilled',
  E: 'Pending Billing/Partially Fulfilled',
  F: 'Pending Billing',
  G: 'Billed',
  H: 'Closed',
};

/** What a record operation needs. */
export interface RecordContext {
  readonly store: NetsuiteStore;
  /** Scheme, host and port the caller used, for `links`. */
  readonly origin: string;
  readonly now: () => number;
}

/** The record type a URL segment names, e.g. `salesorder` → `salesOrder`; undefined when not served. */
export function recordType(segment: string): string | undefined {
  return RECORD_TYPES[segment.toLowerCase()];
}

/** A record reference in a request body: `{id}` (number or string). */
const Ref = z.object({ id: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).transform(Number) });
/** External ids as the REST guide allows them: letters, numbers, `_` and `-`. */
const ExternalId = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'an external ID can contain only letters, numbers, underscore (_) and hyphen (-)');
const OrderStatus = z.union([z.enum(['A', 'B']), z.object({ id: z.enum(['A', 'B']) }).transform((status) => status.id)]);

const CustomerInput = z.object({
  isperson: z.boolean().default(false),
  companyname: z.string().trim().min(1).max(83).optional(),
  firstname: z.string().trim().max(32).optional(),
  lastname: z.string().trim().min(1).max(32).optional(),
  email: z.string().max(254).optional(),
  phone: z.string().max(32).optional(),
  vatregnumber: z.string().max(40).optional(),
  externalid: ExternalId.optional(),
  subsidiary: Ref.optional(),
  addressbook: z
    .object({
      items: z.array(
        z.object({
          defaultbilling: z.boolean().optional(),
          defaultshipping: z.boolean().optional(),
          addressbookaddress: z.object({
            addr1: z.string().max(150).optional(),
            city: z.string().max(50).optional(),
            zip: z.string().max(36).optional(),
            country: z.union([z.string().regex(/^[A-Z]{2}$/), z.object({ id: z.string().regex(/^[A-Z]{2}$/) }).transform((country) => country.id)]).optional(),
          }),
        }),
      ),
    })
    .optional(),
});

const CustomerPatch = z.object({
  externalid: ExternalId.optional(),
  email: z.string().max(254).optional(),
  phone: z.string().max(32).optional(),
  companyname: z.string().trim().min(1).max(83).optional(),
  vatregnumber: z.string().max(40).optional(),
  isinactive: z.boolean().optional(),
});

const SalesOrderInput = z.object({
  entity: Ref,
  currency: Ref.optional(),
  subsidiary: Ref.optional(),
  externalid: ExternalId.optional(),
  otherrefnum: z.string().max(300).optional(),
  memo: z.string().max(999).optional(),
  orderstatus: OrderStatus.optional(),
  item: z.object({
    items: z
      .array(
        z.object({
          item: Ref,
          quantity: z.number().positive(),
          rate: z.number().nonnegative().optional(),
          description: z.string().max(4000).optional(),
        }),
      )
      .min(1, 'a sales order needs at least one item line'),
  }),
});

const SalesOrderPatch = z.object({
  orderstatus: OrderStatus.optional(),
  memo: z.string().max(999).optional(),
  otherrefnum: z.string().max(300).optional(),
  item: z.object({ items: z.array(z.object({ line: z.number().int().positive(), isclosed: z.boolean().optional() })) }).optional(),
});

/** One line of a stored sales order. */
interface OrderLine {
  readonly line: number;
  readonly item: number;
  readonly description: string;
  readonly quantity: number;
  readonly rate: number;
  readonly amount: number;
  readonly taxAmount: number;
  readonly isClosed: boolean;
}

const cents = (value: number): number => Math.round(value * 100 + Number.EPSILON * 100) / 100;

/** A body with every object key in lower case, so `isClosed` and `isclosed` read alike. */
function lowerKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, member]) => [key.toLowerCase(), lowerKeys(member)]));
}

/** Parses a body, or the 400 NetSuite gives for its first invalid value. */
function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): { value: z.infer<Schema> } | { error: SandboxAnswer } {
  const parsed = schema.safeParse(lowerKeys(body ?? {}));
  if (parsed.success) return { value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const path = issue.path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`), '');
  return { error: invalidContent(`Invalid Field Value for the following field: ${path} (${issue.message})`, path) };
}

function isoMinutes(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16)}:00Z`;
}

function link(origin: string, path: string): { links: { rel: string; href: string }[] } {
  return { links: [{ rel: 'self', href: `${origin}/services/rest/record/v1/${path}` }] };
}

/** Finds a record by `<internal id>` or `eid:<external id>`. */
function lookup(store: NetsuiteStore, type: string, key: string): StoredRecord | undefined {
  if (/^\d{1,15}$/.test(key)) return store.find(type, Number(key));
  const external = /^eid:(.+)$/i.exec(key);
  return external === null ? undefined : store.findByExternalId(type, external[1]!);
}

/** The 400 for an external id another record of the type holds (sandbox wording; NetSuite documents no REST body for it). */
function externalIdTaken(store: NetsuiteStore, type: string, externalId: string | undefined, ownId?: number): SandboxAnswer | undefined {
  if (externalId === undefined) return undefined;
  const holder = store.findByExternalId(type, externalId);
  if (holder === undefined || holder.id === ownId) return undefined;
  return netsuiteError(400, 'DUP_RCRD', 'Error while accessing resource: A record with this external ID already exists.', { path: 'externalId' });
}

function displayName(customer: StoredRecord): string {
  return customer.isPerson === true ? `${String(customer.firstName ?? '')} ${String(customer.lastName ?? '')}`.trim() : String(customer.companyName ?? '');
}

function renderCustomer(context: RecordContext, customer: StoredRecord): Record<string, unknown> {
  const omitEmpty = (name: string): Record<string, unknown> => (customer[name] === undefined ? {} : { [name]: customer[name] });
  return {
    ...link(context.origin, `customer/${customer.id}`),
    addressBook: link(context.origin, `customer/${customer.id}/addressBook`),
    ...omitEmpty('companyName'),
    dateCreated: customer.dateCreated,
    ...omitEmpty('email'),
    entityId: customer.entityId,
    ...omitEmpty('externalId'),
    ...omitEmpty('firstName'),
    id: String(customer.id),
    isInactive: customer.isInactive,
    isPerson: customer.isPerson,
    ...omitEmpty('lastName'),
    ...omitEmpty('phone'),
    ...(customer.subsidiary === undefined
      ? {}
      : { subsidiary: { ...link(context.origin, `subsidiary/${String(customer.subsidiary)}`), id: String(customer.subsidiary), refName: 'Harmony Sandbox Inc.' } }),
    ...omitEmpty('vatRegNumber'),
  };
}

function renderSalesOrder(context: RecordContext, order: StoredRecord, expand: boolean): Record<string, unknown> {
  const { store, origin } = context;
  const customer = store.find('customer', Number(order.entity));
  const currency = store.find('currency', Number(order.currency));
  const lines = order.lines as OrderLine[];
  const status = String(order.orderStatus);
  const itemPath = `salesOrder/${order.id}/item`;
  return {
    ...link(origin, `salesOrder/${order.id}`),
    createdDate: order.createdDate,
    currency: { ...link(origin, `currency/${String(order.currency)}`), id: String(order.currency), refName: String(currency?.name ?? '') },
    entity: { ...link(origin, `customer/${String(order.entity)}`), id: String(order.entity), refName: customer === undefined ? '' : displayName(customer) },
    ...(order.externalId === undefined ? {} : { externalId: order.externalId }),
    id: String(order.id),
    item: expand
      ? {
          ...link(origin, itemPath),
          items: lines.map((line) => {
            const item = store.find('item', line.item);
            return {
              ...link(origin, `${itemPath}/${line.line}`),
              amount: line.amount,
              description: line.description,
              isClosed: line.isClosed,
              item: { ...link(origin, `inventoryItem/${line.item}`), id: String(line.item), refName: String(item?.itemId ?? '') },
              line: line.line,
              quantity: line.quantity,
              rate: line.rate,
              taxAmount: line.taxAmount,
            };
          }),
          totalResults: lines.length,
        }
      : link(origin, itemPath),
    lastModifiedDate: order.lastModifiedDate,
    ...(order.memo === undefined ? {} : { memo: order.memo }),
    // NetSuite answers the letter as both id and refName (as recorded from a live account).
    orderStatus: { id: status, refName: status },
    ...(order.otherRefNum === undefined ? {} : { otherRefNum: order.otherRefNum }),
    status: { id: ORDER_STATUS_LABELS[status] ?? status, refName: ORDER_STATUS_LABELS[status] ?? status },
    ...(order.subsidiary === undefined ? {} : { subsidiary: { ...link(origin, `subsidiary/${String(order.subsidiary)}`), id: String(order.subsidiary), refName: 'Harmony Sandbox Inc.' } }),
    subtotal: order.subtotal,
    taxTotal: order.taxTotal,
    total: order.total,
    tranDate: order.tranDate,
    tranId: order.tranId,
  };
}

/** `GET /record/v1/{type}/{key}`. */
export function getRecord(context: RecordContext, type: string, key: string, query: URLSearchParams): SandboxAnswer {
  const record = lookup(context.store, type, key);
  if (record === undefined) return nonexistentId();
  const body = type === 'customer' ? renderCustomer(context, record) : renderSalesOrder(context, record, query.get('expandSubResources') === 'true');
  return { status: 200, body };
}

/** `POST /record/v1/{type}`: stores the record and answers 204 with its `Location`. */
export function createRecord(context: RecordContext, type: string, body: unknown): SandboxAnswer {
  const outcome = type === 'customer' ? newCustomer(context, body) : newSalesOrder(context, body);
  if ('error' in outcome) return outcome.error;
  context.store.put(type, outcome.record);
  return { status: 204, headers: { location: `${context.origin}/services/rest/record/v1/${type}/${outcome.record.id}` } };
}

/** `PATCH /record/v1/{type}/{key}`: changes the fields given (lines by `line`) and answers 204. */
export function patchRecord(context: RecordContext, type: string, key: string, body: unknown): SandboxAnswer {
  const record = lookup(context.store, type, key);
  if (record === undefined) return nonexistentId();
  const outcome = type === 'customer' ? changedCustomer(context, record, body) : changedSalesOrder(context, record, body);
  if ('error' in outcome) return outcome.error;
  context.store.put(type, outcome.record);
  return { status: 204 };
}

type Outcome = { readonly record: StoredRecord } | { readonly error: SandboxAnswer };

function newCustomer(context: RecordContext, body: unknown): Outcome {
  const parsed = parseBody(CustomerInput, body);
  if ('error' in parsed) return parsed;
  const input = parsed.value;
  if (!input.isperson && input.companyname === undefined) return { error: invalidContent('Please enter value(s) for: Company Name', 'companyName') };
  if (input.isperson && input.lastname === undefined) return { error: invalidContent('Please enter value(s) for: Last Name', 'lastName') };
  if (input.subsidiary !== undefined && context.store.find('subsidiary', input.subsidiary.id) === undefined) {
    return { error: invalidContent(`You have entered an Invalid Field Value ${input.subsidiary.id} for the following field: subsidiary`, 'subsidiary') };
  }
  const taken = externalIdTaken(context.store, 'customer', input.externalid);
  if (taken !== undefined) return { error: taken };
  const id = context.store.next('record', FIRST_CREATED_ID);
  const record: StoredRecord = {
    id,
    entityId: `CUST${id}`,
    isPerson: input.isperson,
    ...(input.isperson ? { firstName: input.firstname ?? '', lastName: input.lastname } : { companyName: input.companyname }),
    ...(input.email === undefined ? {} : { email: input.email }),
    ...(input.phone === undefined ? {} : { phone: input.phone }),
    ...(input.vatregnumber === undefined ? {} : { vatRegNumber: input.vatregnumber }),
    ...(input.externalid === undefined ? {} : { externalId: input.externalid }),
    subsidiary: input.subsidiary?.id ?? SANDBOX_SUBSIDIARY_ID,
    isInactive: false,
    addressBook: (input.addressbook?.items ?? []).map((entry) => ({
      ...entry.addressbookaddress,
      defaultBilling: entry.defaultbilling ?? false,
      defaultShipping: entry.defaultshipping ?? false,
    })),
    dateCreated: isoMinutes(context.now()),
  };
  return { record };
}

function changedCustomer(context: RecordContext, customer: StoredRecord, body: unknown): Outcome {
  const parsed = parseBody(CustomerPatch, body);
  if ('error' in parsed) return parsed;
  const input = parsed.value;
  const taken = externalIdTaken(context.store, 'customer', input.externalid, customer.id);
  if (taken !== undefined) return { error: taken };
  return {
    record: {
      ...customer,
      ...(input.externalid === undefined ? {} : { externalId: input.externalid }),
      ...(input.email === undefined ? {} : { email: input.email }),
      ...(input.phone === undefined ? {} : { phone: input.phone }),
      ...(input.companyname === undefined ? {} : { companyName: input.companyname }),
      ...(input.vatregnumber === undefined ? {} : { vatRegNumber: input.vatregnumber }),
      ...(input.isinactive === undefined ? {} : { isInactive: input.isinactive }),
    },
  };
}

function newSalesOrder(context: RecordContext, body: unknown): Outcome {
  const { store } = context;
  const parsed = parseBody(SalesOrderInput, body);
  if ('error' in parsed) return parsed;
  const input = parsed.value;
  const customer = store.find('customer', input.entity.id);
  if (customer === undefined || customer.isInactive === true) {
    return { error: invalidContent(`You have entered an Invalid Field Value ${input.entity.id} for the following field: entity`, 'entity') };
  }
  const currencyId = input.currency?.id ?? 1;
  const currency = store.find('currency', currencyId);
  if (currency === undefined || currency.isInactive === true) {
    return { error: invalidContent(`You have entered an Invalid Field Value ${currencyId} for the following field: currency`, 'currency') };
  }
  const lines: OrderLine[] = [];
  for (const [index, line] of input.item.items.entries()) {
    const item = store.find('item', line.item.id);
    if (item === undefined || item.isInactive === true) {
      return { error: invalidContent(`You have entered an Invalid Field Value ${line.item.id} for the following field: item`, `item.items[${index}].item`) };
    }
    const rate = line.rate ?? Number(item.basePrice);
    const amount = cents(line.quantity * rate);
    lines.push({ line: index + 1, item: item.id, description: line.description ?? String(item.displayName), quantity: line.quantity, rate, amount, taxAmount: cents(amount * SANDBOX_TAX_RATE), isClosed: false });
  }
  const taken = externalIdTaken(store, 'salesOrder', input.externalid);
  if (taken !== undefined) return { error: taken };
  const now = context.now();
  const subtotal = cents(lines.reduce((sum, line) => sum + line.amount, 0));
  const taxTotal = cents(lines.reduce((sum, line) => sum + line.taxAmount, 0));
  const record: StoredRecord = {
    id: store.next('record', FIRST_CREATED_ID),
    tranId: `SO${store.next('tranId', 1001)}`,
    tranDate: new Date(now).toISOString().slice(0, 10),
    createdDate: isoMinutes(now),
    lastModifiedDate: isoMinutes(now),
    entity: customer.id,
    currency: currencyId,
    subsidiary: input.subsidiary?.id ?? customer.subsidiary,
    ...(input.externalid === undefined ? {} : { externalId: input.externalid }),
    ...(input.otherrefnum === undefined ? {} : { otherRefNum: input.otherrefnum }),
    ...(input.memo === undefined ? {} : { memo: input.memo }),
    orderStatus: input.orderstatus ?? 'A',
    lines,
    subtotal,
    taxTotal,
    total: cents(subtotal + taxTotal),
  };
  return { record };
}

function changedSalesOrder(context: RecordContext, order: StoredRecord, body: unknown): Outcome {
  const parsed = parseBody(SalesOrderPatch, body);
  if ('error' in parsed) return parsed;
  const input = parsed.value;
  const current = String(order.orderStatus);
  if (input.orderstatus !== undefined && input.orderstatus !== current && current !== 'A' && current !== 'B') {
    return { error: invalidContent(`You cannot change the approval status of an order that is ${ORDER_STATUS_LABELS[current] ?? current}`, 'orderStatus') };
  }
  let lines = order.lines as OrderLine[];
  for (const [index, change] of (input.item?.items ?? []).entries()) {
    if (!lines.some((line) => line.line === change.line)) {
      return { error: invalidContent(`You have entered an Invalid Field Value ${change.line} for the following field: line`, `item.items[${index}].line`) };
    }
    if (change.isclosed !== undefined) lines = lines.map((line) => (line.line === change.line ? { ...line, isClosed: change.isclosed! } : line));
  }
  const allClosed = lines.length > 0 && lines.every((line) => line.isClosed);
  const status = allClosed ? 'H' : current === 'H' ? 'B' : (input.orderstatus ?? current);
  return {
    record: {
      ...order,
      ...(input.memo === undefined ? {} : { memo: input.memo }),
      ...(input.otherrefnum === undefined ? {} : { otherRefNum: input.otherrefnum }),
      lines,
      orderStatus: status,
      lastModifiedDate: isoMinutes(context.now()),
    },
  };
}
