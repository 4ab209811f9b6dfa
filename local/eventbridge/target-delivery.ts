/**
 * Sends what a rule matched to its target, and says how a failure counts the way
 * EventBridge counts it: with one of the error codes its dead-letter messages carry
 * (`ERROR_CODE`), and whether it is retried. EventBridge retries transient failures
 * (the target unreachable, throttled, failing) and sends the rest straight to the
 * dead-letter queue: a target that does not exist, or refuses the request.
 */
import { SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';

/** A failed delivery, with EventBridge's error code for it. */
export class TargetDeliveryError extends Error {
  /** e.g. `CONNECTION_FAILURE`, `NO_RESOURCE`, `THROTTLING`. */
  readonly code: string;
  /** Whether EventBridge would try again. */
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TargetDeliveryError';
    this.code = code;
    this.retryable = retryable;
  }
}

/** One message to an SQS queue. */
export interface QueueMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly messageGroupId?: string;
  readonly deduplicationId?: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Options of the SQS sender. */
export interface SqsSenderOptions {
  /** The SQS API endpoint requests go to, whatever host a queue URL names. */
  readonly endpoint: string;
  readonly region: string;
  /** How long one SendMessage may take before it counts as a TIMEOUT. @default 10_000 */
  readonly requestTimeoutMs?: number;
}

/** Network failures that mean the target could not be reached. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/** Sends messages to SQS queues, one attempt per call (retrying is the caller's policy). */
export class SqsSender {
  readonly #client: SQSClient;

  constructor(options: SqsSenderOptions) {
    this.#client = new SQSClient({
      endpoint: options.endpoint,
      region: options.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, connectionTimeout: 5_000 },
    });
  }

  /** Sends one message; throws a TargetDeliveryError saying how the failure counts. */
  async send(message: QueueMessage): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(message.attributes ?? {})) {
      attributes[name] = { DataType: 'String', StringValue: value };
    }
    try {
      await this.#client.send(
        new SendMessageCommand({
          QueueUrl: message.queueUrl,
          MessageBody: message.body,
          MessageGroupId: message.messageGroupId,
          MessageDeduplicationId: message.deduplicationId,
          MessageAttributes: Object.keys(attributes).length === 0 ? undefined : attributes,
        }),
      );
    } catch (error) {
      throw classifySqsError(error);
    }
  }

  /** Releases the client's sockets. */
  destroy(): void {
    this.#client.destroy();
  }
}

/** How EventBridge counts a failed SendMessage. */
export function classifySqsError(error: unknown): TargetDeliveryError {
  if (error instanceof TargetDeliveryError) return error;
  const failure = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = failure.name ?? 'Error';
  const message = failure.message || name;
  const status = failure.$metadata?.httpStatusCode;
  const code = failure.code ?? (error as { cause?: { code?: string } }).cause?.code;
  const fail = (errorCode: string, retryable: boolean) => new TargetDeliveryError(errorCode, message, retryable, { cause: error });
  if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue') return fail('NO_RESOURCE', false);
  if (/AccessDenied|KmsAccessDenied|KmsDisabled|KmsNotFound|InvalidSecurity/.test(name)) return fail('NO_PERMISSIONS', false);
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || name === 'RequestTimeout') return fail('TIMEOUT', true);
  if (code !== undefined && CONNECTION_ERRORS.has(code)) return fail('CONNECTION_FAILURE', true);
  if (status === 429 || /Throttl|RequestThrottled|OverLimit/.test(name)) return fail('THROTTLING', true);
  if (status !== undefined && status >= 500) return fail('INTERNAL_ERROR', true);
  if (status !== undefined && status >= 400) {
    return fail(/InvalidParameter|InvalidMessageContents|MissingParameter|InvalidAttribute/.test(name) ? 'INVALID_PARAMETER' : 'SDK_CLIENT_ERROR', false);
  }
  // No HTTP answer at all: the service could not be reached.
  return fail(status === undefined ? 'CONNECTION_FAILURE' : 'UNKNOWN', true);
}
