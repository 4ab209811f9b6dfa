/**
 * The Pipedrive sandbox: webhooks v2 for deal changes, delivered to a small listener with basic
 * auth in the shape `webhook.ts` accepts, redelivered on failure and kept across a restart;
 * and the vendor behaviour the adapter relies on (envelopes, error bodies, paging, strict
 * PATCH validation, the OAuth token endpoint), plus the hub's SandboxDefinition.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pipedriveConnector } from '../../functions/connectors/crm/pipedrive/connector.ts';
import { checkPipedriveBasicAuth, isDealWon, PipedriveWebhook, toHubEvent } from '../../functions/connectors/crm/pipedrive/webhook.ts';
import { CRM_OBJECT_CHANGED, DEAL_STAGE_CHANGED, WON_DEAL_STAGE } from '../../functions/core/events.ts';
import { pipedriveSandbox } from '../../local/sandbox/pipedrive/sandbox.ts';
import { startPipedriveSandbox, type PipedriveSandbox, type PipedriveSandboxOptions } from '../../local/sandbox/pipedrive/server.ts';

const API_TOKEN = 'pipedrive-sandbox-test-token';
const OAUTH = { clientId: 'sandbox-test-client', clientSecret: 'sandbox-test-secret', refreshToken: '13011977:21440810:sandbox-test-refresh' };
const HOOK = { user: 'harmony-hook', password: 'p4ss:word with spaces' };
const FAST_RETRIES = [40, 40, 40];

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../fixtures/pipedrive/${name}`, import.meta.url), 'utf8'));

/** A webhook receiver that answers each delivery with the next planned status (200 when none is left), or holds it. */
class Listener {
  readonly received: { readonly path: string; readonly authorization: string | undefined; readonly body: any }[] = [];
  readonly #plan: (number | 'hold')[];
  readonly #server: http.Server;

