/**
 * The one contract every WmsPort adapter passes, against its sandbox. An adapter's own test
 * file calls `describeWmsPortContract` with a subject that starts its sandbox and can make
 * the warehouse work (advance an order one step, receive a return) as a vendor's own
 * simulation endpoints or a sandbox control would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import {
  FULFILLMENT_PROGRESSION,
  type FulfillmentOrder,
  type FulfillmentOrderDraft,
  type StockLevel,
  type WmsPort,
  type WmsStatusUpdate,
} from '../../functions/connectors/wms/port.ts';
import type { FaultRequest } from '../../local/sandbox/faults.ts';
import { uniqueRef } from './erp-port-contract.ts';

/** What the suite needs from one adapter and its sandbox. */
export interface WmsContractSubject {
  /** The adapter, configured against the sandbox with a short timeout (≤ 2 s) so a held call fails fast. */
  readonly wms: WmsPort;
  /** Two physical SKUs the warehouse stocks plenty of (dozens of units). */
  readonly knownSkus: readonly [string, string];
  /** A well-formed fulfillment order id the warehouse does not have. */
  readonly missingOrderId: string;
  /** A well-formed return receipt id the warehouse does not have. */
  readonly missingReceiptId: string;
  /** The warehouse works one step on this order (received → picking → … → delivered). */
  advance(fulfillmentOrderId: string): Promise<void>;
  /** The warehouse receives a return: per SKU, how many units came back sellable and damaged. */
  receiveReturn(receiptId: string, lines: readonly { readonly sku: string; readonly sellable: number; readonly damaged: number }[]): Promise<void>;
  /** Fails the sandbox's next matching calls (POST /__sandbox/faults). */
  injectFault(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>): Promise<void>;
  /** Removes pending faults. */
  clearFaults(): Promise<void>;
  /** The same adapter with credentials the warehouse refuses (required when `options.credentials`). */
  withBadCredentials?(): WmsPort;
  /** Makes the warehouse expire every access token it has issued (required when `options.accessTokens`). */
  expireTokens?(): Promise<void>;
  close(): Promise<void>;
}

