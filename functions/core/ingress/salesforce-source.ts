/**
 * `POST /webhooks/salesforce`: Salesforce Outbound Messages. A SOAP 1.1 `notifications`
 * request of up to 100 notifications, taken only from the configured org (and, when ranges
 * are configured, only from Salesforce's addresses), answered the way Salesforce reads
 * answers: the `notificationsResponse` Ack once every notification's event is on the bus,
 * a SOAP Fault otherwise — 500 when it should redeliver, 4xx when redelivery cannot help.
 * Salesforce redelivers anything not acknowledged, with back-off, for 24 hours.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { outboundMessageAck, outboundMessageFault, parseOutboundMessage, type OutboundMessage } from '../../connectors/crm/salesforce/outbound-message.ts';
import { outboundMessageEvents } from '../../connectors/crm/salesforce/outbound-message-events.ts';
import { isSameOrganization, readAllowedSenders, readOrganizationId } from '../../connectors/crm/salesforce/outbound-message-origin.ts';
import { logger } from '../observability.ts';
import { withBusinessKeys } from './business-keys.ts';
import { MAX_WEBHOOK_BODY_BYTES } from './guard-webhook.ts';
import type { WebhookAnswers } from './webhook-request.ts';
import type { WebhookSource, WebhookSourceSettings } from './webhook-sources.ts';

function soap(statusCode: number, body: string): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'no-store' }, body };
}

/**
 * SOAP answers. A failure Salesforce should retry is a `soap:Server` Fault with 500 (the SOAP 1.1
 * HTTP binding's status for a Fault); a refusal keeps its 4xx status with a `soap:Client` Fault.
 */
export const SOAP_ANSWERS: WebhookAnswers = {
  accepted: () => soap(200, outboundMessageAck()),
  refused: (statusCode, error, message) =>
    statusCode >= 500 ? soap(500, outboundMessageFault('Server', `${error}: ${message}`)) : soap(statusCode, outboundMessageFault('Client', `${error}: ${message}`)),
};

/** The won stages setting: a JSON array of strings, or names separated by commas. */
function readWonStages(value: string | undefined): ReadonlySet<string> {
  const text = value?.trim() ?? '';
  if (text === '') return new Set();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((stage) => typeof stage === 'string' && stage.trim() !== '')) {
      throw new Error('Invalid configuration — SALESFORCE_WON_STAGES: expected a JSON array of stage names or names separated by commas');
    }
    return new Set(parsed as string[]);
  }
  return new Set(text.split(',').map((stage) => stage.trim()).filter((stage) => stage !== ''));
}

/** The Salesforce source, or undefined when SALESFORCE_ORG_ID is not set (the route answers 404). Throws naming a bad setting. */
export function salesforceSource(settings: WebhookSourceSettings): WebhookSource | undefined {
  const configured = settings.SALESFORCE_ORG_ID?.trim() ?? '';
  const cidrs = settings.SALESFORCE_ALLOWED_CIDRS?.trim() ?? '';
  if (configured === '') {
    if (cidrs !== '') throw new Error('Invalid configuration — SALESFORCE_ALLOWED_CIDRS: set only with SALESFORCE_ORG_ID');
    return undefined;
  }
  const organizationId = readOrganizationId('SALESFORCE_ORG_ID', configured);
  const senders = cidrs === '' ? undefined : readAllowedSenders('SALESFORCE_ALLOWED_CIDRS', cidrs);
  const mapping = { wonStages: readWonStages(settings.SALESFORCE_WON_STAGES) };
  return {
    mediaTypes: ['text/xml'],
    notGenuineStatus: 403,
    answers: SOAP_ANSWERS,
    verify(request) {
      if (senders === undefined || senders.allows(request.sourceIp)) return Promise.resolve(undefined);
      return Promise.resolve(`source address ${request.sourceIp ?? '(unknown)'} is not in SALESFORCE_ALLOWED_CIDRS (Salesforce's published ranges)`);
    },
    parse: (request) => parseOutboundMessage(request.body, MAX_WEBHOOK_BODY_BYTES),
    verifyBody(body) {
      const message = body as OutboundMessage;
      return isSameOrganization(organizationId, message.OrganizationId)
        ? undefined
        : `Envelope.Body.notifications.OrganizationId: ${message.OrganizationId} is not the org this deployment serves (SALESFORCE_ORG_ID)`;
    },
    toEvents(body, _request, receivedAt) {
      const { events, withoutRecord } = outboundMessageEvents(body as OutboundMessage, mapping, receivedAt);
      if (withoutRecord.length > 0) {
        // Salesforce sends a notification without data when the record was deleted before delivery: nothing to act on.
        logger.warn('salesforce notifications without a record acknowledged without an event', { notificationIds: withoutRecord });
      }
      return withBusinessKeys(events);
    },
  };
}
