/**
 * Creating CRM records as HubSpot's v3 objects API does: `POST /crm/v3/objects/{type}`
 * and `POST /crm/v3/objects/{type}/batch/create`, with property validation, default
 * (`HUBSPOT_DEFINED`) associations written on both records, line items that copy their
 * product, and contacts unique by email. A request that fails writes nothing.
 */
import * as z from 'zod';
import {
  invalidInput,
  normalizeValues,
  propertyProblems,
  serializeRecord,
  WrittenProperties,
  type PropertyChange,
} from './crm-objects.ts';
import {
  HUBSPOT_DEFINED_ASSOCIATIONS,
  lastModifiedProperty,
  objectTypeId,
  singularName,
  type AssociationKind,
  type ObjectType,
  type StoredRecord,
} from './portal-data.ts';
import type { PortalStore } from './portal-store.ts';
import { hubspotError, invalidProperties, type SandboxResponse } from './responses.ts';

/** Object types the sandbox creates (products are the seeded catalogue). */
export const CREATABLE_TYPES: readonly ObjectType[] = ['deals', 'line_items', 'companies', 'contacts'];

/** Most inputs HubSpot accepts in one batch. */
const MAX_BATCH_INPUTS = 100;

/** Product properties a line item created with `hs_product_id` copies unless it sets them itself. */
const COPIED_FROM_PRODUCT = ['name', 'price', 'hs_sku'] as const;

const AssociationSpec = z.object({
  associationCategory: z.enum(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED']),
  associationTypeId: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]),
});

const CreateInput = z.object({
  properties: WrittenProperties,
  associations: z
    .array(
      z.object({
        to: z.object({ id: z.union([z.string().min(1), z.number().int()]).transform(String) }),
        types: z.array(AssociationSpec).min(1),
      }),
    )
    .default([]),
  /** Echoed on the batch result so a caller can match results to inputs. */
  objectWriteTraceId: z.string().optional(),
});
type CreateInput = z.infer<typeof CreateInput>;

const BatchCreateBody = z.object({ inputs: z.array(CreateInput) });

/** A deal whose `dealstage` a write set, which the server turns into a webhook event. */
export interface DealStageSet {
  readonly dealId: string;
  readonly stage: string;
}

/** What a create did: the answer, and the stages of created deals (for webhooks). */
export interface CreateOutcome {
  readonly response: SandboxResponse;
  readonly dealStages: readonly DealStageSet[];
}

/** One association of an input, resolved against the portal. */
interface PlannedLink {
  readonly kind: AssociationKind;
  readonly toId: string;
}

/** One validated input, ready to be written. */
interface PlannedRecord {
  readonly values: readonly PropertyChange[];
  readonly links: readonly PlannedLink[];
  readonly objectWriteTraceId: string | undefined;
}

/** `POST /crm/v3/objects/{type}`: 201 with the created record, as `basicApi.create` expects. */
export function createRecord(
  portal: PortalStore,
  type: ObjectType,
  body: unknown,
  portalId: number,
  now: Date = new Date(),
): CreateOutcome {
  const parsed = CreateInput.safeParse(body);
  if (!parsed.success) return { response: invalidInput(parsed.error), dealStages: [] };
  const outcome = createAll(portal, type, [parsed.data], portalId, now);
  if ('response' in outcome) return { response: outcome.response, dealStages: [] };
  return { response: { status: 201, body: outcome.results[0] }, dealStages: outcome.dealStages };
}

/**
 * `POST /crm/v3/objects/{type}/batch/create`: 201 with HubSpot's batch answer
 * (`status: COMPLETE`, `results` in input order, `startedAt`, `completedAt`); up to 100
 * inputs, all or nothing.
 */
