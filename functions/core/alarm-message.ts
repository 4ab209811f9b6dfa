/**
 * The Slack message for a CloudWatch alarm, in one format for the cloud notifier
 * and the local hub's alarm evaluator, so on-call people see the same thing
 * whichever Harmony raised it.
 */
import * as z from 'zod';

/** The JSON CloudWatch alarms publish to SNS (the fields Harmony uses). */
export const AlarmNotification = z.looseObject({
  AlarmName: z.string(),
  AlarmDescription: z.string().nullable().optional(),
  NewStateValue: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  OldStateValue: z.string().optional(),
  NewStateReason: z.string(),
  StateChangeTime: z.string(),
  Region: z.string().optional(),
  AWSAccountId: z.string().optional(),
});
export type AlarmNotification = z.infer<typeof AlarmNotification>;

/** A Slack incoming-webhook message with Block Kit blocks and a plain-text fallback. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

const ICON: Record<AlarmNotification['NewStateValue'], string> = {
  ALARM: ':rotating_light:',
  OK: ':white_check_mark:',
  INSUFFICIENT_DATA: ':grey_question:',
};

/** Slack escapes only these three characters in text; alarm text is operator input. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Formats an alarm state change for Slack. */
export function formatSlackAlarm(alarm: AlarmNotification): SlackMessage {
  const title = `${ICON[alarm.NewStateValue]} ${alarm.NewStateValue}: ${escapeSlack(alarm.AlarmName)}`;
  const where = [alarm.AWSAccountId, alarm.Region].filter(Boolean).join(' / ') || 'local hub';
  const lines = [
    alarm.AlarmDescription ? escapeSlack(alarm.AlarmDescription) : undefined,
    `*Why:* ${escapeSlack(alarm.NewStateReason)}`,
    `*When:* ${alarm.StateChangeTime} · *Where:* ${escapeSlack(where)}`,
    alarm.NewStateValue === 'ALARM' ? 'Find the affected orders with `harmony failures`.' : undefined,
  ].filter((line): line is string => line !== undefined);
  return {
    text: `${alarm.NewStateValue}: ${alarm.AlarmName}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${alarm.NewStateValue}: ${alarm.AlarmName}`.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: `${title}\n${lines.join('\n')}` } },
    ],
  };
}

/** Posts a message to a Slack incoming webhook; throws on a non-2xx answer so SNS retries. */
export async function postToSlack(webhookUrl: string, message: SlackMessage, timeoutMs = 5000): Promise<void> {
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    throw new Error(`Slack answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  }
}
