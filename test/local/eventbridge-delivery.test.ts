/**
 * How the local EventBridge delivers, on a small template written for it: retries
 * within the target's RetryPolicy and then its dead-letter queue when SQS is down
 * (fauxqs stopped, later restarted on the same port), what each kind of target input
 * becomes, disabled rules, paging, and durability: a child process that accepted
 * events and was killed with `kill -9` before delivering them delivers them on restart.
 */
import {
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../local/endpoint/server.ts';
import { LocalEventBridge, type RuleStats } from '../../local/eventbridge/service.ts';
import { type CloudFormationTemplate, parseTemplate } from '../../local/template/load-template.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '210987654321';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const CHILD = fileURLToPath(new URL('./fixtures/eventbridge-crash-child.ts', import.meta.url));
const QUEUE_NAMES = ['orders-queue', 'orders-dlq', 'inputs-queue', 'disabled-queue'];

const queueArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

const TEMPLATE: CloudFormationTemplate = parseTemplate({
  Resources: {
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'orders' } },
    OrdersQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'orders-queue' } },
    OrdersDeadLetters: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'orders-dlq' } },
    InputsQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'inputs-queue' } },
    DisabledQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'disabled-queue' } },
    OrderPlaced: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'order-placed',
        EventBusName: { Ref: 'Bus' },
        EventPattern: { 'detail-type': ['Order Placed'] },
        Targets: [
          {
            Id: 'orders',
            Arn: queueArn('OrdersQueue'),
            DeadLetterConfig: { Arn: queueArn('OrdersDeadLetters') },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          },
        ],
      },
    },
    OrderInputs: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'order-inputs',
        EventBusName: { Ref: 'Bus' },
        EventPattern: { 'detail-type': ['Order Shipped'] },
        Targets: [
          { Id: 'a-whole-event', Arn: queueArn('InputsQueue') },
          { Id: 'b-constant', Arn: queueArn('InputsQueue'), Input: '{"fixed":true}' },
          { Id: 'c-path', Arn: queueArn('InputsQueue'), InputPath: '$.detail.order' },
          {
            Id: 'd-transformer',
            Arn: queueArn('InputsQueue'),
            InputTransformer: {
              InputPathsMap: { id: '$.detail.order.id', lines: '$.detail.order.lines', source: '$.source' },
              InputTemplate: '{"orderId": <id>, "lines": <lines>, "text": "order <id> from <source>", "rule": "<aws.events.rule-name>"}',
            },
          },
        ],
      },
    },
    OrderDisabled: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'order-disabled',
        EventBusName: { Ref: 'Bus' },
        State: 'DISABLED',
        EventPattern: { source: [{ prefix: '' }] },
        Targets: [{ Id: 'disabled', Arn: queueArn('DisabledQueue') }],
      },
    },
  },
});

let fauxqsPort: number;
let sqsServer: FauxqsServer;
let sqs: SQSClient;
const cleanups: (() => Promise<void>)[] = [];

async function startSqsServer(port: number): Promise<FauxqsServer> {
  const server = await startFauxqs({ port, host: '127.0.0.1', logger: false });
  for (const name of QUEUE_NAMES) server.createQueue(name);
  return server;
}

