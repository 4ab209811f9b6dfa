/**
 * Transport to one Pipedrive company: API token (`x-api-token`) or OAuth bearer token
 * (refreshed once when the API answers 401), Pipedrive's response envelope and error body
 * `{success: false, error, error_info}`, its rate limit (429 with `Retry-After` and
 * `x-ratelimit-reset`, shared through the rate budget), v2 cursor and v1 offset paging, and
 * the shared VendorHttp path for timeouts and classification. Nothing here knows deals.
 *
 * Sources: pipedrive.readme.io/docs/core-api-concepts-authentication,
 * …/core-api-concepts-rate-limiting, …/core-api-concepts-pagination,
 * …/core-api-concepts-http-status-codes.
 */
import { createHash } from 'node:crypto';
import type * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { parseVendorJson, retryAfterSeconds, VendorHttp, type VendorRequest, type VendorResponse } from '../../../core/vendor-http.ts';
import { cursorPage, offsetPage, PIPEDRIVE_SYSTEM, PipedriveErrorBody, singleRecord } from './mapping.ts';
import { PipedriveOAuthTokens, type PipedriveOAuthCredentials } from './oauth-token.ts';

/** How the client authenticates: a personal API token, or an OAuth app's refresh token. */
export type PipedriveAuth =
  | { readonly apiToken: string }
  | { readonly oauth: PipedriveOAuthCredentials };

/** Where and as whom to call. */
export interface PipedriveClientOptions {
  /** The company domain, e.g. `https://acme.pipedrive.com` (checked by the connector). */
  readonly apiUrl: URL;
  readonly auth: PipedriveAuth;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Pages of one list the client follows before it calls the answer unreasonable. */
const MAX_PAGES = 20;
/** The largest page v1 and v2 lists give. */
const PAGE_LIMIT = 500;

/** `error (error_info)` from Pipedrive's error body, else the body's start. */
export function describePipedriveFailure(_status: number, text: string): string {
  try {
    const parsed = PipedriveErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.error_info === undefined ? parsed.data.error : `${parsed.data.error} (${parsed.data.error_info})`;
  } catch {
    // Not JSON (a proxy's HTML page): the raw text says more than nothing.
  }
  return text.slice(0, 300);
}

/** A Pipedrive API client for one company and one set of credentials. */
export class PipedriveClient {
  readonly system = PIPEDRIVE_SYSTEM;
  /** Distinguishes this company and credentials in shared caches, without holding the secret. */
  readonly scope: string;
  readonly #http: VendorHttp;
  readonly #apiUrl: URL;
  readonly #apiToken: string | undefined;
  readonly #tokens: PipedriveOAuthTokens | undefined;
  readonly #rateLimiter: RateLimiter | undefined;
  readonly #target: string;

  constructor(options: PipedriveClientOptions) {
    this.#apiUrl = options.apiUrl;
    this.#rateLimiter = options.rateLimiter;
    // Pipedrive limits per token; the company host names the budget without naming the token.
    this.#target = `${PIPEDRIVE_SYSTEM}:${options.apiUrl.host}`;
    this.#http = new VendorHttp({
      system: PIPEDRIVE_SYSTEM,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: this.#target,
      describeFailure: describePipedriveFailure,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    const identity = 'apiToken' in options.auth ? options.auth.apiToken : `${options.auth.oauth.clientId}\n${options.auth.oauth.refreshToken}`;
    this.scope = createHash('sha256').update(`${options.apiUrl.href}\n${identity}`).digest('hex').slice(0, 32);
    if ('apiToken' in options.auth) {
      this.#apiToken = options.auth.apiToken;
    } else {
      // The OAuth server is not the API: its calls stay out of the API's request budget.
      const oauthHttp = new VendorHttp({
        system: PIPEDRIVE_SYSTEM,
        timeoutMs: options.timeoutMs,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      });
      this.#tokens = new PipedriveOAuthTokens(options.auth.oauth, oauthHttp, options.apiUrl);
    }
  }

  /** One record: `GET path` answered with `{success: true, data}`; 404 is a PermanentError. */
  async get<Schema extends z.ZodType>(operation: string, path: string, data: Schema): Promise<z.infer<Schema>> {
    const response = await this.#send({ operation, method: 'GET', url: path });
    return parseVendorJson(this.system, operation, response.text, singleRecord(data)).data as z.infer<Schema>;
  }

  /** `PATCH path` with a JSON body; answers the record Pipedrive returns. */
  async patch<Schema extends z.ZodType>(operation: string, path: string, body: unknown, data: Schema): Promise<z.infer<Schema>> {
    const response = await this.#send({ operation, method: 'PATCH', url: path, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return parseVendorJson(this.system, operation, response.text, singleRecord(data)).data as z.infer<Schema>;
  }

