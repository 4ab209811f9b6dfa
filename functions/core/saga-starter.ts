/**
 * Starts one saga per bus event taken from a flow's queue. The execution name is
 * derived from the business event, so a duplicate start is a no-op; a message
 * that can never start (bad JSON, wrong shape) goes straight to the dead-letter
 * queue with its reason instead of being retried.
 */
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { AuditLog } from './audit.ts';
import { sqs, stepFunctions } from './aws-clients.ts';
import { PermanentError, classifyError, describeError } from './errors.ts';
import type { FlowDefinition } from './flow.ts';
import { MetricName } from './metric-names.ts';
import { logger, metrics } from './observability.ts';
import { parseOrThrow } from './validation.ts';

/** An EventBridge event as an SQS rule target delivers it. */
export const BusEventEnvelope = z.object({
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  time: z.string().min(1),
  detail: z.unknown(),
});

/** Where the starter sends work and records. */
export interface SagaStarterTarget {
  readonly flow: FlowDefinition<unknown>;
  readonly stateMachineArn: string;
  readonly deadLetterQueueUrl: string;
  readonly audit: AuditLog;
}

/** What happened to one queue message. */
export type StartOutcome = 'started' | 'duplicate' | 'dead-lettered';

/** Starts the saga for one queue message; throws only for failures worth retrying. */
export async function startSaga(record: SQSRecord, target: SagaStarterTarget): Promise<StartOutcome> {
  const { flow } = target;
  let input;
  try {
    const event = parseOrThrow(BusEventEnvelope, parseJson(record.body), 'message');
    const trigger = parseOrThrow(flow.triggerSchema, event.detail, 'message.detail');
    input = {
      name: flow.executionName(trigger),
      state: {
        trigger,
        businessKey: flow.businessKey(trigger),
        correlationId: event.id,
        receivedAt: event.time,
        results: {},
        compensations: {},
      },
    };
  } catch (error) {
    await deadLetter(record, target, error);
    return 'dead-lettered';
  }
  const audit = {
    businessKey: input.state.businessKey,
    correlationId: input.state.correlationId,
    kind: 'start',
    flow: flow.name,
    action: 'SagaStarted',
    executionName: input.name,
  } as const;
  try {
    await stepFunctions().send(
      new StartExecutionCommand({
        stateMachineArn: target.stateMachineArn,
        name: input.name,
        input: JSON.stringify(input.state),
        traceHeader: record.attributes.AWSTraceHeader,
      }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw classifyError(error);
    await target.audit.record({ ...audit, outcome: 'duplicate' });
    logger.info('duplicate start ignored', { executionName: input.name });
    return 'duplicate';
  }
  await target.audit.record({ ...audit, outcome: 'succeeded' });
  metrics.addMetric(MetricName.SagasStarted, MetricUnit.Count, 1);
  return 'started';
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new PermanentError(`message: body is not JSON (${(error as Error).message})`);
  }
}

/** Moves a message that can never start to the DLQ, with the reason as a message attribute. */
async function deadLetter(record: SQSRecord, target: SagaStarterTarget, error: unknown): Promise<void> {
  const reason = describeError(error).slice(0, 1000);
  logger.error('message dead-lettered', { messageId: record.messageId, reason });
  await sqs().send(
    new SendMessageCommand({
      QueueUrl: target.deadLetterQueueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: reason },
        flow: { DataType: 'String', StringValue: target.flow.name },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
      },
    }),
  );
  await target.audit.record({
    businessKey: `unparsed:${target.flow.name}`,
    correlationId: record.messageId,
    kind: 'dead-letter',
    flow: target.flow.name,
    action: 'MessageDeadLettered',
    outcome: 'rejected',
    error: reason,
  });
}
