/**
 * SQS's errors as its JSON protocol returns them: the error type (`QueueDoesNotExist`),
 * the HTTP status, and the query-protocol code SQS sends beside it in
 * `x-amzn-query-error: <code>;<Sender|Receiver>` (`AWS.SimpleQueueService.NonExistentQueue`),
 * which SDK v3 reads for SQS (awsQueryCompatible) and the endpoint's query-protocol
 * translation turns into the XML `<Code>`. Types, statuses and query codes are those of
 * the SQS service model (the `awsQueryError` traits in @aws-sdk/client-sqs).
 */
import { AwsServiceError } from '../endpoint/aws-service.ts';

/** An SQS error: an AwsServiceError that also knows its query-protocol code and fault. */
export class SqsError extends AwsServiceError {
  /** The code of the query protocol, e.g. `AWS.SimpleQueueService.NonExistentQueue`. */
  readonly queryCode: string;
  /** `Sender` for a fault of the request, `Receiver` for a fault of the service. */
  readonly fault: 'Sender' | 'Receiver';

  constructor(type: string, message: string, options: { statusCode?: number; queryCode?: string; fault?: 'Sender' | 'Receiver' } = {}) {
    super(type, message, options.statusCode ?? 400);
    this.queryCode = options.queryCode ?? type;
    this.fault = options.fault ?? 'Sender';
  }

  /** The value of the `x-amzn-query-error` header SQS sends with this error. */
  get queryErrorHeader(): string {
    return `${this.queryCode};${this.fault}`;
  }
}

const SQS_PREFIX = 'AWS.SimpleQueueService.';

/** `QueueDoesNotExist`: no queue at that URL or of that name. */
export function queueDoesNotExist(): SqsError {
  return new SqsError('QueueDoesNotExist', 'The specified queue does not exist.', { queryCode: `${SQS_PREFIX}NonExistentQueue` });
}

/** `InvalidParameterValue`, with SQS's wording for a bad value of a named parameter. */
export function invalidParameterValue(message: string): SqsError {
  return new SqsError('InvalidParameterValue', message);
}

/** `InvalidParameterValue` for `value` of `parameter`, saying why. */
export function invalidValueOf(parameter: string, value: unknown, reason: string): SqsError {
  return invalidParameterValue(`Value ${String(value)} for parameter ${parameter} is invalid. Reason: ${reason}`);
}

/** `MissingParameter`: a required member is absent or empty. */
export function missingParameter(parameter: string): SqsError {
  return new SqsError('MissingParameter', `The request must contain the parameter ${parameter}.`);
}

/** `InvalidAttributeName`: a queue attribute SQS does not know (or that cannot be set). */
export function invalidAttributeName(name: string): SqsError {
  return new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
}

/** `InvalidAttributeValue`: a queue attribute out of its range or not of its form. */
export function invalidAttributeValue(name: string, reason: string): SqsError {
  return new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: ${reason}`);
}

/** `ReceiptHandleIsInvalid`: the handle is not one this queue gave out. */
export function receiptHandleIsInvalid(handle: string): SqsError {
  return new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, { statusCode: 404 });
}

/** `MessageNotInflight`: the message's visibility timeout has already run out. */
export function messageNotInflight(): SqsError {
  return new SqsError('MessageNotInflight', 'The specified message isn\'t in flight.', { queryCode: `${SQS_PREFIX}MessageNotInflight` });
}

/** `InvalidMessageContents`: characters SQS does not accept in a message. */
export function invalidMessageContents(): SqsError {
  return new SqsError(
    'InvalidMessageContents',
    'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
  );
}

/** The batch-request errors, with SQS's messages. */
export const batchErrors = {
  empty: () => new SqsError('EmptyBatchRequest', 'There should be at least one entry in the request.', { queryCode: `${SQS_PREFIX}EmptyBatchRequest` }),
  tooMany: (count: number) =>
    new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${count}.`, {
      queryCode: `${SQS_PREFIX}TooManyEntriesInBatchRequest`,
    }),
  idsNotDistinct: (id: string) =>
    new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`, { queryCode: `${SQS_PREFIX}BatchEntryIdsNotDistinct` }),
  invalidId: () =>
    new SqsError(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      { queryCode: `${SQS_PREFIX}InvalidBatchEntryId` },
    ),
  tooLong: (limit: number) =>
    new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${limit} bytes.`, { queryCode: `${SQS_PREFIX}BatchRequestTooLong` }),
} as const;

/** `QueueNameExists` (query code `QueueAlreadyExists`): CreateQueue with other attribute values. */
export function queueNameExists(attribute: string): SqsError {
  return new SqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${attribute}`, {
    queryCode: 'QueueAlreadyExists',
  });
}

/** `QueueDeletedRecently`: a queue of this name was deleted less than 60 seconds ago. */
export function queueDeletedRecently(): SqsError {
  return new SqsError('QueueDeletedRecently', 'You must wait 60 seconds after deleting a queue before you can create another with the same name.', {
    queryCode: `${SQS_PREFIX}QueueDeletedRecently`,
  });
}

/** `PurgeQueueInProgress`: the queue was purged less than 60 seconds ago. */
export function purgeQueueInProgress(queueName: string): SqsError {
  return new SqsError('PurgeQueueInProgress', `Only one PurgeQueue operation on ${queueName} is allowed every 60 seconds.`, {
    statusCode: 403,
    queryCode: `${SQS_PREFIX}PurgeQueueInProgress`,
  });
}

/** `ResourceNotFoundException`: the ARN or task handle names nothing (message move tasks). */
export function resourceNotFound(message: string): SqsError {
  return new SqsError('ResourceNotFoundException', message, { statusCode: 404 });
}

/** `UnsupportedOperation`: the operation cannot be done in the resource's present state. */
export function unsupportedOperation(message: string): SqsError {
  return new SqsError('UnsupportedOperation', message, { queryCode: `${SQS_PREFIX}UnsupportedOperation` });
}
