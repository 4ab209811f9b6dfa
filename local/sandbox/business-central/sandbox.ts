/**
 * A Microsoft Dynamics 365 Business Central sandbox on `node:http`: Entra ID's token
 * endpoint and the API v2.0 subset the Harmony adapter uses, with BC's URL layout, GUID
 * ids, OData JSON, etags and errors.
 *
 * Routes:
 * - `POST /{tenant}/oauth2/v2.0/token` — client credentials (see entra.ts); operation `POST token`
 * - `GET /v2.0/{tenant}/{environment}/api/v2.0/companies[(<id>)]`
 * - `…/companies(<id>)/…` — see api.ts; operations are named `GET salesOrders`,
 *   `POST salesOrders`, `DELETE salesOrders`, `POST salesOrders/Microsoft.NAV.shipAndInvoice`…
 * - `POST|GET|DELETE /__sandbox/faults` — a FaultRequest (`500`, `429` with Retry-After,
 *   `timeout` (held until close), `malformed` (a 200 with truncated JSON),
 *   `commit-then-drop` (the call runs and commits, then the socket is destroyed)).
 *   A request with `x-sandbox-faults: bypass` is never faulted.
 * - `POST /__sandbox/expire-tokens` — every token issued so far is expired
 * - `POST|DELETE /__sandbox/concurrent-edits` — `{count, operation?}`: before each of the
 *   next `count` calls of `operation` (default `DELETE salesOrders`) to an order, another
 *   "user" edits that order, so the etag the caller read is stale (412 on If-Match)
 *
 * State lives in `<dataDir>/business-central.sqlite` (see store.ts), seeded on first start.
 */
import type http from 'node:http';
import * as z from 'zod';
import type { SandboxDefinition } from '../definition.ts';
import { bypassesFaults, FaultInjector, serveFaultRoutes } from '../faults.ts';
import { readBody, startSandboxServer, withJsonBody } from '../http-server.ts';
import { handleCompanyRequest, operationName, parseCompanyPath } from './api.ts';
import type { Company } from './company.ts';
import { TokenIssuer } from './entra.ts';
import { bcError, internalError, noRoute, send, tooManyRequests, unauthorized, type SandboxAnswer } from './responses.ts';
import { editSalesOrderAsAnotherUser } from './sales-orders.ts';
import { seedCompany } from './seed.ts';
import { BusinessCentralStore } from './store.ts';

export { SANDBOX_VAT_PERCENT, SEEDED_SKUS } from './seed.ts';

/** The sandbox company's id unless the options name another. */
export const SANDBOX_COMPANY_ID = '6f1b2a0c-8d3e-4f5a-9b7c-2e4d6f8a0b1c';

/** How to start a Business Central sandbox. */
export interface BusinessCentralSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** State in `<dataDir>/business-central.sqlite`; undefined keeps it in memory. */
  readonly dataDir?: string;
  /** The Entra tenant the token endpoint and the API answer for. */
  readonly tenantId: string;
  /** The BC environment name in API URLs. */
  readonly environment: string;
  /** The one app registration that gets tokens. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** @default SANDBOX_COMPANY_ID */
  readonly companyId?: string;
  /** The company's local currency. @default EUR */
  readonly localCurrency?: string;
  /** Seconds an access token lives. @default 3599 (as Entra ID) */
  readonly tokenLifetimeSeconds?: number;
  /** Entities per page before `@odata.nextLink`. @default 100 */
  readonly pageSize?: number;
}

/** A running sandbox. */
export interface BusinessCentralSandbox {
  /** Base URL: both `BUSINESS_CENTRAL_API_URL` and `BUSINESS_CENTRAL_LOGIN_URL`. */
  readonly url: string;
  readonly port: number;
  readonly companyId: string;
  /** Pending faults; the queue `POST /__sandbox/faults` fills. */
  readonly faults: FaultInjector;
  /** Stops listening, drops held requests and closes the database. */
  close(): Promise<void>;
}

const ConcurrentEdits = z.object({
  count: z.number().int().positive().max(1000),
  operation: z.string().min(1).default('DELETE salesOrders'),
});

const BODY_LIMIT_BYTES = 1024 * 1024;

