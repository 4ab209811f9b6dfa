/**
 * What SendMessage and SendMessageBatch accept, checked as SQS checks it: the body's
 * characters, message attributes (at most 10; names, data types and values by the rules
 * of the SQS Developer Guide), the AWSTraceHeader system attribute, the queue's
 * MaximumMessageSize over body and attributes, DelaySeconds, and the FIFO members
 * (MessageGroupId required, MessageDeduplicationId or content-based deduplication).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { invalidMessageContents, invalidParameterValue, invalidValueOf, missingParameter } from './errors.ts';
import { type MessageAttributeValue, md5OfBody, md5OfMessageAttributes } from './md5.ts';
import type { QueueSettings } from './queue-attributes.ts';
import type { MessageAttributeInput, MessageInput } from './requests.ts';

/** A message ready to be stored: checked, with its digests. */
export interface NewMessage {
  readonly body: string;
  readonly bodyMd5: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>> | undefined;
  readonly attributesMd5: string | undefined;
  readonly traceHeader: string | undefined;
  readonly systemAttributesMd5: string | undefined;
  readonly delaySeconds: number;
  readonly groupId: string | undefined;
  /** The deduplication id given or derived (FIFO queues only). */
  readonly deduplicationId: string | undefined;
  /** Bytes counted against MaximumMessageSize (body and message attributes). */
  readonly size: number;
}

