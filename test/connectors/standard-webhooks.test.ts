/**
 * Standard Webhooks: the specification's reference test vectors, tampered, expired and rotated
 * deliveries, and the declarative mapping to Harmony's deal-won event.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../functions/core/errors.ts';
import { DEAL_STAGE_CHANGED, DealStageChangedDetail, WON_DEAL_STAGE } from '../../functions/core/events.ts';
import { StandardWebhookMapping, holds, mapStandardWebhook, valueAt } from '../../functions/connectors/standard-webhooks/mapping.ts';
import { STANDARD_WEBHOOK_MAPPINGS } from '../../functions/connectors/standard-webhooks/mappings.ts';
import {
  STANDARD_WEBHOOK_TOLERANCE_SECONDS,
  parseSigningSecrets,
  standardWebhookSignature,
  verifyStandardWebhook,
} from '../../functions/connectors/standard-webhooks/signature.ts';

const fixture = (name: string): any => JSON.parse(readFileSync(new URL(`../fixtures/standard-webhooks/${name}`, import.meta.url), 'utf8'));
const vectors = fixture('test-vectors.json') as {
  sign: { secret: string; id: string; timestamp: string; payload: string; signature: string };
  verify: { secret: string; id: string; payload: string; toleranceSeconds: number; invalidSignature: string; otherSchemeSignature: string; garbageSignature: string };
};

describe('Standard Webhooks signature: the reference test vectors', () => {
  it('signs the reference message to the reference signature', () => {
    const [secret] = parseSigningSecrets('test', vectors.sign.secret);
    expect(standardWebhookSignature({ id: vectors.sign.id, timestamp: vectors.sign.timestamp, body: vectors.sign.payload, secret: secret! })).toBe(
      vectors.sign.signature,
    );
  });

  it('verifies the reference message at its own time', () => {
    const now = new Date(Number(vectors.sign.timestamp) * 1000);
    const failure = verifyStandardWebhook({
      id: vectors.sign.id,
      timestamp: vectors.sign.timestamp,
      signature: vectors.sign.signature,
      body: vectors.sign.payload,
      secrets: parseSigningSecrets('test', vectors.sign.secret),
      now,
    });
    expect(failure).toBeUndefined();
  });

  it('uses the libraries\' tolerance', () => {
    expect(STANDARD_WEBHOOK_TOLERANCE_SECONDS).toBe(vectors.verify.toleranceSeconds);
  });
});

describe('Standard Webhooks signature: the reference verification cases', () => {
  const now = new Date(Date.UTC(2026, 4, 21, 12, 0, 0));
  const secrets = parseSigningSecrets('test', vectors.verify.secret);
  /** A delivery signed as the reference libraries' TestPayload signs it, `offsetSeconds` from now. */
  const delivery = (offsetSeconds = 0) => {
    const timestamp = String(Math.floor(now.getTime() / 1000) + offsetSeconds);
    const signature = standardWebhookSignature({ id: vectors.verify.id, timestamp, body: vectors.verify.payload, secret: secrets[0]! });
    return { id: vectors.verify.id as string | undefined, timestamp: timestamp as string | undefined, signature: signature as string | undefined, body: vectors.verify.payload, secrets, now };
  };

  it('accepts a valid signature', () => {
    expect(verifyStandardWebhook(delivery())).toBeUndefined();
  });

  it.each([
    ['a missing id', { id: undefined }, 'missing-id'],
    ['a missing timestamp', { timestamp: undefined }, 'missing-timestamp'],
    ['an invalid timestamp', { timestamp: 'hello' }, 'invalid-timestamp'],
    ['a missing signature', { signature: undefined }, 'missing-signature'],
    ['an invalid signature', { signature: 'INVALID' }, 'no-matching-signature'],
    ['a garbage v1 signature', { signature: vectors.verify.garbageSignature }, 'no-matching-signature'],
    ['a signature of another message', { signature: vectors.verify.invalidSignature }, 'no-matching-signature'],
    ['only the v1, prefix', { signature: 'v1,' }, 'no-matching-signature'],
  ])('refuses %s', (_name, change, reason) => {
    expect(verifyStandardWebhook({ ...delivery(), ...change })).toBe(reason);
  });

  it('refuses a partial signature (the first 8 characters)', () => {
    const genuine = delivery();
    expect(verifyStandardWebhook({ ...genuine, signature: genuine.signature!.slice(0, 8) })).toBe('no-matching-signature');
  });

  it('refuses a timestamp beyond the tolerance either way, and accepts one at it', () => {
    const tolerance = STANDARD_WEBHOOK_TOLERANCE_SECONDS;
    expect(verifyStandardWebhook(delivery(-tolerance - 1))).toBe('stale-timestamp');
    expect(verifyStandardWebhook(delivery(tolerance + 1))).toBe('future-timestamp');
    expect(verifyStandardWebhook(delivery(-tolerance))).toBeUndefined();
    expect(verifyStandardWebhook(delivery(tolerance))).toBeUndefined();
  });

  it('accepts a multi-signature header where one signature matches', () => {
    const genuine = delivery();
    const header = [vectors.verify.invalidSignature, vectors.verify.otherSchemeSignature, genuine.signature, vectors.verify.invalidSignature].join(' ');
    expect(verifyStandardWebhook({ ...genuine, signature: header })).toBeUndefined();
  });

  it('accepts the secret with or without surrounding whitespace', () => {
    expect(verifyStandardWebhook({ ...delivery(), secrets: parseSigningSecrets('test', `  ${vectors.verify.secret}\n`) })).toBeUndefined();
  });
});

