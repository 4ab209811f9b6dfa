/**
 * HubSpot webhooks: the v3 request signature, the payload schema, and the mapping
 * of each HubSpot event to Harmony's canonical bus event.
 *
 * Sources: developers.hubspot.com/docs/api/webhooks (payload fields, batches of up to
 * 100 events, retries) and developers.hubspot.com/docs/api/webhooks/validating-requests
 * (signature v3).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import {
  CRM_OBJECT_CHANGED,
  DEAL_STAGE_CHANGED,
  type CrmObjectChangedDetail,
  type DealStageChangedDetail,
  type HubEvent,
} from '../../../core/events.ts';

/** How far a signed request's timestamp may be from now: HubSpot's guide says to reject requests older than five minutes. */
export const HUBSPOT_SIGNATURE_MAX_AGE_MS = 5 * 60 * 1000;

/** Everything a v3 signature check needs from one request. */
export interface HubspotSignatureInput {
  /** HTTP method as received, e.g. `POST`. */
  readonly method: string;
  /** The full URL HubSpot called: scheme, host, path and query, e.g. `https://hooks.example.com/hubspot?x=1`. */
  readonly uri: string;
  /** The raw request body, exactly as received. */
  readonly body: string;
  /** `X-HubSpot-Request-Timestamp` (milliseconds since the epoch). */
  readonly timestamp: string | undefined;
  /** `X-HubSpot-Signature-v3`. */
  readonly signature: string | undefined;
  /** The app's client secret. */
  readonly clientSecret: string;
  /** The current time. @default Date.now() */
  readonly now?: Date | number;
}

/** Why a signature check failed. */
export type HubspotSignatureFailure =
  | 'missing-signature'
  | 'missing-timestamp'
  | 'invalid-timestamp'
  | 'stale-timestamp'
  | 'future-timestamp'
  | 'bad-signature';

/** The outcome of {@link verifyHubspotSignatureV3}. */
export type HubspotSignatureResult = { readonly valid: true } | { readonly valid: false; readonly reason: HubspotSignatureFailure };

/**
 * The characters HubSpot's validation guide says to decode in the request URI before
 * hashing (the URI as HubSpot signed it has them unencoded).
 */
const DECODED_URI_CHARACTERS: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** Decodes exactly the percent-escapes HubSpot lists (case-insensitive), leaving every other escape alone. */
export function decodeHubspotUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => DECODED_URI_CHARACTERS[escape.toUpperCase()] ?? escape);
}

/**
 * The v3 signature of a request: base64 HMAC-SHA256, keyed with the client secret,
 * of `method + decodedUri + body + timestamp` (UTF-8).
 */
export function hubspotSignatureV3(input: {
  readonly method: string;
  readonly uri: string;
  readonly body: string;
  readonly timestamp: string;
  readonly clientSecret: string;
}): string {
  const source = `${input.method}${decodeHubspotUri(input.uri)}${input.body}${input.timestamp}`;
  return createHmac('sha256', input.clientSecret).update(source, 'utf8').digest('base64');
}

/**
 * Checks `X-HubSpot-Signature-v3`: the timestamp must be within five minutes of now
 * (either side, to allow clock skew) and the signature must match, compared in constant time.
 */
export function verifyHubspotSignatureV3(input: HubspotSignatureInput): HubspotSignatureResult {
  const signature = input.signature?.trim();
  if (signature === undefined || signature === '') return { valid: false, reason: 'missing-signature' };
  const timestamp = input.timestamp?.trim();
  if (timestamp === undefined || timestamp === '') return { valid: false, reason: 'missing-timestamp' };
  if (!/^\d{1,16}$/.test(timestamp)) return { valid: false, reason: 'invalid-timestamp' };
  const now = input.now === undefined ? Date.now() : Number(input.now);
  const age = now - Number(timestamp);
  if (age > HUBSPOT_SIGNATURE_MAX_AGE_MS) return { valid: false, reason: 'stale-timestamp' };
  if (age < -HUBSPOT_SIGNATURE_MAX_AGE_MS) return { valid: false, reason: 'future-timestamp' };
  const expected = Buffer.from(
    hubspotSignatureV3({
      method: input.method,
      uri: input.uri,
      body: input.body,
      timestamp,
      clientSecret: input.clientSecret,
    }),
    'utf8',
  );
  const received = Buffer.from(signature, 'utf8');
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    return { valid: false, reason: 'bad-signature' };
  }
  return { valid: true };
}

const NonNegativeInteger = z.number().int().nonnegative();
/** The last millisecond of year 9999: later instants have no ISO 8601 form the bus events can carry (and past 8.64e15 no Date at all). */
const LAST_OCCURRED_AT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const SubscriptionType = z.string().regex(/^[a-z][a-z_]*\.[A-Za-z]+$/, {
  error: 'expected `<object>.<event>`, e.g. `deal.propertyChange`',
});

