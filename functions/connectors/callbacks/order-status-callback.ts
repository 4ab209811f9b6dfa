/**
 * What a system pushing to `POST /callbacks/{system}` says — today an ERP order's status
 * change (for example from an ERP middleware) — and the canonical hub event it becomes.
 */
import * as z from 'zod';
import {
  ERP_EVENT_SOURCE,
  ORDER_STATUS_CHANGED,
  OrderStatus,
  businessKeyForOrder,
  type OrderStatusChangedDetail,
} from '../../core/events.ts';

/** A `{system}` path segment: lower case, safe in business keys and execution names. */
export const CALLBACK_SYSTEM_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** A reference or id from the sender: printable, no spaces, bounded. */
const Reference = z.string().regex(/^[\x21-\x7e]{1,200}$/, { error: 'expected 1 to 200 printable ASCII characters without spaces' });

/** The body of an order status callback. Unknown fields pass through (senders add their own). */
export const OrderStatusCallback = z.looseObject({
  /** The ERP's order reference, e.g. `S00042`. */
  orderRef: Reference,
  status: OrderStatus,
  /** When the status changed in the ERP. */
  occurredAt: z.iso.datetime({ offset: true }),
  /** The sender's id of this announcement: the same on every retry of it. The dedup key. */
  eventId: Reference,
});
export type OrderStatusCallback = z.infer<typeof OrderStatusCallback>;

/** The hub event of one callback: dedup key `callback:<system>:<eventId>`, filed under the order. */
export function toOrderStatusEvent(system: string, callback: OrderStatusCallback) {
  const detail: OrderStatusChangedDetail = {
    system,
    orderRef: callback.orderRef,
    status: callback.status,
    occurredAt: new Date(callback.occurredAt).toISOString(),
    eventId: callback.eventId,
  };
  return {
    eventId: `callback:${system}:${callback.eventId}`,
    source: ERP_EVENT_SOURCE,
    detailType: ORDER_STATUS_CHANGED,
    detail,
    businessKey: businessKeyForOrder(system, callback.orderRef),
  };
}
