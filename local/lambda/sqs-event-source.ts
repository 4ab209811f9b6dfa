/**
 * Lambda's SQS event source mappings, run locally: pollers take batches from each
 * mapped queue of the template, invoke the function with the exact SQS event Lambda
 * builds, and delete exactly the messages that succeeded. What is not deleted comes
 * back after the queue's visibility timeout, and the queue's RedrivePolicy (enforced by
 * the SQS service) moves it to the dead-letter queue after maxReceiveCount receives.
 *
 * Deletion follows Lambda's documented rules: a function error or timeout deletes
 * nothing; success deletes the whole batch, unless the mapping reports batch item
 * failures (`ReportBatchItemFailures`), in which case the listed messages stay. A
 * response that is not a valid batch response (an item id not in the batch, an empty or
 * missing id, not an object) counts as a failure of the whole batch.
 *
 * Polls are long polls of `waitTimeSeconds` (short, so `stop()` is quick; a message
 * arriving during a poll is returned at once). Messages received after `stop()` began
 * are made visible again at once instead of waiting out their visibility timeout.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { TemplateResolver } from '../template/resolve-intrinsics.ts';
import { deployedResourcesOfType } from './deployed-resources.ts';
import type { LocalLambdaRuntime } from './runtime.ts';

/** One AWS::Lambda::EventSourceMapping from an SQS queue of the template, as the local pollers run it. */
export interface SqsEventSourceMapping {
  readonly logicalId: string;
  /** The function's name in the local runtime. */
  readonly functionName: string;
  readonly queueLogicalId: string;
  /** The resolver's URL of the queue (what the pollers receive from). */
  readonly queueUrl: string;
  /** The resolver's ARN of the queue: the records' `eventSourceARN`. */
  readonly queueArn: string;
  /** Most messages per invocation. @default 10 */
  readonly batchSize: number;
  /** How long to gather a batch (`MaximumBatchingWindowInSeconds`). @default 0 */
  readonly maximumBatchingWindowMs: number;
  /** `FunctionResponseTypes` includes `ReportBatchItemFailures`. */
  readonly reportBatchItemFailures: boolean;
  /** `ScalingConfig.MaximumConcurrency`, when set. */
  readonly maximumConcurrency?: number;
  /** Disabled mappings are listed but not polled. */
  readonly enabled: boolean;
  /** Pollers this mapping runs: at most `pollersPerMapping`, at most `maximumConcurrency`. */
  readonly pollers: number;
}

/** An event source mapping the local pollers do not run, and why. */
export interface UnsupportedEventSourceMapping {
  readonly logicalId: string;
  readonly reason: string;
}

/** Counters of one mapping since the mappings were constructed. */
export interface EventSourceMappingStats {
  /** The mapping's logical id. */
  readonly logicalId: string;
  readonly functionName: string;
  readonly batches: number;
  readonly messagesReceived: number;
  readonly messagesDeleted: number;
  /**
   * Batches returned whole to the queue (after its visibility timeout): the invocation errored
   * or timed out, or its batch item failures response was invalid.
   */
  readonly failedBatches: number;
  /** Messages the function reported as failed (batch item failures), left for redelivery. */
  readonly messagesReportedFailed: number;
  readonly pollErrors: number;
}

/** Where the pollers report what goes wrong (the hub's log). */
export interface EventSourceLogger {
  warn(message: string): void;
}

/** Options of the local event source mappings. */
export interface SqsEventSourceMappingsOptions {
  readonly resolver: TemplateResolver;
  /** Where the pollers call SQS (fauxqs, or the hub's endpoint). */
  readonly sqsEndpoint: string;
  /** The runtime that runs the mapped functions. */
  readonly runtime: LocalLambdaRuntime;
  /** Most pollers per mapping; a mapping's MaximumConcurrency lowers it. @default 3 */
  readonly pollersPerMapping?: number;
  /** Long-poll wait of each ReceiveMessage (0–20); `stop()` takes at most about this long. @default 2 */
  readonly waitTimeSeconds?: number;
  /** @default console */
  readonly logger?: EventSourceLogger;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

const MappingProperties = z.looseObject({
  EventSourceArn: z.string().min(1),
  FunctionName: z.string().min(1),
  BatchSize: z.coerce.number().int().min(1).max(10_000).optional(),
  MaximumBatchingWindowInSeconds: z.coerce.number().int().min(0).max(300).optional(),
  FunctionResponseTypes: z.array(z.string()).optional(),
  ScalingConfig: z.looseObject({ MaximumConcurrency: z.coerce.number().int().min(2).max(1000).optional() }).optional(),
  Enabled: z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]).optional(),
  FilterCriteria: z.unknown().optional(),
});

