/**
 * The ingest handler with every inbound source configured — Pipedrive (basic auth), Standard
 * Webhooks (two secrets, as while rotating), JWT callbacks (a JWKS served on loopback) and
 * Salesforce Outbound Messages (org id and source ranges; the sandbox's sender through the local
 * ingress) — against dynalite and a PutEvents recorder: what reaches the bus, what is rejected and how.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { standardWebhookSignature, parseSigningSecrets } from '../../functions/connectors/standard-webhooks/signature.ts';
import {
  CRM_EVENT_SOURCE,
  DEAL_STAGE_CHANGED,
  DealStageChangedDetail,
  ERP_EVENT_SOURCE,
  ORDER_STATUS_CHANGED,
  OrderStatusChangedDetail,
  WON_DEAL_STAGE,
} from '../../functions/core/events.ts';
import { outboundMessageAck } from '../../functions/connectors/crm/salesforce/outbound-message.ts';
import { readEnvelope } from '../../functions/connectors/soap/envelope.ts';
import { readXml } from '../../functions/connectors/soap/xml-reader.ts';
import { toApiGatewayEvent } from '../../local/ingress/api-gateway-event.ts';
import { startIngress } from '../../local/ingress/server.ts';
import { OutboundMessageSender } from '../../local/sandbox/salesforce/outbound-messages.ts';
import { FIXTURE_ORG_ID, outboundFixture, outboundMessage, salesforceId, wonOpportunity } from '../fixtures/salesforce/outbound-messages.ts';
import { createLambdaContext } from '../../local/lambda/lambda-context.ts';
import type { EventBridgeRecorder } from '../support/eventbridge-recorder.ts';
import type { HandlerStores } from '../support/handler-stores.ts';
import { startIngestUnderTest, type IngestUnderTest } from '../support/ingest-under-test.ts';
import { makeKey, signJwt, startJwksServer, type IssuerKey, type JwksServer } from '../support/jwt-issuer.ts';

const HOST = 'hooks.example.test';
const PIPEDRIVE = { user: 'pipedrive-hook', password: 'correct horse battery staple' };
const OLD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEW_SECRET = 'whsec_dGhpcyBpcyB0aGUgbmV3IHNpZ25pbmcgc2VjcmV0IQ==';
const ISSUER = 'https://middleware.example.test';
const AUDIENCE = 'harmony-callbacks';

let stores: HandlerStores;
let bus: EventBridgeRecorder;
let handler: IngestUnderTest['handler'];
let jwks: JwksServer;
let key: IssuerKey;
let auditRecords: () => Promise<Record<string, unknown>[]>;

beforeAll(async () => {
  key = makeKey('ES256', 'middleware-2026');
  jwks = await startJwksServer([key]);
  Object.assign(process.env, {
    PIPEDRIVE_WEBHOOK_USER: PIPEDRIVE.user,
    PIPEDRIVE_WEBHOOK_PASSWORD: PIPEDRIVE.password,
    STANDARD_WEBHOOKS_SECRET: `${OLD_SECRET} ${NEW_SECRET}`,
    CALLBACK_JWKS_URL: jwks.url,
    CALLBACK_JWT_ISSUER: ISSUER,
    CALLBACK_JWT_AUDIENCE: AUDIENCE,
    // The org by its 15-character id; the messages name it by its 18-character one.
    SALESFORCE_ORG_ID: FIXTURE_ORG_ID.slice(0, 15),
    SALESFORCE_ALLOWED_CIDRS: '13.108.0.0/14 2a01:111::/32 127.0.0.1/32',
    SALESFORCE_WON_STAGES: 'Closed Won - Signed',
  });
  ({ stores, bus, handler } = await startIngestUnderTest('unused-hubspot-secret'));
  const { dynamo } = await import('../../functions/core/aws-clients.ts');
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  auditRecords = async () => (await dynamo().send(new ScanCommand({ TableName: stores.auditTable }))).Items ?? [];
});

afterAll(async () => {
  await bus?.stop();
  await stores?.stop();
  await jwks?.close();
});

beforeEach(() => {
  bus.failNext(0);
  jwks.mode = 'serve';
});

const fixture = (path: string): any => JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'));

function request(path: string, body: string, headers: Record<string, string>) {
  return toApiGatewayEvent({ method: 'POST', url: path, headers: { host: HOST, 'content-type': 'application/json', ...headers }, body, protocol: 'https' });
}

async function send(event: ReturnType<typeof request>) {
  const before = bus.entries.length;
  const response = await handler(event, createLambdaContext({ functionName: 'ingest' }));
  return { response, status: response.statusCode, body: JSON.parse(response.body) as Record<string, any>, added: bus.entries.slice(before) };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A Pipedrive won-deal delivery with a fresh event id, `attempt` as Pipedrive counts retries. */
