/**
 * Dead-letter queue redrive on LocalSqs, as the operator CLI drives it: StartMessageMoveTask
 * moves a dead-letter queue's messages back to the queues they came from (or to a
 * destination), at a rate when given one, as new messages; ListMessageMoveTasks reports
 * progress; CancelMessageMoveTask stops a task where it is; a task outlives a restart.
 * fauxqs does not serve these operations, so they run against LocalSqs only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type ListMessageMoveTasksResultEntry,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SqsHttpServer, startSqsHttpServer } from '../../local/sqs/http-server.ts';
import { LocalSqs } from '../../local/sqs/service.ts';

const REGION = 'eu-central-1';
const ACCOUNT = '210987654321';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
const arnOf = (queueName: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName}`;

async function startServer(dataDir?: string): Promise<{ server: SqsHttpServer; client: SQSClient }> {
  const server = await startSqsHttpServer({
    port: 0,
    service: (url) => new LocalSqs({ endpoint: url, region: REGION, accountId: ACCOUNT, ...(dataDir === undefined ? {} : { dataDir }) }),
  });
  return { server, client: new SQSClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS }) };
}

/** The queues and calls a test needs on one running service. */
function queues(client: SQSClient, server: SqsHttpServer) {
  const url = (queueName: string) => `${server.url}/${ACCOUNT}/${queueName}`;
  const receive = async (queueName: string): Promise<Message[]> =>
    (
      await client.send(
        new ReceiveMessageCommand({ QueueUrl: url(queueName), MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageSystemAttributeNames: ['All'] }),
      )
    ).Messages ?? [];
  return {
    url,
    receive,
    create: (queueName: string, deadLetterQueue?: string) =>
      client.send(
        new CreateQueueCommand({
          QueueName: queueName,
          Attributes: deadLetterQueue === undefined ? {} : { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(deadLetterQueue), maxReceiveCount: 1 }) },
        }),
      ),
    /** Sends `body` to `queueName` and has it moved to the queue's dead-letter queue (maxReceiveCount 1). */
    deadLetter: async (queueName: string, body: string) => {
      const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: url(queueName), MessageBody: body }));
      const first = (await receive(queueName)).find((message) => message.MessageId === MessageId);
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url(queueName), ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 0 }));
      expect(await receive(queueName)).toEqual([]); // the second receive moves it
      return MessageId ?? '';
    },
    total: async (queueName: string) => {
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: url(queueName), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
    },
    latestTask: async (sourceQueue: string): Promise<ListMessageMoveTasksResultEntry | undefined> =>
      (await client.send(new ListMessageMoveTasksCommand({ SourceArn: arnOf(sourceQueue) }))).Results?.[0],
  };
}

/** Polls the latest task of `sourceQueue` until it is no longer RUNNING. */
async function finished(latestTask: () => Promise<ListMessageMoveTasksResultEntry | undefined>): Promise<ListMessageMoveTasksResultEntry | undefined> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const task = await latestTask();
    if (task?.Status !== 'RUNNING' || Date.now() > deadline) return task;
    await sleep(50);
  }
}

const errorName = (promise: Promise<unknown>) => promise.then(() => 'succeeded', (error: Error) => error.name);