interface MutableStats {
  batches: number;
  messagesReceived: number;
  messagesDeleted: number;
  failedBatches: number;
  messagesReportedFailed: number;
  pollErrors: number;
}

/**
 * The SQS event source mappings of a template, polled locally. Construct, `start()`,
 * and `stop()` when the hub shuts down.
 */
export class SqsEventSourceMappings {
  /** The SQS mappings of the template that the pollers run (or would, when enabled). */
  readonly mappings: readonly SqsEventSourceMapping[];
  /** Mappings of the template the pollers cannot run (streams, Kafka, functions the runtime lacks). */
  readonly unsupported: readonly UnsupportedEventSourceMapping[];
  readonly #runtime: LocalLambdaRuntime;
  readonly #client: SQSClient;
  readonly #waitTimeSeconds: number;
  readonly #logger: EventSourceLogger;
  readonly #region: string;
  readonly #stats = new Map<string, MutableStats>();
  #pollers: Promise<void>[] = [];
  #running = false;
  /** Aborts receives in flight when `stop()` gives up waiting. */
  #abort = new AbortController();
  /** Set when `stop()` has given up on batches in flight: they no longer delete or log. */
  #abandoned = false;
  /** Resolves when `stop()` begins, to cut pauses short. */
  #stopping: Promise<void> = Promise.resolve();
  #signalStop: () => void = () => undefined;

  constructor(options: SqsEventSourceMappingsOptions) {
    const { resolver, runtime } = options;
    const pollersPerMapping = options.pollersPerMapping ?? 3;
    this.#waitTimeSeconds = options.waitTimeSeconds ?? 2;
    if (!Number.isInteger(this.#waitTimeSeconds) || this.#waitTimeSeconds < 0 || this.#waitTimeSeconds > 20) {
      throw new Error(`waitTimeSeconds must be an integer from 0 to 20, got ${this.#waitTimeSeconds}`);
    }
    this.#runtime = runtime;
    this.#logger = options.logger ?? console;
    this.#region = resolver.region;
    this.#client = new SQSClient({ endpoint: options.sqsEndpoint, region: resolver.region, credentials: LOCAL_CREDENTIALS });
    const functionNames = new Map<string, string>();
    for (const fn of runtime.functions) for (const reference of [fn.logicalId, fn.functionName, fn.arn]) functionNames.set(reference, fn.functionName);

    const mappings: SqsEventSourceMapping[] = [];
    const unsupported: UnsupportedEventSourceMapping[] = [];
    for (const [logicalId, resource] of deployedResourcesOfType(resolver, 'AWS::Lambda::EventSourceMapping')) {
      const raw = resource.Properties ?? {};
      const parsed = MappingProperties.safeParse({
        ...raw,
        EventSourceArn: resolver.resolve(raw.EventSourceArn),
        FunctionName: resolver.resolve(raw.FunctionName),
        BatchSize: resolver.resolve(raw.BatchSize),
        MaximumBatchingWindowInSeconds: resolver.resolve(raw.MaximumBatchingWindowInSeconds),
        FunctionResponseTypes: resolver.resolve(raw.FunctionResponseTypes),
        ScalingConfig: resolver.resolve(raw.ScalingConfig),
        Enabled: resolver.resolve(raw.Enabled),
      });
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
        throw new Error(`event source mapping ${logicalId}: ${problems.join('; ')}`);
      }
      const properties = parsed.data;
      const queueLogicalId = resolver.logicalIdOf(properties.EventSourceArn);
      if (queueLogicalId === undefined || resolver.resource(queueLogicalId).Type !== 'AWS::SQS::Queue') {
        unsupported.push({ logicalId, reason: `source ${properties.EventSourceArn} is not an SQS queue of the template; only SQS sources run locally` });
        continue;
      }
      const functionName = functionNames.get(properties.FunctionName) ?? functionNames.get(properties.FunctionName.replace(/(:function:[^:]+):[^:]+$/, '$1'));
      if (functionName === undefined) {
        unsupported.push({ logicalId, reason: `function ${properties.FunctionName} is not run by the local runtime` });
        continue;
      }
      if (properties.FilterCriteria !== undefined) {
        throw new Error(`event source mapping ${logicalId}: FilterCriteria is not supported locally (Lambda would delete the messages it filters out)`);
      }
      const queueUrl = resolver.ref(queueLogicalId);
      if (typeof queueUrl !== 'string') throw new Error(`event source mapping ${logicalId}: queue ${queueLogicalId} has no URL`);
      const maximumConcurrency = properties.ScalingConfig?.MaximumConcurrency;
      mappings.push({
        logicalId,
        functionName,
        queueLogicalId,
        queueUrl,
        queueArn: resolver.getAtt(queueLogicalId, 'Arn'),
        batchSize: properties.BatchSize ?? 10,
        maximumBatchingWindowMs: (properties.MaximumBatchingWindowInSeconds ?? 0) * 1000,
        reportBatchItemFailures: properties.FunctionResponseTypes?.includes('ReportBatchItemFailures') ?? false,
        ...(maximumConcurrency === undefined ? {} : { maximumConcurrency }),
        enabled: properties.Enabled ?? true,
        pollers: Math.max(1, Math.min(pollersPerMapping, maximumConcurrency ?? pollersPerMapping)),
      });
    }
    this.mappings = mappings;
    this.unsupported = unsupported;
    for (const mapping of mappings) this.#stats.set(mapping.logicalId, emptyStats());
  }

