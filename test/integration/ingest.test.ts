/**
 * The ingest handler against dynalite (idempotency + audit tables from the synthesized
 * stack) and an EventBridge PutEvents endpoint: what reaches the bus, what is rejected and how.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { hubspotSignatureV3 } from '../../functions/connectors/crm/hubspot/webhook.ts';
import { toApiGatewayEvent } from '../../local/ingress/api-gateway-event.ts';
import { createLambdaContext } from '../../local/lambda/lambda-context.ts';
import type { EventBridgeRecorder } from '../support/eventbridge-recorder.ts';
import type { HandlerStores } from '../support/handler-stores.ts';
import { startIngestUnderTest, type IngestUnderTest } from '../support/ingest-under-test.ts';

const CLIENT_SECRET = 'test-client-secret';
const HOST = 'hooks.example.test';

let stores: HandlerStores;
let bus: EventBridgeRecorder;
let handler: IngestUnderTest['handler'];
let auditRecords: () => Promise<Record<string, unknown>[]>;

beforeAll(async () => {
  ({ stores, bus, handler } = await startIngestUnderTest(CLIENT_SECRET));
  const { dynamo } = await import('../../functions/core/aws-clients.ts');
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  auditRecords = async () => (await dynamo().send(new ScanCommand({ TableName: stores.auditTable }))).Items ?? [];
});

afterAll(async () => {
  await bus?.stop();
  await stores?.stop();
});

beforeEach(() => {
  bus.failNext(0);
});

function hubspotEvent(overrides: Record<string, unknown> = {}) {
  return {
    eventId: Math.floor(Math.random() * 1e9),
    subscriptionId: 100,
    portalId: 62515,
    appId: 1160452,
    occurredAt: Date.now(),
    subscriptionType: 'deal.propertyChange',
    attemptNumber: 0,
    objectId: 4001,
    changeSource: 'CRM_UI',
    propertyName: 'dealstage',
    propertyValue: 'closedwon',
    ...overrides,
  };
}

/** A delivery signed the way HubSpot signs it (v3), unless told otherwise. */
function delivery(
  body: string,
  options: { timestamp?: number; secret?: string; contentType?: string; path?: string; method?: string; omit?: string[] } = {},
) {
  const path = options.path ?? '/webhooks/hubspot';
  const method = options.method ?? 'POST';
  const timestamp = String(options.timestamp ?? Date.now());
  const signature = hubspotSignatureV3({
    method,
    uri: `https://${HOST}${path}`,
    body,
    timestamp,
    clientSecret: options.secret ?? CLIENT_SECRET,
  });
  const headers: Record<string, string> = {
    host: HOST,
    'content-type': options.contentType ?? 'application/json',
    'x-hubspot-signature-v3': signature,
    'x-hubspot-request-timestamp': timestamp,
  };
  for (const name of options.omit ?? []) delete headers[name];
  return toApiGatewayEvent({ method, url: path, headers, body, protocol: 'https' });
}

async function send(event: ReturnType<typeof delivery>) {
  return handler(event, createLambdaContext({ functionName: 'ingest' }));
}

describe('ingest: accepted deliveries', () => {
  it('puts each event of a signed batch on the hub bus as a canonical event and audits it', async () => {
    // prepare
    const won = hubspotEvent({ objectId: 5001 });
    const contact = hubspotEvent({ subscriptionType: 'contact.creation', objectId: 77, propertyName: undefined, propertyValue: undefined });
    const before = bus.entries.length;
    // act
    const response = await send(delivery(JSON.stringify([won, contact])));
    // assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ accepted: 2, duplicates: 0 });
    const put = bus.entries.slice(before);
    expect(put.map((entry) => entry.DetailType).sort()).toEqual(['CRM Object Changed', 'Deal Stage Changed']);
    const deal = put.find((entry) => entry.DetailType === 'Deal Stage Changed')!;
    expect(deal.Source).toBe('harmony.crm');
    expect(deal.EventBusName).toBe('harmony-hub');
    expect(JSON.parse(deal.Detail)).toMatchObject({ crm: 'hubspot', accountId: '62515', dealId: '5001', stage: 'closedwon', eventId: String(won.eventId) });
    const audit = await auditRecords();
    const record = audit.find((item) => item.businessKey === 'deal:hubspot:62515:5001');
    expect(record).toMatchObject({ kind: 'webhook', action: 'WebhookAccepted', outcome: 'succeeded', correlationId: deal.EventId });
  });

  it('recognises a redelivered batch and puts nothing twice', async () => {
    const body = JSON.stringify([hubspotEvent({ objectId: 5002 }), hubspotEvent({ objectId: 5003 })]);
    const first = await send(delivery(body));
    const countAfterFirst = bus.entries.length;
    const second = await send(delivery(body));
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(JSON.parse(second.body)).toEqual({ accepted: 0, duplicates: 2 });
    expect(bus.entries.length).toBe(countAfterFirst);
  });

  it('answers 503 when the bus refuses an event, and accepts the redelivery instead of calling it a duplicate', async () => {
    const body = JSON.stringify([hubspotEvent({ objectId: 5004 })]);
    bus.failNext(1);
    const refused = await send(delivery(body));
    expect(refused.statusCode).toBe(503);
    const redelivered = await send(delivery(body));
    expect(redelivered.statusCode).toBe(200);
    expect(JSON.parse(redelivered.body)).toEqual({ accepted: 1, duplicates: 0 });
    expect(bus.entries.filter((entry) => JSON.parse(entry.Detail).dealId === '5004')).toHaveLength(1);
  });
});

