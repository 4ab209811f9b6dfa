/**
 * Order-to-cash end to end in-process: the state machine rendered from the synthesized
 * Harmony stack, run by aws-local-stepfunctions, calling the real step-runner handler,
 * which talks to the HubSpot and Odoo sandboxes through the real adapters and writes
 * claims and audit records to dynalite. What we check is what the outside systems hold
 * afterwards, read with their own clients.
 */
import { Client } from '@hubspot/api-client';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderToCash, type OrderToCashTrigger } from '../../flows/order-to-cash.ts';
import { startHubspotSandbox, type HubspotSandbox } from '../../local/sandbox/hubspot/server.ts';
import { startOdooSandbox, type OdooSandbox } from '../../local/sandbox/odoo/index.ts';
import { createLambdaContext } from '../../local/lambda/lambda-context.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { stateMachinesOf, type TemplateStateMachine } from '../../local/template/state-machines.ts';
import { startHandlerStores, type HandlerStores } from '../support/handler-stores.ts';
import { startSqs } from '../support/local-aws.ts';
import { connectOdooReader } from '../../local/sandbox/odoo/community-client.ts';
import { runSaga } from '../support/run-saga.ts';
import { synthHarmony } from '../support/synth.ts';

const HUBSPOT_TOKEN = 'pat-local-e2e';
const ODOO = { db: 'harmony', username: 'harmony@example.com', apiKey: 'odoo-e2e-key' };

let stores: HandlerStores;
let sqs: Awaited<ReturnType<typeof startSqs>>;
let hubspot: HubspotSandbox;
let odoo: OdooSandbox;
let machine: TemplateStateMachine;
let stepRunnerId: string;
let handler: (event: unknown, context: unknown) => Promise<unknown>;
let odooReader: Awaited<ReturnType<typeof connectOdooReader>>;
let crm: Client;
let eventCounter = 0;

