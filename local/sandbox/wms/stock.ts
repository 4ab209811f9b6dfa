/**
 * The sandbox warehouse's stock: committing it to orders, taking it off the shelf when an
 * order ships (an `OrderPicked` history event), putting returned units back
 * (`InventoryRestocked`), and the two read APIs — `GET /inventory-level` with cursor pages
 * and `POST /inventory/history:query` paged by `inventory_audit_event_id`.
 */
import * as z from 'zod';
import { FULFILLMENT_CENTER, levelView, type StoredProduct } from './records.ts';
import { ok, problem, validationProblem, type Answer } from './responses.ts';
import type { InventoryRow, WarehouseStore } from './store.ts';

/** First `inventory_audit_event_id` the sandbox hands out. */
const FIRST_EVENT_ID = 700_000_001;
const DAY_MS = 24 * 3600 * 1000;

/** Commits stock for the lines, or names the first line that is short. Digital items need none. */
export function commitStock(store: WarehouseStore, products: readonly StoredProduct[]): { readonly short?: InventoryRow } {
  const items = products.map((product) => ({ product, item: store.inventory(product.id)! }));
  const short = items.find(({ product, item }) => !item.digital && item.onHand - item.committed < product.quantity);
  if (short !== undefined) return { short: short.item };
  for (const { product, item } of items) {
    if (!item.digital) store.putInventory({ ...item, committed: item.committed + product.quantity });
  }
  return {};
}

/** Releases stock committed to a cancelled order. */
export function releaseStock(store: WarehouseStore, products: readonly StoredProduct[]): void {
  for (const product of products) {
    const item = store.inventory(product.id)!;
    if (!item.digital) store.putInventory({ ...item, committed: Math.max(0, item.committed - product.quantity) });
  }
}

/** The parcel leaves: on hand and committed go down, and the history records an `OrderPicked`. */
export function shipStock(store: WarehouseStore, products: readonly StoredProduct[], orderId: number, at: string): void {
  for (const product of products) {
    const item = store.inventory(product.id)!;
    if (item.digital) continue;
    store.putInventory({ ...item, onHand: item.onHand - product.quantity, committed: Math.max(0, item.committed - product.quantity) });
    record(store, item.id, 'OrderPicked', -product.quantity, -product.quantity, at, orderId);
  }
}

/** Returned units processed: restocked ones go back on hand (`InventoryRestocked`), quarantined ones are held apart. */
export function receiveReturned(store: WarehouseStore, inventoryId: number, restock: number, quarantine: number, at: string): void {
  const item = store.inventory(inventoryId)!;
  store.putInventory({ ...item, onHand: item.onHand + restock, quarantined: item.quarantined + quarantine });
  if (restock > 0) record(store, inventoryId, 'InventoryRestocked', restock, 0, at, null);
}

/** Sets an item's on-hand quantity (a cycle count), recorded as `InventoryAdjusted`. */
export function adjustStock(store: WarehouseStore, item: InventoryRow, onHand: number, at: string): void {
  store.putInventory({ ...item, onHand });
  if (onHand !== item.onHand) record(store, item.id, 'InventoryAdjusted', onHand - item.onHand, 0, at, null);
}

function record(store: WarehouseStore, inventoryId: number, category: string, quantityChange: number, committedChange: number, at: string, orderId: number | null): void {
  store.addEvent({ id: store.next('inventory-event', FIRST_EVENT_ID), inventoryId, facilityId: FULFILLMENT_CENTER.id, category, quantityChange, committedChange, at, orderId });
}

const LevelQuery = z.object({
  PageSize: z.coerce.number().int().min(1).max(250).default(50),
  cursor: z.string().regex(/^\d+$/, 'The cursor is invalid.').optional(),
  InventoryIds: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'The InventoryIds field must be a comma-separated list of ids.')
    .optional(),
  SearchBy: z.string().optional(),
  IsActive: z.enum(['true', 'false']).optional(),
  IsDigital: z.enum(['true', 'false']).optional(),
});

