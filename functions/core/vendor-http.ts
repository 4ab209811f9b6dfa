/**
 * The one HTTP path every vendor adapter's client uses: the shared rate budget, a
 * timeout on every call, Retry-After honoured (and shared through the budget), and
 * every failure classified — timeouts, network errors, 408/425/429/5xx retryable;
 * other 4xx permanent; a body that is not what the vendor documents permanent, with
 * the operation and what was wrong in the message. Auth stays in the adapter's client.
 */
import * as z from 'zod';
import { PermanentError, RetryableError, errorForHttpStatus } from './errors.ts';
import type { RateLimiter } from './rate-limit.ts';

/** One request to a vendor. */
export interface VendorRequest {
  /** What the call does, for messages and the audit, e.g. `POST salesOrder`. */
  readonly operation: string;
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Statuses returned to the caller instead of thrown, e.g. `[404]` for a lookup. */
  readonly passStatuses?: readonly number[];
}

/** The vendor's answer to a call that succeeded (2xx or a passed status). */
export interface VendorResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Options of {@link VendorHttp}. */
export interface VendorHttpOptions {
  /** The system name errors carry, e.g. `netsuite`. */
  readonly system: string;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** The budget's key, e.g. `netsuite:1234567` (one per vendor account). @default system */
  readonly rateLimitTarget?: string;
  /** Turns an error body into the vendor's message, e.g. NetSuite's `o:errorDetails[0].detail`. @default the body's first 300 characters */
  readonly describeFailure?: (status: number, text: string) => string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date), undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The first of `codes` found on the error or its causes (a few levels deep, where undici and SDKs wrap them). */
export function errorCodeIn(error: unknown, codes: ReadonlySet<string>): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** An HTTP client for one vendor account. */
export class VendorHttp {
  readonly system: string;
  private readonly options: VendorHttpOptions;
  private readonly fetchImpl: typeof fetch;

  constructor(options: VendorHttpOptions) {
    this.system = options.system;
    this.options = options;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** Sends the request; throws RetryableError or PermanentError for anything but 2xx and passed statuses. */
  async request(request: VendorRequest): Promise<VendorResponse> {
    const { system, timeoutMs, rateLimiter } = this.options;
    const target = this.options.rateLimitTarget ?? system;
    await rateLimiter?.acquire(target, { maxWaitMs: timeoutMs });
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(request.url, {
        method: request.method,
        ...(request.headers === undefined ? {} : { headers: request.headers }),
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new RetryableError(`${system} ${request.operation}: no answer within ${timeoutMs} ms`, { system, code: 'timeout', cause: error });
      }
      const code = errorCodeIn(error, NETWORK_CODES);
      if (code !== undefined || error instanceof TypeError) {
        throw new RetryableError(`${system} ${request.operation}: ${code ?? (error as Error).message}`, { system, code: code ?? 'network', cause: error });
      }
      throw error;
    }
    if ((response.status >= 200 && response.status < 300) || request.passStatuses?.includes(response.status)) {
      return { status: response.status, headers: response.headers, text };
    }
    const wait = retryAfterSeconds(response.headers.get('retry-after'));
    if (wait !== undefined && (response.status === 429 || response.status === 503)) await rateLimiter?.backOff(target, wait);
    const detail = this.options.describeFailure?.(response.status, text) ?? text.slice(0, 300);
    throw errorForHttpStatus(response.status, `${system} ${request.operation}: HTTP ${response.status}${detail === '' ? '' : ` — ${detail}`}`, {
      system,
      ...(wait === undefined ? {} : { retryAfterSeconds: wait }),
    });
  }

  /** Sends the request and validates its JSON body; a body that is not the documented shape is a PermanentError naming the path. */
  async json<Schema extends z.ZodType>(request: VendorRequest, schema: Schema): Promise<z.infer<Schema>> {
    const response = await this.request(request);
    return parseVendorJson(this.system, request.operation, response.text, schema);
  }
}

/** Parses and validates a vendor's JSON answer; PermanentError `malformed-response` naming what and where. */
export function parseVendorJson<Schema extends z.ZodType>(system: string, operation: string, text: string, schema: Schema): z.infer<Schema> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PermanentError(`${system} ${operation}: the answer is not JSON (${JSON.stringify(text.slice(0, 80))})`, { system, code: 'malformed-response' });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    throw new PermanentError(`${system} ${operation}: unexpected answer — ${path}: ${issue.message}`, { system, code: 'malformed-response' });
  }
  return parsed.data;
}
