/**
 * One poll of an ERP that tells of order status changes only when asked (the file-drop
 * ERP's status files, a delta API): each change becomes an `Order Status Changed` event on
 * the hub bus, once (deduplicated by the ERP's source id), and each record the ERP sent
 * that cannot be read goes to the rejected-records queue with where it was and why, and
 * to the audit log. Only then is the poll acknowledged, so nothing read is ever lost.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { ErpPort, ErpRejectedRecord, ErpStatusUpdate } from '../connectors/erp/port.ts';
import type { AuditLog } from './audit.ts';
import { sqs } from './aws-clients.ts';
import { RetryableError } from './errors.ts';
import { ERP_EVENT_SOURCE, ORDER_STATUS_CHANGED, OrderStatus, businessKeyForOrder, type OrderStatusChangedDetail } from './events.ts';
import { publishOnce, type HubEvent, type PublishTarget } from './ingress/publish-events.ts';

/** Where a poll's results go. */
export interface StatusPollTarget extends PublishTarget {
  readonly audit: AuditLog;
  /** The queue rejected records are sent to (a DLQ an operator reads and redrives by hand). */
  readonly rejectedQueueUrl: string;
}

/** What a poll did. */
export interface StatusPollResult {
  readonly polled: boolean;
  readonly published: number;
  readonly duplicates: number;
  /** Updates with a status the bus does not carry (`draft`): read, acknowledged, not published. */
  readonly skipped: number;
  readonly rejected: number;
}

function toEvent(system: string, update: ErpStatusUpdate): HubEvent | undefined {
  const status = OrderStatus.safeParse(update.status);
  if (!status.success) return undefined;
  const detail: OrderStatusChangedDetail = {
    system,
    orderRef: update.orderRef,
    status: status.data,
    occurredAt: update.occurredAt,
    eventId: update.sourceId,
    ...(update.externalRef === undefined ? {} : { externalRef: update.externalRef }),
  };
  return {
    eventId: `erp:${system}:${update.sourceId}`,
    source: ERP_EVENT_SOURCE,
    detailType: ORDER_STATUS_CHANGED,
    detail,
    businessKey: businessKeyForOrder(system, update.orderRef),
  };
}

async function sendRejected(system: string, records: readonly ErpRejectedRecord[], target: StatusPollTarget): Promise<void> {
  for (let start = 0; start < records.length; start += 10) {
    const batch = records.slice(start, start + 10);
    const result = await sqs().send(
      new SendMessageBatchCommand({
        QueueUrl: target.rejectedQueueUrl,
        Entries: batch.map((record, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify({ system, ...record }),
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: record.reason.slice(0, 256) },
            source: { DataType: 'String', StringValue: record.source.slice(0, 256) },
            line: { DataType: 'Number', StringValue: String(record.line) },
          },
        })),
      }),
    );
    if ((result.Failed ?? []).length > 0) {
      throw new RetryableError(`rejected-records queue refused ${result.Failed!.length} of ${batch.length} records: ${result.Failed![0]!.Message ?? result.Failed![0]!.Code}`, { system: 'sqs' });
    }
  }
  await target.audit.recordAll(
    records.map((record) => ({
      businessKey: `erp-feed:${system}:${record.source}`,
      correlationId: `${record.source}#${record.line}`,
      kind: 'dead-letter' as const,
      action: 'StatusRecordRejected',
      outcome: 'rejected' as const,
      error: record.reason,
      facts: { source: record.source, line: record.line, raw: record.raw.slice(0, 500) },
    })),
  );
}

/** Polls the ERP once; a no-op for ERPs without a status feed. */
export async function pollErpStatuses(erp: ErpPort, target: StatusPollTarget, now: Date = new Date()): Promise<StatusPollResult> {
  if (erp.pollStatusUpdates === undefined) return { polled: false, published: 0, duplicates: 0, skipped: 0, rejected: 0 };
  const poll = await erp.pollStatusUpdates();
  const events = poll.updates.map((update) => toEvent(erp.system, update));
  const publishable = events.filter((event): event is HubEvent => event !== undefined);
  const published = publishable.length === 0 ? { accepted: 0, duplicates: 0 } : await publishOnce(publishable, { ...target, acceptedAction: 'StatusPolled' }, now);
  if (poll.rejected.length > 0) await sendRejected(erp.system, poll.rejected, target);
  await poll.acknowledge();
  return {
    polled: true,
    published: published.accepted,
    duplicates: published.duplicates,
    skipped: events.length - publishable.length,
    rejected: poll.rejected.length,
  };
}
