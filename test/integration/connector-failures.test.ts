/**
 * Vendor failures end to end through the local hub (HubSpot → NetSuite): a 429 storm, expired
 * access tokens, malformed answers from the ERP and the CRM, and credentials the ERP refuses.
 * Each deal goes the whole way — signed webhook, bus, queue, starter, saga, step runner,
 * adapters, sandboxes — and must end as retries that succeed or as a clear permanent error
 * in the audit with its compensations run: accepted, started and ended, never dropped.
 *
 * One hub serves every scenario; they run one after another, each with its own deal and
 * company, and leave no fault behind. Credentials are made bad without a second hub: the
 * hub's NetSuite sandbox is restarted in place (same port, same data) with its M2M
 * certificate rotated, as a NetSuite administrator would, and restored afterwards.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toExternalId } from '../../functions/connectors/erp/netsuite/external-id.ts';
import type { AuditRecord } from '../../functions/core/audit.ts';
import type { NewDealLine } from '../../local/sandbox/hubspot/salesperson.ts';
import { LOCAL_NETSUITE_CREDENTIALS, startNetsuiteSandbox, type NetsuiteSandbox } from '../../local/sandbox/netsuite/sandbox.ts';
import { startScenarioHub, type SagaRun, type ScenarioHub } from '../support/hub-scenario.ts';

const SCENARIO_TIMEOUT_MS = 100_000;
const LINES: readonly NewDealLine[] = [
  { sku: 'WIDGET-1', name: 'Widget', quantity: 3, price: 49.5 },
  { sku: 'SERVICE-HOUR', name: 'Installation hour', quantity: 2, price: 95 },
];
/** NetSuite's approved state: `orderStatus` B, Pending Fulfillment (what Harmony calls confirmed). */
const APPROVED = 'B';

/** A sales order as the NetSuite sandbox stores it (its own field names). */
interface StoredOrder {
  readonly id: number;
  readonly tranId: string;
  readonly entity: number;
  readonly orderStatus: string;
  readonly externalId?: string;
  readonly otherRefNum?: string;
}

/** A deal a scenario created, with its company (unique to it). */
type Deal = { readonly dealId: string; readonly companyName: string };

let scenario: ScenarioHub;
/** The NetSuite sandbox this file restarted in place of the hub's own, if it did. */
let replacedNetsuite: NetsuiteSandbox | undefined;

beforeAll(async () => {
  scenario = await startScenarioHub({ erp: 'netsuite' });
  // A clean run first: the stack works, and the connector holds access tokens the scenarios can expire.
  const { run } = await winDeal('Baseline GmbH', async () => undefined);
  expect(run.status, describeTrail(run)).toBe('SUCCEEDED');
}, 150_000);

afterEach(async () => {
  await scenario?.erp.clearFaults();
  await scenario?.crm.clearFaults();
});

afterAll(async () => {
  await scenario?.stop();
  await replacedNetsuite?.close();
});

/** Every sales order that belongs to the deal: by its reference, or by the deal's (unique) company as customer. */
async function netsuiteOrdersOf(deal: Deal): Promise<StoredOrder[]> {
  const customers = (await scenario.erp.call('GET', '/__sandbox/records/customer')) as { id: number; companyName?: string }[];
  const customerIds = new Set(customers.filter((customer) => customer.companyName === deal.companyName).map((customer) => customer.id));
  const orders = (await scenario.erp.call('GET', '/__sandbox/records/salesOrder')) as StoredOrder[];
  const reference = `hubspot:${deal.dealId}`;
  return orders.filter((order) => customerIds.has(order.entity) || order.otherRefNum === reference || order.externalId === toExternalId(reference));
}

