/**
 * Bad-input fuzzing of the webhook ingress: the real ingest handler, in-process, against
 * dynalite (the synthesized stack's tables) and a PutEvents recorder, fed generated
 * (fast-check) and hand-written (`corpus/`, `corpus/salesforce/`) requests, on every route: HubSpot, Pipedrive,
 * Standard Webhooks, the JWT callbacks (their issuer's JWKS served on loopback) and Salesforce
 * Outbound Messages (SOAP). Every rejected request must get a 4xx with a reason (JSON, or a SOAP
 * Fault on the Salesforce route) and put nothing on the bus; every validly signed valid batch
 * must get a 200 with canonical events on the bus — never a 5xx, a throw or a hang.
 *
 * Reproduce a run with `FUZZ_SEED=<seed> FUZZ_RUNS=<runs> npx vitest run test/fuzz/ingress-fuzz.test.ts`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as fc from 'fast-check';
import * as z from 'zod';
import { HUBSPOT_SIGNATURE_MAX_AGE_MS, hubspotSignatureV3 } from '../../functions/connectors/crm/hubspot/webhook.ts';
import { MAX_WEBHOOK_BODY_BYTES } from '../../functions/core/ingress/guard-webhook.ts';
import {
  CRM_EVENT_SOURCE,
  CRM_OBJECT_CHANGED,
  CrmObjectChangedDetail,
  DEAL_STAGE_CHANGED,
  DealStageChangedDetail,
  ERP_EVENT_SOURCE,
  ORDER_STATUS_CHANGED,
  OrderStatusChangedDetail,
} from '../../functions/core/events.ts';
import { STANDARD_WEBHOOK_TOLERANCE_SECONDS, parseSigningSecrets, standardWebhookSignature } from '../../functions/connectors/standard-webhooks/signature.ts';
import { readEnvelope } from '../../functions/connectors/soap/envelope.ts';
import { readXml } from '../../functions/connectors/soap/xml-reader.ts';
import { toApiGatewayEvent } from '../../local/ingress/api-gateway-event.ts';
import { outboundMessage, salesforceId } from '../fixtures/salesforce/outbound-messages.ts';
import { createLambdaContext } from '../../local/lambda/lambda-context.ts';
import type { EventBridgeRecorder, RecordedEntry } from '../support/eventbridge-recorder.ts';
import type { HandlerStores } from '../support/handler-stores.ts';
import { startIngestUnderTest } from '../support/ingest-under-test.ts';
import { makeKey, signJwt, startJwksServer, type IssuerKey, type JwksServer } from '../support/jwt-issuer.ts';

const FuzzSettings = z.object({
  FUZZ_SEED: z.coerce.number().int().default(20_260_521),
  FUZZ_RUNS: z.coerce.number().int().positive().default(20),
});
const { FUZZ_SEED: SEED, FUZZ_RUNS: RUNS } = FuzzSettings.parse(process.env);
const FC_OPTIONS = { seed: SEED, numRuns: RUNS, endOnFailure: true } as const;

const CLIENT_SECRET = 'fuzz-client-secret';
const HOST = 'hooks.example.test';
const PATH = '/webhooks/hubspot';
/** A handler call that takes longer than this is a hang. */
const CALL_TIMEOUT_MS = 10_000;

/** A 4xx answer: JSON naming the error and what was wrong. */
const Rejection = z.object({ error: z.string().min(1), message: z.string().min(1) });
/** A 200 answer. */
const Acceptance = z.strictObject({ accepted: z.number().int().nonnegative(), duplicates: z.number().int().nonnegative() });

const PIPEDRIVE = { user: 'fuzz-pipedrive', password: 'fuzz pipedrive password' };
const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CALLBACK = { issuer: 'https://middleware.example.test', audience: 'harmony-callbacks' };
const SALESFORCE = { organizationId: '00D5e000000KQ2eEAG', allowedCidrs: '13.108.0.0/14 2a01:111::/32', sourceIp: '13.110.54.12' };

