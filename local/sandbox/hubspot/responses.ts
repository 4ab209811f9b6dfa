/**
 * HubSpot-shaped HTTP answers: JSON bodies with `correlationId`, and the error body
 * `{status: "error", message, correlationId, category}` HubSpot's APIs return.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A status plus JSON body, not yet sent. */
export interface SandboxResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An error answer in HubSpot's shape. */
export function hubspotError(
  status: number,
  category: string,
  message: string,
  extra: Readonly<Record<string, unknown>> = {},
): SandboxResponse {
  return { status, body: { status: 'error', message, correlationId: randomUUID(), category, ...extra } };
}

/** 401 as HubSpot sends it for a missing, wrong or expired token. */
export function unauthorized(): SandboxResponse {
  return hubspotError(
    401,
    'INVALID_AUTHENTICATION',
    'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
  );
}

/** 404 for an unknown record id. */
export function objectNotFound(id: string): SandboxResponse {
  return hubspotError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
    context: { id: [id] },
  });
}

/** 429 of the ten-second rolling limit, with Retry-After. */
export function rateLimited(retryAfterSeconds: number): SandboxResponse {
  return {
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body: {
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName: 'TEN_SECONDLY_ROLLING',
      category: 'RATE_LIMITS',
    },
  };
}

/** 500 as an injected fault. */
export function internalError(): SandboxResponse {
  return hubspotError(500, 'INTERNAL_ERROR', 'internal error (injected by the sandbox)');
}

/** One invalid property of a write, in HubSpot's `Property values were not valid` list. */
export interface PropertyProblem {
  readonly name: string;
  readonly error: string;
  readonly message: string;
}

/** 400 for a write with invalid property values. */
export function invalidProperties(problems: readonly PropertyProblem[], portalId: number): SandboxResponse {
  const details = problems.map((problem) => ({
    isValid: false,
    message: problem.message,
    error: problem.error,
    name: problem.name,
    localizedErrorMessage: problem.message,
    portalId,
  }));
  return hubspotError(400, 'VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(details)}`, {
    errors: problems.map((problem) => ({
      message: problem.message,
      code: problem.error,
      context: { propertyName: [problem.name] },
    })),
  });
}

/** Writes a response with HubSpot's JSON content type. */
export function send(response: ServerResponse, answer: SandboxResponse): void {
  if (response.headersSent || response.destroyed) return;
  const text = answer.status === 204 ? '' : JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-hubspot-correlation-id': randomUUID(),
    ...answer.headers,
  });
  response.end(text);
}
