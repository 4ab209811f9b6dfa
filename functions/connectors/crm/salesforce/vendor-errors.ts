/**
 * Salesforce's failures in Harmony's error families. The REST API answers an error with a
 * JSON array of `{message, errorCode, fields?}` ("Status Codes and Error Responses", REST API
 * Developer Guide); the OAuth token endpoint with `{error, error_description}`.
 *
 * - 401 `INVALID_SESSION_ID`: the access token expired or was revoked — the client fetches a
 *   new one once ({@link SessionRefused}); refused again, it is a PermanentError about auth.
 * - 403 `REQUEST_LIMIT_EXCEEDED` (the org's API request limit, or its concurrent long-running
 *   request limit) and 429: retryable, with Retry-After when Salesforce sends it.
 * - 404 `NOT_FOUND`, 400 (`INVALID_FIELD`, `MALFORMED_QUERY`, `STRING_TOO_LONG`…), other 403s:
 *   permanent, with Salesforce's code and message.
 * - 5xx (`SERVER_UNAVAILABLE`…): retryable (classified by VendorHttp).
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import { retryAfterSeconds } from '../../../core/vendor-http.ts';

/** The system name errors carry. */
export const SYSTEM = 'salesforce';

/** One entry of a REST API error body. */
const RestError = z.looseObject({
  message: z.string(),
  errorCode: z.string(),
  fields: z.array(z.string()).optional(),
});
const RestErrorBody = z.array(RestError).min(1);
type RestError = z.infer<typeof RestError>;

/** The token endpoint's error body (RFC 6749 §5.2, as Salesforce sends it). */
export const OAuthErrorBody = z.looseObject({
  error: z.string().min(1),
  error_description: z.string().optional(),
});

/** The access token was refused (401 `INVALID_SESSION_ID`): a new token may succeed. */
export class SessionRefused extends Error {
  readonly detail: string;
  constructor(detail: string) {
    super(`Salesforce refused the access token (${detail})`);
    this.detail = detail;
  }
}

/** Salesforce's REST errors in a body, or undefined when it is not the documented shape. */
export function restErrors(text: string): RestError[] | undefined {
  try {
    const parsed = RestErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `ERROR_CODE: message (fields: A, B)` for each error, or the body's start when it is not Salesforce's shape. */
export function describeSalesforceFailure(_status: number, text: string): string {
  const errors = restErrors(text);
  if (errors === undefined) {
    try {
      const oauth = OAuthErrorBody.safeParse(JSON.parse(text));
      if (oauth.success) return `${oauth.data.error}${oauth.data.error_description === undefined ? '' : `: ${oauth.data.error_description}`}`;
    } catch {
      // Not JSON: fall through to the raw text.
    }
    return text.slice(0, 300);
  }
  return errors
    .map((error) => `${error.errorCode}: ${error.message}${error.fields === undefined || error.fields.length === 0 ? '' : ` (fields: ${error.fields.join(', ')})`}`)
    .join('; ')
    .slice(0, 1000);
}

/**
 * The error for a 3xx/4xx REST answer other than 408/425/429 (those, and 5xx, VendorHttp
 * classifies): SessionRefused for an expired session, RetryableError for the request limit,
 * PermanentError for everything else.
 */
export function classifyRestFailure(
  operation: string,
  status: number,
  text: string,
  headers: Headers,
): SessionRefused | RetryableError | PermanentError {
  const errors = restErrors(text) ?? [];
  const codes = new Set(errors.map((error) => error.errorCode));
  const detail = describeSalesforceFailure(status, text);
  const message = `${SYSTEM} ${operation}: HTTP ${status}${detail === '' ? '' : ` — ${detail}`}`;
  if (status === 401) {
    if (codes.has('INVALID_SESSION_ID') || codes.size === 0) return new SessionRefused(detail || 'HTTP 401');
    return new PermanentError(`${message}; Salesforce refused the session (check the connected app's OAuth policies)`, { system: SYSTEM, code: 'auth' });
  }
  if (status === 403 && codes.has('REQUEST_LIMIT_EXCEEDED')) {
    const wait = retryAfterSeconds(headers.get('retry-after'));
    return new RetryableError(message, { system: SYSTEM, code: 'REQUEST_LIMIT_EXCEEDED', ...(wait === undefined ? {} : { retryAfterSeconds: wait }) });
  }
  return new PermanentError(message, { system: SYSTEM, code: errors[0]?.errorCode ?? String(status) });
}