  private constructor(plan: (number | 'hold')[]) {
    this.#plan = plan;
    this.#server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({ path: request.url ?? '', authorization: request.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        const next = this.#plan.shift() ?? 200;
        if (next === 'hold') return;
        response.writeHead(next).end();
      });
    });
  }

  static async start(plan: (number | 'hold')[] = []): Promise<Listener> {
    const listener = new Listener(plan);
    await new Promise<void>((resolve) => listener.#server.listen(0, '127.0.0.1', resolve));
    return listener;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` deliveries have arrived. */
  received_(count: number): Promise<Listener['received']> {
    return eventually(() => (this.received.length >= count ? this.received : undefined), `${count} deliveries`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** Waits (not a timing assertion) until `check` answers something; fails after a generous deadline. */
async function eventually<T>(check: () => T | undefined, what: string): Promise<T> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const value = check();
    if (value !== undefined) return value;
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function api(sandbox: PipedriveSandbox, method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-api-token': API_TOKEN }) {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, json: response.status === 204 ? undefined : ((await response.json()) as any) };
}

async function createDeal(sandbox: PipedriveSandbox, request: Record<string, unknown>): Promise<any> {
  const { status, json } = await api(sandbox, 'POST', '/__sandbox/deals', request);
  expect(status, JSON.stringify(json)).toBe(201);
  return json.data;
}

const started: { close(): Promise<void> }[] = [];
async function sandboxFor(listener: Listener | undefined, options: Partial<PipedriveSandboxOptions> = {}): Promise<PipedriveSandbox> {
  const sandbox = await startPipedriveSandbox({
    apiToken: API_TOKEN,
    oauth: OAUTH,
    retryDelaysMs: FAST_RETRIES,
    ...(listener === undefined ? {} : { webhook: { url: `${listener.url}/webhooks/pipedrive`, ...HOOK } }),
    ...options,
  });
  started.push(sandbox);
  return sandbox;
}
const track = <T extends { close(): Promise<void> }>(closable: T): T => {
  started.push(closable);
  return closable;
};

afterEach(async () => {
  for (const closable of started.splice(0).reverse()) await closable.close();
});

describe('Pipedrive sandbox webhooks v2', () => {
  it('delivers a deal marked won through the API as a v2 webhook that webhook.ts accepts, with its basic auth', async () => {
    const listener = track(await Listener.start());
    const sandbox = await sandboxFor(listener);
    const deal = await createDeal(sandbox, { title: 'Webhook deal', organization: { id: 1 }, products: [{ code: 'WIDGET-1', quantity: 2 }] });
    const patched = await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, { status: 'won' });
    expect(patched.json.data.status).toBe('won');

    const [created, won] = await listener.received_(2);
    for (const delivery of [created!, won!]) {
      expect(delivery.path).toBe('/webhooks/pipedrive');
      expect(checkPipedriveBasicAuth(delivery.authorization, HOOK)).toBeUndefined();
      expect(checkPipedriveBasicAuth(delivery.authorization, { ...HOOK, password: 'guess' })).toBe('bad-credentials');
    }
    const creation = PipedriveWebhook.parse(created!.body);
    expect(creation.meta).toMatchObject({ action: 'create', entity: 'deal', entity_id: String(deal.id), attempt: 1 });
    expect(isDealWon(creation)).toBe(false);

    const change = PipedriveWebhook.parse(won!.body);
    expect(change.meta).toMatchObject({ action: 'change', entity: 'deal', version: '2.0', company_id: String(sandbox.companyId), attempt: 1 });
    expect(change.previous).toMatchObject({ status: 'open', won_time: null });
    expect(isDealWon(change)).toBe(true);
    const event = toHubEvent(change);
    expect(event.detailType).toBe(DEAL_STAGE_CHANGED);
    expect(event.detail).toMatchObject({ crm: 'pipedrive', dealId: String(deal.id), stage: WON_DEAL_STAGE, accountId: String(sandbox.companyId) });
  });

  it('redelivers when the listener fails: the same event id, the next attempt number', async () => {
    const listener = track(await Listener.start([500, 200]));
    const sandbox = await sandboxFor(listener);
    const deal = await createDeal(sandbox, { title: 'Won at once', status: 'won', person: { id: 3 } });
    const [first, second] = await listener.received_(2);
    expect(isDealWon(PipedriveWebhook.parse(second!.body))).toBe(true);
    expect(second!.body.meta.id).toBe(first!.body.meta.id);
    expect([first!.body.meta.attempt, second!.body.meta.attempt]).toEqual([1, 2]);
    expect(second!.body.data.id).toBe(deal.id);
    await eventually(() => (sandbox.pendingWebhooks() === 0 ? true : undefined), 'the outbox to empty');
    expect(sandbox.deliveries().map((entry) => [entry.attempt, entry.outcome, entry.status])).toEqual([[1, 'retrying', 500], [2, 'delivered', 200]]);
  });

  it("gives up after Pipedrive's three retries", async () => {
    const listener = track(await Listener.start([503, 503, 503, 503]));
    const sandbox = await sandboxFor(listener);
    await createDeal(sandbox, { title: 'Never delivered', status: 'won', organization: { id: 2 } });
    await listener.received_(4);
    await eventually(() => (sandbox.deliveries().length === 4 ? true : undefined), 'four logged attempts');
    expect(sandbox.deliveries().map((entry) => entry.outcome)).toEqual(['retrying', 'retrying', 'retrying', 'abandoned']);
    expect(sandbox.pendingWebhooks()).toBe(0);
  });

  it('keeps undelivered webhooks and the deal across a restart; an attempt cut short by closing does not count', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pipedrive-sandbox-'));
    try {
      const listener = track(await Listener.start(['hold']));
      const first = await startPipedriveSandbox({ apiToken: API_TOKEN, dataDir, retryDelaysMs: FAST_RETRIES, webhook: { url: listener.url, ...HOOK } });
      const deal = await createDeal(first, { title: 'Survives', status: 'won', organization: { id: 1 } });
      const [held] = await listener.received_(1);
      await first.close();

      const second = await sandboxFor(undefined, { dataDir, webhook: { url: listener.url, ...HOOK } });
      const [, redelivered] = await listener.received_(2);
      expect(redelivered!.body.meta).toMatchObject({ id: held!.body.meta.id, attempt: 1 });
      expect((await api(second, 'GET', `/api/v2/deals/${deal.id}`)).json.data).toMatchObject({ id: deal.id, status: 'won' });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("announces Harmony's write-back as a change that is not a win, and a PATCH that changes nothing not at all", async () => {
    const listener = track(await Listener.start());
    const sandbox = await sandboxFor(listener);
    const deal = await createDeal(sandbox, { title: 'Written back', status: 'won', organization: { id: 1 } });
    const write = { custom_fields: { [sandbox.fieldKeys.orderRef]: 'S00042', [sandbox.fieldKeys.status]: 'confirmed' } };
    expect((await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, write)).status).toBe(200);
    expect((await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, write)).status).toBe(200);
    expect((await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, { title: 'Written back twice' })).status).toBe(200);
    const deliveries = await listener.received_(3);
    expect(deliveries.map((delivery) => delivery.body.previous === null ? 'create' : Object.keys(delivery.body.previous).sort().join(','))).toEqual([
      'create',
      'custom_fields,update_time',
      'title,update_time',
    ]);
    const writeBack = PipedriveWebhook.parse(deliveries[1]!.body);
    expect(writeBack.previous).toMatchObject({ custom_fields: { [sandbox.fieldKeys.orderRef]: null, [sandbox.fieldKeys.status]: null } });
    expect(toHubEvent(writeBack).detailType).toBe(CRM_OBJECT_CHANGED);
  });
});

describe('Pipedrive sandbox API', () => {
  let sandbox: PipedriveSandbox;
  beforeAll(async () => {
    sandbox = await startPipedriveSandbox({ apiToken: API_TOKEN, oauth: OAUTH });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it("answers 401 and 404 with Pipedrive's bodies, and rate limit headers", async () => {
    const unauthenticated = await api(sandbox, 'GET', '/api/v2/deals/1', undefined, {});
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.json).toMatchObject(fixture('api-v1-error-401.json'));
    const missing = await api(sandbox, 'GET', '/api/v2/deals/424242');
    expect(missing.status).toBe(404);
    expect(Object.keys(missing.json).sort()).toEqual(Object.keys(fixture('api-v2-error-404.json')).sort());
    expect(missing.json).toMatchObject({ success: false, error: 'Entity was not found', data: null });
    expect(missing.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
  });

  it('seeds the products with their codes and prices, and the organizations with the VAT field', async () => {
    const widget = await api(sandbox, 'GET', '/api/v2/products/1');
    expect(widget.json.data).toMatchObject({ code: 'WIDGET-1', name: 'Widget', prices: [{ currency: 'EUR', price: 25 }, { currency: 'USD', price: 27 }] });
    const azure = await api(sandbox, 'GET', '/api/v2/organizations/1');
    expect(azure.json.data.custom_fields[sandbox.fieldKeys.vatNumber]).toBe('BE0477472701');
  });

  it('pages deal products by cursor and fields by offset', async () => {
    const deal = await createDeal(sandbox, { title: 'Paged', organization: { id: 1 }, products: [{ code: 'WIDGET-1', quantity: 1 }, { code: 'GADGET-2', quantity: 1 }, { code: 'DOCK-4', quantity: 1 }] });
    const first = await api(sandbox, 'GET', `/api/v2/deals/${deal.id}/products?limit=2`);
    expect(first.json.data.map((item: { name: string }) => item.name)).toEqual(['Widget', 'Gadget']);
    const second = await api(sandbox, 'GET', `/api/v2/deals/${deal.id}/products?limit=2&cursor=${first.json.additional_data.next_cursor}`);
    expect(second.json).toMatchObject({ data: [{ name: 'Docking Station', sum: 189 }], additional_data: { next_cursor: null } });
    expect((await api(sandbox, 'GET', `/api/v2/deals/${deal.id}/products?limit=501`)).status).toBe(400);
    const fields = await api(sandbox, 'GET', '/api/v1/dealFields?start=0&limit=5');
    expect(fields.json.additional_data.pagination).toEqual({ start: 0, limit: 5, more_items_in_collection: true, next_start: 5 });
    const rest = await api(sandbox, 'GET', '/api/v1/dealFields?start=5&limit=100');
    expect(rest.json.data.map((field: { name: string }) => field.name)).toContain('Harmony ERP status');
    expect(rest.json.additional_data.pagination.more_items_in_collection).toBe(false);
  });

  it('refuses a PATCH with a field it does not know, an unknown custom field key or a value of the wrong type', async () => {
    const deal = await createDeal(sandbox, { title: 'Strict', organization: { id: 1 } });
    const unknownField = await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, { erp_status: 'confirmed' });
    expect(unknownField).toMatchObject({ status: 400, json: { success: false } });
    const unknownKey = await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, { custom_fields: { ['f'.repeat(40)]: 'x' } });
    expect(unknownKey.json.error).toContain(`'${'f'.repeat(40)}' does not exist`);
    const number = await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, { custom_fields: { [sandbox.fieldKeys.status]: 7 } });
    expect(number.status).toBe(400);
    const tooLong = await api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, { custom_fields: { [sandbox.fieldKeys.status]: 'x'.repeat(256) } });
    expect(tooLong.json.error).toContain('at most 255 characters');
    expect((await api(sandbox, 'GET', `/api/v2/deals/${deal.id}`)).json.data.custom_fields[sandbox.fieldKeys.status]).toBeNull();
  });

  it('commits a commit-then-drop PATCH although the caller hears nothing', async () => {
    const deal = await createDeal(sandbox, { title: 'Dropped', organization: { id: 1 } });
    await api(sandbox, 'POST', '/__sandbox/faults', { kind: 'commit-then-drop', count: 1, operation: 'PATCH /api/v2/deals/{id}' });
    await expect(api(sandbox, 'PATCH', `/api/v2/deals/${deal.id}`, { status: 'won' })).rejects.toThrow();
    expect((await api(sandbox, 'GET', `/api/v2/deals/${deal.id}`)).json.data.status).toBe('won');
  });

  it('issues OAuth tokens from the refresh token, for the API at api_domain, until they expire', async () => {
    const refresh = (form: Record<string, string>, client = `${OAUTH.clientId}:${OAUTH.clientSecret}`, contentType = 'application/x-www-form-urlencoded') =>
      api(sandbox, 'POST', '/oauth/token', new URLSearchParams(form).toString(), { authorization: `Basic ${Buffer.from(client).toString('base64')}`, 'content-type': contentType });
    const refused = await refresh({ grant_type: 'refresh_token', refresh_token: 'stolen' });
    expect(refused).toMatchObject({ status: 400, json: { success: false, error: 'invalid_grant' } });
    expect((await refresh({ grant_type: 'refresh_token', refresh_token: OAUTH.refreshToken }, 'other:client')).json.error).toBe('invalid_client');
    expect((await refresh({ grant_type: 'refresh_token', refresh_token: OAUTH.refreshToken }, undefined, 'application/json')).json.error).toBe('invalid_request');
    const granted = await refresh({ grant_type: 'refresh_token', refresh_token: OAUTH.refreshToken });
    expect(granted.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599, refresh_token: OAUTH.refreshToken, api_domain: sandbox.url });
    const bearer = { authorization: `Bearer ${granted.json.access_token}` };
    expect((await api(sandbox, 'GET', '/api/v2/persons/1', undefined, bearer)).json.data.name).toBe('Brandon Freeman');
    expect((await api(sandbox, 'POST', '/__sandbox/expire-tokens')).json.expired).toBeGreaterThan(0);
    expect((await api(sandbox, 'GET', '/api/v2/persons/1', undefined, bearer)).status).toBe(401);
  });
});

describe('Pipedrive SandboxDefinition', () => {
  it('hands the connector and the ingest route what they need, and sends webhooks to the ingress', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pipedrive-definition-'));
    const listener = track(await Listener.start());
    try {
      const running = track(await pipedriveSandbox.start({ host: '127.0.0.1', port: 0, dataDir, ingressUrl: listener.url }));
      const environment = running.environment;
      expect(environment).toMatchObject({ PIPEDRIVE_API_URL: running.url, PIPEDRIVE_OAUTH_URL: running.url, PIPEDRIVE_VAT_FIELD: 'VAT number' });
      const secrets = Object.fromEntries(Object.entries(pipedriveConnector.secrets).map(([field, secret]) => [field, environment[secret.variable]]));
      const crm = pipedriveConnector.create(pipedriveConnector.settings.parse(environment), secrets, { timeoutMs: 2000 });

      const created = await fetch(`${running.url}/__sandbox/deals`, { method: 'POST', body: JSON.stringify({ title: 'Demo', status: 'won', organization: { id: 2 }, products: [{ code: 'DOCK-4', quantity: 1 }] }) });
      const deal = ((await created.json()) as { data: { id: number } }).data;
      expect(await crm.getDeal(String(deal.id))).toMatchObject({ stage: WON_DEAL_STAGE, customer: { name: 'Deco Addict', vatNumber: 'NL123456789B01', address: { countryCode: 'NL' } }, lines: [{ sku: 'DOCK-4' }] });

      const [delivery] = await listener.received_(1);
      expect(delivery!.path).toBe('/webhooks/pipedrive');
      const credentials = { user: environment.PIPEDRIVE_WEBHOOK_USER!, password: environment.PIPEDRIVE_WEBHOOK_PASSWORD! };
      expect(checkPipedriveBasicAuth(delivery!.authorization, credentials)).toBeUndefined();
      expect(pipedriveSandbox).toMatchObject({ system: 'pipedrive', defaultPort: 4012, portVariable: 'HARMONY_PIPEDRIVE_PORT' });
    } finally {
      for (const closable of started.splice(0).reverse()) await closable.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
