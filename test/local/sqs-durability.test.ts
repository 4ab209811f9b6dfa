/**
 * LocalSqs survives `kill -9`. A child process runs it on a data directory behind its HTTP
 * server; the test sends, receives (leaving messages in flight), deletes some, and kills
 * the child with SIGKILL; a new child on the same directory must hold every message that
 * was sent and not deleted, exactly once and in the queue it was in, with in-flight ones
 * back only after their visibility timeout. A second child is made to kill itself inside
 * the transaction that moves a message to its dead-letter queue: after a restart the
 * message is in exactly one of the two queues, and the move then happens once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import type { StandaloneOptions } from '../../local/sqs/standalone.ts';

const STANDALONE = fileURLToPath(new URL('../../local/sqs/standalone.ts', import.meta.url));
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
/** Visibility timeout of `orders`: long enough to kill and restart within it. */
const ORDERS_VISIBILITY_SECONDS = 4;

interface Child {
  readonly process: ChildProcess;
  readonly client: SQSClient;
  readonly url: (queueName: string) => string;
  /** Lines the child printed so far. */
  readonly lines: string[];
}

async function startChild(options: z.input<typeof StandaloneOptions>): Promise<Child> {
  const child = spawn(process.execPath, [STANDALONE, JSON.stringify({ region: REGION, accountId: ACCOUNT, ...options })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      for (const line of complete) {
        lines.push(line);
        if (line.startsWith('{')) resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`the SQS process exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  const client = new SQSClient({ endpoint: url, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  return { process: child, client, url: (queueName) => `${url}/${ACCOUNT}/${queueName}`, lines };
}

const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.signalCode)
    : new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));

async function kill9(child: Child): Promise<void> {
  child.client.destroy();
  const exit = exited(child.process);
  child.process.kill('SIGKILL');
  await exit;
}

async function receive(child: Child, queueName: string, visibilityTimeout = 60): Promise<Message[]> {
  const { Messages = [] } = await child.client.send(
    new ReceiveMessageCommand({
      QueueUrl: child.url(queueName),
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibilityTimeout,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return Messages;
}

/** Everything receivable from the queue now (each taken for 60 s). */
async function drain(child: Child, queueName: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const messages = await receive(child, queueName);
    if (messages.length === 0) return all;
    all.push(...messages);
  }
}

async function totalMessages(child: Child, queueName: string): Promise<number> {
  const { Attributes = {} } = await child.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: child.url(queueName),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) + Number(Attributes.ApproximateNumberOfMessagesDelayed);
}

const bodies = (messages: readonly Message[]) => messages.map((message) => message.Body ?? '').sort();

describe('LocalSqs with a data directory, killed with SIGKILL and restarted', () => {
  let dataDir: string;
  let restarted: Child;
  let inFlightUntil: number;
  const arn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'harmony-sqs-'));
    const first = await startChild({ dataDir });
    const create = (QueueName: string, Attributes: Record<string, string> = {}) => first.client.send(new CreateQueueCommand({ QueueName, Attributes }));
    await create('orders-dlq');
    await create('orders', {
      VisibilityTimeout: String(ORDERS_VISIBILITY_SECONDS),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn('orders-dlq'), maxReceiveCount: 5 }),
    });
    await create('events');
    await create('poison-dlq');
    await create('poison', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn('poison-dlq'), maxReceiveCount: 1 }) });

    // orders: ten sent (four of them in a batch), four received, two of those deleted.
    for (const body of ['o1', 'o2', 'o3', 'o4', 'o5', 'o6']) {
      await first.client.send(new SendMessageCommand({ QueueUrl: first.url('orders'), MessageBody: body }));
    }
    await first.client.send(
      new SendMessageBatchCommand({ QueueUrl: first.url('orders'), Entries: ['o7', 'o8', 'o9', 'o10'].map((body) => ({ Id: body, MessageBody: body })) }),
    );
    const { Messages: taken = [] } = await first.client.send(new ReceiveMessageCommand({ QueueUrl: first.url('orders'), MaxNumberOfMessages: 4 }));
    inFlightUntil = Date.now() + ORDERS_VISIBILITY_SECONDS * 1000;
    expect(bodies(taken)).toEqual(['o1', 'o2', 'o3', 'o4']);
    for (const message of taken.filter((candidate) => candidate.Body === 'o1' || candidate.Body === 'o2')) {
      await first.client.send(new DeleteMessageCommand({ QueueUrl: first.url('orders'), ReceiptHandle: message.ReceiptHandle }));
    }

    // events: five sent, two received and deleted.
    for (const body of ['e1', 'e2', 'e3', 'e4', 'e5']) await first.client.send(new SendMessageCommand({ QueueUrl: first.url('events'), MessageBody: body }));
    const { Messages: events = [] } = await first.client.send(new ReceiveMessageCommand({ QueueUrl: first.url('events'), MaxNumberOfMessages: 2 }));
    for (const message of events) await first.client.send(new DeleteMessageCommand({ QueueUrl: first.url('events'), ReceiptHandle: message.ReceiptHandle }));
    expect(bodies(events)).toEqual(['e1', 'e2']);

    // poison: received once, returned, and moved to its dead-letter queue by the next receive.
    await first.client.send(new SendMessageCommand({ QueueUrl: first.url('poison'), MessageBody: 'p1' }));
    const [poisoned] = await receive(first, 'poison');
    await first.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: first.url('poison'), ReceiptHandle: poisoned?.ReceiptHandle, VisibilityTimeout: 0 }));
    expect(await receive(first, 'poison')).toEqual([]);

    await kill9(first);
    restarted = await startChild({ dataDir });
  });

  afterAll(async () => {
    if (restarted !== undefined) await kill9(restarted);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the queues and their attributes', async () => {
    const { Attributes = {} } = await restarted.client.send(new GetQueueAttributesCommand({ QueueUrl: restarted.url('orders'), AttributeNames: ['All'] }));

    expect(Attributes.VisibilityTimeout).toBe(String(ORDERS_VISIBILITY_SECONDS));
    expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: arn('orders-dlq'), maxReceiveCount: 5 });
  });

  it('holds every message sent and not deleted exactly once, in-flight ones only after their visibility timeout', async () => {
    expect(Date.now()).toBeLessThan(inFlightUntil); // the check below means something only while o3 and o4 are in flight
    const ready = await drain(restarted, 'orders');
    await sleep(Math.max(0, inFlightUntil - Date.now()) + 300);
    const returned = await drain(restarted, 'orders');

    expect(bodies(ready)).toEqual(['o10', 'o5', 'o6', 'o7', 'o8', 'o9']);
    expect(bodies(returned)).toEqual(['o3', 'o4']);
    expect(returned.map((message) => message.Attributes?.ApproximateReceiveCount)).toEqual(['2', '2']);
    expect(bodies(await drain(restarted, 'events'))).toEqual(['e3', 'e4', 'e5']);
  });

  it('keeps a message moved to the dead-letter queue before the crash there, and only there', async () => {
    expect(bodies(await drain(restarted, 'poison-dlq'))).toEqual(['p1']);
    expect(await totalMessages(restarted, 'poison')).toBe(0);
  });
});

describe('LocalSqs killed with SIGKILL in the middle of a dead-letter move', () => {
  let dataDir: string;
  let restarted: Child;
  let crashed: { signal: NodeJS.Signals | null; lines: string[]; receiveError: unknown };
  let m1Id: string | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'harmony-sqs-move-'));
    const first = await startChild({ dataDir, crashInsideDeadLetterMove: true });
    const dlqArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:payments-dlq`;
    await first.client.send(new CreateQueueCommand({ QueueName: 'payments-dlq' }));
    await first.client.send(
      new CreateQueueCommand({ QueueName: 'payments', Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) } }),
    );
    m1Id = (await first.client.send(new SendMessageCommand({ QueueUrl: first.url('payments'), MessageBody: 'm1' }))).MessageId;
    const [m1] = await receive(first, 'payments');
    expect(m1?.Body).toBe('m1');
    await first.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: first.url('payments'), ReceiptHandle: m1?.ReceiptHandle, VisibilityTimeout: 0 }));
    await first.client.send(new SendMessageCommand({ QueueUrl: first.url('payments'), MessageBody: 'm2' }));

    // m1 has been received once (maxReceiveCount 1): this receive moves it, and the process dies inside the move.
    const signal = exited(first.process);
    const receiveError = await first.client
      .send(new ReceiveMessageCommand({ QueueUrl: first.url('payments'), MaxNumberOfMessages: 1 }))
      .then(() => undefined, (error: unknown) => error);
    crashed = { signal: await signal, lines: [...first.lines], receiveError };
    first.client.destroy();
    restarted = await startChild({ dataDir });
  });

  afterAll(async () => {
    if (restarted !== undefined) await kill9(restarted);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('died inside the move, before answering', () => {
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.lines).toContain(`crashing inside dead-letter move ${m1Id}`);
    expect(crashed.receiveError).toBeInstanceOf(Error);
  });

  it('finds the message in exactly one queue after the restart: the source, as before the move began', async () => {
    expect(await totalMessages(restarted, 'payments-dlq')).toBe(0);
    expect(await totalMessages(restarted, 'payments')).toBe(2);
  });

  it('then moves it once: the next receive delivers m2 and moves m1, which the dead-letter queue holds once', async () => {
    const delivered = await receive(restarted, 'payments');
    const deadLetters = await drain(restarted, 'payments-dlq');

    expect(bodies(delivered)).toEqual(['m2']);
    expect(deadLetters.map((message) => [message.Body, message.MessageId])).toEqual([['m1', m1Id]]);
    expect(await totalMessages(restarted, 'payments')).toBe(1); // m2, in flight
  });
});
