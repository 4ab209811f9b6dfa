/**
 * Business Central-shaped HTTP answers: OData JSON (`application/json;
 * odata.metadata=minimal`, `OData-Version: 4.0`) and BC's error body
 * `{"error":{"code":…,"message":"…  CorrelationId:  <guid>."}}` with the codes of
 * Microsoft Learn's "Error codes" table.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A status, headers and body not yet sent; `body` undefined sends none (204). */
export interface SandboxAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A BC error answer; BC appends the request's correlation id to every message. */
export function bcError(status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}): SandboxAnswer {
  return { status, headers, body: { error: { code, message: `${message}  CorrelationId:  ${randomUUID()}.` } } };
}

/** 404 for an id the entity set does not have. */
export function entityNotFound(): SandboxAnswer {
  return bcError(404, 'BadRequest_NotFound', 'The specified resource does not exist.');
}

/** 404 for a path BC has no route for (wrong tenant, environment, company or entity set). */
export function noRoute(url: string): SandboxAnswer {
  return bcError(404, 'BadRequest_NotFound', `No HTTP resource was found that matches the request URI '${url}'.`);
}

/** 400 for an AL `Error(…)` raised while validating the request (Application_DialogException). */
export function dialogError(message: string): SandboxAnswer {
  return bcError(400, 'Application_DialogException', message);
}

/** 401 for a missing, expired or foreign access token. */
export function unauthorized(tenantId: string, description: string): SandboxAnswer {
  return bcError(401, 'Authentication_InvalidCredentials', 'The server has rejected the client credentials.', {
    'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${tenantId}/oauth2/authorize", error="invalid_token", error_description="${description}"`,
  });
}

/** 429 as BC throttles, with Retry-After. */
export function tooManyRequests(retryAfterSeconds: number): SandboxAnswer {
  return bcError(429, 'Application_TooManyRequests', 'Too many requests reached.', { 'retry-after': String(retryAfterSeconds) });
}

/** 500 as an injected fault. */
export function internalError(): SandboxAnswer {
  return bcError(500, 'Internal_ServerError', 'An unexpected error occurred (injected by the sandbox).');
}

/** Writes an answer as BC's OData endpoint would. */
export function send(response: ServerResponse, answer: SandboxAnswer): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string> = { 'odata-version': '4.0', ...answer.headers };
  if (answer.body === undefined) {
    response.writeHead(answer.status, headers).end();
    return;
  }
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  response
    .writeHead(answer.status, { 'content-type': 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8', ...headers })
    .end(text);
}
