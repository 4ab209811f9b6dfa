/**
 * Puts webhook events on the hub bus exactly once per vendor event id: each
 * event's PutEvents and its audit record run inside a Powertools idempotent
 * function keyed by the event id, so a redelivered webhook is recognised and a
 * failed put is retried by the vendor instead of being remembered as done.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { AuditLog } from '../audit.ts';
import { eventBridge } from '../aws-clients.ts';
import { RetryableError } from '../errors.ts';
import { CRM_EVENT_SOURCE } from '../events.ts';

/** A webhook event mapped to Harmony's canonical bus event. */
export interface HubEvent {
  /** Globally unique: vendor-qualified event id, e.g. `hubspot:123`. The dedup key. */
  readonly eventId: string;
  /** EventBridge `source`. @default CRM_EVENT_SOURCE */
  readonly source?: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /** Audit records of this event are filed under it. */
  readonly businessKey: string;
}

/** Where accepted events go. */
export interface PublishTarget {
  readonly busName: string;
  readonly audit: AuditLog;
  readonly persistenceStore: BasePersistenceLayer;
  /** The audit action of a published event. @default WebhookAccepted */
  readonly acceptedAction?: string;
  /** How long an event id is remembered; vendors retry for up to a day or so. @default 3 days */
  readonly dedupWindowSeconds?: number;
}

/** Counts for the webhook response and metrics. */
export interface PublishResult {
  readonly accepted: number;
  readonly duplicates: number;
}

const PARALLEL_PUTS = 10;

/**
 * Publishes each event unless its id was already published.
 * Throws RetryableError if any event could not be put (the vendor then redelivers;
 * the events that did go out are recognised as duplicates then).
 */
export async function publishOnce(
  events: readonly HubEvent[],
  target: PublishTarget,
  receivedAt: Date,
  lambdaContext?: Context,
): Promise<PublishResult> {
  const fresh = new Set<string>();
  const putAndAudit = async (event: HubEvent): Promise<{ busEventId: string }> => {
    const result = await eventBridge().send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: target.busName,
            Source: event.source ?? CRM_EVENT_SOURCE,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
            Time: receivedAt,
          },
        ],
      }),
    );
    const entry = result.Entries?.[0];
    if ((result.FailedEntryCount ?? 0) > 0 || entry?.EventId === undefined) {
      throw new RetryableError(
        `PutEvents failed for ${event.eventId}: ${entry?.ErrorCode ?? 'no event id'} ${entry?.ErrorMessage ?? ''}`.trim(),
        { system: 'eventbridge', code: entry?.ErrorCode },
      );
    }
    await target.audit.record({
      businessKey: event.businessKey,
      correlationId: entry.EventId,
      kind: 'webhook',
      action: target.acceptedAction ?? 'WebhookAccepted',
      outcome: 'succeeded',
      at: receivedAt,
      facts: { eventId: event.eventId, detailType: event.detailType },
    });
    fresh.add(event.eventId);
    return { busEventId: entry.EventId };
  };
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'eventId',
    expiresAfterSeconds: target.dedupWindowSeconds ?? 3 * 86_400,
  });
  // With the context, an event whose invocation died mid-way (crash, timeout) is only
  // "in progress" until that invocation's deadline, and a redelivery after it publishes it.
  if (lambdaContext !== undefined) config.registerLambdaContext(lambdaContext);
  const publish = makeIdempotent(putAndAudit, { persistenceStore: target.persistenceStore, config });
  // An event named twice in one batch is published once (racing itself, it would answer 503); the repeat is a duplicate.
  const unique = events.filter((event, index) => events.findIndex((other) => other.eventId === event.eventId) === index);
  let duplicates = events.length - unique.length;
  const failures: unknown[] = [];
  for (let start = 0; start < unique.length; start += PARALLEL_PUTS) {
    const slice = unique.slice(start, start + PARALLEL_PUTS);
    const outcomes = await Promise.allSettled(slice.map((event) => publish(event)));
    outcomes.forEach((outcome, index) => {
      const event = slice[index]!;
      if (outcome.status === 'fulfilled') {
        if (!fresh.has(event.eventId)) duplicates += 1;
      } else if (outcome.reason instanceof IdempotencyAlreadyInProgressError) {
        // Another delivery is publishing this event right now — or was, and died. Only a later
        // redelivery can tell which, so this one must not be acknowledged as done.
        failures.push(outcome.reason);
      } else {
        failures.push(outcome.reason);
      }
    });
  }
  if (failures.length > 0) {
    throw new RetryableError(`${failures.length} of ${events.length} events could not be published`, {
      cause: failures[0],
    });
  }
  return { accepted: events.length - duplicates, duplicates };
}
