/**
 * Salesforce transport: jsforce's `Connection` (REST URLs, SOQL paging through
 * `nextRecordsUrl`, sObject CRUD) with its HTTP layer replaced by Harmony's.
 *
 * Why replace it: jsforce's own transport retries 420/429/5xx and network errors up to five
 * times with backoff inside the call (ignoring Retry-After, sleeping inside the Lambda), has
 * no per-call timeout a `Connection` method can set (it defaults to 30 minutes), keeps a
 * body it cannot parse as a string and hands it on, and on 401 refreshes the session in a
 * loop that has no bound. `Connection._transport` is the documented seam (the proxy and
 * canvas transports use it), so every request jsforce makes goes through
 * {@link SalesforceClient}'s `send`: the shared `VendorHttp` (timeout, rate budget,
 * Retry-After, 5xx/429 retryable), the bearer token from the session cache, one new token on
 * 401 `INVALID_SESSION_ID`, Salesforce's error bodies classified (vendor-errors.ts), and every
 * 2xx body checked to be the JSON envelope Salesforce documents before jsforce reads it.
 */
import { PassThrough } from 'node:stream';
import { Connection } from 'jsforce/lib/connection.js';
import { Transport } from 'jsforce/lib/transport.js';
import type { HttpRequest, HttpResponse } from 'jsforce/lib/types/index.js';
import { StreamPromise } from 'jsforce/lib/util/promise.js';
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { parseVendorJson, VendorHttp } from '../../../core/vendor-http.ts';
import { SalesforceTokenSource, type SalesforceCredentials } from './oauth-token.ts';
import { classifyRestFailure, describeSalesforceFailure, SessionRefused, SYSTEM } from './vendor-errors.ts';

/** How to reach one org. */
export interface SalesforceClientOptions {
  /** Where tokens come from, e.g. `https://login.salesforce.com` (checked by the connector). */
  readonly loginUrl: URL;
  /** REST API version without the `v`, e.g. `62.0`. */
  readonly apiVersion: string;
  readonly credentials: SalesforceCredentials;
  /** Silence (and whole-request budget) before a request fails as retryable. */
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
}

/**
 * Statuses `send` classifies itself (Salesforce's error codes decide: 401 session, 403 request
 * limit); VendorHttp throws for the rest of the non-2xx statuses (408, 425, 429, 5xx: retryable).
 */
const CLASSIFIED_HERE = Array.from({ length: 200 }, (_, index) => 300 + index).filter((status) => ![408, 425, 429].includes(status));

/** A page of SOQL results ("Query", REST API Developer Guide). */
const QueryPage = z.looseObject({
  totalSize: z.number().int().nonnegative(),
  done: z.boolean(),
  nextRecordsUrl: z.string().optional(),
  records: z.array(z.looseObject({})),
});
/** One record from `GET /sobjects/<Object>/<id>`. */
const SObjectRecord = z.looseObject({ attributes: z.looseObject({ type: z.string() }), Id: z.string() });
/** The answer of `POST /sobjects/<Object>`. */
const SaveResult = z.looseObject({ id: z.string(), success: z.boolean() });

/** The body shape Salesforce documents for a successful answer to `path` (below `/services/data/vXX.X`). */
function envelopeFor(method: string, path: string): z.ZodType {
  if (/^\/query(All)?(\/|$)/.test(path)) return QueryPage;
  if (/^\/sobjects\/[^/]+\/[^/]+$/.test(path) && method === 'GET') return SObjectRecord;
  if (/^\/sobjects\/[^/]+$/.test(path) && method === 'POST') return SaveResult;
  return z.unknown();
}

/** `GET query`, `PATCH sobjects/Opportunity/006…`: the request's resource below the API version. */
function operationOf(method: string, path: string): string {
  if (/^\/query(All)?\/./.test(path)) return `${method} query (next batch)`;
  return `${method} ${path.replace(/^\//, '') || '/'}`;
}

/** jsforce's transport interface, answered by `send`. */
class HarmonyTransport extends Transport {
  readonly #send: (request: HttpRequest) => Promise<HttpResponse>;

  constructor(send: (request: HttpRequest) => Promise<HttpResponse>) {
    super();
    this.#send = send;
  }

