/**
 * Publishes a verified delivery's events and answers the vendor: 200 with counts
 * once every event is on the bus (or known as a duplicate), 503 when any could
 * not be put or is still being put by another delivery, so the vendor redelivers.
 * Both are written the source's way (its `answers`), JSON unless it says otherwise.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { RetryableError, describeError } from '../errors.ts';
import { MetricName } from '../metric-names.ts';
import { logger, metrics } from '../observability.ts';
import type { VerifiedWebhook } from './guard-webhook.ts';
import { publishOnce, type PublishTarget } from './publish-events.ts';
import { JSON_ANSWERS } from './webhook-request.ts';

/** Publishes the events of a verified webhook and builds the response. */
export async function acceptWebhook(
  webhook: VerifiedWebhook | undefined,
  target: PublishTarget,
  lambdaContext?: Context,
): Promise<APIGatewayProxyResult> {
  if (webhook === undefined) throw new Error('ingest: guardWebhook middleware did not run');
  const answers = webhook.answers ?? JSON_ANSWERS;
  try {
    const result = await publishOnce(webhook.events, target, webhook.receivedAt, lambdaContext);
    metrics.addMetric(MetricName.WebhookEventsAccepted, MetricUnit.Count, result.accepted);
    metrics.addMetric(MetricName.WebhookEventsDuplicate, MetricUnit.Count, result.duplicates);
    logger.info('webhook accepted', { source: webhook.request.source, ...result });
    return answers.accepted(result);
  } catch (error) {
    if (!(error instanceof RetryableError)) throw error;
    logger.error('webhook could not be published; the sender will redeliver', { error: describeError(error) });
    const unavailable = answers.refused(503, 'ServiceUnavailable', 'events could not be stored yet; please retry');
    return { ...unavailable, headers: { ...unavailable.headers, 'retry-after': '5' } };
  }
}
