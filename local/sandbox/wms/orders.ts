/**
 * The sandbox's Orders API and warehouse clock. `POST /order` takes ShipBob's ReferenceId
 * model (a product unknown by reference is created empty, as ShipBob does), keeps
 * `reference_id` unique (422 `Cannot insert order with existing ReferenceId`), commits stock
 * or puts the shipment in Exception/OutOfStock. The clock moves an order one step per
 * advance: received → Picked → Packed → shipped (Waiting For Carrier Pickup, tracking number,
 * stock taken off the shelf) → InTransit → Delivered; an Exception order is allocated again.
 */
import * as z from 'zod';
import { commitStock, releaseStock, shipStock } from './stock.ts';
import { STAGES, orderView, type Stage, type StoredOrder, type StoredProduct } from './records.ts';
import { fieldErrors, issuesAsFields, ok, problem, type Answer } from './responses.ts';
import type { WarehouseStore } from './store.ts';

/** First order id (ShipBob's are plain integers in the hundreds of millions). */
const FIRST_ORDER_ID = 312_000_001;
const FIRST_SHIPMENT_ID = 418_000_001;
const FIRST_INVENTORY_ID = 20_000_101;

/** What the order routes need besides the store. */
export interface OrderDesk {
  readonly store: WarehouseStore;
  readonly channel: { readonly id: number; readonly name: string };
  /** Strictly increasing ISO times: each change is later than the one before. */
  readonly now: () => string;
}

const Text = z.string().trim().min(1, 'The field is required.');
const Optional = z.string().nullish();

const CreateOrder = z.object({
  reference_id: Text.max(300),
  order_number: Optional,
  type: z.enum(['DTC', 'DropShip', 'B2B']),
  shipping_method: Text,
  recipient: z.object({
    name: Text,
    address: z.object({ address1: Text, address2: Optional, company_name: Optional, city: Text, state: Optional, zip_code: Optional, country: Text }),
    email: Optional,
    phone_number: Optional,
  }),
  products: z
    .array(
      z.union([
        z.object({ reference_id: Text, name: Optional, quantity: z.number().int().min(1, 'The quantity must be at least 1.') }),
        z.object({ id: z.number().int(), quantity: z.number().int().min(1, 'The quantity must be at least 1.') }),
      ]),
    )
    .min(1, 'At least one product is required.'),
  tags: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
});

const view = (desk: OrderDesk, order: StoredOrder) => orderView(order, (id) => desk.store.inventory(id));

/** `POST /2026-01/order`. */
export function createOrder(desk: OrderDesk, body: unknown, channelHeader: string | undefined): Answer {
  if (channelHeader === undefined || channelHeader.trim() === '') return fieldErrors(400, { shipbob_channel_id: ['The shipbob_channel_id header is required.'] });
  if (Number(channelHeader) !== desk.channel.id) return { status: 403 };
  const parsed = CreateOrder.safeParse(body);
  if (!parsed.success) return fieldErrors(400, issuesAsFields(parsed.error.issues));
  const request = parsed.data;
  if (desk.store.orderByReference(request.reference_id) !== undefined) return fieldErrors(422, { '': ['Cannot insert order with existing ReferenceId'] });
  const { store } = desk;
  const products: StoredProduct[] = [];
  for (const [index, line] of request.products.entries()) {
    if ('id' in line) {
      const item = store.inventory(line.id);
      if (item === undefined) return fieldErrors(422, { [`products[${index}].id`]: [`Product ${line.id} does not exist.`] });
      products.push({ id: item.id, reference_id: item.sku, name: item.name, quantity: line.quantity });
      continue;
    }
    let item = store.inventoryBySku(line.reference_id);
    if (item === undefined) {
      if (!line.name) return fieldErrors(422, { [`products[${index}].name`]: ['The name is required when no product has this reference_id.'] });
      item = { id: store.next('inventory', FIRST_INVENTORY_ID), sku: line.reference_id, name: line.name, onHand: 0, committed: 0, quarantined: 0, digital: false };
      store.putInventory(item);
    }
    products.push({ id: item.id, reference_id: item.sku, name: line.name ?? item.name, quantity: line.quantity });
  }
  const at = desk.now();
  const order: StoredOrder = {
    id: store.next('order', FIRST_ORDER_ID),
    reference_id: request.reference_id,
    order_number: request.order_number ?? request.reference_id,
    type: request.type,
    shipping_method: request.shipping_method,
    channel: desk.channel,
    created_date: at,
    recipient: request.recipient,
    products,
    tags: request.tags ?? [],
    updatedAt: at,
    shipment: { id: store.next('shipment', FIRST_SHIPMENT_ID), stage: 'received', committed: false, created_date: at, last_update_at: at },
  };
  allocate(desk, order);
  store.putOrder(order);
  return ok(view(desk, order), 201);
}

/** Commits stock, or holds the shipment in Exception naming the short SKU. */
function allocate(desk: OrderDesk, order: StoredOrder): void {
  const { short } = commitStock(desk.store, order.products);
  if (short === undefined) {
    order.shipment.stage = 'received';
    order.shipment.committed = true;
    delete order.shipment.exception;
  } else {
    order.shipment.stage = 'exception';
    order.shipment.exception = { id: 303, name: 'OutOfStock', description: 'No Stock On Hand For Sku', inventory_id: short.id };
  }
}

