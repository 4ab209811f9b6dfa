/**
 * A ShipBob sandbox on `node:http`: the OAuth token endpoint and the Developer API 2026-01
 * subset the Harmony WMS adapter uses, with ShipBob's paths, integer ids, JSON shapes,
 * status details and error bodies, over a simulated warehouse whose clock moves orders on.
 *
 * Routes (operation names for faults in brackets):
 * - `POST /connect/token` [`POST connect/token`] — refresh-token grant (see identity.ts)
 * - `GET /2026-01/channel`, `GET /2026-01/fulfillment-center`
 * - `POST|GET /2026-01/order`, `GET /2026-01/order/{id}` [`GET /order/{orderId}`],
 *   `POST /2026-01/order/{id}:cancel` [`POST /order/{orderId}:cancel`] — see orders.ts
 * - `GET /2026-01/inventory-level`, `POST /2026-01/inventory/history:query` — see stock.ts
 * - `POST|GET /2026-01/return`, `GET /2026-01/return/{id}` [`GET /return/{id}`] — see returns.ts
 * - `POST|DELETE /__sandbox/faults` — a FaultRequest: `500`, `429` (with ShipBob's
 *   `x-retry-after`), `timeout` (held until close), `malformed` (a 200 with truncated JSON),
 *   `commit-then-drop` (the call runs and commits, then the socket is destroyed). A request
 *   with `x-sandbox-faults: bypass` is never faulted.
 * - `POST /__sandbox/expire-tokens` — every OAuth access token issued so far expires
 * - `POST /__sandbox/advance` — `{orderId?, steps?}`: the warehouse works, every open order
 *   (or one) moves `steps` steps (default 1); also every `advanceEverySeconds` when set
 * - `POST /__sandbox/returns/{id}/receive` — `{lines:[{sku, restock, quarantine, dispose, reason?}]}`
 * - `POST /__sandbox/orders/{id}/status` — `{status}`: show this ShipBob status instead (a status Harmony does not know)
 * - `POST /__sandbox/stock` — `{sku, onHand}`: a cycle count (`InventoryAdjusted`)
 *
 * State lives in `<dataDir>/shipbob.sqlite` (see store.ts), seeded on first start.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import type { SandboxDefinition } from '../definition.ts';
import { bypassesFaults, FaultInjector, FaultRequest } from '../faults.ts';
import { Identity, type OAuthApp } from './identity.ts';
import { advance, cancelOrder, createOrder, getOrder, listOrders, type OrderDesk } from './orders.ts';
import { FULFILLMENT_CENTER } from './records.ts';
import { fieldErrors, ok, problem, send, throttled, type Answer } from './responses.ts';
import { createReturn, getReturn, listReturns, receiveReturn } from './returns.ts';
import { seedWarehouse } from './seed.ts';
import { adjustStock, inventoryHistory, inventoryLevels } from './stock.ts';
import { WarehouseStore } from './store.ts';

export { SEEDED_SKUS } from './seed.ts';

/** The channel id of ShipBob's own quickstart example. */
export const SANDBOX_CHANNEL_ID = 100102;
/** The fulfillment center that receives returns. */
export const SANDBOX_FULFILLMENT_CENTER_ID = FULFILLMENT_CENTER.id;

/** How to start a ShipBob sandbox. */
export interface ShipBobSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** State in `<dataDir>/shipbob.sqlite`; undefined keeps it in memory. */
  readonly dataDir?: string;
  /** Personal Access Tokens the API accepts. */
  readonly personalAccessTokens: readonly string[];
  /** The OAuth app allowed to refresh tokens, with its install's refresh token. */
  readonly oauthApp?: OAuthApp;
  /** Seconds an OAuth access token lives. @default 3600 (as ShipBob) */
  readonly accessTokenLifetimeSeconds?: number;
  /** Inventory history events per page. @default 100 */
  readonly historyPageSize?: number;
  /** Moves every open order one step this often; undefined leaves it to `POST /__sandbox/advance`. */
  readonly advanceEverySeconds?: number;
}

