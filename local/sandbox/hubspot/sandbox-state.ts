/**
 * Everything the HubSpot sandbox keeps across restarts, in one JSON document:
 * the portal's records, the webhook outbox and the delivery log.
 */
import { seedPortalObjects, type PortalObjects } from './portal-data.ts';
import type { DeliveryLogEntry, OutboxEntry } from './webhook-outbox.ts';

/** The sandbox's durable state. */
export interface HubspotSandboxState {
  readonly version: 1;
  /** Next webhook `eventId`; never reused, also after a restart. */
  nextEventId: number;
  objects: PortalObjects;
  outbox: OutboxEntry[];
  deliveries: DeliveryLogEntry[];
}

/** A freshly seeded portal with an empty outbox. */
export function initialSandboxState(): HubspotSandboxState {
  return { version: 1, nextEventId: 1_000_001, objects: seedPortalObjects(), outbox: [], deliveries: [] };
}
