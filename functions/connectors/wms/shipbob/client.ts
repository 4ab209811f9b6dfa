/**
 * Transport to the ShipBob Developer API (`{api}/2026-01/…`): the bearer token (a PAT, or
 * an OAuth access token fetched again once when ShipBob answers 401), the
 * `shipbob_channel_id` header, ShipBob's `x-retry-after` on 429 handed to the shared
 * VendorHttp path as Retry-After (so the wait is honoured and shared through the rate
 * budget), its error bodies in every failure message, and `next` links that must stay
 * inside the API. Nothing here knows about orders or stock.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { parseVendorJson, VendorHttp, type VendorRequest, type VendorResponse } from '../../../core/vendor-http.ts';
import { oauthRefreshToken, personalAccessToken, type OAuthClient, type ShipBobCredentials } from './credentials.ts';
import { SHIPBOB_SYSTEM } from './mapping.ts';
import type { StateStore } from './state-store.ts';

/** The API version the adapter speaks. */
export const SHIPBOB_API_VERSION = '2026-01';

/** How the client authenticates. */
export type ShipBobAuth =
  | { readonly kind: 'pat'; readonly token: string }
  | { readonly kind: 'oauth'; readonly client: OAuthClient; readonly store: StateStore };

/** Where and as whom to call. */
export interface ShipBobClientOptions {
  /** e.g. `https://api.shipbob.com` or `https://sandbox-api.shipbob.com` (checked by the connector). */
  readonly apiUrl: URL;
  /** The channel (`GET /channel`) with write scopes; sent as `shipbob_channel_id`. */
  readonly channelId: number;
  readonly auth: ShipBobAuth;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** One call: a path below the version (`order/123`), its query and JSON body. */
export interface ShipBobCall {
  readonly operation: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly passStatuses?: readonly number[];
}

const FieldErrors = z.record(z.string(), z.array(z.string()));
const ProblemDetails = z.object({ title: z.string().nullish(), detail: z.string().nullish(), errors: z.record(z.string(), z.array(z.string())).nullish() });
const ApiError = z.object({ message: z.string().nullish(), errors: z.array(z.string()).nullish() });
const Throttled = z.object({ statusCode: z.number(), message: z.string() });

/**
 * ShipBob's error bodies, read: validation dictionaries (`{"recipient.address.city":["…"]}`,
 * `{"":["Cannot insert order with existing ReferenceId"]}`), RFC 7807 problem details,
 * the Returns API's `{message, errors}` and the throttling `{statusCode, message}`.
 */
export function describeShipBobFailure(_status: number, text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.slice(0, 300);
  }
  const throttled = Throttled.safeParse(body);
  if (throttled.success) return throttled.data.message;
  const problem = ProblemDetails.safeParse(body);
  if (problem.success && (problem.data.title || problem.data.detail)) {
    const fields = Object.entries(problem.data.errors ?? {}).map(([field, messages]) => `${field}: ${messages.join(' ')}`);
    return [problem.data.title, problem.data.detail, ...fields].filter((part) => part).join(' — ').slice(0, 500);
  }
  const apiError = ApiError.safeParse(body);
  if (apiError.success && (apiError.data.message || (apiError.data.errors ?? []).length > 0)) {
    return [apiError.data.message, ...(apiError.data.errors ?? [])].filter((part) => part).join(' — ').slice(0, 500);
  }
  const fields = FieldErrors.safeParse(body);
  if (fields.success && Object.keys(fields.data).length > 0) {
    return Object.entries(fields.data)
      .map(([field, messages]) => (field === '' ? messages.join(' ') : `${field}: ${messages.join(' ')}`))
      .join('; ')
      .slice(0, 500);
  }
  return text.slice(0, 300);
}

