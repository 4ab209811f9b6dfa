/**
 * NetSuite-shaped HTTP answers: records and collections as `application/vnd.oracle.resource+json`,
 * and errors as `{type, title, status, "o:errorDetails": [{detail, "o:errorCode", "o:errorPath"?}]}`
 * with the `type` links the REST web services guide shows.
 */
import type { ServerResponse } from 'node:http';

/** A status, headers and body, not yet sent. */
export interface SandboxAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body; undefined sends none (204). */
  readonly body?: unknown;
}

const TITLES: Readonly<Record<number, readonly [string, string]>> = {
  400: ['Bad Request', 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1'],
  401: ['Unauthorized', 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html'],
  404: ['Not Found', 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5'],
  405: ['Method Not Allowed', 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6'],
  413: ['Request Entity Too Large', 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.14'],
  429: ['Too Many Requests', 'https://tools.ietf.org/html/rfc6585#section-4'],
  500: ['Internal Server Error', 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1'],
};

/** An error answer in NetSuite's shape. */
export function netsuiteError(status: number, code: string, detail: string, options: { path?: string; headers?: Record<string, string> } = {}): SandboxAnswer {
  const [title, type] = TITLES[status] ?? ['Error', 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html'];
  return {
    status,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    body: { type, title, status, 'o:errorDetails': [{ detail, 'o:errorCode': code, ...(options.path === undefined ? {} : { 'o:errorPath': options.path }) }] },
  };
}

/** 401 for a missing, wrong or expired token or signature (the body NetSuite documents). */
export function invalidLogin(): SandboxAnswer {
  return netsuiteError(
    401,
    'INVALID_LOGIN',
    'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.',
  );
}

/** 404 for an internal or external id the account does not have. */
export function nonexistentId(): SandboxAnswer {
  return netsuiteError(404, 'NONEXISTENT_ID', 'The record instance does not exist. Provide a valid record instance ID.');
}

/** 400 for a value NetSuite refuses, with the JSON path of the value (as the guide's `item.items[0].item` example). */
export function invalidContent(detail: string, path?: string): SandboxAnswer {
  return netsuiteError(400, 'INVALID_CONTENT', `Error while accessing resource: ${detail}`, path === undefined ? {} : { path });
}

/** Writes an answer; errors get `type=error`, everything else `type=singular` or the given content type. */
export function send(response: ServerResponse, answer: SandboxAnswer): void {
  if (response.headersSent || response.destroyed) return;
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  const kind = answer.status >= 400 ? 'error' : 'singular';
  response.writeHead(answer.status, {
    ...(text === '' ? {} : { 'content-type': `application/vnd.oracle.resource+json; type=${kind}; charset=utf-8` }),
    'content-length': Buffer.byteLength(text),
    ...answer.headers,
  });
  response.end(text);
}
