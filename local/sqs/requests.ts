/**
 * The JSON inputs of the SQS operations LocalSqs serves, as zod schemas: the shapes of
 * the SQS API reference's request syntax. A missing required member is SQS's
 * `MissingParameter`, a member of the wrong type `InvalidParameterValue` naming it; the
 * values' own rules (ranges, name formats) are checked by the operations.
 */
import * as z from 'zod';
import { invalidValueOf, missingParameter } from './errors.ts';

const Text = z.string();
const Integer = z.number().int();
const Names = z.array(Text);
const StringMap = z.record(z.string(), z.string());

/** A message attribute in the JSON protocol (binary values in base64). */
export const MessageAttributeInput = z.looseObject({
  DataType: Text,
  StringValue: Text.optional(),
  BinaryValue: Text.optional(),
  StringListValues: Names.optional(),
  BinaryListValues: Names.optional(),
});

const MessageFields = {
  MessageBody: Text,
  DelaySeconds: Integer.optional(),
  MessageAttributes: z.record(z.string(), MessageAttributeInput).optional(),
  MessageSystemAttributes: z.record(z.string(), MessageAttributeInput).optional(),
  MessageDeduplicationId: Text.optional(),
  MessageGroupId: Text.optional(),
};

/** Inputs by operation. */
export const Requests = {
  CreateQueue: z.looseObject({ QueueName: Text, Attributes: StringMap.optional(), tags: StringMap.optional() }),
  GetQueueUrl: z.looseObject({ QueueName: Text, QueueOwnerAWSAccountId: Text.optional() }),
  ListQueues: z.looseObject({ QueueNamePrefix: Text.optional(), NextToken: Text.optional(), MaxResults: Integer.optional() }),
  QueueUrlOnly: z.looseObject({ QueueUrl: Text }),
  GetQueueAttributes: z.looseObject({ QueueUrl: Text, AttributeNames: Names.optional() }),
  SetQueueAttributes: z.looseObject({ QueueUrl: Text, Attributes: StringMap }),
  SendMessage: z.looseObject({ QueueUrl: Text, ...MessageFields }),
  SendMessageBatch: z.looseObject({ QueueUrl: Text, Entries: z.array(z.looseObject({ Id: Text, ...MessageFields })).optional() }),
  ReceiveMessage: z.looseObject({
    QueueUrl: Text,
    AttributeNames: Names.optional(),
    MessageSystemAttributeNames: Names.optional(),
    MessageAttributeNames: Names.optional(),
    MaxNumberOfMessages: Integer.optional(),
    VisibilityTimeout: Integer.optional(),
    WaitTimeSeconds: Integer.optional(),
    ReceiveRequestAttemptId: Text.optional(),
  }),
  DeleteMessage: z.looseObject({ QueueUrl: Text, ReceiptHandle: Text }),
  DeleteMessageBatch: z.looseObject({ QueueUrl: Text, Entries: z.array(z.looseObject({ Id: Text, ReceiptHandle: Text })).optional() }),
  ChangeMessageVisibility: z.looseObject({ QueueUrl: Text, ReceiptHandle: Text, VisibilityTimeout: Integer }),
  ChangeMessageVisibilityBatch: z.looseObject({
    QueueUrl: Text,
    Entries: z.array(z.looseObject({ Id: Text, ReceiptHandle: Text, VisibilityTimeout: Integer.optional() })).optional(),
  }),
  StartMessageMoveTask: z.looseObject({ SourceArn: Text, DestinationArn: Text.optional(), MaxNumberOfMessagesPerSecond: Integer.optional() }),
  ListMessageMoveTasks: z.looseObject({ SourceArn: Text, MaxResults: Integer.optional() }),
  CancelMessageMoveTask: z.looseObject({ TaskHandle: Text }),
  ListDeadLetterSourceQueues: z.looseObject({ QueueUrl: Text, NextToken: Text.optional(), MaxResults: Integer.optional() }),
  TagQueue: z.looseObject({ QueueUrl: Text, Tags: StringMap }),
  UntagQueue: z.looseObject({ QueueUrl: Text, TagKeys: Names }),
} as const;

/** The parsed input of an operation. */
export type RequestOf<Name extends keyof typeof Requests> = z.output<(typeof Requests)[Name]>;

const MessageEntry = z.object(MessageFields);

/** The members of one message of SendMessage or SendMessageBatch. */
export type MessageInput = z.output<typeof MessageEntry>;

/** `input` parsed by `schema`, or SQS's error for its first problem. */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = (issue?.path ?? []).map(String);
  const name = path.filter((step) => !/^\d+$/.test(step)).join('.') || 'request';
  const value = valueAt(input, path);
  if (value === undefined || value === null) throw missingParameter(name);
  throw invalidValueOf(name, typeof value === 'object' ? JSON.stringify(value) : value, issue?.message ?? 'not valid');
}

function valueAt(input: unknown, path: readonly string[]): unknown {
  let value = input;
  for (const step of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}