/** When an audited attempt started (epoch ms; `at` is the ISO time, `#`, then a discriminator). */
const startOf = (record: AuditRecord) => Date.parse(record.at.split('#')[0]!);
const stepRecords = (run: SagaRun) => run.audit.filter((record) => record.kind === 'step');
const failedSteps = (run: SagaRun) => stepRecords(run).filter((record) => record.outcome === 'failed');
const compensations = (run: SagaRun) => run.audit.filter((record) => record.kind === 'compensation');
const describeTrail = (run: SagaRun) =>
  run.audit.map((record) => `${record.action}#${record.attempt ?? '-'} ${record.outcome}${record.error ? ` — ${record.error}` : ''}`).join('\n');

/**
 * Nothing was dropped: the webhook was accepted, exactly one saga started, and it ended —
 * succeeded through its last step, or failed with every compensation it ran audited as done.
 */
function expectAccountedFor(run: SagaRun, outcome: 'SUCCEEDED' | 'FAILED'): void {
  const trail = describeTrail(run);
  const accepted = run.audit.filter((record) => record.action === 'WebhookAccepted' && record.facts?.eventId === run.wonEventId);
  expect(accepted.map((record) => record.outcome), `${run.wonEventId} accepted\n${trail}`).toEqual(['succeeded']);
  const started = run.audit.filter((record) => record.action === 'SagaStarted');
  expect(started.map((record) => record.outcome), trail).toEqual(['succeeded']);
  // The saga that ran is the one the accepted webhook's bus event started.
  expect(started[0]).toMatchObject({ executionName: run.executionName, correlationId: accepted[0]!.correlationId });
  expect(run.executions, 'executions of the deal').toBe(1);
  expect(run.status, trail).toBe(outcome);
  const steps = stepRecords(run);
  if (outcome === 'SUCCEEDED') {
    expect(steps.at(-1), trail).toMatchObject({ action: 'UpdateDealWithOrder', outcome: 'succeeded' });
    expect(compensations(run), trail).toEqual([]);
  } else {
    const ran = compensations(run);
    expect(ran.length, trail).toBeGreaterThan(0);
    expect(ran.every((record) => record.outcome === 'succeeded'), trail).toBe(true);
    expect(ran.at(-1)?.action, trail).toBe('MarkDealSyncFailed');
    // Compensating starts only after the step failed for good.
    expect(startOf(ran[0]!), trail).toBeGreaterThanOrEqual(startOf(steps.at(-1)!));
  }
}

/** The one permanent step failure of a failed run. */
function permanentFailureOf(run: SagaRun): AuditRecord {
  const failures = failedSteps(run);
  expect(failures, describeTrail(run)).toHaveLength(1);
  return failures[0]!;
}

/** A new deal, `prepare`d (faults asked of a sandbox…), moved to won, and its saga once it ended. */
async function winDeal(name: string, prepare: (deal: Deal) => Promise<void>): Promise<{ deal: Deal; run: SagaRun }> {
  const deal = await scenario.createDeal(name, LINES);
  await prepare(deal);
  await scenario.winDeal(deal.dealId);
  return { deal, run: await scenario.sagaOf(deal.dealId) };
}

/** Exactly one NetSuite order for the deal, approved, and its number and status on the deal. */
async function expectOneConfirmedOrder(deal: Deal): Promise<void> {
  const orders = await netsuiteOrdersOf(deal);
  expect(orders, 'sales orders of the deal').toHaveLength(1);
  expect(orders[0]!.orderStatus).toBe(APPROVED);
  expect(await scenario.dealSync(deal.dealId)).toMatchObject({ erpOrderRef: orders[0]!.tranId, erpStatus: 'confirmed' });
}

/** No NetSuite order for the deal, and the deal marked `sync_failed` with the reason. */
async function expectMarkedFailed(deal: Deal, reason: RegExp): Promise<void> {
  expect(await netsuiteOrdersOf(deal), 'sales orders of the deal').toEqual([]);
  const sync = await scenario.dealSync(deal.dealId);
  expect(sync).toMatchObject({ erpStatus: 'sync_failed', erpOrderRef: undefined });
  expect(sync.syncError).toMatch(reason);
}

