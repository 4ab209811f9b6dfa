/**
 * Declarative mappings from a Standard Webhooks payload to Harmony's deal-won event, so a
 * CRM Harmony has no adapter for can still start the flows. A mapping names where in the
 * JSON body the CRM, the account and the deal are, and the condition that means "won";
 * it holds data only (paths, literals, conditions), no code.
 */
import * as z from 'zod';
import { PermanentError } from '../../core/errors.ts';
import { DEAL_STAGE_CHANGED, WON_DEAL_STAGE, type DealStageChangedDetail } from '../../core/events.ts';

/** Names no path may walk through: they would reach Object.prototype, not the payload. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** A dot-separated path into the body, e.g. `data.deal.id`; digits index arrays (`data.items.0.id`). */
export const JsonPath = z
  .string()
  .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, { error: 'expected a dot-separated path such as `data.deal.id`' })
  .refine((path) => path.split('.').every((segment) => !FORBIDDEN_SEGMENTS.has(segment)), {
    error: 'a path may not walk through __proto__, constructor or prototype',
  });

/** Where a value comes from: a literal (`{ "value": "acme-crm" }`) or a path into the body (`{ "path": "data.crm" }`). */
export const ValueSource = z.union([z.strictObject({ value: z.string().min(1) }), z.strictObject({ path: JsonPath })]);
export type ValueSource = z.infer<typeof ValueSource>;

/** A JSON scalar a condition compares with. */
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** When a payload means "won": comparisons of values at paths, combined with all / any / not. */
export type Condition =
  | { readonly path: string; readonly equals: string | number | boolean | null }
  | { readonly path: string; readonly in: readonly (string | number | boolean | null)[] }
  | { readonly path: string; readonly exists: boolean }
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition };

export const Condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ path: JsonPath, equals: Scalar }),
    z.strictObject({ path: JsonPath, in: z.array(Scalar).min(1) }),
    z.strictObject({ path: JsonPath, exists: z.boolean() }),
    z.strictObject({ all: z.array(Condition).min(1) }),
    z.strictObject({ any: z.array(Condition).min(1) }),
    z.strictObject({ not: Condition }),
  ]),
);

/** One mapping, selected by the `{mapping}` path segment of `POST /webhooks/standard/{mapping}`. */
export const StandardWebhookMapping = z.strictObject({
  /** What sends it and in what shape, for the operator. */
  description: z.string().min(1),
  /** The CRM's short name on the canonical event, e.g. `acme-crm`. */
  crm: ValueSource,
  /** The CRM account (tenant, workspace, portal) the deal belongs to. */
  accountId: ValueSource,
  dealId: ValueSource,
  /** When this payload announces a won deal; payloads that do not match are acknowledged and put nothing on the bus. */
  won: Condition,
  /** When the deal was won: an ISO 8601 instant or epoch seconds. @default the `webhook-timestamp` of the delivery */
  occurredAt: ValueSource.optional(),
  /** The stage the event carries. @default WON_DEAL_STAGE, so the order-to-cash rule matches as deployed */
  stage: ValueSource.optional(),
});
export type StandardWebhookMapping = z.infer<typeof StandardWebhookMapping>;

type Found = { readonly found: true; readonly value: unknown } | { readonly found: false };

/** The value at `path`, reading the body's own properties only. */
export function valueAt(body: unknown, path: string): Found {
  let current: unknown = body;
  for (const segment of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) {
      const index = Number(segment);
      if (index >= current.length) return { found: false };
      current = current[index];
    } else if (typeof current === 'object' && current !== null && !Array.isArray(current) && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return { found: false };
    }
  }
  return current === undefined ? { found: false } : { found: true, value: current };
}

/** Whether `condition` holds for `body`. */
export function holds(condition: Condition, body: unknown): boolean {
  if ('all' in condition) return condition.all.every((part) => holds(part, body));
  if ('any' in condition) return condition.any.some((part) => holds(part, body));
  if ('not' in condition) return !holds(condition.not, body);
  const at = valueAt(body, condition.path);
  if ('exists' in condition) return at.found === condition.exists;
  if (!at.found) return false;
  if ('equals' in condition) return at.value === condition.equals;
  return condition.in.some((candidate) => candidate === at.value);
}

