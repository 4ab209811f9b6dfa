/**
 * The local hub as a user meets it: the whole stack started from the synthesized template
 * in its own process, driven only from outside — the official HubSpot client on the sandbox
 * CRM, an existing Odoo client library on the sandbox ERP, the AWS SDK on the endpoint — and
 * killed with SIGKILL in the middle of a run.
 */
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { Client } from '@hubspot/api-client';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/net/free-port.ts';
import { waitFor } from '../../local/wait-for.ts';
import { ONE_WIDGET_LINE, createDeal as createSandboxDeal } from '../../local/sandbox/hubspot/salesperson.ts';
import { connectOdooReader } from '../../local/sandbox/odoo/community-client.ts';

const NODE = process.execPath;
const CHILD = new URL('./fixtures/hub-process.ts', import.meta.url).pathname;
const ODOO = { db: 'harmony', username: 'harmony@example.com', apiKey: 'local-odoo-api-key' };
const HUBSPOT_TOKEN = 'pat-local-harmony';

interface HubUrls {
  readonly awsEndpoint: string;
  readonly ingressUrl: string;
  readonly hubspotUrl: string;
  readonly odooUrl: string;
}

let dataDir: string;
let environment: Record<string, string>;
let child: ChildProcess | undefined;

/** Starts the hub process and resolves with its URLs once it says it is ready. */
function startHubProcess(): Promise<HubUrls> {
  const process_ = spawn(NODE, [CHILD], { env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = process_;
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    process_.stderr!.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    process_.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{"ready":true'));
      if (line !== undefined) resolve(JSON.parse(line) as HubUrls);
    });
    process_.once('exit', (code) => reject(new Error(`hub exited with ${code} before it was ready:\n${errors.slice(-2000)}`)));
  });
}

async function killHub(signal: NodeJS.Signals): Promise<void> {
  const running = child;
  if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    running.once('exit', () => resolve());
    running.kill(signal);
  });
}

/** Polls the hub from outside; refused connections while it restarts count as "not yet". */
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) =>
  waitFor(what, probe, { timeoutMs, intervalMs: 200, ignoreErrors: true });

function clients(urls: HubUrls) {
  return {
    crm: new Client({ accessToken: HUBSPOT_TOKEN, basePath: urls.hubspotUrl }),
    erp: connectOdooReader({ url: urls.odooUrl, db: ODOO.db, username: ODOO.username, password: ODOO.apiKey }),
    sfn: new SFNClient({ endpoint: urls.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  };
}

/** A company and a deal with one line, in an open stage. */
const createDeal = (crm: Client, name: string) =>
  createSandboxDeal(crm, { dealName: name, companyName: name, lines: ONE_WIDGET_LINE });

const dealOrderRef = async (crm: Client, dealId: string) =>
  (await crm.crm.deals.basicApi.getById(dealId, ['erp_order_ref', 'erp_status'])).properties;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'harmony-hub-'));
  environment = {
    HARMONY_DATA_DIR: dataDir,
    HARMONY_AWS_PORT: String(await freePort()),
    HARMONY_INGRESS_PORT: String(await freePort()),
    HARMONY_HUBSPOT_PORT: String(await freePort()),
    HARMONY_ODOO_PORT: String(await freePort()),
    HARMONY_ALARM_INTERVAL_SECONDS: '1',
  };
});