/** Starts a Business Central sandbox; resolves once it listens. */
export async function startBusinessCentralSandbox(options: BusinessCentralSandboxOptions): Promise<BusinessCentralSandbox> {
  const host = options.host ?? '127.0.0.1';
  const companyId = (options.companyId ?? SANDBOX_COMPANY_ID).toLowerCase();
  const pageSize = options.pageSize ?? 100;
  const store = new BusinessCentralStore(options.dataDir);
  if (store.isEmpty()) seedCompany(store);
  const company: Company = { store, localCurrency: options.localCurrency ?? 'EUR' };
  const issuer = new TokenIssuer({
    tenantId: options.tenantId,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    lifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    signingKey: store.signingKey(),
    generation: () => store.counter('token-generation', 0),
  });
  const faults = new FaultInjector();
  const edits: z.infer<typeof ConcurrentEdits>[] = [];

  const control = (route: string, body: unknown): SandboxAnswer => {
    switch (route) {
      case 'POST /__sandbox/expire-tokens':
        store.transaction(() => store.next('token-generation', 1));
        return { status: 204 };
      case 'POST /__sandbox/concurrent-edits': {
        const parsed = ConcurrentEdits.safeParse(body);
        if (!parsed.success) return { status: 400, body: { error: 'invalid concurrent edit', issues: parsed.error.issues } };
        edits.push(parsed.data);
        return { status: 201, body: { pending: edits.reduce((sum, edit) => sum + edit.count, 0) } };
      }
      case 'DELETE /__sandbox/concurrent-edits':
        edits.length = 0;
        return { status: 204 };
      default:
        return { status: 404, body: { error: `no sandbox route ${route}` } };
    }
  };

  /** Another user edits the addressed order first, when a concurrent edit is due for this operation. */
  const editFirst = (operation: string, entitySet: string, id: string | undefined): void => {
    const index = edits.findIndex((edit) => edit.operation === operation);
    if (index < 0 || entitySet !== 'salesOrders' || id === undefined) return;
    const edit = edits[index]!;
    edit.count -= 1;
    if (edit.count === 0) edits.splice(index, 1);
    store.transaction(() => editSalesOrderAsAnotherUser(company, id));
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? host}`);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const text = await readBody(request, BODY_LIMIT_BYTES);
    if (text === undefined) return send(response, bcError(413, 'BadRequest', `The request body exceeds ${BODY_LIMIT_BYTES} bytes.`));
    const faultRoute = serveFaultRoutes(faults, method, path, text);
    if (faultRoute !== undefined) return send(response, faultRoute);
    if (path.startsWith('/__sandbox/')) return send(response, withJsonBody(text, (body) => control(`${method} ${path}`, body)));

    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    const api = /^\/v2\.0\/([^/]+)\/([^/]+)\/api\/v2\.0\/(.*)$/.exec(path);
    const companyPath = api === null ? undefined : /^companies\(([^)]*)\)\/(.+)$/.exec(decodeURIComponent(api[3]!));
    const target = companyPath === null || companyPath === undefined ? undefined : parseCompanyPath(companyPath[2]!);
    const operation = token !== null ? 'POST token' : target !== undefined ? operationName(method, target) : `${method} companies`;

    const fault = bypassesFaults(request.headers) ? undefined : faults.take(operation);
    if (fault?.kind === 'timeout') return server.hold(response);
    if (fault?.kind === '429') return send(response, tooManyRequests(fault.retryAfterSeconds));
    if (fault?.kind === '500') return send(response, internalError());
    if (fault?.kind === 'malformed') return send(response, { status: 200, body: '{"@odata.context":"$metadata#companies","value":[{"@odata.etag":"W/\\"JzE5O' });

    let answer: SandboxAnswer;
    if (token !== null) {
      answer = method === 'POST'
        ? issuer.token(decodeURIComponent(token[1]!), new URLSearchParams(text), request.headers.authorization)
        : bcError(405, 'BadRequest_MethodNotAllowed', 'The token endpoint takes POST only.');
    } else if (api === null || decodeURIComponent(api[1]!).toLowerCase() !== options.tenantId.toLowerCase() || decodeURIComponent(api[2]!) !== options.environment) {
      answer = noRoute(url.href);
    } else {
      const rejection = issuer.rejection(request.headers.authorization);
      if (rejection !== undefined) {
        answer = unauthorized(options.tenantId, rejection);
      } else {
        const apiRoot = `${url.origin}/v2.0/${api[1]}/${api[2]}/api/v2.0`;
        answer = companyRequest(apiRoot, decodeURIComponent(api[3]!), method, url, text, request.headers['if-match'], operation);
      }
    }
    // The call has run and is stored; the caller never hears of it.
    if (fault?.kind === 'commit-then-drop') return void response.destroy();
    send(response, answer);
  };

  const companyRequest = (apiRoot: string, rest: string, method: string, url: URL, text: string, ifMatch: string | undefined, operation: string): SandboxAnswer => {
    if (rest === 'companies' || rest === `companies(${companyId})`) {
      if (method !== 'GET') return bcError(405, 'BadRequest_MethodNotAllowed', `'${method}' requests for 'companies' are not allowed within Microsoft Dynamics 365 Business Central OData web services.`);
      const entity = { id: companyId, systemVersion: '24.0.16410.18056', timestamp: 1, name: 'CRONUS Harmony', displayName: 'CRONUS Harmony', businessProfileId: '' };
      return rest === 'companies'
        ? { status: 200, body: { '@odata.context': `${apiRoot}/$metadata#companies`, value: [entity] } }
        : { status: 200, body: { '@odata.context': `${apiRoot}/$metadata#companies/$entity`, ...entity } };
    }
    const match = /^companies\(([^)]*)\)\/(.+)$/.exec(rest);
    if (match === null) return noRoute(url.href);
    if (match[1]!.toLowerCase() !== companyId) return bcError(404, 'Internal_CompanyNotFound', `The company '${match[1]}' does not exist.`);
    const target = parseCompanyPath(match[2]!);
    if (target === undefined) return noRoute(url.href);
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return bcError(400, 'BadRequest', 'Invalid Request Body');
      }
    }
    editFirst(operation, target.entitySet, target.id);
    return handleCompanyRequest(
      company,
      {
        method,
        ...target,
        query: url.searchParams,
        body,
        ifMatch,
        location: { context: `${apiRoot}/$metadata#companies(${companyId})/${target.entitySet}`, requestUrl: url },
      },
      pageSize,
    );
  };

  const server = await startSandboxServer({
    host,
    port: options.port ?? 0,
    handle,
    fail: (response, error) => send(response, bcError(500, 'Internal_ServerError', `sandbox failure: ${String(error)}`)),
    release: () => store.close(),
  });
  return {
    url: server.url,
    port: server.port,
    companyId,
    faults,
    close: () => server.close(),
  };
}

