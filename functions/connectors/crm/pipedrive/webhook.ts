/**
 * Pipedrive webhooks v2: the HTTP basic auth check (Pipedrive's only way to authenticate
 * a delivery), the payload schema, and the mapping of each delivery to Harmony's
 * canonical bus event.
 *
 * Sources: pipedrive.readme.io/docs/guide-for-webhooks-v2 (payload format, meta block,
 * `data`/`previous` per action, `http_auth_user`/`http_auth_password`, retries after 3, 30
 * and 150 s, the ban after 10 failed first attempts, deletion after 3 days without a
 * success) and pipedrive.readme.io/docs/webhooks-v2-migration-guide (one `change`
 * webhook per edit, `previous` holds only the changed fields).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import {
  CRM_OBJECT_CHANGED,
  DEAL_STAGE_CHANGED,
  WON_DEAL_STAGE,
  type CrmObjectChangedDetail,
  type DealStageChangedDetail,
  type HubEvent,
} from '../../../core/events.ts';

/** Why a basic auth check failed. */
export type PipedriveAuthFailure = 'missing-credentials' | 'not-basic-auth' | 'malformed-credentials' | 'bad-credentials';

/** The credentials the webhook was created with (`http_auth_user`, `http_auth_password`). */
export interface PipedriveWebhookCredentials {
  readonly user: string;
  readonly password: string;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Checks an `Authorization: Basic …` header against the configured credentials. Both the
 * user and the password are compared, always both, as fixed-length digests in constant time.
 * @returns undefined when they match, otherwise why not
 */
export function checkPipedriveBasicAuth(
  authorization: string | undefined,
  expected: PipedriveWebhookCredentials,
): PipedriveAuthFailure | undefined {
  const header = authorization?.trim();
  if (header === undefined || header === '') return 'missing-credentials';
  const match = /^basic +(\S+)$/i.exec(header);
  if (match === null) return /^basic\b/i.test(header) ? 'malformed-credentials' : 'not-basic-auth';
  // Canonical base64 only: Node's decoder would also take stray padding, whitespace or URL-safe letters.
  if (!STRICT_BASE64.test(match[1]!)) return 'malformed-credentials';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) return 'malformed-credentials';
  const userMatches = timingSafeEqual(digest(decoded.slice(0, separator)), digest(expected.user));
  const passwordMatches = timingSafeEqual(digest(decoded.slice(separator + 1)), digest(expected.password));
  return userMatches && passwordMatches ? undefined : 'bad-credentials';
}

/**
 * Pipedrive ids arrive as strings in its guide's example (numbers, UUIDs) and as numbers in
 * recorded deliveries; they end up in business keys and execution names, so nothing else passes.
 */
const Id = z.union([
  z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, { error: 'expected an id of 1 to 100 letters, digits, `_` or `-`' }),
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
]).transform(String);

/** The last second of year 9999: later instants have no ISO 8601 form the bus events can carry. */
const LAST_SECOND = Math.floor(Date.UTC(9999, 11, 31, 23, 59, 59) / 1000);

/**
 * `meta.timestamp`: the guide's example is an ISO 8601 instant, its table calls it a 10-character
 * timestamp, and recorded deliveries send epoch seconds as a number. Each becomes an ISO instant.
 */
const Timestamp = z.union([
  z.iso.datetime({ offset: true }).transform((text) => new Date(text).toISOString()),
  z.number().int().nonnegative().max(LAST_SECOND).transform((seconds) => new Date(seconds * 1000).toISOString()),
  z.string().regex(/^\d{1,12}$/, { error: 'expected an ISO 8601 instant or epoch seconds' })
    .transform(Number)
    .pipe(z.number().max(LAST_SECOND, { error: 'expected epoch seconds before year 10000' }))
    .transform((seconds) => new Date(seconds * 1000).toISOString()),
]);

/** An entity or action word: lower case, as the guide lists them (`deal`, `deal_product`, `change`). */
const Word = z.string().regex(/^[a-z][a-z_]{0,39}$/, { error: 'expected a lower-case word such as `deal` or `change`' });

