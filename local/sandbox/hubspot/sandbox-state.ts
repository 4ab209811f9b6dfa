/**
 * Everything the HubSpot sandbox keeps across restarts, in one JSON document:
 * the portal's records, the webhook outbox and the delivery log.
 */
import { seedPortalObjects, type PortalObjects } from './portal-data.ts';
import type { DeliveryLogEntry, OutboxEntry } from './webhook-outbox.ts';

/** Id of the first record created through the API; the seed stays below it. */
export const FIRST_CREATED_ID = 10_001;

/** The sandbox's durable state. */
export interface HubspotSandboxState {
  readonly version: 1;
  /** Next webhook `eventId`; never reused, also after a restart. */
  nextEventId: number;
  /**
   * Next id for a created record; one counter for every type, so an id never names two
   * records. Absent in files written before the sandbox could create records.
   */
  nextObjectId?: number;
  objects: PortalObjects;
  outbox: OutboxEntry[];
  deliveries: DeliveryLogEntry[];
}

/** A freshly seeded portal with an empty outbox. */
export function initialSandboxState(): HubspotSandboxState {
  return {
    version: 1,
    nextEventId: 1_000_001,
    nextObjectId: FIRST_CREATED_ID,
    objects: seedPortalObjects(),
    outbox: [],
    deliveries: [],
  };
}