const MAX_ATTRIBUTES = 10;
/** The characters SQS accepts in a body and in string attribute values (XML 1.0's Char). */
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\..+)?$/;
/** MessageGroupId, MessageDeduplicationId: up to 128 alphanumeric and punctuation characters. */
const GROUP_OR_DEDUPLICATION_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;
/** Up to 38 digits of precision, -10^128 to 10^126 (SQS's Number). */
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Checks one message for a queue with `settings`; throws SQS's error for what is wrong. */
export function checkMessage(input: MessageInput, settings: QueueSettings): NewMessage {
  const body = input.MessageBody;
  if (body === '') throw missingParameter('MessageBody');
  if (INVALID_CHARACTER.test(body)) throw invalidMessageContents();

  if (input.DelaySeconds !== undefined) {
    if (input.DelaySeconds < 0 || input.DelaySeconds > 900) {
      throw invalidValueOf('DelaySeconds', input.DelaySeconds, 'DelaySeconds must be >= 0 and <= 900.');
    }
    if (settings.fifo && input.DelaySeconds !== 0) {
      throw invalidValueOf('DelaySeconds', input.DelaySeconds, 'The request include parameter that is not valid for this queue type.');
    }
  }

  const attributes = checkAttributes(input.MessageAttributes);
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, attribute] of Object.entries(attributes ?? {})) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attribute.DataType, 'utf8');
    size += attribute.BinaryValue === undefined ? Buffer.byteLength(attribute.StringValue ?? '', 'utf8') : Buffer.from(attribute.BinaryValue, 'base64').length;
  }
  if (size > settings.maximumMessageSize) {
    throw invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${settings.maximumMessageSize} bytes.`);
  }
  const traceHeader = checkSystemAttributes(input.MessageSystemAttributes);

  let groupId = input.MessageGroupId;
  let deduplicationId = input.MessageDeduplicationId;
  if (groupId !== undefined && !GROUP_OR_DEDUPLICATION_ID.test(groupId)) {
    throw invalidValueOf('MessageGroupId', groupId, 'MessageGroupId can contain up to 128 alphanumeric and punctuation characters.');
  }
  if (settings.fifo) {
    if (groupId === undefined || groupId === '') throw missingParameter('MessageGroupId');
    if (deduplicationId !== undefined && !GROUP_OR_DEDUPLICATION_ID.test(deduplicationId)) {
      throw invalidValueOf('MessageDeduplicationId', deduplicationId, 'MessageDeduplicationId can contain up to 128 alphanumeric and punctuation characters.');
    }
    if (deduplicationId === undefined) {
      if (!settings.contentBasedDeduplication) {
        throw invalidParameterValue('The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
      deduplicationId = createHash('sha256').update(body, 'utf8').digest('hex');
    }
  } else if (deduplicationId !== undefined) {
    throw invalidValueOf('MessageDeduplicationId', deduplicationId, 'The request include parameter that is not valid for this queue type.');
  } else if (groupId === '') {
    groupId = undefined;
  }

  return {
    body,
    bodyMd5: md5OfBody(body),
    attributes,
    attributesMd5: attributes === undefined ? undefined : md5OfMessageAttributes(attributes),
    traceHeader,
    systemAttributesMd5: traceHeader === undefined ? undefined : md5OfMessageAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: traceHeader } }),
    delaySeconds: input.DelaySeconds ?? settings.delaySeconds,
    groupId,
    deduplicationId: settings.fifo ? deduplicationId : undefined,
    size,
  };
}

function checkAttributes(
  attributes: Readonly<Record<string, z.infer<typeof MessageAttributeInput>>> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(attributes ?? {});
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalidParameterValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  }
  const checked: Record<string, MessageAttributeValue> = {};
  for (const [name, attribute] of entries) {
    if (!ATTRIBUTE_NAME.test(name) || /^(aws\.|amazon\.)/i.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      throw invalidParameterValue(`Message (user) attribute name '${name}' is invalid.`);
    }
    const type = attribute.DataType;
    if (!DATA_TYPE.test(type) || type.length > 256) {
      throw invalidParameterValue(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    if ((attribute.StringListValues?.length ?? 0) > 0 || (attribute.BinaryListValues?.length ?? 0) > 0) {
      throw invalidParameterValue(`Message (user) attribute '${name}': StringListValues and BinaryListValues are not supported.`);
    }
    if (type.startsWith('Binary')) {
      if (attribute.BinaryValue === undefined || attribute.BinaryValue === '') {
        throw invalidParameterValue(`Message (user) attribute '${name}' must contain a non-empty value of type 'Binary'.`);
      }
      checked[name] = { DataType: type, BinaryValue: attribute.BinaryValue };
      continue;
    }
    const value = attribute.StringValue;
    const kind = type.startsWith('Number') ? 'Number' : 'String';
    if (value === undefined || value === '') {
      throw invalidParameterValue(`Message (user) attribute '${name}' must contain a non-empty value of type '${kind}'.`);
    }
    if (INVALID_CHARACTER.test(value)) throw invalidMessageContents();
    if (kind === 'Number' && !isSqsNumber(value)) {
      throw invalidParameterValue(`Can't parse the value of message (user) attribute '${name}' to be a number.`);
    }
    checked[name] = { DataType: type, StringValue: value };
  }
  return checked;
}

/** The AWSTraceHeader of MessageSystemAttributes, the only system attribute a sender may set. */
function checkSystemAttributes(attributes: Readonly<Record<string, z.infer<typeof MessageAttributeInput>>> | undefined): string | undefined {
  let traceHeader: string | undefined;
  for (const [name, attribute] of Object.entries(attributes ?? {})) {
    if (name !== 'AWSTraceHeader') throw invalidParameterValue(`Message system attribute name '${name}' is invalid.`);
    if (attribute.DataType !== 'String' || attribute.StringValue === undefined || attribute.StringValue === '') {
      throw invalidParameterValue("Message system attribute 'AWSTraceHeader' must contain a non-empty value of type 'String'.");
    }
    traceHeader = attribute.StringValue;
  }
  return traceHeader;
}

function isSqsNumber(value: string): boolean {
  const match = NUMBER.exec(value.trim());
  if (match === null) return false;
  const digits = (match[1] ?? '').replace('.', '').replace(/^0+/, '');
  if (digits.length > 38) return false;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= -1e128 && parsed <= 1e126;
}