let stores: HandlerStores;
let bus: EventBridgeRecorder;
let handler: (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
let jwks: JwksServer;
let callbackKey: IssuerKey;

beforeAll(async () => {
  callbackKey = makeKey('EdDSA', 'fuzz-issuer');
  jwks = await startJwksServer([callbackKey]);
  Object.assign(process.env, {
    PIPEDRIVE_WEBHOOK_USER: PIPEDRIVE.user,
    PIPEDRIVE_WEBHOOK_PASSWORD: PIPEDRIVE.password,
    STANDARD_WEBHOOKS_SECRET: STANDARD_SECRET,
    CALLBACK_JWKS_URL: jwks.url,
    CALLBACK_JWT_ISSUER: CALLBACK.issuer,
    CALLBACK_JWT_AUDIENCE: CALLBACK.audience,
    SALESFORCE_ORG_ID: SALESFORCE.organizationId,
    SALESFORCE_ALLOWED_CIDRS: SALESFORCE.allowedCidrs,
  });
  ({ stores, bus, handler } = await startIngestUnderTest(CLIENT_SECRET));
});

/** Requests sent and answers received, by kind of request: the run's report. */
const tally = new Map<string, Map<number, number>>();

afterAll(async () => {
  for (const [kind, statuses] of [...tally].sort(([a], [b]) => a.localeCompare(b))) {
    const sent = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`);
    console.log(`fuzz ${kind}: ${sent} sent — ${byStatus.join(' ')} (seed ${SEED}, runs ${RUNS})`);
  }
  await bus?.stop();
  await stores?.stop();
  await jwks?.close();
});

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------
// Requests

/** Event ids handed out to batches that must be accepted as new; never reused in this file. */
let nextEventId = 10_000_000;

/** One HubSpot webhook event without its id (the id is given when it is sent, so replays stay fresh). */
type EventTemplate = Record<string, unknown>;

/** The template with a fresh event id first. */
function withFreshId(template: EventTemplate): Record<string, unknown> {
  nextEventId += 1;
  return { eventId: nextEventId, ...template };
}

/** How to build a delivery; by default one HubSpot signed correctly, now. */
interface DeliveryOptions {
  readonly method?: string;
  readonly path?: string;
  /** `null` leaves the header out. */
  readonly contentType?: string | null;
  /** Milliseconds since the epoch, or a raw header value. `null` leaves the header out. */
  readonly timestamp?: number | string | null;
  /** Overrides the computed signature header; `null` leaves it out; an array is folded with `,`. */
  readonly signature?: string | readonly string[] | null;
  readonly secret?: string;
  /** The body the signature is computed over, when not the body sent. */
  readonly signedBody?: string;
  /** Header names as sent (API Gateway keeps the sender's case). */
  readonly names?: { readonly signature?: string; readonly timestamp?: string; readonly contentType?: string };
  readonly extraHeaders?: Readonly<Record<string, string | readonly string[]>>;
}

/** The v3 signature HubSpot would send for `body` at `timestamp`. */
function signatureFor(body: string, timestamp: string, options: DeliveryOptions = {}): string {
  return hubspotSignatureV3({
    method: options.method ?? 'POST',
    uri: `https://${HOST}${options.path ?? PATH}`,
    body,
    timestamp,
    clientSecret: options.secret ?? CLIENT_SECRET,
  });
}

/** A delivery as API Gateway would hand it to the ingest Lambda. */
function delivery(body: string, options: DeliveryOptions = {}): APIGatewayProxyEvent {
  const timestamp = options.timestamp === undefined ? String(Date.now()) : options.timestamp === null ? undefined : String(options.timestamp);
  const headers: Record<string, string | readonly string[]> = { host: HOST };
  if (options.contentType !== null) headers[options.names?.contentType ?? 'content-type'] = options.contentType ?? 'application/json';
  if (timestamp !== undefined) headers[options.names?.timestamp ?? 'x-hubspot-request-timestamp'] = timestamp;
  const signature =
    options.signature === undefined ? signatureFor(options.signedBody ?? body, timestamp ?? '', options) : options.signature;
  if (signature !== null) headers[options.names?.signature ?? 'x-hubspot-signature-v3'] = signature;
  Object.assign(headers, options.extraHeaders);
  return toApiGatewayEvent({ method: options.method ?? 'POST', url: options.path ?? PATH, headers, body, protocol: 'https' });
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

async function withinTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends one request to the real handler; fails on a throw, a hang or prototype pollution. */
async function exchange(kind: string, event: APIGatewayProxyEvent): Promise<{ response: APIGatewayProxyResult; added: RecordedEntry[] }> {
  const before = bus.entries.length;
  const response = await withinTimeout(
    handler(event, createLambdaContext({ functionName: 'ingest' })).catch((error: unknown) => {
      throw new Error(`${kind}: the handler threw instead of answering: ${String(error)}`, { cause: error });
    }),
    kind,
  );
  const statuses = tally.get(kind) ?? new Map<number, number>();
  statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
  tally.set(kind, statuses);
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
  expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  return { response, added: bus.entries.slice(before) };
}

/** The bus entries are canonical hub events (what every consumer of the bus relies on). */
function expectCanonical(entries: readonly RecordedEntry[]): void {
  for (const entry of entries) {
    expect(entry.EventBusName).toBe('harmony-hub');
    const detail = JSON.parse(entry.Detail) as unknown;
    if (entry.DetailType === ORDER_STATUS_CHANGED) {
      expect(entry.Source).toBe(ERP_EVENT_SOURCE);
      OrderStatusChangedDetail.strict().parse(detail);
      continue;
    }
    expect(entry.Source).toBe(CRM_EVENT_SOURCE);
    if (entry.DetailType === DEAL_STAGE_CHANGED) DealStageChangedDetail.strict().parse(detail);
    else if (entry.DetailType === CRM_OBJECT_CHANGED) CrmObjectChangedDetail.strict().parse(detail);
    else expect.fail(`unexpected detail type ${entry.DetailType}`);
  }
}

/** Expects a 4xx (one of `statuses` when given) with a JSON reason, and nothing on the bus. */
async function expectRejected(kind: string, event: APIGatewayProxyEvent, statuses?: number | readonly number[]): Promise<string> {
  const { response, added } = await exchange(kind, event);
  const reason = `${kind}: ${response.statusCode} ${response.body.slice(0, 300)}`;
  expect(response.statusCode, reason).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, reason).toBeLessThan(500);
  if (statuses !== undefined) expect([statuses].flat(), reason).toContain(response.statusCode);
  expect(added, `${kind}: a rejected request reached the bus`).toHaveLength(0);
  return Rejection.parse(JSON.parse(response.body)).message;
}

/** Expects a 200 that put every one of `events` (fresh ids) on the bus as canonical events. */
async function expectAccepted(kind: string, event: APIGatewayProxyEvent, events: readonly Record<string, unknown>[]): Promise<RecordedEntry[]> {
  const { response, added } = await exchange(kind, event);
  expect(response.statusCode, `${kind}: ${response.statusCode} ${response.body.slice(0, 300)}`).toBe(200);
  expect(Acceptance.parse(JSON.parse(response.body))).toEqual({ accepted: events.length, duplicates: 0 });
  expect(added).toHaveLength(events.length);
  expectCanonical(added);
  const busIds = added.map((entry) => (JSON.parse(entry.Detail) as { eventId: string }).eventId).sort();
  expect(busIds).toEqual(events.map((item) => String(item.eventId)).sort());
  return added;
}

/** Expects either a clean rejection or a clean acceptance of `eventCount` events — never anything else. */
async function expectHandled(kind: string, event: APIGatewayProxyEvent, eventCount: number): Promise<void> {
  const { response, added } = await exchange(kind, event);
  const reason = `${kind}: ${response.statusCode} ${response.body.slice(0, 300)}`;
  if (response.statusCode === 200) {
    const counts = Acceptance.parse(JSON.parse(response.body));
    expect(counts.accepted + counts.duplicates, reason).toBe(eventCount);
    expect(added, reason).toHaveLength(counts.accepted);
    expectCanonical(added);
  } else {
    expect(response.statusCode, reason).toBeGreaterThanOrEqual(400);
    expect(response.statusCode, reason).toBeLessThan(500);
    expect(added, `${kind}: a rejected request reached the bus`).toHaveLength(0);
    Rejection.parse(JSON.parse(response.body));
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Characters that break naive text handling: lone surrogates, bidi controls, NUL, BOM, separators, astral. */
const NASTY_CHARACTERS = ['\u0000', '\ud800', '\udfff', '\u200f', '\u202e', '\u2066', '\ufeff', '\u2028', '\u0085', '"', '\\', '𝄞', 'é', '\u0301'];
const nastyText = fc.string({
  unit: fc.oneof(fc.constantFrom(...NASTY_CHARACTERS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  maxLength: 40,
});

const subscriptionType = fc.oneof(
  fc.constantFrom('deal.propertyChange', 'deal.creation', 'contact.creation', 'company.deletion', 'object.propertyChange', 'line_item.merge', 'deal.privacyDeletion'),
  fc.stringMatching(/^[a-z][a-z_]{0,10}\.[A-Za-z]{1,12}$/),
);

/** A HubSpot event the schema accepts (without its id). */
const validEvent: fc.Arbitrary<EventTemplate> = fc.record(
  {
    subscriptionId: fc.maxSafeNat(),
    portalId: fc.maxSafeNat(),
    appId: fc.maxSafeNat(),
    occurredAt: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
    subscriptionType,
    attemptNumber: fc.nat({ max: 10 }),
    objectId: fc.maxSafeNat(),
    objectTypeId: fc.constantFrom('0-1', '0-3', '0-8', '2-123456'),
    changeSource: nastyText,
    propertyName: fc.oneof(fc.constant('dealstage'), nastyText.filter((text) => text.length > 0)),
    propertyValue: nastyText,
  },
  { requiredKeys: ['subscriptionId', 'portalId', 'appId', 'occurredAt', 'subscriptionType', 'attemptNumber', 'objectId'] },
);
const validBatch = fc.array(validEvent, { minLength: 1, maxLength: 8 });

/** A batch with fresh ids, and its body. */
function freshBatch(templates: readonly EventTemplate[]): { events: Record<string, unknown>[]; body: string } {
  const events = templates.map(withFreshId);
  return { events, body: JSON.stringify(events) };
}

/** A property over `arbitrary` run with the fixed seed and run count. */
async function check<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  await fc.assert(fc.asyncProperty(arbitrary, predicate), FC_OPTIONS);
}

// ---------------------------------------------------------------------------------------------
// Properties

describe('fuzz: the control case', () => {
  it('accepts every validly signed valid batch and puts its events on the bus as canonical events', async () => {
    await check(validBatch, async (templates) => {
      const { events, body } = freshBatch(templates);
      await expectAccepted('valid batch (control)', delivery(body), events);
    });
  });

  it('accepts a batch that names one event twice, publishing it once (it answered 503 before)', async () => {
    const [event] = freshBatch([{ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 4, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 5 }]).events;
    const { response, added } = await exchange('duplicate id in one batch', delivery(JSON.stringify([event, event, event])));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ accepted: 1, duplicates: 2 });
    expect(added).toHaveLength(1);
  });
});

describe('fuzz: bodies that are not a HubSpot batch', () => {
  it('rejects arbitrary strings, signed (400) or not (401)', async () => {
    await check(fc.tuple(fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean()), async ([body, signed]) => {
      await expectRejected('random string body', delivery(body, signed ? {} : { signature: 'bm90IGEgc2lnbmF0dXJl' }), signed ? 400 : 401);
    });
  });

  it('rejects arbitrary JSON values, validly signed, with 400', async () => {
    await check(fc.jsonValue({ maxDepth: 4 }), async (value) => {
      await expectRejected('random JSON body', delivery(JSON.stringify(value) ?? 'null'), 400);
    });
  });

  it('rejects truncated valid bodies: 400 when the truncation was signed, 401 when the original was', async () => {
    const truncated = validBatch.chain((templates) => {
      const { body } = freshBatch(templates);
      return fc.tuple(fc.constant(body), fc.nat({ max: body.length - 1 }), fc.boolean());
    });
    await check(truncated, async ([body, length, signedTruncation]) => {
      const cut = body.slice(0, length);
      await expectRejected('truncated body', delivery(cut, signedTruncation ? {} : { signedBody: body }), signedTruncation ? 400 : 401);
    });
  });
});

describe('fuzz: oversized bodies', () => {
  it('rejects every body over 1 MB with 413, however it is signed', async () => {
    const excess = fc.oneof(fc.constantFrom(1, 2, 1024, MAX_WEBHOOK_BODY_BYTES, 9 * MAX_WEBHOOK_BODY_BYTES), fc.integer({ min: 1, max: 64 * 1024 }));
    await check(fc.tuple(excess, fc.constantFrom('x', 'é', '😀', ' ')), async ([over, filler]) => {
      const bytesPerFiller = Buffer.byteLength(filler);
      const body = `[${filler.repeat(Math.ceil((MAX_WEBHOOK_BODY_BYTES + over) / bytesPerFiller))}]`;
      expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_WEBHOOK_BODY_BYTES);
      await expectRejected('oversized body', delivery(body, { signature: 'not-checked-before-size' }), 413);
    });
  });

  it('counts bytes, not characters: 1 MB of two-byte characters in half as many characters is too large', async () => {
    const body = `["${'é'.repeat(MAX_WEBHOOK_BODY_BYTES / 2)}"]`;
    expect(body.length).toBeLessThan(MAX_WEBHOOK_BODY_BYTES);
    await expectRejected('oversized body', delivery(body), 413);
  });

  it('rejects an over-1-MB base64-encoded body (API Gateway binary media) with 413', async () => {
    const event = { ...delivery('[]'), isBase64Encoded: true, body: Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x5b).toString('base64') };
    await expectRejected('oversized body', event, 413);
  });

  it('lets a body of exactly 1 MB through to the signature and schema checks', async () => {
    const body = `["${'x'.repeat(MAX_WEBHOOK_BODY_BYTES - 4)}"]`;
    expect(Buffer.byteLength(body)).toBe(MAX_WEBHOOK_BODY_BYTES);
    await expectRejected('oversized body', delivery(body), 400);
  });
});

