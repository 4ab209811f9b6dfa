/**
 * The sandbox's Returns API: `POST /return` (inventory by ShipBob inventory id, a unique
 * `reference_id`, the receiving fulfillment center), `GET /return` by reference, and
 * `GET /return/{id}`. The warehouse side — the parcel arrives and each unit is restocked,
 * quarantined or disposed of, possibly fewer than announced — is the control
 * `POST /__sandbox/returns/{id}/receive`.
 */
import * as z from 'zod';
import { FULFILLMENT_CENTER, returnView, type StoredReturn } from './records.ts';
import { apiError, ok, problem, validationProblem, type Answer } from './responses.ts';
import { receiveReturned } from './stock.ts';
import type { WarehouseStore } from './store.ts';

const FIRST_RETURN_ID = 5_100_001;

/** What the return routes need besides the store. */
export interface ReturnDesk {
  readonly store: WarehouseStore;
  readonly channel: { readonly id: number; readonly name: string };
  readonly now: () => string;
}

const CreateReturn = z.object({
  reference_id: z.string().trim().min(1, 'The ReferenceId field is required.'),
  fulfillment_center: z.object({ id: z.number().int(), name: z.string().nullish() }),
  inventory: z
    .array(
      z.object({
        id: z.number().int(),
        quantity: z.number().int().min(1, 'Quantity must be greater than 0.'),
        requested_action: z.enum(['Default', 'Restock', 'Quarantine', 'Dispose']),
        lot_number: z.string().nullish(),
        lot_date: z.string().nullish(),
      }),
    )
    .min(1, 'At least one inventory item is required.'),
  tracking_number: z.string().nullish(),
  original_shipment_id: z.number().int().nullish(),
});

/** `POST /2026-01/return`. */
export function createReturn(desk: ReturnDesk, body: unknown, channelHeader: string | undefined): Answer {
  if (channelHeader === undefined || Number(channelHeader) !== desk.channel.id) return problem(400, 'Bad Request', 'A valid shipbob_channel_id header is required.');
  const parsed = CreateReturn.safeParse(body);
  if (!parsed.success) return validationProblem(parsed.error.issues);
  const request = parsed.data;
  const { store } = desk;
  if (request.fulfillment_center.id !== FULFILLMENT_CENTER.id) return apiError(`Fulfillment center ${request.fulfillment_center.id} does not accept returns for this merchant.`);
  if (store.returns().some((existing) => existing.reference_id === request.reference_id)) return apiError(`A return with reference id ${request.reference_id} already exists.`);
  const missing = request.inventory.filter((line) => store.inventory(line.id) === undefined);
  if (missing.length > 0) return apiError('Invalid inventory.', missing.map((line) => `Inventory ${line.id} does not exist.`));
  const at = desk.now();
  const stored: StoredReturn = {
    id: store.next('return', FIRST_RETURN_ID),
    reference_id: request.reference_id,
    status: 'AwaitingArrival',
    channel: desk.channel,
    insert_date: at,
    tracking_number: request.tracking_number ?? null,
    inventory: request.inventory.map((line) => {
      const item = store.inventory(line.id)!;
      return { id: item.id, sku: item.sku, name: item.name, quantity: line.quantity, requested_action: line.requested_action, action_taken: [] };
    }),
    status_history: [{ status: 'AwaitingArrival', timestamp: at }],
  };
  store.putReturn(stored);
  return ok(returnView(stored, 'create'), 201);
}

/** `GET /2026-01/return`: filtered by `ReferenceIds`/`Ids`, one page. */
export function listReturns(desk: ReturnDesk, query: URLSearchParams): Answer {
  const references = query.get('ReferenceIds')?.split(',');
  const ids = query.get('Ids')?.split(',').map(Number);
  const limit = Math.min(250, Math.max(1, Number(query.get('Limit') ?? 50) || 50));
  const items = desk.store
    .returns()
    .filter((stored) => references === undefined || references.includes(stored.reference_id))
    .filter((stored) => ids === undefined || ids.includes(stored.id))
    .reverse()
    .slice(0, limit);
  return ok({ items: items.map((stored) => returnView(stored, 'get')), first: null, prev: null, next: null, last: null });
}

/** `GET /2026-01/return/{id}`. */
export function getReturn(desk: ReturnDesk, id: number): Answer {
  const stored = desk.store.returnById(id);
  return stored === undefined ? problem(404, 'Not Found', `Return ${id} was not found.`) : ok(returnView(stored, 'get'));
}

/** Body of `POST /__sandbox/returns/{id}/receive`: per SKU, how many units came back in which state. */
export const ReceiveReturn = z.object({
  lines: z.array(
    z.object({
      sku: z.string().min(1),
      restock: z.number().int().nonnegative().default(0),
      quarantine: z.number().int().nonnegative().default(0),
      dispose: z.number().int().nonnegative().default(0),
      reason: z.string().optional(),
    }),
  ),
});

/** The warehouse receives and processes a return: Arrived → Processing → Completed. */
export function receiveReturn(desk: ReturnDesk, id: number, body: unknown): Answer {
  const stored = desk.store.returnById(id);
  if (stored === undefined) return problem(404, 'Not Found', `Return ${id} was not found.`);
  const parsed = ReceiveReturn.safeParse(body);
  if (!parsed.success) return validationProblem(parsed.error.issues);
  if (stored.status === 'Completed' || stored.status === 'Cancelled') return problem(409, 'Conflict', `Return ${id} is ${stored.status}.`);
  for (const line of parsed.data.lines) {
    const item = stored.inventory.find((entry) => entry.sku === line.sku);
    if (item === undefined) return problem(400, 'invalid receipt', `Return ${id} expects no ${line.sku}.`);
    const taken = [
      { action: 'Restock', quantity_processed: line.restock },
      { action: 'Quarantine', quantity_processed: line.quarantine },
      { action: 'Dispose', quantity_processed: line.dispose },
    ].filter((part) => part.quantity_processed > 0);
    item.action_taken = taken.map((part) => ({ ...part, action_reason: part.action === 'Restock' ? null : (line.reason ?? 'Damaged'), image_url: null }));
    receiveReturned(desk.store, item.id, line.restock, line.quarantine, desk.now());
  }
  stored.arrived_date = desk.now();
  stored.processing_date = desk.now();
  stored.completed_date = desk.now();
  stored.status = 'Completed';
  stored.status_history.push(
    { status: 'Arrived', timestamp: stored.arrived_date },
    { status: 'Processing', timestamp: stored.processing_date },
    { status: 'Completed', timestamp: stored.completed_date },
  );
  desk.store.putReturn(stored);
  return ok(returnView(stored, 'get'));
}
