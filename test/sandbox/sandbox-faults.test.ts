/**
 * Fault kinds a chaos harness needs, through clients Harmony did not write:
 * `commit-then-drop` (the vendor stores the call, the reply is lost: the client
 * sees a broken connection, yet the record is there) and the
 * `x-sandbox-faults: bypass` header (a harness's own calls neither suffer nor
 * consume fault rules).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Client } from '@hubspot/api-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startHubspotSandbox, type HubspotSandbox } from '../../local/sandbox/hubspot/server.ts';
import { startOdooSandbox, type OdooSandbox } from '../../local/sandbox/odoo/index.ts';

const DB = 'harmony';
const USERNAME = 'api@harmony.example';
const API_KEY = 'sandbox-api-key';
const TOKEN = 'pat-na1-sandbox-token';
const BYPASS = { 'x-sandbox-faults': 'bypass' };

/** The `odoo-xmlrpc` client, as its README documents it. */
interface OdooXmlRpcClient {
  connect(callback: (error: unknown, uid: unknown) => void): void;
  execute_kw(model: string, method: string, params: unknown[], callback: (error: unknown, value: unknown) => void): void;
}
type OdooXmlRpcConstructor = new (config: { url: string; db: string; username: string; password: string }) => OdooXmlRpcClient;
const OdooXmlRpc = createRequire(import.meta.url)('odoo-xmlrpc') as OdooXmlRpcConstructor;

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function promised<Value>(start: (callback: (error: unknown, value: Value) => void) => void): Promise<Value> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
}

async function settled(promise: Promise<unknown>): Promise<{ value?: unknown; error?: unknown }> {
  return promise.then((value) => ({ value }), (error: unknown) => ({ error }));
}

async function addFault(url: string, fault: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify(fault) });
  expect(response.status).toBe(201);
}

