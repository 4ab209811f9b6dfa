/**
 * What is particular to ShipBob, against the sandbox: its `x-retry-after` header feeding the
 * shared rate budget, SKUs it would quietly create, orders held for stock, statuses Harmony
 * does not know in the status feed, the feed's cursor, the rotating OAuth refresh token,
 * a sandbox restart, and the connector built from the sandbox's environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import type { RateLimiter } from '../../functions/core/rate-limit.ts';
import type { FulfillmentOrderDraft } from '../../functions/connectors/wms/port.ts';
import { shipbobConnector } from '../../functions/connectors/wms/shipbob/connector.ts';
import { clearShipBobTokenCache } from '../../functions/connectors/wms/shipbob/credentials.ts';
import { ShipBobWms, type ShipBobWmsOptions } from '../../functions/connectors/wms/shipbob/index.ts';
import { memoryStateStore, type StateStore } from '../../functions/connectors/wms/shipbob/state-store.ts';
import { shipbobSandbox, startShipBobSandbox, type ShipBobSandbox } from '../../local/sandbox/wms/sandbox.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';

const PAT = 'adapter-test-personal-access-token';
const APP = { clientId: 'harmony-adapter-app', clientSecret: 'adapter-client-secret', refreshToken: 'adapter-install-refresh-token' };

/** A store that also tells what it holds. */
function inspectableStore(): StateStore & { readonly values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    load: (key) => Promise.resolve(values.get(key)),
    save: (key, value) => {
      values.set(key, value);
      return Promise.resolve();
    },
  };
}

/** An in-process budget: unlimited, but a back-off holds every caller off until it is over. */
function heldOffBudget(): RateLimiter {
  const heldUntil = new Map<string, number>();
  return {
    acquire: (target) => {
      const until = heldUntil.get(target) ?? 0;
      if (until > Date.now()) return Promise.reject(new RetryableError(`${target} held off`, { retryAfterSeconds: Math.ceil((until - Date.now()) / 1000) }));
      return Promise.resolve();
    },
    backOff: (target, seconds) => {
      heldUntil.set(target, Date.now() + seconds * 1000);
      return Promise.resolve();
    },
  };
}

async function control(sandbox: ShipBobSandbox, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(response.status, path).toBeLessThan(300);
}