function pipedriveWon(eventId: string, dealId: string, attempt = 1) {
  const won = fixture('pipedrive/webhook-v2-deal-won.json');
  return { ...won, meta: { ...won.meta, id: eventId, entity_id: dealId, attempt } };
}

describe('POST /webhooks/pipedrive', () => {
  const deliver = (body: unknown, authorization = basic(PIPEDRIVE.user, PIPEDRIVE.password)) =>
    send(request('/webhooks/pipedrive', JSON.stringify(body), { authorization }));

  it('puts a won deal on the bus as the canonical deal-won event and audits it under the deal', async () => {
    const { status, body, added } = await deliver(pipedriveWon('pd-evt-1', '9001'));
    expect(status).toBe(200);
    expect(body).toEqual({ accepted: 1, duplicates: 0 });
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ Source: CRM_EVENT_SOURCE, DetailType: DEAL_STAGE_CHANGED, EventBusName: 'harmony-hub' });
    expect(DealStageChangedDetail.strict().parse(JSON.parse(added[0]!.Detail))).toEqual({
      crm: 'pipedrive',
      accountId: '12882925',
      dealId: '9001',
      stage: WON_DEAL_STAGE,
      occurredAt: '2026-05-15T18:00:00.000Z',
      eventId: 'pd-evt-1',
    });
    const audit = await auditRecords();
    expect(audit.find((item) => item.businessKey === 'deal:pipedrive:12882925:9001')).toMatchObject({
      action: 'WebhookAccepted',
      correlationId: added[0]!.EventId,
    });
  });

  it('answers a retry of the same event (next attempt) with 200 as a duplicate, never 5xx, and puts nothing twice', async () => {
    const first = await deliver(pipedriveWon('pd-evt-2', '9002', 1));
    const retry = await deliver(pipedriveWon('pd-evt-2', '9002', 2));
    expect(first.body).toEqual({ accepted: 1, duplicates: 0 });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ accepted: 0, duplicates: 1 });
    expect(retry.added).toHaveLength(0);
  });

  it('puts the recorded (non-won) deal change on the bus as CRM Object Changed', async () => {
    const recorded = fixture('pipedrive/webhook-v2-deal-change-recorded.json');
    const { status, added } = await deliver({ ...recorded, meta: { ...recorded.meta, id: 424242 } });
    expect(status).toBe(200);
    expect(added.map((entry) => entry.DetailType)).toEqual(['CRM Object Changed']);
  });

  it.each([
    ['the wrong password', basic(PIPEDRIVE.user, 'guess'), /bad-credentials/],
    ['the wrong user', basic('someone', PIPEDRIVE.password), /bad-credentials/],
    ['no credentials', '', /missing-credentials/],
    ['a bearer token', 'Bearer abc.def.ghi', /not-basic-auth/],
  ])('refuses %s with 401 and a Basic challenge, and puts nothing on the bus', async (_name, authorization, reason) => {
    const { status, body, added, response } = await deliver(pipedriveWon('pd-evt-3', '9003'), authorization);
    expect(status).toBe(401);
    expect(body.message).toMatch(reason);
    expect(response.headers?.['www-authenticate']).toMatch(/^Basic realm="harmony"/);
    expect(added).toHaveLength(0);
  });

  it('refuses a v1 payload with 400 naming body.meta.version', async () => {
    const v1 = pipedriveWon('pd-evt-4', '9004');
    const { status, body } = await deliver({ ...v1, meta: { ...v1.meta, version: '1.0' } });
    expect(status).toBe(400);
    expect(body.message).toContain('body.meta.version');
  });
});

