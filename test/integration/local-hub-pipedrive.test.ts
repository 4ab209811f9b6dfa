/**
 * A Pipedrive won-deal webhook through the local hub's ingress (configured by exactly the
 * variables issue 6 names) lands on the bus as the canonical deal-won event: the
 * order-to-cash rule of the synthesized template matches it, and its starter begins a saga
 * whose trigger is the same Deal Stage Changed detail a HubSpot deal moved to closedwon gives.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WON_DEAL_STAGE } from '../../functions/core/events.ts';
import { readHubEnvironment } from '../../local/config.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';
import { waitFor } from '../../local/wait-for.ts';

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
  it('is matched by the order-to-cash rule and starts a saga on the canonical deal-won trigger', async () => {
    const delivery = { ...won, meta: { ...won.meta, id: 'local-hub-pd-1', entity_id: '8801' } };

    const response = await post(delivery, basic(PIPEDRIVE.user, PIPEDRIVE.password));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    const rule = hub.eventBridge.stats().rules.find((candidate) => candidate.ruleName.includes('OrderToCash'));
    expect(rule, 'the template has the order-to-cash rule').toBeDefined();
    await waitFor('the order-to-cash rule to match', async () => (hub.eventBridge.stats().rules.find((candidate) => candidate.ruleArn === rule!.ruleArn)!.matchedEvents >= 1 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const machines = await sfn.send(new ListStateMachinesCommand({}));
    const machine = machines.stateMachines!.find((candidate) => candidate.name!.includes('OrderToCash'))!;
    const execution = await waitFor(
      'the saga of the Pipedrive deal',
      async () => (await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn }))).executions?.[0],
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    const input = JSON.parse(described.input!) as { trigger: Record<string, unknown>; businessKey: string };
    expect(input.trigger).toEqual({
      crm: 'pipedrive',
      accountId: '12882925',
      dealId: '8801',
      stage: WON_DEAL_STAGE,
      occurredAt: '2026-05-15T18:00:00.000Z',
      eventId: 'local-hub-pd-1',
    });
    expect(input.businessKey).toBe('deal:pipedrive:12882925:8801');
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
