/**
 * ShipBob shapes ↔ Harmony's WMS shapes: the create-order and create-return bodies, and
 * fulfillment orders, stock levels and return receipts read back. Pure functions; the
 * status mapping follows ShipBob's Status Reference (shipment status + status detail).
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { describeIssues } from '../../../core/validation.ts';
import type {
  FulfillmentOrder,
  FulfillmentOrderDraft,
  FulfillmentPriority,
  FulfillmentStatus,
  FulfillmentStatusChange,
  ParcelTracking,
  ReceivedQuantity,
  ReturnReceipt,
  ReturnReceiptDraft,
  ReturnReceiptStatus,
  StockLevel,
} from '../port.ts';
import { FULFILLMENT_PROGRESSION } from '../port.ts';
import type { InventoryLevel, Order, Return, Shipment } from './vendor-shapes.ts';

/** The system name in errors, events and the rate budget. */
export const SHIPBOB_SYSTEM = 'shipbob';

/** Which ShipBob `shipping_method` each priority is sent as (the merchant maps methods to ship options). */
export interface ShippingMethods {
  readonly standard: string;
  readonly priority: string;
}

const Text = z.string().trim().min(1, 'required');
const OptionalText = z.string().trim().optional();

const ShipToInput = z.object({
  name: Text,
  company: OptionalText,
  street: Text,
  street2: OptionalText,
  city: Text,
  postalCode: OptionalText,
  state: OptionalText,
  countryCode: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as "DE"'),
  email: z.email().optional(),
  phone: OptionalText,
});

/** A reference ShipBob can keep and Harmony can look up again (`ReferenceIds` is comma-separated). */
const Reference = Text.max(300, 'ShipBob keeps at most 300 characters').refine((text) => !text.includes(','), 'must not contain a comma');

const FulfillmentDraftInput = z.object({
  externalRef: Reference,
  shipTo: ShipToInput,
  lines: z.array(z.object({ sku: Text, name: Text, quantity: z.number().int().positive('expected a whole number above 0') })).min(1, 'at least one line'),
  priority: z.enum(['standard', 'priority']),
});

const ReturnDraftInput = z.object({
  externalRef: Reference,
  lines: z.array(z.object({ sku: Text, quantity: z.number().int().positive('expected a whole number above 0') })).min(1, 'at least one line'),
  trackingNumber: OptionalText,
});