export function batchCreate(
  portal: PortalStore,
  type: ObjectType,
  body: unknown,
  portalId: number,
  now: Date = new Date(),
): CreateOutcome {
  const startedAt = new Date().toISOString();
  const parsed = BatchCreateBody.safeParse(body);
  if (!parsed.success) return { response: invalidInput(parsed.error), dealStages: [] };
  const { inputs } = parsed.data;
  if (inputs.length > MAX_BATCH_INPUTS) {
    const message = `Batch input size ${inputs.length} exceeds the limit of ${MAX_BATCH_INPUTS}`;
    return { response: hubspotError(400, 'VALIDATION_ERROR', message), dealStages: [] };
  }
  const outcome = createAll(portal, type, inputs, portalId, now);
  if ('response' in outcome) return { response: outcome.response, dealStages: [] };
  const answer = { status: 'COMPLETE', results: outcome.results, startedAt, completedAt: new Date().toISOString() };
  return { response: { status: 201, body: answer }, dealStages: outcome.dealStages };
}

/** Validates every input, then writes them all; the first invalid input answers for the request. */
function createAll(
  portal: PortalStore,
  type: ObjectType,
  inputs: readonly CreateInput[],
  portalId: number,
  now: Date,
): { readonly response: SandboxResponse } | { readonly results: unknown[]; readonly dealStages: DealStageSet[] } {
  const plans: PlannedRecord[] = [];
  const emails = new Set<string>();
  for (const input of inputs) {
    const planned = plan(portal, type, input, portalId);
    if ('response' in planned) return planned;
    const email = type === 'contacts' ? planned.values.find((value) => value.name === 'email')?.value.toLowerCase() : undefined;
    if (email !== undefined) {
      const existing = portal.contactByEmail(email);
      if (existing !== undefined) {
        return { response: hubspotError(409, 'CONFLICT', `Contact already exists. Existing ID: ${existing}`) };
      }
      if (emails.has(email)) {
        return { response: hubspotError(400, 'VALIDATION_ERROR', `Duplicate email in batch input: ${email}`) };
      }
      emails.add(email);
    }
    plans.push(planned);
  }
  const results: unknown[] = [];
  const dealStages: DealStageSet[] = [];
  for (const planned of plans) {
    const record = write(portal, type, planned, now);
    const serialized = serializeRecord(type, record, {
      properties: Object.keys(record.properties),
      associations: [],
      archived: false,
    }, portal);
    const { objectWriteTraceId } = planned;
    results.push(objectWriteTraceId === undefined ? serialized : { ...serialized, objectWriteTraceId });
    const stage = record.properties['dealstage'];
    if (type === 'deals' && stage !== undefined) dealStages.push({ dealId: record.id, stage });
  }
  return { results, dealStages };
}

/** Checks one input's properties, product and associations; writes nothing. */
function plan(
  portal: PortalStore,
  type: ObjectType,
  input: CreateInput,
  portalId: number,
): PlannedRecord | { readonly response: SandboxResponse } {
  const values = normalizeValues(input.properties).filter((value) => value.value !== '');
  const problems = propertyProblems(type, values);
  if (problems.length > 0) return { response: invalidProperties(problems, portalId) };
  const productId = values.find((value) => value.name === 'hs_product_id')?.value;
  if (type === 'line_items' && productId !== undefined && portal.find('products', productId) === undefined) {
    return {
      response: invalidProperties(
        [{ name: 'hs_product_id', error: 'INVALID_OBJECT_ID', message: `Product ${productId} does not exist` }],
        portalId,
      ),
    };
  }
  const links: PlannedLink[] = [];
  for (const association of input.associations) {
    for (const spec of association.types) {
      // The portal has no custom labels, so only HubSpot's default types exist.
      const kind =
        spec.associationCategory === 'HUBSPOT_DEFINED' ? HUBSPOT_DEFINED_ASSOCIATIONS[spec.associationTypeId] : undefined;
      if (kind === undefined) {
        const label = `${spec.associationCategory}=${spec.associationTypeId}`;
        return {
          response: hubspotError(400, 'VALIDATION_ERROR', 'One or more associations are invalid', {
            context: {
              associationSpec: [label],
              INVALID_ASSOCIATION_TYPE_ID: [`${label} is not a valid association definition id`],
            },
          }),
        };
      }
      if (kind.from !== type) {
        const message = `invalid from object type ${objectTypeId(type)} for associations to be created. expected: ${objectTypeId(kind.from)}`;
        return { response: hubspotError(400, 'VALIDATION_ERROR', message) };
      }
      const toId = association.to.id;
      if (portal.find(kind.to, toId) === undefined) {
        const label = singularName(kind.to).toUpperCase();
        return {
          response: hubspotError(400, 'VALIDATION_ERROR', 'One or more associations are invalid', {
            context: { INVALID_OBJECT_IDS: [`${label}=${toId} is not valid`], objectId: [toId], objectType: [label] },
          }),
        };
      }
      links.push({ kind, toId });
    }
  }
  return { values, links, objectWriteTraceId: input.objectWriteTraceId };
}

