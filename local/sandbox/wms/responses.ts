/**
 * ShipBob-shaped HTTP answers: JSON bodies (`application/json; charset=utf-8`), the
 * validation dictionaries of the Orders API (`{"field":["message"]}`), RFC 7807 problem
 * details of the Inventory API, the Returns API's `{message, errors}`, the throttling body
 * and `x-retry-after`/`x-remaining-calls` headers of ShipBob's rate-limit documentation,
 * and a bare 401 with `WWW-Authenticate: Bearer`.
 */
import type { ServerResponse } from 'node:http';
import type * as z from 'zod';

/** A status, headers and body not yet sent; `body` undefined sends none. */
export interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** 200 with a JSON body. */
export function ok(body: unknown, status = 200): Answer {
  return { status, body };
}

/** The Orders API's validation answer: `{"recipient.address.city":["Required"]}`. */
export function fieldErrors(status: 400 | 422, errors: Readonly<Record<string, readonly string[]>>): Answer {
  return { status, body: errors };
}

/** zod issues as a field dictionary, keyed by the JSON path ShipBob names. */
export function issuesAsFields(issues: readonly z.core.$ZodIssue[]): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}

/** An RFC 7807 problem (Inventory and Returns APIs). */
export function problem(status: number, title: string, detail?: string): Answer {
  return { status, body: { type: `https://tools.ietf.org/html/rfc9110#section-15.5.${status === 404 ? 5 : 1}`, title, status, ...(detail === undefined ? {} : { detail }) } };
}

/** ASP.NET's validation problem (Inventory and Returns APIs): a problem with an `errors` dictionary. */
export function validationProblem(issues: readonly z.core.$ZodIssue[]): Answer {
  return { status: 400, body: { ...(problem(400, 'One or more validation errors occurred.').body as object), errors: issuesAsFields(issues) } };
}

/** The Returns API's business rejection. */
export function apiError(message: string, errors: readonly string[] = []): Answer {
  return { status: 422, body: { message, errors, details: null, stackTrace: null } };
}

/** 401 for a missing, unknown or expired bearer token. */
export function unauthorized(description: string): Answer {
  return { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` } };
}

/** 429 as ShipBob throttles. */
export function throttled(retryAfterSeconds: number): Answer {
  return {
    status: 429,
    headers: { 'x-retry-after': String(retryAfterSeconds), 'x-remaining-calls': '0' },
    body: { statusCode: 429, message: `Rate limit is exceeded. Try again in ${retryAfterSeconds} seconds.` },
  };
}

/** Writes an answer. */
export function send(response: ServerResponse, answer: Answer): void {
  if (response.headersSent || response.destroyed) return;
  if (answer.body === undefined) {
    response.writeHead(answer.status, { ...answer.headers }).end();
    return;
  }
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers }).end(text);
}
