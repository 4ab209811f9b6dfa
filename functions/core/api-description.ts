/**
 * Harmony's own inbound surface in open standards, generated from the very zod schemas
 * that validate it, so the description cannot drift from the code: an OpenAPI 3.1
 * document of the webhook and callback routes, and a JSON Schema (draft 4, the dialect
 * the EventBridge schema registry takes) per event Harmony puts on its bus. `npm run
 * docs:api` writes them to `docs/`; a test fails when the committed copies are stale.
 */
import * as z from 'zod';
import { HubspotWebhookBatch } from '../connectors/crm/hubspot/webhook.ts';
import { PipedriveWebhook } from '../connectors/crm/pipedrive/webhook.ts';
import { OrderStatusCallback } from '../connectors/callbacks/order-status-callback.ts';
import {
  CRM_EVENT_SOURCE,
  CRM_OBJECT_CHANGED,
  CrmObjectChangedDetail,
  DEAL_STAGE_CHANGED,
  DealStageChangedDetail,
  ERP_EVENT_SOURCE,
  ORDER_STATUS_CHANGED,
  OrderStatusChangedDetail,
} from './events.ts';
import { MAX_WEBHOOK_BODY_BYTES } from './ingress/guard-webhook.ts';

/** One kind of event on the hub bus. */
export interface BusEventDescription {
  readonly source: string;
  readonly detailType: string;
  readonly description: string;
  readonly detail: z.ZodType;
}

/** Every event Harmony puts on its bus. */
export const BUS_EVENTS: readonly BusEventDescription[] = [
  {
    source: CRM_EVENT_SOURCE,
    detailType: DEAL_STAGE_CHANGED,
    description: 'A CRM deal moved to another stage (closedwon for a won deal, whatever the CRM calls it). Starts order-to-cash.',
    detail: DealStageChangedDetail,
  },
  {
    source: CRM_EVENT_SOURCE,
    detailType: CRM_OBJECT_CHANGED,
    description: 'Any other CRM record change (created, property changed, deleted, merged…).',
    detail: CrmObjectChangedDetail,
  },
  {
    source: ERP_EVENT_SOURCE,
    detailType: ORDER_STATUS_CHANGED,
    description: 'An ERP order changed status (confirmed, shipped, invoiced, paid, cancelled), announced by a JWT callback.',
    detail: OrderStatusChangedDetail,
  },
];

/** `Deal Stage Changed` → `DealStageChanged`: the schema's name in the registry and its file name. */
export function schemaNameOf(event: Pick<BusEventDescription, 'detailType'>): string {
  return event.detailType.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase());
}

const toSchema = (schema: z.ZodType, target: 'draft-4' | 'draft-2020-12') =>
  z.toJSONSchema(schema, { target, io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/**
 * The JSON Schema of a whole EventBridge event of this kind (envelope + detail), draft 4,
 * as the EventBridge schema registry's `JSONSchemaDraft4` type takes it.
 */
export function busEventJsonSchema(event: BusEventDescription): Record<string, unknown> {
  const { $schema: _unused, ...detail } = toSchema(event.detail, 'draft-4');
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: schemaNameOf(event),
    description: event.description,
    type: 'object',
    required: ['source', 'detail-type', 'detail'],
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      source: { type: 'string', enum: [event.source] },
      'detail-type': { type: 'string', enum: [event.detailType] },
      account: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      detail,
    },
  };
}

const ErrorBody = z.object({
  error: z.string().meta({ description: 'What kind of refusal, e.g. InvalidPayload, Unauthorized' }),
  message: z.string().meta({ description: 'What is wrong and where, e.g. the path of the bad field' }),
});
const Accepted = z.object({
  accepted: z.number().int().meta({ description: 'Events put on the bus by this delivery' }),
  duplicates: z.number().int().meta({ description: 'Events already on the bus from an earlier delivery' }),
});

const json = (schema: z.ZodType) => ({ 'application/json': { schema: toSchema(schema, 'draft-2020-12') } });
const errorResponse = (description: string) => ({ description, content: json(ErrorBody) });

/** The answers every webhook route gives. */
function webhookResponses(authentication: string): Record<string, unknown> {
  return {
    '200': { description: 'Every event is on the bus (or was already): the sender may stop retrying', content: json(Accepted) },
    '400': errorResponse('Not JSON, or not the vendor\'s schema; the message names the path'),
    '401': errorResponse(`Not genuine: ${authentication}`),
    '404': errorResponse('The route, mapping or callback system is not configured in this deployment'),
    '405': errorResponse('Not POST'),
    '413': errorResponse(`Body over ${MAX_WEBHOOK_BODY_BYTES} bytes`),
    '415': errorResponse('Content-Type is not application/json'),
    '429': { description: 'Rate limit of the API (API Gateway throttling / WAF); retry later' },
    '503': errorResponse('The events could not be stored yet, or the issuer\'s keys cannot be fetched; retry (Retry-After)'),
  };
}

