/**
 * Transport to NetSuite's REST web services for one account: the record API
 * (`/services/rest/record/v1/{type}`, `eid:` external ids, 204 + `Location` on create),
 * SuiteQL (`/services/rest/query/v1/suiteql`, paged with `limit`/`offset`), and asynchronous
 * requests (`Prefer: respond-async` with `X-NetSuite-Idempotency-Key`, then the job API under
 * `/services/rest/async/v1/job`). Every call goes through VendorHttp (timeout, rate budget,
 * Retry-After); auth is OAuth 2.0 M2M or TBA. Nothing here knows customers or orders.
 *
 * Links NetSuite answers with (Location, job and task hrefs) are never followed as given:
 * the ids are read out of them and the URL is built again on the configured base URL.
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { parseVendorJson, VendorHttp, type VendorResponse } from '../../../core/vendor-http.ts';
import type { NetsuiteAuth } from './auth.ts';
import { ClientCredentialsAuth, TOKEN_PATH, type ClientCredentials } from './client-credentials-auth.ts';
import { TokenBasedAuth, type TokenBasedCredentials } from './token-based-auth.ts';
import { describeNetsuiteFailure, errorForNetsuiteAnswer, netsuiteErrorCode, parseNetsuiteError, SYSTEM } from './vendor-errors.ts';

/** The account's credentials, by auth scheme. */
export type NetsuiteCredentials =
  | ({ readonly scheme: 'oauth2' } & ClientCredentials)
  | ({ readonly scheme: 'tba' } & TokenBasedCredentials);

/** Where and as whom to call NetSuite. */
export interface NetsuiteClientOptions {
  /** The account's REST domain, e.g. `https://1234567-sb1.suitetalk.api.netsuite.com` (checked by the caller). */
  readonly baseUrl: URL;
  /** The account id as NetSuite spells it in a TBA realm, e.g. `1234567_SB1`. */
  readonly realm: string;
  readonly credentials: NetsuiteCredentials;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** Rows asked for per SuiteQL page. @default 1000 (NetSuite's maximum) */
  readonly suiteqlPageSize?: number;
}

/** Rows per SuiteQL page (NetSuite's maximum). */
const SUITEQL_PAGE_SIZE = 1000;
/** Pages read at most for one query: 100,000 rows, NetSuite's own SuiteQL limit. */
const SUITEQL_MAX_PAGES = 100;

/** A SuiteQL page ("Collection Paging"): `links`, `count`, `hasMore`, `items`, `offset`, `totalResults`. */
const SuiteqlPage = z.object({
  items: z.array(z.record(z.string(), z.unknown())),
  hasMore: z.boolean(),
  offset: z.number().int().nonnegative().optional(),
  count: z.number().int().nonnegative().optional(),
  links: z.array(z.object({ rel: z.string(), href: z.string() })).optional(),
});

/** `GET /async/v1/job/{id}`. */
const AsyncJob = z.object({ id: z.string().optional(), completed: z.boolean(), progress: z.unknown().optional() });
/** `GET /async/v1/job/{id}/task`: the tasks, each with its `self` link. */
const AsyncTasks = z.object({ items: z.array(z.object({ links: z.array(z.object({ rel: z.string(), href: z.string() })) })) });
/** A record answer carrying its `self` link, as a task result of a create may. */
const SelfLinked = z.object({ links: z.array(z.object({ rel: z.string(), href: z.string() })) });

/** Waits between polls of an asynchronous job, within the call's time budget. */
const JOB_POLL_DELAYS_MS = [0, 50, 100, 200, 400, 800];

/** Options of one request. */
interface SendOptions {
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** 4xx statuses returned to the caller instead of thrown. */
  readonly answers?: readonly number[];
}

/** A REST web services client for one NetSuite account. */
export class NetsuiteClient {
  private readonly baseUrl: URL;
  private readonly http: VendorHttp;
  private readonly auth: NetsuiteAuth;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly rateLimiter: RateLimiter | undefined;
  private readonly rateLimitTarget: string;

  constructor(options: NetsuiteClientOptions) {
    this.baseUrl = options.baseUrl;
    this.timeoutMs = options.timeoutMs;
    this.pageSize = Math.min(Math.max(1, options.suiteqlPageSize ?? SUITEQL_PAGE_SIZE), SUITEQL_PAGE_SIZE);
    this.rateLimiter = options.rateLimiter;
    this.rateLimitTarget = `${SYSTEM}:${options.realm}`;
    this.http = new VendorHttp({
      system: SYSTEM,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: this.rateLimitTarget,
      describeFailure: describeNetsuiteFailure,
    });
    const { credentials } = options;
    this.auth =
      credentials.scheme === 'oauth2'
        ? new ClientCredentialsAuth(new URL(TOKEN_PATH, this.baseUrl), credentials, this.http)
        : new TokenBasedAuth(options.realm, credentials);
  }

