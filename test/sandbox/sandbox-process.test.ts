/**
 * `local/sandbox/main.ts`, the sandboxes in a process of their own, as a chaos
 * harness uses it: one ready line, webhooks retried while the hub's ingress is down
 * and delivered once it is back, every answered call still there after SIGKILL,
 * and a clean exit on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../local/net/free-port.ts';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = new URL('../../local/sandbox/main.ts', import.meta.url).pathname;
const TOKEN = 'pat-process-test';

interface Ready {
  readonly ready: true;
  readonly hubspotUrl: string;
  readonly odooUrl: string;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts main.ts and resolves with its ready line; the child is killed after the test if still running. */
async function startSandboxes(dataDir: string, webhookUrl: string): Promise<{ readonly child: ChildProcess; readonly ready: Ready; readonly stdout: string[] }> {
  const child = spawn(
    process.execPath,
    [MAIN, '--hubspot-port', '0', '--odoo-port', '0', '--data-dir', dataDir, '--webhook-url', webhookUrl, '--access-token', TOKEN,
      '--retry-delays-ms', Array<number>(100).fill(100).join(',')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stdout: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const first = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      stdout.push(line);
      if (stdout.length === 1) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`main.ts exited with ${code}: ${stderr}`)));
  });
  return { child, ready: JSON.parse(await first) as Ready, stdout };
}


/** The hub's ingress, coming back: answers 200 and keeps the bodies. */
async function startIngress(port: number): Promise<{ readonly bodies: string[] }> {
  const bodies: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { bodies };
}

async function until<Value>(what: string, probe: () => Promise<Value | undefined>, timeoutMs = 20_000): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function hubspot(ready: Ready, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${ready.hubspotUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

async function odoo(ready: Ready, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
  const response = await fetch(`${ready.odooUrl}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service: 'object', method: 'execute_kw', args: ['harmony', 2, 'local-odoo-api-key', model, method, args, kwargs] } }),
  });
  return ((await response.json()) as { result?: unknown }).result;
}

describe('local/sandbox/main.ts', () => {
  it('retries a webhook while the ingress is down, delivers it once it is back, and keeps every answered call across SIGKILL', { timeout: 60_000 }, async () => {
    // prepare
    const dataDir = await mkdtemp(join(tmpdir(), 'harmony-sandboxes-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const ingressPort = await freePort();
    const webhookUrl = `http://127.0.0.1:${ingressPort}/webhooks/hubspot`;
    const first = await startSandboxes(dataDir, webhookUrl);

    // act: a deal is won while the hub is down, and an order is created
    const moved = await hubspot(first.ready, 'PATCH', '/crm/v3/objects/deals/4001', { properties: { dealstage: 'closedwon' } });
    const orderId = await odoo(first.ready, 'sale.order', 'create', [{ partner_id: 3, client_order_ref: 'survives-sigkill' }]);
    const failedAttempts = await until('two failed deliveries', async () => {
      const log = (await hubspot(first.ready, 'GET', '/__sandbox/webhook-deliveries')).json as { outcome: string; error?: string }[];
      return log.length >= 2 ? log : undefined;
    });
    const ingress = await startIngress(ingressPort);
    await until('the delivery', async () => (ingress.bodies.length > 0 ? true : undefined));
    const delivered = (await hubspot(first.ready, 'GET', '/__sandbox/webhook-deliveries')).json as { outcome: string }[];
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const second = await startSandboxes(dataDir, webhookUrl);
    const deal = await hubspot(second.ready, 'GET', '/crm/v3/objects/deals/4001?properties=dealstage');
    const orders = await odoo(second.ready, 'sale.order', 'search_read', [[['client_order_ref', '=', 'survives-sigkill']]], { fields: ['state'] });
    second.child.kill('SIGTERM');
    const [code, signal] = (await once(second.child, 'exit')) as [number | null, NodeJS.Signals | null];

    // assess
    expect(first.ready).toMatchObject({ ready: true, hubspotUrl: expect.stringMatching(/^http:\/\//), odooUrl: expect.stringMatching(/^http:\/\//) });
    expect(first.stdout).toHaveLength(1);
    expect(moved.status).toBe(200);
    expect(failedAttempts.slice(0, 2).map((attempt) => attempt.outcome)).toStrictEqual(['retrying', 'retrying']);
    expect(failedAttempts[0]!.error).toMatch(/ECONNREFUSED/);
    expect(JSON.parse(ingress.bodies[0]!)).toMatchObject([{ objectId: 4001, propertyValue: 'closedwon', attemptNumber: expect.any(Number) }]);
    expect(delivered.at(-1)?.outcome).toBe('delivered');
    expect(deal.json).toMatchObject({ properties: { dealstage: 'closedwon' } });
    expect(orders).toEqual([{ id: orderId, state: 'draft' }]);
    expect({ code, signal }).toStrictEqual({ code: 0, signal: null });
  });
});
