/**
 * Pipedrive-shaped HTTP answers: the envelope `{success, data, additional_data}`, the error
 * body `{success: false, error, error_info, data: null, additional_data: null}` of the v2
 * OpenAPI document, the 401 body `{success: false, error: "unauthorized access", errorCode: 401}`
 * of the v1 document, and the rate limit headers every API answer carries.
 */
import type { ServerResponse } from 'node:http';

/** A status plus JSON body, not yet sent. */
export interface SandboxAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

/** The 2-second window and budget the sandbox reports (an Advanced plan's, per the rate limiting page). */
const RATE_LIMIT = 40;

/** `{success: true, data, additional_data}`. */
export function ok(data: unknown, additionalData: unknown = null, status = 200): SandboxAnswer {
  return { status, body: { success: true, data, additional_data: additionalData } };
}

/** An error answer in Pipedrive's shape. */
export function pipedriveError(status: number, error: string): SandboxAnswer {
  return { status, body: { success: false, error, error_info: ERROR_INFO, data: null, additional_data: null } };
}

/** 404 for an id the company does not have, as the v2 document's 404 example words it. */
export function notFound(): SandboxAnswer {
  return pipedriveError(404, 'Entity was not found');
}

/** 401 for a missing, wrong or expired token, as Pipedrive's API gateway answers. */
export function unauthorized(): SandboxAnswer {
  return { status: 401, body: { success: false, error: 'unauthorized access', errorCode: 401, error_info: 'Please check developers.pipedrive.com' } };
}

/** 429 with Retry-After and an empty window. */
export function rateLimited(retryAfterSeconds: number): SandboxAnswer {
  return {
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(retryAfterSeconds) },
    body: { success: false, error: 'Request over limit', errorCode: 429, error_info: ERROR_INFO, data: null, additional_data: null },
  };
}

/** 500 as an injected fault. */
export function internalError(): SandboxAnswer {
  return pipedriveError(500, 'An internal server error occurred (injected by the sandbox)');
}

/** Writes an answer with Pipedrive's JSON content type and rate limit headers. */
export function send(response: ServerResponse, answer: SandboxAnswer): void {
  if (response.headersSent || response.destroyed) return;
  const text = answer.status === 204 ? '' : JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-ratelimit-limit': String(RATE_LIMIT),
    'x-ratelimit-remaining': String(RATE_LIMIT - 1),
    'x-ratelimit-reset': '2',
    ...answer.headers,
  });
  response.end(text);
}
