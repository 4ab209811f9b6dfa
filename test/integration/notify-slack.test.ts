/**
 * The Slack notifier Lambda: a CloudWatch alarm notification from SNS becomes one
 * Slack incoming-webhook post, and a Slack refusal fails the invocation so SNS retries.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaContext } from '../../local/lambda/lambda-context.ts';

let slack: Server;
let answerStatus = 200;
const posts: { path: string; body: any }[] = [];
let handler: (event: SNSEvent, context: unknown) => Promise<void>;

const alarm = {
  AlarmName: 'Harmony-order-to-cash-dlq-messages',
  AlarmDescription: 'Messages in the order-to-cash DLQ <need a look>',
  NewStateValue: 'ALARM',
  OldStateValue: 'OK',
  NewStateReason: 'Threshold Crossed: 1 datapoint [3.0] was greater than or equal to the threshold (1.0).',
  StateChangeTime: '2026-11-23T10:00:00.000+0000',
  Region: 'EU (Frankfurt)',
  AWSAccountId: '123456789012',
};

const snsEvent = (message: string): SNSEvent => ({
  Records: [{
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: 'arn:aws:sns:eu-central-1:123456789012:alarms:sub',
    Sns: {
      Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:eu-central-1:123456789012:alarms', Subject: 'ALARM',
      Message: message, Timestamp: '2026-11-23T10:00:01.000Z', SignatureVersion: '1', Signature: 'x', SigningCertUrl: 'https://example.com', UnsubscribeUrl: 'https://example.com', MessageAttributes: {},
    },
  }],
});

beforeAll(async () => {
  slack = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      posts.push({ path: request.url ?? '', body: JSON.parse(body) });
      response.writeHead(answerStatus).end(answerStatus === 200 ? 'ok' : 'invalid_token');
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  process.env.SLACK_WEBHOOK_URL = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  ({ handler } = (await import('../../functions/handlers/notify-slack.ts')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  await new Promise<void>((resolve) => slack?.close(() => resolve()));
});

describe('notify-slack', () => {
  it('posts an alarm to the incoming webhook with its name, reason and escaped description', async () => {
    answerStatus = 200;
    const before = posts.length;
    await handler(snsEvent(JSON.stringify(alarm)), createLambdaContext({ functionName: 'notify-slack' }));
    const post = posts[before]!;
    expect(post.path).toBe('/services/T000/B000/XXXX');
    expect(post.body.text).toBe('ALARM: Harmony-order-to-cash-dlq-messages');
    const section = JSON.stringify(post.body.blocks);
    expect(section).toContain('Threshold Crossed');
    expect(section).toContain('&lt;need a look&gt;');
    expect(section).not.toContain('<need a look>');
  });

  it('fails the invocation when Slack refuses, so SNS retries and then dead-letters it', async () => {
    answerStatus = 403;
    await expect(handler(snsEvent(JSON.stringify(alarm)), createLambdaContext({ functionName: 'notify-slack' }))).rejects.toThrow(/Slack answered 403/);
  });

  it('rejects a message that is not a CloudWatch alarm, naming what is missing', async () => {
    await expect(handler(snsEvent(JSON.stringify({ hello: 'world' })), createLambdaContext({ functionName: 'notify-slack' }))).rejects.toThrow(/AlarmName/);
  });
});
