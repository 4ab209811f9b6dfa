/**
 * HubSpot webhooks: the v3 signature (cross-checked with HubSpot's own SDK), the
 * payload schema, and the mapping of documented payloads to canonical hub events.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Signature } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';
import {
  HubspotWebhookBatch,
  decodeHubspotUri,
  toHubEvents,
  verifyHubspotSignatureV3,
} from '../../functions/connectors/crm/hubspot/webhook.ts';
import {
  CRM_OBJECT_CHANGED,
  DEAL_STAGE_CHANGED,
  HubEvent,
  businessKeyForDeal,
} from '../../functions/core/events.ts';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/hubspot/${name}`, import.meta.url), 'utf8'));

const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const URI = 'https://hooks.example.com/webhooks/hubspot';
const BODY = JSON.stringify(fixture('webhook-deal-stage-change.json'));
const NOW = 1_767_603_601_000;

/** What HubSpot sends, signed by HubSpot's own SDK (an implementation independent of Harmony's). */
function signedByHubspot(overrides: { uri?: string; body?: string; timestamp?: number } = {}): {
  method: string;
  uri: string;
  body: string;
  timestamp: string;
  signature: string;
} {
  const uri = overrides.uri ?? URI;
  const body = overrides.body ?? BODY;
  const timestamp = overrides.timestamp ?? NOW - 1_000;
  const signature = Signature.getSignature('POST', 'v3', {
    clientSecret: SECRET,
    requestBody: body,
    url: uri,
    timestamp,
    signature: '',
  });
  return { method: 'POST', uri, body, timestamp: String(timestamp), signature };
}

describe('verifyHubspotSignatureV3', () => {
  it('accepts a request signed as HubSpot signs it', () => {
    // prepare
    const request = signedByHubspot();

    // act
    const result = verifyHubspotSignatureV3({ ...request, clientSecret: SECRET, now: NOW });

    // assess
    expect(result).toStrictEqual({ valid: true });
  });

  it('decodes the characters HubSpot lists before hashing the URI, and only those', () => {
    // prepare: HubSpot signs the URI with `:` `,` `@` decoded; the receiver sees them encoded
    const signedUri = 'https://hooks.example.com/webhooks/hubspot?tenant=acme:eu&tags=a,b@c&note=x%20y';
    const receivedUri = 'https://hooks.example.com/webhooks/hubspot?tenant=acme%3Aeu&tags=a%2Cb%40c&note=x%20y';
    const request = signedByHubspot({ uri: signedUri });

    // act
    const result = verifyHubspotSignatureV3({ ...request, uri: receivedUri, clientSecret: SECRET, now: NOW });

    // assess
    expect(result).toStrictEqual({ valid: true });
    expect(decodeHubspotUri('%3a%2F%3F%40%21%24%27%28%29%2A%2C%3B%20%25')).toBe(":/?@!$'()*,;%20%25");
  });

  it('rejects a tampered body', () => {
    const request = signedByHubspot();
    const result = verifyHubspotSignatureV3({
      ...request,
      body: request.body.replace('closedwon', 'closedlost'),
      clientSecret: SECRET,
      now: NOW,
    });
    expect(result).toStrictEqual({ valid: false, reason: 'bad-signature' });
  });

  it('rejects a tampered URI', () => {
    const request = signedByHubspot();
    const result = verifyHubspotSignatureV3({ ...request, uri: `${URI}?tenant=other`, clientSecret: SECRET, now: NOW });
    expect(result).toStrictEqual({ valid: false, reason: 'bad-signature' });
  });

  it('rejects another app\'s secret', () => {
    const request = signedByHubspot();
    const result = verifyHubspotSignatureV3({ ...request, clientSecret: 'another-secret', now: NOW });
    expect(result).toStrictEqual({ valid: false, reason: 'bad-signature' });
  });

  it('accepts a timestamp exactly five minutes old and rejects one a millisecond older', () => {
    // prepare
    const timestamp = NOW - 5 * 60 * 1000;
    const request = signedByHubspot({ timestamp });

    // act
    const atLimit = verifyHubspotSignatureV3({ ...request, clientSecret: SECRET, now: NOW });
    const beyond = verifyHubspotSignatureV3({ ...request, clientSecret: SECRET, now: NOW + 1 });

    // assess
    expect(atLimit).toStrictEqual({ valid: true });
    expect(beyond).toStrictEqual({ valid: false, reason: 'stale-timestamp' });
  });

  it('rejects a timestamp more than five minutes in the future', () => {
    const request = signedByHubspot({ timestamp: NOW + 5 * 60 * 1000 + 1 });
    const result = verifyHubspotSignatureV3({ ...request, clientSecret: SECRET, now: new Date(NOW) });
    expect(result).toStrictEqual({ valid: false, reason: 'future-timestamp' });
  });

  it('says which header is missing or unusable', () => {
    const request = signedByHubspot();
    expect(verifyHubspotSignatureV3({ ...request, signature: undefined, clientSecret: SECRET, now: NOW })).toStrictEqual({
      valid: false,
      reason: 'missing-signature',
    });
    expect(verifyHubspotSignatureV3({ ...request, timestamp: undefined, clientSecret: SECRET, now: NOW })).toStrictEqual({
      valid: false,
      reason: 'missing-timestamp',
    });
    expect(verifyHubspotSignatureV3({ ...request, timestamp: '2026-01-05T09:00:00Z', clientSecret: SECRET, now: NOW })).toStrictEqual({
      valid: false,
      reason: 'invalid-timestamp',
    });
  });

  it('rejects a signature of the wrong length without throwing', () => {
    const request = signedByHubspot();
    const result = verifyHubspotSignatureV3({ ...request, signature: 'c2hvcnQ=', clientSecret: SECRET, now: NOW });
    expect(result).toStrictEqual({ valid: false, reason: 'bad-signature' });
  });
});