/** Options of the suite. */
export interface WmsContractOptions {
  /** The operation `getFulfillmentOrder` calls, for fault cases. */
  readonly readOperation: string;
  /** The operation that creates a fulfillment order, for the lost-answer case. */
  readonly createOperation: string;
  /** Steps `advance` needs at most from received to delivered. @default 10 */
  readonly maxStepsToDelivered?: number;
  /** The warehouse takes credentials: the subject has `withBadCredentials`. */
  readonly credentials: boolean;
  /** The warehouse issues expiring access tokens: the subject has `expireTokens`. */
  readonly accessTokens: boolean;
  /** The adapter reads status changes by polling: `wms.pollStatusUpdates` is there. */
  readonly pollsStatuses: boolean;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

const rank = (status: string): number => FULFILLMENT_PROGRESSION.indexOf(status as (typeof FULFILLMENT_PROGRESSION)[number]);

/** Registers the WMS contract for one adapter. */
export function describeWmsPortContract(name: string, setup: () => Promise<WmsContractSubject>, options: WmsContractOptions): void {
  describe(`WmsPort contract: ${name}`, () => {
    let subject: WmsContractSubject;
    beforeAll(async () => {
      subject = await setup();
    }, 60_000);
    afterAll(async () => {
      await subject?.close();
    });

    const maxSteps = options.maxStepsToDelivered ?? 10;

    const draft = (overrides: Partial<FulfillmentOrderDraft> = {}): FulfillmentOrderDraft => ({
      externalRef: uniqueRef('S'),
      priority: 'standard',
      shipTo: { name: 'Greta Nordwind', company: 'Nordwind Handels GmbH', street: 'Hafenstraße 7', city: 'Hamburg', postalCode: '20457', countryCode: 'DE', email: 'greta@nordwind.example' },
      lines: [
        { sku: subject.knownSkus[0], name: 'First line', quantity: 2 },
        { sku: subject.knownSkus[1], name: 'Second line', quantity: 1 },
      ],
      ...overrides,
    });

    async function stockOf(sku: string): Promise<StockLevel> {
      const [level] = (await subject.wms.getStockLevels([sku])).filter((entry) => entry.sku === sku);
      expect(level, `stock of ${sku}`).toBeDefined();
      return level!;
    }

    /** Advances the order until `done` holds, reading it after each step; returns every read. */
    async function advanceUntil(order: FulfillmentOrder, done: (read: FulfillmentOrder) => boolean): Promise<FulfillmentOrder[]> {
      const reads = [order];
      for (let step = 0; step < maxSteps && !done(reads.at(-1)!); step += 1) {
        await subject.advance(order.id);
        reads.push(await subject.wms.getFulfillmentOrder(order.id));
      }
      expect(done(reads.at(-1)!), `reached within ${maxSteps} steps: ${reads.map((read) => read.status).join(' → ')}`).toBe(true);
      return reads;
    }

    it('has a short lower-case system name', () => {
      expect(subject.wms.system).toMatch(/^[a-z][a-z0-9-]{1,30}$/);
    });

    describe('fulfillment orders', () => {
      it('creates an order in received that carries the ERP order number, its priority and lines', async () => {
        const orderDraft = draft({ priority: 'priority' });
        const order = await subject.wms.createFulfillmentOrder(orderDraft);
        expect(order.id).not.toBe('');
        expect(order).toMatchObject({ externalRef: orderDraft.externalRef, status: 'received', priority: 'priority', tracking: [] });
        expect(order.lines).toEqual(expect.arrayContaining([{ sku: subject.knownSkus[0], quantity: 2 }, { sku: subject.knownSkus[1], quantity: 1 }]));
        expect(Number.isNaN(Date.parse(order.statusChangedAt))).toBe(false);
        expect(order.history[0]?.status).toBe('received');
        expect((await subject.wms.createFulfillmentOrder(draft())).priority).toBe('standard');
      });

      it('creating the same reference twice, one after the other or at once, gives one order', async () => {
        const orderDraft = draft();
        const first = await subject.wms.createFulfillmentOrder(orderDraft);
        expect((await subject.wms.createFulfillmentOrder(orderDraft)).id).toBe(first.id);
        const racedDraft = draft();
        const [one, two] = await Promise.all([subject.wms.createFulfillmentOrder(racedDraft), subject.wms.createFulfillmentOrder(racedDraft)]);
        expect(two.id).toBe(one.id);
        expect((await subject.wms.findFulfillmentOrderByExternalRef(racedDraft.externalRef))?.id).toBe(one.id);
      });

      it('finds an order by its reference, and nothing for a reference it never saw', async () => {
        const order = await subject.wms.createFulfillmentOrder(draft());
        expect((await subject.wms.findFulfillmentOrderByExternalRef(order.externalRef))?.id).toBe(order.id);
        expect(await subject.wms.findFulfillmentOrderByExternalRef(uniqueRef('never-sent'))).toBeUndefined();
      });

      it('refuses a draft it cannot ship with a PermanentError naming the field, and creates nothing', async () => {
        const base = draft();
        const noCity = { ...base, shipTo: { ...base.shipTo, city: ' ' } };
        const error = await rejection(subject.wms.createFulfillmentOrder(noCity));
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toContain('shipTo.city');
        const noQuantity = draft({ lines: [{ sku: subject.knownSkus[0], name: 'Nothing', quantity: 0 }] });
        expect((await rejection(subject.wms.createFulfillmentOrder(noQuantity))).message).toContain('lines[0].quantity');
        expect(await subject.wms.findFulfillmentOrderByExternalRef(base.externalRef)).toBeUndefined();
      });

      it('refuses a SKU the warehouse does not stock with a PermanentError naming it', async () => {
        const orderDraft = draft({ lines: [{ sku: 'NO-SUCH-SKU-404', name: 'Ghost', quantity: 1 }] });
        const error = await rejection(subject.wms.createFulfillmentOrder(orderDraft));
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toContain('NO-SUCH-SKU-404');
        expect(await subject.wms.findFulfillmentOrderByExternalRef(orderDraft.externalRef)).toBeUndefined();
      });

      it('answers a PermanentError not-found for an order id it does not have', async () => {
        const error = await rejection(subject.wms.getFulfillmentOrder(subject.missingOrderId));
        expect(error).toBeInstanceOf(PermanentError);
        expect((error as PermanentError).code).toBe('not-found');
      });

      it('moves an order only forward to delivered, with tracking from shipped on and a dated history in order', async () => {
        const order = await subject.wms.createFulfillmentOrder(draft());
        const reads = await advanceUntil(order, (read) => read.status === 'delivered');
        const ranks = reads.map((read) => rank(read.status));
        expect(ranks.every((value) => value >= 0)).toBe(true);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
        const shipped = reads.find((read) => read.status === 'shipped');
        expect(shipped, 'passes through shipped').toBeDefined();
        for (const read of reads.filter((entry) => rank(entry.status) >= rank('shipped'))) {
          expect(read.tracking.length).toBeGreaterThan(0);
          expect(read.tracking[0]!.carrier).not.toBe('');
          expect(read.tracking[0]!.trackingNumber).not.toBe('');
        }
        const delivered = reads.at(-1)!;
        const history = delivered.history;
        expect(history.map((change) => change.status)).toEqual(expect.arrayContaining(['received', 'shipped', 'delivered']));
        expect(history.map((change) => rank(change.status))).toEqual(history.map((change) => rank(change.status)).sort((a, b) => a - b));
        const times = history.map((change) => Date.parse(change.at));
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(delivered.statusChangedAt).toBe(history.at(-1)!.at);
      });

      it('reserves stock for an open order and gives it back when the order is cancelled', async () => {
        const sku = subject.knownSkus[0];
        const before = await stockOf(sku);
        const order = await subject.wms.createFulfillmentOrder(draft({ lines: [{ sku, name: 'Reserved', quantity: 3 }] }));
        const reserved = await stockOf(sku);
        expect(reserved).toMatchObject({ onHand: before.onHand, available: before.available - 3, reserved: before.reserved + 3 });
        await subject.wms.cancelFulfillmentOrder(order.id);
        expect(await stockOf(sku)).toMatchObject({ onHand: before.onHand, available: before.available, reserved: before.reserved });
      });

      it('cancels an order before it ships, for good; cancelling again is a no-op', async () => {
        const order = await subject.wms.createFulfillmentOrder(draft());
        await subject.advance(order.id);
        const cancelled = await subject.wms.cancelFulfillmentOrder(order.id);
        expect(cancelled).toMatchObject({ id: order.id, status: 'cancelled' });
        expect((await subject.wms.cancelFulfillmentOrder(order.id)).status).toBe('cancelled');
        await subject.advance(order.id);
        expect((await subject.wms.getFulfillmentOrder(order.id)).status).toBe('cancelled');
      });

      it('refuses to cancel an order that has shipped with a PermanentError already-shipped, and leaves it shipped', async () => {
        const order = await subject.wms.createFulfillmentOrder(draft());
        await advanceUntil(order, (read) => read.status === 'shipped');
        const error = await rejection(subject.wms.cancelFulfillmentOrder(order.id));
        expect(error).toBeInstanceOf(PermanentError);
        expect((error as PermanentError).code).toBe('already-shipped');
        expect(error.message).toMatch(/shipped/i);
        expect((await subject.wms.getFulfillmentOrder(order.id)).status).toBe('shipped');
      });
    });

    describe('stock', () => {
      it('pages through every SKU once, with levels that add up', async () => {
        const seen: StockLevel[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
          const page = await subject.wms.listStockLevels({ pageSize: 2, ...(pageToken === undefined ? {} : { pageToken }) });
          expect(page.rejected).toEqual([]);
          expect(page.levels.length).toBeLessThanOrEqual(2);
          seen.push(...page.levels);
          pageToken = page.nextPageToken;
          pages += 1;
          expect(pages).toBeLessThan(1000);
        } while (pageToken !== undefined);
        const skus = seen.map((level) => level.sku);
        expect(new Set(skus).size).toBe(skus.length);
        expect(skus).toEqual(expect.arrayContaining([...subject.knownSkus]));
        expect(pages).toBeGreaterThan(1);
        for (const level of seen) {
          expect(level.available).toBeLessThanOrEqual(level.onHand);
          expect(level.reserved).toBeGreaterThanOrEqual(0);
        }
      });

      it('reads the stock of chosen SKUs and leaves out a SKU it does not know', async () => {
        const levels = await subject.wms.getStockLevels([subject.knownSkus[1], 'NO-SUCH-SKU-404']);
        expect(levels.map((level) => level.sku)).toEqual([subject.knownSkus[1]]);
      });

      it('reports stock that moved since a cursor: a shipped order lowers on hand, and the next cursor has nothing more', async () => {
        const [sku, untouched] = subject.knownSkus;
        const start = await subject.wms.stockChangesSince(undefined);
        expect(start.levels).toEqual([]);
        const before = await stockOf(sku);
        const order = await subject.wms.createFulfillmentOrder(draft({ lines: [{ sku, name: 'Moving', quantity: 2 }] }));
        await advanceUntil(order, (read) => read.status === 'shipped');
        const changed: StockLevel[] = [];
        let cursor = start.cursor;
        for (let calls = 0; ; calls += 1) {
          const changes = await subject.wms.stockChangesSince(cursor);
          changed.push(...changes.levels);
          cursor = changes.cursor;
          if (!changes.hasMore) break;
          expect(calls).toBeLessThan(100);
        }
        expect(changed.find((level) => level.sku === sku)?.onHand).toBe(before.onHand - 2);
        expect(changed.find((level) => level.sku === untouched)).toBeUndefined();
        const again = await subject.wms.stockChangesSince(cursor);
        expect(again.levels.find((level) => level.sku === sku)).toBeUndefined();
      });

      it('refuses a cursor it did not issue with a PermanentError', async () => {
        expect(await rejection(subject.wms.stockChangesSince('not-a-cursor'))).toBeInstanceOf(PermanentError);
      });
    });

    describe('returns', () => {
      it('creates a receipt awaiting the lines expected back, once per reference', async () => {
        const receiptDraft = { externalRef: uniqueRef('crm:return'), lines: [{ sku: subject.knownSkus[0], quantity: 3 }], trackingNumber: '1Z999AA10123456784' };
        const receipt = await subject.wms.createReturnReceipt(receiptDraft);
        expect(receipt).toMatchObject({ externalRef: receiptDraft.externalRef, status: 'awaiting' });
        expect(receipt.lines).toEqual([{ sku: subject.knownSkus[0], expectedQuantity: 3, receivedQuantity: 0, received: [] }]);
        expect((await subject.wms.createReturnReceipt(receiptDraft)).id).toBe(receipt.id);
        expect((await subject.wms.getReturnReceipt(receipt.id)).externalRef).toBe(receiptDraft.externalRef);
      });

      it('reads a return that came in short and damaged, and puts only the sellable units back in stock', async () => {
        const [sellableSku, damagedSku] = subject.knownSkus;
        const receipt = await subject.wms.createReturnReceipt({
          externalRef: uniqueRef('crm:return'),
          lines: [
            { sku: sellableSku, quantity: 3 },
            { sku: damagedSku, quantity: 1 },
          ],
        });
        const before = { sellable: await stockOf(sellableSku), damaged: await stockOf(damagedSku) };
        await subject.receiveReturn(receipt.id, [
          { sku: sellableSku, sellable: 2, damaged: 0 },
          { sku: damagedSku, sellable: 0, damaged: 1 },
        ]);
        const received = await subject.wms.getReturnReceipt(receipt.id);
        expect(received.status).toBe('completed');
        expect(received.completedAt).toBeDefined();
        const line = (sku: string) => received.lines.find((entry) => entry.sku === sku)!;
        expect(line(sellableSku)).toMatchObject({ expectedQuantity: 3, receivedQuantity: 2 });
        expect(line(sellableSku).received.every((part) => part.condition === 'sellable')).toBe(true);
        expect(line(damagedSku)).toMatchObject({ expectedQuantity: 1, receivedQuantity: 1 });
        expect(line(damagedSku).received.map((part) => part.condition)).toEqual(['damaged']);
        expect((await stockOf(sellableSku)).onHand).toBe(before.sellable.onHand + 2);
        expect((await stockOf(damagedSku)).onHand).toBe(before.damaged.onHand);
      });

      it('refuses a return of a SKU the warehouse does not stock with a PermanentError naming it', async () => {
        const error = await rejection(subject.wms.createReturnReceipt({ externalRef: uniqueRef('crm:return'), lines: [{ sku: 'NO-SUCH-SKU-404', quantity: 1 }] }));
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toContain('NO-SUCH-SKU-404');
      });

      it('answers a PermanentError not-found for a receipt id it does not have', async () => {
        const error = await rejection(subject.wms.getReturnReceipt(subject.missingReceiptId));
        expect(error).toBeInstanceOf(PermanentError);
        expect((error as PermanentError).code).toBe('not-found');
      });
    });

    if (options.pollsStatuses) {
      describe('status feed', () => {
        it('reports an order’s changes with stable source ids, again until acknowledged, and later changes after', async () => {
          expect(subject.wms.pollStatusUpdates, 'options.pollsStatuses needs wms.pollStatusUpdates').toBeDefined();
          const poll = () => subject.wms.pollStatusUpdates!();
          const order = await subject.wms.createFulfillmentOrder(draft());
          await advanceUntil(order, (read) => read.status === 'shipped');
          const ofOrder = (updates: readonly WmsStatusUpdate[]) => updates.filter((update) => update.fulfillmentOrderId === order.id);

          const first = await poll();
          const sourceIds = first.updates.map((update) => update.sourceId);
          expect(new Set(sourceIds).size).toBe(sourceIds.length);
          const shipped = ofOrder(first.updates).find((update) => update.status === 'shipped');
          expect(shipped).toMatchObject({ externalRef: order.externalRef });
          expect(shipped!.tracking.length).toBeGreaterThan(0);
          expect(Number.isNaN(Date.parse(shipped!.occurredAt))).toBe(false);

          const unacknowledged = await poll();
          expect(ofOrder(unacknowledged.updates).map((update) => update.sourceId)).toEqual(expect.arrayContaining(ofOrder(first.updates).map((update) => update.sourceId)));
          await unacknowledged.acknowledge();

          await advanceUntil(order, (read) => read.status === 'delivered');
          const later = await poll();
          const delivered = ofOrder(later.updates).find((update) => update.status === 'delivered');
          expect(delivered).toBeDefined();
          const shippedAgain = ofOrder(later.updates).find((update) => update.status === 'shipped');
          if (shippedAgain !== undefined) expect(shippedAgain.sourceId).toBe(shipped!.sourceId);
          await later.acknowledge();
        });
      });
    }

    describe('transport failures', () => {
      /** Reads a fresh order while the warehouse suffers `fault` on that read; the error it gave. */
      async function readUnder(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>): Promise<Error> {
        const order = await subject.wms.createFulfillmentOrder(draft());
        await subject.injectFault({ count: 1, ...fault, operation: options.readOperation });
        const error = await rejection(subject.wms.getFulfillmentOrder(order.id));
        await subject.clearFaults();
        return error;
      }

      it('a 429 with a wait is a RetryableError carrying the wait', async () => {
        const error = await readUnder({ kind: '429', retryAfterSeconds: 7 });
        expect(error).toBeInstanceOf(RetryableError);
        expect((error as RetryableError).retryAfterSeconds).toBe(7);
      });

      it('a 429 storm ends in success once it passes', async () => {
        const order = await subject.wms.createFulfillmentOrder(draft());
        await subject.injectFault({ kind: '429', count: 3, retryAfterSeconds: 0, operation: options.readOperation });
        let retries = 0;
        for (;;) {
          try {
            expect((await subject.wms.getFulfillmentOrder(order.id)).id).toBe(order.id);
            break;
          } catch (error) {
            expect(error).toBeInstanceOf(RetryableError);
            retries += 1;
            expect(retries).toBeLessThanOrEqual(3);
          }
        }
        expect(retries).toBe(3);
      });

      it('a server error is a RetryableError', async () => {
        expect(await readUnder({ kind: '500' })).toBeInstanceOf(RetryableError);
      });

      it('an answer that is not what the vendor documents is a clear PermanentError, not a crash', async () => {
        const error = await readUnder({ kind: 'malformed' });
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toMatch(new RegExp(subject.wms.system, 'i'));
      });

      it('a call the warehouse never answers fails as a RetryableError within the adapter timeout', async () => {
        expect(await readUnder({ kind: 'timeout' })).toBeInstanceOf(RetryableError);
      }, 15_000);

      it('a create whose answer is lost is found on the retry, not created twice', async () => {
        const orderDraft = draft();
        await subject.injectFault({ kind: 'commit-then-drop', count: 1, operation: options.createOperation });
        expect(await rejection(subject.wms.createFulfillmentOrder(orderDraft))).toBeInstanceOf(RetryableError);
        const retried = await subject.wms.createFulfillmentOrder(orderDraft);
        expect(retried.externalRef).toBe(orderDraft.externalRef);
        expect((await subject.wms.findFulfillmentOrderByExternalRef(orderDraft.externalRef))?.id).toBe(retried.id);
      });

      if (options.credentials) {
        it('credentials the warehouse refuses are a PermanentError that says so', async () => {
          expect(subject.withBadCredentials, 'options.credentials needs subject.withBadCredentials').toBeDefined();
          const error = await rejection(subject.withBadCredentials!().getFulfillmentOrder(subject.missingOrderId));
          expect(error).toBeInstanceOf(PermanentError);
          expect(error.message).toMatch(/auth|credential|401|403|token|denied/i);
        });
      }

      if (options.accessTokens) {
        it('an expired access token is replaced without the caller noticing', async () => {
          expect(subject.expireTokens, 'options.accessTokens needs subject.expireTokens').toBeDefined();
          const order = await subject.wms.createFulfillmentOrder(draft());
          await subject.expireTokens!();
          expect((await subject.wms.getFulfillmentOrder(order.id)).id).toBe(order.id);
        });
      }
    });
  });
}