beforeAll(async () => {
  sqsServer = await startSqsServer(0);
  fauxqsPort = sqsServer.port;
  sqs = new SQSClient({ endpoint: sqsServer.address, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
});

afterAll(async () => {
  sqs?.destroy();
  await sqsServer?.stop();
});

beforeEach(() => {
  sqsServer.reset();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function resolverFor(sqsEndpoint: string): TemplateResolver {
  return new TemplateResolver(TEMPLATE, { region: REGION, accountId: ACCOUNT, sqsEndpoint });
}

/** A local EventBridge with its endpoint and client, stopped after the test. */
async function startBus(options: { dataDir?: string; warnings?: string[] } = {}) {
  const eventBridge = new LocalEventBridge({
    resolver: resolverFor(sqsServer.address),
    dataDir: options.dataDir,
    sqsEndpoint: `http://127.0.0.1:${fauxqsPort}`,
    region: REGION,
    accountId: ACCOUNT,
    retryBackoff: { initialMs: 20, maxMs: 80 },
    warn: (message) => options.warnings?.push(message),
  });
  const endpoint: AwsEndpoint = await startAwsEndpoint({
    port: 0,
    jsonServices: [eventBridge],
    proxies: { dynamodb: 'http://127.0.0.1:9', sqs: `http://127.0.0.1:${fauxqsPort}` },
  });
  const client = new EventBridgeClient({ endpoint: endpoint.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  cleanups.push(async () => {
    client.destroy();
    await endpoint.close();
    await eventBridge.close();
  });
  return { eventBridge, client };
}

function queueUrl(name: string): string {
  return `http://127.0.0.1:${fauxqsPort}/000000000000/${name}`;
}

/** Everything in the queue now (received and deleted). */
async function drain(name: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl(name), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return messages;
    for (const message of Messages) {
      messages.push(message);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl(name), ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

/** Messages of a queue, waiting up to `timeoutMs` for at least `count`. */
async function waitForMessages(name: string, count: number, timeoutMs = 10_000): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (messages.length < count && Date.now() < deadline) {
    messages.push(...(await drain(name)));
    if (messages.length < count) await sleep(25);
  }
  return messages;
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function ruleStats(eventBridge: LocalEventBridge, name: string): RuleStats {
  const stats = eventBridge.stats().rules.find((rule) => rule.ruleName === name);
  if (stats === undefined) throw new Error(`no stats for rule ${name}`);
  return stats;
}

const orderPlaced = (orderId: string): PutEventsRequestEntry => ({
  EventBusName: 'orders',
  Source: 'shop',
  DetailType: 'Order Placed',
  Detail: JSON.stringify({ orderId }),
});

describe('retries and the dead-letter queue', () => {
  it('retries while SQS is down, then sends the event to the dead-letter queue once SQS is back, with the attributes EventBridge sets', async () => {
    const warnings: string[] = [];
    const { eventBridge, client } = await startBus({ warnings });
    await sqsServer.stop();
    let restarted = false;
    cleanups.push(async () => {
      if (!restarted) sqsServer = await startSqsServer(fauxqsPort);
    });

    const put = await client.send(new PutEventsCommand({ Entries: [orderPlaced('order-down-1')] }));
    expect(put.FailedEntryCount).toBe(0);
    // Three attempts (MaximumRetryAttempts 2) fail, then the dead-letter queue (same SQS, also down) fails too.
    await until(() => ruleStats(eventBridge, 'order-placed').invocationsFailedToBeSentToDlq >= 1, 'the dead-letter queue to be tried');
    expect(ruleStats(eventBridge, 'order-placed')).toMatchObject({
      matchedEvents: 1,
      retryInvocationAttempts: 2,
      failedInvocations: 1,
      invocationsSentToDlq: 0,
      pending: 1,
    });
    expect(warnings.join('\n')).toContain('could not be sent to its dead-letter queue');

    sqsServer = await startSqsServer(fauxqsPort);
    restarted = true;
    const [dead, ...more] = await waitForMessages('orders-dlq', 1);

    expect(more).toEqual([]);
    expect(JSON.parse(dead?.Body ?? '{}')).toMatchObject({ id: put.Entries?.[0]?.EventId, detail: { orderId: 'order-down-1' } });
    const attributes = Object.fromEntries(Object.entries(dead?.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]));
    expect(attributes).toEqual({
      RULE_ARN: `arn:aws:events:${REGION}:${ACCOUNT}:rule/orders/order-placed`,
      TARGET_ARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:orders-queue`,
      ERROR_CODE: 'CONNECTION_FAILURE',
      ERROR_MESSAGE: expect.any(String),
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: '2',
    });
    await until(() => ruleStats(eventBridge, 'order-placed').pending === 0, 'the outbox to empty');
    expect(ruleStats(eventBridge, 'order-placed')).toMatchObject({ invocationsSentToDlq: 1, delivered: 0, undeliverable: 0 });
    expect(await drain('orders-queue')).toEqual([]);
  });

  it('delivers on a later attempt when the target comes back before retries run out', async () => {
    const { eventBridge, client } = await startBus();
    await sqsServer.stop();
    const put = client.send(new PutEventsCommand({ Entries: [orderPlaced('order-flaky-1')] }));
    await until(() => ruleStats(eventBridge, 'order-placed').retryInvocationAttempts >= 1, 'a retry');
    sqsServer = await startSqsServer(fauxqsPort);
    await put;

    const delivered = await waitForMessages('orders-queue', 1);
    expect(delivered.map((message) => (JSON.parse(message.Body ?? '{}') as { detail: unknown }).detail)).toEqual([{ orderId: 'order-flaky-1' }]);
    await until(() => ruleStats(eventBridge, 'order-placed').pending === 0, 'the outbox to empty');
    expect(await drain('orders-dlq')).toEqual([]);
  });
});

describe('target input and rules', () => {
  it('sends each target the event, its constant Input, its InputPath, or its InputTransformer result', async () => {
    const { client } = await startBus();
    const put = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'orders',
            Source: 'shop',
            DetailType: 'Order Shipped',
            Detail: JSON.stringify({ order: { id: 'SO-7', lines: [{ sku: 'A', qty: 2 }] } }),
          },
        ],
      }),
    );

    const bodies = (await waitForMessages('inputs-queue', 4)).map((message) => JSON.parse(message.Body ?? 'null') as unknown);
    expect(bodies).toHaveLength(4);
    expect(bodies).toContainEqual(expect.objectContaining({ id: put.Entries?.[0]?.EventId, 'detail-type': 'Order Shipped' }));
    expect(bodies).toContainEqual({ fixed: true });
    expect(bodies).toContainEqual({ id: 'SO-7', lines: [{ sku: 'A', qty: 2 }] });
    expect(bodies).toContainEqual({ orderId: 'SO-7', lines: [{ sku: 'A', qty: 2 }], text: 'order SO-7 from shop', rule: 'order-inputs' });
  });

  it('delivers nothing for a disabled rule', async () => {
    const { eventBridge, client } = await startBus();
    await client.send(new PutEventsCommand({ Entries: [orderPlaced('order-enabled-only')] }));

    expect(await waitForMessages('orders-queue', 1)).toHaveLength(1);
    expect(await drain('disabled-queue')).toEqual([]);
    expect(ruleStats(eventBridge, 'order-disabled').matchedEvents).toBe(0);
  });

  it('pages rules and targets with Limit and NextToken', async () => {
    const { client } = await startBus();

    const first = await client.send(new ListRulesCommand({ EventBusName: 'orders', Limit: 2 }));
    const second = await client.send(new ListRulesCommand({ EventBusName: 'orders', Limit: 2, NextToken: first.NextToken }));
    const targets = await client.send(new ListTargetsByRuleCommand({ Rule: 'order-inputs', EventBusName: 'orders', Limit: 3 }));
    const rest = await client.send(new ListTargetsByRuleCommand({ Rule: 'order-inputs', EventBusName: 'orders', NextToken: targets.NextToken }));

    expect(first.Rules?.map((rule) => rule.Name)).toEqual(['order-disabled', 'order-inputs']);
    expect(second.Rules?.map((rule) => rule.Name)).toEqual(['order-placed']);
    expect(second.NextToken).toBeUndefined();
    expect(targets.Targets?.map((target) => target.Id)).toEqual(['a-whole-event', 'b-constant', 'c-path']);
    expect(rest.Targets).toEqual([
      {
        Id: 'd-transformer',
        Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:inputs-queue`,
        InputTransformer: {
          InputPathsMap: { id: '$.detail.order.id', lines: '$.detail.order.lines', source: '$.source' },
          InputTemplate: '{"orderId": <id>, "lines": <lines>, "text": "order <id> from <source>", "rule": "<aws.events.rule-name>"}',
        },
      },
    ]);
    await expect(client.send(new ListRulesCommand({ EventBusName: 'orders', Limit: 0 }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('durability', () => {
  it('delivers after a restart what a process accepted and was killed (kill -9) before delivering', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'harmony-eventbridge-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const templatePath = join(directory, 'template.json');
    await writeFile(templatePath, JSON.stringify(TEMPLATE));
    const dataDir = join(directory, 'eventbridge');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CHILD,
        JSON.stringify({ templatePath, dataDir, sqsEndpoint: `http://127.0.0.1:${fauxqsPort}`, region: REGION, accountId: ACCOUNT }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', () => reject(new Error(`the child exited before listening: ${stderr}`)));
    });
    const { url } = JSON.parse(firstLine) as { url: string };
    const client = new EventBridgeClient({ endpoint: url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
    cleanups.push(async () => client.destroy());

    const put = await client.send(new PutEventsCommand({ Entries: [orderPlaced('order-crash-1'), orderPlaced('order-crash-2')] }));
    expect(put.FailedEntryCount).toBe(0);
    expect(await drain('orders-queue')).toEqual([]); // accepted, not delivered: the child's deliveries hang
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const { eventBridge } = await startBus({ dataDir });
    const delivered = await waitForMessages('orders-queue', 2);

    expect(delivered.map((message) => (JSON.parse(message.Body ?? '{}') as { id: string }).id).sort()).toEqual(
      (put.Entries ?? []).map((entry) => entry.EventId).sort(),
    );
    await until(() => ruleStats(eventBridge, 'order-placed').pending === 0, 'the outbox to empty');
    expect(ruleStats(eventBridge, 'order-placed').delivered).toBe(2);
  });
});
