/**
 * Transport to SAP S/4HANA's OData v2 services (`{base}/sap/opu/odata/sap/<SERVICE>/…`):
 * `sap-client` on every call, basic auth or an OAuth bearer token (fetched again once on
 * 401), the CSRF token and session cookies on every modifying call (fetched again once
 * on 403 `x-csrf-token: Required`), `If-Match` where the entity has an ETag, paging by
 * `$top`/`$skip` or the server's `__next`, SAP's error body in every failure, and the
 * shared VendorHttp path for timeouts, Retry-After and the rate budget. Nothing here
 * knows about customers or orders.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { credentialsKey } from '../../../core/token-cache.ts';
import { parseVendorJson, VendorHttp, type VendorRequest, type VendorResponse } from '../../../core/vendor-http.ts';
import { sapAuthorization, type SapAuthorization, type SapCredentials } from './auth.ts';
import { sapSession, type SapSession } from './csrf-session.ts';
import { describeSapFailure, odataCollection, odataEntity, readSapError, SAP_SYSTEM } from './odata.ts';

/** The OData services the adapter calls. */
export type SapService = 'API_SALES_ORDER_SRV' | 'API_BUSINESS_PARTNER';

/** Where and as whom to call one S/4HANA system. */
export interface SapClientOptions {
  /** The system's API host, e.g. `https://my123456-api.s4hana.cloud.sap` (checked by the connector). */
  readonly baseUrl: URL;
  /** `sap-client`, e.g. `100`; undefined uses the system's default client. */
  readonly sapClient?: string | undefined;
  readonly credentials: SapCredentials;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** What a query asks for besides the entity set. */
export interface SapQuery {
  readonly filter?: string;
  readonly select?: readonly string[];
  readonly expand?: readonly string[];
}

/** How an update ended: done, no such entity, or the ETag was stale (412). */
export type UpdateOutcome = 'updated' | 'not-found' | 'changed';

/** Entities per page the client asks for. */
const PAGE_SIZE = 200;
/** Pages of one query before the answer is called unreasonable. */
const MAX_PAGES = 25;
const MODIFYING = new Set(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE']);

/** An OData v2 client for one S/4HANA system and client. */
export class SapClient {
  readonly system = SAP_SYSTEM;
  readonly #http: VendorHttp;
  readonly #auth: SapAuthorization;
  readonly #session: SapSession;
  readonly #base: string;
  readonly #sapClient: string | undefined;

  constructor(options: SapClientOptions) {
    this.#base = options.baseUrl.href.replace(/\/+$/, '');
    this.#sapClient = options.sapClient;
    const target = `${SAP_SYSTEM}:${options.baseUrl.host}/${options.sapClient ?? 'default'}`;
    this.#http = new VendorHttp({
      system: SAP_SYSTEM,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: target,
      describeFailure: describeSapFailure,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    // The OAuth server is not the OData service: its calls stay out of SAP's request budget.
    const tokenHttp = new VendorHttp({ system: SAP_SYSTEM, timeoutMs: options.timeoutMs, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
    const credentials = options.credentials;
    const secret = credentials.scheme === 'basic' ? [credentials.username, credentials.password] : [credentials.tokenUrl.href, credentials.clientId, credentials.clientSecret];
    const identity = credentialsKey([target, credentials.scheme, ...secret]);
    this.#auth = sapAuthorization(credentials, tokenHttp, identity);
    this.#session = sapSession(identity);
  }

  /** One entity, e.g. `A_SalesOrder('4711')`; undefined when SAP answers 404 for it. */
  async read<Schema extends z.ZodType>(operation: string, service: SapService, path: string, schema: Schema, query: SapQuery = {}): Promise<z.infer<Schema> | undefined> {
    const response = await this.#send(service, { operation, method: 'GET', url: this.#url(service, path, query), passStatuses: [404] });
    if (response.status === 404) {
      this.#failOnMissingService(operation, response.text);
      return undefined;
    }
    return (parseVendorJson(this.system, operation, response.text, odataEntity(schema)) as { d: z.infer<Schema> }).d;
  }

  /** Every entity of a set matching the query, page by page (`$top`/`$skip`, or SAP's `__next`). */
  async list<Schema extends z.ZodType>(operation: string, service: SapService, entitySet: string, query: SapQuery, item: Schema): Promise<z.infer<Schema>[]> {
    const page = odataCollection(item);
    const found: z.infer<Schema>[] = [];
    let url = this.#url(service, entitySet, query, { $top: String(PAGE_SIZE), $skip: '0' });
    for (let pages = 1; ; pages += 1) {
      const response = await this.#send(service, { operation, method: 'GET', url });
      const body = parseVendorJson(this.system, operation, response.text, page);
      found.push(...(body.d.results as z.infer<Schema>[]));
      if (body.d.__next !== undefined) url = this.#sameService(operation, service, body.d.__next);
      else if (body.d.results.length === PAGE_SIZE) url = this.#url(service, entitySet, query, { $top: String(PAGE_SIZE), $skip: String(found.length) });
      else return found;
      if (pages >= MAX_PAGES) {
        throw new PermanentError(`${this.system} ${operation}: more than ${MAX_PAGES} pages for ${query.filter ?? entitySet}`, { system: this.system, code: 'too-many-results' });
      }
    }
  }

  /** Creates an entity (deep insert included) and validates SAP's 201 answer. */
  async create<Schema extends z.ZodType>(operation: string, service: SapService, entitySet: string, body: unknown, schema: Schema): Promise<z.infer<Schema>> {
    const response = await this.#send(service, {
      operation,
      method: 'POST',
      url: this.#url(service, entitySet),
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (parseVendorJson(this.system, operation, response.text, odataEntity(schema)) as { d: z.infer<Schema> }).d;
  }

  /** PATCHes the properties in `changes`; with `etag`, only while the entity still has it (`If-Match`). */
  async update(operation: string, service: SapService, path: string, changes: Readonly<Record<string, unknown>>, etag?: string): Promise<UpdateOutcome> {
    const response = await this.#send(service, {
      operation,
      method: 'PATCH',
      url: this.#url(service, path),
      headers: { 'Content-Type': 'application/json', ...(etag === undefined ? {} : { 'If-Match': etag }) },
      body: JSON.stringify(changes),
      passStatuses: [404, 412],
    });
    if (response.status === 404) {
      this.#failOnMissingService(operation, response.text);
      return 'not-found';
    }
    return response.status === 412 ? 'changed' : 'updated';
  }

  #url(service: SapService, path: string, query: SapQuery = {}, paging: Readonly<Record<string, string>> = {}): string {
    const parameters = new URLSearchParams();
    if (this.#sapClient !== undefined) parameters.set('sap-client', this.#sapClient);
    if (query.filter !== undefined) parameters.set('$filter', query.filter);
    if (query.select !== undefined) parameters.set('$select', query.select.join(','));
    if (query.expand !== undefined) parameters.set('$expand', query.expand.join(','));
    for (const [name, value] of Object.entries(paging)) parameters.set(name, value);
    // `+` would read as a space to some servers and as a plus to others: send spaces as %20.
    const search = parameters.toString().replaceAll('+', '%20').replaceAll('%24', '$').replaceAll('%2C', ',');
    return `${this.#serviceRoot(service)}/${path}${search === '' ? '' : `?${search}`}`;
  }

  #serviceRoot(service: SapService): string {
    return `${this.#base}/sap/opu/odata/sap/${service}`;
  }

  /** A `__next` link must stay inside the same service: never follow a link elsewhere. */
  #sameService(operation: string, service: SapService, link: string): string {
    let url: URL;
    try {
      url = new URL(link, `${this.#serviceRoot(service)}/`);
    } catch {
      throw new PermanentError(`${this.system} ${operation}: __next is not a URL`, { system: this.system, code: 'malformed-response' });
    }
    const root = new URL(`${this.#serviceRoot(service)}/`);
    if (url.origin !== root.origin || !url.pathname.startsWith(root.pathname)) {
      throw new PermanentError(`${this.system} ${operation}: __next leaves ${service} (${url.origin}${url.pathname})`, { system: this.system, code: 'malformed-response' });
    }
    if (this.#sapClient !== undefined && !url.searchParams.has('sap-client')) url.searchParams.set('sap-client', this.#sapClient);
    return url.href;
  }

  /** SAP answers 404 both for a missing entity and for a service it does not have (or has not activated): the latter is configuration. */
  #failOnMissingService(operation: string, text: string): void {
    const code = readSapError(text)?.error.code ?? '';
    if (code.startsWith('/IWFND/') || /No service found/i.test(text)) {
      throw new PermanentError(`${this.system} ${operation}: HTTP 404 — ${describeSapFailure(404, text)} (check SAP_BASE_URL, SAP_CLIENT and that the communication arrangement exposes the service)`, {
        system: this.system,
        code: 'configuration',
      });
    }
  }