/** The OpenAPI 3.1 document of Harmony's inbound routes. */
export function openApiDocument(): Record<string, unknown> {
  const { $schema: _unused, ...statusCallback } = toSchema(OrderStatusCallback, 'draft-2020-12');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Harmony inbound API',
      version: '1.0.0',
      description:
        'Webhooks from CRMs and callbacks from ERPs into Harmony. Each route verifies its sender, validates the body and puts one event per change on the hub bus, once, however often it is redelivered. Generated from the zod schemas in functions/ by `npm run docs:api`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '{baseUrl}', variables: { baseUrl: { default: 'http://127.0.0.1:3000', description: 'The stack output WebhookBaseUrl without /webhooks/, or the local hub' } } }],
    paths: {
      '/webhooks/hubspot': {
        post: {
          operationId: 'hubspotWebhook',
          summary: 'HubSpot webhook batch (app webhooks, signature v3)',
          parameters: [
            { name: 'X-HubSpot-Signature-v3', in: 'header', required: true, schema: { type: 'string' }, description: 'base64 HMAC-SHA256 of method + URI + body + timestamp with the app client secret' },
            { name: 'X-HubSpot-Request-Timestamp', in: 'header', required: true, schema: { type: 'string' }, description: 'milliseconds since the epoch; older than 5 minutes is refused' },
          ],
          requestBody: { required: true, content: json(HubspotWebhookBatch) },
          responses: webhookResponses('signature v3 missing, wrong or stale'),
        },
      },
      '/webhooks/pipedrive': {
        post: {
          operationId: 'pipedriveWebhook',
          summary: 'Pipedrive webhooks v2 delivery (one event)',
          security: [{ pipedriveBasic: [] }],
          requestBody: { required: true, content: json(PipedriveWebhook) },
          responses: webhookResponses('HTTP basic auth missing or wrong'),
        },
      },
      '/webhooks/salesforce': {
        post: {
          operationId: 'salesforceOutboundMessage',
          summary: 'Salesforce Outbound Message (SOAP 1.1 `notifications`, 1–100 per message)',
          description:
            'Genuine when its OrganizationId is the configured org (15 or 18 characters) and, when SALESFORCE_ALLOWED_CIDRS is set, the source address is in those ranges. Each notification is deduplicated by its Id; a won Opportunity (IsWon, or a StageName among the won stages) becomes Deal Stage Changed.',
          requestBody: {
            required: true,
            content: { 'text/xml': { schema: { type: 'string', description: 'soapenv:Envelope › Body › notifications (xmlns http://soap.sforce.com/2005/09/outbound) › OrganizationId, ActionId, SessionId, EnterpriseUrl, PartnerUrl, Notification[1..100] › Id, sObject' } } },
          },
          responses: {
            '200': { description: 'Every notification is on the bus (or was): the SOAP Ack', content: { 'text/xml': { schema: { type: 'string', description: 'notificationsResponse › Ack = true' } } } },
            '400': { description: 'Malformed message: a soap:Client Fault naming the element path', content: { 'text/xml': { schema: { type: 'string' } } } },
            '403': errorResponse('Not from the configured org, or from an address outside SALESFORCE_ALLOWED_CIDRS'),
            '404': errorResponse('The route is not configured in this deployment (no org id)'),
            '413': errorResponse(`Body over ${MAX_WEBHOOK_BODY_BYTES} bytes`),
            '415': { description: 'Not text/xml: a soap:Client Fault', content: { 'text/xml': { schema: { type: 'string' } } } },
            '500': { description: 'The events could not be stored yet: a soap:Server Fault; Salesforce redelivers', content: { 'text/xml': { schema: { type: 'string' } } } },
          },
        },
      },
      '/webhooks/standard/{mapping}': {
        post: {
          operationId: 'standardWebhook',
          summary: 'Any sender via Standard Webhooks, mapped to a deal event by the named mapping',
          parameters: [
            { name: 'mapping', in: 'path', required: true, schema: { type: 'string' }, description: 'A mapping of functions/connectors/standard-webhooks/mappings.ts' },
            { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string' }, description: 'seconds since the epoch; more than 5 minutes off is refused' },
            { name: 'webhook-signature', in: 'header', required: true, schema: { type: 'string' }, description: 'space-separated v1,<base64 HMAC-SHA256> signatures (several while secrets rotate)' },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: webhookResponses('signature missing, wrong or stale'),
        },
      },
      '/callbacks/{system}': {
        post: {
          operationId: 'orderStatusCallback',
          summary: 'An ERP (or its middleware) announces an order status change',
          security: [{ callbackJwt: [] }],
          parameters: [{ name: 'system', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,39}$' } }],
          requestBody: { required: true, content: { 'application/json': { schema: statusCallback } } },
          responses: webhookResponses('bearer JWT missing, expired, or not signed by the configured issuer for this audience'),
        },
      },
      '/health': {
        get: { operationId: 'health', summary: 'Local hub only: 200 once every part is ready', responses: { '200': { description: 'ready' }, '503': { description: 'starting' } } },
      },
    },
    components: {
      securitySchemes: {
        pipedriveBasic: { type: 'http', scheme: 'basic', description: 'The http_auth_user / http_auth_password the Pipedrive webhook was created with' },
        callbackJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'RS256/ES256 JWT from the configured issuer (JWKS), with iss, aud and exp' },
      },
    },
  };
}
