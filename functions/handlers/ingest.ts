/**
 * Lambda: receives CRM webhooks (Salesforce Outbound Messages in SOAP among them) and system
 * callbacks (API Gateway), verifies and validates them,
 * and puts each event on the hub bus once. Sources whose settings are absent answer 404.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { AuditLog } from '../core/audit.ts';
import { dynamo } from '../core/aws-clients.ts';
import { readEnv } from '../core/env.ts';
import { guardWebhook, type WebhookContext } from '../core/ingress/guard-webhook.ts';
import { acceptWebhook } from '../core/ingress/accept-webhook.ts';
import { webhookSources } from '../core/ingress/webhook-sources.ts';
import { logger, metrics } from '../core/observability.ts';

const env = readEnv(
  z.object({
    HUB_BUS_NAME: z.string().min(1),
    IDEMPOTENCY_TABLE: z.string().min(1),
    AUDIT_TABLE: z.string().min(1),
    HUBSPOT_CLIENT_SECRET: z.string().optional(),
    HUBSPOT_SECRET_ARN: z.string().optional(),
    PIPEDRIVE_WEBHOOK_USER: z.string().optional(),
    PIPEDRIVE_WEBHOOK_PASSWORD: z.string().optional(),
    PIPEDRIVE_SECRET_ARN: z.string().optional(),
    STANDARD_WEBHOOKS_SECRET: z.string().optional(),
    STANDARD_WEBHOOKS_SECRET_ARN: z.string().optional(),
    CALLBACK_JWKS_URL: z.string().optional(),
    CALLBACK_JWT_ISSUER: z.string().optional(),
    CALLBACK_JWT_AUDIENCE: z.string().optional(),
    SALESFORCE_ORG_ID: z.string().optional(),
    SALESFORCE_ALLOWED_CIDRS: z.string().optional(),
    SALESFORCE_WON_STAGES: z.string().optional(),
    PUBLIC_BASE_URL: z.url().optional(),
  }),
);
const target = {
  busName: env.HUB_BUS_NAME,
  audit: new AuditLog(env.AUDIT_TABLE),
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE, awsSdkV3Client: dynamo() }),
};

const ingest = (_event: APIGatewayProxyEvent, context: WebhookContext): Promise<APIGatewayProxyResult> =>
  acceptWebhook(context.webhook, target, context);

export const handler = middy(ingest)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(guardWebhook({ sources: webhookSources(env), publicBaseUrl: env.PUBLIC_BASE_URL }));