describe('HubspotWebhookBatch', () => {
  it('accepts the documented payloads and keeps fields it does not know', () => {
    // prepare: HubSpot's v1 example body carries `changeFlag`; the recorded deal batch `sourceId`
    const v1 = fixture('webhook-v1-signature-example.json') as { clientSecret: string; body: string; signatureV1: string };

    // act
    const documented = HubspotWebhookBatch.safeParse(fixture('webhook-docs-example.json'));
    const v1Batch = HubspotWebhookBatch.parse(JSON.parse(v1.body));
    const deals = HubspotWebhookBatch.parse(fixture('webhook-deal-stage-change.json'));

    // assess
    expect(documented.success).toBe(true);
    expect(v1Batch[0]).toMatchObject({ subscriptionType: 'contact.creation', changeFlag: 'NEW' });
    expect(deals[0]).toMatchObject({ sourceId: 'userId:45678' });
    // the v1 fixture is the documented one: its signature is SHA-256(secret + body)
    expect(createHash('sha256').update(v1.clientSecret + v1.body).digest('hex')).toBe(v1.signatureV1);
  });

  it('rejects an empty batch and one of more than 100 events', () => {
    const event = (fixture('webhook-deal-stage-change.json') as unknown[])[0];
    expect(HubspotWebhookBatch.safeParse([]).success).toBe(false);
    expect(HubspotWebhookBatch.safeParse(Array.from({ length: 100 }, () => event)).success).toBe(true);
    expect(HubspotWebhookBatch.safeParse(Array.from({ length: 101 }, () => event)).success).toBe(false);
  });

  it('names the path of a wrongly typed or missing field', () => {
    // prepare
    const [first, second] = fixture('webhook-deal-stage-change.json') as Record<string, unknown>[];
    const { eventId: _dropped, ...withoutEventId } = first!;
    const batch = [withoutEventId, { ...second, objectId: '4002' }];

    // act
    const result = HubspotWebhookBatch.safeParse(batch);

    // assess
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain('0.eventId');
    expect(paths).toContain('1.objectId');
  });

  it('requires a subscription type', () => {
    const [first] = fixture('webhook-deal-stage-change.json') as Record<string, unknown>[];
    const { subscriptionType: _dropped, ...withoutType } = first!;
    const result = HubspotWebhookBatch.safeParse([withoutType]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toStrictEqual([0, 'subscriptionType']);
  });
});

describe('toHubEvents', () => {
  it('maps a deal stage change to Deal Stage Changed and another deal property to CRM Object Changed', () => {
    // prepare
    const batch = HubspotWebhookBatch.parse(fixture('webhook-deal-stage-change.json'));

    // act
    const events = toHubEvents(batch);

    // assess
    expect(events).toStrictEqual([
      {
        eventId: 'hubspot:4096123001',
        detailType: DEAL_STAGE_CHANGED,
        detail: {
          crm: 'hubspot',
          accountId: '62515',
          dealId: '4001',
          stage: 'closedwon',
          occurredAt: '2026-01-05T09:00:00.000Z',
          eventId: '4096123001',
        },
      },
      {
        eventId: 'hubspot:4096123002',
        detailType: CRM_OBJECT_CHANGED,
        detail: {
          crm: 'hubspot',
          accountId: '62515',
          objectType: 'deal',
          objectId: '4002',
          changeType: 'propertyChanged',
          propertyName: 'amount',
          propertyValue: '299.80',
          occurredAt: '2026-01-05T09:00:00.500Z',
          eventId: '4096123002',
        },
      },
    ]);
    for (const event of events) expect(HubEvent.safeParse(event).success).toBe(true);
  });

  it('maps HubSpot\'s documented contact events to CRM Object Changed', () => {
    // prepare
    const batch = HubspotWebhookBatch.parse(fixture('webhook-docs-example.json'));

    // act
    const events = toHubEvents(batch);

    // assess
    expect(events.map((event) => [event.eventId, event.detailType, event.detail])).toStrictEqual([
      [
        'hubspot:3816279340',
        CRM_OBJECT_CHANGED,
        {
          crm: 'hubspot',
          accountId: '33',
          objectType: 'contact',
          objectId: '1246965',
          changeType: 'propertyChanged',
          propertyName: 'lifecyclestage',
          propertyValue: 'subscriber',
          occurredAt: '2016-05-02T19:11:47.945Z',
          eventId: '3816279340',
        },
      ],
      [
        'hubspot:3816279480',
        CRM_OBJECT_CHANGED,
        {
          crm: 'hubspot',
          accountId: '33',
          objectType: 'contact',
          objectId: '1246978',
          changeType: 'created',
          occurredAt: '2016-05-02T19:11:47.945Z',
          eventId: '3816279480',
        },
      ],
    ]);
    for (const event of events) expect(HubEvent.safeParse(event).success).toBe(true);
  });

  it('recognises a stage change sent by a generic object subscription', () => {
    // prepare: `object.propertyChange` names the type by id (0-3 = deal)
    const [first] = fixture('webhook-deal-stage-change.json') as Record<string, unknown>[];
    const batch = HubspotWebhookBatch.parse([{ ...first, subscriptionType: 'object.propertyChange', objectTypeId: '0-3' }]);

    // act
    const [event] = toHubEvents(batch);

    // assess
    expect(event?.detailType).toBe(DEAL_STAGE_CHANGED);
  });
});

describe('businessKeyForDeal', () => {
  it('qualifies the deal by CRM and account', () => {
    expect(businessKeyForDeal('hubspot', '62515', '4001')).toBe('deal:hubspot:62515:4001');
  });
});
