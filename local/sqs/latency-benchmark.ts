/**
 * Latency of the local queue as Harmony sees it: p50/p99 of SendMessage and of a
 * 10-message ReceiveMessage through SDK v3 over HTTP, for LocalSqs persisting with
 * `synchronous=FULL` and `NORMAL` and for fauxqs with its data directory, in one run on
 * one machine. A measurement to read, not a test: `node local/sqs/latency-benchmark.ts [rounds]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { startSqsHttpServer } from './http-server.ts';
import { LocalSqs } from './service.ts';

const ROUNDS = Number(process.argv[2] ?? 2000);
const REGION = 'us-east-1';

interface Subject {
  readonly name: string;
  start(dataDir: string): Promise<{ endpoint: string; stop(): Promise<void> }>;
}

const subjects: Subject[] = [
  ...(['FULL', 'NORMAL'] as const).map(
    (synchronous): Subject => ({
      name: `LocalSqs (synchronous=${synchronous})`,
      start: async (dataDir) => {
        const server = await startSqsHttpServer({
          port: 0,
          service: (url) => new LocalSqs({ endpoint: url, region: REGION, accountId: '000000000000', dataDir, synchronous }),
        });
        return { endpoint: server.url, stop: () => server.close() };
      },
    }),
  ),
  {
    name: 'fauxqs (dataDir)',
    start: async (dataDir) => {
      const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, dataDir });
      return { endpoint: server.address, stop: () => server.stop() };
    },
  },
];

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

async function timed(rounds: number, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b);
}

const format = (samples: readonly number[]) => `p50 ${percentile(samples, 0.5).toFixed(3)} ms, p99 ${percentile(samples, 0.99).toFixed(3)} ms`;

for (const subject of subjects) {
  const dataDir = mkdtempSync(join(tmpdir(), 'harmony-sqs-latency-'));
  const running = await subject.start(dataDir);
  const client = new SQSClient({ endpoint: running.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'latency', Attributes: { VisibilityTimeout: '600' } }));
    const body = JSON.stringify({ dealId: '4711', stage: 'closedwon', padding: 'x'.repeat(400) });
    await timed(200, () => client.send(new SendMessageCommand({ QueueUrl, MessageBody: body }))); // warm-up
    const sends = await timed(ROUNDS, () => client.send(new SendMessageCommand({ QueueUrl, MessageBody: body })));
    const receiveRounds = Math.floor(ROUNDS / 4);
    for (let batch = 0; batch < receiveRounds; batch += 1) {
      await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 10 }, (_, index) => ({ Id: `m${index}`, MessageBody: body })) }));
    }
    const received: string[] = [];
    const receives = await timed(receiveRounds, async () => {
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
      if (Messages.length !== 10) throw new Error(`${subject.name}: a receive gave ${Messages.length} messages, not 10`);
      for (const message of Messages) received.push(message.ReceiptHandle ?? '');
    });
    const deletes: number[] = [];
    for (let start = 0; start + 10 <= received.length && deletes.length < receiveRounds; start += 10) {
      const entries = received.slice(start, start + 10).map((ReceiptHandle, index) => ({ Id: `d${index}`, ReceiptHandle }));
      const began = performance.now();
      await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }));
      deletes.push(performance.now() - began);
    }
    deletes.sort((a, b) => a - b);
    console.log(`${subject.name}\n  SendMessage              ${format(sends)}\n  ReceiveMessage (10 msgs) ${format(receives)}\n  DeleteMessageBatch (10)  ${format(deletes)}`);
  } finally {
    client.destroy();
    await running.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
