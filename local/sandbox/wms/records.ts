/**
 * What the ShipBob sandbox stores for an order and a return, and how it shows them in
 * ShipBob's 2026-01 shapes (`Orders.OrderViewModel`, `Returns.PublicReturnDto`/`V1Dto`,
 * `Inventory.InventoryQuantityResponse`). One shipment per order. A shipment's `stage` is
 * the sandbox's warehouse clock; the API shows it as ShipBob's status + status detail from
 * the Status Reference (Picked 100, Packed 101, Waiting For Carrier Pickup 200, …).
 */
import type { InventoryRow } from './store.ts';

/** The warehouse clock's steps, in order; `exception` and `cancelled` stand aside. */
export const STAGES = ['received', 'picked', 'packed', 'awaiting-pickup', 'in-transit', 'delivered'] as const;
export type Stage = (typeof STAGES)[number] | 'exception' | 'cancelled';

/** The one fulfillment center of the sandbox (the name of ShipBob's own documentation example). */
export const FULFILLMENT_CENTER = {
  id: 10,
  name: 'Cicero (IL)',
  address1: '5900 W Ogden Ave',
  address2: 'Suite 100',
  city: 'Cicero',
  state: 'IL',
  country: 'USA',
  zip_code: '60804',
  phone_number: '555-555-5555',
  email: 'cicero@shipbob-sandbox.example',
  timezone: 'Central Standard Time',
} as const;

/** An order line as stored. */
export interface StoredProduct {
  readonly id: number;
  readonly reference_id: string;
  readonly name: string;
  readonly quantity: number;
}

/** An order as stored. */
export interface StoredOrder {
  readonly id: number;
  readonly reference_id: string;
  readonly order_number: string;
  readonly type: string;
  readonly shipping_method: string;
  readonly channel: { readonly id: number; readonly name: string };
  readonly created_date: string;
  readonly recipient: Record<string, unknown>;
  readonly products: readonly StoredProduct[];
  readonly tags: readonly unknown[];
  /** Last change, for `LastUpdateStartDate` filters. */
  updatedAt: string;
  readonly shipment: StoredShipment;
}

/** The order's shipment as stored. */
export interface StoredShipment {
  readonly id: number;
  stage: Stage;
  /** Stock is committed to this shipment (reserved until it ships). */
  committed: boolean;
  readonly created_date: string;
  last_update_at: string;
  actual_fulfillment_date?: string;
  delivery_date?: string;
  tracking?: { carrier: string; carrier_service: string; tracking_number: string; tracking_url: string; shipping_date: string };
  exception?: { id: number; name: string; description: string; inventory_id: number };
  /** A status the sandbox was told to show instead (to play a ShipBob status Harmony does not know). */
  statusOverride?: string;
}

/** A return as stored. */
export interface StoredReturn {
  readonly id: number;
  readonly reference_id: string;
  status: 'AwaitingArrival' | 'Arrived' | 'Processing' | 'Completed' | 'Cancelled';
  readonly channel: { readonly id: number; readonly name: string };
  readonly insert_date: string;
  readonly tracking_number: string | null;
  readonly inventory: {
    readonly id: number;
    readonly sku: string;
    readonly name: string;
    readonly quantity: number;
    readonly requested_action: string;
    action_taken: { action: string; action_reason: string | null; quantity_processed: number; image_url: null }[];
  }[];
  status_history: { status: string; timestamp: string }[];
  arrived_date?: string;
  processing_date?: string;
  completed_date?: string;
}

const DETAILS: Readonly<Record<string, { status: string; detail?: { id: number; name: string; description: string } }>> = {
  received: { status: 'Processing' },
  picked: { status: 'Processing', detail: { id: 100, name: 'Picked', description: 'Picking Completed' } },
  packed: { status: 'Processing', detail: { id: 101, name: 'Packed', description: 'Packing Completed' } },
  'awaiting-pickup': { status: 'Completed', detail: { id: 200, name: 'Processing', description: 'Waiting For Carrier Pickup' } },
  'in-transit': { status: 'Completed', detail: { id: 201, name: 'InTransit', description: 'Shipment In Transit' } },
  delivered: { status: 'Completed', detail: { id: 203, name: 'Delivered', description: 'Shipment Delivered' } },
  cancelled: { status: 'Cancelled' },
};

function orderStatus(stage: Stage): string {
  if (stage === 'exception') return 'Exception';
  if (stage === 'cancelled') return 'Cancelled';
  return DETAILS[stage]!.status === 'Completed' ? 'Fulfilled' : 'Processing';
}

