/**
 * Lambda (scheduled): polls an ERP that tells of order status changes only when asked
 * and puts each change on the hub bus; unreadable records go to the rejected-records queue.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import * as z from 'zod';
import { ConnectorEnvironment, connectorsFor, sharedRateLimiter } from '../connectors/registry.ts';
import { AuditLog } from '../core/audit.ts';
import { dynamo } from '../core/aws-clients.ts';
import { readEnv } from '../core/env.ts';
import { logger, metrics } from '../core/observability.ts';
import { pollErpStatuses } from '../core/status-poller.ts';

const env = readEnv(
  ConnectorEnvironment.extend({
    HUB_BUS_NAME: z.string().min(1),
    IDEMPOTENCY_TABLE: z.string().min(1),
    AUDIT_TABLE: z.string().min(1),
    REJECTED_QUEUE_URL: z.string().min(1),
    CONNECTOR_RATE_LIMITS: z.string().optional(),
  }),
);
const rateLimiter = sharedRateLimiter(env.IDEMPOTENCY_TABLE, env.CONNECTOR_RATE_LIMITS);
const target = {
  busName: env.HUB_BUS_NAME,
  audit: new AuditLog(env.AUDIT_TABLE),
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE, awsSdkV3Client: dynamo() }),
  rejectedQueueUrl: env.REJECTED_QUEUE_URL,
};

async function poll() {
  const { erp } = await connectorsFor(env, { rateLimiter });
  const result = await pollErpStatuses(erp, target);
  logger.info('ERP statuses polled', { erp: erp.system, ...result });
  return result;
}

export const handler = middy(poll).use(injectLambdaContext(logger)).use(logMetrics(metrics));
