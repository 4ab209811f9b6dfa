/**
 * SQS event source mappings run locally against fauxqs: the event Lambda builds, batch
 * sizes and the batching window, what is deleted after success, partial failure and
 * error, redrive to the dead-letter queue after maxReceiveCount; and a real Harmony
 * handler (the flow starter) run by its mapping in the synthesized Harmony stack.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { type CfnFunction, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { type Message, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { ENTRY_METADATA_KEY, functionsOf } from '../../local/lambda/functions.ts';
import { LocalLambdaRuntime } from '../../local/lambda/runtime.ts';
import { SqsEventSourceMappings } from '../../local/lambda/sqs-event-source.ts';
import { provisionQueues, provisionTables } from '../../local/provision.ts';
import { type CloudFormationTemplate, parseTemplate } from '../../local/template/load-template.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { LOCAL_AWS_ENVIRONMENT, startDynalite, type LocalService } from '../support/local-aws.ts';
import { synthHarmony } from '../support/synth.ts';
import type { Observation } from './fixtures/batch-handler.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

type Fauxqs = Awaited<ReturnType<typeof startFauxqs>>;

/** Waits until `probe` returns a value other than undefined, or fails naming `what`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Everything in a queue now: ready messages, received without deleting (they become invisible for a while). */
async function drain(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'], VisibilityTimeout: 30 }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

/**
 * A stack with three queues, each with its DLQ (maxReceiveCount 2, visibility 1 s), consumed by
 * the batch fixture handler: `Partial` reports batch item failures (batch 3), `Whole` does not
 * (batch 10), `Windowed` gathers up to 20 messages for up to 1 s.
 */
function synthMappingStack(): CloudFormationTemplate {
  const app = new App();
  const stack = new Stack(app, 'EsmTest', { env: { account: ACCOUNT, region: REGION } });
  const consumer = (id: string, queue: Queue, source: ConstructorParameters<typeof SqsEventSource>[1]) => {
    const fn = new LambdaFunction(stack, id, {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('export const handler = async () => {};'),
      timeout: Duration.seconds(1),
    });
    (fn.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA_KEY, 'test/local/fixtures/batch-handler.ts');
    fn.addEventSource(new SqsEventSource(queue, source));
  };
  const queueWithDlq = (id: string) =>
    new Queue(stack, id, {
      queueName: `esm-${id.toLowerCase()}`,
      visibilityTimeout: Duration.seconds(1),
      deadLetterQueue: { queue: new Queue(stack, `${id}Dlq`, { queueName: `esm-${id.toLowerCase()}-dlq` }), maxReceiveCount: 2 },
    });
  consumer('PartialConsumer', queueWithDlq('Partial'), { batchSize: 3, reportBatchItemFailures: true });
  consumer('WholeConsumer', queueWithDlq('Whole'), { batchSize: 10 });
  consumer('WindowedConsumer', queueWithDlq('Windowed'), { batchSize: 20, maxBatchingWindow: Duration.seconds(1), maxConcurrency: 2 });
  return app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate;
}

describe('SqsEventSourceMappings with fixture handlers', () => {
  let sqs: Fauxqs;
  let client: SQSClient;
  let resolver: TemplateResolver;
  let runtime: LocalLambdaRuntime;
  let mappings: SqsEventSourceMappings | undefined;
  let directory: string;
  let observationsFile: string;
  const warnings: string[] = [];
  const url = (name: string) => `${sqs.address}/${ACCOUNT}/${name}`;
  const arn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;

  function observations(queueName?: string): Observation[] {
    const lines = readFileSync(observationsFile, 'utf8').split('\n').filter(Boolean);
    return lines.map((line) => JSON.parse(line) as Observation).filter((seen) => queueName === undefined || seen.eventSourceArn === arn(queueName));
  }

  function startMappings(pollersPerMapping?: number): SqsEventSourceMappings {
    mappings = new SqsEventSourceMappings({
      resolver,
      sqsEndpoint: sqs.address,
      runtime,
      waitTimeSeconds: 1,
      logger: { warn: (message) => warnings.push(message) },
      ...(pollersPerMapping === undefined ? {} : { pollersPerMapping }),
    });
    mappings.start();
    return mappings;
  }

  async function send(queueName: string, bodies: string[]): Promise<void> {
    await client.send(new SendMessageBatchCommand({ QueueUrl: url(queueName), Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })) }));
  }

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'harmony-esm-'));
    observationsFile = join(directory, 'observations.jsonl');
    sqs = await startFauxqs({ port: 0, logger: false });
    client = new SQSClient({ endpoint: sqs.address, region: REGION, credentials: CREDENTIALS });
    resolver = new TemplateResolver(synthMappingStack(), { region: REGION, accountId: ACCOUNT, sqsEndpoint: sqs.address });
    await provisionQueues(resolver, sqs.address);
    runtime = new LocalLambdaRuntime({
      functions: functionsOf(resolver, () => ({ OBSERVATIONS_FILE: observationsFile })),
      projectRoot: PROJECT_ROOT,
      baseEnvironment: LOCAL_AWS_ENVIRONMENT,
    });
  });

  afterEach(async () => {
    await mappings?.stop();
    mappings = undefined;
    writeFileSync(observationsFile, '');
    warnings.length = 0;
  });

  afterAll(async () => {
    await runtime?.stop();
    client?.destroy();
    await sqs?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads each SQS mapping of the template with its batching, reporting and scaling settings', () => {
    const local = new SqsEventSourceMappings({ resolver, sqsEndpoint: sqs.address, runtime });
    const byQueue = Object.fromEntries(local.mappings.map((mapping) => [mapping.queueLogicalId, mapping]));
    const partial = byQueue[resolver.logicalIdOf(arn('esm-partial')) ?? ''];
    const windowed = byQueue[resolver.logicalIdOf(arn('esm-windowed')) ?? ''];

    expect(local.mappings).toHaveLength(3);
    expect(local.unsupported).toEqual([]);
    expect(partial).toMatchObject({ queueUrl: url('esm-partial'), queueArn: arn('esm-partial'), batchSize: 3, reportBatchItemFailures: true, maximumBatchingWindowMs: 0, enabled: true, pollers: 3 });
    expect(partial?.functionName).toMatch(/^PartialConsumer/);
    expect(windowed).toMatchObject({ batchSize: 20, maximumBatchingWindowMs: 1000, maximumConcurrency: 2, pollers: 2, reportBatchItemFailures: false });
  });

  it('builds the SQS event Lambda builds', async () => {
    startMappings();
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: url('esm-whole'),
        MessageBody: 'hello',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' }, blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') } },
      }),
    );

    const seen = await eventually('the batch', () => observations('esm-whole')[0]);

    expect(seen.event).toEqual({
      Records: [
        {
          messageId: sent.MessageId,
          receiptHandle: expect.any(String),
          body: 'hello',
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: expect.stringMatching(/^\d{13}$/),
            SenderId: expect.any(String),
            ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
          },
          messageAttributes: {
            kind: { stringValue: 'greeting', stringListValues: [], binaryListValues: [], dataType: 'String' },
            blob: { binaryValue: Buffer.from('hi').toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
          },
          md5OfBody: createHash('md5').update('hello').digest('hex'),
          md5OfMessageAttributes: sent.MD5OfMessageAttributes,
          eventSource: 'aws:sqs',
          eventSourceARN: arn('esm-whole'),
          awsRegion: REGION,
        },
      ],
    });
  });

  it('takes at most BatchSize messages per invocation', async () => {
    await send('esm-partial', ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5', 'ok-6', 'ok-7']);

    startMappings();
    await eventually('all seven messages', () => (observations('esm-partial').flatMap((seen) => seen.bodies).length === 7 ? true : undefined));

    expect(observations('esm-partial').map((seen) => seen.bodies.length).sort()).toEqual([1, 3, 3]);
    expect(await drain(client, url('esm-partial'))).toEqual([]);
  });

  it('gathers up to BatchSize messages over several receives within the batching window', async () => {
    await send('esm-windowed', Array.from({ length: 10 }, (_, index) => `first-${index}`));
    await send('esm-windowed', Array.from({ length: 5 }, (_, index) => `second-${index}`));

    startMappings(1);
    await eventually('the batch', () => observations('esm-windowed')[0]);

    expect(observations('esm-windowed').map((seen) => seen.bodies.length)).toEqual([15]);
  });

  it('deletes the rest of a batch and leaves the poison message, which reaches the DLQ after maxReceiveCount', async () => {
    await send('esm-partial', ['ok-a', 'poison-pill', 'ok-b']);

    startMappings();
    const [dead] = await eventually('the poison message in the DLQ', async () => {
      const found = await drain(client, url('esm-partial-dlq'));
      return found.length > 0 ? found : undefined;
    });

    expect(dead?.Body).toBe('poison-pill');
    const bodies = observations('esm-partial').flatMap((seen) => seen.bodies);
    expect(bodies.filter((body) => body === 'ok-a')).toHaveLength(1);
    expect(bodies.filter((body) => body === 'ok-b')).toHaveLength(1);
    expect(observations('esm-partial').flatMap((seen) => seen.bodies.flatMap((body, index) => (body === 'poison-pill' ? [seen.receiveCounts[index]] : [])))).toEqual([1, 2]);
    expect(await drain(client, url('esm-partial'))).toEqual([]);
    expect(statsOf('esm-partial')).toMatchObject({ messagesReportedFailed: 2, messagesDeleted: 2 });
  });

  it('deletes nothing when the invocation fails, so the whole batch is redelivered and then dead-lettered', async () => {
    await send('esm-whole', ['explode', 'innocent']);

    startMappings();
    const dead = await eventually('both messages in the DLQ', async () => {
      const found = await drain(client, url('esm-whole-dlq'));
      return found.length === 2 ? found : undefined;
    });

    expect(dead.map((message) => message.Body).sort()).toEqual(['explode', 'innocent']);
    expect(observations('esm-whole').map((seen) => [seen.bodies.sort(), seen.receiveCounts])).toEqual([
      [['explode', 'innocent'], [1, 1]],
      [['explode', 'innocent'], [2, 2]],
    ]);
    expect(statsOf('esm-whole')).toMatchObject({ failedBatches: 2, messagesDeleted: 0 });
    expect(warnings).toEqual([
      expect.stringMatching(/invocation failed \(Error: exploded on purpose\); 2 message\(s\) return after the visibility timeout$/),
      expect.stringMatching(/invocation failed \(Error: exploded on purpose\)/),
    ]);
  });

  it('deletes the whole batch on success when the mapping does not report batch item failures', async () => {
    await send('esm-whole', ['poison-ignored', 'fine']);

    startMappings();
    await eventually('the batch', () => observations('esm-whole')[0]);
    await eventually('the deletes', () => (statsOf('esm-whole').messagesDeleted === 2 ? true : undefined));

    await sleep(1500); // past the visibility timeout: nothing comes back
    expect(observations('esm-whole')).toHaveLength(1);
    expect(await drain(client, url('esm-whole'))).toEqual([]);
  });

  it('stops polling: once stop() resolves, no poller takes another message', async () => {
    const running = startMappings();
    await send('esm-whole', ['before-stop']);
    await eventually('the first batch', () => observations('esm-whole')[0]);

    await running.stop();
    await send('esm-whole', ['after-stop']);
    await sleep(1500);

    const left = await drain(client, url('esm-whole'));
    expect(observations('esm-whole').flatMap((seen) => seen.bodies)).toEqual(['before-stop']);
    expect(left.map((message) => [message.Body, message.Attributes?.ApproximateReceiveCount])).toEqual([['after-stop', '1']]);
  });

  function statsOf(queueName: string) {
    const queueLogicalId = resolver.logicalIdOf(arn(queueName));
    const mapping = mappings?.mappings.find((candidate) => candidate.queueLogicalId === queueLogicalId);
    const stats = mappings?.stats().find((candidate) => candidate.logicalId === mapping?.logicalId);
    if (stats === undefined) throw new Error(`no mapping for ${queueName}`);
    return stats;
  }
});

