/**
 * The local hub's settings, read once from the environment: ports, the data
 * directory, and the connector settings the handlers get. Defaults point the
 * connectors at the sandboxes, which accept exactly these credentials.
 */
import * as z from 'zod';
import { readEnv } from '../functions/core/env.ts';

const Port = z.coerce.number().int().min(0).max(65_535);

/**
 * Every variable `npm start` reads, with its default. The README documents the same list.
 * Other variables pass through untouched: the chosen connector's own settings and secrets
 * (e.g. `NETSUITE_ACCOUNT_ID`) and its sandbox's port (e.g. `HARMONY_NETSUITE_PORT`).
 */
export const HubEnvironment = z.looseObject({
  /** The CRM the hub's template and connectors are for (a connector in functions/connectors/catalog.ts). */
  CRM_SYSTEM: z.string().regex(/^[a-z][a-z0-9-]*$/).default('hubspot'),
  /** The ERP the hub's template and connectors are for. */
  ERP_SYSTEM: z.string().regex(/^[a-z][a-z0-9-]*$/).default('odoo'),
  /** Where tables, queues, executions, the bus archive and the sandboxes keep their state. */
  HARMONY_DATA_DIR: z.string().min(1).default('.harmony'),
  /** Interface every local server listens on. */
  HARMONY_HOST: z.string().min(1).default('127.0.0.1'),
  /** The AWS-compatible endpoint (DynamoDB, SQS, EventBridge, Step Functions). */
  HARMONY_AWS_PORT: Port.default(4566),
  /** Webhook ingress (`POST /webhooks/{source}`, `GET /health`). */
  HARMONY_INGRESS_PORT: Port.default(3000),
  /** The HubSpot-compatible sandbox CRM. */
  HARMONY_HUBSPOT_PORT: Port.default(4010),
  /** The Odoo-compatible sandbox ERP. */
  HARMONY_ODOO_PORT: Port.default(4020),
  /** `false` to run against real systems given by HUBSPOT_BASE_URL / ODOO_URL instead of the sandboxes. */
  HARMONY_SANDBOXES: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
  /** Runs every scheduled rule (the ERP status poller…) at this interval instead of its own, in seconds. */
  HARMONY_SCHEDULE_INTERVAL_SECONDS: z.coerce.number().positive().optional(),
  /** How often alarms are evaluated, in seconds. */
  HARMONY_ALARM_INTERVAL_SECONDS: z.coerce.number().positive().default(10),
  /** Most instances (worker threads) of one function at once; a function's reserved concurrency lowers it. */
  HARMONY_LAMBDA_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  HUBSPOT_ACCESS_TOKEN: z.string().min(1).default('pat-local-harmony'),
  HUBSPOT_CLIENT_SECRET: z.string().min(1).default('local-hubspot-client-secret'),
  HUBSPOT_BASE_URL: z.string().optional(),
  ODOO_URL: z.string().optional(),
  ODOO_DB: z.string().min(1).default('harmony'),
  ODOO_USERNAME: z.string().min(1).default('harmony@example.com'),
  ODOO_API_KEY: z.string().min(1).default('local-odoo-api-key'),
  /** Pipedrive webhooks v2 (`POST /webhooks/pipedrive`): the HTTP basic auth the webhook was created with. Unset: the route answers 404. */
  PIPEDRIVE_WEBHOOK_USER: z.string().min(1).optional(),
  PIPEDRIVE_WEBHOOK_PASSWORD: z.string().min(1).optional(),
  /** Standard Webhooks (`POST /webhooks/standard/{mapping}`): one or more `whsec_` secrets, space-separated. Unset: 404. */
  STANDARD_WEBHOOKS_SECRET: z.string().min(1).optional(),
  /** Salesforce Outbound Messages (`POST /webhooks/salesforce`): the org they must come from (15 or 18 characters). Unset: the Salesforce sandbox's org when it runs, else 404. */
  SALESFORCE_ORG_ID: z.string().min(1).optional(),
  /** Source ranges Outbound Messages may come from, space- or comma-separated CIDRs. Unset: any address. */
  SALESFORCE_ALLOWED_CIDRS: z.string().min(1).optional(),
  /** JWT callbacks (`POST /callbacks/{system}`): the issuer's JWKS, and the `iss` and `aud` tokens must carry. Unset: 404. */
  CALLBACK_JWKS_URL: z.string().min(1).optional(),
  CALLBACK_JWT_ISSUER: z.string().min(1).optional(),
  CALLBACK_JWT_AUDIENCE: z.string().min(1).optional(),
  /** Slack incoming webhook for alarms (same message format as the cloud notifier). */
  SLACK_WEBHOOK_URL: z.string().optional(),
});
export type HubEnvironment = z.infer<typeof HubEnvironment>;

/** Reads the hub's settings; fails naming the variable that is wrong. */
export function readHubEnvironment(environment: Readonly<Record<string, string | undefined>> = process.env): HubEnvironment {
  return readEnv(HubEnvironment, environment);
}