/** Calls the sandbox's API as another ShipBob client would: never faulted. */
async function api(sandbox: ShipBobSandbox, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: unknown }> {
  const response = await fetch(`${sandbox.url}/2026-01/${path}`, {
    method,
    headers: { authorization: `Bearer ${PAT}`, 'content-type': 'application/json', shipbob_channel_id: String(sandbox.channelId), 'x-sandbox-faults': 'bypass' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
}

function adapter(sandbox: ShipBobSandbox, overrides: Partial<ShipBobWmsOptions> = {}): ShipBobWms {
  return new ShipBobWms({
    apiUrl: new URL(sandbox.url),
    channelId: sandbox.channelId,
    auth: { kind: 'pat', token: PAT },
    shippingMethods: { standard: 'Standard', priority: 'Expedited' },
    returnFulfillmentCenterId: sandbox.fulfillmentCenterId,
    stateStore: memoryStateStore(),
    timeoutMs: 1500,
    ...overrides,
  });
}

function draft(overrides: Partial<FulfillmentOrderDraft> = {}): FulfillmentOrderDraft {
  return {
    externalRef: uniqueRef('S'),
    priority: 'standard',
    shipTo: { name: 'Ada Lovelace', street: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', countryCode: 'GB' },
    lines: [{ sku: 'CABLE-3', name: 'USB-C Cable', quantity: 1 }],
    ...overrides,
  };
}

describe('ShipBob adapter', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shipbob-adapter-'));
  let sandbox: ShipBobSandbox;
  let wms: ShipBobWms;
  beforeAll(async () => {
    sandbox = await startShipBobSandbox({ dataDir: join(dataDir, 'main'), personalAccessTokens: [PAT], oauthApp: APP });
    wms = adapter(sandbox);
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads ShipBob’s x-retry-after and holds every caller of the account off through the shared budget', async () => {
    const rateLimiter = heldOffBudget();
    const limited = adapter(sandbox, { rateLimiter });
    const order = await limited.createFulfillmentOrder(draft());
    await control(sandbox, '/__sandbox/faults', { kind: '429', count: 1, retryAfterSeconds: 30, operation: 'GET /order/{orderId}' });
    const throttledAnswer = await fetch(`${sandbox.url}/2026-01/order/${order.id}`, { headers: { authorization: `Bearer ${PAT}` } });
    expect(throttledAnswer.status).toBe(429);
    expect(throttledAnswer.headers.get('x-retry-after')).toBe('30');
    expect(throttledAnswer.headers.get('retry-after')).toBeNull();

    await control(sandbox, '/__sandbox/faults', { kind: '429', count: 1, retryAfterSeconds: 30, operation: 'GET /order/{orderId}' });
    const first = (await limited.getFulfillmentOrder(order.id).catch((error: unknown) => error)) as RetryableError;
    expect(first).toBeInstanceOf(RetryableError);
    expect(first.retryAfterSeconds).toBe(30);
    // The sandbox would answer now; the budget does not let the call go out.
    const second = (await limited.getFulfillmentOrder(order.id).catch((error: unknown) => error)) as RetryableError;
    expect(second).toBeInstanceOf(RetryableError);
    expect(second.message).toContain('held off');
  });

  it('refuses an unknown SKU before ShipBob would create an empty product for it', async () => {
    const sku = uniqueRef('UNKNOWN');
    const error = (await wms.createFulfillmentOrder(draft({ lines: [{ sku, name: 'Ghost', quantity: 1 }] })).catch((caught: unknown) => caught)) as PermanentError;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('unknown-sku');
    const search = await api(sandbox, 'GET', `inventory-level?SearchBy=${encodeURIComponent(sku)}`);
    expect((search.json as { items: unknown[] }).items).toEqual([]);
  });

  it('reads an order ShipBob holds for stock as an exception with ShipBob’s reason, and as received once stock arrives', async () => {
    // What ShipBob itself does with a SKU it has never seen: creates the product, holds the order.
    const sku = uniqueRef('NEW-SKU');
    const created = await api(sandbox, 'POST', 'order', {
      reference_id: uniqueRef('S'),
      type: 'DTC',
      shipping_method: 'Standard',
      recipient: { name: 'Ada Lovelace', address: { address1: '12 St James Square', city: 'London', country: 'GB' } },
      products: [{ reference_id: sku, name: 'New product', quantity: 2 }],
    });
    expect(created.status).toBe(201);
    const id = String((created.json as { id: number }).id);
    const held = await wms.getFulfillmentOrder(id);
    expect(held.status).toBe('exception');
    expect(held.exceptionReason).toMatch(/OutOfStock|No Stock On Hand/);
    await control(sandbox, '/__sandbox/stock', { sku, onHand: 5 });
    await control(sandbox, '/__sandbox/advance', { orderId: Number(id) });
    expect((await wms.getFulfillmentOrder(id)).status).toBe('received');
  });

  it('holds an order for more than is on hand, and still cancels it', async () => {
    const [dock] = await wms.getStockLevels(['DOCK-4']);
    const order = await wms.createFulfillmentOrder(draft({ lines: [{ sku: 'DOCK-4', name: 'Docking Station', quantity: dock!.onHand + 1 }] }));
    expect(order.status).toBe('exception');
    expect(order.exceptionReason).toContain('No Stock On Hand For Sku');
    expect((await wms.cancelFulfillmentOrder(order.id)).status).toBe('cancelled');
    expect((await wms.getStockLevels(['DOCK-4']))[0]).toEqual(dock);
  });

  it('rejects an order whose status Harmony does not know, with where it was, and still reads the others', async () => {
    const feed = adapter(sandbox);
    const good = await feed.createFulfillmentOrder(draft());
    const odd = await feed.createFulfillmentOrder(draft());
    await control(sandbox, `/__sandbox/orders/${odd.id}/status`, { status: 'Teleported' });
    const poll = await feed.pollStatusUpdates();
    const rejected = poll.rejected.find((record) => record.raw.includes(`"id":${odd.id}`));
    expect(rejected).toBeDefined();
    expect(rejected!.source).toMatch(/^GET \/order\?LastUpdateStartDate=.*&Page=1$/);
    expect(rejected!.line).toBeGreaterThan(0);
    expect(rejected!.reason).toMatch(/status/);
    expect(poll.updates.some((update) => update.fulfillmentOrderId === good.id && update.status === 'received')).toBe(true);
    expect(poll.updates.some((update) => update.fulfillmentOrderId === odd.id)).toBe(false);
  });

  it('keeps the feed’s cursor only once the poll is acknowledged', async () => {
    const store = inspectableStore();
    const feed = adapter(sandbox, { stateStore: store });
    const poll = await feed.pollStatusUpdates();
    expect(store.values.size).toBe(0);
    await poll.acknowledge();
    const saved = [...store.values];
    expect(saved).toHaveLength(1);
    expect(saved[0]![0]).toContain('status-feed');
    expect(Number.isNaN(Date.parse(saved[0]![1]))).toBe(false);
  });

  it('a return whose create answer is lost is found by its reference on the retry, not created twice', async () => {
    const receiptDraft = { externalRef: uniqueRef('crm:return'), lines: [{ sku: 'GADGET-2', quantity: 1 }] };
    await control(sandbox, '/__sandbox/faults', { kind: 'commit-then-drop', count: 1, operation: 'POST /return' });
    expect(await wms.createReturnReceipt(receiptDraft).catch((caught: unknown) => caught)).toBeInstanceOf(RetryableError);
    const retried = await wms.createReturnReceipt(receiptDraft);
    const stored = await api(sandbox, 'GET', `return?ReferenceIds=${encodeURIComponent(receiptDraft.externalRef)}`);
    expect((stored.json as { items: { id: number }[] }).items.map((item) => String(item.id))).toEqual([retried.id]);
  });

  it('refuses a return while no fulfillment center for returns is configured, naming the setting', async () => {
    const unconfigured = new ShipBobWms({
      apiUrl: new URL(sandbox.url),
      channelId: sandbox.channelId,
      auth: { kind: 'pat', token: PAT },
      shippingMethods: { standard: 'Standard', priority: 'Expedited' },
      stateStore: memoryStateStore(),
      timeoutMs: 1500,
    });
    const error = (await unconfigured.createReturnReceipt({ externalRef: uniqueRef('crm:return'), lines: [{ sku: 'WIDGET-1', quantity: 1 }] }).catch((caught: unknown) => caught)) as PermanentError;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('SHIPBOB_RETURN_FULFILLMENT_CENTER_ID');
  });

  describe('OAuth 2.0', () => {
    // Each case starts its own sandbox: the install's refresh token can be spent only once.
    let oauthSandbox: ShipBobSandbox;
    let installs = 0;
    beforeEach(async () => {
      installs += 1;
      oauthSandbox = await startShipBobSandbox({ dataDir: join(dataDir, `oauth-${installs}`), personalAccessTokens: [], oauthApp: APP });
    });
    afterEach(async () => {
      await oauthSandbox.close();
    });
    const oauth = (store: StateStore): ShipBobWmsOptions['auth'] => ({ kind: 'oauth', store, client: { authUrl: new URL(oauthSandbox.url), ...APP } });

    it('keeps the refresh token ShipBob rotated, so a cold start refreshes with it; the spent one is refused by name', async () => {
      clearShipBobTokenCache();
      const store = inspectableStore();
      const order = await adapter(oauthSandbox, { auth: oauth(store) }).createFulfillmentOrder(draft());
      const rotated = [...store.values.values()];
      expect(rotated).toHaveLength(1);
      expect(rotated[0]).not.toBe(APP.refreshToken);

      clearShipBobTokenCache();
      expect((await adapter(oauthSandbox, { auth: oauth(store) }).getFulfillmentOrder(order.id)).id).toBe(order.id);

      clearShipBobTokenCache();
      const spent = (await adapter(oauthSandbox, { auth: oauth(memoryStateStore()) }).getFulfillmentOrder(order.id).catch((caught: unknown) => caught)) as PermanentError;
      expect(spent).toBeInstanceOf(PermanentError);
      expect(spent.code).toBe('auth');
      expect(spent.message).toContain('invalid_grant');
    });

    it('carries on when another instance spent the refresh token between this one’s read and its request', async () => {
      clearShipBobTokenCache();
      const store = inspectableStore();
      const order = await adapter(oauthSandbox, { auth: oauth(store) }).createFulfillmentOrder(draft());
      const [key, readByThisInstance] = [...store.values][0]!;
      const other = await fetch(`${oauthSandbox.url}/connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: APP.clientId, client_secret: APP.clientSecret, refresh_token: readByThisInstance }),
      });
      store.values.set(key, ((await other.json()) as { refresh_token: string }).refresh_token);
      let stale = true;
      const racing: StateStore = {
        load: (wanted) => {
          const value = stale ? readByThisInstance : store.values.get(wanted);
          stale = false;
          return Promise.resolve(value);
        },
        save: (wanted, value) => store.save(wanted, value),
      };
      clearShipBobTokenCache();
      expect((await adapter(oauthSandbox, { auth: oauth(racing) }).getFulfillmentOrder(order.id)).id).toBe(order.id);
    });
  });

  it('keeps orders, stock and issued tokens across a sandbox restart', async () => {
    const dir = join(dataDir, 'restart');
    const first = await startShipBobSandbox({ dataDir: dir, personalAccessTokens: [PAT] });
    const before = adapter(first);
    const order = await before.createFulfillmentOrder(draft());
    await control(first, '/__sandbox/advance', { orderId: Number(order.id), steps: 3 });
    const shipped = await before.getFulfillmentOrder(order.id);
    expect(shipped.status).toBe('shipped');
    const stock = await before.getStockLevels(['CABLE-3']);
    await first.close();

    const second = await startShipBobSandbox({ dataDir: dir, personalAccessTokens: [PAT] });
    try {
      const after = adapter(second);
      expect(await after.getFulfillmentOrder(order.id)).toEqual(shipped);
      expect(await after.getStockLevels(['CABLE-3'])).toEqual(stock);
      expect((await after.createFulfillmentOrder(draft())).id).not.toBe(order.id);
    } finally {
      await second.close();
    }
  });

  describe('connector', () => {
    it('builds a working adapter from the environment the hub’s sandbox gives', async () => {
      const running = await shipbobSandbox.start({ host: '127.0.0.1', port: 0, dataDir: join(dataDir, 'hub'), ingressUrl: 'http://127.0.0.1:1' });
      try {
        const settings = shipbobConnector.settings.parse(running.environment);
        const secrets = Object.fromEntries(Object.entries(shipbobConnector.secrets).map(([field, secret]) => [field, running.environment[secret.variable]]));
        const port = shipbobConnector.create(settings, secrets, { timeoutMs: 1500 });
        const order = await port.createFulfillmentOrder(draft({ priority: 'priority' }));
        expect(order).toMatchObject({ status: 'received', priority: 'priority' });
        const receipt = await port.createReturnReceipt({ externalRef: uniqueRef('crm:return'), lines: [{ sku: 'WIDGET-1', quantity: 1 }] });
        expect(receipt.status).toBe('awaiting');
      } finally {
        await running.close();
      }
    });

    it('names the missing secret and refuses an API URL that is not https', () => {
      const settings = shipbobConnector.settings.parse({ SHIPBOB_CHANNEL_ID: '100102' });
      expect(() => shipbobConnector.create(settings, {}, { timeoutMs: 1500 })).toThrow(/SHIPBOB_PERSONAL_ACCESS_TOKEN/);
      const plain = shipbobConnector.settings.parse({ SHIPBOB_CHANNEL_ID: '100102', SHIPBOB_API_URL: 'http://shipbob.example' });
      expect(() => shipbobConnector.create(plain, { personalAccessToken: 'x' }, { timeoutMs: 1500 })).toThrow(/SHIPBOB_API_URL/);
      expect(shipbobConnector.settings.safeParse({ SHIPBOB_CHANNEL_ID: 'channel-7' }).success).toBe(false);
    });
  });
});