describe('vendor failures end to end (HubSpot → saga → NetSuite)', () => {
  it('rides out a 429 storm at NetSuite: retried attempts audited as retryable naming the 429, then one confirmed order on the deal', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    // Five 429s (Retry-After 1) spread over the calls the saga makes in three of its steps.
    const storm = [
      ['GET /services/rest/record/v1/customer', 2],
      ['GET /services/rest/record/v1/salesOrder', 1],
      ['POST /services/rest/record/v1/salesOrder', 1],
      ['PATCH /services/rest/record/v1/salesOrder', 1],
    ] as const;
    const { deal, run } = await winDeal('Storm Logistics GmbH', async () => {
      for (const [operation, count] of storm) await scenario.erp.injectFault({ kind: '429', count, retryAfterSeconds: 1, operation });
    });

    expectAccountedFor(run, 'SUCCEEDED');
    const trail = describeTrail(run);
    const failures = failedSteps(run);
    expect(failures, trail).toHaveLength(5);
    for (const failure of failures) {
      expect(failure.error, trail).toMatch(/^RetryableError: netsuite .*HTTP 429/);
      // Each failed attempt is followed by a later attempt of the same step that succeeded.
      const success = stepRecords(run).find((record) => record.action === failure.action && record.outcome === 'succeeded');
      expect(success?.attempt, trail).toBeGreaterThan(failure.attempt!);
      expect(startOf(success!), trail).toBeGreaterThan(startOf(failure));
    }
    expect(new Set(failures.map((failure) => failure.action)), trail).toEqual(new Set(['UpsertCustomer', 'CreateSalesOrder', 'ConfirmSalesOrder']));
    expect(await scenario.erp.drainFaults(), '429s the saga never met').toBe(0);
    await expectOneConfirmedOrder(deal);
  });

  it('gets fresh tokens when NetSuite expired every access token: the order completes with no permanent failure', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const { deal, run } = await winDeal('Expired Tokens SARL', async () => {
      const { expired } = (await scenario.erp.call('POST', '/__sandbox/expire-tokens')) as { expired: number };
      expect(expired, 'access tokens the connector held from the baseline deal').toBeGreaterThan(0);
    });

    expectAccountedFor(run, 'SUCCEEDED');
    const failures = failedSteps(run);
    expect(failures.length, describeTrail(run)).toBeLessThanOrEqual(1);
    for (const failure of failures) expect(failure.error).toMatch(/^RetryableError:/);
    await expectOneConfirmedOrder(deal);
  });

  it('stops at a malformed answer to the order create: a permanent error naming NetSuite and the unreadable answer, compensated, the deal marked sync_failed, no order', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    // The sandbox answers 200 with truncated JSON and runs nothing.
    const { deal, run } = await winDeal('Truncated Answers AG', () =>
      scenario.erp.injectFault({ kind: 'malformed', count: 1, operation: 'POST /services/rest/record/v1/salesOrder' }),
    );

    expectAccountedFor(run, 'FAILED');
    const trail = describeTrail(run);
    expect(permanentFailureOf(run)).toMatchObject({ action: 'CreateSalesOrder', error: expect.stringMatching(/^PermanentError: netsuite POST salesOrder.*: the answer is not JSON/) });
    // Compensation ran newest first; CancelSalesOrder looked for the order and found none to cancel.
    expect(compensations(run).map((record) => record.action), trail).toEqual(['CancelSalesOrder', 'MarkDealSyncFailed']);
    expect(compensations(run)[0]!.facts, trail).toMatchObject({ nothingToCancel: true });
    expect(await scenario.erp.drainFaults(), 'malformed answers the saga never met').toBe(0);
    await expectMarkedFailed(deal, /^netsuite POST salesOrder.*: the answer is not JSON/);
  });

  it('recovers from a malformed answer after NetSuite ran the create: the adapter finds the order by its external id, so one order, confirmed', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    // The create is accepted as an async job and runs; reading the job's status gets truncated JSON.
    const { deal, run } = await winDeal('Lost Receipt Oy', () =>
      scenario.erp.injectFault({ kind: 'malformed', count: 1, operation: 'GET /services/rest/async/v1/job' }),
    );

    expectAccountedFor(run, 'SUCCEEDED');
    expect(failedSteps(run), describeTrail(run)).toEqual([]);
    expect(await scenario.erp.drainFaults(), 'malformed answers the saga never met').toBe(0);
    await expectOneConfirmedOrder(deal);
  });

  it('stops at a malformed deal from HubSpot on LoadDeal: a permanent error in the audit, no ERP order, the deal says why', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const { deal, run } = await winDeal('Garbled CRM BV', () =>
      scenario.crm.injectFault({ kind: 'malformed', count: 1, operation: 'GET /crm/v3/objects/deals' }),
    );

    expectAccountedFor(run, 'FAILED');
    const trail = describeTrail(run);
    expect(permanentFailureOf(run)).toMatchObject({
      action: 'LoadDeal',
      error: expect.stringMatching(new RegExp(`^PermanentError: HubSpot GET deal ${deal.dealId}: unreadable response`)),
    });
    expect(stepRecords(run).map((record) => record.action), trail).toEqual(['LoadDeal']);
    expect(compensations(run).map((record) => record.action), trail).toEqual(['MarkDealSyncFailed']);
    expect(await scenario.crm.drainFaults(), 'malformed answers the saga never met').toBe(0);
    await expectMarkedFailed(deal, /^HubSpot GET deal \d+: unreadable response/);
  });

  it('stops when NetSuite refuses the connector\'s credentials: a permanent auth error, compensated, and a reason on the deal a salesperson can forward', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    let restore: (() => Promise<void>) | undefined;
    try {
      const { deal, run } = await winDeal('Revoked Access Ltd', async () => {
        restore = await rotateNetsuiteCertificate();
      });

      expectAccountedFor(run, 'FAILED');
      const trail = describeTrail(run);
      // The token endpoint refused the client assertion: not a stale token, the credentials themselves.
      expect(permanentFailureOf(run)).toMatchObject({
        action: 'UpsertCustomer',
        error: expect.stringMatching(/^PermanentError: netsuite POST oauth2 token: NetSuite refused the OAuth 2\.0 client credentials \(HTTP 401 — invalid_client/),
      });
      expect(compensations(run).map((record) => record.action), trail).toEqual(['MarkDealSyncFailed']);
      // What the sales team reads: which system refused, that it was the credentials, and what an admin must check.
      await expectMarkedFailed(deal, /^netsuite .*NetSuite refused the OAuth 2\.0 client credentials.*check NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, NETSUITE_PRIVATE_KEY/);
    } finally {
      await restore?.();
    }
  });
});

