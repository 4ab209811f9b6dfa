/**
 * Whether fauxqs with a data directory can be the hub's durable queue: a fauxqs process
 * killed with SIGKILL and started again on the same data must still hold every message that
 * was sent and not deleted (in-flight ones coming back after their visibility timeout), must
 * not bring back deleted ones, and must keep receive counts, so redrive to the dead-letter
 * queue after maxReceiveCount still happens across the crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

const FAUXQS_PROCESS = fileURLToPath(new URL('./fixtures/fauxqs-process.ts', import.meta.url));
const REGION = 'us-east-1';
/** Visibility timeout of the work queue: long enough to kill and restart within it. */
const WORK_VISIBILITY_SECONDS = 5;

interface FauxqsProcess {
  readonly child: ChildProcess;
  readonly client: SQSClient;
  readonly url: (queueName: string) => string;
}

async function startFauxqsProcess(dataDir: string): Promise<FauxqsProcess> {
  const child = spawn(process.execPath, [FAUXQS_PROCESS, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const address = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fauxqs process exited with ${code} before listening`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { address: string }).address));
  });
  const client = new SQSClient({ endpoint: address, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return { child, client, url: (queueName) => `${address}/000000000000/${queueName}` };
}

async function kill9(fauxqs: FauxqsProcess): Promise<void> {
  fauxqs.client.destroy();
  const exited = new Promise((resolve) => fauxqs.child.once('exit', resolve));
  fauxqs.child.kill('SIGKILL');
  await exited;
}

async function receive(fauxqs: FauxqsProcess, queueName: string, visibilityTimeout?: number): Promise<Message[]> {
  const { Messages = [] } = await fauxqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: fauxqs.url(queueName),
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      ...(visibilityTimeout === undefined ? {} : { VisibilityTimeout: visibilityTimeout }),
    }),
  );
  return Messages;
}

const bodies = (messages: readonly Message[]) => messages.map((message) => message.Body).sort();
const receiveCounts = (messages: readonly Message[]) => messages.map((message) => message.Attributes?.ApproximateReceiveCount);

describe('fauxqs with a data directory, killed with SIGKILL and restarted', () => {
  let dataDir: string;
  let restarted: FauxqsProcess;
  let inFlightUntil: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'harmony-fauxqs-'));
    const first = await startFauxqsProcess(dataDir);
    const create = async (name: string, attributes: Record<string, string>) =>
      first.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    await create('redrive-dlq', {});
    const deadLetterArn = (await first.client.send(new GetQueueAttributesCommand({ QueueUrl: first.url('redrive-dlq'), AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    await create('redrive', { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: 2 }) });
    await create('work', { VisibilityTimeout: String(WORK_VISIBILITY_SECONDS) });

    // Redrive before the crash: "early" is received three times and so moves to the DLQ;
    // "late" is received twice and is in flight when the process dies.
    await first.client.send(new SendMessageCommand({ QueueUrl: first.url('redrive'), MessageBody: 'early' }));
    for (let delivery = 0; delivery < 3; delivery += 1) {
      if (delivery > 0) await sleep(1100);
      await receive(first, 'redrive');
    }
    await first.client.send(new SendMessageCommand({ QueueUrl: first.url('redrive'), MessageBody: 'late' }));
    await receive(first, 'redrive');
    await sleep(1100);
    expect(receiveCounts(await receive(first, 'redrive'))).toEqual(['2']);

    // Work: six sent, three received (in flight), one of those deleted.
    for (const body of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) {
      await first.client.send(new SendMessageCommand({ QueueUrl: first.url('work'), MessageBody: body }));
    }
    const taken = await first.client.send(new ReceiveMessageCommand({ QueueUrl: first.url('work'), MaxNumberOfMessages: 3 }));
    inFlightUntil = Date.now() + WORK_VISIBILITY_SECONDS * 1000;
    expect(bodies(taken.Messages ?? [])).toEqual(['m1', 'm2', 'm3']);
    const m1 = taken.Messages?.find((message) => message.Body === 'm1');
    await first.client.send(new DeleteMessageCommand({ QueueUrl: first.url('work'), ReceiptHandle: m1?.ReceiptHandle }));

    await kill9(first);
    restarted = await startFauxqsProcess(dataDir);
  });

  afterAll(async () => {
    if (restarted !== undefined) await kill9(restarted);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the queues and their attributes', async () => {
    const attributes = (await restarted.client.send(new GetQueueAttributesCommand({ QueueUrl: restarted.url('redrive'), AttributeNames: ['All'] }))).Attributes;

    expect(attributes?.VisibilityTimeout).toBe('1');
    expect(JSON.parse(attributes?.RedrivePolicy ?? '{}')).toMatchObject({ maxReceiveCount: 2 });
  });

  it('still holds every message sent and not deleted, in-flight ones only after their visibility timeout, deleted ones never', async () => {
    expect(Date.now()).toBeLessThan(inFlightUntil); // the check below means something only while m2 and m3 are in flight
    const ready = await receive(restarted, 'work', 60);
    await sleep(Math.max(0, inFlightUntil - Date.now()) + 200);
    const returned = await receive(restarted, 'work', 60);

    expect(bodies(ready)).toEqual(['m4', 'm5', 'm6']);
    expect(bodies(returned)).toEqual(['m2', 'm3']);
    expect(receiveCounts(returned)).toEqual(['2', '2']);
    expect(await receive(restarted, 'work')).toEqual([]);
  });

  it('keeps receive counts and dead-letter moves across the crash, so redrive still happens after maxReceiveCount', async () => {
    await sleep(1100); // "late" was in flight for 1 s when the process died
    const third = await receive(restarted, 'redrive');
    const deadLetters = await receive(restarted, 'redrive-dlq');

    expect(third).toEqual([]); // a third receive moves it instead of delivering it
    expect(bodies(deadLetters)).toEqual(['early', 'late']);
  });
});