/** `GET /2026-01/inventory-level`: items by id, `next` a relative link with the cursor. */
export function inventoryLevels(store: WarehouseStore, query: URLSearchParams): Answer {
  const parsed = LevelQuery.safeParse(Object.fromEntries(query));
  if (!parsed.success) return validationProblem(parsed.error.issues);
  const { PageSize, cursor, InventoryIds, SearchBy, IsDigital, IsActive } = parsed.data;
  const ids = InventoryIds === undefined ? undefined : new Set(InventoryIds.split(',').map(Number));
  const search = SearchBy?.toLowerCase();
  const matching = store
    .inventories()
    .filter((item) => ids === undefined || ids.has(item.id))
    .filter((item) => search === undefined || String(item.id) === search || item.sku.toLowerCase().includes(search) || item.name.toLowerCase().includes(search))
    .filter((item) => IsDigital === undefined || item.digital === (IsDigital === 'true'))
    .filter(() => IsActive !== 'false');
  const after = cursor === undefined ? 0 : Number(cursor);
  const page = matching.filter((item) => item.id > after).slice(0, PageSize);
  const last = page.at(-1);
  const more = last !== undefined && matching.some((item) => item.id > last.id);
  const link = (from: number | undefined) => {
    const params = new URLSearchParams(query);
    params.set('PageSize', String(PageSize));
    if (from === undefined) params.delete('cursor');
    else params.set('cursor', String(from));
    return `/2026-01/inventory-level?${params}`;
  };
  return ok({ items: page.map(levelView), first: cursor === undefined ? null : link(undefined), prev: null, next: more ? link(last.id) : null, last: null });
}

const HistoryBody = z.object({
  facility_id: z.number({ error: 'The facility_id field is required.' }).int(),
  cursor: z.number().int().nonnegative().nullish(),
  start_date: z.iso.datetime({ offset: true }).nullish(),
  end_date: z.iso.datetime({ offset: true }).nullish(),
  inventory_ids: z.array(z.number().int()).nullish(),
  event_category: z.string().nullish(),
});

/** `POST /2026-01/inventory/history:query`: a facility's movements, oldest first, `pageSize` a page. */
export function inventoryHistory(store: WarehouseStore, body: unknown, query: URLSearchParams, pageSize: number, now: number): Answer {
  const parsed = HistoryBody.safeParse(body ?? {});
  if (!parsed.success) return validationProblem(parsed.error.issues);
  const request = parsed.data;
  const end = request.end_date === null || request.end_date === undefined ? now : Date.parse(request.end_date);
  const start = request.start_date === null || request.start_date === undefined ? end - 90 * DAY_MS : Date.parse(request.start_date);
  if (end - start > 90 * DAY_MS + 60_000) return problem(400, 'Invalid date range', 'The date range cannot exceed 90 days.');
  const queryCursor = query.get('cursor');
  const after = queryCursor !== null && /^\d+$/.test(queryCursor) ? Number(queryCursor) : (request.cursor ?? 0);
  const wanted = request.inventory_ids === null || request.inventory_ids === undefined ? undefined : new Set(request.inventory_ids);
  const filtered = wanted !== undefined || Boolean(request.event_category);
  const rows = store
    .events(request.facility_id, after, new Date(start).toISOString(), new Date(end).toISOString(), filtered ? 1_000_000 : pageSize + 1)
    .filter((row) => wanted === undefined || wanted.has(row.inventoryId))
    .filter((row) => !request.event_category || row.category === request.event_category);
  const page = rows.slice(0, pageSize);
  const data = page.map((row) => {
    const sku = store.inventory(row.inventoryId)?.sku ?? null;
    const detail = { facility_id: row.facilityId, location_id: 1001, sku, quantity_change: row.quantityChange, committed_quantity_change: row.committedChange, inventory_status: 'Active', lot_number: null, expiration_date: null };
    return {
      inventory_audit_event_id: row.id,
      inventory_id: row.inventoryId,
      event_category: row.category,
      event_datetime: row.at,
      shipbob_order_id: row.orderId,
      additional_reference: row.orderId === null ? [] : [{ key: 'OrderId', value: String(row.orderId) }],
      increment: row.quantityChange > 0 ? detail : null,
      decrement: row.quantityChange <= 0 ? detail : null,
    };
  });
  const next = rows.length > pageSize ? `/2026-01/inventory/history:query?cursor=${page.at(-1)!.id}` : null;
  return ok({ data, first: null, prev: null, next, last: null });
}