  /** Starts polling every enabled mapping. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abandoned = false;
    this.#abort = new AbortController();
    this.#stopping = new Promise((resolve) => {
      this.#signalStop = resolve;
    });
    for (const mapping of this.mappings) {
      if (!mapping.enabled) continue;
      for (let poller = 0; poller < mapping.pollers; poller += 1) this.#pollers.push(this.#poll(mapping));
    }
  }

  /**
   * Stops polling. Batches in flight may finish (and delete what succeeded) for up to
   * `drainTimeoutMs`; after that they are abandoned to their visibility timeout.
   */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#signalStop();
    const drained = Promise.allSettled(this.#pollers).then(() => true);
    const timedOut = sleep(drainTimeoutMs, false, { ref: false });
    if (!(await Promise.race([drained, timedOut]))) {
      this.#abandoned = true;
      this.#abort.abort();
    }
    this.#pollers = [];
  }

  /** Counters of every mapping, in template order. */
  stats(): EventSourceMappingStats[] {
    return this.mappings.map((mapping) => ({
      logicalId: mapping.logicalId,
      functionName: mapping.functionName,
      ...(this.#stats.get(mapping.logicalId) ?? emptyStats()),
    }));
  }

  async #poll(mapping: SqsEventSourceMapping): Promise<void> {
    const stats = this.#stats.get(mapping.logicalId) ?? emptyStats();
    let backoffMs = 0;
    while (this.#running) {
      let messages: Message[];
      try {
        messages = await this.#gather(mapping);
        backoffMs = 0;
      } catch (error) {
        if (!this.#running) return;
        stats.pollErrors += 1;
        backoffMs = Math.min(30_000, Math.max(500, backoffMs * 2));
        this.#logger.warn(`[sqs → ${mapping.functionName}] receive from ${mapping.queueUrl} failed: ${describe(error)}; retrying in ${backoffMs} ms`);
        await Promise.race([sleep(backoffMs, undefined, { ref: false }), this.#stopping]);
        continue;
      }
      if (messages.length === 0) continue;
      if (!this.#running) {
        await this.#makeVisible(mapping, messages);
        return;
      }
      await this.#process(mapping, messages, stats);
    }
  }

  /** One batch: up to `batchSize` messages, gathered for up to the batching window. */
  async #gather(mapping: SqsEventSourceMapping): Promise<Message[]> {
    const messages = await this.#receive(mapping, Math.min(mapping.batchSize, 10), this.#waitTimeSeconds);
    if (messages.length === 0 || mapping.maximumBatchingWindowMs === 0) return messages;
    const deadline = Date.now() + mapping.maximumBatchingWindowMs;
    while (messages.length < mapping.batchSize && this.#running) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      const waitSeconds = Math.min(20, Math.floor(remainingMs / 1000));
      const more = await this.#receive(mapping, Math.min(mapping.batchSize - messages.length, 10), waitSeconds);
      messages.push(...more);
      if (more.length === 0 && waitSeconds === 0) await sleep(Math.min(remainingMs, 100));
    }
    return messages;
  }

  async #receive(mapping: SqsEventSourceMapping, maxMessages: number, waitTimeSeconds: number): Promise<Message[]> {
    const response = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: mapping.queueUrl,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.#abort.signal },
    );
    return response.Messages ?? [];
  }