/**
 * The meta block of a v2 delivery. The fields Harmony reads are checked; the rest
 * (`correlation_id`, `webhook_id`, `permitted_user_ids`, `merged_to_id`…) pass through.
 */
export const PipedriveWebhookMeta = z.looseObject({
  /** `create`, `change` or `delete`. */
  action: Word,
  /** The object type, e.g. `deal`, `person`, `organization`. */
  entity: Word,
  entity_id: Id,
  /** The id of the event that triggered the webhook: the same on every retry of one delivery. */
  id: Id,
  company_id: Id,
  timestamp: Timestamp,
  version: z.literal('2.0', { error: 'expected "2.0": create the webhook with version 2.0 (v1 payloads are not accepted)' }),
  attempt: z.number().int().positive().optional(),
  change_source: z.string().optional(),
  is_bulk_edit: z.boolean().optional(),
  host: z.string().optional(),
});

/**
 * A record's fields as Pipedrive sends them in `data` and `previous`. Only a deal's `status` is
 * read, and only compared with `won`: other entities' fields (an activity's boolean `done`, a
 * project's `status`) must not make a `*.*` subscription's deliveries fail, or Pipedrive bans the webhook.
 */
const Fields = z.looseObject({ status: z.unknown().optional() });

/** The body of one Pipedrive webhooks v2 delivery: one event. */
export const PipedriveWebhook = z.looseObject({
  meta: PipedriveWebhookMeta,
  /** The object as of this event; null for `delete`. */
  data: Fields.nullable().optional(),
  /** The changed fields' previous values for `change`, the last state for `delete`, null for `create`. */
  previous: Fields.nullable().optional(),
});
export type PipedriveWebhook = z.infer<typeof PipedriveWebhook>;

/** Pipedrive's action words, in Harmony's vocabulary. */
const CHANGE_TYPES: Readonly<Record<string, string>> = { create: 'created', change: 'propertyChanged', delete: 'deleted' };

/**
 * True when this delivery is the moment a deal was won: created as won, or changed with
 * `status` among the changed fields and `won` as its new value. A change that leaves the
 * status alone (it is then absent from `previous`) is not a win, even of a won deal.
 */
export function isDealWon(webhook: PipedriveWebhook): boolean {
  if (webhook.meta.entity !== 'deal' || webhook.data?.status !== 'won') return false;
  if (webhook.meta.action === 'create') return true;
  const previous = webhook.previous;
  return (
    webhook.meta.action === 'change' &&
    previous !== null &&
    previous !== undefined &&
    Object.hasOwn(previous, 'status') &&
    previous.status !== 'won'
  );
}

/**
 * Maps a delivery to its canonical hub event: a deal won becomes `Deal Stage Changed` with
 * Harmony's won stage, exactly as a HubSpot deal moved to `closedwon`; anything else
 * `CRM Object Changed`. The dedup key is Pipedrive's event id, `pipedrive:<meta.id>`.
 */
export function toHubEvent(webhook: PipedriveWebhook): HubEvent {
  const { meta } = webhook;
  const eventId = `pipedrive:${meta.id}`;
  if (isDealWon(webhook)) {
    const detail: DealStageChangedDetail = {
      crm: 'pipedrive',
      accountId: meta.company_id,
      dealId: meta.entity_id,
      stage: WON_DEAL_STAGE,
      occurredAt: meta.timestamp,
      eventId: meta.id,
    };
    return { eventId, detailType: DEAL_STAGE_CHANGED, detail };
  }
  const detail: CrmObjectChangedDetail = {
    crm: 'pipedrive',
    accountId: meta.company_id,
    objectType: meta.entity,
    objectId: meta.entity_id,
    changeType: Object.hasOwn(CHANGE_TYPES, meta.action) ? CHANGE_TYPES[meta.action]! : meta.action,
    occurredAt: meta.timestamp,
    eventId: meta.id,
  };
  return { eventId, detailType: CRM_OBJECT_CHANGED, detail };
}
