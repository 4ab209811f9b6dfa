/**
 * Deals in the sandbox: the v2 deal and deal product records, `PATCH /api/v2/deals/{id}` with
 * v2's strict input validation (unknown fields, wrong types and unknown custom field keys are
 * a 400), and `POST /__sandbox/deals`, which creates a deal with its organization, person and
 * products in one go. Each change that happens yields the webhooks v2 body announcing it:
 * `data` the deal as it now is, `previous` only the fields that changed (null on create).
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { notFound, ok, pipedriveError, type SandboxAnswer } from './responses.ts';
import {
  organizationRecord,
  personRecord,
  rfc3339,
  SANDBOX_COMPANY_ID,
  SANDBOX_CURRENCIES,
  SANDBOX_PIPELINE_ID,
  SANDBOX_STAGE_IDS,
  SANDBOX_USER_ID,
  type ProductRecord,
} from './seed.ts';
import type { PipedriveStore, WebhookBody } from './store.ts';

/** The host webhooks name in `meta.host`. */
const SANDBOX_HOST = 'harmony-sandbox.pipedrive.com';
/** The id of the sandbox's one webhook (`event_object: deal`, `event_action: *`). */
const WEBHOOK_ID = 1;
/** Pipedrive's limit on a single-line text field. */
const VARCHAR_LIMIT = 255;

type DealStatus = 'open' | 'won' | 'lost';

/** A stored v2 deal. */
export type DealRecord = ReturnType<typeof dealRecord>;

interface FieldRecord {
  readonly key: string;
  readonly field_type: string;
  readonly edit_flag: boolean;
}

/** What a request that changes deals did: its answer, and the webhooks to queue with it. */
export interface DealOutcome {
  readonly answer: SandboxAnswer;
  readonly events: readonly WebhookBody[];
}

function customFieldKeys(store: PipedriveStore): FieldRecord[] {
  return store.list<FieldRecord>('deal_field', 0, 1000).filter((field) => field.edit_flag);
}

/** The status times Pipedrive sets with a status. */
function statusTimes(status: DealStatus, now: number) {
  const at = rfc3339(now);
  const date = at.slice(0, 10);
  return {
    close_time: status === 'open' ? null : at,
    won_time: status === 'won' ? at : null,
    lost_time: status === 'lost' ? at : null,
    local_won_date: status === 'won' ? date : null,
    local_lost_date: status === 'lost' ? date : null,
    local_close_date: status === 'open' ? null : date,
  };
}

/** A v2 deal with every custom field present (null when empty), as Pipedrive returns them. */
function dealRecord(
  store: PipedriveStore,
  id: number,
  input: { title: string; value: number; currency: string; status: DealStatus; stageId: number; orgId: number | null; personId: number | null },
  now: number,
) {
  const at = rfc3339(now);
  return {
    id,
    title: input.title,
    creator_user_id: SANDBOX_USER_ID,
    owner_id: SANDBOX_USER_ID,
    value: input.value,
    person_id: input.personId,
    org_id: input.orgId,
    stage_id: input.stageId,
    pipeline_id: SANDBOX_PIPELINE_ID,
    currency: input.currency,
    archive_time: null,
    add_time: at,
    update_time: at,
    stage_change_time: null as string | null,
    status: input.status as string,
    is_archived: false,
    is_deleted: false,
    probability: null,
    lost_reason: null,
    visible_to: 3,
    ...statusTimes(input.status, now),
    expected_close_date: null as string | null,
    label_ids: [] as number[],
    origin: 'API',
    origin_id: null,
    channel: null,
    channel_id: null,
    acv: null,
    arr: null,
    mrr: null,
    custom_fields: Object.fromEntries(customFieldKeys(store).map((field) => [field.key, null])) as Record<string, unknown>,
  };
}

/** `sum` of a deal product: the line less its discount (a percentage, or an amount off the line). */
function lineSum(quantity: number, itemPrice: number, discount: number, discountType: 'percentage' | 'amount'): number {
  const gross = quantity * itemPrice;
  const net = discountType === 'amount' ? gross - discount : gross * (1 - discount / 100);
  return Math.round(net * 100) / 100;
}

/** The webhooks v2 body of one change to a deal. */
export function dealWebhook(action: 'create' | 'change', deal: DealRecord, previous: Record<string, unknown> | null, now: number): WebhookBody {
  return {
    meta: {
      action,
      entity: 'deal',
      company_id: String(SANDBOX_COMPANY_ID),
      correlation_id: randomUUID(),
      entity_id: String(deal.id),
      id: randomUUID(),
      is_bulk_edit: false,
      timestamp: new Date(now).toISOString(),
      type: 'general',
      user_id: String(SANDBOX_USER_ID),
      version: '2.0',
      webhook_id: String(WEBHOOK_ID),
      webhook_owner_id: String(SANDBOX_USER_ID),
      change_source: 'api',
      host: SANDBOX_HOST,
      permitted_user_ids: [String(SANDBOX_USER_ID)],
    },
    data: deal,
    previous,
  };
}

const Id = z.number().int().positive();