beforeAll(async () => {
  [stores, sqs, hubspot, odoo] = await Promise.all([
    startHandlerStores(),
    startSqs(),
    startHubspotSandbox({ port: 0, accessToken: HUBSPOT_TOKEN, clientSecret: 'unused-here' }),
    startOdooSandbox({ port: 0, ...ODOO }),
  ]);
  const resolver = new TemplateResolver(synthHarmony().json as never, { region: 'us-east-1', accountId: '000000000000', sqsEndpoint: sqs.endpoint });
  machine = stateMachinesOf(resolver).find((candidate) => Object.keys(candidate.definition.States).includes('CreateSalesOrder'))!;
  for (const target of Object.values(machine.tasks)) {
    if (target.kind === 'lambda') stepRunnerId = target.functionLogicalId;
    if (target.kind === 'sqs:sendMessage') sqs.createQueue(resolver.physicalName(target.queueLogicalId));
  }
  Object.assign(process.env, stores.environment, {
    FLOW_NAME: 'order-to-cash',
    HUBSPOT_ACCESS_TOKEN: HUBSPOT_TOKEN,
    HUBSPOT_BASE_URL: hubspot.url,
    ODOO_URL: odoo.url,
    ODOO_DB: ODOO.db,
    ODOO_USERNAME: ODOO.username,
    ODOO_API_KEY: ODOO.apiKey,
    AWS_LAMBDA_FUNCTION_NAME: 'order-to-cash-steps',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  ({ handler } = (await import('../../functions/handlers/run-step.ts')) as unknown as { handler: typeof handler });
  odooReader = await connectOdooReader({ url: odoo.url, db: ODOO.db, username: ODOO.username, password: ODOO.apiKey });
  crm = new Client({ accessToken: HUBSPOT_TOKEN, basePath: hubspot.url });
});

afterAll(async () => {
  await Promise.all([hubspot?.close(), odoo?.close(), sqs?.stop(), stores?.stop()]);
});

/** Moves the deal to won in the CRM (unless told not to), then runs the saga its webhook would start. */
async function runOrderToCash(dealId: string, options: { moveDealToWon?: boolean } = {}) {
  const stage = 'closedwon';
  if (options.moveDealToWon ?? true) await crm.crm.deals.basicApi.update(dealId, { properties: { dealstage: stage } });
  eventCounter += 1;
  const trigger: OrderToCashTrigger = {
    crm: 'hubspot',
    accountId: String(hubspot.portalId),
    dealId,
    stage,
    occurredAt: new Date().toISOString(),
    eventId: `e2e-${eventCounter}`,
  };
  const executionName = orderToCash.executionName(trigger);
  const input = {
    trigger,
    businessKey: orderToCash.businessKey(trigger),
    correlationId: `corr-${eventCounter}`,
    receivedAt: new Date().toISOString(),
    results: {},
    compensations: {},
  };
  const run = await runSaga(machine, input, {
    executionName,
    sqsEndpoint: sqs.endpoint,
    functions: { [stepRunnerId]: (payload) => handler(payload, createLambdaContext({ functionName: 'order-to-cash-steps', timeoutMs: 60_000 })) },
  });
  return { run, businessKey: input.businessKey };
}

const dealProperties = async (dealId: string) =>
  (await crm.crm.deals.basicApi.getById(dealId, ['erp_order_ref', 'erp_status', 'erp_sync_error'])).properties;

const auditOf = async (businessKey: string) => {
  const { dynamo } = await import('../../functions/core/aws-clients.ts');
  const items = (await dynamo().send(new ScanCommand({ TableName: stores.auditTable }))).Items ?? [];
  return items.filter((item) => item.businessKey === businessKey).sort((a, b) => String(a.at).localeCompare(String(b.at)));
};

const fault = (sandboxUrl: string, body: Record<string, unknown>) =>
  fetch(`${sandboxUrl}/__sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('order-to-cash, end to end in-process', () => {
  it('turns a won deal into exactly one confirmed Odoo order and writes its number back to the deal', async () => {
    const { run, businessKey } = await runOrderToCash('4001');

    expect(run.status, run.cause).toBe('SUCCEEDED');
    const orders = await odooReader.ordersWithRef('hubspot:4001');
    expect(orders).toHaveLength(1);
    expect(orders[0]!.state).toBe('sale');
    expect(orders[0]!.partner_id[1]).toBe('Acme Industrie GmbH');
    const deal = await dealProperties('4001');
    expect(deal.erp_order_ref).toBe(orders[0]!.name);
    expect(deal.erp_status).toBe('confirmed');
    const audit = await auditOf(businessKey);
    expect(audit.filter((record) => record.outcome === 'succeeded').map((record) => record.action)).toEqual([
      'LoadDeal', 'UpsertCustomer', 'CreateSalesOrder', 'ConfirmSalesOrder', 'UpdateDealWithOrder',
    ]);
    expect(audit.find((record) => record.action === 'CreateSalesOrder')?.erpOrderRef).toBe(orders[0]!.name);
    expect(audit.find((record) => record.action === 'UpsertCustomer')?.facts).toHaveProperty('customerCreated');
  });

  it('creates no second order when the deal is won again (another event, another run)', async () => {
    const { run } = await runOrderToCash('4001');

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(await odooReader.ordersWithRef('hubspot:4001')).toHaveLength(1);
  });

  it('rolls back when Odoo rejects the order: no order, the deal says why, the audit has Odoo\'s message', async () => {
    await crm.crm.lineItems.basicApi.update('5003', { properties: { hs_sku: 'NO-SUCH-SKU' } });

    const { run, businessKey } = await runOrderToCash('4002');

    expect(run.status).toBe('FAILED');
    expect(run.statesEntered).toEqual(expect.arrayContaining(['CancelSalesOrder', 'MarkDealSyncFailed']));
    expect(run.statesEntered.indexOf('CancelSalesOrder')).toBeLessThan(run.statesEntered.indexOf('MarkDealSyncFailed'));
    expect((await odooReader.ordersWithRef('hubspot:4002')).filter((order) => order.state !== 'cancel')).toHaveLength(0);
    const deal = await dealProperties('4002');
    expect(deal.erp_status).toBe('sync_failed');
    expect(deal.erp_sync_error).toMatch(/NO-SUCH-SKU/);
    const failed = (await auditOf(businessKey)).find((record) => record.action === 'CreateSalesOrder' && record.outcome === 'failed');
    expect(failed?.error).toMatch(/NO-SUCH-SKU/);
  });

  it('cancels the order it created when confirming keeps failing, so nothing half-done stays in Odoo', async () => {
    await fault(odoo.url, { count: 50, kind: '500', operation: 'sale.order.action_confirm' });
    try {
      const { run } = await runOrderToCash('4003');

      expect(run.status).toBe('FAILED');
      expect(run.retries.ConfirmSalesOrder).toBeGreaterThan(0);
      const orders = await odooReader.ordersWithRef('hubspot:4003');
      expect(orders).toHaveLength(1);
      expect(orders[0]!.state).toBe('cancel');
      expect((await dealProperties('4003')).erp_status).toBe('sync_failed');
    } finally {
      await fetch(`${odoo.url}/__sandbox/faults`, { method: 'DELETE' });
    }
  });

  it('creates no order for a won event that arrives after the deal left that stage, and says so on the deal', async () => {
    await crm.crm.deals.basicApi.update('4002', { properties: { dealstage: 'closedlost' } });

    const { run } = await runOrderToCash('4002', { moveDealToWon: false });

    expect(run.status).toBe('FAILED');
    expect((await odooReader.ordersWithRef('hubspot:4002')).filter((order) => order.state !== 'cancel')).toHaveLength(0);
    const deal = await dealProperties('4002');
    expect(deal.erp_status).toBe('sync_failed');
    expect(deal.erp_sync_error).toMatch(/no longer in stage closedwon \(now closedlost\)/);
  });

  it('rides out a HubSpot 429 with Retry-After and completes', async () => {
    await fault(hubspot.url, { count: 1, kind: '429', operation: 'GET /crm/v3/objects/deals', retryAfterSeconds: 1 });

    const { run } = await runOrderToCash('4003');

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.retries.LoadDeal).toBe(1);
    const live = (await odooReader.ordersWithRef('hubspot:4003')).filter((order) => order.state !== 'cancel');
    expect(live).toHaveLength(1);
    expect((await dealProperties('4003')).erp_order_ref).toBe(live[0]!.name);
  });
});

describe('order-to-cash, two orders of one new company at once', () => {
  it('creates the company once in Odoo: the second run waits for the first one\'s customer and uses it', async () => {
    const company = await crm.crm.companies.basicApi.create({ properties: { name: 'Parallel Orders GmbH', country: 'Germany' }, associations: [] });
    const toCompany = [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }] }];
    const deals = await Promise.all(['A', 'B'].map(async (suffix) => {
      const deal = await crm.crm.deals.basicApi.create({ properties: { dealname: `Parallel ${suffix}`, dealstage: 'appointmentscheduled', deal_currency_code: 'EUR' }, associations: toCompany });
      await crm.crm.lineItems.basicApi.create({
        properties: { hs_sku: 'WIDGET-1', name: 'Widget', quantity: '1', price: '10' },
        associations: [{ to: { id: deal.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 20 }] }],
      });
      return deal.id;
    }));

    const runs = await Promise.all(deals.map((dealId) => runOrderToCash(dealId)));

    for (const { run } of runs) expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(await odooReader.partnerIdsWithRef(`hubspot:company:${company.id}`)).toHaveLength(1);
    const customers = await Promise.all(deals.map(async (dealId) => (await odooReader.ordersWithRef(`hubspot:${dealId}`))[0]!.partner_id[0]));
    expect(customers[0]).toBe(customers[1]);
  });
});