describe('Standard Webhooks signature: tampering and rotation', () => {
  const now = new Date(Date.UTC(2026, 4, 21, 12, 0, 0));
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const [oldSecret, newSecret] = parseSigningSecrets('test', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_dGhpcyBpcyB0aGUgbmV3IHNpZ25pbmcgc2VjcmV0IQ==');
  const body = '{"type":"deal.won","data":{"deal_id":"1"}}';
  const sign = (secret = oldSecret!, signed = { id: 'msg_1', timestamp, body }) => standardWebhookSignature({ ...signed, secret });
  const check = (overrides: Partial<Parameters<typeof verifyStandardWebhook>[0]>) =>
    verifyStandardWebhook({ id: 'msg_1', timestamp, signature: sign(), body, secrets: [oldSecret!], now, ...overrides });

  it.each([
    ['a changed body', { body: body.replace('"1"', '"2"') }],
    ['a body with a trailing newline', { body: `${body}\n` }],
    ['another webhook-id', { id: 'msg_2' }],
    ['another timestamp inside the window', { timestamp: String(Number(timestamp) - 1) }],
  ])('refuses %s', (_name, change) => {
    expect(check(change)).toBe('no-matching-signature');
  });

  it('refuses a webhook-id holding a dot, which could re-split the signed content', () => {
    expect(check({ id: 'msg.1' })).toBe('invalid-id');
  });

  it('refuses the v1a (asymmetric) scheme and a v1 signature in another case', () => {
    expect(check({ signature: sign().replace('v1,', 'v1a,') })).toBe('no-matching-signature');
    expect(check({ signature: sign().replace('v1,', 'V1,') })).toBe('no-matching-signature');
  });

  it('during rotation: a receiver holding old and new accepts a delivery signed with either, or both', () => {
    const both = [oldSecret!, newSecret!];
    expect(check({ secrets: both, signature: sign(newSecret) })).toBeUndefined();
    expect(check({ secrets: both, signature: sign(oldSecret) })).toBeUndefined();
    expect(check({ secrets: [newSecret!], signature: `${sign(oldSecret)} ${sign(newSecret)}` })).toBeUndefined();
  });

  it('after rotation: a receiver holding only the new secret refuses what only the old one signed', () => {
    expect(check({ secrets: [newSecret!], signature: sign(oldSecret) })).toBe('no-matching-signature');
  });

  it.each([
    ['an unprefixed secret', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a public key', 'whpk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a secret that is not base64', 'whsec_not*base64'],
    ['an empty prefix', 'whsec_'],
    ['nothing', '   '],
  ])('refuses to configure %s, naming the setting and not the value', (_name, value) => {
    expect(() => parseSigningSecrets('STANDARD_WEBHOOKS_SECRET', value)).toThrow(/^STANDARD_WEBHOOKS_SECRET: /);
    try {
      parseSigningSecrets('STANDARD_WEBHOOKS_SECRET', value);
    } catch (error) {
      if (value.trim().length > 8) expect((error as Error).message).not.toContain(value.trim().slice(6));
    }
  });
});

describe('Standard Webhooks mapping', () => {
  const mapping = STANDARD_WEBHOOK_MAPPINGS.get('deal-events')!;
  const deliveredAt = new Date('2026-05-15T18:00:05.000Z');
  const map = (body: unknown, options: { mapping?: typeof mapping; name?: string } = {}) =>
    mapStandardWebhook({ mappingName: options.name ?? 'deal-events', mapping: options.mapping ?? mapping, body, webhookId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', deliveredAt });

  it('turns a won payload into the canonical deal-won event, keyed by mapping and webhook-id', () => {
    const [event] = map(fixture('deal-events-won.json'));
    expect(event!.eventId).toBe('standard:deal-events:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W');
    expect(event!.detailType).toBe(DEAL_STAGE_CHANGED);
    expect(DealStageChangedDetail.strict().parse(event!.detail)).toEqual({
      crm: 'acme-crm',
      accountId: 'tenant-42',
      dealId: 'D-1001',
      stage: WON_DEAL_STAGE,
      occurredAt: '2026-05-15T18:00:00.000Z',
      eventId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    });
  });

  it('also sees a deal.updated whose status became won, but not one that was won already', () => {
    const updated = { type: 'deal.updated', timestamp: 1747332000, data: { crm: 'acme-crm', account_id: 7, deal_id: 9, status: 'won', previous_status: 'open' } };
    expect(map(updated)).toHaveLength(1);
    expect(map(updated)[0]!.detail).toMatchObject({ accountId: '7', dealId: '9', occurredAt: '2025-05-15T18:00:00.000Z' });
    expect(map({ ...updated, data: { ...updated.data, previous_status: 'won' } })).toEqual([]);
  });

  it('puts nothing on the bus for the specification\'s example event (not a won deal)', () => {
    expect(map(fixture('spec-example-payload.json'))).toEqual([]);
  });

  it.each([
    ['data.deal_id', { deal_id: undefined }, /body\.data\.deal_id: missing/],
    ['data.deal_id', { deal_id: { id: 1 } }, /body\.data\.deal_id: expected a non-empty string or an integer for dealId, got an object/],
    ['data.account_id', { account_id: '' }, /body\.data\.account_id: .*got an empty string/],
    ['data.crm', { crm: 'Acme CRM' }, /body\.data\.crm: expected a lower-case name/],
    ['data.deal_id', { deal_id: 'x y' }, /body\.data\.deal_id: expected an id/],
  ])('refuses a won payload with a bad %s, naming the body path', (_path, change, message) => {
    const won = fixture('deal-events-won.json');
    expect(() => map({ ...won, data: { ...won.data, ...change } })).toThrow(PermanentError);
    expect(() => map({ ...won, data: { ...won.data, ...change } })).toThrow(message);
  });

  it('refuses a won payload whose timestamp is not an instant, naming it', () => {
    expect(() => map({ ...fixture('deal-events-won.json'), timestamp: 'yesterday' })).toThrow(/body\.timestamp: expected an ISO 8601 instant/);
  });

  it('takes literals, a stage of its own, and the delivery time when it names no occurredAt', () => {
    const literal = StandardWebhookMapping.parse({
      description: 'one CRM, one account',
      crm: { value: 'acme-crm' },
      accountId: { value: 'main' },
      dealId: { path: 'object.id' },
      stage: { value: 'signed' },
      won: { path: 'event', in: ['opportunity.won', 'opportunity.closed_won'] },
    });
    const [event] = map({ event: 'opportunity.closed_won', object: { id: 'O-1' } }, { mapping: literal, name: 'acme' });
    expect(event!.detail).toEqual({ crm: 'acme-crm', accountId: 'main', dealId: 'O-1', stage: 'signed', occurredAt: deliveredAt.toISOString(), eventId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' });
  });

  it('reads own properties only: a path through __proto__ is refused when the mapping is written, and inherited names are not found', () => {
    expect(StandardWebhookMapping.safeParse({ ...mapping, dealId: { path: 'data.__proto__.id' } }).success).toBe(false);
    expect(valueAt({ data: {} }, 'data.toString')).toEqual({ found: false });
    expect(valueAt({ items: [{ id: 1 }] }, 'items.0.id')).toEqual({ found: true, value: 1 });
    expect(holds({ path: 'data.constructor', exists: true }, JSON.parse('{"data":{}}'))).toBe(false);
  });

  it('evaluates all / any / not / exists as written', () => {
    const body = { a: 1, b: 'x', c: null };
    expect(holds({ all: [{ path: 'a', equals: 1 }, { path: 'b', in: ['x', 'y'] }] }, body)).toBe(true);
    expect(holds({ any: [{ path: 'a', equals: 2 }, { path: 'c', equals: null }] }, body)).toBe(true);
    expect(holds({ not: { path: 'd', exists: true } }, body)).toBe(true);
    expect(holds({ path: 'a', equals: '1' }, body)).toBe(false);
  });

  it('holds only valid mappings', () => {
    for (const [name, entry] of STANDARD_WEBHOOK_MAPPINGS) expect(StandardWebhookMapping.safeParse(entry).success, name).toBe(true);
    expect(StandardWebhookMapping.safeParse({ ...mapping, won: { path: 'type', matches: 'deal.*' } }).success).toBe(false);
  });
});
