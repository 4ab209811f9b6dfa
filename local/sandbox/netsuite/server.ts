/**
 * A NetSuite-compatible sandbox on `node:http`: the REST web services subset Harmony's
 * adapter uses, with NetSuite's auth, answers and error bodies.
 *
 * Routes:
 * - `POST /services/rest/auth/oauth2/v1/token` — OAuth 2.0 client credentials (JWT assertion)
 * - `GET|PATCH /services/rest/record/v1/{customer|salesOrder}/{id|eid:<external id>}`,
 *   `POST /services/rest/record/v1/{customer|salesOrder}` — see records.ts; with
 *   `Prefer: respond-async` (and `X-NetSuite-Idempotency-Key`) as a job, see async-jobs.ts
 * - `POST /services/rest/query/v1/suiteql` — see suiteql.ts
 * - `GET /services/rest/async/v1/job/{id}[/task[/{task}[/result]]]`
 * - `POST|GET|DELETE /__sandbox/faults` — a FaultRequest; operations are named like
 *   `GET /services/rest/record/v1/salesOrder`, `POST /services/rest/query/v1/suiteql`,
 *   `POST /services/rest/auth/oauth2/v1/token`, `GET /services/rest/async/v1/job`.
 *   Kinds `500`, `429` (Retry-After), `timeout` (held until close), `malformed` (a 200 with
 *   truncated JSON, nothing run), `commit-then-drop` (run and committed, connection destroyed).
 * - `POST /__sandbox/expire-tokens` — every issued access token expires
 * - `POST /__sandbox/async-jobs {"hold": bool}`, `GET /__sandbox/async-jobs` — hold/release the job queue, list jobs
 * - `GET /__sandbox/records/{type}` — the stored records of a type, for tests
 *
 * Requests with `x-sandbox-faults: bypass` are never faulted. Every API request needs a
 * valid bearer token or TBA signature (401 `INVALID_LOGIN` otherwise). State lives in
 * `<dataDir>/netsuite.sqlite`; each write commits before it is answered.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { bypassesFaults, FaultInjector, serveFaultRoutes } from '../faults.ts';
import { readBody, startSandboxServer, withJsonBody } from '../http-server.ts';
import { AsyncJobs, type AsyncRequest } from './async-jobs.ts';
import { authenticated, issueToken, TOKEN_PATH, type AccountAuthentication, type TokenBasedCredentials } from './authentication.ts';
import { createRecord, getRecord, patchRecord, recordType, type RecordContext } from './records.ts';
import { invalidContent, invalidLogin, netsuiteError, send, type SandboxAnswer } from './responses.ts';
import { seedAccount } from './seed.ts';
import { NetsuiteStore } from './store.ts';
import { runSuiteql } from './suiteql.ts';

export { SANDBOX_TAX_RATE } from './records.ts';
export { SEEDED_SKUS } from './seed.ts';

/** How to start the sandbox. */
export interface NetsuiteSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** State is kept in `<dataDir>/netsuite.sqlite`; undefined keeps it in memory. */
  readonly dataDir?: string;
  /** The account id as the TBA realm spells it, e.g. `1234567_SB1`. */
  readonly accountId: string;
  /** The M2M mapping: client id, certificate id and the certificate's public key (generated and kept in the store when left out). */
  readonly clientCredentials: { readonly clientId: string; readonly certificateId: string; readonly publicKey?: KeyObject | string };
  readonly tokenBased: TokenBasedCredentials;
  /** @default 3600, as NetSuite */
  readonly tokenLifetimeSeconds?: number;
}

