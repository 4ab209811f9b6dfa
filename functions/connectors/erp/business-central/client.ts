/**
 * Transport to the Business Central API v2.0
 * (`{api}/v2.0/{tenant}/{environment}/api/v2.0/companies({id})/…`): the Entra ID bearer
 * token (fetched again once when BC answers 401), OData collections with their
 * `@odata.nextLink` pages, `If-Match` on DELETE, BC's error body
 * `{"error":{"code","message"}}` in every failure, and the shared VendorHttp path for
 * timeouts, Retry-After and the rate budget. Nothing here knows about customers or orders.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { parseVendorJson, VendorHttp, type VendorRequest, type VendorResponse } from '../../../core/vendor-http.ts';
import { EntraTokenSource } from './entra-token.ts';
import { odataCollection } from './mapping.ts';

/** The system name in errors, events and the rate budget. */
export const BUSINESS_CENTRAL_SYSTEM = 'business-central';

/** Where and as whom to call one company's API. */
export interface BusinessCentralClientOptions {
  /** e.g. `https://api.businesscentral.dynamics.com` (checked by the connector). */
  readonly apiUrl: URL;
  /** e.g. `https://login.microsoftonline.com` (checked by the connector). */
  readonly loginUrl: URL;
  readonly tenantId: string;
  /** BC environment name, e.g. `production`. */
  readonly environment: string;
  /** The company's id (a GUID, `GET …/companies`). */
  readonly companyId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** BC's error body. */
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Pages of one collection the client follows before it calls the answer unreasonable. */
const MAX_PAGES = 50;

/** `code: message` from BC's error body (without the trailing CorrelationId), else the body's start. */
export function describeBusinessCentralFailure(_status: number, text: string): string {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) return `${parsed.data.error.code}: ${parsed.data.error.message.replace(/\s*CorrelationId:.*$/s, '').trim()}`;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.slice(0, 300);
}

/** How a DELETE with If-Match ended. */
export type DeleteOutcome = 'deleted' | 'not-found' | 'changed';

/** A Business Central API client for one company. */
export class BusinessCentralClient {
  readonly system = BUSINESS_CENTRAL_SYSTEM;
  readonly #http: VendorHttp;
  readonly #tokens: EntraTokenSource;
  readonly #companyUrl: string;