/**
 * One event of a HubSpot webhook delivery. Known fields are checked strictly;
 * unknown ones (merge and association fields, `sourceId`, `changeFlag`…) pass through.
 * HubSpot's reference example names the type `eventType`; real deliveries send
 * `subscriptionType`. Either is accepted, one is required.
 */
export const HubspotWebhookEvent = z
  .looseObject({
    eventId: NonNegativeInteger,
    subscriptionId: NonNegativeInteger,
    portalId: NonNegativeInteger,
    appId: NonNegativeInteger,
    occurredAt: NonNegativeInteger.max(LAST_OCCURRED_AT_MS, { error: 'expected milliseconds since the epoch before year 10000' }),
    subscriptionType: SubscriptionType.optional(),
    eventType: SubscriptionType.optional(),
    attemptNumber: NonNegativeInteger,
    objectId: NonNegativeInteger,
    /** Generic (`object.*`) subscriptions name the object type by id, e.g. `0-3` for deals. */
    objectTypeId: z.string().min(1).optional(),
    changeSource: z.string().optional(),
    changeFlag: z.string().optional(),
    propertyName: z.string().min(1).optional(),
    propertyValue: z.string().optional(),
  })
  .refine((event) => event.subscriptionType !== undefined || event.eventType !== undefined, {
    error: 'expected subscriptionType (or eventType)',
    path: ['subscriptionType'],
  });
export type HubspotWebhookEvent = z.infer<typeof HubspotWebhookEvent>;

/** The body of one HubSpot webhook delivery: 1 to 100 events. */
export const HubspotWebhookBatch = z.array(HubspotWebhookEvent).min(1).max(100);
export type HubspotWebhookBatch = z.infer<typeof HubspotWebhookBatch>;

/** HubSpot's object type ids for generic `object.*` subscriptions. */
const OBJECT_TYPES_BY_ID: Readonly<Record<string, string>> = {
  '0-1': 'contact',
  '0-2': 'company',
  '0-3': 'deal',
  '0-5': 'ticket',
  '0-7': 'product',
  '0-8': 'line_item',
};

/** HubSpot's event words, in Harmony's vocabulary. */
const CHANGE_TYPES: Readonly<Record<string, string>> = {
  creation: 'created',
  propertyChange: 'propertyChanged',
  deletion: 'deleted',
  merge: 'merged',
  restore: 'restored',
  associationChange: 'associationChanged',
  privacyDeletion: 'privacyDeleted',
};

/** `table[key]` only when `key` is the table's own entry: `constructor` or `toString` from a webhook must not find Object.prototype's. */
function ownValue(table: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * Maps each HubSpot event to a canonical hub event: a deal's `dealstage` change
 * becomes `Deal Stage Changed`; everything else `CRM Object Changed`.
 */
export function toHubEvents(batch: HubspotWebhookBatch): HubEvent[] {
  return batch.map(toHubEvent);
}

function toHubEvent(event: HubspotWebhookEvent): HubEvent {
  const subscriptionType = event.subscriptionType ?? event.eventType ?? '';
  const separator = subscriptionType.indexOf('.');
  const prefix = subscriptionType.slice(0, separator);
  const action = subscriptionType.slice(separator + 1);
  const objectType =
    prefix === 'object' && event.objectTypeId !== undefined
      ? (ownValue(OBJECT_TYPES_BY_ID, event.objectTypeId) ?? event.objectTypeId)
      : prefix;
  const common = {
    crm: 'hubspot',
    accountId: String(event.portalId),
    occurredAt: new Date(event.occurredAt).toISOString(),
    eventId: String(event.eventId),
  };
  const eventId = `hubspot:${event.eventId}`;
  if (
    objectType === 'deal' &&
    action === 'propertyChange' &&
    event.propertyName === 'dealstage' &&
    event.propertyValue !== undefined &&
    event.propertyValue !== ''
  ) {
    const detail: DealStageChangedDetail = {
      crm: common.crm,
      accountId: common.accountId,
      dealId: String(event.objectId),
      stage: event.propertyValue,
      occurredAt: common.occurredAt,
      eventId: common.eventId,
    };
    return { eventId, detailType: DEAL_STAGE_CHANGED, detail };
  }
  const detail: CrmObjectChangedDetail = {
    crm: common.crm,
    accountId: common.accountId,
    objectType,
    objectId: String(event.objectId),
    changeType: ownValue(CHANGE_TYPES, action) ?? action,
    ...(event.propertyName === undefined ? {} : { propertyName: event.propertyName }),
    ...(event.propertyValue === undefined ? {} : { propertyValue: event.propertyValue }),
    occurredAt: common.occurredAt,
    eventId: common.eventId,
  };
  return { eventId, detailType: CRM_OBJECT_CHANGED, detail };
}
