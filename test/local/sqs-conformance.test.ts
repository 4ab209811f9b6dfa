/**
 * One suite of SQS behaviours, run through the real SDK v3 SQSClient over HTTP against
 * fauxqs (the protocol-faithful reference the hub used so far) and against LocalSqs (the
 * hub's own durable queue). Where fauxqs departs from what the SQS API reference and
 * Developer Guide document, the case follows AWS and runs against LocalSqs only; its
 * title says why.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidMessageContents,
  ListQueuesCommand,
  type Message,
  type MessageAttributeValue,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiveMessageCommand,
  type ReceiveMessageCommandInput,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SendMessageCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSqsHttpServer } from '../../local/sqs/http-server.ts';
import { LocalSqs } from '../../local/sqs/service.ts';
import { startSqs } from '../support/local-aws.ts';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** An SQS service under test. */
interface Target {
  readonly client: SQSClient;
  stop(): Promise<void>;
  /** The service's clock, epoch milliseconds. */
  now(): number;
  /** Moves the service's clock forward (LocalSqs only). */
  advanceClock?(milliseconds: number): void;
  /** Messages the queue dropped at the end of their retention period (LocalSqs only). */
  expiredMessages?(queueName: string): number | undefined;
}

const targets: { readonly name: 'fauxqs' | 'LocalSqs'; start(): Promise<Target> }[] = [
  {
    name: 'fauxqs',
    start: async () => {
      const fauxqs = await startSqs();
      const client = new SQSClient({ endpoint: fauxqs.endpoint, region: REGION, credentials: CREDENTIALS });
      return { client, now: Date.now, stop: async () => (client.destroy(), await fauxqs.stop()) };
    },
  },
  {
    name: 'LocalSqs',
    start: async () => {
      let offset = 0;
      const server = await startSqsHttpServer({
        port: 0,
        service: (url) => new LocalSqs({ endpoint: url, region: REGION, accountId: '123456789012', now: () => Date.now() + offset }),
      });
      const client = new SQSClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
      return {
        client,
        now: () => Date.now() + offset,
        stop: async () => (client.destroy(), await server.close()),
        advanceClock: (milliseconds) => {
          offset += milliseconds;
        },
        expiredMessages: (queueName) => server.service.expiredMessages(queueName),
      };
    },
  },
];

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/**
 * MD5 of message attributes as the SQS Developer Guide describes it (sorted by name; name,
 * data type and value as 4-byte lengths and bytes; transport type 1 String, 2 Binary).
 */
function attributesMd5(attributes: readonly (readonly [name: string, dataType: string, value: Buffer])[]): string {
  const hash = createHash('md5');
  for (const [name, dataType, value] of [...attributes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const part of [Buffer.from(name), Buffer.from(dataType)]) hash.update(withLength(part));
    hash.update(Buffer.of(dataType.startsWith('Binary') ? 2 : 1));
    hash.update(withLength(value));
  }
  return hash.digest('hex');
}

function withLength(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
const bodies = (messages: readonly Message[] | undefined) => (messages ?? []).map((message) => message.Body);

/** An error of the SDK, as the tests look at it. */
interface SdkError extends Error {
  /** The query-protocol code SQS sent in `x-amzn-query-error`. */
  readonly Code?: string;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as SdkError,
  );
  if (outcome === undefined) throw new Error('expected the call to be refused, but it succeeded');
  return outcome;
}

/**
 * The error's type, whichever way the service spelled its query code: fauxqs puts
 * `AWS.SimpleQueueService.` before every code, SQS only before some (see the LocalSqs-only
 * case on error names), and the SDK names an error it has no class for after that code.
 */
async function refusal(promise: Promise<unknown>): Promise<string> {
  return (await rejection(promise)).name.replace(/^AWS\.SimpleQueueService\./, '');
}