describe('POST /webhooks/standard/{mapping}', () => {
  const [oldSecret, newSecret] = parseSigningSecrets('test', `${OLD_SECRET} ${NEW_SECRET}`);
  const deliver = (body: unknown, options: { id?: string; secret?: typeof oldSecret; offsetSeconds?: number; mapping?: string; path?: string } = {}) => {
    const text = JSON.stringify(body);
    const id = options.id ?? `msg_${Math.random().toString(36).slice(2)}`;
    const timestamp = String(Math.floor(Date.now() / 1000) + (options.offsetSeconds ?? 0));
    const signature = standardWebhookSignature({ id, timestamp, body: text, secret: options.secret ?? newSecret! });
    const path = options.path ?? `/webhooks/standard/${options.mapping ?? 'deal-events'}`;
    return send(request(path, text, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature }));
  };
  const won = (dealId: string) => {
    const body = fixture('standard-webhooks/deal-events-won.json');
    return { ...body, data: { ...body.data, deal_id: dealId } };
  };

  it('puts a won payload signed with the new secret on the bus as the canonical deal-won event', async () => {
    const { status, body, added } = await deliver(won('D-1'), { id: 'msg_won_1' });
    expect(status).toBe(200);
    expect(body).toEqual({ accepted: 1, duplicates: 0 });
    expect(added[0]).toMatchObject({ Source: CRM_EVENT_SOURCE, DetailType: DEAL_STAGE_CHANGED });
    expect(JSON.parse(added[0]!.Detail)).toEqual({
      crm: 'acme-crm',
      accountId: 'tenant-42',
      dealId: 'D-1',
      stage: WON_DEAL_STAGE,
      occurredAt: '2026-05-15T18:00:00.000Z',
      eventId: 'msg_won_1',
    });
  });

  it('accepts the old secret while both are configured, and recognises a redelivery by its webhook-id', async () => {
    const first = await deliver(won('D-2'), { id: 'msg_won_2', secret: oldSecret });
    const again = await deliver(won('D-2'), { id: 'msg_won_2', offsetSeconds: 30 });
    expect(first.body).toEqual({ accepted: 1, duplicates: 0 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ accepted: 0, duplicates: 1 });
    expect(again.added).toHaveLength(0);
  });

  it('acknowledges a payload that is not a won deal and puts nothing on the bus', async () => {
    const { status, body, added } = await deliver(fixture('standard-webhooks/spec-example-payload.json'));
    expect(status).toBe(200);
    expect(body).toEqual({ accepted: 0, duplicates: 0 });
    expect(added).toHaveLength(0);
  });

  it.each([
    ['an unknown mapping', { mapping: 'no-such-mapping' }, 404, /no Standard Webhooks mapping named "no-such-mapping"/],
    ['no mapping at all', { path: '/webhooks/standard' }, 404, /name a mapping/],
    ['a timestamp 6 minutes old', { offsetSeconds: -360 }, 401, /webhook-timestamp: stale-timestamp/],
    ['a secret that is not configured', { secret: parseSigningSecrets('test', 'whsec_c29tZW9uZSBlbHNlcyBzZWNyZXQ=')[0] }, 401, /webhook-signature: no-matching-signature/],
  ])('refuses %s', async (_name, options, status, message) => {
    const result = await deliver(won('D-3'), options);
    expect(result.status).toBe(status);
    expect(result.body.message).toMatch(message);
    expect(result.added).toHaveLength(0);
  });

  it('refuses a won payload without a deal id with 400 naming body.data.deal_id', async () => {
    const body = won('D-4');
    delete body.data.deal_id;
    const result = await deliver(body);
    expect(result.status).toBe(400);
    expect(result.body.message).toContain('body.data.deal_id');
  });

  it('refuses a signed array body with 400', async () => {
    const result = await deliver([won('D-5')]);
    expect(result.status).toBe(400);
    expect(result.body.message).toContain('expected a JSON object');
  });
});

