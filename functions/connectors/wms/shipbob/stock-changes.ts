/**
 * Stock deltas from ShipBob's inventory history (`POST /inventory/history:query`): events
 * that moved on-hand quantities (order picks, receipts, restocked returns, adjustments) per
 * fulfillment center, paged by `inventory_audit_event_id`. The cursor Harmony keeps records,
 * per fulfillment center, the last event read (or, before any, the time the cursor began);
 * the levels returned are the current ones of every inventory item an event touched.
 *
 * What it cannot see: ShipBob records no history event when an order merely commits stock,
 * so `available`/`reserved` changes without on-hand movement show up in the next full
 * listing, not here. History reaches back 90 days: a cursor older than that starts there.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { StockChanges } from '../port.ts';
import type { ShipBobClient } from './client.ts';
import type { InventoryLevels } from './inventory-levels.ts';
import { SHIPBOB_SYSTEM } from './mapping.ts';
import { SharedCache } from './shared-cache.ts';
import { FulfillmentCenterList, InventoryHistoryPage } from './vendor-shapes.ts';

/** History pages read per fulfillment center in one call before answering `hasMore`. */
const MAX_PAGES_PER_CENTER = 20;
/** How far back ShipBob's history reaches. */
const HISTORY_DAYS = 90;
/** How long the list of fulfillment centers is trusted. */
const CENTERS_TTL_MS = 60 * 60 * 1000;

const Cursor = z.object({
  v: z.literal(1),
  /** When the cursor began: where a center without a last event starts. */
  since: z.iso.datetime(),
  /** Last `inventory_audit_event_id` read, by fulfillment center id. */
  after: z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative()),
});
type Cursor = z.infer<typeof Cursor>;

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decode(text: string): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = Cursor.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError(`${SHIPBOB_SYSTEM} stockChangesSince: cursor is not one this adapter issued`, { system: SHIPBOB_SYSTEM, code: 'validation' });
  }
  return parsed.data;
}

const centers = new SharedCache<{ readonly loadedAt: number; readonly ids: readonly number[] }>((list) => Date.now() - list.loadedAt < CENTERS_TTL_MS);

/** Reads stock deltas for one ShipBob account. */
export class StockChangeFeed {
  readonly #client: ShipBobClient;
  readonly #levels: InventoryLevels;
  readonly #cacheKey: string;

  constructor(client: ShipBobClient, levels: InventoryLevels, cacheKey: string) {
    this.#client = client;
    this.#levels = levels;
    this.#cacheKey = cacheKey;
  }

  /** See `WmsPort.stockChangesSince`. */
  async since(text: string | undefined): Promise<StockChanges> {
    if (text === undefined) return { levels: [], cursor: encode({ v: 1, since: new Date().toISOString(), after: {} }), hasMore: false };
    const cursor = decode(text);
    const after = { ...cursor.after };
    const touched = new Set<number>();
    let hasMore = false;
    const oldest = Date.now() - HISTORY_DAYS * 24 * 3600 * 1000 + 60_000;
    const startDate = new Date(Math.max(Date.parse(cursor.since), oldest)).toISOString();
    for (const center of await this.#centers()) {
      const operation = 'POST /inventory/history:query';
      let last = after[String(center)];
      for (let pages = 1; ; pages += 1) {
        const page = await this.#client.json(
          {
            operation,
            method: 'POST',
            path: 'inventory/history:query',
            body: { facility_id: center, ...(last === undefined ? { start_date: startDate } : { cursor: last }) },
          },
          InventoryHistoryPage,
        );
        const events = page.data ?? [];
        for (const event of events) {
          touched.add(event.inventory_id);
          last = Math.max(last ?? 0, event.inventory_audit_event_id);
        }
        if (last !== undefined) after[String(center)] = last;
        if (!page.next || events.length === 0) break;
        if (pages >= MAX_PAGES_PER_CENTER) {
          hasMore = true;
          break;
        }
      }
    }
    const levels = touched.size === 0 ? [] : await this.#levels.byInventoryIds([...touched].sort((a, b) => a - b));
    return { levels, cursor: encode({ v: 1, since: cursor.since, after }), hasMore };
  }

  async #centers(): Promise<readonly number[]> {
    const load = async () => {
      const list = await this.#client.json({ operation: 'GET /fulfillment-center', method: 'GET', path: 'fulfillment-center' }, FulfillmentCenterList);
      return { loadedAt: Date.now(), ids: list.map((center) => center.id).sort((a, b) => a - b) };
    };
    return (await centers.get(this.#cacheKey, load)).ids;
  }
}