/** Parses Harmony's input or throws a PermanentError naming the field (`draft.shipTo.city: required`). */
function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, root: string, operation: string): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: invalid ${root} — ${describeIssues(parsed.error.issues, root)}`, {
    system: SHIPBOB_SYSTEM,
    code: 'validation',
  });
}

/** The draft, checked: PermanentError naming the first fields that ShipBob could not take. */
export function checkFulfillmentDraft(draft: FulfillmentOrderDraft): FulfillmentOrderDraft {
  return parseInput(FulfillmentDraftInput, draft, 'draft', 'createFulfillmentOrder') as FulfillmentOrderDraft;
}

/** The return draft, checked like a fulfillment draft. */
export function checkReturnDraft(draft: ReturnReceiptDraft): ReturnReceiptDraft {
  return parseInput(ReturnDraftInput, draft, 'draft', 'createReturnReceipt') as ReturnReceiptDraft;
}

/** A numeric ShipBob id from Harmony's string id; PermanentError naming `field` otherwise. */
export function shipBobId(value: string, field: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value)) {
    throw new PermanentError(`${SHIPBOB_SYSTEM}: ${field} "${value.slice(0, 40)}" is not a ShipBob id (a positive whole number)`, { system: SHIPBOB_SYSTEM, code: 'validation' });
  }
  return Number(value);
}

/** The `Orders.CreateOrderModel` body (ReferenceId model: products by SKU with their names). */
export function createOrderBody(draft: FulfillmentOrderDraft, methods: ShippingMethods): Record<string, unknown> {
  const { shipTo } = draft;
  return {
    reference_id: draft.externalRef,
    order_number: draft.externalRef,
    type: 'DTC',
    shipping_method: draft.priority === 'priority' ? methods.priority : methods.standard,
    recipient: {
      name: shipTo.name,
      address: {
        address1: shipTo.street,
        ...(shipTo.street2 === undefined ? {} : { address2: shipTo.street2 }),
        ...(shipTo.company === undefined ? {} : { company_name: shipTo.company }),
        city: shipTo.city,
        ...(shipTo.state === undefined ? {} : { state: shipTo.state }),
        ...(shipTo.postalCode === undefined ? {} : { zip_code: shipTo.postalCode }),
        country: shipTo.countryCode,
      },
      ...(shipTo.email === undefined ? {} : { email: shipTo.email }),
      ...(shipTo.phone === undefined ? {} : { phone_number: shipTo.phone }),
    },
    products: draft.lines.map((line) => ({ reference_id: line.sku, name: line.name, quantity: line.quantity })),
  };
}

/** The `Returns.CreateReturnRequest` body; ShipBob wants its inventory ids, not SKUs. */
export function createReturnBody(draft: ReturnReceiptDraft, inventoryIds: ReadonlyMap<string, number>, fulfillmentCenterId: number): Record<string, unknown> {
  return {
    reference_id: draft.externalRef,
    fulfillment_center: { id: fulfillmentCenterId },
    inventory: draft.lines.map((line) => ({ id: inventoryIds.get(line.sku)!, quantity: line.quantity, requested_action: 'Default' })),
    ...(draft.trackingNumber === undefined ? {} : { tracking_number: draft.trackingNumber }),
  };
}

const RANK = new Map(FULFILLMENT_PROGRESSION.map((status, index) => [status, index]));

/** Where one shipment is, from its status and status details (ShipBob's Status Reference). */
interface ShipmentStage {
  readonly status: FulfillmentStatus;
  readonly reason?: string;
}

function detailNames(shipment: Shipment): Set<string> {
  return new Set((shipment.status_details ?? []).map((detail) => detail.name ?? '').filter((name) => name !== ''));
}

function detailText(shipment: Shipment, fallback: string): string {
  const texts = (shipment.status_details ?? []).map((detail) => detail.description ?? detail.name ?? '').filter((text) => text !== '');
  return texts.length === 0 ? fallback : texts.join('; ');
}

function shipmentStage(shipment: Shipment): ShipmentStage {
  const details = detailNames(shipment);
  switch (shipment.status) {
    case 'Cancelled':
      return { status: 'cancelled' };
    case 'Exception':
    case 'OnHold':
    case 'CleanSweeped':
      return { status: 'exception', reason: `${shipment.status}: ${detailText(shipment, 'no detail given')}` };
    case 'Completed':
      if (details.has('Delivered')) return { status: 'delivered' };
      if (details.has('DeliveryException')) return { status: 'shipped', reason: `DeliveryException: ${detailText(shipment, 'delivery exception')}` };
      return { status: 'shipped' };
    case 'LabeledCreated':
      return { status: 'packed' };
    case 'Processing':
      if (details.has('Packed') || details.has('Labeled')) return { status: 'packed' };
      if (details.has('Picked')) return { status: 'picking' };
      return { status: 'received' };
    case 'None':
    case 'ImportReview':
      return { status: 'received' };
  }
}

/** When the shipment entered the stage it is in, from the dates ShipBob keeps. */
function stageTime(shipment: Shipment, status: FulfillmentStatus, orderCreated: string): string {
  if (status === 'delivered' && shipment.delivery_date) return shipment.delivery_date;
  if (status === 'shipped' && shipment.actual_fulfillment_date) return shipment.actual_fulfillment_date;
  if (status === 'shipped' && shipment.tracking?.shipping_date) return shipment.tracking.shipping_date;
  if (status === 'received') return shipment.created_date ?? orderCreated;
  return shipment.last_update_at ?? shipment.created_date ?? orderCreated;
}

function trackingOf(shipments: readonly Shipment[]): ParcelTracking[] {
  const seen = new Set<string>();
  const parcels: ParcelTracking[] = [];
  for (const shipment of shipments) {
    const number = shipment.tracking?.tracking_number?.trim();
    if (number === undefined || number === '' || seen.has(number)) continue;
    seen.add(number);
    parcels.push({
      carrier: shipment.tracking?.carrier?.trim() || 'unknown',
      trackingNumber: number,
      ...(shipment.tracking?.tracking_url ? { trackingUrl: shipment.tracking.tracking_url } : {}),
    });
  }
  return parcels;
}

/**
 * A ShipBob order as a fulfillment order. An order may have several shipments: it is as far
 * as its least advanced live shipment (cancelled ones aside), in `exception` while any live
 * shipment is held, and `cancelled` once every shipment is (or ShipBob says the order is).
 */
export function toFulfillmentOrder(order: Order, methods: ShippingMethods): FulfillmentOrder {
  const shipments = order.shipments ?? [];
  const staged = shipments.map((shipment) => ({ shipment, stage: shipmentStage(shipment) }));
  const live = staged.filter((entry) => entry.stage.status !== 'cancelled');
  const history: FulfillmentStatusChange[] = [{ status: 'received', at: order.created_date }];
  let status: FulfillmentStatus;
  let at: string;
  let reason: string | undefined;
  if (order.status === 'Cancelled' || (staged.length > 0 && live.length === 0)) {
    status = 'cancelled';
    const times = staged.map((entry) => entry.shipment.last_update_at ?? order.created_date);
    at = times.sort().at(-1) ?? order.created_date;
  } else if (live.length === 0) {
    status = 'received';
    at = order.created_date;
  } else {
    const held = live.find((entry) => entry.stage.status === 'exception');
    const least = live.reduce((lowest, entry) => ((RANK.get(entry.stage.status) ?? 0) < (RANK.get(lowest.stage.status) ?? 0) ? entry : lowest));
    const current = held ?? least;
    status = current.stage.status;
    reason = current.stage.reason ?? live.find((entry) => entry.stage.reason !== undefined)?.stage.reason;
    at = stageTime(current.shipment, status, order.created_date);
    if (status === 'delivered') {
      const shippedAt = current.shipment.actual_fulfillment_date ?? current.shipment.tracking?.shipping_date;
      if (shippedAt) history.push({ status: 'shipped', at: shippedAt });
    }
  }
  if (status !== 'received') history.push({ status, at });
  return {
    id: String(order.id),
    externalRef: order.reference_id ?? order.order_number ?? '',
    status,
    statusChangedAt: at,
    priority: priorityOf(order.shipping_method, methods),
    lines: (order.products ?? []).map((product) => ({ sku: product.reference_id ?? product.sku ?? '', quantity: product.quantity })),
    tracking: trackingOf(live.map((entry) => entry.shipment)),
    ...(reason === undefined ? {} : { exceptionReason: reason }),
    history,
  };
}

function priorityOf(method: string | null | undefined, methods: ShippingMethods): FulfillmentPriority {
  return method !== null && method !== undefined && method.toLowerCase() === methods.priority.toLowerCase() ? 'priority' : 'standard';
}

/** An inventory level as stock: fulfillable is what can be sold, committed what open orders hold. */
export function toStockLevel(level: InventoryLevel): StockLevel {
  return {
    sku: level.sku,
    onHand: level.total_on_hand_quantity,
    available: level.total_fulfillable_quantity,
    reserved: level.total_committed_quantity,
  };
}

const RETURN_STATUSES: ReadonlyMap<string, ReturnReceiptStatus> = new Map([
  ['awaitingarrival', 'awaiting'],
  ['arrived', 'arrived'],
  ['processing', 'processing'],
  ['completed', 'completed'],
  ['cancelled', 'cancelled'],
]);

const DISPOSITIONS: Readonly<Record<string, Pick<ReceivedQuantity, 'condition' | 'disposition'>>> = {
  Restock: { condition: 'sellable', disposition: 'restock' },
  Default: { condition: 'sellable', disposition: 'restock' },
  Quarantine: { condition: 'damaged', disposition: 'quarantine' },
  Dispose: { condition: 'damaged', disposition: 'dispose' },
};

/**
 * A ShipBob return as a receipt. `skuOf` names an inventory id (the create answer carries
 * no SKU); PermanentError for a status or an inventory item Harmony cannot place.
 */
export function toReturnReceipt(found: Return, skuOf: (inventoryId: number) => string | undefined): ReturnReceipt {
  const statusKey = (found.status ?? '').replace(/\s+/g, '').toLowerCase();
  const status = RETURN_STATUSES.get(statusKey);
  if (status === undefined) {
    throw new PermanentError(`${SHIPBOB_SYSTEM} return ${found.id}: unknown status "${found.status ?? ''}"`, { system: SHIPBOB_SYSTEM, code: 'malformed-response' });
  }
  const lines = (found.inventory ?? []).map((item) => {
    const sku = item.sku ?? skuOf(item.id);
    if (sku === undefined || sku === '') {
      throw new PermanentError(`${SHIPBOB_SYSTEM} return ${found.id}: inventory ${item.id} has no SKU Harmony knows`, { system: SHIPBOB_SYSTEM, code: 'malformed-response' });
    }
    const received = (item.action_taken ?? [])
      .filter((taken) => taken.quantity_processed > 0)
      .map((taken): ReceivedQuantity => ({
        quantity: taken.quantity_processed,
        ...DISPOSITIONS[taken.action]!,
        ...(taken.action_reason ? { reason: taken.action_reason } : {}),
      }));
    return { sku, expectedQuantity: item.quantity, receivedQuantity: received.reduce((sum, part) => sum + part.quantity, 0), received };
  });
  return {
    id: String(found.id),
    externalRef: found.reference_id ?? '',
    status,
    lines,
    ...(found.completed_date ? { completedAt: found.completed_date } : {}),
  };
}