describe('fuzz: signature and timestamp headers', () => {
  /** Ways a genuine signature or timestamp header can be broken; each must be refused with 401. */
  const breakings: readonly [string, (body: string, now: number) => DeliveryOptions][] = [
    ['no signature', () => ({ signature: null })],
    ['no timestamp', () => ({ timestamp: null })],
    ['neither', () => ({ signature: null, timestamp: null })],
    ['empty signature', () => ({ signature: '' })],
    ['blank signature', () => ({ signature: ' \t ' })],
    ['two genuine signatures folded with ","', (body, now) => ({ signature: [signatureFor(body, String(now)), signatureFor(body, String(now))] })],
    ['genuine and forged folded', (body, now) => ({ signature: [signatureFor(body, String(now)), 'AAAA'] })],
    ['forged and genuine folded', (body, now) => ({ signature: ['AAAA', signatureFor(body, String(now))] })],
    ['genuine folded with ", "', (body, now) => ({ signature: `${signatureFor(body, String(now))}, ${signatureFor(body, String(now))}` })],
    ['two timestamps folded', (_body, now) => ({ timestamp: `${now},${now}` })],
    ['another secret', () => ({ secret: 'not-the-secret' })],
    ['lower-cased signature', (body, now) => ({ signature: signatureFor(body, String(now)).toLowerCase() })],
    ['hex instead of base64', (body, now) => ({ signature: Buffer.from(signatureFor(body, String(now)), 'base64').toString('hex') })],
    ['padding stripped', (body, now) => ({ signature: signatureFor(body, String(now)).replace(/=+$/, '') })],
    ['one character changed', (body, now) => ({ signature: `${signatureFor(body, String(now)).startsWith('A') ? 'B' : 'A'}${signatureFor(body, String(now)).slice(1)}` })],
    ['with an RTL mark', (body, now) => ({ signature: `${signatureFor(body, String(now))}\u200f` })],
    ['with a NUL', (body, now) => ({ signature: `${signatureFor(body, String(now))}\u0000` })],
    ['with a lone surrogate', (body, now) => ({ signature: `\ud800${signatureFor(body, String(now)).slice(1)}` })],
    ['v1-style sha256 hex of secret+body', (body) => ({ signature: Buffer.from(`${CLIENT_SECRET}${body}`).toString('hex').slice(0, 64) })],
    ['timestamp in seconds', (_body, now) => ({ timestamp: Math.floor(now / 1000) })],
    ['timestamp with a fraction', (_body, now) => ({ timestamp: `${now}.5` })],
    ['negative timestamp', (_body, now) => ({ timestamp: `-${now}` })],
    ['17-digit timestamp', () => ({ timestamp: '1'.repeat(17) })],
    ['Arabic-Indic digits', () => ({ timestamp: '١٧٠٠٠٠٠٠٠٠٠٠٠' })],
    ['timestamp of an ISO date', (_body, now) => ({ timestamp: new Date(now).toISOString() })],
    ['signed for another host', () => ({ extraHeaders: { host: 'evil.example.test' } })],
    ['signature header with another name', () => ({ names: { signature: 'x-hubspot-signature-v2' } })],
  ];

  it.each(breakings)('refuses %s with 401 and puts nothing on the bus', async (_name, breaking) => {
    const now = Date.now();
    vi.setSystemTime(now);
    const { body } = freshBatch([{ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 4, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 5 }]);
    await expectRejected('broken signature header', delivery(body, { timestamp: now, ...breaking(body, now) }), 401);
  });

  it('refuses random breakings of random valid batches with 401', async () => {
    await check(fc.tuple(validBatch, fc.nat({ max: breakings.length - 1 })), async ([templates, index]) => {
      const now = Date.now();
      vi.setSystemTime(now);
      const { body } = freshBatch(templates);
      const [, breaking] = breakings[index]!;
      await expectRejected('broken signature header', delivery(body, { timestamp: now, ...breaking(body, now) }), 401);
      vi.useRealTimers();
    });
  });

  it('reads header names in any case (HTTP header names are case-insensitive)', async () => {
    const caseVariant = fc.constantFrom('x-hubspot-signature-v3', 'X-HubSpot-Signature-v3', 'X-HUBSPOT-SIGNATURE-V3', 'x-HubSpot-signature-V3');
    const timestampVariant = fc.constantFrom('x-hubspot-request-timestamp', 'X-HubSpot-Request-Timestamp', 'X-HUBSPOT-REQUEST-TIMESTAMP');
    const typeVariant = fc.constantFrom('content-type', 'Content-Type', 'CONTENT-TYPE');
    await check(fc.tuple(validBatch, caseVariant, timestampVariant, typeVariant), async ([templates, signature, timestamp, contentType]) => {
      const { events, body } = freshBatch(templates);
      await expectAccepted('header name case', delivery(body, { names: { signature, timestamp, contentType } }), events);
    });
  });
});

