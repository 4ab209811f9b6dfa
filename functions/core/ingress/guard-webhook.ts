/**
 * Middy middleware that answers every bad webhook delivery before the handler
 * runs, with the status the vendor and the operator can act on: 404 unknown or
 * unconfigured source (or mapping, or callback system), 405 not POST, 415 not
 * JSON, 413 over 1 MB, 401 not genuine or stale (with the source's
 * `WWW-Authenticate` challenge), 400 not JSON or not the vendor's schema (naming
 * the path), 503 when what proves a delivery genuine (the issuer's keys) cannot
 * be fetched right now. A request that passes reaches the handler as
 * `request.context.webhook`.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PermanentError, RetryableError, describeError } from '../errors.ts';
import { MetricName } from '../metric-names.ts';
import { logger, metrics } from '../observability.ts';
import type { HubEvent } from './publish-events.ts';
import type { WebhookSource } from './webhook-sources.ts';
import { fromApiGatewayEvent, reject, type WebhookRequest } from './webhook-request.ts';

/** Largest webhook body accepted, in bytes. HubSpot batches stay far below it. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/** What a verified, parsed delivery gives the handler. */
export interface VerifiedWebhook {
  readonly request: WebhookRequest;
  readonly events: readonly HubEvent[];
  readonly receivedAt: Date;
}

/** Lambda context carrying the verified delivery. */
export type WebhookContext = Context & { webhook?: VerifiedWebhook };

/** Options of the guard. */
export interface GuardOptions {
  readonly sources: ReadonlyMap<string, WebhookSource>;
  readonly publicBaseUrl?: string | undefined;
  readonly now?: () => Date;
}

function rejected(reason: string, result: APIGatewayProxyResult): APIGatewayProxyResult {
  metrics.addMetric(MetricName.WebhookRequestsRejected, MetricUnit.Count, 1);
  logger.warn('webhook rejected', { status: result.statusCode, reason });
  return result;
}

/** Checks one delivery; returns the response for a bad one, or the verified webhook. */
export async function checkWebhook(
  event: APIGatewayProxyEvent,
  options: GuardOptions,
): Promise<APIGatewayProxyResult | VerifiedWebhook> {
  const receivedAt = (options.now ?? (() => new Date()))();
  const request = fromApiGatewayEvent(event, options.publicBaseUrl);
  const source = options.sources.get(request.source);
  if (source === undefined) {
    return rejected('unknown source', reject(404, 'UnknownSource', `no webhook source named "${request.source}" is configured`));
  }
  const unknownTarget =
    source.findTarget !== undefined
      ? source.findTarget(request.target)
      : request.target === undefined
        ? undefined
        : `webhook source "${request.source}" has no sub-path "${request.target}"`;
  if (unknownTarget !== undefined) {
    return rejected('unknown target', reject(404, 'UnknownSource', unknownTarget));
  }
  if (request.method !== 'POST') {
    return rejected('method', reject(405, 'MethodNotAllowed', `webhooks are POSTed, got ${request.method}`));
  }
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return rejected('content type', reject(415, 'UnsupportedMediaType', `content-type must be application/json, got "${contentType}"`));
  }
  if (request.bodyBytes > MAX_WEBHOOK_BODY_BYTES) {
    return rejected('too large', reject(413, 'PayloadTooLarge', `body is ${request.bodyBytes} bytes; the limit is ${MAX_WEBHOOK_BODY_BYTES}`));
  }
  let notGenuine: string | undefined;
  try {
    notGenuine = await source.verify(request, receivedAt);
  } catch (error) {
    if (!(error instanceof RetryableError)) throw error;
    logger.error('webhook could not be verified yet; the sender will retry', { error: describeError(error) });
    const unavailable = reject(503, 'ServiceUnavailable', 'the delivery cannot be verified right now; please retry');
    return rejected('verification unavailable', { ...unavailable, headers: { ...unavailable.headers, 'retry-after': '5' } });
  }
  if (notGenuine !== undefined) {
    const unauthorized = reject(401, 'Unauthorized', notGenuine);
    const challenge: Record<string, string> = source.challenge === undefined ? {} : { 'www-authenticate': source.challenge };
    return rejected('signature', { ...unauthorized, headers: { ...unauthorized.headers, ...challenge } });
  }
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch (error) {
    return rejected('json', reject(400, 'MalformedJson', `body is not valid JSON: ${(error as Error).message}`));
  }
  try {
    return { request, events: source.toEvents(body, request, receivedAt), receivedAt };
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    return rejected('schema', reject(400, 'InvalidPayload', error.message));
  }
}

/** The middleware: short-circuits bad deliveries, attaches good ones to the context. */
export function guardWebhook(
  options: GuardOptions,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, WebhookContext> {
  return {
    before: async (request) => {
      const outcome = await checkWebhook(request.event, options);
      if ('statusCode' in outcome) return outcome;
      request.context.webhook = outcome;
      return undefined;
    },
  };
}
