/**
 * An SAP S/4HANA sandbox on `node:http`: the OData v2 services API_SALES_ORDER_SRV and
 * API_BUSINESS_PARTNER (the subset the Harmony adapter uses, see odata-service.ts), the
 * ICF logon (basic auth, OAuth bearer tokens, `sap-client`), CSRF tokens bound to
 * security sessions (see security.ts), SAP's number formats and error bodies.
 *
 * Routes:
 * - `POST /sap/bc/sec/oauth2/token` — client credentials; operation `POST token`
 * - `/sap/opu/odata/sap/<SERVICE>/…` — operations `GET API_SALES_ORDER_SRV` (service
 *   document, where clients fetch CSRF tokens), `GET A_SalesOrder`, `POST A_SalesOrder`,
 *   `PATCH A_SalesOrder`, `PATCH A_SalesOrderItem`, `GET A_BusinessPartner`… (MERGE and
 *   `X-HTTP-Method` tunnelling count as PATCH)
 * - `POST|DELETE /__sandbox/faults` — a FaultRequest (`500`, `429` with Retry-After,
 *   `timeout` (held until close), `malformed` (a 200 with truncated JSON),
 *   `commit-then-drop` (the call runs and commits, then the socket is destroyed)).
 *   A request with `x-sandbox-faults: bypass` is never faulted.
 * - `POST /__sandbox/expire-tokens` — every OAuth access token issued so far expires
 * - `POST /__sandbox/expire-sessions` — every security session ends (CSRF tokens refused)
 * - `POST|DELETE /__sandbox/concurrent-edits` — `{count}`: before each of the next `count`
 *   PATCHes of a sales order header, another "user" changes it (the caller's ETag is stale)
 * - `POST /__sandbox/deliver`, `POST /__sandbox/bill` — `{salesOrder}`: post the goods
 *   issue / bill the order-related items, as SAP's follow-on documents would
 *
 * State lives in `<dataDir>/sap.sqlite` (see store.ts), seeded on first start.
 */
import type http from 'node:http';
import * as z from 'zod';
import type { SandboxDefinition } from '../definition.ts';
import { bypassesFaults, FaultInjector, FaultRequest } from '../faults.ts';
import { readBody, startSandboxServer, type SandboxServer } from '../http-server.ts';
import { alphaInput, entitySet } from './entity-model.ts';
import { operationOf, parseTarget, serveOData, type ODataTarget } from './odata-service.ts';
import { csrfRequired, internalError, logonFailed, sapError, send, tooManyRequests, type SandboxAnswer } from './responses.ts';
import { billSalesOrder, deliverSalesOrder, editSalesOrderAsAnotherUser } from './sales-orders.ts';
import { SapSecurity } from './security.ts';
import { seedStore } from './seed.ts';
import { SapStore } from './store.ts';

export { DELIVERY_BLOCKS, REJECTION_REASONS, SALES_AREA, SANDBOX_VAT_PERCENT, SEEDED_CUSTOMER, SEEDED_SKUS, SEEDED_SUPPLIER } from './seed.ts';

/** How to start an SAP sandbox. */
export interface SapSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** State in `<dataDir>/sap.sqlite`; undefined keeps it in memory. */
  readonly dataDir?: string;
  /** The communication user for basic auth. */
  readonly username: string;
  readonly password: string;
  /** The OAuth client of the communication arrangement. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** @default 100 */
  readonly client?: string;
  /** @default S4H */
  readonly systemId?: string;
  /** Seconds an access token lives. @default 3600 */
  readonly tokenLifetimeSeconds?: number;
  /** Entities per page before `__next`. @default 1000 */
  readonly pageSize?: number;
}

/** A running sandbox. */
export interface SapSandbox {
  /** Base URL: `SAP_BASE_URL`; the token endpoint is `<url>/sap/bc/sec/oauth2/token`. */
  readonly url: string;
  readonly port: number;
  /** The `sap-client` it answers for. */
  readonly client: string;
  /** Pending faults; the queue `POST /__sandbox/faults` fills. */
  readonly faults: FaultInjector;
  /** Stops listening, drops held requests and closes the database. */
  close(): Promise<void>;
}

const ConcurrentEdits = z.object({ count: z.number().int().positive().max(1000) });
const OrderReference = z.object({ salesOrder: z.string().min(1) });
const BODY_LIMIT_BYTES = 1024 * 1024;
const TUNNELLED = new Set(['MERGE', 'PATCH', 'PUT', 'DELETE']);