  /** Every item of a v2 list, following `additional_data.next_cursor`. */
  async listByCursor<Schema extends z.ZodType>(operation: string, path: string, item: Schema): Promise<z.infer<Schema>[]> {
    const items: z.infer<Schema>[] = [];
    let cursor: string | undefined;
    for (let pages = 1; ; pages += 1) {
      const query = new URLSearchParams({ limit: String(PAGE_LIMIT), ...(cursor === undefined ? {} : { cursor }) });
      const response = await this.#send({ operation, method: 'GET', url: `${path}?${query}` });
      const page = parseVendorJson(this.system, operation, response.text, cursorPage(item));
      items.push(...((page.data ?? []) as z.infer<Schema>[]));
      const next = page.additional_data?.next_cursor ?? undefined;
      if (next === undefined || next === null) return items;
      this.#checkPageCount(operation, pages);
      cursor = next;
    }
  }

  /** Every item of a v1 list, following `additional_data.pagination.next_start`. */
  async listByOffset<Schema extends z.ZodType>(operation: string, path: string, item: Schema): Promise<z.infer<Schema>[]> {
    const items: z.infer<Schema>[] = [];
    let start = 0;
    for (let pages = 1; ; pages += 1) {
      const response = await this.#send({ operation, method: 'GET', url: `${path}?start=${start}&limit=${PAGE_LIMIT}` });
      const page = parseVendorJson(this.system, operation, response.text, offsetPage(item));
      items.push(...((page.data ?? []) as z.infer<Schema>[]));
      const pagination = page.additional_data?.pagination;
      if (pagination?.more_items_in_collection !== true) return items;
      this.#checkPageCount(operation, pages);
      start = pagination.next_start ?? start + (page.data?.length ?? 0);
    }
  }

  #checkPageCount(operation: string, pages: number): void {
    if (pages >= MAX_PAGES) {
      throw new PermanentError(`${this.system} ${operation}: more than ${MAX_PAGES * PAGE_LIMIT} items`, { system: this.system, code: 'too-many-results' });
    }
  }

  /**
   * Sends with the credentials. With OAuth a 401 drops the token and tries once more with a
   * fresh one; 401 and 403 otherwise are a PermanentError that says auth; 429 a
   * RetryableError carrying the wait and holding the shared budget off for it.
   */
  async #send(request: Omit<VendorRequest, 'url'> & { readonly url: string }): Promise<VendorResponse> {
    for (let attempt = 1; ; attempt += 1) {
      const { base, authorization } = await this.#credentials();
      const response = await this.#http.request({
        ...request,
        url: `${base.href.replace(/\/+$/, '')}${request.url}`,
        headers: { Accept: 'application/json', ...request.headers, ...authorization },
        passStatuses: [401, 403, 429],
      });
      if (response.status === 429) return this.#rateLimited(request.operation, response);
      if (response.status === 403) {
        throw new PermanentError(
          `${this.system} ${request.operation}: HTTP 403 — auth: not allowed (${describePipedriveFailure(403, response.text)}); check the user's permissions or the OAuth app's scopes (deals:full, products:read, contacts:read)`,
          { system: this.system, code: 'auth' },
        );
      }
      if (response.status !== 401) return response;
      const token = authorization.Authorization?.slice('Bearer '.length);
      if (this.#tokens !== undefined && token !== undefined && attempt === 1) {
        this.#tokens.reject(token);
        continue;
      }
      const what = this.#tokens === undefined ? 'the API token (PIPEDRIVE_API_TOKEN)' : 'a freshly refreshed access token';
      throw new PermanentError(`${this.system} ${request.operation}: HTTP 401 — auth: Pipedrive refused ${what} (${describePipedriveFailure(401, response.text)})`, {
        system: this.system,
        code: 'auth',
      });
    }
  }

  async #credentials(): Promise<{ base: URL; authorization: { 'x-api-token'?: string; Authorization?: string } }> {
    if (this.#tokens === undefined) return { base: this.#apiUrl, authorization: { 'x-api-token': this.#apiToken! } };
    const session = await this.#tokens.session();
    return { base: session.apiUrl, authorization: { Authorization: `Bearer ${session.accessToken}` } };
  }

  /** Pipedrive sends `Retry-After` with a 429, and `x-ratelimit-reset` (seconds left in the window) with every answer. */
  async #rateLimited(operation: string, response: VendorResponse): Promise<never> {
    const reset = response.headers.get('x-ratelimit-reset');
    const wait = retryAfterSeconds(response.headers.get('retry-after')) ?? (reset !== null && /^\d+$/.test(reset.trim()) ? Number(reset) : undefined);
    if (wait !== undefined) await this.#rateLimiter?.backOff(this.#target, wait);
    throw new RetryableError(`${this.system} ${operation}: HTTP 429 — ${describePipedriveFailure(429, response.text)}`, {
      system: this.system,
      code: '429',
      ...(wait === undefined ? {} : { retryAfterSeconds: wait }),
    });
  }
}