  /**
   * Sends with auth, `sap-client` and (for modifying calls) the session's CSRF token and
   * cookies. A 401 with a bearer token fetches a new token and tries once more; a 403
   * `x-csrf-token: Required` fetches a new CSRF token and tries once more. Refused
   * requests never ran, so sending them again cannot write twice.
   */
  async #send(service: SapService, request: VendorRequest): Promise<VendorResponse> {
    const modifying = MODIFYING.has(request.method);
    let renewedAuth = false;
    let renewedToken = false;
    for (;;) {
      const authorization = await this.#auth.header();
      const csrf = modifying ? await this.#session.csrfToken(() => this.#fetchCsrfToken(service)) : undefined;
      const cookies = this.#session.cookieHeader();
      const response = await this.#http.request({
        ...request,
        headers: {
          Accept: 'application/json',
          ...request.headers,
          Authorization: authorization,
          ...(cookies === undefined ? {} : { Cookie: cookies }),
          ...(csrf === undefined || csrf === '' ? {} : { 'x-csrf-token': csrf }),
        },
        passStatuses: [...(request.passStatuses ?? []), 401, 403],
      });
      this.#session.absorb(response.headers);
      if (response.status === 401) {
        if (!renewedAuth && this.#auth.refused(authorization)) {
          renewedAuth = true;
          continue;
        }
        throw this.#authFailure(request.operation, response);
      }
      if (response.status === 403) {
        if (modifying && /^required$/i.test(response.headers.get('x-csrf-token') ?? '') && csrf !== undefined) {
          this.#session.expire(csrf);
          if (!renewedToken) {
            renewedToken = true;
            continue;
          }
          throw new PermanentError(`${this.system} ${request.operation}: HTTP 403 — SAP refused a freshly fetched CSRF token (x-csrf-token: Required); check that cookies reach SAP unchanged`, {
            system: this.system,
            code: 'csrf',
          });
        }
        throw new PermanentError(`${this.system} ${request.operation}: HTTP 403 — access denied: ${describeSapFailure(403, response.text)} (the communication user lacks authorization for ${service})`, {
          system: this.system,
          code: '403',
        });
      }
      return response;
    }
  }

  /** `GET <service>/` with `x-csrf-token: Fetch`; '' when SAP sends none (CSRF protection off for the service). */
  async #fetchCsrfToken(service: SapService): Promise<string> {
    const response = await this.#send(service, {
      operation: `GET ${service} (x-csrf-token: Fetch)`,
      method: 'GET',
      url: this.#url(service, ''),
      headers: { 'x-csrf-token': 'Fetch' },
    });
    return response.headers.get('x-csrf-token') ?? '';
  }

  #authFailure(operation: string, response: VendorResponse): PermanentError {
    const how = this.#auth.scheme === 'basic' ? 'the user name and password (SAP_USERNAME, SAP_PASSWORD) or SAP_CLIENT' : 'a freshly issued OAuth access token';
    return new PermanentError(`${this.system} ${operation}: HTTP 401 — auth: SAP refused ${how} (${describeSapFailure(401, response.text) || 'Unauthorized'})`, {
      system: this.system,
      code: 'auth',
    });
  }
}