async function startOdoo(): Promise<OdooSandbox> {
  const sandbox = await startOdooSandbox({ port: 0, db: DB, username: USERNAME, apiKey: API_KEY });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

async function jsonRpc(sandbox: OdooSandbox, model: string, method: string, args: unknown[], headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(`${sandbox.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service: 'object', method: 'execute_kw', args: [DB, 2, API_KEY, model, method, args, {}] } }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { data: { message: string } } };
  if (body.error !== undefined) throw new Error(body.error.data.message);
  return body.result;
}

async function ordersWithRef(sandbox: OdooSandbox, reference: string): Promise<unknown> {
  return jsonRpc(sandbox, 'sale.order', 'search_read', [[['client_order_ref', '=', reference]], ['client_order_ref', 'state']], BYPASS);
}

async function startHubspot(webhookUrl?: string): Promise<HubspotSandbox> {
  const sandbox = await startHubspotSandbox({ port: 0, accessToken: TOKEN, clientSecret: 'secret', ...(webhookUrl === undefined ? {} : { webhookUrl }) });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

/** A webhook endpoint answering 200 that keeps the bodies it received. */
async function startReceiver(): Promise<{ readonly url: string; readonly bodies: string[] }> {
  const bodies: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hubspot`, bodies };
}

async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('commit-then-drop', () => {
  it('creates the Odoo order of an XML-RPC call whose reply odoo-xmlrpc never gets', async () => {
    // prepare
    const sandbox = await startOdoo();
    const odoo = new OdooXmlRpc({ url: sandbox.url, db: DB, username: USERNAME, password: API_KEY });
    await promised((callback) => odoo.connect(callback));
    await addFault(sandbox.url, { count: 1, kind: 'commit-then-drop', operation: 'sale.order.create' });

    // act
    const outcome = await settled(promised((callback) =>
      odoo.execute_kw('sale.order', 'create', [[{ partner_id: 3, client_order_ref: 'lost-reply-xml', order_line: [[0, 0, { product_id: 1 }]] }]], callback)));

    // assess
    expect(outcome.error).toMatchObject({ code: 'ECONNRESET' });
    expect(await ordersWithRef(sandbox, 'lost-reply-xml')).toEqual([{ id: expect.any(Number), client_order_ref: 'lost-reply-xml', state: 'draft' }]);
    expect(sandbox.faults.remaining()).toBe(0);
  });

  it('confirms the Odoo order of a JSON-RPC call whose reply is lost; a repeat that raises gets no reply either', async () => {
    // prepare
    const sandbox = await startOdoo();
    const orderId = await jsonRpc(sandbox, 'sale.order', 'create', [{ partner_id: 3, client_order_ref: 'lost-reply-json', order_line: [[0, 0, { product_id: 1 }]] }]);
    await addFault(sandbox.url, { count: 2, kind: 'commit-then-drop', operation: 'sale.order.action_confirm' });

    // act
    const confirmed = await settled(jsonRpc(sandbox, 'sale.order', 'action_confirm', [[orderId]]));
    const confirmedAgain = await settled(jsonRpc(sandbox, 'sale.order', 'action_confirm', [[orderId]]));

    // assess
    expect(confirmed.error).toBeInstanceOf(TypeError); // fetch: the connection closed without a response
    expect(confirmedAgain.error).toBeInstanceOf(TypeError);
    expect(await ordersWithRef(sandbox, 'lost-reply-json')).toEqual([{ id: orderId, client_order_ref: 'lost-reply-json', state: 'sale' }]);
  });

  it('moves the HubSpot deal and sends its webhook although @hubspot/api-client gets no answer to the PATCH', async () => {
    // prepare
    const receiver = await startReceiver();
    const sandbox = await startHubspot(receiver.url);
    const client = new Client({ accessToken: TOKEN, basePath: sandbox.url });
    await addFault(sandbox.url, { count: 1, kind: 'commit-then-drop', operation: 'PATCH /crm/v3/objects/deals' });

    // act
    const outcome = await settled(client.crm.deals.basicApi.update('4001', { properties: { dealstage: 'closedwon' } }));

    // assess
    expect(outcome.error).toBeDefined();
    expect((await client.crm.deals.basicApi.getById('4001', ['dealstage'])).properties['dealstage']).toBe('closedwon');
    await eventually(() => receiver.bodies.length > 0);
    expect(JSON.parse(receiver.bodies[0]!)).toMatchObject([{ objectId: 4001, propertyName: 'dealstage', propertyValue: 'closedwon' }]);
  });
});

describe('x-sandbox-faults: bypass', () => {
  it('serves an Odoo call carrying it and leaves the pending rule to the next call', async () => {
    // prepare
    const sandbox = await startOdoo();
    await addFault(sandbox.url, { count: 1, kind: '500' });

    // act
    const bypassed = await settled(jsonRpc(sandbox, 'res.partner', 'search_count', [[]], BYPASS));
    const remainingAfterBypass = sandbox.faults.remaining();
    const next = await settled(jsonRpc(sandbox, 'res.partner', 'search_count', [[]]));

    // assess
    expect(bypassed.value).toEqual(expect.any(Number));
    expect(remainingAfterBypass).toBe(1);
    expect(next.error).toBeDefined(); // a 500 HTML page instead of JSON
    expect(sandbox.faults.remaining()).toBe(0);
  });

  it('serves a HubSpot call carrying it and leaves the pending rule to the next call', async () => {
    // prepare
    const sandbox = await startHubspot();
    await addFault(sandbox.url, { count: 1, kind: 'commit-then-drop', operation: 'PATCH /crm/v3/objects/deals' });
    const patch = (stage: string, headers: Record<string, string>) =>
      fetch(`${sandbox.url}/crm/v3/objects/deals/4002`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ properties: { dealstage: stage } }),
      });

    // act
    const bypassed = await patch('qualifiedtobuy', BYPASS);
    const next = await settled(patch('closedwon', {}));
    const after = await patch('closedlost', {});

    // assess
    expect(bypassed.status).toBe(200);
    expect(next.error).toBeInstanceOf(TypeError);
    expect(after.status).toBe(200);
  });
});
