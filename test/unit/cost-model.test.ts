/**
 * The billing arithmetic of bench/cost.ts on cases small enough to compute by hand: the
 * rounding rules (1 ms, 100 ms, 64 MB, 1 KB, 4 KB, 64 KB) and the unit conversions where an
 * error by a factor of 1000 or 1024 would otherwise slip into the cost per 1M orders.
 */
import { describe, expect, it } from 'vitest';
import {
  costPerMillionOrders,
  dynamoItemBytes,
  dynamoReadUnits,
  dynamoWriteUnits,
  eventBridgeEntryBytes,
  expressGbSeconds,
  lambdaBilledMs,
  lambdaGbSeconds,
  payloadChunks,
  readPriceList,
} from '../../bench/cost.ts';

describe('Lambda duration and GB-seconds', () => {
  it('bills whole milliseconds, rounded up, at least one', () => {
    expect(lambdaBilledMs(0)).toBe(1);
    expect(lambdaBilledMs(0.2)).toBe(1);
    expect(lambdaBilledMs(1)).toBe(1);
    expect(lambdaBilledMs(1.0001)).toBe(2);
    expect(lambdaBilledMs(250)).toBe(250);
  });

  it('turns MB and ms into GB-seconds with 1024 MB to the GB and 1000 ms to the second', () => {
    // 1024 MB for 1000 ms is exactly one GB-second.
    expect(lambdaGbSeconds(1024, 1000)).toBe(1);
    // 256 MB for 100 ms: 0.25 GB × 0.1 s.
    expect(lambdaGbSeconds(256, 100)).toBeCloseTo(0.025, 12);
    // 512 MB for 10.2 ms bills 11 ms: 0.5 × 0.011.
    expect(lambdaGbSeconds(512, 10.2)).toBeCloseTo(0.0055, 12);
  });
});

describe('payload chunks (SQS requests, EventBridge events)', () => {
  it('counts each started 64 KB (65,536 bytes) as one', () => {
    expect(payloadChunks(0)).toBe(1);
    expect(payloadChunks(1)).toBe(1);
    expect(payloadChunks(65_536)).toBe(1);
    expect(payloadChunks(65_537)).toBe(2);
    expect(payloadChunks(256 * 1024)).toBe(4);
  });

  it('sizes an EventBridge entry as 14 bytes of time plus its strings', () => {
    expect(eventBridgeEntryBytes({ Source: 'abc', DetailType: 'de', Detail: '{}', Resources: ['r'] })).toBe(14 + 3 + 2 + 2 + 1);
    expect(eventBridgeEntryBytes({ Detail: 'é' })).toBe(14 + 2);
  });
});

describe('DynamoDB request units', () => {
  it('charges one write unit per started KB (1024 bytes)', () => {
    expect(dynamoWriteUnits(0)).toBe(1);
    expect(dynamoWriteUnits(1024)).toBe(1);
    expect(dynamoWriteUnits(1025)).toBe(2);
    expect(dynamoWriteUnits(3000)).toBe(3);
  });

  it('charges one read unit per started 4 KB strongly consistent, half eventually consistent', () => {
    expect(dynamoReadUnits(100, true)).toBe(1);
    expect(dynamoReadUnits(100, false)).toBe(0.5);
    expect(dynamoReadUnits(4096, true)).toBe(1);
    expect(dynamoReadUnits(4097, true)).toBe(2);
    expect(dynamoReadUnits(8192 + 1, false)).toBe(1.5);
  });

  it('sizes an item from attribute names and values as DynamoDB documents', () => {
    // "id" (2) + "deal#1" (6); "n" (1) + 12345 (5 digits → ceil(5/2) + 1 = 4); "ok" (2) + true (1).
    expect(dynamoItemBytes({ id: { S: 'deal#1' }, n: { N: '12345' }, ok: { BOOL: true } })).toBe(8 + 5 + 3);
    // A map: 3 bytes + 1 per element + its names and values: "m" (1) + 3 + 1 + "k" (1) + "v" (1).
    expect(dynamoItemBytes({ m: { M: { k: { S: 'v' } } } })).toBe(1 + 3 + 1 + 1 + 1);
  });
});

describe('Step Functions Express what-if', () => {
  it('rounds duration up to 100 ms and memory up to 64 MB chunks', () => {
    // 64 MB (1/16 GB) for 100 ms = 0.00625 GB-s; 101 ms bills 200 ms.
    expect(expressGbSeconds(1, 64)).toBeCloseTo(0.00625, 12);
    expect(expressGbSeconds(100, 64)).toBeCloseTo(0.00625, 12);
    expect(expressGbSeconds(101, 64)).toBeCloseTo(0.0125, 12);
    expect(expressGbSeconds(1000, 65)).toBeCloseTo(0.125, 12);
  });
});

describe('cost per 1M orders', () => {
  it('scales a per-order count by a million and divides by the price unit', () => {
    // 6 transitions an order at $0.025 per 1,000 transitions: 6,000,000 × 0.025 / 1000 = $150.
    expect(costPerMillionOrders(6, { usd: 0.025, per: 1000 })).toBeCloseTo(150, 9);
    // 0.1 GB-s an order at $0.0000133334 per GB-s: 100,000 GB-s = $1.33334.
    expect(costPerMillionOrders(0.1, { usd: 0.0000133334, per: 1 })).toBeCloseTo(1.33334, 9);
    // 1 request an order at $0.40 per million: $0.40.
    expect(costPerMillionOrders(1, { usd: 0.4, per: 1_000_000 })).toBeCloseTo(0.4, 12);
  });

  it('reads the dated price list with a source for every price', () => {
    const list = readPriceList();
    expect(list.read).toBe('2026-11-23');
    expect(Object.values(list.prices).every((price) => price.source.startsWith('https://aws.amazon.com/'))).toBe(true);
  });
});