/** A running sandbox. */
export interface ShipBobSandbox {
  /** Base URL: both `SHIPBOB_API_URL` and `SHIPBOB_AUTH_URL`. */
  readonly url: string;
  readonly port: number;
  readonly channelId: number;
  readonly fulfillmentCenterId: number;
  /** Pending faults; the queue `POST /__sandbox/faults` fills. */
  readonly faults: FaultInjector;
  /** Stops listening, drops held requests and closes the database. */
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 1024 * 1024;
const Advance = z.object({ orderId: z.number().int().optional(), steps: z.number().int().min(1).max(100).default(1) });
const StatusOverride = z.object({ status: z.string().min(1) });
const CycleCount = z.object({ sku: z.string().min(1), onHand: z.number().int().nonnegative() });

/** The operation name of an API path below `/2026-01/`, as faults and the adapter name it. */
function operationOf(method: string, rest: string): string {
  const template = rest
    .replace(/^order\/\d+:cancel$/, 'order/{orderId}:cancel')
    .replace(/^order\/[^/]+$/, 'order/{orderId}')
    .replace(/^return\/[^/]+$/, 'return/{id}');
  return `${method} /${template}`;
}

/** Starts a ShipBob sandbox; resolves once it listens. */
export async function startShipBobSandbox(options: ShipBobSandboxOptions): Promise<ShipBobSandbox> {
  const host = options.host ?? '127.0.0.1';
  const store = new WarehouseStore(options.dataDir);
  if (store.isEmpty()) seedWarehouse(store);
  const identity = new Identity(store, options.personalAccessTokens, options.oauthApp, options.accessTokenLifetimeSeconds ?? 3600);
  const faults = new FaultInjector();
  const channel = { id: SANDBOX_CHANNEL_ID, name: 'Harmony sandbox (SMA)' };
  let last = 0;
  const now = (): string => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last).toISOString();
  };
  const desk: OrderDesk = { store, channel, now };
  const historyPageSize = options.historyPageSize ?? 100;

  const control = (method: string, path: string, body: unknown): Answer => {
    const route = `${method} ${path}`;
    if (route === 'POST /__sandbox/faults') {
      const parsed = FaultRequest.safeParse(body);
      if (!parsed.success) return { status: 400, body: { error: 'invalid fault', issues: parsed.error.issues } };
      faults.add(parsed.data);
      return ok({ remaining: faults.remaining() }, 201);
    }
    if (route === 'DELETE /__sandbox/faults') {
      faults.clear();
      return { status: 204 };
    }
    if (route === 'POST /__sandbox/expire-tokens') {
      identity.expireAccessTokens();
      return { status: 204 };
    }
    if (route === 'POST /__sandbox/advance') {
      const parsed = Advance.safeParse(body ?? {});
      if (!parsed.success) return { status: 400, body: { error: 'invalid advance', issues: parsed.error.issues } };
      return ok({ moved: store.transaction(() => advance(desk, parsed.data.orderId, parsed.data.steps)) });
    }
    if (route === 'POST /__sandbox/stock') {
      const parsed = CycleCount.safeParse(body);
      const item = parsed.success ? store.inventoryBySku(parsed.data.sku) : undefined;
      if (!parsed.success || item === undefined) return { status: 400, body: { error: 'expected {sku, onHand} of a known SKU' } };
      store.transaction(() => adjustStock(store, item, parsed.data.onHand, now()));
      return { status: 204 };
    }
    const receipt = /^POST \/__sandbox\/returns\/(\d+)\/receive$/.exec(route);
    if (receipt !== null) return store.transaction(() => receiveReturn(desk, Number(receipt[1]), body));
    const override = /^POST \/__sandbox\/orders\/(\d+)\/status$/.exec(route);
    if (override !== null) {
      const parsed = StatusOverride.safeParse(body);
      const order = store.order(Number(override[1]));
      if (!parsed.success || order === undefined) return { status: 400, body: { error: 'expected {status} for a known order' } };
      order.shipment.statusOverride = parsed.data.status;
      order.updatedAt = now();
      store.transaction(() => store.putOrder(order));
      return { status: 204 };
    }
    return { status: 404, body: { error: `no sandbox route ${route}` } };
  };

  const api = (method: string, rest: string, url: URL, body: unknown, request: http.IncomingMessage): Answer => {
    const channelHeader = request.headers.shipbob_channel_id as string | undefined;
    const route = `${method} ${rest}`;
    if (route === 'GET channel') return ok({ items: [{ id: channel.id, name: channel.name, application_name: 'SMA', scopes: ['orders_read', 'orders_write', 'inventory_read', 'returns_read', 'returns_write', 'fulfillments_read', 'channels_read'] }], next: null, prev: null });
    if (route === 'GET fulfillment-center') return ok([FULFILLMENT_CENTER]);
    if (route === 'POST order') return store.transaction(() => createOrder(desk, body, channelHeader));
    if (route === 'GET order') return listOrders(desk, url.searchParams);
    if (route === 'GET inventory-level') return inventoryLevels(store, url.searchParams);
    if (route === 'POST inventory/history:query') return inventoryHistory(store, body, url.searchParams, historyPageSize, Date.now());
    if (route === 'POST return') return store.transaction(() => createReturn(desk, body, channelHeader));
    if (route === 'GET return') return listReturns(desk, url.searchParams);
    const order = /^order\/([^/:]+)(:cancel)?$/.exec(rest);
    if (order !== null) {
      if (!/^\d+$/.test(order[1]!)) return fieldErrors(400, { orderId: [`The value '${order[1]}' is not valid.`] });
      if (method === 'GET' && order[2] === undefined) return getOrder(desk, Number(order[1]));
      if (method === 'POST' && order[2] !== undefined) return store.transaction(() => cancelOrder(desk, Number(order[1])));
    }
    const found = /^return\/([^/]+)$/.exec(rest);
    if (found !== null && method === 'GET') return /^\d+$/.test(found[1]!) ? getReturn(desk, Number(found[1])) : problem(400, 'Bad Request', `The value '${found[1]}' is not valid.`);
    return problem(404, 'Not Found');
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? host}`);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const text = await readBody(request);
    if (text === undefined) return send(response, problem(413, 'Payload Too Large'));
    const contentType = request.headers['content-type'] ?? '';
    let body: unknown;
    if (text !== '' && !contentType.includes('x-www-form-urlencoded')) {
      try {
        body = JSON.parse(text);
      } catch {
        return send(response, fieldErrors(400, { '': ['The request body is not valid JSON.'] }));
      }
    }
    if (path.startsWith('/__sandbox/')) return send(response, control(method, path, body));

    const apiPath = /^\/2026-01\/(.+)$/.exec(path);
    const operation = path === '/connect/token' ? 'POST connect/token' : apiPath === null ? `${method} ${path}` : operationOf(method, apiPath[1]!);
    const fault = bypassesFaults(request.headers) ? undefined : faults.take(operation);
    if (fault?.kind === 'timeout') return; // Held until close() ends the connection.
    if (fault?.kind === '429') return send(response, throttled(fault.retryAfterSeconds));
    if (fault?.kind === '500') return send(response, { status: 500, body: { '': ['An error has occurred (injected by the sandbox).'] } });
    if (fault?.kind === 'malformed') return send(response, { status: 200, body: '[{"id":312000001,"channel":{"id":100102,"name":"Harmony sa' });

    let answer: Answer;
    if (path === '/connect/token') {
      answer = method === 'POST' ? identity.token(new URLSearchParams(text)) : { status: 405 };
    } else if (apiPath === null) {
      answer = problem(404, 'Not Found');
    } else {
      answer = identity.rejection(request.headers.authorization) ?? api(method, apiPath[1]!, url, body, request);
    }
    // The call has run and is stored; the caller never hears of it.
    if (fault?.kind === 'commit-then-drop') return void response.destroy();
    send(response, answer);
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, { status: 500, body: { '': [`sandbox failure: ${String(error)}`] } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      store.close();
      reject(error);
    });
    server.listen(options.port ?? 0, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const timer =
    options.advanceEverySeconds === undefined
      ? undefined
      : setInterval(() => {
          store.transaction(() => advance(desk, undefined, 1));
        }, options.advanceEverySeconds * 1000).unref();
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    channelId: channel.id,
    fulfillmentCenterId: FULFILLMENT_CENTER.id,
    faults,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        if (timer !== undefined) clearInterval(timer);
        server.close(() => {
          store.close();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The body as text, or undefined when it exceeds the limit. */
async function readBody(request: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > BODY_LIMIT_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The Personal Access Token of the sandbox the local hub starts. */
const LOCAL_PERSONAL_ACCESS_TOKEN = 'local-shipbob-personal-access-token';

/**
 * The ShipBob sandbox as the hub starts it: port 4030 (`HARMONY_WMS_PORT`), state under the
 * hub's data directory, the connector on a Personal Access Token (an OAuth refresh token
 * would be spent by the first run and refused after a restart), orders moving on every minute.
 */
export const shipbobSandbox: SandboxDefinition = {
  system: 'shipbob',
  defaultPort: 4030,
  portVariable: 'HARMONY_WMS_PORT',
  async start(options) {
    const sandbox = await startShipBobSandbox({
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      personalAccessTokens: [LOCAL_PERSONAL_ACCESS_TOKEN],
      advanceEverySeconds: 60,
    });
    options.log?.(`ShipBob sandbox on ${sandbox.url} (channel ${sandbox.channelId}, orders advance every 60 s or on POST /__sandbox/advance)`);
    return {
      url: sandbox.url,
      environment: {
        SHIPBOB_API_URL: sandbox.url,
        SHIPBOB_AUTH_URL: sandbox.url,
        SHIPBOB_AUTH: 'pat',
        SHIPBOB_CHANNEL_ID: String(sandbox.channelId),
        SHIPBOB_RETURN_FULFILLMENT_CENTER_ID: String(sandbox.fulfillmentCenterId),
        SHIPBOB_PERSONAL_ACCESS_TOKEN: LOCAL_PERSONAL_ACCESS_TOKEN,
      },
      close: () => sandbox.close(),
    };
  },
};
