/**
 * A Pipedrive-compatible sandbox on `node:http`: the API v2/v1 subset Harmony's adapter uses
 * (see api.ts), Pipedrive's envelope and error bodies, API token and OAuth auth with the OAuth
 * token endpoint on the same server, and webhooks v2 for deal changes.
 *
 * Routes besides the API:
 * - `POST /oauth/token` — `grant_type=refresh_token` (see authentication.ts)
 * - `POST /__sandbox/deals` — a deal with its organization, person and products (see deals.ts);
 *   answers `{success, data: deal}` and queues a `create` webhook
 * - `POST|GET|DELETE /__sandbox/faults` — a `FaultRequest`; operations are named like
 *   `GET /api/v2/deals/{id}`, `PATCH /api/v2/deals/{id}`, `GET /api/v1/dealFields` and
 *   `POST /oauth/token`. The token endpoint stands for oauth.pipedrive.com, another server: only
 *   rules naming it fault it. Kinds `500`, `429` (`Retry-After` and `x-ratelimit-reset`),
 *   `timeout` (held until close), `malformed` (a 200 with truncated JSON, nothing run),
 *   `commit-then-drop` (run and committed, then the connection destroyed)
 * - `POST /__sandbox/expire-tokens` — every issued access token expires
 * - `GET /__sandbox/webhook-deliveries` — the newest delivery attempts, oldest first (`?limit=`, ≤ 1000)
 *
 * Requests with `x-sandbox-faults: bypass` are never faulted. State lives in
 * `<dataDir>/pipedrive.sqlite`; a write and the webhooks it causes commit before the answer.
 */
import type http from 'node:http';
import * as z from 'zod';
import { bypassesFaults, FaultInjector, serveFaultRoutes, type Fault, type FaultRules } from '../faults.ts';
import { readBody, startSandboxServer, withJsonBody } from '../http-server.ts';
import { apiRequest, operationOf } from './api.ts';
import { issueToken, refusedAuthentication, TOKEN_PATH, type SandboxOAuthApp } from './authentication.ts';
import { createSandboxDeal, type DealOutcome } from './deals.ts';
import { internalError, pipedriveError, rateLimited, send, unauthorized, type SandboxAnswer } from './responses.ts';
import { customFieldKey, SANDBOX_COMPANY_ID, SANDBOX_FIELD_NAMES, seedCompany } from './seed.ts';
import { PipedriveStore, type DeliveryLogEntry } from './store.ts';
import { PIPEDRIVE_DELIVERY_TIMEOUT_MS, PIPEDRIVE_RETRY_DELAYS_MS, WebhookOutbox, type WebhookTarget } from './webhook-outbox.ts';

export { PIPEDRIVE_RETRY_DELAYS_MS } from './webhook-outbox.ts';
export { SEEDED_SKUS, SANDBOX_FIELD_NAMES } from './seed.ts';
export type { DeliveryLogEntry } from './store.ts';

/** How to start the sandbox. */
export interface PipedriveSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** State is kept in `<dataDir>/pipedrive.sqlite`; undefined keeps it in memory. */
  readonly dataDir?: string;
  /** The API token the API accepts in `x-api-token`. */
  readonly apiToken: string;
  /** The OAuth app whose refresh token `POST /oauth/token` accepts; undefined refuses every refresh. */
  readonly oauth?: SandboxOAuthApp;
  /** @default 3599 (Pipedrive's tokens last an hour) */
  readonly tokenLifetimeSeconds?: number;
  /** The `api_domain` token answers name. @default the sandbox's own URL */
  readonly oauthApiDomain?: string;
  /** Where deal webhooks go, with the basic auth the webhook was created with; undefined sends none. */
  readonly webhook?: WebhookTarget;
  /** Delay before each retry of a failed delivery; its length is the number of retries. @default PIPEDRIVE_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
  /** How long a receiver may take to answer. @default 10000 */
  readonly deliveryTimeoutMs?: number;
}

/** The custom field keys of the sandbox company, for tests that read what Harmony wrote. */
export interface SandboxFieldKeys {
  readonly orderRef: string;
  readonly status: string;
  readonly syncError: string;
  /** The organization field `VAT number`. */
  readonly vatNumber: string;
}

