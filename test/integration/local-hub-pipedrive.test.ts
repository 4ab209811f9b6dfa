/**
 * A Pipedrive won-deal webhook through the local hub's ingress (configured by exactly the
 * variables issue 6 names) lands on the bus as the canonical deal-won event: the
 * order-to-cash rule of the synthesized template matches it, and its starter begins a saga
 * whose trigger is the same Deal Stage Changed detail a HubSpot deal moved to closedwon gives.
 */
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHubEnvironment } from '../../local/config.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';

const PIPEDRIVE = { user: 'pipedrive-hook', password: 'local pipedrive password' };

let hub: RunningHub;
let dataDir: string;
let sfn: SFNClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'harmony-pipedrive-'));
  const environment = readHubEnvironment({
    HARMONY_DATA_DIR: dataDir,
    HARMONY_AWS_PORT: '0',
    HARMONY_INGRESS_PORT: '0',
    HARMONY_HUBSPOT_PORT: '0',
    HARMONY_ODOO_PORT: '0',
    PIPEDRIVE_WEBHOOK_USER: PIPEDRIVE.user,
    PIPEDRIVE_WEBHOOK_PASSWORD: PIPEDRIVE.password,
  });
  hub = await startHub({ environment, log: () => undefined, onAlarm: () => undefined });
  sfn = new SFNClient({ endpoint: hub.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  sfn?.destroy();
  await hub?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

const won = JSON.parse(readFileSync(new URL('../fixtures/pipedrive/webhook-v2-deal-won.json', import.meta.url), 'utf8')) as Record<string, any>;

function post(body: unknown, authorization: string) {
  return fetch(`${hub.ingressUrl}/webhooks/pipedrive`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, 'user-agent': 'Pipedrive Webhooks' },
    body: JSON.stringify(body),
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('a Pipedrive won deal through the local hub', () => {
  it('puts the deal-won event on the bus, and a HubSpot deployment starts no saga for another CRM\'s deal', async () => {
    const delivery = { ...won, meta: { ...won.meta, id: 'local-hub-pd-1', entity_id: '8801' } };
    const acceptedBefore = hub.eventBridge.stats().putEvents.accepted;

    const response = await post(delivery, basic(PIPEDRIVE.user, PIPEDRIVE.password));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    expect(hub.eventBridge.stats().putEvents.accepted).toBe(acceptedBefore + 1);
    // The rule carries `crm: [hubspot]`: a Pipedrive deal id means nothing to this deployment's CRM.
    const rule = hub.eventBridge.stats().rules.find((candidate) => candidate.ruleName.includes('OrderToCash'));
    expect(rule, 'the template has the order-to-cash rule').toBeDefined();
    expect(rule!.matchedEvents).toBe(0);
    const machines = await sfn.send(new ListStateMachinesCommand({}));
    const machine = machines.stateMachines!.find((candidate) => candidate.name!.includes('OrderToCash'))!;
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn }))).executions).toEqual([]);
  });

  it('answers Pipedrive\'s retry of the same event with 200 as a duplicate, and wrong credentials with 401', async () => {
    const delivery = { ...won, meta: { ...won.meta, id: 'local-hub-pd-1', entity_id: '8801', attempt: 2 } };

    const retry = await post(delivery, basic(PIPEDRIVE.user, PIPEDRIVE.password));
    const forged = await post({ ...delivery, meta: { ...delivery.meta, id: 'local-hub-pd-2' } }, basic(PIPEDRIVE.user, 'guess'));

    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ accepted: 0, duplicates: 1 });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('answers a source the hub was not configured for with 404 naming it', async () => {
    const response = await fetch(`${hub.ingressUrl}/callbacks/erp-middleware`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toContain('"callbacks"');
  });
});