describe('ingest: a delivery racing another delivery of the same event', () => {
  it('is not acknowledged while the other is still publishing, so the sender retries instead of the event being lost', async () => {
    const body = JSON.stringify([hubspotEvent({ objectId: 5005 })]);
    bus.delayNext(1500);
    const first = send(delivery(body));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const racing = await send(delivery(body));
    const firstDone = await first;
    const later = await send(delivery(body));

    expect(racing.statusCode).toBe(503);
    expect(racing.headers?.['retry-after']).toBe('5');
    expect(firstDone.statusCode).toBe(200);
    expect(JSON.parse(later.body)).toEqual({ accepted: 0, duplicates: 1 });
    expect(bus.entries.filter((entry) => JSON.parse(entry.Detail).dealId === '5005')).toHaveLength(1);
  });
});

describe('ingest: rejected deliveries put nothing on the bus', () => {
  const body = () => JSON.stringify([hubspotEvent()]);
  const cases: [string, () => ReturnType<typeof delivery>, number, RegExp][] = [
    ['a signature made with another secret', () => delivery(body(), { secret: 'wrong' }), 401, /bad-signature/],
    ['no signature header', () => delivery(body(), { omit: ['x-hubspot-signature-v3'] }), 401, /missing-signature/],
    ['no timestamp header', () => delivery(body(), { omit: ['x-hubspot-request-timestamp'] }), 401, /missing-timestamp/],
    ['a timestamp older than 5 minutes', () => delivery(body(), { timestamp: Date.now() - 5 * 60_000 - 1000 }), 401, /stale/],
    ['a body that is not JSON', () => delivery('[{"eventId": 1,'), 400, /not valid JSON/],
    ['an event without objectId', () => delivery(JSON.stringify([{ ...hubspotEvent(), objectId: undefined }])), 400, /body\[0\]\.objectId/],
    ['an empty batch', () => delivery('[]'), 400, /body/],
    ['a text/plain body', () => delivery(body(), { contentType: 'text/plain' }), 415, /application\/json/],
    ['an unknown source', () => delivery(body(), { path: '/webhooks/nosuchcrm' }), 404, /nosuchcrm/],
    ['a GET', () => delivery('', { method: 'GET' }), 405, /POST/],
  ];
  it.each(cases)('rejects %s', async (_name, build, status, message) => {
    const before = bus.entries.length;
    const response = await send(build());
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body).message).toMatch(message);
    expect(bus.entries.length).toBe(before);
  });

  it('rejects a body over 1 MB with 413 before checking anything else', async () => {
    const events = Array.from({ length: 100 }, () => hubspotEvent({ propertyValue: 'x'.repeat(11_000) }));
    const big = JSON.stringify(events);
    expect(Buffer.byteLength(big)).toBeGreaterThan(1024 * 1024);
    const response = await send(delivery(big));
    expect(response.statusCode).toBe(413);
  });
});

describe('ingest: recorded HubSpot payloads', () => {
  it('accepts every recorded HubSpot webhook fixture that is a valid batch', async () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/hubspot/webhook-batch.json', import.meta.url), 'utf8')) as Record<string, unknown>[];
    const fresh = fixture.map((event, index) => ({ ...event, eventId: 900_000 + index + Math.floor(Math.random() * 1e6), occurredAt: Date.now() }));
    const response = await send(delivery(JSON.stringify(fresh)));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).accepted).toBe(fresh.length);
  });
});