describe('message move tasks on LocalSqs', () => {
  let server: SqsHttpServer;
  let client: SQSClient;
  let sqs: ReturnType<typeof queues>;

  beforeAll(async () => {
    ({ server, client } = await startServer());
    sqs = queues(client, server);
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  it('moves every message of a dead-letter queue back to the queue it came from, as new messages', async () => {
    await sqs.create('returns-dlq');
    await sqs.create('returns-a', 'returns-dlq');
    await sqs.create('returns-b', 'returns-dlq');
    const originals = [
      await sqs.deadLetter('returns-a', 'a1'),
      await sqs.deadLetter('returns-a', 'a2'),
      await sqs.deadLetter('returns-b', 'b1'),
    ];
    const { TaskHandle } = await client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('returns-dlq') }));
    const task = await finished(() => sqs.latestTask('returns-dlq'));
    const backInA = await sqs.receive('returns-a');
    const backInB = await sqs.receive('returns-b');

    expect(TaskHandle).toEqual(expect.any(String));
    expect(task).toMatchObject({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3, SourceArn: arnOf('returns-dlq') });
    expect(task?.TaskHandle).toBeUndefined(); // only a RUNNING task shows its handle
    expect(backInA.map((message) => message.Body).sort()).toEqual(['a1', 'a2']);
    expect(backInB.map((message) => message.Body)).toEqual(['b1']);
    for (const message of [...backInA, ...backInB]) {
      expect(originals).not.toContain(message.MessageId);
      expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: '1' });
      expect(message.Attributes?.DeadLetterQueueSourceArn).toBeUndefined();
    }
    expect(await sqs.total('returns-dlq')).toBe(0);
  });

  it('moves to a destination at the rate asked for, and a cancelled task stops where it is', async () => {
    await sqs.create('slow-dlq');
    await sqs.create('slow-source', 'slow-dlq');
    await sqs.create('slow-destination');
    for (let index = 0; index < 8; index += 1) await sqs.deadLetter('slow-source', `m${index}`);
    const started = Date.now();
    const { TaskHandle } = await client.send(
      new StartMessageMoveTaskCommand({ SourceArn: arnOf('slow-dlq'), DestinationArn: arnOf('slow-destination'), MaxNumberOfMessagesPerSecond: 2 }),
    );
    await sleep(1100);
    const running = await sqs.latestTask('slow-dlq');
    const { ApproximateNumberOfMessagesMoved: movedWhenCancelled = -1 } = await client.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    const elapsedSeconds = (Date.now() - started) / 1000;
    await sleep(1200);
    const cancelled = await sqs.latestTask('slow-dlq');

    expect(running).toMatchObject({ Status: 'RUNNING', TaskHandle, DestinationArn: arnOf('slow-destination'), MaxNumberOfMessagesPerSecond: 2 });
    expect(movedWhenCancelled).toBeGreaterThanOrEqual(1);
    expect(movedWhenCancelled).toBeLessThanOrEqual(Math.ceil(elapsedSeconds * 2) + 1);
    expect(cancelled).toMatchObject({ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: movedWhenCancelled });
    expect(await sqs.total('slow-destination')).toBe(movedWhenCancelled);
    expect(await sqs.total('slow-dlq')).toBe(8 - movedWhenCancelled);
    expect(await sqs.total('slow-source')).toBe(0);
  });

  it('refuses a source that is not a dead-letter queue, a second task on a queue, and what does not exist', async () => {
    await sqs.create('busy-dlq');
    await sqs.create('busy-source', 'busy-dlq');
    await sqs.create('plain');
    for (let index = 0; index < 3; index += 1) await sqs.deadLetter('busy-source', `m${index}`);
    await client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('busy-dlq'), MaxNumberOfMessagesPerSecond: 1 }));

    expect(await errorName(client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('busy-dlq') })))).toBe('UnsupportedOperation');
    expect(await errorName(client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('plain') })))).toBe('InvalidParameterValue');
    expect(await errorName(client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('no-such-queue') })))).toBe('ResourceNotFoundException');
    expect(
      await errorName(client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('busy-dlq'), DestinationArn: arnOf('no-such-queue') }))),
    ).toBe('ResourceNotFoundException');
    expect(await errorName(client.send(new CancelMessageMoveTaskCommand({ TaskHandle: 'no-such-task' })))).toBe('ResourceNotFoundException');
  });
});

describe('a message move task on LocalSqs with a data directory', () => {
  let dataDir: string;
  let running: { server: SqsHttpServer; client: SQSClient } | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'harmony-sqs-move-'));
  });
  afterEach(async () => {
    running?.client.destroy();
    await running?.server.close();
    running = undefined;
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('goes on after the service restarts, and finishes', async () => {
    running = await startServer(dataDir);
    let sqs = queues(running.client, running.server);
    await sqs.create('restart-dlq');
    await sqs.create('restart-source', 'restart-dlq');
    for (let index = 0; index < 4; index += 1) await sqs.deadLetter('restart-source', `m${index}`);
    await running.client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('restart-dlq'), MaxNumberOfMessagesPerSecond: 4 }));
    await sleep(300);
    const before = await sqs.latestTask('restart-dlq');
    running.client.destroy();
    await running.server.close();

    running = await startServer(dataDir);
    sqs = queues(running.client, running.server);
    const after = await finished(() => sqs.latestTask('restart-dlq'));

    expect(before?.Status).toBe('RUNNING');
    expect(before?.ApproximateNumberOfMessagesMoved).toBeLessThan(4);
    expect(after).toMatchObject({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 4 });
    expect((await sqs.receive('restart-source')).map((message) => message.Body).sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(await sqs.total('restart-dlq')).toBe(0);
  });
});