  /** A record by internal id or `eid:<external id>`; undefined when NetSuite has none (404). */
  async getRecord<Schema extends z.ZodType>(
    type: string,
    key: string,
    schema: Schema,
    query: Readonly<Record<string, string>> = {},
  ): Promise<z.infer<Schema> | undefined> {
    const operation = `GET ${type}`;
    const response = await this.send(operation, 'GET', recordPath(type, key), { query, answers: [404] });
    if (response.status === 404) return undefined;
    return parseVendorJson(SYSTEM, operation, response.text, schema);
  }

  /** Creates a record synchronously (`204` + `Location`) and returns its internal id. */
  async createRecord(type: string, body: unknown): Promise<string> {
    const operation = `POST ${type}`;
    const response = await this.send(operation, 'POST', recordPath(type), { body });
    return this.createdId(operation, type, response);
  }

  /** Updates fields (and sublist lines by `line`) of a record; NetSuite answers 204. */
  async updateRecord(type: string, id: string, body: unknown): Promise<void> {
    await this.send(`PATCH ${type}`, 'PATCH', recordPath(type, id), { body });
  }

  /**
   * Creates a record at most once per `idempotencyKey`: NetSuite honours the key only for
   * asynchronous requests, so the create is sent with `Prefer: respond-async`, and a repeat
   * of the key is answered with the first job (400 `IDEMPOTENCY_ERROR` + its `Location`).
   * Waits for the job within the call's budget and returns the new record's id;
   * RetryableError `async-pending` when NetSuite has not run it yet (the next attempt finds
   * the same job through the same key).
   */
  async createRecordOnce(type: string, body: unknown, idempotencyKey: string): Promise<string> {
    const operation = `POST ${type} (async)`;
    const response = await this.send(operation, 'POST', recordPath(type), {
      body,
      headers: { Prefer: 'respond-async', 'X-NetSuite-Idempotency-Key': idempotencyKey },
      answers: [400, 409],
    });
    const location = response.headers.get('location') ?? '';
    const job = /\/services\/rest\/async\/v1\/job\/(\d+)$/.exec(location)?.[1];
    if (response.status === 400 || response.status === 409) {
      if (job === undefined || netsuiteErrorCode(parseNetsuiteError(response.text)) !== 'IDEMPOTENCY_ERROR') {
        throw errorForNetsuiteAnswer(operation, response.status, response.text, response.headers);
      }
    } else if (job === undefined) {
      // NetSuite ran the request synchronously after all: the Location names the record.
      return this.createdId(operation, type, response);
    }
    return this.jobResultId(operation, type, job!);
  }

  /**
   * Runs a SuiteQL query (`Prefer: transient`) and returns every row of every page, each
   * validated with `row`. Build the query with {@link suiteqlString} for every value.
   */
  async suiteql<Row extends z.ZodType>(query: string, row: Row): Promise<z.infer<Row>[]> {
    const operation = 'POST suiteql';
    const rows: z.infer<Row>[] = [];
    let offset = 0;
    for (let page = 1; ; page += 1) {
      const response = await this.send(operation, 'POST', '/services/rest/query/v1/suiteql', {
        query: { limit: String(this.pageSize), offset: String(offset) },
        body: { q: query },
        headers: { Prefer: 'transient' },
      });
      const answer = parseVendorJson(SYSTEM, operation, response.text, SuiteqlPage);
      answer.items.forEach((item, index) => rows.push(parseVendorJson(SYSTEM, `${operation} row ${offset + index}`, JSON.stringify(item), row)));
      if (!answer.hasMore || answer.items.length === 0) return rows;
      if (page >= SUITEQL_MAX_PAGES) {
        throw new PermanentError(`${SYSTEM} ${operation}: more than ${SUITEQL_MAX_PAGES} pages of ${this.pageSize} rows; narrow the query`, { system: SYSTEM, code: 'too-many-rows' });
      }
      const next = answer.links?.find((link) => link.rel === 'next')?.href;
      const nextOffset = next === undefined ? Number.NaN : Number(new URL(next, this.baseUrl).searchParams.get('offset'));
      offset = Number.isInteger(nextOffset) && nextOffset > offset ? nextOffset : offset + answer.items.length;
    }
  }

