/**
 * The shared rate budget on dynalite with the stack's idempotency table: instances
 * (separate DynamoTokenBucket objects, as separate Lambdas are) never spend more than the
 * budget between them, waits follow the refill rate, and a vendor's Retry-After holds
 * every instance off. Time is a fake clock; DynamoDB is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenBucket, parseRateLimits } from '../../functions/core/dynamo-token-bucket.ts';
import { RetryableError } from '../../functions/core/errors.ts';
import { startHandlerStores, type HandlerStores } from '../support/handler-stores.ts';

let stores: HandlerStores;
let counter = 0;
const target = () => `vendor:${process.pid}-${++counter}`;

beforeAll(async () => {
  stores = await startHandlerStores();
  Object.assign(process.env, stores.environment);
});

afterAll(async () => {
  await stores?.stop();
});

/** A clock that moves only when someone sleeps. */
function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    slept,
  };
}

function bucket(clock: ReturnType<typeof fakeClock>, perSecond: number, burst: number) {
  return new DynamoTokenBucket({ tableName: stores.idempotencyTable, budgetFor: () => ({ perSecond, burst }), now: clock.now, sleep: clock.sleep });
}

async function outcome(promise: Promise<void>): Promise<'ok' | RetryableError> {
  return promise.then(
    () => 'ok' as const,
    (error: unknown) => {
      if (error instanceof RetryableError) return error;
      throw error;
    },
  );
}

describe('DynamoTokenBucket', () => {
  it('spends the burst, then waits one refill interval per request', async () => {
    const clock = fakeClock();
    const limiter = bucket(clock, 2, 3);
    const key = target();
    for (let i = 0; i < 3; i += 1) await limiter.acquire(key);
    expect(clock.slept).toEqual([]);
    await limiter.acquire(key);
    expect(clock.slept).toEqual([500]);
  });

  it('two instances racing for one budget get exactly the burst between them, never more', async () => {
    const clock = fakeClock();
    const key = target();
    const instances = [bucket(clock, 1, 7), bucket(clock, 1, 7), bucket(clock, 1, 7)];
    const results = await Promise.all(Array.from({ length: 24 }, (_unused, index) => outcome(instances[index % 3]!.acquire(key, { maxWaitMs: 0 }))));
    expect(results.filter((result) => result === 'ok')).toHaveLength(7);
    const refused = results.filter((result): result is RetryableError => result !== 'ok');
    expect(refused).toHaveLength(17);
    expect(refused.every((error) => error.code === 'rate-budget' || error.message.includes('conflicting writes'))).toBe(true);
  });

  it("a vendor's Retry-After holds every instance off until it has passed", async () => {
    const clock = fakeClock();
    const key = target();
    const first = bucket(clock, 10, 10);
    const second = bucket(clock, 10, 10);
    await first.acquire(key);
    await first.backOff(key, 30);
    const refused = await outcome(second.acquire(key, { maxWaitMs: 5000 }));
    expect(refused).toBeInstanceOf(RetryableError);
    expect((refused as RetryableError).retryAfterSeconds).toBe(30);
    clock.advance(30_000);
    await second.acquire(key, { maxWaitMs: 0 });
  });

  it('a shorter Retry-After never shortens a longer hold', async () => {
    const clock = fakeClock();
    const key = target();
    const limiter = bucket(clock, 10, 10);
    await limiter.backOff(key, 60);
    await limiter.backOff(key, 5);
    clock.advance(10_000);
    const refused = await outcome(limiter.acquire(key, { maxWaitMs: 1000 }));
    expect((refused as RetryableError).retryAfterSeconds).toBe(50);
  });

  it('leases a few tokens per write, so most calls cost no DynamoDB request', async () => {
    const clock = fakeClock();
    const key = target();
    const limiter = bucket(clock, 40, 40);
    for (let i = 0; i < 10; i += 1) await limiter.acquire(key);
    // 10 requests at 40/s lease 10 tokens per write: the bucket item shows one write.
    const other = bucket(clock, 40, 40);
    const results = await Promise.all(Array.from({ length: 40 }, () => outcome(other.acquire(key, { maxWaitMs: 0 }))));
    expect(results.filter((result) => result === 'ok')).toHaveLength(30);
  });
});

describe('parseRateLimits', () => {
  it('reads system=perSecond/burst entries', () => {
    expect(parseRateLimits('CONNECTOR_RATE_LIMITS', 'netsuite=5/10, hubspot=10/100')).toEqual(
      new Map([
        ['netsuite', { perSecond: 5, burst: 10 }],
        ['hubspot', { perSecond: 10, burst: 100 }],
      ]),
    );
    expect(parseRateLimits('CONNECTOR_RATE_LIMITS', undefined).size).toBe(0);
  });

  it('reads off and the * default', () => {
    expect(parseRateLimits('CONNECTOR_RATE_LIMITS', 'hubspot=19/190 *=off')).toEqual(new Map([['hubspot', { perSecond: 19, burst: 190 }], ['*', undefined]]));
  });

  it('names the entry that is wrong', () => {
    expect(() => parseRateLimits('CONNECTOR_RATE_LIMITS', 'netsuite=fast')).toThrow(/CONNECTOR_RATE_LIMITS: "netsuite=fast"/);
    expect(() => parseRateLimits('CONNECTOR_RATE_LIMITS', 'sap=0/10')).toThrow(/above 0/);
  });
});

describe('a vendor without a documented budget', () => {
  it('costs no DynamoDB request per call, and a 429 still holds this instance off for its Retry-After', async () => {
    const clock = fakeClock();
    const key = target();
    const limiter = new DynamoTokenBucket({ tableName: 'no-such-table', budgetFor: () => undefined, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 50; i += 1) await limiter.acquire(key, { maxWaitMs: 0 });
    await limiter.backOff(key, 20);
    const held = await outcome(limiter.acquire(key, { maxWaitMs: 1000 }));
    expect((held as RetryableError).retryAfterSeconds).toBe(20);
    await limiter.acquire(key, { maxWaitMs: 30_000 });
    expect(clock.slept).toEqual([20_000]);
  });
});

describe('adapters share the budget', () => {
  it("a HubSpot 429 with Retry-After holds off another instance's calls without reaching HubSpot", async () => {
    const { startHubspotSandbox } = await import('../../local/sandbox/hubspot/server.ts');
    const { HubspotCrm } = await import('../../functions/connectors/crm/hubspot/index.ts');
    const sandbox = await startHubspotSandbox({ accessToken: 'pat-rate-limit', clientSecret: 'x' });
    try {
      const limiter = () => new DynamoTokenBucket({ tableName: stores.idempotencyTable, budgetFor: () => ({ perSecond: 10, burst: 10 }) });
      const first = new HubspotCrm({ accessToken: 'pat-rate-limit', basePath: sandbox.url, timeoutMs: 2000, rateLimiter: limiter() });
      const second = new HubspotCrm({ accessToken: 'pat-rate-limit', basePath: sandbox.url, timeoutMs: 2000, rateLimiter: limiter() });
      await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ kind: '429', count: 1, retryAfterSeconds: 60 }) });
      const throttled = await outcome(first.getDeal('4001').then(() => undefined));
      expect((throttled as RetryableError).retryAfterSeconds).toBe(60);
      const held = await outcome(second.getDeal('4001').then(() => undefined));
      expect(held).toBeInstanceOf(RetryableError);
      expect((held as RetryableError).code).toBe('rate-budget');
      expect((held as RetryableError).retryAfterSeconds).toBeGreaterThan(55);
    } finally {
      await sandbox.close();
    }
  });
});
