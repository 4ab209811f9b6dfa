/** Lambda: runs one step or compensation of a flow's saga (invoked by Step Functions). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { flows } from '../../flows/index.ts';
import { ConnectorEnvironment, connectorsFor, sharedRateLimiter } from '../connectors/registry.ts';
import { AuditLog } from '../core/audit.ts';
import { DynamoClaimStore } from '../core/claims.ts';
import { readEnv } from '../core/env.ts';
import { logger, metrics } from '../core/observability.ts';
import { runStep } from '../core/step-runner.ts';

const env = readEnv(
  ConnectorEnvironment.extend({
    FLOW_NAME: z.enum(Object.keys(flows) as [string, ...string[]]),
    AUDIT_TABLE: z.string().min(1),
    IDEMPOTENCY_TABLE: z.string().min(1),
    /** Vendor rate budgets, `system=perSecond/burst …`; a connector's own default otherwise. */
    CONNECTOR_RATE_LIMITS: z.string().optional(),
  }),
);
const flow = flows[env.FLOW_NAME]!;
const audit = new AuditLog(env.AUDIT_TABLE);
const claims = new DynamoClaimStore(env.IDEMPOTENCY_TABLE);
const rateLimiter = sharedRateLimiter(env.IDEMPOTENCY_TABLE, env.CONNECTOR_RATE_LIMITS);

/** Runs the requested step with this deployment's connectors. */
async function runFlowStep(request: unknown, context: Context) {
  const connectors = await connectorsFor(env, { rateLimiter });
  const deadline = new Date(Date.now() + context.getRemainingTimeInMillis());
  return runStep(flow, request, { services: { ...connectors, claims }, audit, deadline });
}

export const handler = middy(runFlowStep)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