/** Stores one planned record with its defaults, product copy, system properties and links. */
function write(portal: PortalStore, type: ObjectType, planned: PlannedRecord, now: Date): StoredRecord {
  const id = portal.allocateObjectId();
  const at = now.toISOString();
  const properties: Record<string, string> = Object.fromEntries(planned.values.map(({ name, value }) => [name, value]));
  if (type === 'deals') properties['pipeline'] ??= 'default';
  if (type === 'line_items') completeLineItem(portal, properties);
  Object.assign(properties, { hs_object_id: id, createdate: at, [lastModifiedProperty(type)]: at });
  const record: StoredRecord = { id, properties, createdAt: at, updatedAt: at };
  portal.put(type, record);
  for (const link of planned.links) associate(portal, id, link);
  return record;
}

/** A line item copies its product's name, price and SKU unless set, and gets HubSpot's calculated `amount`. */
function completeLineItem(portal: PortalStore, properties: Record<string, string>): void {
  const product = properties['hs_product_id'] === undefined ? undefined : portal.find('products', properties['hs_product_id']);
  for (const name of COPIED_FROM_PRODUCT) {
    const value = product?.properties[name];
    if (properties[name] === undefined && value !== undefined) properties[name] = value;
  }
  const { quantity, price, amount } = properties;
  if (amount !== undefined || quantity === undefined || price === undefined) return;
  const percent = Number(properties['hs_discount_percentage'] ?? '0');
  const unitDiscount = Number(properties['discount'] ?? '0');
  const net = Math.round((Number(price) * (1 - percent / 100) - unitDiscount) * Number(quantity) * 100) / 100;
  properties['amount'] = net.toFixed(2);
}

/**
 * Links a new record (`fromId`, of `kind.from`) to an existing one, writing the type
 * names on both sides once. A primary company label moves: the deal or contact's
 * previous primary company keeps only its unlabeled association.
 */
function associate(portal: PortalStore, fromId: string, link: PlannedLink): void {
  const { kind, toId } = link;
  if (kind.primaryCompany === true) {
    // The deal or contact side holds the label (`deal_to_company`), the company the inverse.
    const companyIsFrom = kind.from === 'companies';
    const holderType = companyIsFrom ? kind.to : kind.from;
    const holderId = companyIsFrom ? toId : fromId;
    const holderLabel = (companyIsFrom ? kind.backward : kind.forward)[0]!;
    const companyLabel = (companyIsFrom ? kind.forward : kind.backward)[0]!;
    const companyId = companyIsFrom ? fromId : toId;
    for (const previous of portal.links(holderType, holderId, 'companies')) {
      if (previous.type !== holderLabel || previous.id === companyId) continue;
      portal.removeLink('companies', previous.id, holderType, { id: holderId, type: companyLabel });
      portal.removeLink(holderType, holderId, 'companies', previous);
    }
  }
  for (const type of kind.forward) portal.addLink(kind.from, fromId, kind.to, { id: toId, type });
  for (const type of kind.backward) portal.addLink(kind.to, toId, kind.from, { id: fromId, type });
}