/** ShipBob sends the wait of a 429 as `x-retry-after`; VendorHttp reads the standard header. */
function withStandardRetryAfter(fetchImpl: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    const wait = response.headers.get('x-retry-after');
    if (wait === null || response.headers.has('retry-after')) return response;
    const headers = new Headers(response.headers);
    headers.set('retry-after', wait);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** A ShipBob API client for one channel. */
export class ShipBobClient {
  readonly system = SHIPBOB_SYSTEM;
  readonly channelId: number;
  readonly #http: VendorHttp;
  readonly #credentials: ShipBobCredentials;
  readonly #base: URL;

  constructor(options: ShipBobClientOptions) {
    this.channelId = options.channelId;
    this.#base = new URL(`${options.apiUrl.href.replace(/\/+$/, '')}/${SHIPBOB_API_VERSION}/`);
    const fetchImpl = withStandardRetryAfter(options.fetch ?? globalThis.fetch);
    this.#http = new VendorHttp({
      system: SHIPBOB_SYSTEM,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: `${SHIPBOB_SYSTEM}:${options.apiUrl.host}:${options.channelId}`,
      describeFailure: describeShipBobFailure,
      fetch: fetchImpl,
    });
    if (options.auth.kind === 'pat') {
      this.#credentials = personalAccessToken(options.auth.token);
    } else {
      // The token endpoint is not the API: its calls stay out of the API's request budget.
      const authHttp = new VendorHttp({ system: SHIPBOB_SYSTEM, timeoutMs: options.timeoutMs, fetch: fetchImpl });
      this.#credentials = oauthRefreshToken(options.auth.client, authHttp, options.auth.store);
    }
  }

  /** Sends the call; RetryableError/PermanentError for anything but 2xx and passed statuses. */
  async send(call: ShipBobCall): Promise<VendorResponse> {
    const url = new URL(call.path, this.#base);
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return this.#authorized({
      operation: call.operation,
      method: call.method,
      url,
      headers: {
        Accept: 'application/json',
        shipbob_channel_id: String(this.channelId),
        ...(call.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      ...(call.passStatuses === undefined ? {} : { passStatuses: call.passStatuses }),
    });
  }

  /** Sends the call and validates its JSON answer against `schema`. */
  async json<Schema extends z.ZodType>(call: ShipBobCall, schema: Schema): Promise<z.infer<Schema>> {
    const response = await this.send(call);
    return parseVendorJson(this.system, call.operation, response.text, schema);
  }

  /**
   * The path and query of a `next` link (ShipBob sends them relative, `/2026-01/…?cursor=…`),
   * as a call; a link that leaves this API version is refused as malformed.
   */
  followLink(operation: string, link: string): Pick<ShipBobCall, 'path' | 'query'> {
    let url: URL;
    try {
      url = new URL(link, this.#base);
    } catch {
      throw new PermanentError(`${this.system} ${operation}: next link is not a URL`, { system: this.system, code: 'malformed-response' });
    }
    if (url.origin !== this.#base.origin || !url.pathname.startsWith(this.#base.pathname)) {
      throw new PermanentError(`${this.system} ${operation}: next link leaves the API (${url.origin}${url.pathname})`, { system: this.system, code: 'malformed-response' });
    }
    return { path: url.pathname.slice(this.#base.pathname.length), query: Object.fromEntries(url.searchParams) };
  }

  /** Sends with the bearer token; with OAuth a 401 drops the token and tries once more with a new one. */
  async #authorized(request: VendorRequest): Promise<VendorResponse> {
    for (let attempt = 1; ; attempt += 1) {
      const token = await this.#credentials.accessToken();
      const response = await this.#http.request({
        ...request,
        headers: { ...request.headers, Authorization: `Bearer ${token}` },
        passStatuses: [...(request.passStatuses ?? []), 401],
      });
      if (response.status !== 401) return response;
      this.#credentials.reject(token);
      if (this.#credentials.kind === 'pat' || attempt >= 2) {
        const what = this.#credentials.kind === 'pat' ? 'the personal access token (revoked, or of another environment?)' : 'a fresh OAuth access token (app uninstalled, or scopes missing?)';
        throw new PermanentError(`${this.system} ${request.operation}: HTTP 401 — auth: ShipBob refused ${what}`, { system: this.system, code: 'auth' });
      }
    }
  }
}