/** Credentials of the sandbox the local hub starts. */
const LOCAL = {
  tenantId: '3f1c5e2a-7b9d-4c6e-8a0f-1d2b3c4d5e6f',
  environment: 'production',
  clientId: '0b6c4e1d-2f3a-4b5c-9d8e-7f6a5b4c3d2e',
  clientSecret: 'local-business-central-secret',
} as const;

/** The Business Central sandbox as the hub starts it: port 4023 (`HARMONY_BUSINESS_CENTRAL_PORT`), state under the hub's data directory. */
export const businessCentralSandbox: SandboxDefinition = {
  system: 'business-central',
  defaultPort: 4023,
  portVariable: 'HARMONY_BUSINESS_CENTRAL_PORT',
  async start(options) {
    const sandbox = await startBusinessCentralSandbox({ ...LOCAL, host: options.host, port: options.port, dataDir: options.dataDir });
    options.log?.(`Business Central sandbox on ${sandbox.url} (company ${sandbox.companyId})`);
    return {
      url: sandbox.url,
      environment: {
        BUSINESS_CENTRAL_TENANT_ID: LOCAL.tenantId,
        BUSINESS_CENTRAL_ENVIRONMENT: LOCAL.environment,
        BUSINESS_CENTRAL_COMPANY_ID: sandbox.companyId,
        BUSINESS_CENTRAL_API_URL: sandbox.url,
        BUSINESS_CENTRAL_LOGIN_URL: sandbox.url,
        BUSINESS_CENTRAL_LOCAL_CURRENCY: 'EUR',
        BUSINESS_CENTRAL_CLIENT_ID: LOCAL.clientId,
        BUSINESS_CENTRAL_CLIENT_SECRET: LOCAL.clientSecret,
      },
      close: () => sandbox.close(),
    };
  },
};