describe("Harmony's flow starter (a real handler) behind its mapping in the synthesized Harmony stack", () => {
  let sqs: Fauxqs;
  let dynamo: LocalService;
  let client: SQSClient;
  let runtime: LocalLambdaRuntime;
  let mappings: SqsEventSourceMappings;
  let resolver: TemplateResolver;

  /** The one resource of `type` whose logical id starts with `prefix`. */
  function logicalIdStartingWith(type: string, prefix: string): string {
    const ids = Object.entries(resolver.template.Resources)
      .filter(([id, resource]) => resource.Type === type && id.startsWith(prefix))
      .map(([id]) => id);
    if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}…, found ${ids.join(', ') || 'none'}`);
    return ids[0] as string;
  }

  beforeAll(async () => {
    const { json } = synthHarmony();
    sqs = await startFauxqs({ port: 0, logger: false });
    dynamo = await startDynalite();
    client = new SQSClient({ endpoint: sqs.address, region: REGION, credentials: CREDENTIALS });
    resolver = new TemplateResolver(parseTemplate(json), { region: REGION, accountId: ACCOUNT, sqsEndpoint: sqs.address });
    await provisionTables(resolver, dynamo.endpoint);
    await provisionQueues(resolver, sqs.address);
    runtime = new LocalLambdaRuntime({
      functions: functionsOf(resolver),
      projectRoot: PROJECT_ROOT,
      baseEnvironment: {
        ...LOCAL_AWS_ENVIRONMENT,
        AWS_ENDPOINT_URL_SQS: sqs.address,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'CRITICAL',
      },
    });
    mappings = new SqsEventSourceMappings({ resolver, sqsEndpoint: sqs.address, runtime, waitTimeSeconds: 1 });
    mappings.start();
  });

  afterAll(async () => {
    await mappings?.stop();
    await runtime?.stop();
    client?.destroy();
    await sqs?.stop();
    await dynamo?.stop();
  });

  it('moves a message that is not JSON to the DLQ from the template, with the reason, and deletes it from the flow queue', async () => {
    const queueUrl = resolver.ref(logicalIdStartingWith('AWS::SQS::Queue', 'OrderToCashPipelineQueue')) as string;
    const deadLetterQueueUrl = resolver.ref(logicalIdStartingWith('AWS::SQS::Queue', 'OrderToCashPipelineDeadLetterQueue')) as string;
    const sent = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{not json' }));

    const [dead] = await eventually('the message in the DLQ', async () => {
      const found = await drain(client, deadLetterQueueUrl);
      return found.length > 0 ? found : undefined;
    });

    expect(dead?.Body).toBe('{not json');
    expect(dead?.MessageAttributes?.reason?.StringValue).toMatch(/^PermanentError: message: body is not JSON/);
    expect(dead?.MessageAttributes?.flow?.StringValue).toBe('order-to-cash');
    expect(dead?.MessageAttributes?.sourceMessageId?.StringValue).toBe(sent.MessageId);
    const starterName = resolver.physicalName(logicalIdStartingWith('AWS::Lambda::Function', 'OrderToCashPipelineStarter'));
    await eventually('the starter to finish', () => (runtime.stats().find((fn) => fn.functionName === starterName)?.busy === 0 ? true : undefined));
    expect(runtime.stats().find((fn) => fn.functionName === starterName)).toMatchObject({ invocations: 1, errors: 0 });
    expect(await drain(client, queueUrl)).toEqual([]);
  });
});