/** A running sandbox. */
export interface PipedriveSandbox {
  /** Base URL, e.g. `http://127.0.0.1:4012`: PIPEDRIVE_API_URL and PIPEDRIVE_OAUTH_URL alike. */
  readonly url: string;
  readonly port: number;
  readonly companyId: number;
  readonly fieldKeys: SandboxFieldKeys;
  /** The newest 500 delivery attempts, oldest first. */
  deliveries(): DeliveryLogEntry[];
  /** Deliveries not yet made (waiting or being retried). */
  pendingWebhooks(): number;
  /** Stops serving and delivering; ends held requests, sockets and timers. */
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 1024 * 1024;
const DeliveryQuery = z.object({ limit: z.coerce.number().int().positive().max(1000).default(500) });

/** Starts a Pipedrive sandbox; resolves once it listens. */
export async function startPipedriveSandbox(options: PipedriveSandboxOptions): Promise<PipedriveSandbox> {
  const host = options.host ?? '127.0.0.1';
  const store = new PipedriveStore(options.dataDir);
  if (!store.seeded()) store.transaction(() => seedCompany(store));
  const credentials = { apiToken: options.apiToken, oauth: options.oauth, tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599 };
  const apiFaults = new FaultInjector();
  const oauthFaults = new FaultInjector();
  /** What the fault routes act on: a rule naming the token endpoint goes to its own queue (it stands for another server). */
  const faultRules: FaultRules = {
    add: (rule) => (rule.operation === `POST ${TOKEN_PATH}` ? oauthFaults : apiFaults).add(rule),
    clear: () => {
      apiFaults.clear();
      oauthFaults.clear();
    },
    remaining: () => apiFaults.remaining() + oauthFaults.remaining(),
  };
  const outbox = options.webhook === undefined
    ? undefined
    : new WebhookOutbox({
        store,
        target: options.webhook,
        retryDelaysMs: options.retryDelaysMs ?? PIPEDRIVE_RETRY_DELAYS_MS,
        timeoutMs: options.deliveryTimeoutMs ?? PIPEDRIVE_DELIVERY_TIMEOUT_MS,
      });
  let baseUrl = '';

  /** Stores a write with the webhooks it causes, in one transaction, then wakes the outbox. */
  const commit = (work: () => DealOutcome): SandboxAnswer => {
    const answer = store.transaction(() => {
      const outcome = work();
      if (outbox !== undefined) for (const event of outcome.events) store.enqueue(event, Date.now());
      return outcome.answer;
    });
    outbox?.wake();
    return answer;
  };

  const control = (method: string, path: string, query: URLSearchParams, body: unknown): SandboxAnswer => {
    switch (`${method} ${path}`) {
      case 'POST /__sandbox/expire-tokens':
        return { status: 200, body: { expired: store.transaction(() => store.expireTokens(Date.now())) } };
      case 'POST /__sandbox/deals':
        return commit(() => createSandboxDeal(store, body, Date.now()));
      case 'GET /__sandbox/webhook-deliveries': {
        const parsed = DeliveryQuery.safeParse(Object.fromEntries(query));
        if (!parsed.success) return pipedriveError(400, `invalid query: ${parsed.error.issues[0]!.message}`);
        return { status: 200, body: store.deliveries(parsed.data.limit) };
      }
      default:
        return pipedriveError(404, `no sandbox route ${method} ${path}`);
    }
  };

  const serve = (request: http.IncomingMessage, method: string, url: URL, path: string, text: string): SandboxAnswer => {
    if (path === TOKEN_PATH && method === 'POST') {
      return store.transaction(() => issueToken(store, credentials, request.headers, text, options.oauthApiDomain ?? baseUrl, Date.now()));
    }
    const refused = refusedAuthentication(store, credentials, request.headers, url.searchParams, path.startsWith('/api/v1/'), Date.now());
    if (refused === 'unauthorized') return unauthorized();
    if (refused === 'malformed') return pipedriveError(400, 'Invalid request: malformed authorization header');
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return pipedriveError(400, 'Validation failed: body: not valid JSON');
      }
    }
    return commit(() => apiRequest(store, method, path, url.searchParams, body, Date.now()));
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const text = await readBody(request, BODY_LIMIT_BYTES);
    if (text === undefined) return send(response, pipedriveError(413, `Request body exceeds ${BODY_LIMIT_BYTES} bytes`));
    const faultRoute = serveFaultRoutes(faultRules, method, path, text);
    if (faultRoute !== undefined) return send(response, faultRoute);
    if (path.startsWith('/__sandbox/')) return send(response, withJsonBody(text, (body) => control(method, path, url.searchParams, body)));
    const operation = operationOf(method, path);
    const fault: Fault | undefined = bypassesFaults(request.headers) ? undefined : (path === TOKEN_PATH ? oauthFaults : apiFaults).take(operation);
    if (fault?.kind === 'timeout') return server.hold(response);
    if (fault?.kind === '429') return send(response, rateLimited(fault.retryAfterSeconds));
    if (fault?.kind === '500') return send(response, internalError());
    if (fault?.kind === 'malformed') {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      return void response.end('{"success":true,"data":{"id":1,"title":"trunc');
    }
    const answer = serve(request, method, url, path, text);
    // The call has run and is stored; the caller never hears of it.
    if (fault?.kind === 'commit-then-drop') return void response.destroy();
    send(response, answer);
  };

  let closed: { readonly deliveries: DeliveryLogEntry[]; readonly pending: number } | undefined;
  const server = await startSandboxServer({
    host,
    port: options.port ?? 0,
    handle,
    fail: (response, error) => send(response, pipedriveError(500, `sandbox failure: ${String(error)}`)),
    drain: async () => {
      await outbox?.close();
      closed = { deliveries: store.deliveries(500), pending: store.pending() };
    },
    release: () => store.close(),
  });
  baseUrl = server.url;
  outbox?.wake();

  return {
    url: baseUrl,
    port: server.port,
    companyId: SANDBOX_COMPANY_ID,
    fieldKeys: {
      orderRef: customFieldKey('deal', SANDBOX_FIELD_NAMES.orderRef),
      status: customFieldKey('deal', SANDBOX_FIELD_NAMES.status),
      syncError: customFieldKey('deal', SANDBOX_FIELD_NAMES.syncError),
      vatNumber: customFieldKey('organization', SANDBOX_FIELD_NAMES.vatNumber),
    },
    deliveries: () => closed?.deliveries ?? store.deliveries(500),
    pendingWebhooks: () => closed?.pending ?? store.pending(),
    close: () => server.close(),
  };
}