/** An order as `Orders.OrderViewModel`. */
export function orderView(order: StoredOrder, inventory: (id: number) => InventoryRow | undefined): Record<string, unknown> {
  const { shipment } = order;
  const shown = DETAILS[shipment.stage];
  const status = shipment.stage === 'exception' ? 'Exception' : shown!.status;
  const details =
    shipment.stage === 'exception' && shipment.exception !== undefined
      ? [{ ...shipment.exception, exception_fulfillment_center_id: FULFILLMENT_CENTER.id, extra_information: { validation_messages: [] } }]
      : shown?.detail === undefined
        ? []
        : [{ ...shown.detail, exception_fulfillment_center_id: null, inventory_id: null, extra_information: null }];
  const products = order.products.map((product) => ({
    id: product.id,
    reference_id: product.reference_id,
    sku: product.reference_id,
    quantity: product.quantity,
    quantity_unit_of_measure_code: 'EA',
    external_line_id: null,
    gtin: null,
    upc: null,
    unit_price: null,
  }));
  return {
    id: order.id,
    created_date: order.created_date,
    purchase_date: null,
    reference_id: order.reference_id,
    order_number: order.order_number,
    status: shipment.statusOverride ?? orderStatus(shipment.stage),
    type: order.type,
    channel: order.channel,
    shipping_method: order.shipping_method,
    recipient: order.recipient,
    products,
    tags: order.tags,
    gift_message: null,
    financials: { total_price: null },
    shipments: [
      {
        id: shipment.id,
        order_id: order.id,
        reference_id: order.reference_id,
        recipient: { ...order.recipient, full_name: order.recipient.name },
        created_date: shipment.created_date,
        last_update_at: shipment.last_update_at,
        last_tracking_update_at: shipment.tracking === undefined ? null : shipment.last_update_at,
        status: shipment.statusOverride ?? status,
        status_details: details,
        location: { id: FULFILLMENT_CENTER.id, name: FULFILLMENT_CENTER.name },
        invoice_amount: null,
        invoice_currency_code: null,
        insurance_value: null,
        ship_option: order.shipping_method,
        tracking: shipment.tracking === undefined ? null : { ...shipment.tracking, bol: null, pro_number: null, scac: null },
        products: order.products.map((product) => ({
          id: product.id,
          reference_id: product.reference_id,
          sku: product.reference_id,
          name: product.name,
          inventory_items: [
            {
              id: product.id,
              name: inventory(product.id)?.name ?? product.name,
              quantity: product.quantity,
              quantity_committed: shipment.committed ? product.quantity : 0,
              lot: null,
              expiration_date: null,
              serial_numbers: [],
              is_dangerous_goods: false,
            },
          ],
        })),
        is_tracking_uploaded: false,
        require_signature: false,
        package_material_type: shipment.tracking === undefined ? 'Unknown' : 'Box',
        estimated_fulfillment_date: null,
        estimated_fulfillment_date_status: shipment.stage === 'exception' ? 'AwaitingInventoryAllocation' : 'PendingOnTime',
        actual_fulfillment_date: shipment.actual_fulfillment_date ?? null,
        delivery_date: shipment.delivery_date ?? null,
        gift_message: null,
      },
    ],
  };
}

/** An inventory item as `Inventory.InventoryQuantityResponse`. */
export function levelView(item: InventoryRow): Record<string, unknown> {
  const fulfillable = Math.max(0, item.onHand - item.committed);
  return {
    inventory_id: item.id,
    name: item.name,
    sku: item.sku,
    total_on_hand_quantity: item.onHand,
    total_committed_quantity: item.committed,
    total_fulfillable_quantity: fulfillable,
    total_sellable_quantity: fulfillable,
    total_awaiting_quantity: 0,
    total_backordered_quantity: 0,
    total_exception_quantity: item.quarantined,
    total_internal_transfer_quantity: 0,
  };
}

/** A return as `Returns.PublicReturnDto` (GET), or `PublicReturnV1Dto` (the POST answer, without SKUs). */
export function returnView(stored: StoredReturn, form: 'get' | 'create'): Record<string, unknown> {
  return {
    id: stored.id,
    reference_id: stored.reference_id,
    status: stored.status,
    return_type: 'Regular',
    channel: stored.channel,
    customer_name: 'Harmony Sandbox Merchant',
    fulfillment_center: { id: FULFILLMENT_CENTER.id, name: FULFILLMENT_CENTER.name },
    insert_date: stored.insert_date,
    completed_date: stored.completed_date ?? null,
    tracking_number: stored.tracking_number,
    original_shipment_id: null,
    store_order_id: null,
    inventory: stored.inventory.map((item) => ({
      id: item.id,
      name: item.name,
      quantity: item.quantity,
      action_requested: { action: item.requested_action, action_type: 'OverriddenByMerchant', instructions: null },
      action_taken: item.action_taken,
      ...(form === 'get' ? { sku: item.sku, barcodes: [], lot_information: null } : {}),
    })),
    transactions: [],
    ...(form === 'get'
      ? {
          awaiting_arrival_date: stored.insert_date,
          arrived_date: stored.arrived_date ?? null,
          processing_date: stored.processing_date ?? null,
          cancelled_date: null,
          status_history: stored.status_history,
          invoice: { amount: null, currency_code: 'USD' },
          shipment_tracking_number: null,
        }
      : { invoice_amount: null }),
  };
}
