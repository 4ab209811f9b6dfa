/**
 * Claims on dynalite with the stack's idempotency table: exclusive per key, an outcome
 * for the runs that lose, and a lease that lets another run take over a claim whose
 * holder's invocation is over without having recorded anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoClaimStore } from '../../functions/core/claims.ts';
import { startHandlerStores, type HandlerStores } from '../support/handler-stores.ts';

let stores: HandlerStores;
let claims: DynamoClaimStore;
let counter = 0;
const key = () => `test:${++counter}`;
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000);

beforeAll(async () => {
  stores = await startHandlerStores();
  Object.assign(process.env, stores.environment);
  claims = new DynamoClaimStore(stores.idempotencyTable);
});

afterAll(async () => {
  await stores?.stop();
});

describe('DynamoClaimStore', () => {
  it('gives a key to one owner; another sees the holder, then its outcome', async () => {
    const k = key();
    expect(await claims.claim(k, 'run-a')).toEqual({ owned: true });
    expect(await claims.claim(k, 'run-b')).toEqual({ owned: false, holder: 'run-a' });
    await claims.complete(k, 'run-a', { orderId: '7' });
    expect(await claims.claim(k, 'run-b')).toEqual({ owned: false, holder: 'run-a', outcome: { orderId: '7' } });
    expect(await claims.claim(k, 'run-a')).toEqual({ owned: true, outcome: { orderId: '7' } });
  });

  it('lets another owner take over a lapsed lease, but not a running one', async () => {
    const running = key();
    await claims.claim(running, 'run-a', { leaseUntil: inSeconds(60) });
    expect(await claims.claim(running, 'run-b', { leaseUntil: inSeconds(60) })).toMatchObject({ owned: false, holder: 'run-a' });

    const lapsed = key();
    await claims.claim(lapsed, 'run-a', { leaseUntil: inSeconds(-1) });
    expect(await claims.claim(lapsed, 'run-b', { leaseUntil: inSeconds(60) })).toEqual({ owned: true });
    expect(await claims.claim(lapsed, 'run-a', { leaseUntil: inSeconds(60) })).toMatchObject({ owned: false, holder: 'run-b' });
  });

  it('never takes over a claim whose holder recorded an outcome, lapsed or not', async () => {
    const k = key();
    await claims.claim(k, 'run-a', { leaseUntil: inSeconds(-1) });
    await claims.complete(k, 'run-a', { orderId: '9' });
    expect(await claims.claim(k, 'run-b', { leaseUntil: inSeconds(60) })).toEqual({ owned: false, holder: 'run-a', outcome: { orderId: '9' } });
  });

  it('extends the lease when its holder claims again from a later attempt, lapsed or still running', async () => {
    const lapsed = key();
    await claims.claim(lapsed, 'run-a', { leaseUntil: inSeconds(-1) });
    expect(await claims.claim(lapsed, 'run-a', { leaseUntil: inSeconds(60) })).toEqual({ owned: true });
    expect(await claims.claim(lapsed, 'run-b', { leaseUntil: inSeconds(60) })).toMatchObject({ owned: false, holder: 'run-a' });

    const running = key();
    const firstDeadline = inSeconds(1);
    await claims.claim(running, 'run-a', { leaseUntil: firstDeadline });
    expect(await claims.claim(running, 'run-a', { leaseUntil: inSeconds(60) })).toEqual({ owned: true });
    await new Promise((resolve) => setTimeout(resolve, firstDeadline.getTime() - Date.now() + 100));
    expect(await claims.claim(running, 'run-b', { leaseUntil: inSeconds(60) })).toMatchObject({ owned: false, holder: 'run-a' });
  });

  it('gives a released key to the next owner', async () => {
    const k = key();
    await claims.claim(k, 'run-a', { leaseUntil: inSeconds(60) });
    await claims.release(k, 'run-a');
    expect(await claims.claim(k, 'run-b')).toEqual({ owned: true });
  });
});
