/**
 * Harmony's two error families. Step Functions retries only `RetryableError`
 * (by its `name`, which Lambda reports as the error type); the saga compensates
 * on `PermanentError` and on anything unclassified.
 */

/** Details a caller can attach to an error for the audit log and the CRM. */
export interface ErrorDetails {
  /** Which outside system said no, e.g. `odoo`, `hubspot`. */
  readonly system?: string;
  /** Vendor status or fault code, e.g. `429`, `odoo.exceptions.UserError`. */
  readonly code?: string;
  /** Seconds the vendor asked us to wait (Retry-After). */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

/** A failure that may succeed if tried again: timeouts, 429, 5xx, throttling, a lock held by another run. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly system: string | undefined;
  readonly code: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.system = details.system;
    this.code = details.code;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** A failure that will fail the same way every time: bad input, a business rejection, a 4xx other than 408/429. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly system: string | undefined;
  readonly code: string | undefined;
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.system = details.system;
    this.code = details.code;
  }
}

/** True for errors the saga should retry rather than compensate. */
export function isRetryable(error: unknown): boolean {
  return error instanceof RetryableError;
}

/**
 * Classifies an HTTP status from a vendor into an error family.
 * 408, 425, 429 and 5xx are retryable; every other non-2xx status is permanent.
 */
export function errorForHttpStatus(
  status: number,
  message: string,
  details: ErrorDetails = {},
): RetryableError | PermanentError {
  const code = details.code ?? String(status);
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    return new RetryableError(message, { ...details, code });
  }
  return new PermanentError(message, { ...details, code });
}

/** One-line description of any thrown value, for audit records and CRM notes. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

const RETRYABLE_AWS_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalServerError',
  'InternalFailure',
  'TransactionConflictException',
  'TimeoutError',
]);

/**
 * Puts an error into a family: Harmony's own errors stay as they are; AWS SDK
 * errors that the SDK marks retryable (throttling, 5xx) and network failures
 * become RetryableError; anything else stays as it is and so compensates.
 */
export function classifyError(error: unknown): unknown {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  if (!(error instanceof Error)) return error;
  const aws = error as Error & { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = aws.$metadata?.httpStatusCode;
  const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
  if (
    aws.$retryable !== undefined ||
    RETRYABLE_AWS_ERRORS.has(error.name) ||
    (status !== undefined && status >= 500) ||
    (aws.code !== undefined && networkCodes.has(aws.code))
  ) {
    return new RetryableError(`${error.name}: ${error.message}`, { cause: error, system: 'aws' });
  }
  return error;
}