  /** Waits for an asynchronous job and reads the id of the record its one task created. */
  private async jobResultId(operation: string, type: string, job: string): Promise<string> {
    const jobPath = `/services/rest/async/v1/job/${job}`;
    const started = Date.now();
    for (let poll = 0; ; poll += 1) {
      const status = parseVendorJson(SYSTEM, `GET async job ${job}`, (await this.send(`GET async job`, 'GET', jobPath)).text, AsyncJob);
      if (status.completed) break;
      const delay = JOB_POLL_DELAYS_MS[Math.min(poll + 1, JOB_POLL_DELAYS_MS.length - 1)]!;
      if (poll + 1 >= JOB_POLL_DELAYS_MS.length || Date.now() - started + delay > this.timeoutMs) {
        throw new RetryableError(`${SYSTEM} ${operation}: NetSuite has not finished job ${job} yet`, { system: SYSTEM, code: 'async-pending' });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    const tasks = parseVendorJson(SYSTEM, `GET async job ${job} tasks`, (await this.send('GET async job task', 'GET', `${jobPath}/task`)).text, AsyncTasks);
    const taskIds = tasks.items.flatMap((task) => task.links.filter((link) => link.rel === 'self').map((link) => /\/task\/([A-Za-z0-9_-]+)$/.exec(link.href)?.[1]));
    const task = taskIds[0];
    if (taskIds.length !== 1 || task === undefined) {
      throw new PermanentError(`${SYSTEM} ${operation}: job ${job} has ${taskIds.length} tasks, expected the one create`, { system: SYSTEM, code: 'malformed-response' });
    }
    const result = await this.send('GET async job task result', 'GET', `${jobPath}/task/${task}/result`, { answers: [400, 404, 409] });
    if (result.status >= 400) throw errorForNetsuiteAnswer(operation, result.status, result.text, result.headers);
    return this.createdId(operation, type, result);
  }

  /** The id of a created record from the `Location` header (or, in a task result, the body's `self` link). */
  private createdId(operation: string, type: string, response: VendorResponse): string {
    const pattern = new RegExp(`/services/rest/record/v1/${type}/(\\d+)(?:[?#].*)?$`, 'i');
    const fromHeader = pattern.exec(response.headers.get('location') ?? '')?.[1];
    if (fromHeader !== undefined) return fromHeader;
    if (response.text.trim() !== '') {
      const body = parseVendorJson(SYSTEM, operation, response.text, SelfLinked);
      const fromBody = body.links.map((link) => pattern.exec(link.href)?.[1]).find((id) => id !== undefined);
      if (fromBody !== undefined) return fromBody;
    }
    throw new PermanentError(`${SYSTEM} ${operation}: NetSuite answered ${response.status} without the new record's Location`, {
      system: SYSTEM,
      code: 'malformed-response',
    });
  }

  /**
   * One request: authorizes it (a TBA signature, or the cached bearer token), sends it, and
   * on 401 asks the auth for a fresh header once (an expired OAuth 2.0 token) before failing
   * as a PermanentError that names the credentials. Other 4xx answers become errors in
   * NetSuite's words unless `answers` lists them.
   */
  private async send(operation: string, method: string, path: string, options: SendOptions = {}): Promise<VendorResponse> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    for (let attempt = 1; ; attempt += 1) {
      const authorization = await this.auth.authorize(method, url);
      const response = await this.http.request({
        operation,
        method,
        url,
        headers: {
          Authorization: authorization,
          Accept: 'application/json',
          ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        passStatuses: [400, 401, 404, 409],
      });
      if (response.status === 401) {
        if (attempt === 1 && this.auth.refused(authorization)) continue;
        throw new PermanentError(
          `${SYSTEM} ${operation}: NetSuite refused the ${this.auth.scheme} (HTTP 401 — ${describeNetsuiteFailure(401, response.text)}); check ${this.auth.credentialHint}`,
          { system: SYSTEM, code: 'auth' },
        );
      }
      if (response.status >= 400 && !(options.answers ?? []).includes(response.status)) {
        const error = errorForNetsuiteAnswer(operation, response.status, response.text, response.headers);
        // A concurrency refusal answered as 400 holds every caller off, as VendorHttp does for 429.
        if (error instanceof RetryableError && error.retryAfterSeconds !== undefined) await this.rateLimiter?.backOff(this.rateLimitTarget, error.retryAfterSeconds);
        throw error;
      }
      return response;
    }
  }
}

/** `/services/rest/record/v1/{type}[/{key}]`, the key path-encoded (`eid:` stays readable). */
function recordPath(type: string, key?: string): string {
  const base = `/services/rest/record/v1/${type}`;
  return key === undefined ? base : `${base}/${encodeURIComponent(key).replace(/^eid%3A/i, 'eid:')}`;
}

/**
 * A SuiteQL string literal: single quotes doubled, as SQL-92 (and NetSuite's Oracle-based
 * SuiteQL) escape them, so a value can never end the literal; control characters refused.
 */
export function suiteqlString(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new PermanentError(`${SYSTEM} suiteql: refusing a value with control characters (${JSON.stringify(value.slice(0, 40))})`, { system: SYSTEM, code: 'invalid-input' });
  }
  return `'${value.replaceAll("'", "''")}'`;
}