/** The PATCH body fields the sandbox models; anything else is refused, as v2 refuses what it does not know. */
const DealPatch = z.strictObject({
  title: z.string().trim().min(1).optional(),
  value: z.number().nonnegative().optional(),
  currency: z.string().optional(),
  status: z.enum(['open', 'won', 'lost']).optional(),
  stage_id: Id.optional(),
  org_id: Id.nullable().optional(),
  person_id: Id.nullable().optional(),
  expected_close_date: z.iso.date().nullable().optional(),
  custom_fields: z.record(z.string(), z.unknown()).optional(),
});

function validationError(issues: readonly z.core.$ZodIssue[]): SandboxAnswer {
  const issue = issues[0]!;
  const path = issue.path.map(String).join('.');
  return pipedriveError(400, `Validation failed: ${path === '' ? 'body' : path}: ${issue.message}`);
}

/** What the body refers to that must exist: currency, stage, organization, person. */
function checkReferences(store: PipedriveStore, patch: z.infer<typeof DealPatch>): SandboxAnswer | undefined {
  if (patch.currency !== undefined && !SANDBOX_CURRENCIES.includes(patch.currency)) return pipedriveError(400, `Currency '${patch.currency}' is not supported`);
  if (patch.stage_id !== undefined && !SANDBOX_STAGE_IDS.includes(patch.stage_id)) return pipedriveError(400, `Stage with id ${patch.stage_id} does not exist`);
  if (patch.org_id !== undefined && patch.org_id !== null && store.get('organization', patch.org_id) === undefined) return pipedriveError(400, `Organization with id ${patch.org_id} does not exist`);
  if (patch.person_id !== undefined && patch.person_id !== null && store.get('person', patch.person_id) === undefined) return pipedriveError(400, `Person with id ${patch.person_id} does not exist`);
  return undefined;
}

/** Custom field values: known keys only; text fields take a string (single-line ones up to 255 characters) or null. */
function checkCustomFields(store: PipedriveStore, values: Readonly<Record<string, unknown>>): SandboxAnswer | undefined {
  const fields = new Map(customFieldKeys(store).map((field) => [field.key, field]));
  for (const [key, value] of Object.entries(values)) {
    const field = fields.get(key);
    if (field === undefined) return pipedriveError(400, `Validation failed: custom_fields: Custom field with key '${key}' does not exist`);
    if (value !== null && typeof value !== 'string') return pipedriveError(400, `Validation failed: custom_fields.${key}: must be a string or null`);
    if (field.field_type === 'varchar' && typeof value === 'string' && value.length > VARCHAR_LIMIT) {
      return pipedriveError(400, `Validation failed: custom_fields.${key}: must be at most ${VARCHAR_LIMIT} characters`);
    }
  }
  return undefined;
}

/** `PATCH /api/v2/deals/{id}`: applies what changed; a change yields one `change` webhook. */
export function patchDeal(store: PipedriveStore, dealId: number, body: unknown, now: number): DealOutcome {
  const deal = store.get<DealRecord>('deal', dealId);
  if (deal === undefined || deal.is_deleted) return { answer: notFound(), events: [] };
  const parsed = DealPatch.safeParse(body);
  if (!parsed.success) return { answer: validationError(parsed.error.issues), events: [] };
  const patch = parsed.data;
  const refused = checkReferences(store, patch) ?? checkCustomFields(store, patch.custom_fields ?? {});
  if (refused !== undefined) return { answer: refused, events: [] };

  const previous: Record<string, unknown> = {};
  const next: Record<string, unknown> = { ...deal, custom_fields: { ...deal.custom_fields } };
  const set = (name: string, value: unknown) => {
    if (next[name] === value) return;
    previous[name] = next[name];
    next[name] = value;
  };
  const { custom_fields: customFields, status, ...plain } = patch;
  for (const [name, value] of Object.entries(plain)) if (value !== undefined) set(name, value);
  if (status !== undefined && status !== deal.status) {
    set('status', status);
    for (const [name, value] of Object.entries(statusTimes(status, now))) set(name, value);
  }
  if (patch.stage_id !== undefined && patch.stage_id !== deal.stage_id) set('stage_change_time', rfc3339(now));
  const previousCustom: Record<string, unknown> = {};
  const nextCustom = next.custom_fields as Record<string, unknown>;
  for (const [key, value] of Object.entries(customFields ?? {})) {
    if (nextCustom[key] === value) continue;
    previousCustom[key] = nextCustom[key] ?? null;
    nextCustom[key] = value;
  }
  if (Object.keys(previousCustom).length > 0) previous.custom_fields = previousCustom;
  if (Object.keys(previous).length === 0) return { answer: ok(deal), events: [] };
  // Every change moves update_time, within the same second too.
  previous.update_time = deal.update_time;
  next.update_time = rfc3339(now);
  const updated = next as DealRecord;
  store.put('deal', updated);
  return { answer: ok(updated), events: [dealWebhook('change', updated, previous, now)] };
}

const AddressInput = z.strictObject({
  value: z.string().optional(),
  route: z.string().optional(),
  street_number: z.string().optional(),
  subpremise: z.string().optional(),
  postal_code: z.string().optional(),
  locality: z.string().optional(),
  country: z.string().optional(),
});

