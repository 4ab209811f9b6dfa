/** Lambda: takes bus events from a flow's SQS queue and starts one saga each (partial batch failures). */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { flows } from '../../flows/index.ts';
import { AuditLog } from '../core/audit.ts';
import { readEnv } from '../core/env.ts';
import { logger, metrics } from '../core/observability.ts';
import { startSaga } from '../core/saga-starter.ts';

const env = readEnv(
  z.object({
    FLOW_NAME: z.enum(Object.keys(flows) as [string, ...string[]]),
    STATE_MACHINE_ARN: z.string().min(1),
    DEAD_LETTER_QUEUE_URL: z.string().min(1),
    AUDIT_TABLE: z.string().min(1),
  }),
);
const target = {
  flow: flows[env.FLOW_NAME]!,
  stateMachineArn: env.STATE_MACHINE_ARN,
  deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL,
  audit: new AuditLog(env.AUDIT_TABLE),
};
const processor = new BatchProcessor(EventType.SQS);

/** Starts a saga per record; failed records are reported back to SQS for retry. */
const startSagas = (event: SQSEvent, context: Context) =>
  processPartialResponse(event, (record: SQSRecord) => startSaga(record, target), processor, { context });

export const handler = middy(startSagas).use(injectLambdaContext(logger)).use(logMetrics(metrics));
