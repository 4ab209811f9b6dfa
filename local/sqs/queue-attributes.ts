/**
 * Queue attributes as CreateQueue, SetQueueAttributes and GetQueueAttributes know them:
 * which names exist, which may be set (and which only on FIFO queues, or only at
 * creation), their ranges and defaults from the SQS API reference, and the two JSON
 * policies (RedrivePolicy, RedriveAllowPolicy) parsed into settings the queue runs on.
 * Values are kept as the strings SQS returns; policies in SQS's normalized JSON form.
 */
import * as z from 'zod';
import { invalidAttributeName, invalidAttributeValue, invalidParameterValue } from './errors.ts';

/** Every attribute GetQueueAttributes knows (besides `All`). */
export const QUEUE_ATTRIBUTE_NAMES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateNumberOfMessagesNotVisible',
  'ContentBasedDeduplication',
  'CreatedTimestamp',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'LastModifiedTimestamp',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'Policy',
  'QueueArn',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
] as const;

/** Attributes a caller may set, at creation or later. */
const SETTABLE = new Set([
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'Policy',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);
/** Settable attributes that only FIFO queues have. */
const FIFO_ONLY = new Set(['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);

/** Integer attributes and their ranges (SQS API reference, CreateQueue). */
const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};

/** What SQS gives a queue for the attributes a caller leaves out. */
const DEFAULTS: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
const FIFO_DEFAULTS: Readonly<Record<string, string>> = {
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};

const Arn = z.string().regex(/^arn:[^:]+:sqs:[^:]*:[^:]*:[^:]+$/);
const RedrivePolicyJson = z.object({
  deadLetterTargetArn: Arn,
  maxReceiveCount: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1).max(1000)),
});
const RedriveAllowPolicyJson = z
  .object({
    redrivePermission: z.enum(['allowAll', 'denyAll', 'byQueue']),
    sourceQueueArns: z.array(Arn).max(10).optional(),
  })
  .refine((policy) => (policy.redrivePermission === 'byQueue') === (policy.sourceQueueArns !== undefined && policy.sourceQueueArns.length > 0), {
    message: 'sourceQueueArns is required with byQueue and allowed only with it',
  });

/** A source queue's dead-letter settings. */
export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

/** Which source queues may name a queue as their dead-letter queue. */
export interface RedriveAllowPolicy {
  readonly redrivePermission: 'allowAll' | 'denyAll' | 'byQueue';
  readonly sourceQueueArns: readonly string[];
}

/** The attributes a queue runs on, parsed from its attribute strings. */
export interface QueueSettings {
  readonly fifo: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly delaySeconds: number;
  readonly maximumMessageSize: number;
  readonly retentionSeconds: number;
  readonly receiveWaitTimeSeconds: number;
  readonly redrivePolicy: RedrivePolicy | undefined;
  readonly redriveAllowPolicy: RedriveAllowPolicy | undefined;
  readonly contentBasedDeduplication: boolean;
  /** `messageGroup`: a deduplication id is unique within its message group only. */
  readonly deduplicationScope: 'queue' | 'messageGroup';
}

/**
 * Checks and normalizes attributes given to CreateQueue (`create`, FifoQueue allowed) or
 * SetQueueAttributes (`set`: FifoQueue refused; an empty RedrivePolicy, RedriveAllowPolicy
 * or Policy removes it, kept as ''). Throws SQS's error for the first bad one.
 */
