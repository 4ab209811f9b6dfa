/**
 * Harmony's canonical CRM events: what every CRM webhook becomes on the bus,
 * whatever vendor sent it. Ingress maps vendor payloads to these; flow rules
 * match on them (`source` + `detail-type` + `detail` fields).
 */
import * as z from 'zod';

/** EventBridge `source` of every event that comes from a CRM. */
export const CRM_EVENT_SOURCE = 'harmony.crm';

/** `detail-type` of a deal that moved to another pipeline stage. */
export const DEAL_STAGE_CHANGED = 'Deal Stage Changed';

/** `detail-type` of any other CRM record change (created, property changed, deleted, merged…). */
export const CRM_OBJECT_CHANGED = 'CRM Object Changed';

/** ISO 8601 instant with offset, e.g. `2026-03-01T10:00:00.000Z`. */
const Instant = z.iso.datetime({ offset: true });

/** Detail of a {@link DEAL_STAGE_CHANGED} event. */
export const DealStageChangedDetail = z.object({
  /** Short CRM name, e.g. `hubspot`. */
  crm: z.string().min(1),
  /** The CRM account (HubSpot portal id, Salesforce org id…) as a string. */
  accountId: z.string().min(1),
  dealId: z.string().min(1),
  /** The new stage id, e.g. `closedwon`. */
  stage: z.string().min(1),
  occurredAt: Instant,
  /** The vendor's own event id, kept for tracing. */
  eventId: z.string().min(1),
});
export type DealStageChangedDetail = z.infer<typeof DealStageChangedDetail>;

/** Detail of a {@link CRM_OBJECT_CHANGED} event. */
export const CrmObjectChangedDetail = z.object({
  crm: z.string().min(1),
  accountId: z.string().min(1),
  /** Singular vendor object type, e.g. `contact`, `company`, `deal`, `line_item`. */
  objectType: z.string().min(1),
  objectId: z.string().min(1),
  /**
   * What happened: `created`, `propertyChanged`, `deleted`, `merged`, `restored`,
   * `associationChanged`, `privacyDeleted`, or the vendor's own word when Harmony has none.
   */
  changeType: z.string().min(1),
  propertyName: z.string().min(1).optional(),
  propertyValue: z.string().optional(),
  occurredAt: Instant,
  eventId: z.string().min(1),
});
export type CrmObjectChangedDetail = z.infer<typeof CrmObjectChangedDetail>;

/**
 * One canonical event, ready for PutEvents with `Source = CRM_EVENT_SOURCE`.
 * `eventId` is the dedup key at ingress (vendor-qualified, e.g. `hubspot:3816279340`).
 */
export const HubEvent = z.discriminatedUnion('detailType', [
  z.object({
    eventId: z.string().min(1),
    detailType: z.literal(DEAL_STAGE_CHANGED),
    detail: DealStageChangedDetail,
  }),
  z.object({
    eventId: z.string().min(1),
    detailType: z.literal(CRM_OBJECT_CHANGED),
    detail: CrmObjectChangedDetail,
  }),
]);
export type HubEvent = z.infer<typeof HubEvent>;

/**
 * The business key of a deal, e.g. `deal:hubspot:62515:4001`: the idempotency scope of
 * every flow that acts on one deal. Step Functions execution names may not contain `:`,
 * so a starter that names executions by it must encode it first.
 */
export function businessKeyForDeal(crm: string, accountId: string, dealId: string): string {
  return `deal:${crm}:${accountId}:${dealId}`;
}

/**
 * The `stage` of a deal-won event from a CRM that marks a win by the deal's status rather than
 * by a pipeline stage (Pipedrive's `status: won`, a Standard Webhooks mapping's won condition).
 * It is Harmony's default won stage, so the order-to-cash rule matches these events as deployed;
 * a deployment whose `wonDealStages` leaves it out must add it to start orders from such CRMs.
 */
export const WON_DEAL_STAGE = 'closedwon';

/** EventBridge `source` of every event that comes from an ERP (or a middleware speaking for one). */
export const ERP_EVENT_SOURCE = 'harmony.erp';

/** `detail-type` of an ERP order whose status changed (shipped, invoiced, paid…). */
export const ORDER_STATUS_CHANGED = 'Order Status Changed';

/** The order statuses an ERP announces, in the order they may occur (`cancelled` at any point). */
export const OrderStatus = z.enum(['confirmed', 'shipped', 'invoiced', 'paid', 'cancelled']);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Detail of an {@link ORDER_STATUS_CHANGED} event (`source` {@link ERP_EVENT_SOURCE}). */
export const OrderStatusChangedDetail = z.object({
  /** The system that announced it, as named in the callback path, e.g. `erp-middleware`. */
  system: z.string().min(1),
  /** The ERP's order reference, e.g. `S00042`. */
  orderRef: z.string().min(1),
  /** The CRM deal's qualified id the order carries, when the ERP reports it (polled ERPs do). */
  externalRef: z.string().min(1).optional(),
  status: OrderStatus,
  /** When the status changed in the ERP (not when Harmony heard of it): out-of-order updates are told apart by it. */
  occurredAt: Instant,
  /** The sender's own event id, kept for tracing. */
  eventId: z.string().min(1),
});
export type OrderStatusChangedDetail = z.infer<typeof OrderStatusChangedDetail>;

/** The business key of an ERP order, e.g. `order:erp-middleware:S00042`: audit records of its status changes are filed under it. */
export function businessKeyForOrder(system: string, orderRef: string): string {
  return `order:${system}:${orderRef}`;
}
