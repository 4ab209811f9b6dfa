/**
 * Alarms on the local hub: a message that can never start a saga lands in the flow's
 * dead-letter queue with its reason, the template's DLQ-depth alarm goes to ALARM, and
 * Slack receives the same message the cloud notifier would post.
 */
import { ListQueuesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmNotification, SlackMessage } from '../../functions/core/alarm-message.ts';
import { formatSlackAlarm } from '../../functions/core/alarm-message.ts';
import { readHubEnvironment } from '../../local/config.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';

let hub: RunningHub;
let slack: Server;
let dataDir: string;
const slackMessages: SlackMessage[] = [];
const notifications: AlarmNotification[] = [];

beforeAll(async () => {
  slack = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      slackMessages.push(JSON.parse(body) as SlackMessage);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  dataDir = mkdtempSync(join(tmpdir(), 'harmony-alarms-'));
  hub = await startHub({
    environment: readHubEnvironment({
      HARMONY_DATA_DIR: dataDir,
      HARMONY_AWS_PORT: '0',
      HARMONY_INGRESS_PORT: '0',
      HARMONY_HUBSPOT_PORT: '0',
      HARMONY_ODOO_PORT: '0',
      HARMONY_ALARM_INTERVAL_SECONDS: '0.5',
      SLACK_WEBHOOK_URL: `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/XXX`,
    }),
    log: () => undefined,
    onAlarm: (notification) => notifications.push(notification),
  });
});

afterAll(async () => {
  await hub?.stop();
  await new Promise<void>((resolve) => slack?.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('alarms on the local hub', () => {
  it('dead-letters a message that can never start a saga, with its reason, and raises the DLQ alarm to the console and Slack', async () => {
    const sqs = new SQSClient({ endpoint: hub.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const queueUrlStarting = async (prefix: string) => {
      const urls = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }))).QueueUrls ?? [];
      expect(urls, `one queue named ${prefix}…`).toHaveLength(1);
      return urls[0]!;
    };
    const queueUrl = await queueUrlStarting('OrderToCashPipelineQueue');
    const dlqUrl = await queueUrlStarting('OrderToCashPipelineDeadLetterQueue');

    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"not": "an EventBridge event"}' }));

    const deadline = Date.now() + 30_000;
    while (!notifications.some((alarm) => alarm.NewStateValue === 'ALARM' && /dlq/i.test(alarm.AlarmName)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const alarm = notifications.find((candidate) => candidate.NewStateValue === 'ALARM' && /dlq/i.test(candidate.AlarmName));
    expect(alarm, 'a DLQ alarm went to ALARM').toBeDefined();
    expect(slackMessages).toContainEqual(formatSlackAlarm(alarm!));
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    expect(dead.Messages?.[0]?.MessageAttributes?.reason?.StringValue).toMatch(/message\.id|detail-type|invalid message/);
    sqs.destroy();
  });
});
