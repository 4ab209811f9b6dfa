/**
 * ShipBob Developer API (2026-01) shapes Harmony reads and writes, as zod schemas: the
 * subset of `Orders.OrderViewModel`, `Inventory.InventoryQuantityResponsePagedResponse`,
 * `FulfillmentCenterInventoryService.InventoryHistoryResponse`, `Returns.PublicReturnDto`
 * and the error bodies that the adapter relies on (field names as in ShipBob's OpenAPI
 * document). Unknown fields pass; a field Harmony needs that is missing or of another
 * type makes the answer malformed, with the path named.
 */
import * as z from 'zod';

const HAS_OFFSET = /(?:[zZ]|[+-]\d\d:?\d\d)$/;
const asUtc = (text: string): string => (HAS_OFFSET.test(text) ? text : `${text}Z`);

/** ShipBob's date-times (`2019-08-24T14:15:22Z`, sometimes `+00:00`), as UTC ISO 8601; one without an offset is UTC. */
export const ShipBobDateTime = z
  .string()
  .refine((text) => /^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(Date.parse(asUtc(text))), 'expected an ISO 8601 date-time')
  .transform((text) => new Date(asUtc(text)).toISOString());

/** `Orders.OrderStatusEnum`: a shipment's status. */
export const SHIPMENT_STATUSES = ['None', 'Processing', 'Completed', 'Exception', 'OnHold', 'Cancelled', 'CleanSweeped', 'LabeledCreated', 'ImportReview'] as const;
/** `Orders.OrderStatus`: the order's status, imputed from its shipments. */
export const ORDER_STATUSES = ['Processing', 'Exception', 'PartiallyFulfilled', 'Fulfilled', 'Cancelled', 'ImportReview'] as const;

/** `Orders.StatusDetailViewModel` (names and ids in ShipBob's Status Reference, e.g. `Picked` 100). */
export const StatusDetail = z.object({
  id: z.number().int().optional(),
  name: z.string().nullish(),
  description: z.string().nullish(),
  inventory_id: z.number().int().nullish(),
});

/** `Orders.TrackingViewModel`. */
export const Tracking = z.object({
  carrier: z.string().nullish(),
  tracking_number: z.string().nullish(),
  tracking_url: z.string().nullish(),
  shipping_date: ShipBobDateTime.nullish(),
});

/** `Orders.ShipmentViewModel`, the fields that say where the parcel is. */
export const Shipment = z.object({
  id: z.number().int(),
  status: z.enum(SHIPMENT_STATUSES),
  status_details: z.array(StatusDetail).nullish(),
  created_date: ShipBobDateTime.nullish(),
  last_update_at: ShipBobDateTime.nullish(),
  actual_fulfillment_date: ShipBobDateTime.nullish(),
  delivery_date: ShipBobDateTime.nullish(),
  tracking: Tracking.nullish(),
});
export type Shipment = z.infer<typeof Shipment>;

/** `Orders.ProductInfoViewModel`. */
export const OrderProduct = z.object({
  reference_id: z.string().nullish(),
  sku: z.string().nullish(),
  quantity: z.number().int(),
});

/** `Orders.OrderViewModel`. */
export const Order = z.object({
  id: z.number().int(),
  reference_id: z.string().nullish(),
  order_number: z.string().nullish(),
  created_date: ShipBobDateTime,
  status: z.enum(ORDER_STATUSES),
  shipping_method: z.string().nullish(),
  products: z.array(OrderProduct).nullish(),
  shipments: z.array(Shipment).nullish(),
});
export type Order = z.infer<typeof Order>;

/** `Orders.OrderViewModelArray` (GET /order). */
export const OrderList = z.array(Order);

/** `Orders.CanceledOrderViewModel` (POST /order/{id}:cancel). */
export const CanceledOrder = z.object({
  order_id: z.number().int().optional(),
  status: z.enum(['Success', 'Failure', 'PartialSuccess']),
  canceled_shipment_results: z
    .array(z.object({ shipment_id: z.number().int().optional(), is_success: z.boolean().optional(), reason: z.string().nullish(), action: z.string().nullish() }))
    .nullish(),
});

/** `Inventory.InventoryQuantityResponse`. */
export const InventoryLevel = z.object({
  inventory_id: z.number().int(),
  name: z.string().nullish(),
  sku: z.string().min(1, 'expected the SKU'),
  total_on_hand_quantity: z.number().int(),
  total_committed_quantity: z.number().int(),
  total_fulfillable_quantity: z.number().int(),
});
export type InventoryLevel = z.infer<typeof InventoryLevel>;

/** `Inventory.InventoryQuantityResponsePagedResponse`; items are checked one by one, so one bad item does not sink the page. */
export const InventoryLevelPage = z.object({
  items: z.array(z.unknown()).nullish(),
  next: z.string().nullish(),
});

/** `FulfillmentCenterInventoryService.InventoryHistory`, the fields the stock delta needs. */
export const InventoryHistoryEvent = z.object({
  inventory_audit_event_id: z.number().int(),
  inventory_id: z.number().int(),
  event_category: z.string().nullish(),
  event_datetime: ShipBobDateTime.nullish(),
});

/** `FulfillmentCenterInventoryService.InventoryHistoryResponse`. */
export const InventoryHistoryPage = z.object({
  data: z.array(InventoryHistoryEvent).nullish(),
  next: z.string().nullish(),
});

/** `Receiving.FulfillmentCenterViewModel`. */
export const FulfillmentCenter = z.object({ id: z.number().int(), name: z.string().nullish() });
export const FulfillmentCenterList = z.array(FulfillmentCenter);

/** `Returns.ReturnAction`, as requested and as taken. */
export const RETURN_ACTIONS = ['Default', 'Restock', 'Quarantine', 'Dispose'] as const;

/** `Returns.InventoryItemDto` / `InventoryItemV1Dto` (the create answer has no `sku`). */
export const ReturnInventory = z.object({
  id: z.number().int(),
  sku: z.string().nullish(),
  quantity: z.number().int(),
  action_taken: z
    .array(z.object({ action: z.enum(RETURN_ACTIONS), action_reason: z.string().nullish(), quantity_processed: z.number().int().nonnegative() }))
    .nullish(),
});

/** `Returns.PublicReturnDto` (GET) and `Returns.PublicReturnV1Dto` (POST answer). */
export const Return = z.object({
  id: z.number().int(),
  reference_id: z.string().nullish(),
  /** "AwaitingArrival" in the API, "Awaiting Arrival" in some documentation: compared without spaces. */
  status: z.string().nullish(),
  completed_date: ShipBobDateTime.nullish(),
  inventory: z.array(ReturnInventory).nullish(),
});
export type Return = z.infer<typeof Return>;

/** `Returns.PublicReturnDtoPagedUrlResultDto` (GET /return). */
export const ReturnPage = z.object({ items: z.array(Return).nullish(), next: z.string().nullish() });

/** The OAuth token endpoint's answer (`/connect/token`). */
export const TokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().int().positive(),
  token_type: z.string().regex(/^bearer$/i, 'expected "Bearer"'),
  refresh_token: z.string().min(1).optional(),
});

/** The OAuth token endpoint's error (`{"error":"invalid_grant"}`, RFC 6749 §5.2). */
export const TokenError = z.object({ error: z.string().min(1), error_description: z.string().optional() });