  async #process(mapping: SqsEventSourceMapping, messages: Message[], stats: MutableStats): Promise<void> {
    stats.batches += 1;
    stats.messagesReceived += messages.length;
    const event: SQSEvent = { Records: messages.map((message) => this.#recordOf(mapping, message)) };
    let failed: ReadonlySet<string> | 'all';
    try {
      const outcome = await this.#runtime.invoke(mapping.functionName, event);
      if (outcome.status === 'error') {
        stats.failedBatches += 1;
        if (!this.#abandoned) {
          this.#logger.warn(
            `[sqs → ${mapping.functionName}] invocation failed (${outcome.errorType}: ${outcome.errorMessage}); ` +
              `${messages.length} message(s) return after the visibility timeout`,
          );
        }
        return;
      }
      failed = mapping.reportBatchItemFailures ? failedMessageIds(outcome.result, event.Records) : new Set();
    } catch (error) {
      stats.failedBatches += 1;
      if (!this.#abandoned) this.#logger.warn(`[sqs → ${mapping.functionName}] could not invoke: ${describe(error)}`);
      return;
    }
    if (failed === 'all') {
      stats.failedBatches += 1;
      this.#logger.warn(`[sqs → ${mapping.functionName}] invalid batch item failures response; the whole batch returns after the visibility timeout`);
      return;
    }
    stats.messagesReportedFailed += failed.size;
    const succeeded = messages.filter((message) => !failed.has(message.MessageId ?? ''));
    if (this.#abandoned) return;
    stats.messagesDeleted += await this.#delete(mapping, succeeded);
  }

  /** Deletes `messages` in batches of ten; gives how many were deleted. */
  async #delete(mapping: SqsEventSourceMapping, messages: readonly Message[]): Promise<number> {
    let deleted = 0;
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      try {
        const response = await this.#client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: mapping.queueUrl,
            Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
        deleted += response.Successful?.length ?? 0;
        for (const failure of response.Failed ?? []) {
          this.#logger.warn(`[sqs → ${mapping.functionName}] delete failed (${failure.Code}: ${failure.Message ?? ''}); the message will be delivered again`);
        }
      } catch (error) {
        this.#logger.warn(`[sqs → ${mapping.functionName}] delete failed: ${describe(error)}; ${chunk.length} message(s) will be delivered again`);
      }
    }
    return deleted;
  }

  /** Returns messages received during `stop()` to the queue at once. */
  async #makeVisible(mapping: SqsEventSourceMapping, messages: readonly Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      await this.#client
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: mapping.queueUrl,
            Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
          }),
        )
        .catch(() => undefined); // They return after their visibility timeout instead.
    }
  }

  /** The record Lambda puts in an SQS event for `message`. */
  #recordOf(mapping: SqsEventSourceMapping, message: Message): SQSRecord {
    const system = message.Attributes ?? {};
    const attributes: SQSRecordAttributes = {
      ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
      SentTimestamp: system.SentTimestamp ?? String(Date.now()),
      SenderId: system.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(system.AWSTraceHeader === undefined ? {} : { AWSTraceHeader: system.AWSTraceHeader }),
      ...(system.SequenceNumber === undefined ? {} : { SequenceNumber: system.SequenceNumber }),
      ...(system.MessageGroupId === undefined ? {} : { MessageGroupId: system.MessageGroupId }),
      ...(system.MessageDeduplicationId === undefined ? {} : { MessageDeduplicationId: system.MessageDeduplicationId }),
      ...(system.DeadLetterQueueSourceArn === undefined ? {} : { DeadLetterQueueSourceArn: system.DeadLetterQueueSourceArn }),
    };
    const messageAttributes: SQSMessageAttributes = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
        ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
        dataType: value.DataType ?? 'String',
      };
    }
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes,
      messageAttributes,
      md5OfBody: message.MD5OfBody ?? '',
      ...(message.MD5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
      eventSource: 'aws:sqs',
      eventSourceARN: mapping.queueArn,
      awsRegion: this.#region,
    };
  }
}

/**
 * The message ids a batch response lists as failed, or `all` when the response is not a
 * valid one (Lambda then treats the whole batch as failed). No response, an empty object
 * or an empty or null `batchItemFailures` is complete success.
 */
function failedMessageIds(result: unknown, records: readonly SQSRecord[]): ReadonlySet<string> | 'all' {
  if (result === null || result === undefined) return new Set();
  if (typeof result !== 'object' || Array.isArray(result)) return 'all';
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const inBatch = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !inBatch.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

function emptyStats(): MutableStats {
  return { batches: 0, messagesReceived: 0, messagesDeleted: 0, failedBatches: 0, messagesReportedFailed: 0, pollErrors: 0 };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
