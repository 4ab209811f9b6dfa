/**
 * Middy middleware that answers every bad webhook delivery before the handler
 * runs, with the status the vendor and the operator can act on: 404 unknown or
 * unconfigured source (or mapping, or callback system), 405 not POST, 415 not the
 * source's media type (JSON unless it says otherwise), 413 over 1 MB, 401 (or the
 * source's 403) not genuine or stale (with the source's `WWW-Authenticate`
 * challenge), 400 not parseable or not the vendor's schema (naming the path), 503
 * when what proves a delivery genuine (the issuer's keys) cannot be fetched right
 * now. Once the source is known, answers are written the source's way (JSON unless
 * it speaks its sender's protocol). A request that passes reaches the handler as
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
import { fromApiGatewayEvent, JSON_ANSWERS, reject, type WebhookAnswers, type WebhookRequest } from './webhook-request.ts';

/** Largest webhook body accepted, in bytes. HubSpot batches stay far below it. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/** What a verified, parsed delivery gives the handler. */
export interface VerifiedWebhook {
  readonly request: WebhookRequest;
  readonly events: readonly HubEvent[];
  readonly receivedAt: Date;
  /** How the sender is answered. @default JSON_ANSWERS */
  readonly answers?: WebhookAnswers;
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
  const answers = source.answers ?? JSON_ANSWERS;
  if (request.method !== 'POST') {
    return rejected('method', answers.refused(405, 'MethodNotAllowed', `webhooks are POSTed, got ${request.method}`));
  }
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const mediaTypes = source.mediaTypes ?? ['application/json'];
  if (!mediaTypes.includes(contentType)) {
    return rejected('content type', answers.refused(415, 'UnsupportedMediaType', `content-type must be ${mediaTypes.join(' or ')}, got "${contentType}"`));
  }
  if (request.bodyBytes > MAX_WEBHOOK_BODY_BYTES) {
    return rejected('too large', answers.refused(413, 'PayloadTooLarge', `body is ${request.bodyBytes} bytes; the limit is ${MAX_WEBHOOK_BODY_BYTES}`));
  }
  const notGenuine = (reason: string): APIGatewayProxyResult => {
    const status = source.notGenuineStatus ?? 401;
    const refusal = answers.refused(status, status === 403 ? 'Forbidden' : 'Unauthorized', reason);
    const challenge: Record<string, string> = source.challenge === undefined ? {} : { 'www-authenticate': source.challenge };
    return rejected('signature', { ...refusal, headers: { ...refusal.headers, ...challenge } });
  };
  let notGenuineReason: string | undefined;
  try {
    notGenuineReason = await source.verify(request, receivedAt);
  } catch (error) {
    if (!(error instanceof RetryableError)) throw error;
    logger.error('webhook could not be verified yet; the sender will retry', { error: describeError(error) });
    const unavailable = answers.refused(503, 'ServiceUnavailable', 'the delivery cannot be verified right now; please retry');
    return rejected('verification unavailable', { ...unavailable, headers: { ...unavailable.headers, 'retry-after': '5' } });
  }
  if (notGenuineReason !== undefined) return notGenuine(notGenuineReason);
  let body: unknown;
  if (source.parse === undefined) {
    try {
      body = JSON.parse(request.body);
    } catch (error) {
      return rejected('json', answers.refused(400, 'MalformedJson', `body is not valid JSON: ${(error as Error).message}`));
    }
  }
  try {
    if (source.parse !== undefined) body = source.parse(request);
    const notFromSender = source.verifyBody?.(body, request);
    if (notFromSender !== undefined) return notGenuine(notFromSender);
    return { request, events: source.toEvents(body, request, receivedAt), receivedAt, answers };
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    return rejected('schema', answers.refused(400, 'InvalidPayload', error.message));
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
