/**
 * A HubSpot-compatible sandbox on `node:http`: the CRM v3 objects subset Harmony
 * uses, exactly as the official `@hubspot/api-client` calls it, with HubSpot's
 * response and error shapes and Bearer auth; signed `deal.propertyChange` webhooks
 * when a deal's stage is set; fault injection and canned responses for tests.
 *
 * Routes:
 * - `GET /crm/v3/objects/{type}` (page), `GET|PATCH /crm/v3/objects/{type}/{id}`,
 *   `POST /crm/v3/objects/{type}/batch/read` — types `deals`, `companies`, `contacts`,
 *   `line_items`, `products`
 * - `POST /crm/v3/objects/{type}` and `POST /crm/v3/objects/{type}/batch/create`, with
 *   `properties` and HubSpot-defined `associations` — types `deals`, `line_items`,
 *   `companies`, `contacts`
 * - `POST|GET|DELETE /__sandbox/faults` — a `FaultRequest`; operations are named
 *   `GET /crm/v3/objects/deals`, `PATCH /crm/v3/objects/deals`, `POST /crm/v3/objects/deals`,
 *   `POST /crm/v3/objects/line_items/batch/create`, `POST /crm/v3/objects/line_items/batch/read`…
 *   Kinds: `500`, `429`, `timeout`, `commit-then-drop` (the call runs and is stored,
 *   then the connection is destroyed without an answer). A request with the header
 *   `x-sandbox-faults: bypass` is never faulted, consumes no rule and gets no canned
 *   response, so a harness's own calls leave the faults to the system under test.
 * - `POST|DELETE /__sandbox/responses` — answer the next N calls of an operation with
 *   a given status and body (a malformed vendor response, say)
 * - `GET /__sandbox/webhook-deliveries` — delivery attempts, oldest first, each with its
 *   `seq`: the newest 500 by default; `?after=<seq>` pages forward from a position,
 *   `?eventId=<id>` keeps the attempts that carried one event, `?limit=` (≤ 1000)
 * - `GET /__sandbox/statistics` — rows the store has written since it started
 *
 * State lives in `<dataDir>/hubspot.sqlite` (node:sqlite, WAL; see portal-store.ts),
 * locked to this process. A write request commits its records, links and webhook
 * events in one transaction before it is answered, so a sandbox killed at any
 * moment restarts with every answered write and every event still to deliver.
 *
 * Webhooks: the sandbox's app subscribes to `deal.propertyChange` for `dealstage` only,
 * not to `deal.creation`. A PATCH that changes a deal's stage and a create that sets one
 * each emit one `deal.propertyChange` event (`changeSource: "API"`), so a deal created
 * in `closedwon` reaches Harmony as one moved there does. (HubSpot's docs do not say
 * whether a value set at creation fires `propertyChange`; the sandbox assumes it does.)
 */
import type http from 'node:http';
import * as z from 'zod';
import { CannedResponses } from '../canned-responses.ts';
import { bypassesFaults, FaultInjector, serveFaultRoutes } from '../faults.ts';
import { readBody, startSandboxServer } from '../http-server.ts';
import { batchCreate, createRecord, CREATABLE_TYPES, type DealStageSet } from './create-records.ts';
import { batchRead, getRecord, listRecords, patchRecord } from './crm-objects.ts';
import { resolveObjectType, type ObjectType } from './portal-data.ts';
import { PortalStore, type PortalStatistics } from './portal-store.ts';
import {
  hubspotError,
  internalError,
  rateLimited,
  send,
  unauthorized,
  type SandboxResponse,
} from './responses.ts';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_RETRY_DELAYS_MS,
  WebhookOutbox,
  type DeliveryLogEntry,
} from './webhook-outbox.ts';

export { DEFAULT_RETRY_DELAYS_MS, HUBSPOT_LIKE_RETRY_DELAYS_MS } from './webhook-outbox.ts';
export { SEEDED_IDS } from './portal-data.ts';
export type { PortalStatistics } from './portal-store.ts';

/** How to start the sandbox. */
export interface HubspotSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** State is kept in `<dataDir>/hubspot.sqlite`; undefined keeps it in memory. */
  readonly dataDir?: string;
  /** The only token the API accepts (`Authorization: Bearer …`). */
  readonly accessToken: string;
  /** The app's client secret webhooks are signed with. */
  readonly clientSecret: string;
  /** Where webhooks go; undefined means no subscription, so no webhook events. */
  readonly webhookUrl?: string;
  /** @default 62515 */
  readonly portalId?: number;
  /** @default 1160452 */
  readonly appId?: number;
  /** Delay before each retry of a failed delivery; its length is the number of retries. @default DEFAULT_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
  /** How long a receiver may take to answer. @default 5000 (HubSpot's limit) */
  readonly deliveryTimeoutMs?: number;
  /** Delivery attempts the log keeps; older ones are dropped. @default 10000 */
  readonly deliveryLogLimit?: number;
}