describe('fuzz: the 5-minute replay window, to the millisecond', () => {
  const now = Date.UTC(2026, 4, 21, 12, 0, 0);
  const edges: readonly [string, number, 'accepted' | 'stale' | 'future'][] = [
    ['exactly 300000 ms old', -HUBSPOT_SIGNATURE_MAX_AGE_MS, 'accepted'],
    ['300001 ms old', -HUBSPOT_SIGNATURE_MAX_AGE_MS - 1, 'stale'],
    ['exactly 300000 ms in the future', HUBSPOT_SIGNATURE_MAX_AGE_MS, 'accepted'],
    ['300001 ms in the future', HUBSPOT_SIGNATURE_MAX_AGE_MS + 1, 'future'],
    ['now', 0, 'accepted'],
    ['at the epoch', -now, 'stale'],
  ];

  it.each(edges)('a timestamp %s is %s', async (_name, offset, outcome) => {
    vi.setSystemTime(now);
    const { events, body } = freshBatch([{ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 4, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 5 }]);
    const request = delivery(body, { timestamp: now + offset });
    if (outcome === 'accepted') await expectAccepted('replay window', request, events);
    else expect(await expectRejected('replay window', request, 401)).toContain(`${outcome}-timestamp`);
  });

  it('accepts every offset inside the window and refuses every offset outside it', async () => {
    const limit = HUBSPOT_SIGNATURE_MAX_AGE_MS;
    const offset = fc.oneof(fc.integer({ min: -limit, max: limit }), fc.integer({ min: limit + 1, max: 10 * limit }), fc.integer({ min: -10 * limit, max: -limit - 1 }));
    await check(fc.tuple(offset, validBatch), async ([age, templates]) => {
      vi.setSystemTime(now);
      const { events, body } = freshBatch(templates);
      const request = delivery(body, { timestamp: now + age });
      if (Math.abs(age) <= limit) await expectAccepted('replay window', request, events);
      else await expectRejected('replay window', request, 401);
      vi.useRealTimers();
    });
  });
});

describe('fuzz: unicode', () => {
  it('accepts valid batches whose strings hold lone surrogates, bidi marks, NUL and BOM, escaped or raw', async () => {
    // JSON.stringify escapes lone surrogates; a sender may send them raw (JSON.parse takes both).
    const rawSurrogates = (text: string) =>
      text.replace(/(?<!\\)((?:\\\\)*)\\u(d[89a-f][0-9a-f]{2})/g, (_all, slashes: string, hex: string) => `${slashes}${String.fromCharCode(Number.parseInt(hex, 16))}`);
    await check(fc.tuple(validBatch, fc.boolean()), async ([templates, raw]) => {
      const { events, body } = freshBatch(templates);
      const added = await expectAccepted('unicode in strings', delivery(raw ? rawSurrogates(body) : body), events);
      const details = new Map(added.map((entry) => {
        const detail = JSON.parse(entry.Detail) as { eventId: string; stage?: string; propertyValue?: string };
        return [detail.eventId, detail];
      }));
      for (const event of events.filter((item) => item.propertyValue !== undefined)) {
        const detail = details.get(String(event.eventId));
        expect(detail?.stage ?? detail?.propertyValue, 'the property value reaches the bus unchanged').toBe(event.propertyValue);
      }
    });
  });

  it('rejects unicode where the protocol wants ASCII', async () => {
    const nasty = fc.constantFrom(...NASTY_CHARACTERS.filter((character) => character.trim() !== ''));
    await check(fc.tuple(validBatch, nasty, fc.nat({ max: 4 })), async ([templates, character, where]) => {
      const { body } = freshBatch(templates);
      const requests = [
        () => delivery(body.replace('[{', `[{"subscriptionType":"deal${character}.creation",`).replace(/,"subscriptionType":"[^"]*"/, '')),
        () => delivery(`${character}${body}`),
        () => delivery(body, { contentType: `application/json${character}` }),
        () => delivery(body, { path: `/webhooks/hub${encodeURIComponent(character)}spot` }),
        () => delivery(body.replace('"portalId":', `"portal${character}Id":`)),
      ];
      // A lone surrogate has no URL encoding; it goes in the body instead.
      const place = where === 3 && !character.isWellFormed() ? 1 : where;
      await expectRejected('unicode out of place', requests[place]!(), place === 2 ? 415 : place === 3 ? 404 : 400);
    });
  });

  it('rejects a raw NUL inside a JSON string as malformed JSON', async () => {
    const { body } = freshBatch([{ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 4, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 5, changeSource: 'CRM\u0000UI' }]);
    expect(await expectRejected('unicode out of place', delivery(body.replace('\\u0000', '\u0000')), 400)).toMatch(/not valid JSON/);
  });
});

describe('fuzz: __proto__, constructor and prototype keys', () => {
  const DANGEROUS_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
  /** A payload that pollutes Object.prototype if anything merges it naively. */
  const pollution = () => ({ polluted: 'yes', propertyName: { injected: true }, prototype: { polluted: 'yes' } });

  /** `value` with own enumerable `key` (even `__proto__`), so JSON.stringify writes it. */
  function withKey(value: Record<string, unknown>, key: string, inner: unknown): Record<string, unknown> {
    const copy = { ...value };
    Object.defineProperty(copy, key, { value: inner, enumerable: true, writable: true, configurable: true });
    return copy;
  }

  it('accepts valid events carrying them as extra keys at any depth, and nothing is polluted or injected', async () => {
    const depth = fc.nat({ max: 5 });
    await check(fc.tuple(validBatch, fc.constantFrom(...DANGEROUS_KEYS), depth), async ([templates, key, levels]) => {
      let inner: Record<string, unknown> = pollution();
      for (let level = 0; level < levels; level += 1) inner = withKey({ level }, key, inner);
      const events = templates.map((template) => withKey(withFreshId(template), key, inner));
      const added = await expectAccepted('prototype keys', delivery(JSON.stringify(events)), events);
      for (const entry of added) expect(entry.Detail).not.toContain('injected');
    });
  });

  it('accepts subscription and object types named after Object.prototype members, keeping them as words', async () => {
    const member = fc.constantFrom('constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'toLocaleString');
    await check(member, async (name) => {
      const events = [
        withFreshId({ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 4, subscriptionType: `deal.${name}`, attemptNumber: 0, objectId: 5 }),
        withFreshId({ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 4, subscriptionType: `object.${name}`, objectTypeId: name, attemptNumber: 0, objectId: 6 }),
      ];
      const added = await expectAccepted('prototype member names', delivery(JSON.stringify(events)), events);
      const details = added.map((entry) => JSON.parse(entry.Detail) as { objectType: string; changeType: string });
      expect(details.map((detail) => detail.changeType)).toEqual([name, name]);
      expect(details.map((detail) => detail.objectType).sort()).toEqual(['deal', name].sort());
    });
  });

  it('rejects them where the schema wants something else: as the body, in place of a field, as a field value', async () => {
    await check(fc.tuple(validBatch, fc.constantFrom(...DANGEROUS_KEYS), fc.nat({ max: 2 })), async ([templates, key, where]) => {
      const events = templates.map(withFreshId);
      const bodies = [
        () => withKey({}, key, events),
        () => events.map((event) => withKey({ ...event, objectId: undefined }, key, event.objectId)),
        () => events.map((event) => ({ ...event, propertyValue: withKey({}, key, pollution()) })),
      ];
      await expectRejected('prototype keys', delivery(JSON.stringify(bodies[where]!())), 400);
    });
  });
});

describe('fuzz: deeply nested JSON', () => {
  /** JSON text nested `depth` levels in `shape`, around `core`. */
  function nested(depth: number, shape: 'array' | 'object' | 'mixed', core = '1'): string {
    const open = (level: number) => (shape === 'array' || (shape === 'mixed' && level % 2 === 0) ? '[' : '{"a":');
    const close = (level: number) => (shape === 'array' || (shape === 'mixed' && level % 2 === 0) ? ']' : '}');
    let head = '';
    let tail = '';
    for (let level = 0; level < depth; level += 1) {
      head += open(level);
      tail = close(level) + tail;
    }
    return head + core + tail;
  }
  const shape = fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<'array' | 'object' | 'mixed'>;

  it.each([10_000, 100_000, 500_000])('rejects a body nested %i deep with 400, not a stack overflow', async (depth) => {
    for (const form of ['array', 'object', 'mixed'] as const) {
      const body = nested(depth, form);
      if (Buffer.byteLength(body) > MAX_WEBHOOK_BODY_BYTES) continue;
      await expectRejected('deep nesting', delivery(body), 400);
    }
  });

  it('rejects deep nesting as the body, in a field, or unbalanced; accepts it in an extra field', async () => {
    await check(fc.tuple(fc.integer({ min: 1, max: 10_000 }), shape, fc.nat({ max: 3 }), validEvent), async ([depth, form, where, template]) => {
      const event = withFreshId(template);
      const text = JSON.stringify(event);
      if (where === 0) await expectRejected('deep nesting', delivery(nested(depth, form)), 400);
      if (where === 1) await expectRejected('deep nesting', delivery(`[${text.replace('"objectId":', `"objectId":${nested(depth, form)},"x":`)}]`), 400);
      if (where === 2) await expectRejected('deep nesting', delivery(nested(depth, form).slice(0, -1)), 400);
      if (where === 3) await expectAccepted('deep nesting', delivery(`[${text.slice(0, -1)},"extra":${nested(depth, form)}}]`), [event]);
    });
  });
});

describe('fuzz: numbers', () => {
  const NUMBER_FIELDS = ['eventId', 'subscriptionId', 'portalId', 'appId', 'occurredAt', 'attemptNumber', 'objectId'] as const;
  const LITERALS = [
    '1e400', '-1e400', '123456789012345678901234567890', '9007199254740993', '9007199254740991', '9007199254740992',
    '8640000000000000', '8640000000000001', '253402300799999', '253402300800000', '1e21', '1E2', '-0', '0.0', '5e-324',
    '-1', '1.5', '0x10', '01', '+1', 'NaN', 'Infinity', '1_000',
  ];

  it('answers any number literal in any numeric field with a clean 4xx or a canonical 200', async () => {
    await check(fc.tuple(validEvent, fc.constantFrom(...NUMBER_FIELDS), fc.constantFrom(...LITERALS)), async ([template, field, literal]) => {
      const event = withFreshId(template);
      const text = JSON.stringify({ ...event, [field]: '__NUMBER__' }).replace('"__NUMBER__"', literal);
      await expectHandled('huge numbers', delivery(`[${text}]`), 1);
    });
  });

  it.each([
    ['8640000000000001', 'past the last Date'],
    ['8640000000000000', 'the last Date, year 275760'],
    ['253402300800000', 'year 10000'],
  ])('rejects occurredAt %s (%s) with 400 naming the field — it crashed the handler before', async (literal) => {
    const event = withFreshId({ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 0, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 5 });
    const body = `[${JSON.stringify(event).replace('"occurredAt":0', `"occurredAt":${literal}`)}]`;
    expect(await expectRejected('huge numbers', delivery(body), 400)).toContain('body[0].occurredAt');
  });

  it('accepts occurredAt at the last millisecond of year 9999', async () => {
    const event = withFreshId({ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 253_402_300_799_999, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 5 });
    await expectAccepted('huge numbers', delivery(JSON.stringify([event])), [event]);
  });
});

describe('fuzz: methods, sources and content types', () => {
  it('answers a media type other than application/json with 415, and application/json with any parameters with 200', async () => {
    const mediaType = fc.oneof(
      fc.constantFrom('application/json', 'Application/JSON', ' application/json ', 'text/plain', 'text/json', 'application/jsonp',
        'application/json-patch+json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json, text/plain', '', '*/*'),
      fc.string({ maxLength: 20 }).filter((text) => !text.includes(';')),
    );
    const parameters = fc.constantFrom('', ';charset=utf-8', '; charset=UTF-8', '; charset=utf-16', '; charset="latin1"', ';;;', '; boundary=x; charset=utf-8');
    await check(fc.tuple(validBatch, mediaType, parameters), async ([templates, type, parameter]) => {
      const { events, body } = freshBatch(templates);
      const request = delivery(body, { contentType: `${type}${parameter}` });
      if (type.trim().toLowerCase() === 'application/json') await expectAccepted('content type', request, events);
      else await expectRejected('content type', request, 415);
    });
  });

  it('answers a missing content type with 415', async () => {
    await expectRejected('content type', delivery('[]', { contentType: null }), 415);
  });

  it('answers any method but POST with 405, however it is signed', async () => {
    const method = fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND');
    await check(fc.tuple(validBatch, method), async ([templates, verb]) => {
      const { body } = freshBatch(templates);
      await expectRejected('method', delivery(body, { method: verb }), 405);
    });
  });

  it('answers a lower-case "post" that reached the handler unnormalised with 405', async () => {
    const { body } = freshBatch([{ subscriptionId: 1, portalId: 2, appId: 3, occurredAt: 4, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 5 }]);
    await expectRejected('method', { ...delivery(body), httpMethod: 'post' }, 405);
  });

  it('answers any source but hubspot, pipedrive and salesforce with 404, prototype names and the two-level routes\' names included', async () => {
    const source = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'HubSpot', 'HUBSPOT', 'hubspot ', 'Salesforce', 'standard', 'callbacks', 'Pipedrive'),
      fc.string({ minLength: 1, maxLength: 20 }),
    );
    await check(fc.tuple(validBatch, source.filter((name) => !['hubspot', 'pipedrive', 'salesforce'].includes(name))), async ([templates, name]) => {
      const path = `/webhooks/${encodeURIComponent(name)}`;
      const { body } = freshBatch(templates);
      await expectRejected('unknown source', delivery(body, { path }), 404);
    });
  });

  it('answers an event with no source path parameter at all with 404', async () => {
    await expectRejected('unknown source', { ...delivery('[]'), pathParameters: null }, 404);
  });
});