describe.each(targets)('SQS behaviour: $name', ({ name, start }) => {
  let target: Target;
  let client: SQSClient;
  let queueCount = 0;
  /** A case fauxqs gets wrong: it runs against LocalSqs only, and the title says why. */
  // Cases fauxqs gets wrong (or does not serve) are registered for LocalSqs alone, not skipped:
  // a skipped test would count as one that exists and never runs.
  const awsOnly = (title: string, reason: string, test: () => Promise<void>) => {
    if (name !== 'fauxqs') it(`${title} [LocalSqs only: ${reason}]`, test);
  };

  beforeAll(async () => {
    target = await start();
    client = target.client;
  });
  afterAll(async () => target?.stop());

  const createQueue = async (prefix: string, Attributes: Record<string, string> = {}) => {
    queueCount += 1;
    const fifo = Attributes.FifoQueue === 'true';
    const QueueName = `${prefix}-${queueCount}${fifo ? '.fifo' : ''}`;
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName, Attributes }));
    if (QueueUrl === undefined) throw new Error('CreateQueue gave no QueueUrl');
    const arn = (await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '';
    return { QueueName, QueueUrl, arn };
  };
  const send = (QueueUrl: string, MessageBody: string, more: Partial<SendMessageCommandInput> = {}) =>
    client.send(new SendMessageCommand({ QueueUrl, MessageBody, ...more }));
  const receive = async (QueueUrl: string, more: Partial<ReceiveMessageCommandInput> = {}) =>
    (await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, ...more }))).Messages ?? [];
  const counts = async (QueueUrl: string) => {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
    };
  };
  const returnToQueue = (QueueUrl: string, message: Message | undefined) =>
    client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 0 }));

  describe('send, receive, delete', () => {
    it('delivers a message with its id, body and MD5, hides it while in flight, and forgets it once deleted', async () => {
      const { QueueUrl } = await createQueue('basic');
      const sent = await send(QueueUrl, 'hello');
      const [received, ...others] = await receive(QueueUrl);
      const whileInFlight = await receive(QueueUrl);
      await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received?.ReceiptHandle }));

      expect(sent.MD5OfMessageBody).toBe(md5('hello'));
      expect(others).toEqual([]);
      expect(received).toMatchObject({ MessageId: sent.MessageId, Body: 'hello', MD5OfBody: md5('hello') });
      expect(whileInFlight).toEqual([]);
      expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('answers SendMessageBatch entry by entry, by Id', async () => {
      const { QueueUrl } = await createQueue('batch');
      const answer = await client.send(
        new SendMessageBatchCommand({ QueueUrl, Entries: ['a', 'b', 'c'].map((id) => ({ Id: `entry-${id}`, MessageBody: `body-${id}` })) }),
      );

      expect(answer.Successful?.map((entry) => [entry.Id, entry.MD5OfMessageBody]).sort()).toEqual([
        ['entry-a', md5('body-a')],
        ['entry-b', md5('body-b')],
        ['entry-c', md5('body-c')],
      ]);
      expect(answer.Failed ?? []).toEqual([]);
      expect(bodies(await receive(QueueUrl)).sort()).toEqual(['body-a', 'body-b', 'body-c']);
    });

    it('refuses batches that are empty, too long, with repeated Ids or Ids SQS does not allow', async () => {
      const { QueueUrl } = await createQueue('batch-errors');
      const batch = (Entries: { Id: string; MessageBody: string }[]) => client.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
      const entry = (Id: string) => ({ Id, MessageBody: 'x' });

      expect(await refusal(batch([]))).toBe('EmptyBatchRequest');
      expect(await refusal(batch(Array.from({ length: 11 }, (_, index) => entry(`e${index}`))))).toBe('TooManyEntriesInBatchRequest');
      expect(await refusal(batch([entry('same'), entry('same')]))).toBe('BatchEntryIdsNotDistinct');
      expect(await refusal(batch([entry('not allowed!')]))).toBe('InvalidBatchEntryId');
      expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('deletes and changes visibility in batches, answering by Id', async () => {
      const { QueueUrl } = await createQueue('batch-handles');
      await send(QueueUrl, 'one');
      await send(QueueUrl, 'two');
      const first = await receive(QueueUrl);
      const changed = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: first.map((message, index) => ({ Id: `c${index}`, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
      const again = await receive(QueueUrl);
      const deleted = await client.send(
        new DeleteMessageBatchCommand({ QueueUrl, Entries: again.map((message, index) => ({ Id: `d${index}`, ReceiptHandle: message.ReceiptHandle })) }),
      );

      expect(changed.Successful?.map((entry) => entry.Id).sort()).toEqual(['c0', 'c1']);
      expect(bodies(again).sort()).toEqual(['one', 'two']);
      expect(deleted.Successful?.map((entry) => entry.Id).sort()).toEqual(['d0', 'd1']);
      expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('refuses characters SQS does not accept in a body', async () => {
      const { QueueUrl } = await createQueue('contents');

      expect(await refusal(send(QueueUrl, 'bell \u0007'))).toBe('InvalidMessageContents');
    });

    awsOnly('accepts characters from U+10000 up in a body', 'fauxqs refuses them; SQS allows #x10000 to #x10FFFF', async () => {
      const { QueueUrl } = await createQueue('emoji');
      await send(QueueUrl, 'order shipped 📦');

      expect(bodies(await receive(QueueUrl))).toEqual(['order shipped 📦']);
    });
  });

  describe('visibility', () => {
    it('brings back a message not deleted after its visibility timeout, counted again and with a new receipt handle; the old handle deletes nothing', async () => {
      const { QueueUrl } = await createQueue('visibility');
      await send(QueueUrl, 'retry me');
      const [first] = await receive(QueueUrl, { VisibilityTimeout: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
      const hidden = await receive(QueueUrl);
      await sleep(1200);
      const [second] = await receive(QueueUrl, { VisibilityTimeout: 30, MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
      await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first?.ReceiptHandle }));
      const afterStaleDelete = await counts(QueueUrl);
      await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: second?.ReceiptHandle }));

      expect(hidden).toEqual([]);
      expect(second?.MessageId).toBe(first?.MessageId);
      expect([first?.Attributes?.ApproximateReceiveCount, second?.Attributes?.ApproximateReceiveCount]).toEqual(['1', '2']);
      expect(second?.ReceiptHandle).not.toBe(first?.ReceiptHandle);
      expect(afterStaleDelete).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
      expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('makes a message visible at once with ChangeMessageVisibility 0, and hides it longer with more', async () => {
      const { QueueUrl } = await createQueue('change-visibility');
      await send(QueueUrl, 'm');
      const [first] = await receive(QueueUrl, { VisibilityTimeout: 30 });
      await returnToQueue(QueueUrl, first);
      const [second] = await receive(QueueUrl, { VisibilityTimeout: 1 });
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: second?.ReceiptHandle, VisibilityTimeout: 30 }));
      await sleep(1200);

      expect(second?.MessageId).toBe(first?.MessageId);
      expect(await receive(QueueUrl)).toEqual([]);
      expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    });

    awsOnly(
      'refuses to extend a delivery past 12 hours in all',
      'fauxqs accepts any timeout up to 43200 s from now; SQS counts the 12 hours from the receive',
      async () => {
        const { QueueUrl } = await createQueue('visibility-limit');
        await send(QueueUrl, 'm');
        const [message] = await receive(QueueUrl, { VisibilityTimeout: 60 });
        await sleep(1100);
        const refused = await rejection(client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 43_200 })));

        expect(refused).toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('43200') });
      },
    );

    awsOnly('refuses a receipt handle it never gave out', "fauxqs's DeleteMessage accepts any text; SQS answers ReceiptHandleIsInvalid", async () => {
      const { QueueUrl } = await createQueue('bad-handle');

      expect(await refusal(client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'not-a-handle' })))).toBe('ReceiptHandleIsInvalid');
    });
  });

  describe('dead-letter queues', () => {
    it('moves a message to the dead-letter queue once a receive would exceed maxReceiveCount', async () => {
      const dlq = await createQueue('dlq');
      const source = await createQueue('with-dlq', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) });
      const sent = await send(source.QueueUrl, 'poison');
      for (let delivery = 0; delivery < 2; delivery += 1) {
        const [message] = await receive(source.QueueUrl);
        expect(message?.MessageId).toBe(sent.MessageId);
        await returnToQueue(source.QueueUrl, message);
      }
      const third = await receive(source.QueueUrl);
      const deadLetters = await receive(dlq.QueueUrl);

      expect(third).toEqual([]);
      expect(deadLetters.map((message) => [message.MessageId, message.Body])).toEqual([[sent.MessageId, 'poison']]);
      expect(await counts(source.QueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    awsOnly(
      'gives a dead-lettered message its source queue and keeps counting its receives',
      'fauxqs leaves out DeadLetterQueueSourceArn; SQS counts receives "across all queues"',
      async () => {
        const dlq = await createQueue('dlq-source');
        const source = await createQueue('with-dlq-source', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }) });
        await send(source.QueueUrl, 'poison');
        await returnToQueue(source.QueueUrl, (await receive(source.QueueUrl))[0]);
        await receive(source.QueueUrl);
        const [deadLetter] = await receive(dlq.QueueUrl, { MessageSystemAttributeNames: ['All'] });

        expect(deadLetter?.Attributes).toMatchObject({ DeadLetterQueueSourceArn: source.arn, ApproximateReceiveCount: '2' });
      },
    );
  });

  describe('long polling', () => {
    it('returns as soon as a message arrives', async () => {
      const { QueueUrl } = await createQueue('long-poll');
      const started = Date.now();
      const polling = receive(QueueUrl, { WaitTimeSeconds: 10 });
      await sleep(300);
      await send(QueueUrl, 'arrived');
      const messages = await polling;
      const elapsed = Date.now() - started;

      expect(bodies(messages)).toEqual(['arrived']);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(3000);
    });

    it('waits WaitTimeSeconds when nothing arrives', async () => {
      const { QueueUrl } = await createQueue('long-poll-empty');
      const started = Date.now();
      const messages = await receive(QueueUrl, { WaitTimeSeconds: 1 });

      expect(messages).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    });

    it('returns when a message in flight becomes visible again', async () => {
      const { QueueUrl } = await createQueue('long-poll-visibility');
      await send(QueueUrl, 'back');
      await receive(QueueUrl, { VisibilityTimeout: 1 });
      const started = Date.now();
      const messages = await receive(QueueUrl, { WaitTimeSeconds: 10 });

      expect(bodies(messages)).toEqual(['back']);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    awsOnly(
      'keeps waiting when another consumer took the message that woke it',
      'fauxqs ends every woken poll, empty-handed if it lost the race; SQS returns empty only when WaitTimeSeconds has passed',
      async () => {
        const { QueueUrl } = await createQueue('long-poll-race');
        const first = receive(QueueUrl, { WaitTimeSeconds: 10, MaxNumberOfMessages: 1 });
        const second = receive(QueueUrl, { WaitTimeSeconds: 10, MaxNumberOfMessages: 1 });
        await sleep(200);
        await send(QueueUrl, 'one');
        await sleep(500);
        await send(QueueUrl, 'two');

        expect([...bodies(await first), ...bodies(await second)].sort()).toEqual(['one', 'two']);
      },
    );
  });

  describe('message attributes', () => {
    const attributes: Record<string, MessageAttributeValue> = {
      attribName1: { DataType: 'String', StringValue: 'attribValue 1' },
      customNumberTypeAttrib: { DataType: 'Number.float', StringValue: '4563442423554324324264524243.32543234' },
      binaryAttribute: { DataType: 'Binary', BinaryValue: Buffer.from('Hello binary world!') },
    };
    /** MD5 of `attributes` by SQS's documented algorithm (the aws-md5-of-message-attributes package's published vector). */
    const ATTRIBUTES_MD5 = 'c932db14a896c663f83c260297d594ff';

    it('digests message attributes as SQS documents and returns them when asked for', async () => {
      const { QueueUrl } = await createQueue('attributes');
      const sent = await send(QueueUrl, 'with attributes', { MessageAttributes: attributes });
      const [received] = await receive(QueueUrl, { MessageAttributeNames: ['All'] });

      expect(sent.MD5OfMessageAttributes).toBe(ATTRIBUTES_MD5);
      expect(received?.MD5OfMessageAttributes).toBe(ATTRIBUTES_MD5);
      expect(received?.MessageAttributes?.attribName1).toMatchObject({ DataType: 'String', StringValue: 'attribValue 1' });
      expect(received?.MessageAttributes?.customNumberTypeAttrib).toMatchObject({ DataType: 'Number.float', StringValue: '4563442423554324324264524243.32543234' });
      expect(Buffer.from(received?.MessageAttributes?.binaryAttribute?.BinaryValue ?? []).toString()).toBe('Hello binary world!');
    });

    it('returns only the attributes named, or those under a prefix', async () => {
      const { QueueUrl } = await createQueue('attribute-names');
      await send(QueueUrl, 'm', {
        MessageAttributes: {
          'trace.id': { DataType: 'String', StringValue: 't-1' },
          'trace.span': { DataType: 'String', StringValue: 's-1' },
          tenant: { DataType: 'String', StringValue: 'acme' },
        },
      });
      const [byName] = await receive(QueueUrl, { MessageAttributeNames: ['tenant'], VisibilityTimeout: 0 });
      const [byPrefix] = await receive(QueueUrl, { MessageAttributeNames: ['trace.*'] });

      expect(Object.keys(byName?.MessageAttributes ?? {})).toEqual(['tenant']);
      expect(Object.keys(byPrefix?.MessageAttributes ?? {}).sort()).toEqual(['trace.id', 'trace.span']);
    });

    awsOnly('carries the AWSTraceHeader system attribute to the receiver, with its MD5', 'fauxqs drops MessageSystemAttributes', async () => {
      const { QueueUrl } = await createQueue('trace-header');
      const traceHeader = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
      const sent = await send(QueueUrl, 'traced', { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: traceHeader } } });
      const [received] = await receive(QueueUrl, { MessageSystemAttributeNames: ['AWSTraceHeader'] });

      expect(sent.MD5OfMessageSystemAttributes).toBe(attributesMd5([['AWSTraceHeader', 'String', Buffer.from(traceHeader)]]));
      expect(received?.Attributes).toEqual({ AWSTraceHeader: traceHeader });
    });

    awsOnly('returns no message attributes unless asked for', 'fauxqs returns them all when MessageAttributeNames is left out', async () => {
      const { QueueUrl } = await createQueue('attributes-unasked');
      await send(QueueUrl, 'm', { MessageAttributes: attributes });
      const [received] = await receive(QueueUrl);

      expect(received?.MessageAttributes).toBeUndefined();
    });
  });

  describe('FIFO queues', () => {
    it('delivers a group in order, holds it while one of its messages is in flight, and drops duplicates within the deduplication interval', async () => {
      const { QueueUrl } = await createQueue('orders', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
      const a1 = await send(QueueUrl, 'a1', { MessageGroupId: 'A' });
      await send(QueueUrl, 'a2', { MessageGroupId: 'A' });
      await send(QueueUrl, 'b1', { MessageGroupId: 'B' });
      const a1Again = await send(QueueUrl, 'a1', { MessageGroupId: 'A' });
      const a3 = await send(QueueUrl, 'a3', { MessageGroupId: 'A', MessageDeduplicationId: 'd-3' });
      const a3Again = await send(QueueUrl, 'a3, sent again', { MessageGroupId: 'A', MessageDeduplicationId: 'd-3' });
      const one = async () => (await receive(QueueUrl, { MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['All'] }))[0];
      const remove = (message: Message | undefined) => client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle }));

      const first = await one();
      const second = await one();
      const whileBothInFlight = await one();
      await remove(first);
      const third = await one();
      await remove(second);
      await remove(third);
      const fourth = await one();
      await remove(fourth);

      expect(a1Again.MessageId).toBe(a1.MessageId);
      expect(a3Again.MessageId).toBe(a3.MessageId);
      expect([first, second, whileBothInFlight, third, fourth].map((message) => message?.Body)).toEqual(['a1', 'b1', undefined, 'a2', 'a3']);
      expect(first?.Attributes).toMatchObject({ MessageGroupId: 'A', SequenceNumber: a1.SequenceNumber });
      expect(BigInt(a3.SequenceNumber ?? '0')).toBeGreaterThan(BigInt(a1.SequenceNumber ?? '0'));
      expect(await receive(QueueUrl)).toEqual([]);
    });

    it('requires a MessageGroupId, and a MessageDeduplicationId unless deduplication is content-based', async () => {
      const { QueueUrl } = await createQueue('strict', { FifoQueue: 'true' });

      expect(await refusal(send(QueueUrl, 'no group'))).toBe('MissingParameter');
      expect(await refusal(send(QueueUrl, 'no deduplication id', { MessageGroupId: 'g' }))).toBe('InvalidParameterValue');
    });

    awsOnly(
      'accepts a deduplication id again once its 5-minute interval has passed',
      "needs the service's clock moved forward, which fauxqs's is not",
      async () => {
        const { QueueUrl } = await createQueue('dedup-interval', { FifoQueue: 'true' });
        const first = await send(QueueUrl, 'once', { MessageGroupId: 'g', MessageDeduplicationId: 'same' });
        const within = await send(QueueUrl, 'once', { MessageGroupId: 'g', MessageDeduplicationId: 'same' });
        target.advanceClock?.(5 * 60_000 + 1000);
        const after = await send(QueueUrl, 'twice', { MessageGroupId: 'g', MessageDeduplicationId: 'same' });

        expect(within.MessageId).toBe(first.MessageId);
        expect(after.MessageId).not.toBe(first.MessageId);
        expect(bodies(await receive(QueueUrl))).toEqual(['once', 'twice']);
      },
    );

    awsOnly(
      'returns as many messages of one group as it can in one receive, in order',
      'fauxqs returns one message per group per receive; SQS "first attempts to return as many messages with the same message group ID as possible"',
      async () => {
        const { QueueUrl } = await createQueue('batches', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
        for (const body of ['a1', 'a2', 'a3']) await send(QueueUrl, body, { MessageGroupId: 'A' });
        await send(QueueUrl, 'b1', { MessageGroupId: 'B' });

        expect(bodies(await receive(QueueUrl, { MaxNumberOfMessages: 3 }))).toEqual(['a1', 'a2', 'a3']);
        expect(bodies(await receive(QueueUrl))).toEqual(['b1']);
      },
    );

    awsOnly(
      'gives the same messages and receipt handles to a receive retried with its ReceiveRequestAttemptId',
      'fauxqs ignores ReceiveRequestAttemptId',
      async () => {
        const { QueueUrl } = await createQueue('attempts', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
        await send(QueueUrl, 'a1', { MessageGroupId: 'A' });
        await send(QueueUrl, 'b1', { MessageGroupId: 'B' });
        const first = await receive(QueueUrl, { ReceiveRequestAttemptId: 'attempt-1' });
        const retried = await receive(QueueUrl, { ReceiveRequestAttemptId: 'attempt-1' });

        expect(bodies(first)).toEqual(['a1', 'b1']);
        expect(retried.map((message) => message.ReceiptHandle)).toEqual(first.map((message) => message.ReceiptHandle));
        expect(await receive(QueueUrl, { ReceiveRequestAttemptId: 'attempt-2' })).toEqual([]);
      },
    );
  });

  describe('queues', () => {
    it('counts visible, in-flight and delayed messages and reports the queue attributes', async () => {
      const dlq = await createQueue('counted-dlq');
      const redrivePolicy = { deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 };
      const { QueueUrl, QueueName } = await createQueue('counted', { VisibilityTimeout: '45', RedrivePolicy: JSON.stringify(redrivePolicy) });
      await send(QueueUrl, 'one');
      await send(QueueUrl, 'two');
      await send(QueueUrl, 'later', { DelaySeconds: 60 });
      await receive(QueueUrl, { MaxNumberOfMessages: 1 });
      const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));

      expect(await counts(QueueUrl)).toEqual({ visible: 1, inFlight: 1, delayed: 1 });
      expect(Attributes).toMatchObject({ VisibilityTimeout: '45', MessageRetentionPeriod: '345600', DelaySeconds: '0', ReceiveMessageWaitTimeSeconds: '0' });
      expect(Attributes.QueueArn).toMatch(new RegExp(`^arn:aws:sqs:${REGION}:\\d{12}:${QueueName}$`));
      expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toEqual(redrivePolicy);
      expect(Math.abs(Number(Attributes.CreatedTimestamp) - target.now() / 1000)).toBeLessThan(60);
    });

    it('reports a FIFO queue as FIFO', async () => {
      const { QueueUrl } = await createQueue('fifo-attributes', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
      const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));

      expect(Attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    });

    it('creates a queue again with the same attributes, and refuses other values', async () => {
      const { QueueName, QueueUrl } = await createQueue('idempotent', { VisibilityTimeout: '20' });
      const again = await client.send(new CreateQueueCommand({ QueueName, Attributes: { VisibilityTimeout: '20' } }));
      const refused = await refusal(client.send(new CreateQueueCommand({ QueueName, Attributes: { VisibilityTimeout: '21' } })));

      expect(again.QueueUrl).toBe(QueueUrl);
      expect(refused).toBe('QueueNameExists');
    });

    it('answers QueueDoesNotExist for a queue that is not there', async () => {
      const { QueueUrl } = await createQueue('exists');
      const missingUrl = QueueUrl.replace(/[^/]+$/, 'no-such-queue');

      expect(await refusal(client.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })))).toBe('QueueDoesNotExist');
      expect(await refusal(send(missingUrl, 'lost'))).toBe('QueueDoesNotExist');
      expect(await refusal(receive(missingUrl))).toBe('QueueDoesNotExist');
    });

    it('finds a queue by name and lists queues by prefix, page by page', async () => {
      const created = [await createQueue('listed'), await createQueue('listed'), await createQueue('listed')];
      const prefix = created[0]?.QueueName.replace(/\d+$/, '') ?? '';
      const byName = await client.send(new GetQueueUrlCommand({ QueueName: created[1]?.QueueName }));
      const firstPage = await client.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2 }));
      const secondPage = await client.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2, NextToken: firstPage.NextToken }));

      expect(byName.QueueUrl).toBe(created[1]?.QueueUrl);
      expect(firstPage.QueueUrls).toHaveLength(2);
      expect(firstPage.NextToken).toBeDefined();
      expect([...(firstPage.QueueUrls ?? []), ...(secondPage.QueueUrls ?? [])].sort()).toEqual(created.map((queue) => queue.QueueUrl).sort());
    });

    awsOnly(
      "names errors with SQS's query codes, so the SDK raises its own exception classes",
      'fauxqs puts AWS.SimpleQueueService. before every query code, where SQS sends InvalidParameterValue, MissingParameter, InvalidMessageContents and QueueAlreadyExists plain',
      async () => {
        const { QueueName, QueueUrl } = await createQueue('error-names', { VisibilityTimeout: '20' });
        const exists = await rejection(client.send(new CreateQueueCommand({ QueueName, Attributes: { VisibilityTimeout: '21' } })));
        const invalid = await rejection(receive(QueueUrl, { MaxNumberOfMessages: 11 }));
        const contents = await rejection(send(QueueUrl, 'bell \u0007'));
        const missing = await rejection(client.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })));

        expect(exists).toBeInstanceOf(QueueNameExists);
        expect(exists.Code).toBe('QueueAlreadyExists');
        expect(invalid).toMatchObject({ name: 'InvalidParameterValue', Code: 'InvalidParameterValue' });
        expect(contents).toBeInstanceOf(InvalidMessageContents);
        expect(missing).toBeInstanceOf(QueueDoesNotExist);
        expect(missing.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
      },
    );

    it('refuses MaxNumberOfMessages outside 1 to 10', async () => {
      const { QueueUrl } = await createQueue('max-messages');

      expect(await refusal(receive(QueueUrl, { MaxNumberOfMessages: 11 }))).toBe('InvalidParameterValue');
      expect(await refusal(receive(QueueUrl, { MaxNumberOfMessages: 0 }))).toBe('InvalidParameterValue');
    });

    it('purges every message, in flight or not, and deletes queues', async () => {
      const { QueueUrl, QueueName } = await createQueue('purged');
      await send(QueueUrl, 'one');
      await send(QueueUrl, 'two');
      await receive(QueueUrl, { MaxNumberOfMessages: 1 });
      await client.send(new PurgeQueueCommand({ QueueUrl }));
      const afterPurge = await counts(QueueUrl);
      await client.send(new DeleteQueueCommand({ QueueUrl }));

      expect(afterPurge).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      expect(await refusal(client.send(new GetQueueUrlCommand({ QueueName })))).toBe('QueueDoesNotExist');
    });

    awsOnly('allows one PurgeQueue per queue every 60 seconds', 'fauxqs purges as often as asked', async () => {
      const { QueueUrl } = await createQueue('purged-twice');
      await client.send(new PurgeQueueCommand({ QueueUrl }));

      expect(await refusal(client.send(new PurgeQueueCommand({ QueueUrl })))).toBe('PurgeQueueInProgress');
    });

    awsOnly(
      'lets a deleted queue name be used again only after 60 seconds',
      'fauxqs reuses a name at once; SQS answers QueueDeletedRecently',
      async () => {
        const { QueueUrl, QueueName } = await createQueue('recreated');
        await client.send(new DeleteQueueCommand({ QueueUrl }));
        const tooSoon = await refusal(client.send(new CreateQueueCommand({ QueueName })));
        target.advanceClock?.(61_000);
        const later = await client.send(new CreateQueueCommand({ QueueName }));

        expect(tooSoon).toBe('QueueDeletedRecently');
        expect(later.QueueUrl).toBe(QueueUrl);
      },
    );

    awsOnly(
      'drops messages older than MessageRetentionPeriod',
      'fauxqs keeps messages forever; SQS deletes them when the retention period ends',
      async () => {
        const { QueueUrl, QueueName } = await createQueue('retention', { MessageRetentionPeriod: '60' });
        await send(QueueUrl, 'old');
        await receive(QueueUrl, { VisibilityTimeout: 5 });
        target.advanceClock?.(30_000);
        await send(QueueUrl, 'young');
        target.advanceClock?.(31_000);

        expect(await counts(QueueUrl)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
        expect(bodies(await receive(QueueUrl))).toEqual(['young']);
        expect(target.expiredMessages?.(QueueName)).toBe(1);
      },
    );
  });
});