/** A CRM name that is safe in business keys and execution names. */
const CRM_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
/** An id that is safe in business keys and execution names. */
const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** Reads a text value, failing with the body path and what the mapping wanted there. */
function text(source: ValueSource, body: unknown, what: string, mappingName: string): string {
  if ('value' in source) return source.value;
  const at = valueAt(body, source.path);
  const where = `body.${source.path}`;
  if (!at.found) {
    throw new PermanentError(`invalid body — ${where}: missing (mapping "${mappingName}" reads ${what} there)`, { code: 'validation' });
  }
  if (typeof at.value === 'string' && at.value !== '') return at.value;
  if (typeof at.value === 'number' && Number.isSafeInteger(at.value)) return String(at.value);
  throw new PermanentError(
    `invalid body — ${where}: expected a non-empty string or an integer for ${what}, got ${describe(at.value)}`,
    { code: 'validation' },
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function checked(value: string, pattern: RegExp, source: ValueSource, what: string, expectation: string): string {
  if (pattern.test(value)) return value;
  const where = 'path' in source ? `body.${source.path}` : `mapping ${what}`;
  throw new PermanentError(`invalid body — ${where}: expected ${expectation} for ${what}`, { code: 'validation' });
}

/** The last second of year 9999: later instants have no ISO 8601 form the bus events can carry. */
const LAST_SECOND = Math.floor(Date.UTC(9999, 11, 31, 23, 59, 59) / 1000);
const Instant = z.union([
  z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString()),
  z.number().int().nonnegative().max(LAST_SECOND).transform((seconds) => new Date(seconds * 1000).toISOString()),
]);

/** What a mapping gives for one delivery. */
export interface MappedDelivery {
  /** The vendor-qualified dedup key: `standard:<mapping>:<webhook-id>`. */
  readonly eventId: string;
  readonly detailType: typeof DEAL_STAGE_CHANGED;
  readonly detail: DealStageChangedDetail;
}

/**
 * Applies a mapping: the deal-won event when the won condition holds, nothing when it does
 * not (the delivery is acknowledged; Standard Webhooks senders send many event types).
 * Throws PermanentError naming the body path when a won payload lacks what the mapping reads.
 */
export function mapStandardWebhook(input: {
  readonly mappingName: string;
  readonly mapping: StandardWebhookMapping;
  readonly body: unknown;
  /** `webhook-id`, already verified. */
  readonly webhookId: string;
  /** `webhook-timestamp` as a date, already verified. */
  readonly deliveredAt: Date;
}): MappedDelivery[] {
  const { mapping, body, mappingName } = input;
  if (!holds(mapping.won, body)) return [];
  const crm = checked(text(mapping.crm, body, 'crm', mappingName), CRM_NAME, mapping.crm, 'crm', 'a lower-case name of letters, digits, `_` or `-`');
  const accountId = checked(text(mapping.accountId, body, 'accountId', mappingName), ID, mapping.accountId, 'accountId', 'an id of 1 to 100 letters, digits, `_` or `-`');
  const dealId = checked(text(mapping.dealId, body, 'dealId', mappingName), ID, mapping.dealId, 'dealId', 'an id of 1 to 100 letters, digits, `_` or `-`');
  const stage = mapping.stage === undefined ? WON_DEAL_STAGE : text(mapping.stage, body, 'stage', mappingName);
  let occurredAt = input.deliveredAt.toISOString();
  if (mapping.occurredAt !== undefined) {
    const raw = 'value' in mapping.occurredAt ? mapping.occurredAt.value : valueAt(body, mapping.occurredAt.path);
    const value = typeof raw === 'string' ? raw : raw.found ? raw.value : undefined;
    const parsed = Instant.safeParse(value);
    if (!parsed.success) {
      const where = 'path' in mapping.occurredAt ? `body.${mapping.occurredAt.path}` : 'mapping occurredAt';
      throw new PermanentError(`invalid body — ${where}: expected an ISO 8601 instant with offset or epoch seconds for occurredAt`, {
        code: 'validation',
      });
    }
    occurredAt = parsed.data;
  }
  return [
    {
      eventId: `standard:${mappingName}:${input.webhookId}`,
      detailType: DEAL_STAGE_CHANGED,
      detail: { crm, accountId, dealId, stage, occurredAt, eventId: input.webhookId },
    },
  ];
}