  override httpRequest(request: HttpRequest): StreamPromise<HttpResponse> {
    // jsforce pipes a lazy stream through this one; nothing is streamed, the answer is in the promise.
    return StreamPromise.create(() => ({ stream: new PassThrough(), promise: this.#send(request) }));
  }
}

/** One org's REST API through jsforce, with Harmony's auth, timeouts and error classification. */
export class SalesforceClient {
  readonly #http: VendorHttp;
  readonly #tokens: SalesforceTokenSource;
  readonly #connection: Connection;
  readonly #apiPrefix: string;
  readonly #rateLimiter: RateLimiter | undefined;
  readonly #rateLimitTarget: string;

  constructor(options: SalesforceClientOptions) {
    this.#rateLimiter = options.rateLimiter;
    this.#rateLimitTarget = `${SYSTEM}:${options.credentials.clientId}`;
    this.#http = new VendorHttp({
      system: SYSTEM,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: this.#rateLimitTarget,
      describeFailure: describeSalesforceFailure,
    });
    this.#tokens = new SalesforceTokenSource(options.loginUrl, options.credentials, this.#http);
    this.#apiPrefix = `/services/data/v${options.apiVersion}`;
    this.#connection = new Connection({ loginUrl: options.loginUrl.origin, version: options.apiVersion });
    this.#connection._transport = new HarmonyTransport((request) => this.#send(request));
  }

  /**
   * Runs `work` on the jsforce connection with the session's instance in place. Harmony's
   * errors pass through; anything else jsforce throws (it read an answer it did not expect)
   * becomes a PermanentError naming `operation`.
   */
  async call<Result>(operation: string, work: (connection: Connection) => PromiseLike<Result>): Promise<Result> {
    const session = await this.#tokens.session();
    this.#connection.instanceUrl = session.instanceUrl;
    try {
      return await work(this.#connection);
    } catch (error) {
      if (error instanceof RetryableError || error instanceof PermanentError) throw error;
      throw new PermanentError(`${SYSTEM} ${operation}: unexpected answer (${(error as Error).message})`, { system: SYSTEM, code: 'malformed-response', cause: error });
    }
  }

  /** Sends one request jsforce built, to the session's instance only, with one new token if the first is refused. */
  async #send(request: HttpRequest): Promise<HttpResponse> {
    if (request.body !== undefined && request.body !== null && typeof request.body !== 'string') {
      throw new PermanentError(`${SYSTEM}: only JSON bodies are sent, not ${typeof request.body}`, { system: SYSTEM, code: 'unsupported-request' });
    }
    const requested = new URL(request.url);
    const path = requested.pathname.startsWith(this.#apiPrefix) ? requested.pathname.slice(this.#apiPrefix.length) : requested.pathname;
    const operation = operationOf(request.method, path);
    const headers: Record<string, string> = { Accept: 'application/json' };
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!['authorization', 'content-length'].includes(name.toLowerCase())) headers[name] = value;
    }
    let session = await this.#tokens.session();
    for (let attempt = 1; ; attempt += 1) {
      // The token goes to the instance Salesforce named, whatever host a URL in a response said.
      const url = new URL(`${requested.pathname}${requested.search}`, session.instanceUrl);
      const response = await this.#http.request({
        operation,
        method: request.method,
        url,
        headers: { ...headers, Authorization: `Bearer ${session.accessToken}` },
        ...(typeof request.body === 'string' ? { body: request.body } : {}),
        passStatuses: CLASSIFIED_HERE,
      });
      if (response.status < 300) {
        if (response.status !== 204 && response.text !== '') parseVendorJson(SYSTEM, operation, response.text, envelopeFor(request.method, path));
        return { statusCode: response.status, headers: { ...Object.fromEntries(response.headers), 'content-type': 'application/json' }, body: response.text };
      }
      const failure = classifyRestFailure(operation, response.status, response.text, response.headers);
      if (failure instanceof RetryableError && failure.retryAfterSeconds !== undefined) {
        // The org's request limit holds every caller off, as a 429 does in VendorHttp.
        await this.#rateLimiter?.backOff(this.#rateLimitTarget, failure.retryAfterSeconds);
      }
      if (!(failure instanceof SessionRefused)) throw failure;
      this.#tokens.reject(session);
      if (attempt === 2) {
        throw new PermanentError(`${SYSTEM} ${operation}: Salesforce refused a freshly issued access token too (${failure.detail}); check that the user of the ${this.#tokens.flowName} has API access`, {
          system: SYSTEM,
          code: 'auth',
        });
      }
      session = await this.#tokens.session();
    }
  }
}
