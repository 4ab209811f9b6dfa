/** Lambda: posts CloudWatch alarm notifications from SNS to a Slack incoming webhook. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import * as z from 'zod';
import { AlarmNotification, formatSlackAlarm, postToSlack } from '../core/alarm-message.ts';
import { readEnv } from '../core/env.ts';
import { checkOutboundUrl } from '../core/outbound-url.ts';
import { logger } from '../core/observability.ts';
import { readSecret } from '../core/secrets.ts';
import { parseOrThrow } from '../core/validation.ts';

const env = readEnv(
  z.object({ SLACK_WEBHOOK_URL: z.string().optional(), SLACK_WEBHOOK_SECRET_ARN: z.string().optional() }),
);

/** Formats and posts each alarm in the SNS batch. */
async function notifySlack(event: SNSEvent): Promise<void> {
  const webhookUrl = await readSecret({
    value: env.SLACK_WEBHOOK_URL,
    secretArn: env.SLACK_WEBHOOK_SECRET_ARN,
    field: 'webhookUrl',
    variable: 'SLACK_WEBHOOK_URL',
  });
  const url = checkOutboundUrl('SLACK_WEBHOOK_URL', webhookUrl).toString();
  for (const record of event.Records) {
    const alarm = parseOrThrow(AlarmNotification, JSON.parse(record.Sns.Message), 'Sns.Message');
    await postToSlack(url, formatSlackAlarm(alarm));
    logger.info('alarm posted to Slack', { alarm: alarm.AlarmName, state: alarm.NewStateValue });
  }
}

export const handler = middy(notifySlack).use(injectLambdaContext(logger));
