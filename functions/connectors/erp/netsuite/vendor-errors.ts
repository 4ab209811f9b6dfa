/**
 * NetSuite's error bodies and how they sort into Harmony's error families. REST web
 * services answer errors as `{type, title, status, "o:errorDetails": [{detail,
 * "o:errorCode", "o:errorPath"?}]}` ("Error Handling in REST Web Services"); the token
 * endpoint answers OAuth 2.0 errors (`{error, error_description?}`, RFC 6749 §5.2).
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import { retryAfterSeconds } from '../../../core/vendor-http.ts';

/** The system name every NetSuite error carries. */
export const SYSTEM = 'netsuite';

/** A REST web services error body. */
export const NetsuiteErrorBody = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number().optional(),
  'o:errorDetails': z
    .array(
      z.looseObject({
        detail: z.string().optional(),
        'o:errorCode': z.string().optional(),
        'o:errorPath': z.string().optional(),
      }),
    )
    .optional(),
});
export type NetsuiteErrorBody = z.infer<typeof NetsuiteErrorBody>;

/** An OAuth 2.0 token endpoint error body. */
const OAuthErrorBody = z.looseObject({ error: z.string(), error_description: z.string().optional() });

/**
 * Error codes that mean "too many requests at once, try later": the account's concurrency
 * governance (`SSS_REQUEST_LIMIT_EXCEEDED` for RESTlets and REST, `WS_CONCUR_SESSION_DISALLOWED`
 * for SOAP-era sessions) and the REST concurrency limit.
 */
const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'SSS_REQUEST_LIMIT_EXCEEDED',
  'CONCURRENCY_LIMIT_EXCEEDED',
  'WS_CONCUR_SESSION_DISALLOWED',
]);

/** The body as a NetSuite error, or undefined when it is something else (an HTML page from a proxy…). */
export function parseNetsuiteError(text: string): NetsuiteErrorBody | undefined {
  try {
    const parsed = NetsuiteErrorBody.safeParse(JSON.parse(text));
    return parsed.success && parsed.data['o:errorDetails'] !== undefined ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The first `o:errorCode` of an error body, if any. */
export function netsuiteErrorCode(body: NetsuiteErrorBody | undefined): string | undefined {
  return body?.['o:errorDetails']?.find((detail) => detail['o:errorCode'] !== undefined)?.['o:errorCode'];
}

/**
 * One line for a failure: the details with their codes and paths (`Invalid Field Value 9999
 * for the following field: item (INVALID_CONTENT at item.items[0].item)`), else the OAuth
 * error, else the start of the body. Used as VendorHttp's `describeFailure`.
 */
export function describeNetsuiteFailure(_status: number, text: string): string {
  const body = parseNetsuiteError(text);
  if (body !== undefined) {
    const details = (body['o:errorDetails'] ?? []).map((detail) => {
      const where = [detail['o:errorCode'], detail['o:errorPath'] === undefined ? undefined : `at ${detail['o:errorPath']}`]
        .filter((part) => part !== undefined)
        .join(' ');
      return `${detail.detail ?? body.title ?? 'error'}${where === '' ? '' : ` (${where})`}`;
    });
    return details.length > 0 ? details.join('; ') : (body.title ?? '');
  }
  try {
    const oauth = OAuthErrorBody.safeParse(JSON.parse(text));
    if (oauth.success) return `${oauth.data.error}${oauth.data.error_description === undefined ? '' : `: ${oauth.data.error_description}`}`;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.slice(0, 300);
}

/**
 * The error for a 4xx answer NetSuite gives in its own shape. Concurrency and request-limit
 * codes are retryable whatever the status (NetSuite has answered them as 400 as well as
 * 429), carrying Retry-After when sent; everything else is permanent with the vendor's
 * detail, its first `o:errorCode` as `code` (`not-found` for 404).
 */
export function errorForNetsuiteAnswer(
  operation: string,
  status: number,
  text: string,
  headers: Headers,
): RetryableError | PermanentError {
  const body = parseNetsuiteError(text);
  const code = netsuiteErrorCode(body);
  const message = `${SYSTEM} ${operation}: HTTP ${status} — ${describeNetsuiteFailure(status, text)}`;
  if (status === 429 || status >= 500 || (code !== undefined && THROTTLING_CODES.has(code))) {
    const wait = retryAfterSeconds(headers.get('retry-after'));
    return new RetryableError(message, { system: SYSTEM, code: code ?? String(status), ...(wait === undefined ? {} : { retryAfterSeconds: wait }) });
  }
  return new PermanentError(message, { system: SYSTEM, code: status === 404 ? 'not-found' : (code ?? String(status)) });
}