const ListQuery = z.object({
  Page: z.coerce.number().int().min(1).default(1),
  Limit: z.coerce.number().int().min(1, 'The field Limit must be between 1 and 250.').max(250, 'The field Limit must be between 1 and 250.').default(50),
  IDs: z.string().optional(),
  ReferenceIds: z.string().optional(),
  StartDate: z.iso.datetime({ offset: true }).optional(),
  EndDate: z.iso.datetime({ offset: true }).optional(),
  LastUpdateStartDate: z.iso.datetime({ offset: true }).optional(),
  LastUpdateEndDate: z.iso.datetime({ offset: true }).optional(),
  SortOrder: z.enum(['Newest', 'Oldest']).default('Newest'),
  HasTracking: z.enum(['true', 'false']).optional(),
});

const within = (time: string, from: string | undefined, to: string | undefined) =>
  (from === undefined || Date.parse(time) >= Date.parse(from)) && (to === undefined || Date.parse(time) <= Date.parse(to));

/** `GET /2026-01/order`: a plain array, filtered, `Page`/`Limit` pages. */
export function listOrders(desk: OrderDesk, query: URLSearchParams): Answer {
  const parsed = ListQuery.safeParse(Object.fromEntries(query));
  if (!parsed.success) return fieldErrors(400, issuesAsFields(parsed.error.issues));
  const filter = parsed.data;
  const ids = filter.IDs === undefined ? undefined : new Set(filter.IDs.split(',').map((id) => id.trim()));
  const references = filter.ReferenceIds === undefined ? undefined : new Set(filter.ReferenceIds.split(','));
  const matching = desk.store
    .orders()
    .filter((order) => ids === undefined || ids.has(String(order.id)))
    .filter((order) => references === undefined || references.has(order.reference_id))
    .filter((order) => within(order.created_date, filter.StartDate, filter.EndDate))
    .filter((order) => within(order.updatedAt, filter.LastUpdateStartDate, filter.LastUpdateEndDate))
    .filter((order) => filter.HasTracking === undefined || (order.shipment.tracking !== undefined) === (filter.HasTracking === 'true'));
  if (filter.SortOrder === 'Newest') matching.reverse();
  const page = matching.slice((filter.Page - 1) * filter.Limit, filter.Page * filter.Limit);
  return ok(page.map((order) => view(desk, order)));
}

/** `GET /2026-01/order/{orderId}`. */
export function getOrder(desk: OrderDesk, id: number): Answer {
  const order = desk.store.order(id);
  return order === undefined ? problem(404, 'Not Found') : ok(view(desk, order));
}

/** `POST /2026-01/order/{orderId}:cancel`: `Success` before the parcel left, `Failure` with a reason after. */
export function cancelOrder(desk: OrderDesk, id: number): Answer {
  const order = desk.store.order(id);
  if (order === undefined) return problem(404, 'Not Found');
  const { shipment } = order;
  let reason: string | null = null;
  if (shipment.stage === 'cancelled') reason = 'Shipment is already cancelled.';
  else if (STAGES.indexOf(shipment.stage as (typeof STAGES)[number]) >= STAGES.indexOf('awaiting-pickup')) reason = 'Shipment has already been shipped and cannot be cancelled.';
  if (reason === null) {
    if (shipment.committed) releaseStock(desk.store, order.products);
    shipment.committed = false;
    touch(desk, order, 'cancelled');
    desk.store.putOrder(order);
  }
  return ok({
    order_id: order.id,
    status: reason === null ? 'Success' : 'Failure',
    canceled_shipment_results: [{ shipment_id: shipment.id, action: 'Cancel', is_success: reason === null, reason }],
    order: view(desk, order),
  });
}

function touch(desk: OrderDesk, order: StoredOrder, stage: Stage): string {
  const at = desk.now();
  order.shipment.stage = stage;
  order.shipment.last_update_at = at;
  order.updatedAt = at;
  return at;
}

/** Moves one order a step along the clock; false when it has nowhere to go. */
export function advanceOrder(desk: OrderDesk, order: StoredOrder): boolean {
  const { shipment } = order;
  if (shipment.stage === 'cancelled' || shipment.stage === 'delivered') return false;
  if (shipment.stage === 'exception') {
    allocate(desk, order);
    if (shipment.stage === 'exception') return false;
    touch(desk, order, 'received');
    return true;
  }
  const next = STAGES[STAGES.indexOf(shipment.stage) + 1]!;
  const at = touch(desk, order, next);
  if (next === 'awaiting-pickup') {
    shipStock(desk.store, order.products, order.id, at);
    shipment.committed = false;
    const trackingNumber = `1ZHRM0N103${String(shipment.id).slice(-8).padStart(8, '0')}`;
    shipment.tracking = { carrier: 'UPS', carrier_service: 'Ground', tracking_number: trackingNumber, tracking_url: `https://www.ups.com/track?tracknum=${trackingNumber}`, shipping_date: at };
    shipment.actual_fulfillment_date = at;
  }
  if (next === 'delivered') shipment.delivery_date = at;
  return true;
}

/** Advances every open order (or one) by `steps`; returns how many steps were taken. */
export function advance(desk: OrderDesk, orderId: number | undefined, steps: number): number {
  let moved = 0;
  for (let step = 0; step < steps; step += 1) {
    const orders = orderId === undefined ? desk.store.orders() : [desk.store.order(orderId)].filter((order): order is StoredOrder => order !== undefined);
    for (const order of orders) {
      if (advanceOrder(desk, order)) {
        desk.store.putOrder(order);
        moved += 1;
      }
    }
  }
  return moved;
}