describe('fuzz: validly signed bodies that break the schema', () => {
  const REQUIRED = ['eventId', 'subscriptionId', 'portalId', 'appId', 'occurredAt', 'attemptNumber', 'objectId'] as const;
  const BAD_VALUES: readonly unknown[] = [undefined, null, -1, 1.5, '1', true, [], {}, 2 ** 53, -(2 ** 53), ''];

  it('rejects a required field missing or of the wrong kind, naming body[i].field', async () => {
    await check(fc.tuple(validBatch, fc.constantFrom(...REQUIRED), fc.constantFrom(...BAD_VALUES), fc.nat()), async ([templates, field, bad, pick]) => {
      const events = templates.map(withFreshId);
      const index = pick % events.length;
      events[index] = { ...events[index], [field]: bad };
      expect(await expectRejected('schema violation', delivery(JSON.stringify(events)), 400)).toContain(`body[${index}].${field}`);
    });
  });

  it('rejects malformed optional fields and subscription types, naming body[i].field', async () => {
    const breakage = fc.constantFrom<[string, unknown]>(
      ['subscriptionType', 'deal'], ['subscriptionType', 'Deal.creation'], ['subscriptionType', 'deal.'], ['subscriptionType', 'deal.stage2'],
      ['subscriptionType', 'deal.prop change'], ['subscriptionType', 7], ['subscriptionType', undefined], ['eventType', 'nope'],
      ['objectTypeId', ''], ['propertyName', ''], ['propertyValue', 5], ['changeSource', null], ['changeFlag', {}],
    );
    await check(fc.tuple(validBatch, breakage, fc.nat()), async ([templates, [field, bad], pick]) => {
      const events = templates.map(withFreshId);
      const index = pick % events.length;
      events[index] = { ...events[index], [field]: bad };
      const message = await expectRejected('schema violation', delivery(JSON.stringify(events)), 400);
      expect(message).toContain(`body[${index}].${field === 'eventType' ? 'eventType' : field}`);
    });
  });

  it('rejects batches of the wrong shape: empty, over 100 events, not an array, holes', async () => {
    const shape = fc.constantFrom('empty', 'too many', 'object', 'null', 'string', 'nested', 'null event');
    await check(fc.tuple(validEvent, shape), async ([template, kind]) => {
      const event = withFreshId(template);
      const bodies: Record<string, unknown> = {
        empty: [],
        'too many': Array.from({ length: 101 }, () => event),
        object: { events: [event] },
        null: null,
        string: JSON.stringify([event]),
        nested: [[event]],
        'null event': [event, null],
      };
      await expectRejected('schema violation', delivery(JSON.stringify(bodies[kind])), 400);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Corpus

/** A hand-written request under `corpus/`. Header values may hold `{signature}` and `{timestamp}`. */
const CorpusEntry = z.strictObject({
  why: z.string().min(20),
  method: z.string().default('POST'),
  path: z.string().default(PATH),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({ 'content-type': 'application/json' }),
  /** The body, as text, as a JSON value, or as text pieces each repeated. */
  body: z.string().optional(),
  bodyJson: z.unknown().optional(),
  bodyParts: z.array(z.tuple([z.string(), z.number().int().positive()])).optional(),
  /** Add a genuine signature and timestamp headers (unless `headers` names them). */
  sign: z.boolean().default(true),
  /** Timestamp relative to the (frozen) clock. */
  timestampOffsetMs: z.number().int().default(0),
  /** Event ids in `bodyJson` are replaced by fresh ones, so the entry is accepted as new every run. */
  freshEventIds: z.boolean().default(false),
  expectStatus: z.number().int().min(200).max(499),
  /** Text the response message (4xx) or some bus Detail (200) must contain. */
  expectText: z.string().optional(),
  /** Text no bus Detail may contain (a value that must not be picked up). */
  forbidText: z.string().optional(),
});

const corpusDirectory = new URL('./corpus/', import.meta.url);
const corpus = readdirSync(corpusDirectory)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name): [string, z.infer<typeof CorpusEntry>] => [name, CorpusEntry.parse(JSON.parse(readFileSync(new URL(name, corpusDirectory), 'utf8')))]);

/** The body text of a corpus entry. */
function corpusBody(entry: z.infer<typeof CorpusEntry>): { body: string; eventCount: number } {
  if (entry.body !== undefined) return { body: entry.body, eventCount: 0 };
  if (entry.bodyParts !== undefined) return { body: entry.bodyParts.map(([text, times]) => text.repeat(times)).join(''), eventCount: 0 };
  let value = entry.bodyJson;
  if (entry.freshEventIds && Array.isArray(value)) {
    value = value.map((event: unknown) => (typeof event === 'object' && event !== null ? { ...event, eventId: (nextEventId += 1) } : event));
  }
  return { body: JSON.stringify(value), eventCount: Array.isArray(value) ? value.length : 0 };
}

describe('fuzz: the corpus of hand-written nasty requests', () => {
  it('has entries', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(8);
  });

  it.each(corpus)('%s', async (_name, entry) => {
    const now = Date.UTC(2026, 4, 21, 12, 0, 0);
    vi.setSystemTime(now);
    const { body, eventCount } = corpusBody(entry);
    const timestamp = String(now + entry.timestampOffsetMs);
    const signature = signatureFor(body, timestamp, { method: entry.method, path: entry.path });
    const fill = (value: string) => value.replaceAll('{signature}', signature).replaceAll('{timestamp}', timestamp);
    const headers: Record<string, string | string[]> = { host: HOST };
    if (entry.sign) Object.assign(headers, { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp });
    for (const [name, value] of Object.entries(entry.headers)) headers[name] = typeof value === 'string' ? fill(value) : value.map(fill);
    const request = toApiGatewayEvent({ method: entry.method, url: entry.path, headers, body, protocol: 'https' });
    if (entry.expectStatus === 200) {
      const { response, added } = await exchange('corpus', request);
      expect(response.statusCode, response.body).toBe(200);
      expect(Acceptance.parse(JSON.parse(response.body)).accepted).toBe(eventCount);
      expect(added).toHaveLength(eventCount);
      expectCanonical(added);
      const details = added.map((item) => item.Detail).join('\n');
      if (entry.expectText !== undefined) expect(details).toContain(entry.expectText);
      if (entry.forbidText !== undefined) expect(details).not.toContain(entry.forbidText);
    } else {
      const message = await expectRejected('corpus', request, entry.expectStatus);
      if (entry.expectText !== undefined) expect(message).toContain(entry.expectText);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The routes beyond HubSpot

/** A request to any route, as API Gateway would hand it over. */
function routeRequest(path: string, body: string, headers: Readonly<Record<string, string>>, method = 'POST'): APIGatewayProxyEvent {
  return toApiGatewayEvent({ method, url: path, headers: { host: HOST, 'content-type': 'application/json', ...headers }, body, protocol: 'https' });
}

const PIPEDRIVE_AUTH = `Basic ${Buffer.from(`${PIPEDRIVE.user}:${PIPEDRIVE.password}`).toString('base64')}`;

/** A Pipedrive v2 deal-won delivery with a fresh event id. */
function pipedriveWon(): Record<string, any> {
  nextEventId += 1;
  return {
    meta: {
      action: 'change', entity: 'deal', company_id: '12882925', entity_id: String(nextEventId), id: `pd-${nextEventId}`,
      timestamp: '2026-05-15T18:00:00.000Z', version: '2.0', attempt: 1, host: 'company.pipedrive.com',
    },
    data: { id: nextEventId, status: 'won' },
    previous: { status: 'open' },
  };
}

describe('fuzz: POST /webhooks/pipedrive', () => {
  const deliver = (body: string, authorization = PIPEDRIVE_AUTH) => routeRequest('/webhooks/pipedrive', body, { authorization });

  it('accepts a won deal with the right credentials (the control case), and its retry as a duplicate with 200', async () => {
    const won = pipedriveWon();
    const { response, added } = await exchange('pipedrive control', deliver(JSON.stringify(won)));
    expect(response.statusCode).toBe(200);
    expect(added.map((entry) => entry.DetailType)).toEqual([DEAL_STAGE_CHANGED]);
    expectCanonical(added);
    const retry = await exchange('pipedrive control', deliver(JSON.stringify({ ...won, meta: { ...won.meta, attempt: 2 } })));
    expect(retry.response.statusCode).toBe(200);
    expect(JSON.parse(retry.response.body)).toEqual({ accepted: 0, duplicates: 1 });
  });

  it('refuses any Authorization header but the right one with 401', async () => {
    const header = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 })).map(([user, password]) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`),
      fc.constantFrom(`${PIPEDRIVE_AUTH}=`, PIPEDRIVE_AUTH.replace('Basic', 'Bearer'), `Basic ${Buffer.from(`${PIPEDRIVE.user}:${PIPEDRIVE.password} `).toString('base64')}`, `Basic ${Buffer.from(`${PIPEDRIVE.user}\u0000:${PIPEDRIVE.password}`).toString('base64')}`),
    );
    await check(header.filter((value) => value.trim() !== PIPEDRIVE_AUTH), async (authorization) => {
      await expectRejected('pipedrive credentials', deliver(JSON.stringify(pipedriveWon()), authorization), 401);
    });
  });

  it('rejects arbitrary JSON values with the right credentials with 400', async () => {
    await check(fc.jsonValue({ maxDepth: 4 }), async (value) => {
      await expectRejected('pipedrive random JSON', deliver(JSON.stringify(value) ?? 'null'), 400);
    });
  });

  it('rejects a required meta field missing or of the wrong kind, naming body.meta.<field>', async () => {
    const REQUIRED = ['action', 'entity', 'entity_id', 'id', 'company_id', 'timestamp', 'version'] as const;
    const BAD: readonly unknown[] = [undefined, null, -1, 1.5, '', [], {}, true, 'a b', 2 ** 53, '\u202e1', '１２'];
    await check(fc.tuple(fc.constantFrom(...REQUIRED), fc.constantFrom(...BAD)), async ([field, bad]) => {
      const won = pipedriveWon();
      won.meta[field] = bad;
      expect(await expectRejected('pipedrive schema', deliver(JSON.stringify(won)), 400)).toContain(`body.meta.${field}`);
    });
  });

  it('handles any status and previous status: a won deal on the bus only for a change to won, everything else as an object change', async () => {
    const status = fc.oneof(fc.constantFrom('won', 'open', 'lost', 'deleted', 'WON', 'won '), fc.string({ maxLength: 8 }));
    await check(fc.tuple(status, fc.option(status, { nil: undefined }), fc.constantFrom('create', 'change', 'delete')), async ([now, before, action]) => {
      const won = pipedriveWon();
      const body = { ...won, meta: { ...won.meta, action }, data: { status: now }, previous: before === undefined ? {} : { status: before } };
      const { response, added } = await exchange('pipedrive status', deliver(JSON.stringify(body)));
      expect(response.statusCode).toBe(200);
      expectCanonical(added);
      const wonNow = now === 'won' && (action === 'create' || (action === 'change' && before !== undefined && before !== 'won'));
      expect(added.map((entry) => entry.DetailType)).toEqual([wonNow ? DEAL_STAGE_CHANGED : CRM_OBJECT_CHANGED]);
    });
  });

  it('answers any method but POST with 405 and a text body with 415', async () => {
    await expectRejected('pipedrive method', routeRequest('/webhooks/pipedrive', '{}', { authorization: PIPEDRIVE_AUTH }, 'PUT'), 405);
    await expectRejected('pipedrive content type', routeRequest('/webhooks/pipedrive', '{}', { authorization: PIPEDRIVE_AUTH, 'content-type': 'text/plain' }), 415);
  });
});

describe('fuzz: POST /webhooks/standard/{mapping}', () => {
  const [secret] = parseSigningSecrets('fuzz', STANDARD_SECRET);
  /** A delivery signed now (or `offsetSeconds` from now) unless headers are given. */
  const deliver = (body: string, options: { id?: string; offsetSeconds?: number; headers?: Record<string, string>; mapping?: string } = {}) => {
    nextEventId += 1;
    const id = options.id ?? `msg_${nextEventId}`;
    const timestamp = String(Math.floor(Date.now() / 1000) + (options.offsetSeconds ?? 0));
    const signature = standardWebhookSignature({ id, timestamp, body, secret: secret! });
    return routeRequest(`/webhooks/standard/${options.mapping ?? 'deal-events'}`, body, {
      'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature, ...options.headers,
    });
  };
  const won = () => {
    nextEventId += 1;
    return { type: 'deal.won', timestamp: '2026-05-15T18:00:00.000Z', data: { crm: 'acme-crm', account_id: 'tenant-1', deal_id: `D-${nextEventId}` } };
  };

  it('accepts a signed won payload (the control case)', async () => {
    const { response, added } = await exchange('standard control', deliver(JSON.stringify(won())));
    expect(response.statusCode).toBe(200);
    expect(added).toHaveLength(1);
    expectCanonical(added);
  });

  it('answers signed arbitrary JSON with 200 and nothing on the bus (no won deal) or 400 (not an object) — never anything else', async () => {
    await check(fc.jsonValue({ maxDepth: 4 }), async (value) => {
      await expectHandled('standard random JSON', deliver(JSON.stringify(value) ?? 'null'), 0);
    });
  });

  it('refuses broken webhook-id, webhook-timestamp and webhook-signature headers with 401', async () => {
    const header = fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature');
    await check(fc.tuple(header, fc.string({ maxLength: 60 })), async ([name, value]) => {
      const body = JSON.stringify(won());
      const request = deliver(body, { headers: { [name]: value } });
      const genuine = deliver(body);
      // A random value that happens to be the genuine one is no breakage.
      if (request.headers[name] === genuine.headers[name]) return;
      await expectRejected('standard headers', request, 401);
    });
  });

  it('accepts every timestamp inside the 5-minute window and refuses every one outside it', async () => {
    const limit = STANDARD_WEBHOOK_TOLERANCE_SECONDS;
    const offset = fc.oneof(fc.integer({ min: -limit + 2, max: limit - 2 }), fc.integer({ min: limit + 2, max: 10 * limit }), fc.integer({ min: -10 * limit, max: -limit - 2 }));
    await check(offset, async (seconds) => {
      const request = deliver(JSON.stringify(won()), { offsetSeconds: seconds });
      if (Math.abs(seconds) < limit) {
        const { response } = await exchange('standard window', request);
        expect(response.statusCode).toBe(200);
      } else {
        await expectRejected('standard window', request, 401);
      }
    });
  });

  it('answers any mapping name but a known one with 404', async () => {
    const name = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'Deal-Events', 'deal-events ', 'deal_events'), fc.string({ minLength: 1, maxLength: 20 }));
    await check(name.filter((candidate) => candidate !== 'deal-events'), async (mapping) => {
      await expectRejected('standard mapping', deliver(JSON.stringify(won()), { mapping: encodeURIComponent(mapping) }), 404);
    });
  });

  it('rejects a won payload whose ids are not ids with 400 naming the body path', async () => {
    const BAD: readonly unknown[] = [null, '', 'a b', 1.5, -0.5, [], {}, true, '\u0000', 'x'.repeat(101)];
    await check(fc.tuple(fc.constantFrom('crm', 'account_id', 'deal_id'), fc.constantFrom(...BAD)), async ([field, bad]) => {
      const body = won();
      (body.data as Record<string, unknown>)[field] = bad;
      expect(await expectRejected('standard ids', deliver(JSON.stringify(body)), 400)).toContain(`body.data.${field}`);
    });
  });
});

describe('fuzz: POST /callbacks/{system}', () => {
  const seconds = () => Math.floor(Date.now() / 1000);
  const token = (claims: Record<string, unknown> = {}) =>
    signJwt(callbackKey, { iss: CALLBACK.issuer, aud: CALLBACK.audience, exp: seconds() + 300, ...claims });
  const callback = () => {
    nextEventId += 1;
    return { orderRef: `S${nextEventId}`, status: 'invoiced', occurredAt: '2026-05-16T09:30:00Z', eventId: `evt-${nextEventId}` };
  };
  const deliver = (body: string, authorization = `Bearer ${token()}`, system = 'erp-middleware') => routeRequest(`/callbacks/${system}`, body, { authorization });

  it('accepts a status change with a genuine token (the control case)', async () => {
    const { response, added } = await exchange('callback control', deliver(JSON.stringify(callback())));
    expect(response.statusCode).toBe(200);
    expect(added.map((entry) => entry.DetailType)).toEqual([ORDER_STATUS_CHANGED]);
    expectCanonical(added);
  });

  it('refuses random Authorization headers and randomly altered tokens with 401', async () => {
    const altered = fc.tuple(fc.nat(), fc.constantFrom('A', 'B', 'g', '-', '_', '.', '')).map(([at, replacement]) => {
      const genuine = token();
      const index = at % genuine.length;
      return { genuine, authorization: `Bearer ${genuine.slice(0, index)}${replacement}${genuine.slice(index + 1)}` };
    });
    const random = fc.string({ maxLength: 100 }).map((authorization) => ({ genuine: undefined, authorization }));
    await check(fc.oneof(random, altered), async ({ genuine, authorization }) => {
      const { response, added } = await exchange('callback tokens', deliver(JSON.stringify(callback()), authorization));
      // Still genuine: the same signing input, and a signature whose bytes did not change (the same
      // character, or another in the unused low bits of the last base64url character).
      const [header, payload, signature] = authorization.slice('Bearer '.length).split('.');
      const original = genuine?.split('.');
      const unchanged =
        original !== undefined && header === original[0] && payload === original[1] && signature !== undefined &&
        /^[A-Za-z0-9_-]+$/.test(signature) && Buffer.from(signature, 'base64url').equals(Buffer.from(original[2]!, 'base64url'));
      expect(response.statusCode, `${authorization}: ${response.body}`).toBe(unchanged ? 200 : 401);
      expect(added).toHaveLength(unchanged ? 1 : 0);
    });
  });

  it('refuses tokens with claims out of line with 401', async () => {
    const claims = fc.constantFrom<Record<string, unknown>>(
      { iss: 'https://evil.example.test' }, { iss: undefined }, { aud: 'someone' }, { aud: [] }, { aud: undefined },
      { exp: undefined }, { exp: 0 }, { exp: '9999999999' }, { nbf: 9_999_999_999 }, { iat: 9_999_999_999 }, { iss: `${CALLBACK.issuer}/` },
    );
    await check(claims, async (changes) => {
      await expectRejected('callback claims', deliver(JSON.stringify(callback()), `Bearer ${token(changes)}`), 401);
    });
  });

  it('rejects arbitrary JSON with a genuine token with 400', async () => {
    await check(fc.jsonValue({ maxDepth: 4 }), async (value) => {
      await expectRejected('callback random JSON', deliver(JSON.stringify(value) ?? 'null'), 400);
    });
  });

  it('answers system names that are not lower-case slugs with 404 and accepts the ones that are', async () => {
    const name = fc.oneof(fc.constantFrom('__proto__', 'ERP', 'erp middleware', '-erp', 'a'.repeat(41), 'erp.middleware'), fc.string({ minLength: 1, maxLength: 45 }));
    await check(name, async (system) => {
      const request = deliver(JSON.stringify(callback()), undefined, encodeURIComponent(system));
      if (/^[a-z0-9][a-z0-9_-]{0,39}$/.test(system)) {
        const { response, added } = await exchange('callback system', request);
        expect(response.statusCode).toBe(200);
        expect(JSON.parse(added[0]!.Detail).system).toBe(system);
      } else {
        await expectRejected('callback system', request, 404);
      }
    });
  });
});

describe('fuzz: POST /webhooks/salesforce', () => {
  /** A delivery from a Salesforce address unless another is given. */
  const deliver = (body: string, options: { sourceIp?: string; headers?: Record<string, string> } = {}) =>
    toApiGatewayEvent({
      method: 'POST',
      url: '/webhooks/salesforce',
      headers: { host: HOST, 'content-type': 'text/xml; charset=utf-8', soapaction: '""', ...options.headers },
      body,
      protocol: 'https',
      sourceIp: options.sourceIp ?? SALESFORCE.sourceIp,
    });
  /** Fresh notification and Opportunity ids, so a message is new to the dedup store. */
  const fresh = (fields: Record<string, string | null> = {}) => {
    nextEventId += 1;
    return { id: salesforceId('04l', nextEventId % 100_000), fields: { Id: salesforceId('006', nextEventId % 100_000), IsWon: 'true', ...fields } };
  };

  /** A 4xx (one of `statuses`) with a SOAP Fault, nothing on the bus; the Fault's reason. */
  async function expectFault(kind: string, event: APIGatewayProxyEvent, statuses: number | readonly number[]): Promise<string> {
    const { response, added } = await exchange(kind, event);
    const reason = `${kind}: ${response.statusCode} ${response.body.slice(0, 300)}`;
    expect([statuses].flat(), reason).toContain(response.statusCode);
    expect(response.headers?.['content-type'], reason).toBe('text/xml; charset=utf-8');
    expect(added, `${kind}: a rejected request reached the bus`).toHaveLength(0);
    const fault = readEnvelope(readXml(response.body)).fault;
    expect(fault?.code, reason).toBe('soap:Client');
    return fault!.reason;
  }

  /** A 200 whose body is the Ack, with `eventCount` canonical events on the bus. */
  async function expectAck(kind: string, event: APIGatewayProxyEvent, eventCount: number): Promise<RecordedEntry[]> {
    const { response, added } = await exchange(kind, event);
    expect(response.statusCode, `${kind}: ${response.body.slice(0, 300)}`).toBe(200);
    const payload = readEnvelope(readXml(response.body)).payload;
    expect(payload?.children.find((child) => child.name === 'Ack')?.text).toBe('true');
    expect(added).toHaveLength(eventCount);
    expectCanonical(added);
    return added;
  }

  it('acknowledges a won Opportunity (the control case), and its redelivery as a duplicate', async () => {
    const message = outboundMessage([fresh()]);
    await expectAck('salesforce control', deliver(message), 1);
    await expectAck('salesforce control', deliver(message), 0);
  });

  it('answers arbitrary text with a 400 Fault, never a 5xx or a throw', async () => {
    await check(fc.string({ maxLength: 300 }), async (text) => {
      await expectFault('salesforce random text', deliver(text), 400);
    });
  });

  it('answers every truncation of a valid message with a 400 Fault', async () => {
    const message = outboundMessage([fresh(), fresh()]);
    await check(fc.integer({ min: 0, max: message.length - 1 }), async (length) => {
      await expectFault('salesforce truncated', deliver(message.slice(0, length)), 400);
    });
  });

  it('carries any text XML can hold in the fields, and puts canonical events on the bus', async () => {
    const xmlText = fc.string({ unit: fc.oneof(fc.constantFrom('<', '&', '"', "'", ']]>', '\u202e', '𝄞', 'é', '\u0085', '\t'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 40 })
      .filter((text) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text));
    await check(fc.tuple(xmlText, xmlText), async ([name, stage]) => {
      await expectAck('salesforce field text', deliver(outboundMessage([fresh({ Name: name, StageName: stage, IsWon: 'false' })])), 1);
    });
  });

  it('accepts exactly the source addresses inside the ranges, IPv4 and IPv6, and refuses the rest with 403', async () => {
    const v4 = fc.tuple(fc.constantFrom(13, 13, 13, 12, 127), fc.integer({ min: 106, max: 113 }), fc.nat(255), fc.nat(255))
      .map(([a, b, c, d]) => ({ address: `${a}.${b}.${c}.${d}`, inside: a === 13 && b >= 108 && b <= 111 }));
    const v6 = fc.tuple(fc.constantFrom(0x2a01, 0x2a02, 0x2001), fc.constantFrom(0x111, 0x112, 0x110), fc.nat(0xffff))
      .map(([a, b, c]) => ({ address: `${a.toString(16)}:${b.toString(16)}:${c.toString(16)}::1`, inside: a === 0x2a01 && b === 0x111 }));
    await check(fc.oneof(v4, v6), async ({ address, inside }) => {
      const event = deliver(outboundMessage([fresh()]), { sourceIp: address });
      if (inside) await expectAck('salesforce address', event, 1);
      else expect(await expectFault('salesforce address', event, 403)).toContain(address);
    });
  });

  it('refuses any other org with 403, whatever id it names', async () => {
    const org = fc.stringMatching(/^00D[A-Za-z0-9]{12}$/).filter((id) => id !== SALESFORCE.organizationId.slice(0, 15));
    await check(org, async (organizationId) => {
      await expectFault('salesforce org', deliver(outboundMessage([fresh()], organizationId)), 403);
    });
  });

  /** A hand-written request under `corpus/salesforce/`. */
  const SalesforceCorpusEntry = z.strictObject({
    why: z.string().min(20),
    body: z.string().optional(),
    bodyParts: z.array(z.tuple([z.string(), z.number().int().positive()])).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    sourceIp: z.string().default(SALESFORCE.sourceIp),
    expectStatus: z.number().int().min(200).max(499),
    /** Events a 200 puts on the bus. */
    eventCount: z.number().int().nonnegative().default(0),
    /** Text the Fault's reason must contain. */
    expectText: z.string().optional(),
  });
  const directory = new URL('./corpus/salesforce/', import.meta.url);
  const entries = readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name): [string, z.infer<typeof SalesforceCorpusEntry>] => [name, SalesforceCorpusEntry.parse(JSON.parse(readFileSync(new URL(name, directory), 'utf8')))]);

  it('has a corpus', () => {
    expect(entries.length).toBeGreaterThanOrEqual(8);
  });

  it.each(entries)('corpus: %s', async (_name, entry) => {
    const body = entry.body ?? (entry.bodyParts ?? []).map(([text, times]) => text.repeat(times)).join('');
    const event = deliver(body, { sourceIp: entry.sourceIp, headers: entry.headers });
    if (entry.expectStatus === 200) {
      await expectAck('salesforce corpus', event, entry.eventCount);
      return;
    }
    if (entry.expectStatus === 413) {
      await expectFault('salesforce corpus', event, 413);
      return;
    }
    const reason = await expectFault('salesforce corpus', event, entry.expectStatus);
    if (entry.expectText !== undefined) expect(reason).toContain(entry.expectText);
  });
});