describe('POST /callbacks/{system}', () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const token = (claims: Record<string, unknown> = {}) =>
    signJwt(key, { iss: ISSUER, aud: AUDIENCE, sub: 'erp-middleware', iat: nowSeconds(), exp: nowSeconds() + 300, ...claims });
  const callback = (overrides: Record<string, unknown> = {}) => ({
    orderRef: 'S00042',
    status: 'shipped',
    occurredAt: '2026-05-16T09:30:00+02:00',
    eventId: `evt-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  });
  const deliver = (body: unknown, authorization: string = `Bearer ${token()}`, system = 'erp-middleware') =>
    send(request(`/callbacks/${system}`, JSON.stringify(body), { authorization }));

  it('answers 503 with retry-after while the issuer\'s keys cannot be fetched (the caller retries), then accepts', async () => {
    jwks.mode = 'fail';
    const body = callback({ eventId: 'evt-while-down' });
    const down = await deliver(body);
    expect(down.status).toBe(503);
    expect(down.response.headers?.['retry-after']).toBe('5');
    expect(down.added).toHaveLength(0);
    jwks.mode = 'serve';
    const up = await deliver(body);
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('puts an order status change on the bus as Order Status Changed from the ERP side, filed under the order', async () => {
    const { status, added } = await deliver(callback({ eventId: 'evt-1' }));
    expect(status).toBe(200);
    expect(added[0]).toMatchObject({ Source: ERP_EVENT_SOURCE, DetailType: ORDER_STATUS_CHANGED });
    expect(OrderStatusChangedDetail.strict().parse(JSON.parse(added[0]!.Detail))).toEqual({
      system: 'erp-middleware',
      orderRef: 'S00042',
      status: 'shipped',
      occurredAt: '2026-05-16T07:30:00.000Z',
      eventId: 'evt-1',
    });
    const audit = await auditRecords();
    const records = audit.filter((item) => item.businessKey === 'order:erp-middleware:S00042');
    expect(records.map((item) => item.correlationId)).toContain(added[0]!.EventId);
  });

  it('recognises a repeated callback by its eventId', async () => {
    const body = callback({ eventId: 'evt-2' });
    await deliver(body);
    const again = await deliver(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ accepted: 0, duplicates: 1 });
  });

  it.each([
    ['no token', () => '', /missing-token/],
    ['an expired token', () => `Bearer ${token({ exp: nowSeconds() - 120 })}`, /expired/],
    ['a token for another audience', () => `Bearer ${token({ aud: 'someone-else' })}`, /wrong-audience/],
    ['a token of another issuer', () => `Bearer ${token({ iss: 'https://evil.example.test' })}`, /wrong-issuer/],
    ['a token signed by a key the issuer never published', () => `Bearer ${signJwt(makeKey('ES256', 'middleware-2026'), { iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 60 })}`, /bad-signature/],
  ])('refuses %s with 401 and a Bearer challenge', async (_name, authorization, reason) => {
    const result = await deliver(callback(), authorization());
    expect(result.status).toBe(401);
    expect(result.body.message).toMatch(reason);
    expect(result.response.headers?.['www-authenticate']).toBe('Bearer realm="harmony"');
    expect(result.added).toHaveLength(0);
  });

  it.each([
    ['an unknown status', { status: 'teleported' }, 'body.status'],
    ['a local time without offset', { occurredAt: '2026-05-16T09:30:00' }, 'body.occurredAt'],
    ['an order reference with spaces', { orderRef: 'S 42' }, 'body.orderRef'],
    ['no event id', { eventId: undefined }, 'body.eventId'],
  ])('refuses %s with 400 naming %s', async (_name, change, path) => {
    const result = await deliver(callback(change));
    expect(result.status).toBe(400);
    expect(result.body.message).toContain(path);
  });

  it('refuses a system name that is not a lower-case slug with 404', async () => {
    const result = await deliver(callback(), undefined, 'ERP%20Middleware');
    expect(result.status).toBe(404);
    expect(result.body.message).toContain('no callback system named "ERP Middleware"');
  });
});

describe('POST /webhooks/salesforce', () => {
  const SALESFORCE_IP = '13.110.54.12';
  const deliver = async (xml: string, sourceIp = SALESFORCE_IP) => {
    const event = toApiGatewayEvent({ method: 'POST', url: '/webhooks/salesforce', headers: { host: HOST, 'content-type': 'text/xml; charset=utf-8', soapaction: '""' }, body: xml, protocol: 'https', sourceIp });
    const before = bus.entries.length;
    const response = await handler(event, createLambdaContext({ functionName: 'ingest' }));
    const envelope = readEnvelope(readXml(response.body));
    const ack = envelope.payload?.name === 'notificationsResponse' ? envelope.payload.children.find((child) => child.name === 'Ack')?.text : undefined;
    return { response, status: response.statusCode, ack, fault: envelope.fault, added: bus.entries.slice(before) };
  };
  const won = (n: number) => ({ id: salesforceId('04l', 7000 + n), fields: wonOpportunity(salesforceId('006', 7000 + n)) });

  it('acknowledges the recorded won Opportunity once its canonical deal-won event is on the bus, audited under the deal', async () => {
    const { status, response, ack, added } = await deliver(outboundFixture('outbound-message-opportunity-won.xml'));
    expect(status).toBe(200);
    expect(response.headers?.['content-type']).toBe('text/xml; charset=utf-8');
    expect(response.body).toBe(outboundMessageAck());
    expect(ack).toBe('true');
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ Source: CRM_EVENT_SOURCE, DetailType: DEAL_STAGE_CHANGED, EventBusName: 'harmony-hub' });
    expect(DealStageChangedDetail.strict().parse(JSON.parse(added[0]!.Detail))).toEqual({
      crm: 'salesforce',
      accountId: FIXTURE_ORG_ID,
      dealId: '0065e00000FxQ3kAAF',
      stage: WON_DEAL_STAGE,
      occurredAt: '2026-05-15T18:00:00.000Z',
      eventId: '04l5e00000Gx7QzAAJ',
    });
    const audit = await auditRecords();
    expect(audit.find((item) => item.businessKey === `deal:salesforce:${FIXTURE_ORG_ID}:0065e00000FxQ3kAAF`)).toMatchObject({
      action: 'WebhookAccepted',
      correlationId: added[0]!.EventId,
    });
  });

  it('acknowledges a redelivered notification as a duplicate and puts nothing twice, also inside a batch with new ones', async () => {
    const first = await deliver(outboundMessage([won(1)]));
    const again = await deliver(outboundMessage([won(1)]));
    const mixed = await deliver(outboundMessage([won(1), won(2)]));
    expect(first.added).toHaveLength(1);
    expect([again.status, again.ack]).toEqual([200, 'true']);
    expect(again.added).toHaveLength(0);
    expect([mixed.status, mixed.ack]).toEqual([200, 'true']);
    expect(mixed.added.map((entry) => JSON.parse(entry.Detail).dealId)).toEqual([salesforceId('006', 7002)]);
  });

  it('answers a bus failure with a 500 soap:Server Fault (Salesforce redelivers), and acknowledges the redelivery with the event put once', async () => {
    bus.failNext(1);
    const down = await deliver(outboundMessage([won(3)]));
    expect(down.status).toBe(500);
    expect(down.fault).toMatchObject({ code: 'soap:Server' });
    expect(down.response.headers?.['retry-after']).toBe('5');
    expect(down.added).toHaveLength(0);
    const redelivered = await deliver(outboundMessage([won(3)]));
    expect([redelivered.status, redelivered.ack]).toEqual([200, 'true']);
    expect(bus.entries.filter((entry) => JSON.parse(entry.Detail).dealId === salesforceId('006', 7003))).toHaveLength(1);
  });

  it.each([
    ['another org', () => outboundMessage([won(4)], '00D5e000000KQ3a'), SALESFORCE_IP, 403, /OrganizationId: 00D5e000000KQ3a\w* is not the org/],
    ['an address outside the ranges', () => outboundMessage([won(4)]), '198.51.100.7', 403, /198\.51\.100\.7 is not in SALESFORCE_ALLOWED_CIDRS/],
    ['truncated XML', () => outboundMessage([won(4)]).slice(0, 300), SALESFORCE_IP, 400, /not well-formed XML/],
    ['a DOCTYPE', () => `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>${outboundMessage([won(4)]).replace(/^<\?xml[^>]*>/, '')}`, SALESFORCE_IP, 400, /document type declaration/],
  ])('refuses %s with a SOAP Fault, never a 5xx, and puts nothing on the bus', async (_name, xml, sourceIp, status, reason) => {
    const result = await deliver(xml(), sourceIp);
    expect(result.status).toBe(status);
    expect(result.fault?.code).toBe('soap:Client');
    expect(result.fault?.reason).toMatch(reason);
    expect(result.added).toHaveLength(0);
  });

  it("takes the sandbox sender's messages through the local ingress (the socket's address as the source), acknowledging each once", async () => {
    const ingress = await startIngress({
      host: '127.0.0.1',
      port: 0,
      invoke: async (event) => ({ status: 'ok', result: await handler(event, createLambdaContext({ functionName: 'ingest' })) }),
      ready: () => true,
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'harmony-outbound-'));
    const lines: string[] = [];
    const sender = new OutboundMessageSender({ endpointUrl: `${ingress.url}/webhooks/salesforce`, organizationId: FIXTURE_ORG_ID, dataDir, retryScheduleMs: [20], log: (line) => lines.push(line) });
    try {
      const dealIds = [salesforceId('006', 7010), salesforceId('006', 7011)];
      for (const dealId of dealIds) sender.enqueue('Opportunity', { Id: dealId, IsWon: true, StageName: 'Closed Won', Amount: 10, Name: 'Sandbox deal' });
      while (!lines.some((line) => line.includes('delivered and acknowledged'))) await new Promise((resolve) => setTimeout(resolve, 10));
      const onBus = bus.entries.map((entry) => JSON.parse(entry.Detail) as Record<string, unknown>).filter((detail) => dealIds.includes(String(detail.dealId)));
      expect(onBus.map((detail) => [detail.dealId, detail.stage, detail.accountId])).toEqual(dealIds.map((dealId) => [dealId, WON_DEAL_STAGE, FIXTURE_ORG_ID]));
      expect(lines.filter((line) => line.includes('not acknowledged'))).toEqual([]);
    } finally {
      await sender.close();
      await ingress.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
