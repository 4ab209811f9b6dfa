/**
 * A by-hand check that the sandboxes' per-call cost does not grow with what they
 * store: creates orders through the protocols (Odoo JSON-RPC, HubSpot REST) on a
 * data directory and prints the mean milliseconds per call around each milestone.
 *
 * Run: `node local/sandbox/scale-check.ts [orders=20000] [odoo|hubspot|both]`.
 * Not a test: timings on a shared machine are noisy; compare the columns, not runs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubspotSandbox } from './hubspot/server.ts';
import { startOdooSandbox } from './odoo/index.ts';

const orders = Number(process.argv[2] ?? '20000');
const which = process.argv[3] ?? 'both';
const milestones = [100, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000].filter((milestone) => milestone <= orders);
const WINDOW = 100;

/** Mean ms per call over the WINDOW orders that end at each milestone, per call name. */
type Report = Map<number, Map<string, number>>;

async function timed<Value>(sums: Map<string, number>, name: string, call: () => Promise<Value>): Promise<Value> {
  const started = performance.now();
  const value = await call();
  sums.set(name, (sums.get(name) ?? 0) + performance.now() - started);
  return value;
}

function print(title: string, report: Report): void {
  const names = [...new Set([...report.values()].flatMap((row) => [...row.keys()]))];
  console.log(`\n${title}: mean ms per call over the ${WINDOW} orders before each count`);
  console.log(['orders', ...names].map((cell) => cell.padStart(16)).join(''));
  for (const [count, row] of report) {
    console.log([String(count), ...names.map((name) => (row.get(name) ?? 0).toFixed(2))].map((cell) => cell.padStart(16)).join(''));
  }
}

async function odoo(dataDir: string): Promise<void> {
  const sandbox = await startOdooSandbox({ port: 0, db: 'scale', username: 'scale', apiKey: 'scale', dataDir: join(dataDir, 'odoo') });
  let id = 0;
  const call = async (model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> => {
    const response = await fetch(`${sandbox.url}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: ++id, params: { service: 'object', method: 'execute_kw', args: ['scale', 2, 'scale', model, method, args, kwargs] } }),
    });
    const body = (await response.json()) as { result?: unknown; error?: { data: { message: string } } };
    if (body.error !== undefined) throw new Error(body.error.data.message);
    return body.result;
  };
  const report: Report = new Map();
  let sums = new Map<string, number>();
  for (let index = 1; index <= orders; index += 1) {
    const ref = `scale:${index}`;
    await timed(sums, 'search_read ref', () => call('sale.order', 'search_read', [[['client_order_ref', '=', ref], ['state', '!=', 'cancel']]], { fields: ['name'], limit: 1, order: 'id desc' }));
    const orderId = await timed(sums, 'create', () =>
      call('sale.order', 'create', [{ partner_id: 3, client_order_ref: ref, order_line: [[0, 0, { product_id: 1, product_uom_qty: 2 }]] }]),
    );
    await timed(sums, 'action_confirm', () => call('sale.order', 'action_confirm', [[orderId]]));
    await timed(sums, 'read', () => call('sale.order', 'read', [[orderId], ['name', 'state', 'amount_total', 'order_line']]));
    if (milestones.includes(index)) {
      report.set(index, new Map([...sums].map(([name, sum]) => [name, sum / WINDOW])));
      print('Odoo sandbox', report);
    }
    if (index % WINDOW === 0) sums = new Map();
  }
  await sandbox.close();
}

async function hubspot(dataDir: string): Promise<void> {
  const receiver = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/hubspot`;
  const sandbox = await startHubspotSandbox({ port: 0, accessToken: 'scale', clientSecret: 'scale', webhookUrl, dataDir: join(dataDir, 'hubspot') });
  const call = async (method: string, path: string, body?: unknown): Promise<{ id: string }> => {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: 'Bearer scale', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as { id: string };
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const association = (id: string, associationTypeId: number) => ({ to: { id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId }] });
  const report: Report = new Map();
  let sums = new Map<string, number>();
  for (let index = 1; index <= orders; index += 1) {
    const deal = await timed(sums, 'create deal', () =>
      call('POST', '/crm/v3/objects/deals', { properties: { dealname: `Scale ${index}`, dealstage: 'appointmentscheduled' }, associations: [association('2001', 5)] }),
    );
    await timed(sums, 'create line', () =>
      call('POST', '/crm/v3/objects/line_items', { properties: { hs_product_id: '1001', quantity: '1' }, associations: [association(deal.id, 20)] }),
    );
    await timed(sums, 'PATCH won', () => call('PATCH', `/crm/v3/objects/deals/${deal.id}`, { properties: { dealstage: 'closedwon' } }));
    await timed(sums, 'GET deal', () => call('GET', `/crm/v3/objects/deals/${deal.id}?associations=companies,line_items`));
    if (milestones.includes(index)) {
      report.set(index, new Map([...sums].map(([name, sum]) => [name, sum / WINDOW])));
      print('HubSpot sandbox', report);
    }
    if (index % WINDOW === 0) sums = new Map();
  }
  await sandbox.close();
  receiver.close();
  receiver.closeAllConnections();
}

const dataDir = mkdtempSync(join(tmpdir(), 'sandbox-scale-'));
try {
  if (which !== 'hubspot') await odoo(dataDir);
  if (which !== 'odoo') await hubspot(dataDir);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
