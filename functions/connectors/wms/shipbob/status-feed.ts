/**
 * Fulfillment status changes by polling `GET /order?LastUpdateStartDate=…&LastUpdateEndDate=…`
 * (ShipBob's documented fallback to webhooks). Each poll reads the window from the last
 * acknowledged end (less a few seconds of overlap for clock skew) to now, every page of it
 * (`Page`/`Limit` 250; a window with more orders than a poll should read is halved), and
 * reports every status of every changed order with a stable source id: what the overlap
 * reads twice is deduplicated downstream. An order Harmony cannot read is rejected with
 * its page and position; the rest is still read. The window's end becomes the cursor only
 * on `acknowledge()`.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { WmsRejectedRecord, WmsStatusPoll, WmsStatusUpdate } from '../port.ts';
import type { ShipBobClient } from './client.ts';
import { SHIPBOB_SYSTEM, toFulfillmentOrder, type ShippingMethods } from './mapping.ts';
import type { StateStore } from './state-store.ts';
import { Order } from './vendor-shapes.ts';

/** Orders per page, ShipBob's maximum. */
const PAGE_LIMIT = 250;
/** Pages one poll reads before it halves its window. */
const MAX_PAGES = 20;
/** Re-read this much before the last window's end: ShipBob's clock and ours differ. */
const OVERLAP_MS = 5_000;

/** Options of the feed. */
export interface StatusFeedOptions {
  readonly store: StateStore;
  /** Where the cursor is kept, e.g. `shipbob:status-feed:<channel>`. */
  readonly cursorKey: string;
  /** How far back the first poll reads. */
  readonly initialLookbackMs: number;
  readonly methods: ShippingMethods;
  readonly now?: () => number;
}

/** One poll at a time of one ShipBob channel's order changes. */
export class StatusFeed {
  readonly #client: ShipBobClient;
  readonly #options: StatusFeedOptions;

  constructor(client: ShipBobClient, options: StatusFeedOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** See `WmsPort.pollStatusUpdates`. */
  async poll(): Promise<WmsStatusPoll> {
    const now = (this.#options.now ?? Date.now)();
    const stored = await this.#options.store.load(this.#options.cursorKey);
    const since = stored === undefined ? now - this.#options.initialLookbackMs : Date.parse(stored);
    if (Number.isNaN(since)) {
      throw new PermanentError(`${SHIPBOB_SYSTEM} pollStatusUpdates: stored cursor "${stored}" is not a time`, { system: SHIPBOB_SYSTEM, code: 'validation' });
    }
    const start = Math.min(since, now) - OVERLAP_MS;
    let end = now;
    for (;;) {
      const pages = await this.#readWindow(start, end);
      if (pages !== undefined) return this.#result(pages, end);
      if (end - start <= 1_000) {
        throw new PermanentError(`${SHIPBOB_SYSTEM} pollStatusUpdates: more than ${MAX_PAGES * PAGE_LIMIT} orders changed within one second`, { system: SHIPBOB_SYSTEM, code: 'too-many-results' });
      }
      end = start + Math.floor((end - start) / 2);
    }
  }

  /** Every page of the window, or undefined when there are more than MAX_PAGES. */
  async #readWindow(start: number, end: number): Promise<{ source: string; items: unknown[] }[] | undefined> {
    const pages: { source: string; items: unknown[] }[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const query = {
        LastUpdateStartDate: new Date(start).toISOString(),
        LastUpdateEndDate: new Date(end).toISOString(),
        SortOrder: 'Oldest',
        Page: page,
        Limit: PAGE_LIMIT,
      };
      const items = await this.#client.json({ operation: 'GET /order', method: 'GET', path: 'order', query }, z.array(z.unknown()));
      pages.push({ source: `GET /order?LastUpdateStartDate=${query.LastUpdateStartDate}&LastUpdateEndDate=${query.LastUpdateEndDate}&Page=${page}`, items });
      if (items.length < PAGE_LIMIT) return pages;
    }
    return undefined;
  }

  #result(pages: readonly { source: string; items: unknown[] }[], end: number): WmsStatusPoll {
    const updates: WmsStatusUpdate[] = [];
    const rejected: WmsRejectedRecord[] = [];
    const seen = new Set<string>();
    for (const { source, items } of pages) {
      items.forEach((item, index) => {
        const parsed = Order.safeParse(item);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          rejected.push({ source, line: index + 1, raw: JSON.stringify(item).slice(0, 4000), reason: `${issue.path.map(String).join('.') || '(order)'}: ${issue.message}` });
          return;
        }
        const order = toFulfillmentOrder(parsed.data, this.#options.methods);
        for (const change of order.history) {
          const sourceId = `shipbob:order:${order.id}:${change.status}:${change.at}`;
          if (seen.has(sourceId)) continue;
          seen.add(sourceId);
          updates.push({
            fulfillmentOrderId: order.id,
            ...(order.externalRef === '' ? {} : { externalRef: order.externalRef }),
            status: change.status,
            occurredAt: change.at,
            tracking: change.status === 'shipped' || change.status === 'delivered' ? order.tracking : [],
            ...(change.status === order.status && order.exceptionReason !== undefined ? { exceptionReason: order.exceptionReason } : {}),
            sourceId,
          });
        }
      });
    }
    const store = this.#options.store;
    const key = this.#options.cursorKey;
    return {
      updates,
      rejected,
      acknowledge: () => store.save(key, new Date(end).toISOString()),
    };
  }
}