afterAll(async () => {
  await killHub('SIGKILL');
  if (process.env.KEEP_HUB_DATA === undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe('the local hub', () => {
  it('turns a deal moved to won through the official HubSpot client into exactly one confirmed Odoo order, and the deal shows its number', async () => {
    const urls = await startHubProcessIfNeeded();
    const { crm, erp, sfn } = clients(urls);
    const odoo = await erp;
    const dealId = await createDeal(crm, 'Hub happy path GmbH');

    await crm.crm.deals.basicApi.update(dealId, { properties: { dealstage: 'closedwon' } });

    const deal = await until('the deal to show its ERP order', async () => {
      const properties = await dealOrderRef(crm, dealId);
      return properties.erp_order_ref ? properties : undefined;
    });
    const orders = await odoo.ordersWithRef(`hubspot:${dealId}`);
    expect(orders).toHaveLength(1);
    expect(orders[0]!.state).toBe('sale');
    expect(deal.erp_order_ref).toBe(orders[0]!.name);
    expect(deal.erp_status).toBe('confirmed');
    sfn.destroy();
  });

  it('changes nothing when the same signed webhook is delivered again and again', async () => {
    const urls = await startHubProcessIfNeeded();
    const { crm, erp, sfn } = clients(urls);
    const odoo = await erp;
    const dealId = await createDeal(crm, 'Hub duplicates SARL');
    await crm.crm.deals.basicApi.update(dealId, { properties: { dealstage: 'closedwon' } });
    await until('the order', async () => ((await dealOrderRef(crm, dealId)).erp_order_ref ? true : undefined));
    const deliveries = (await (await fetch(`${urls.hubspotUrl}/__sandbox/webhook-deliveries`)).json()) as { outcome: string; headers: Record<string, string>; body: string }[];
    const won = deliveries.filter((delivery) => delivery.outcome === 'delivered' && delivery.body.includes(`"objectId":${dealId}`) && delivery.body.includes('closedwon'));
    expect(won.length).toBeGreaterThan(0);

    const answers = [];
    for (let again = 0; again < 3; again += 1) {
      const response = await fetch(`${urls.ingressUrl}/webhooks/hubspot`, { method: 'POST', headers: won[0]!.headers, body: won[0]!.body });
      answers.push({ status: response.status, body: (await response.json()) as { accepted: number; duplicates: number } });
    }

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers.every((answer) => answer.body.accepted === 0 && answer.body.duplicates >= 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await odoo.ordersWithRef(`hubspot:${dealId}`)).toHaveLength(1);
    const machines = await sfn.send(new ListStateMachinesCommand({}));
    const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machines.stateMachines![0]!.stateMachineArn }));
    expect(executions.executions!.filter((execution) => execution.name!.includes(`-${dealId}-`))).toHaveLength(1);
    sfn.destroy();
  });

  it('lists its executions to the AWS SDK pointed at the local endpoint', async () => {
    const urls = await startHubProcessIfNeeded();
    const { sfn } = clients(urls);

    const machines = await sfn.send(new ListStateMachinesCommand({}));
    const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machines.stateMachines![0]!.stateMachineArn }));

    expect(machines.stateMachines!.map((machine) => machine.name).join()).toMatch(/OrderToCash/);
    expect(executions.executions!.filter((execution) => execution.status === 'SUCCEEDED').length).toBeGreaterThanOrEqual(2);
    sfn.destroy();
  });

  it('loses nothing and duplicates nothing when killed with SIGKILL in the middle of a run', { timeout: 180_000 }, async () => {
    let urls = await startHubProcessIfNeeded();
    let { crm } = clients(urls);
    const dealIds: string[] = [];
    for (let index = 0; index < 12; index += 1) dealIds.push(await createDeal(crm, `Crash test ${index} AG`));

    for (const dealId of dealIds) await crm.crm.deals.basicApi.update(dealId, { properties: { dealstage: 'closedwon' } });
    // Kill as soon as any order is through: the others are then somewhere between webhook and ERP.
    await until('a first order', async () => {
      for (const dealId of dealIds) if ((await dealOrderRef(crm, dealId)).erp_order_ref) return true;
      return undefined;
    });
    await killHub('SIGKILL');
    // The kill must land mid-run, or this test would prove nothing: some deals still wait for their order.
    const unfinished = [];
    for (const dealId of dealIds) if (!(await dealOrderRefOffline(dealId))) unfinished.push(dealId);
    expect(unfinished.length, 'deals still without an order when the hub was killed').toBeGreaterThan(0);
    running = undefined;
    urls = await startHubProcessIfNeeded();
    ({ crm } = clients(urls));
    const odoo = await clients(urls).erp;

    console.log(`killed with ${unfinished.length} of ${dealIds.length} deals unfinished; data in ${dataDir}`);
    for (const dealId of dealIds) {
      await until(`deal ${dealId} to show its order`, async () => ((await dealOrderRef(crm, dealId)).erp_order_ref ? true : undefined), 60_000);
    }
    for (const dealId of dealIds) {
      const orders = (await odoo.ordersWithRef(`hubspot:${dealId}`)).filter((order) => order.state !== 'cancel');
      expect(orders, `deal ${dealId}`).toHaveLength(1);
      expect(orders[0]!.state).toBe('sale');
      expect((await dealOrderRef(crm, dealId)).erp_order_ref).toBe(orders[0]!.name);
    }
  });
});

let running: HubUrls | undefined;

/** Reads a deal's ERP order reference from the sandbox CRM's database while the hub is down. */
async function dealOrderRefOffline(dealId: string): Promise<string | undefined> {
  const { PortalStore } = await import('../../local/sandbox/hubspot/portal-store.ts');
  const store = new PortalStore(join(dataDir, 'sandbox', 'hubspot'), 10_000);
  try {
    return store.find('deals', dealId)?.properties.erp_order_ref || undefined;
  } finally {
    store.close();
  }
}
async function startHubProcessIfNeeded(): Promise<HubUrls> {
  if (child !== undefined && child.exitCode === null && running !== undefined) return running;
  running = await startHubProcess();
  return running;
}