/** A running sandbox. */
export interface HubspotSandbox {
  /** Base URL, e.g. `http://127.0.0.1:49152` — the `basePath` of the official client. */
  readonly url: string;
  readonly port: number;
  readonly portalId: number;
  /** The newest 500 webhook delivery attempts, oldest first. */
  deliveries(): DeliveryLogEntry[];
  /** Webhook events not yet delivered (waiting or being retried). */
  pendingWebhooks(): number;
  /** Rows the store has written since it started (`GET /__sandbox/statistics`). */
  statistics(): PortalStatistics;
  /** Stops serving and delivering; ends held requests, sockets and timers. */
  close(): Promise<void>;
}

/** Subscription id of the sandbox app's `deal.propertyChange` (`dealstage`) subscription. */
const DEAL_STAGE_SUBSCRIPTION_ID = 1_001;

const BODY_LIMIT_BYTES = 1024 * 1024;

/** Delivery attempts `GET /__sandbox/webhook-deliveries` returns when not asked for fewer. */
const DELIVERY_PAGE = 500;

/** Query of `GET /__sandbox/webhook-deliveries`. */
const DeliveryQueryParameters = z.object({
  after: z.coerce.number().int().nonnegative().optional(),
  eventId: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().positive().max(1000).default(DELIVERY_PAGE),
});


