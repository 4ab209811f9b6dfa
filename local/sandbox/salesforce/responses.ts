/**
 * Salesforce-shaped HTTP answers: REST errors as a JSON array of `{message, errorCode,
 * fields?}` ("Status Codes and Error Responses", REST API Developer Guide), OAuth errors as
 * `{error, error_description}`, JSON with `application/json;charset=UTF-8`, and the
 * `Sforce-Limit-Info` header Salesforce adds to REST answers.
 */
import type { ServerResponse } from 'node:http';

/** A status plus JSON body, not yet sent. */
export interface SandboxAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A REST failure a handler throws; the server answers it as Salesforce would. */
export class SalesforceApiError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly fields: readonly string[] | undefined;
  constructor(status: number, errorCode: string, message: string, fields?: readonly string[]) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
    this.fields = fields;
  }

  /** The answer: `[{message, errorCode, fields?}]`. */
  answer(): SandboxAnswer {
    return restError(this.status, this.errorCode, this.message, this.fields);
  }
}

/** A REST error answer. */
export function restError(status: number, errorCode: string, message: string, fields?: readonly string[]): SandboxAnswer {
  return { status, body: [{ message, errorCode, ...(fields === undefined ? {} : { fields }) }] };
}

/** 401 for a missing, unknown or expired access token. */
export function invalidSession(): SandboxAnswer {
  return restError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
}

/** 404 for a record id the org does not have. */
export function notFound(): SandboxAnswer {
  return restError(404, 'NOT_FOUND', 'The requested resource does not exist');
}

/** An OAuth 2.0 error answer of the token endpoint. */
export function oauthError(status: number, error: string, description: string): SandboxAnswer {
  return { status, body: { error, error_description: description } };
}

/** 429 with Retry-After (an injected fault). */
export function tooManyRequests(retryAfterSeconds: number): SandboxAnswer {
  return { status: 429, headers: { 'retry-after': String(retryAfterSeconds) }, body: [{ message: 'Too many requests (injected by the sandbox)', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] };
}

/** 500 (an injected fault). */
export function serverError(): SandboxAnswer {
  return restError(500, 'UNKNOWN_EXCEPTION', 'An unexpected error occurred (injected by the sandbox). Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)');
}

/** Writes an answer as JSON. */
export function send(response: ServerResponse, answer: SandboxAnswer, extraHeaders: Readonly<Record<string, string>> = {}): void {
  if (response.headersSent || response.destroyed) return;
  const text = answer.status === 204 || answer.body === undefined ? '' : JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...extraHeaders,
    ...answer.headers,
  });
  response.end(text);
}