/** Body of `POST /__sandbox/deals`: a deal with a new or existing organization and person, and products by code or id. */
export const SandboxDealRequest = z.strictObject({
  title: z.string().trim().min(1),
  status: z.enum(['open', 'won', 'lost']).default('open'),
  currency: z.string().default('EUR'),
  stage_id: Id.default(SANDBOX_STAGE_IDS[0]!),
  /** @default the sum of the products */
  value: z.number().nonnegative().optional(),
  organization: z.union([
    z.strictObject({ id: Id }),
    z.strictObject({ name: z.string().trim().min(1), address: AddressInput.optional(), vat_number: z.string().optional() }),
  ]).optional(),
  person: z.union([
    z.strictObject({ id: Id }),
    z.strictObject({ name: z.string().trim().min(1), email: z.string().optional(), phone: z.string().optional(), postal_address: AddressInput.optional() }),
  ]).optional(),
  products: z.array(z.strictObject({
    code: z.string().min(1).optional(),
    product_id: Id.optional(),
    quantity: z.number().positive(),
    /** @default the product's price in the deal currency */
    item_price: z.number().nonnegative().optional(),
    discount: z.number().nonnegative().default(0),
    discount_type: z.enum(['percentage', 'amount']).default('percentage'),
    /** A disabled deal product stays on the deal but counts for nothing. */
    is_enabled: z.boolean().default(true),
  })).default([]),
  custom_fields: z.record(z.string(), z.string().nullable()).default({}),
});

/** `POST /__sandbox/deals`: creates the organization and person when given by name, the deal and its products; one `create` webhook. */
export function createSandboxDeal(store: PipedriveStore, body: unknown, now: number): DealOutcome {
  const parsed = SandboxDealRequest.safeParse(body);
  if (!parsed.success) return { answer: validationError(parsed.error.issues), events: [] };
  const request = parsed.data;
  const refused = checkReferences(store, { currency: request.currency, stage_id: request.stage_id }) ?? checkCustomFields(store, request.custom_fields);
  if (refused !== undefined) return { answer: refused, events: [] };
  const at = rfc3339(now);

  let orgId: number | null = null;
  if (request.organization !== undefined && 'id' in request.organization) {
    if (store.get('organization', request.organization.id) === undefined) return { answer: pipedriveError(400, `Organization with id ${request.organization.id} does not exist`), events: [] };
    orgId = request.organization.id;
  } else if (request.organization !== undefined) {
    orgId = store.nextId('organization');
    store.put('organization', organizationRecord(orgId, request.organization.name, request.organization.address, request.organization.vat_number, at));
  }
  let personId: number | null = null;
  if (request.person !== undefined && 'id' in request.person) {
    if (store.get('person', request.person.id) === undefined) return { answer: pipedriveError(400, `Person with id ${request.person.id} does not exist`), events: [] };
    personId = request.person.id;
  } else if (request.person !== undefined) {
    personId = store.nextId('person');
    const { name, email, phone, postal_address: postalAddress } = request.person;
    store.put('person', personRecord(personId, { name, email, phone, orgId: orgId ?? undefined, postalAddress }, at));
  }

  const catalog = store.list<ProductRecord>('product', 0, 10_000);
  const lines = [];
  for (const [index, line] of request.products.entries()) {
    const product = catalog.find((candidate) => (line.product_id !== undefined ? candidate.id === line.product_id : candidate.code === line.code));
    if (product === undefined) return { answer: pipedriveError(400, `products[${index}]: no product ${line.code ?? line.product_id ?? '(neither code nor product_id given)'}`), events: [] };
    const price = line.item_price ?? product.prices.find((candidate) => candidate.currency === request.currency)?.price ?? 0;
    lines.push({ product, line, price, sum: lineSum(line.quantity, price, line.discount, line.discount_type) });
  }

  const dealId = store.nextId('deal');
  const value = request.value ?? Math.round(lines.reduce((total, entry) => total + (entry.line.is_enabled ? entry.sum : 0), 0) * 100) / 100;
  const deal = dealRecord(store, dealId, { title: request.title, value, currency: request.currency, status: request.status, stageId: request.stage_id, orgId, personId }, now);
  Object.assign(deal.custom_fields, request.custom_fields);
  store.put('deal', deal);
  for (const [index, { product, line, price, sum }] of lines.entries()) {
    const id = store.nextId('deal_product');
    store.put('deal_product', {
      id,
      sum,
      tax: 0,
      deal_id: dealId,
      name: product.name,
      product_id: product.id,
      product_variation_id: null,
      order_nr: index + 1,
      add_time: at,
      update_time: at,
      comments: '',
      currency: request.currency,
      discount: line.discount,
      quantity: line.quantity,
      item_price: price,
      tax_method: 'inclusive',
      discount_type: line.discount_type,
      is_enabled: line.is_enabled,
      billing_frequency: 'one-time',
      billing_frequency_cycles: null,
      billing_start_date: null,
    }, dealId);
  }
  return { answer: ok(deal, null, 201), events: [dealWebhook('create', deal, null, now)] };
}