export function normalizeQueueAttributes(attributes: Readonly<Record<string, string>>, mode: 'create' | 'set', fifo: boolean): Record<string, string> {
  const normalized: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'FifoQueue' && mode === 'create') {
      if (value !== 'true' && value !== 'false') throw invalidAttributeValue(name, 'Must be true or false.');
      if (value === 'true') normalized[name] = value;
      continue;
    }
    if (!SETTABLE.has(name) || (FIFO_ONLY.has(name) && !fifo)) throw invalidAttributeName(name);
    const range = RANGES[name];
    if (range !== undefined) {
      if (!/^-?\d+$/.test(value) || Number(value) < range[0] || Number(value) > range[1]) {
        throw invalidAttributeValue(name, `Must be an integer from ${range[0]} to ${range[1]}.`);
      }
      normalized[name] = String(Number(value));
    } else if (name === 'RedrivePolicy') {
      normalized[name] = value === '' && mode === 'set' ? '' : JSON.stringify(parseRedrivePolicy(value));
    } else if (name === 'RedriveAllowPolicy') {
      if (value === '' && mode === 'set') {
        normalized[name] = '';
      } else {
        const { redrivePermission, sourceQueueArns } = parseRedriveAllowPolicy(value);
        normalized[name] = JSON.stringify(redrivePermission === 'byQueue' ? { redrivePermission, sourceQueueArns } : { redrivePermission });
      }
    } else if (name === 'ContentBasedDeduplication' || name === 'SqsManagedSseEnabled') {
      if (value !== 'true' && value !== 'false') throw invalidAttributeValue(name, 'Must be true or false.');
      normalized[name] = value;
    } else if (name === 'DeduplicationScope') {
      if (value !== 'queue' && value !== 'messageGroup') throw invalidAttributeValue(name, 'Must be queue or messageGroup.');
      normalized[name] = value;
    } else if (name === 'FifoThroughputLimit') {
      if (value !== 'perQueue' && value !== 'perMessageGroupId') throw invalidAttributeValue(name, 'Must be perQueue or perMessageGroupId.');
      normalized[name] = value;
    } else {
      normalized[name] = value;
    }
  }
  return normalized;
}

/** The attribute strings of a queue: its own over SQS's defaults. */
export function withDefaults(attributes: Readonly<Record<string, string>>, fifo: boolean): Record<string, string> {
  const merged = { ...DEFAULTS, ...(fifo ? FIFO_DEFAULTS : {}), ...attributes };
  if (merged.FifoThroughputLimit === 'perMessageGroupId' && merged.DeduplicationScope !== 'messageGroup') {
    throw invalidAttributeValue('FifoThroughputLimit', 'perMessageGroupId is allowed only when DeduplicationScope is messageGroup.');
  }
  return merged;
}

/** The settings a queue runs on, from its attribute strings (defaults included). */
export function settingsOf(attributes: Readonly<Record<string, string>>): QueueSettings {
  const number = (name: string) => Number(attributes[name] ?? DEFAULTS[name]);
  const redrive = attributes.RedrivePolicy;
  const allow = attributes.RedriveAllowPolicy;
  return {
    fifo: attributes.FifoQueue === 'true',
    visibilityTimeoutSeconds: number('VisibilityTimeout'),
    delaySeconds: number('DelaySeconds'),
    maximumMessageSize: number('MaximumMessageSize'),
    retentionSeconds: number('MessageRetentionPeriod'),
    receiveWaitTimeSeconds: number('ReceiveMessageWaitTimeSeconds'),
    redrivePolicy: redrive === undefined || redrive === '' ? undefined : parseRedrivePolicy(redrive),
    redriveAllowPolicy: allow === undefined || allow === '' ? undefined : parseRedriveAllowPolicy(allow),
    contentBasedDeduplication: attributes.ContentBasedDeduplication === 'true',
    deduplicationScope: attributes.DeduplicationScope === 'messageGroup' ? 'messageGroup' : 'queue',
  };
}

/** Whether `name` is an attribute GetQueueAttributes may ask for. */
export function isQueueAttributeName(name: string): boolean {
  return name === 'All' || (QUEUE_ATTRIBUTE_NAMES as readonly string[]).includes(name);
}

function parseRedrivePolicy(value: string): RedrivePolicy {
  const parsed = RedrivePolicyJson.safeParse(parseJson(value));
  if (!parsed.success) {
    throw invalidParameterValue(
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount (1 to 1000).`,
    );
  }
  return { deadLetterTargetArn: parsed.data.deadLetterTargetArn, maxReceiveCount: parsed.data.maxReceiveCount };
}

function parseRedriveAllowPolicy(value: string): RedriveAllowPolicy {
  const parsed = RedriveAllowPolicyJson.safeParse(parseJson(value));
  if (!parsed.success) {
    throw invalidParameterValue(
      `Value ${value} for parameter RedriveAllowPolicy is invalid. Reason: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
    );
  }
  return { redrivePermission: parsed.data.redrivePermission, sourceQueueArns: parsed.data.sourceQueueArns ?? [] };
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