/** A running sandbox. */
export interface NetsuiteSandbox {
  /** Base URL, e.g. `http://127.0.0.1:4021` — the adapter's NETSUITE_BASE_URL. */
  readonly url: string;
  readonly port: number;
  readonly accountId: string;
  /** The private key the sandbox generated for its M2M mapping (PEM), when none was given. */
  readonly generatedPrivateKey: string | undefined;
  /** Stops listening, ends held requests and connections, closes the store. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The fault-injection name of a request: method and path down to the record type or service. */
function operationOf(method: string, path: string): string {
  const record = /^\/services\/rest\/record\/v1\/([^/]+)/.exec(path);
  if (record !== null) return `${method} /services/rest/record/v1/${recordType(record[1]!) ?? record[1]}`;
  if (path.startsWith('/services/rest/async/v1/job')) return `${method} /services/rest/async/v1/job`;
  return `${method} ${path}`;
}

/** The public key of the M2M mapping: given, or generated once and kept in the store. */
function mappingKey(store: NetsuiteStore, given: KeyObject | string | undefined): { publicKey: KeyObject; generated: string | undefined } {
  if (given !== undefined) return { publicKey: typeof given === 'string' ? createPublicKey(given) : given, generated: undefined };
  let pem = store.setting('m2m-private-key');
  if (pem === undefined) {
    pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    store.setSetting('m2m-private-key', pem);
  }
  return { publicKey: createPublicKey(pem), generated: pem };
}

const HoldRequest = z.object({ hold: z.boolean() });

/** Starts a NetSuite sandbox; resolves once it listens. */
export async function startNetsuiteSandbox(options: NetsuiteSandboxOptions): Promise<NetsuiteSandbox> {
  const host = options.host ?? '127.0.0.1';
  const store = new NetsuiteStore(options.dataDir);
  const now = (): number => Date.now();
  if (store.isEmpty()) store.transaction(() => seedAccount(store));
  const key = store.transaction(() => mappingKey(store, options.clientCredentials.publicKey));
  const account: AccountAuthentication = {
    realm: options.accountId,
    clientCredentials: { clientId: options.clientCredentials.clientId, certificateId: options.clientCredentials.certificateId, publicKey: key.publicKey },
    tokenBased: options.tokenBased,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    store,
    now,
  };
  const faults = new FaultInjector();

  /** Runs a record request; the caller holds the transaction. */
  const executeRecord = (request: AsyncRequest): SandboxAnswer => {
    const [, segment = '', recordKey, ...rest] = request.path.replace(/^\/services\/rest\/record\/v1/, '').split('/');
    const type = recordType(segment);
    if (type === undefined) return netsuiteError(404, 'NONEXISTENT_ID', `Record type '${segment}' does not exist in the sandbox.`);
    if (rest.length > 0) return netsuiteError(404, 'NONEXISTENT_ID', 'The sandbox serves whole records only, not sublist or subrecord paths.');
    const context: RecordContext = { store, origin: request.origin, now };
    const key = recordKey === undefined ? undefined : decodeURIComponent(recordKey);
    if (request.method === 'GET' && key !== undefined) return getRecord(context, type, key, new URLSearchParams(request.search));
    if (request.method === 'POST' && key === undefined) return createRecord(context, type, request.body);
    if (request.method === 'PATCH' && key !== undefined) return patchRecord(context, type, key, request.body);
    return netsuiteError(405, 'INVALID_METHOD', `${request.method} is not supported here by the sandbox.`);
  };
  const jobs = new AsyncJobs(store, executeRecord, now);
  store.transaction(() => jobs.runPending());

  const control = (method: string, path: string, body: unknown): SandboxAnswer => {
    const route = `${method} ${path}`;
    if (route === 'POST /__sandbox/expire-tokens') return { status: 200, body: { expired: store.transaction(() => store.expireTokens()) } };
    if (route === 'GET /__sandbox/async-jobs') return { status: 200, body: { held: jobs.held, jobs: jobs.list() } };
    if (route === 'POST /__sandbox/async-jobs') {
      const parsed = HoldRequest.safeParse(body);
      if (!parsed.success) return { status: 400, body: { error: z.prettifyError(parsed.error) } };
      jobs.held = parsed.data.hold;
      if (!jobs.held) store.transaction(() => jobs.runPending());
      return { status: 200, body: { held: jobs.held } };
    }
    const records = /^GET \/__sandbox\/records\/([A-Za-z]+)$/.exec(route);
    if (records !== null) return { status: 200, body: store.all(records[1]!) };
    return { status: 404, body: { error: `no sandbox route ${route}` } };
  };

  const api = async (request: IncomingMessage, method: string, url: URL, path: string, text: string, origin: string): Promise<SandboxAnswer> => {
    if (path === TOKEN_PATH && method === 'POST') return issueToken(account, new URLSearchParams(text), origin);
    if (!authenticated(account, request.headers, method, url)) return invalidLogin();
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return invalidContent('The request body is not valid JSON.');
      }
    }
    if (path.startsWith('/services/rest/record/v1/')) {
      const recordRequest: AsyncRequest = { method, path, search: url.search.replace(/^\?/, ''), body, origin };
      if (/respond-async/i.test(String(request.headers.prefer ?? ''))) {
        const key = request.headers['x-netsuite-idempotency-key'];
        return store.transaction(() => jobs.submit(recordRequest, typeof key === 'string' ? key : undefined));
      }
      return method === 'GET' ? executeRecord(recordRequest) : store.transaction(() => executeRecord(recordRequest));
    }
    if (path === '/services/rest/query/v1/suiteql' && method === 'POST') {
      if (!/transient/i.test(String(request.headers.prefer ?? ''))) {
        return netsuiteError(400, 'INVALID_HEADER', 'SuiteQL queries need the header Prefer: transient.');
      }
      return runSuiteql(store, body, url.searchParams, origin);
    }
    const job = /^\/services\/rest\/async\/v1\/job\/(.+)$/.exec(path);
    if (job !== null && method === 'GET') return jobs.read(job[1]!.split('/'), origin);
    return netsuiteError(404, 'NONEXISTENT_ID', `No REST resource at ${method} ${path}.`);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const origin = `http://${request.headers.host ?? host}`;
    const url = new URL(request.url ?? '/', origin);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const text = await readBody(request, MAX_BODY_BYTES);
    if (text === undefined) return send(response, netsuiteError(413, 'INVALID_CONTENT', `The request body exceeds ${MAX_BODY_BYTES} bytes.`));
    const faultRoute = serveFaultRoutes(faults, method, path, text);
    if (faultRoute !== undefined) return send(response, faultRoute);
    if (path.startsWith('/__sandbox/')) return send(response, withJsonBody(text, (body) => control(method, path, body)));
    const fault = bypassesFaults(request.headers) ? undefined : faults.take(operationOf(method, path));
    if (fault?.kind === 'timeout') return server.hold(response);
    if (fault?.kind === '429') {
      return send(response, netsuiteError(429, 'CONCURRENCY_LIMIT_EXCEEDED', 'Concurrent request limit exceeded. Request blocked.', { headers: { 'retry-after': String(fault.retryAfterSeconds) } }));
    }
    if (fault?.kind === '500') return send(response, netsuiteError(500, 'UNEXPECTED_ERROR', 'An unexpected error occurred (injected by the sandbox).'));
    if (fault?.kind === 'malformed') {
      response.writeHead(200, { 'content-type': 'application/vnd.oracle.resource+json; type=singular' });
      return void response.end('{"links":[{"rel":"self","hr');
    }
    const answer = await api(request, method, url, path, text, origin);
    // The request has run and is committed; the caller never hears of it.
    if (fault?.kind === 'commit-then-drop') return void response.destroy();
    send(response, answer);
  };

  const server = await startSandboxServer({
    host,
    port: options.port ?? 0,
    handle,
    fail: (response, error) => send(response, netsuiteError(500, 'UNEXPECTED_ERROR', `sandbox failure: ${String(error)}`)),
    release: () => store.close(),
  });
  return {
    url: server.url,
    port: server.port,
    accountId: options.accountId,
    generatedPrivateKey: key.generated,
    close: () => server.close(),
  };
}