/**
 * Restarts the hub's NetSuite sandbox in place (same port, same data) with a new certificate
 * on its M2M mapping and every issued token expired, so the key the connector holds is
 * refused; resolves with a function that restarts it again with the original certificate.
 */
async function rotateNetsuiteCertificate(): Promise<() => Promise<void>> {
  const original = scenario.hub.sandboxes.get('netsuite')!;
  const port = Number(new URL(original.url).port);
  const start = (publicKey?: string) =>
    startNetsuiteSandbox({
      port,
      dataDir: join(scenario.hub.dataDir, 'sandbox', 'netsuite'),
      accountId: LOCAL_NETSUITE_CREDENTIALS.accountId,
      clientCredentials: {
        clientId: LOCAL_NETSUITE_CREDENTIALS.clientId,
        certificateId: LOCAL_NETSUITE_CREDENTIALS.certificateId,
        ...(publicKey === undefined ? {} : { publicKey }),
      },
      tokenBased: LOCAL_NETSUITE_CREDENTIALS,
    });
  await (replacedNetsuite ?? original).close();
  const rotated = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  replacedNetsuite = await start(rotated);
  await scenario.erp.call('POST', '/__sandbox/expire-tokens');
  return async () => {
    await replacedNetsuite!.close();
    // Without a key, the sandbox maps the one it generated for the hub on first start (kept in its data).
    replacedNetsuite = await start();
  };
}