/** Starts an SAP sandbox; resolves once it listens. */
export async function startSapSandbox(options: SapSandboxOptions): Promise<SapSandbox> {
  const host = options.host ?? '127.0.0.1';
  const client = options.client ?? '100';
  const systemId = options.systemId ?? 'S4H';
  const pageSize = options.pageSize ?? 1000;
  const store = new SapStore(options.dataDir);
  if (store.isEmpty()) seedStore(store);
  const security = new SapSecurity(
    { systemId, client, username: options.username, password: options.password, clientId: options.clientId, clientSecret: options.clientSecret, tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600 },
    store,
  );
  const faults = new FaultInjector();
  let pendingEdits = 0;

  const control = (route: string, body: unknown): SandboxAnswer => {
    const orderCommand = (run: (order: string, now: number) => string | undefined): SandboxAnswer => {
      const parsed = OrderReference.safeParse(body);
      if (!parsed.success) return { status: 400, body: { error: 'expected {"salesOrder": "<number>"}' } };
      const problem = store.transaction(() => run(parsed.data.salesOrder, Date.now()));
      return problem === undefined ? { status: 204 } : { status: 409, body: { error: problem } };
    };
    switch (route) {
      case 'POST /__sandbox/faults': {
        const parsed = FaultRequest.safeParse(body);
        if (!parsed.success) return { status: 400, body: { error: 'invalid fault', issues: parsed.error.issues } };
        faults.add(parsed.data);
        return { status: 201, body: { remaining: faults.remaining() } };
      }
      case 'DELETE /__sandbox/faults':
        faults.clear();
        return { status: 204 };
      case 'POST /__sandbox/expire-tokens':
        security.expireTokens();
        return { status: 204 };
      case 'POST /__sandbox/expire-sessions':
        security.expireSessions();
        return { status: 204 };
      case 'POST /__sandbox/concurrent-edits': {
        const parsed = ConcurrentEdits.safeParse(body);
        if (!parsed.success) return { status: 400, body: { error: 'expected {"count": n}' } };
        pendingEdits += parsed.data.count;
        return { status: 201, body: { pending: pendingEdits } };
      }
      case 'DELETE /__sandbox/concurrent-edits':
        pendingEdits = 0;
        return { status: 204 };
      case 'POST /__sandbox/deliver':
        return orderCommand((order, now) => deliverSalesOrder(store, order, now));
      case 'POST /__sandbox/bill':
        return orderCommand((order, now) => billSalesOrder(store, order, now));
      default:
        return { status: 404, body: { error: `no sandbox route ${route}` } };
    }
  };

  /** Another user edits the order first, when a concurrent edit is pending for a header PATCH. */
  const editFirst = (method: string, target: ODataTarget): void => {
    if (pendingEdits === 0 || method !== 'PATCH' || target.entitySet !== 'A_SalesOrder' || target.key === undefined) return;
    const key = /^'([^']*)'$/.exec(target.key)?.[1];
    if (key === undefined) return;
    pendingEdits -= 1;
    store.transaction(() => editSalesOrderAsAnotherUser(store, alphaInput(key), Date.now()));
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? host}`);
    const path = url.pathname;
    const text = await readBody(request, BODY_LIMIT_BYTES);
    if (text === undefined) return send(response, sapError(413, '/IWBEP/CX_MGW_TECH_EXCEPTION', `The request body exceeds ${BODY_LIMIT_BYTES} bytes`));
    const tunnelled = request.headers['x-http-method'];
    const requested = request.method === 'POST' && typeof tunnelled === 'string' && TUNNELLED.has(tunnelled.toUpperCase()) ? tunnelled.toUpperCase() : request.method ?? 'GET';
    const method = requested === 'MERGE' ? 'PATCH' : requested;
    if (path.startsWith('/__sandbox/')) {
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        return send(response, { status: 400, body: { error: 'body is not JSON' } });
      }
      return send(response, control(`${method} ${path.replace(/\/+$/, '')}`, body));
    }

    const isToken = path === '/sap/bc/sec/oauth2/token';
    const odata = /^\/sap\/opu\/odata\/sap\/(.*)$/i.exec(path);
    const target = odata === null ? undefined : parseTarget(decodeURIComponent(odata[1]!));
    const operation = isToken ? 'POST token' : target === undefined ? `${method} ${path}` : operationOf(method, target);
    const service = target?.service ?? '';

    const fault = bypassesFaults(request.headers) ? undefined : faults.take(operation);
    if (fault?.kind === 'timeout') return server.hold(response);
    if (fault?.kind === '429') return send(response, tooManyRequests(fault.retryAfterSeconds, service));
    if (fault?.kind === '500') return send(response, internalError(service));
    if (fault?.kind === 'malformed') return send(response, { status: 200, body: '{"d":{"__metadata":{"id":"http://127.0.0.1/sap/opu/odata/sap/' });

    let answer: SandboxAnswer;
    if (isToken) {
      const sapClient = url.searchParams.get('sap-client');
      answer = method !== 'POST'
        ? { status: 405, body: { error: 'invalid_request', error_description: 'The token endpoint takes POST only' } }
        : sapClient !== null && sapClient !== client
          ? { status: 401, body: { error: 'invalid_client', error_description: `Client ${sapClient} does not exist` } }
          : security.issueToken(new URLSearchParams(text), request.headers.authorization);
    } else if (target === undefined) {
      answer = { status: 404, headers: { 'content-type': 'text/plain' }, body: `No resource at ${path}` };
    } else {
      answer = serveLoggedOn(request, method, target, url, text);
    }
    // The call has run and is stored; the caller never hears of it.
    if (fault?.kind === 'commit-then-drop') return void response.destroy();
    send(response, answer);
  };

  const serveLoggedOn = (request: http.IncomingMessage, method: string, target: ODataTarget, url: URL, text: string): SandboxAnswer => {
    const logon = security.logon(request.headers, url.searchParams.get('sap-client'));
    if ('refused' in logon) return logonFailed(systemId, client, logon.refused === 'token');
    const session = security.session(logon.user, request.headers, method);
    if (!session.allowed) return csrfRequired();
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return sapError(400, '/IWBEP/CX_MGW_TECH_EXCEPTION', 'Malformed JSON in the request body', target.service);
      }
    }
    if (entitySet(target.service, target.entitySet) !== undefined) editFirst(method, target);
    const ifMatch = request.headers['if-match'];
    const answer = serveOData(store, { method, target, query: url.searchParams, body, ifMatch: typeof ifMatch === 'string' ? ifMatch : undefined, origin: url.origin }, pageSize);
    return { ...answer, headers: { ...answer.headers, ...session.headers } };
  };

  const server: SandboxServer = await startSandboxServer({
    host,
    port: options.port ?? 0,
    handle,
    fail: (response, error) => send(response, sapError(500, '/IWBEP/CX_MGW_TECH_EXCEPTION', `sandbox failure: ${String(error)}`)),
    release: () => store.close(),
  });
  return { url: server.url, port: server.port, client, faults, close: () => server.close() };
}

/** Credentials of the sandbox the local hub starts. */
const LOCAL = {
  username: 'HARMONY_COMM',
  password: 'local-sap-password',
  clientId: 'HARMONY_OAUTH',
  clientSecret: 'local-sap-client-secret',
  client: '100',
} as const;

/** The SAP sandbox as the hub starts it: port 4022 (`HARMONY_SAP_PORT`), state under the hub's data directory, OAuth. */
export const sapSandbox: SandboxDefinition = {
  system: 'sap',
  defaultPort: 4022,
  portVariable: 'HARMONY_SAP_PORT',
  async start(options) {
    const sandbox = await startSapSandbox({ ...LOCAL, host: options.host, port: options.port, dataDir: options.dataDir });
    options.log?.(`SAP S/4HANA sandbox on ${sandbox.url} (client ${sandbox.client})`);
    return {
      url: sandbox.url,
      environment: {
        SAP_BASE_URL: sandbox.url,
        SAP_CLIENT: LOCAL.client,
        SAP_AUTH: 'oauth2',
        SAP_TOKEN_URL: `${sandbox.url}/sap/bc/sec/oauth2/token?sap-client=${LOCAL.client}`,
        SAP_SALES_ORDER_TYPE: 'OR',
        SAP_SALES_ORGANIZATION: '1710',
        SAP_DISTRIBUTION_CHANNEL: '10',
        SAP_DIVISION: '00',
        SAP_REJECTION_REASON: 'Z1',
        SAP_DELIVERY_BLOCK: 'Z1',
        SAP_PRICING: 'crm',
        SAP_PRICE_CONDITION_TYPE: 'PR00',
        SAP_CUSTOMER_CURRENCY: 'EUR',
        SAP_DEFAULT_COUNTRY: 'DE',
        SAP_CLIENT_ID: LOCAL.clientId,
        SAP_CLIENT_SECRET: LOCAL.clientSecret,
        SAP_USERNAME: LOCAL.username,
        SAP_PASSWORD: LOCAL.password,
      },
      close: () => sandbox.close(),
    };
  },
};