  constructor(options: BusinessCentralClientOptions) {
    const api = options.apiUrl.href.replace(/\/+$/, '');
    const segment = (value: string) => encodeURIComponent(value);
    this.#companyUrl = `${api}/v2.0/${segment(options.tenantId)}/${segment(options.environment)}/api/v2.0/companies(${segment(options.companyId)})`;
    this.#http = new VendorHttp({
      system: BUSINESS_CENTRAL_SYSTEM,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: `${BUSINESS_CENTRAL_SYSTEM}:${options.tenantId}/${options.environment}`,
      describeFailure: describeBusinessCentralFailure,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    // Entra ID is not Business Central: its calls stay out of BC's request budget.
    const loginHttp = new VendorHttp({
      system: BUSINESS_CENTRAL_SYSTEM,
      timeoutMs: options.timeoutMs,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    this.#tokens = new EntraTokenSource(
      { loginUrl: options.loginUrl, tenantId: options.tenantId, clientId: options.clientId, clientSecret: options.clientSecret },
      loginHttp,
    );
  }

  /** One entity, e.g. `salesOrders(<id>)`; undefined when BC answers 404 for it. */
  async getOne<Schema extends z.ZodType>(operation: string, path: string, schema: Schema, query = ''): Promise<z.infer<Schema> | undefined> {
    const response = await this.#send({ operation, method: 'GET', url: this.#url(path, query), passStatuses: [404] });
    if (response.status === 404) {
      this.#failOnMissingRoute(operation, response.text);
      return undefined;
    }
    return parseVendorJson(this.system, operation, response.text, schema);
  }

  /** Every entity of a collection that matches `filter` (an OData `$filter` expression), following `@odata.nextLink`. */
  async list<Schema extends z.ZodType>(operation: string, entitySet: string, filter: string, item: Schema): Promise<z.infer<Schema>[]> {
    const page = odataCollection(item);
    const found: z.infer<Schema>[] = [];
    let url: string = this.#url(entitySet, `$filter=${encodeURIComponent(filter)}`);
    for (let pages = 1; ; pages += 1) {
      const response = await this.#send({ operation, method: 'GET', url });
      const body = parseVendorJson(this.system, operation, response.text, page);
      found.push(...(body.value as z.infer<Schema>[]));
      const next = body['@odata.nextLink'];
      if (next === undefined) return found;
      if (pages >= MAX_PAGES) {
        throw new PermanentError(`${this.system} ${operation}: more than ${MAX_PAGES} pages for ${filter}`, { system: this.system, code: 'too-many-results' });
      }
      url = this.#sameCompany(operation, next);
    }
  }

  /** Creates an entity (deep insert included) and validates BC's 201 answer. */
  async create<Schema extends z.ZodType>(operation: string, entitySet: string, body: unknown, schema: Schema, query = ''): Promise<z.infer<Schema>> {
    const response = await this.#send({
      operation,
      method: 'POST',
      url: this.#url(entitySet, query),
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return parseVendorJson(this.system, operation, response.text, schema);
  }

  /**
   * DELETE with `If-Match: etag`: `deleted` (204), `not-found` (404: gone already) or
   * `changed` (412: someone changed it since the etag was read).
   */
  async remove(operation: string, path: string, etag: string): Promise<DeleteOutcome> {
    const response = await this.#send({ operation, method: 'DELETE', url: this.#url(path), headers: { 'If-Match': etag }, passStatuses: [404, 412] });
    if (response.status === 404) {
      this.#failOnMissingRoute(operation, response.text);
      return 'not-found';
    }
    return response.status === 412 ? 'changed' : 'deleted';
  }

  #url(path: string, query = ''): string {
    return `${this.#companyUrl}/${path}${query === '' ? '' : `?${query}`}`;
  }

  /** A nextLink must stay inside this company's API: never follow a link elsewhere. */
  #sameCompany(operation: string, link: string): string {
    let url: URL;
    try {
      url = new URL(link, `${this.#companyUrl}/`);
    } catch {
      throw new PermanentError(`${this.system} ${operation}: @odata.nextLink is not a URL`, { system: this.system, code: 'malformed-response' });
    }
    const company = new URL(this.#companyUrl);
    if (url.origin !== company.origin || !url.pathname.startsWith(company.pathname)) {
      throw new PermanentError(`${this.system} ${operation}: @odata.nextLink leaves the company's API (${url.origin}${url.pathname})`, {
        system: this.system,
        code: 'malformed-response',
      });
    }
    return url.href;
  }

  /** BC answers 404 both for a missing entity and for a route it does not have: the latter is configuration. */
  #failOnMissingRoute(operation: string, text: string): void {
    const detail = describeBusinessCentralFailure(404, text);
    if (/No HTTP resource was found|Resource not found for the segment|CompanyNotFound/i.test(detail)) {
      throw new PermanentError(
        `${this.system} ${operation}: HTTP 404 — ${detail} (check BUSINESS_CENTRAL_TENANT_ID, BUSINESS_CENTRAL_ENVIRONMENT and BUSINESS_CENTRAL_COMPANY_ID)`,
        { system: this.system, code: 'configuration' },
      );
    }
  }

  /** Sends with the bearer token; a 401 drops the token and tries once more with a new one. */
  async #send(request: VendorRequest): Promise<VendorResponse> {
    for (let attempt = 1; ; attempt += 1) {
      const token = await this.#tokens.accessToken();
      const response = await this.#http.request({
        ...request,
        headers: { Accept: 'application/json', ...request.headers, Authorization: `Bearer ${token}` },
        passStatuses: [...(request.passStatuses ?? []), 401],
      });
      if (response.status !== 401) return response;
      this.#tokens.reject(token);
      if (attempt >= 2) {
        throw new PermanentError(
          `${this.system} ${request.operation}: HTTP 401 — auth: Business Central refused a fresh access token (${describeBusinessCentralFailure(401, response.text)}); check the app's permissions in BC`,
          { system: this.system, code: 'auth' },
        );
      }
    }
  }
}