/** Starts a HubSpot sandbox; resolves once it listens. */
export async function startHubspotSandbox(options: HubspotSandboxOptions): Promise<HubspotSandbox> {
  const host = options.host ?? '127.0.0.1';
  const portalId = options.portalId ?? 62_515;
  const appId = options.appId ?? 1_160_452;
  const store = new PortalStore(options.dataDir, options.deliveryLogLimit ?? 10_000);
  const faults = new FaultInjector();
  const canned = new CannedResponses();
  const outbox =
    options.webhookUrl === undefined
      ? undefined
      : new WebhookOutbox({
          store,
          webhookUrl: options.webhookUrl,
          clientSecret: options.clientSecret,
          retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
          timeoutMs: options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
        });

  const control = (method: string, path: string, query: URLSearchParams, body: unknown): SandboxResponse => {
    const route = `${method} ${path}`;
    const cannedRoute = canned.serve(method, path, body);
    if (cannedRoute !== undefined) return cannedRoute;
    switch (route) {
      case 'GET /__sandbox/webhook-deliveries': {
        const parsed = DeliveryQueryParameters.safeParse(Object.fromEntries(query));
        if (!parsed.success) return { status: 400, body: { error: 'invalid query', issues: parsed.error.issues } };
        return { status: 200, body: store.deliveries(parsed.data) };
      }
      case 'GET /__sandbox/statistics':
        return { status: 200, body: store.statistics() };
      default:
        return { status: 404, body: { error: `no sandbox route ${route}` } };
    }
  };

  /** Queues a `deal.propertyChange` (`dealstage`) event for each deal, when the app has a webhook URL. */
  const enqueueStageChanges = (stages: readonly DealStageSet[]): void => {
    if (outbox === undefined) return;
    for (const { dealId, stage } of stages) {
      store.enqueue({
        eventId: store.allocateEventId(),
        subscriptionId: DEAL_STAGE_SUBSCRIPTION_ID,
        portalId,
        appId,
        occurredAt: Date.now(),
        subscriptionType: 'deal.propertyChange',
        objectId: Number(dealId),
        changeSource: 'API',
        propertyName: 'dealstage',
        propertyValue: stage,
      });
    }
  };

  const crm = (
    method: string,
    type: ObjectType,
    rest: readonly string[],
    query: URLSearchParams,
    body: unknown,
    baseUrl: string,
  ): SandboxResponse => {
    if (rest.length === 0 && method === 'GET') return listRecords(store, type, query, baseUrl);
    if (rest.length === 2 && rest[0] === 'batch' && rest[1] === 'read' && method === 'POST') {
      return batchRead(store, type, body);
    }
    const batchCreates = rest.length === 2 && rest[0] === 'batch' && rest[1] === 'create';
    if (method === 'POST' && (rest.length === 0 || batchCreates)) {
      if (!CREATABLE_TYPES.includes(type)) return hubspotError(405, 'VALIDATION_ERROR', `the sandbox does not create ${type}`);
      const create = rest.length === 0 ? createRecord : batchCreate;
      const response = store.transaction(() => {
        const outcome = create(store, type, body, portalId);
        enqueueStageChanges(outcome.dealStages);
        return outcome.response;
      });
      outbox?.wake();
      return response;
    }
    const id = rest[0];
    if (rest.length === 1 && id !== undefined && method === 'GET') return getRecord(store, type, id, query);
    if (rest.length === 1 && id !== undefined && method === 'PATCH') {
      const response = store.transaction(() => {
        const outcome = patchRecord(store, type, id, body, portalId);
        const stage = outcome.changes.find((change) => change.name === 'dealstage');
        if (type === 'deals' && stage !== undefined && stage.value !== '') {
          enqueueStageChanges([{ dealId: id, stage: stage.value }]);
        }
        return outcome.response;
      });
      outbox?.wake();
      return response;
    }
    return hubspotError(405, 'VALIDATION_ERROR', `${method} is not supported here by the sandbox`);
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const text = await readBody(request, BODY_LIMIT_BYTES);
    if (text === undefined) {
      send(response, hubspotError(413, 'VALIDATION_ERROR', `Request body exceeds ${BODY_LIMIT_BYTES} bytes`));
      return;
    }
    const faultRoute = serveFaultRoutes(faults, method, path, text);
    if (faultRoute !== undefined) return send(response, faultRoute);
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch (error) {
        send(response, hubspotError(400, 'VALIDATION_ERROR', `Invalid input JSON: ${(error as Error).message}`));
        return;
      }
    }
    if (path.startsWith('/__sandbox/')) {
      send(response, control(method, path, url.searchParams, body));
      return;
    }
    const match = /^\/crm\/v3\/objects\/([^/]+)((?:\/[^/]+)*)$/.exec(path);
    if (match === null) {
      send(response, hubspotError(404, 'OBJECT_NOT_FOUND', `resource not found: ${method} ${path}`));
      return;
    }
    const type = resolveObjectType(decodeURIComponent(match[1]!));
    if (type === undefined) {
      send(response, hubspotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${match[1]}`));
      return;
    }
    const rest = (match[2] ?? '').split('/').filter((segment) => segment !== '').map(decodeURIComponent);
    const operation = `${method} /crm/v3/objects/${type}${rest[0] === 'batch' ? `/${rest.join('/')}` : ''}`;
    const bypass = bypassesFaults(request.headers);
    const fault = bypass ? undefined : faults.take(operation);
    if (fault?.kind === 'timeout') return server.hold(response);
    if (fault?.kind === '429') return send(response, rateLimited(fault.retryAfterSeconds));
    if (fault?.kind === '500') return send(response, internalError());
    if (fault?.kind === 'malformed') {
      response.writeHead(200, { 'content-type': 'application/json;charset=utf-8' });
      return void response.end('{"id":"1","properties":{"dealname":"trunc');
    }
    const answer = request.headers.authorization !== `Bearer ${options.accessToken}`
      ? unauthorized()
      : ((bypass ? undefined : canned.take(operation)) ?? crm(method, type, rest, url.searchParams, body, `http://${request.headers.host ?? host}`));
    // The call has run and is stored; the caller never hears of it.
    if (fault?.kind === 'commit-then-drop') return void response.destroy();
    send(response, answer);
  };

  let closed: { readonly deliveries: DeliveryLogEntry[]; readonly pending: number } | undefined;
  const server = await startSandboxServer({
    host,
    port: options.port ?? 0,
    handle,
    fail: (response, error) => send(response, hubspotError(500, 'INTERNAL_ERROR', `sandbox failure: ${String(error)}`)),
    drain: async () => {
      await outbox?.close();
      // What the handle still tells once the database (and its lock) is released.
      closed = { deliveries: store.deliveries({ limit: DELIVERY_PAGE }), pending: store.pending() };
    },
    release: () => store.close(),
  });
  outbox?.wake();

  return {
    url: server.url,
    port: server.port,
    portalId,
    deliveries: () => closed?.deliveries ?? store.deliveries({ limit: DELIVERY_PAGE }),
    pendingWebhooks: () => closed?.pending ?? store.pending(),
    statistics: () => store.statistics(),
    close: () => server.close(),
  };
}
