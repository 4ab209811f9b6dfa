/**
 * The chaos run: starts the hub in a child process, creates deals, moves them to won
 * at a steady pace while faults are injected from every side (duplicate and
 * out-of-order webhooks, ERP 500/429/timeouts, CRM write-back failures, `kill -9` of
 * the hub), waits for the hub to go quiet, and checks every deal against the CRM, the
 * ERP, the dead-letter queues and the audit log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDeals, moveToWon, readDealSync, UNKNOWN_SKU, type ChaosDeal, type DealSync } from './crm-driver.ts';
import { clearFaults, DEFAULT_FAULT_RATES, pendingFaults, pumpFaults, type FaultCounts } from './fault-pump.ts';
import { HubObserver, readHarmonyOrders, type AuditRow, type DeadLetter, type HarmonyOrder } from './hub-observer.ts';
import { freePort, HubSupervisor, type HubUrls } from './hub-supervisor.ts';
import { seededRandom } from './seeded-random.ts';
import { WebhookReplayer, type ReplayCounts } from './webhook-replayer.ts';

const PORTAL_ID = '62515';
const TICK_MS = 500;

/** How to run. */
export interface ChaosOptions {
  readonly orders: number;
  readonly seed: number;
  /** How many times the hub is killed with SIGKILL. */
  readonly kills: number;
  /** Deals moved to won per second. */
  readonly ordersPerSecond: number;
  /** Seconds faults keep coming after the last deal was moved (so write-backs meet them too). */
  readonly tailSeconds: number;
  /** Longest wait for the hub to go quiet after the last fault. */
  readonly drainTimeoutSeconds: number;
  /** Share of delivered webhook requests POSTed again. */
  readonly duplicateFraction: number;
  /** Share of deals whose line item has an SKU the ERP does not know (at least one). */
  readonly unknownSkuFraction: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** Keep the data directory for a post-mortem. */
  readonly keepData: boolean;
}

/** What happened to one deal that was not a clean success. */
export interface DealFinding {
  readonly dealId: string;
  readonly sku: string;
  readonly sync: DealSync | undefined;
  readonly liveOrders: readonly string[];
  readonly cancelledOrders: readonly string[];
  readonly inDeadLetterQueue: boolean;
}

/** Everything a chaos run measured. */
export interface ChaosReport {
  readonly options: Omit<ChaosOptions, 'log'>;
  readonly dataDir: string;
  readonly timings: {
    readonly createSeconds: number;
    readonly injectionSeconds: number;
    /** From the last fault (faults cleared, last kill restarted, last duplicate sent) to quiet. */
    readonly drainSeconds: number;
    readonly drainTimedOut: boolean;
    readonly totalSeconds: number;
    readonly restartSeconds: readonly number[];
  };
  readonly outcome: {
    readonly moved: number;
    /** Deals whose won webhook the ingress answered 2xx. */
    readonly accepted: number;
    readonly completed: number;
    readonly compensatedExpected: number;
    /** Deals with a known SKU that still ended sync_failed, with the reasons. */
    readonly compensatedOther: number;
    readonly compensationReasons: Readonly<Record<string, number>>;
    readonly inDeadLetterQueue: number;
    readonly lost: readonly DealFinding[];
    readonly inconsistent: readonly DealFinding[];
    readonly duplicated: readonly DealFinding[];
  };
  readonly audit: {
    readonly liveOrders: number;
    readonly covered: number;
    readonly uncovered: readonly string[];
    /** Failed step attempts (retried or not) the audit log shows, by cause. */
    readonly failedAttempts: Readonly<Record<string, number>>;
    readonly failedCompensations: number;
  };
  readonly deadLetters: readonly DeadLetter[];
  readonly faults: FaultCounts & {
    readonly kills: number;
    readonly driverPatchFaults: number;
    readonly driverHubDown: number;
    /** Rules still pending at a kill or at the end; added − this − driverPatchFaults ≈ faults the hub suffered. */
    readonly unsuffered: number;
  };
  readonly replays: ReplayCounts;
  readonly stuck: readonly string[];
  /** True when nothing was lost, duplicated, inconsistent or unaudited. */
  readonly ok: boolean;
}

/** The defaults the CLI uses. */
export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  orders: 10_000,
  seed: 1,
  kills: 3,
  ordersPerSecond: 20,
  tailSeconds: 10,
  drainTimeoutSeconds: 300,
  duplicateFraction: 0.3,
  unknownSkuFraction: 0.01,
  log: (line) => console.error(line),
  keepData: false,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function causeOf(error: string): string {
  if (/timeout|within \d+ ?ms|no answer|silent/i.test(error)) return 'timeout';
  if (/429|rate.?limit|too many/i.test(error)) return '429';
  if (/\b5\d\d\b|internal|server error/i.test(error)) return '5xx';
  if (/being created by run/i.test(error)) return 'claim held by another run';
  if (/no longer in stage/i.test(error)) return 'stage changed';
  if (/product|sku/i.test(error)) return 'unknown product';
  return 'other';
}

/** Runs the chaos harness and returns its report; stops the hub it started. */
export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const options: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, ...overrides };
  const { log } = options;
  const random = seededRandom(options.seed);
  const began = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'harmony-chaos-'));
  const supervisor = new HubSupervisor({
    HARMONY_DATA_DIR: dataDir,
    HARMONY_AWS_PORT: String(await freePort()),
    HARMONY_INGRESS_PORT: String(await freePort()),
    HARMONY_HUBSPOT_PORT: String(await freePort()),
    HARMONY_ODOO_PORT: String(await freePort()),
  });
  try {
    let urls: HubUrls = await supervisor.start();
    let hubUp = true;
    log(`hub up in ${((performance.now() - began) / 1000).toFixed(1)} s; data in ${dataDir}`);

    // Prepare: deals in an open stage, ~1 % with an SKU the ERP rejects.
    const unknownCount = Math.max(1, Math.round(options.orders * options.unknownSkuFraction));
    const unknownIndexes = new Set(random.shuffled(Array.from({ length: options.orders }, (_, index) => index)).slice(0, unknownCount));
    const createStarted = performance.now();
    const deals: ChaosDeal[] = await createDeals(urls.hubspotUrl, options.orders, (index) => unknownIndexes.has(index));
    const createSeconds = (performance.now() - createStarted) / 1000;
    log(`${deals.length} deals created in ${createSeconds.toFixed(1)} s (${unknownCount} with ${UNKNOWN_SKU})`);

    // Act: move to won at a steady pace while faults come from every side.
    const injectionStarted = performance.now();
    const moveSeconds = options.orders / options.ordersPerSecond;
    const plannedSeconds = moveSeconds + options.tailSeconds;
    const killAt = Array.from({ length: options.kills }, () => (0.1 + 0.7 * random.next()) * plannedSeconds * 1000).sort((a, b) => a - b);
    const elapsed = () => performance.now() - injectionStarted;
    const counts: FaultCounts = { erp: { '500': 0, '429': 0, timeout: 0 }, crmWrite: { '500': 0, '429': 0, timeout: 0 }, skippedHubDown: 0 };
    const replayer = new WebhookReplayer(random, options.duplicateFraction);
    const restartSeconds: number[] = [];
    let driverPatchFaults = 0;
    let driverHubDown = 0;
    let moved = 0;
    // Fault rules nobody suffered: still pending when the hub was killed or faults were cleared.
    let unsuffered = 0;
    let probes = 0;
    const countUnsuffered = async () => {
      for (const url of [urls.hubspotUrl, urls.odooUrl]) {
        const pending = (await pendingFaults(url, probes)) ?? 0;
        unsuffered += pending;
      }
      probes += 1;
    };

    const mover = (async () => {
      for (const [index, deal] of deals.entries()) {
        const wait = (index / options.ordersPerSecond) * 1000 - elapsed();
        if (wait > 0) await sleep(wait);
        const outcome = await moveToWon(() => urls.hubspotUrl, deal.id);
        driverPatchFaults += outcome.faultsSeen;
        driverHubDown += outcome.hubDown;
        moved += 1;
        if (moved % 500 === 0) log(`${moved} deals moved to won (${(elapsed() / 1000).toFixed(0)} s)`);
      }
    })();
    const killer = (async () => {
      for (const at of killAt) {
        const wait = at - elapsed();
        if (wait > 0) await sleep(wait);
        hubUp = false;
        await countUnsuffered();
        await supervisor.kill('SIGKILL');
        probes = 0;
        log(`kill -9 at ${(elapsed() / 1000).toFixed(1)} s (${moved} deals moved)`);
        const restarting = performance.now();
        urls = await supervisor.start();
        restartSeconds.push((performance.now() - restarting) / 1000);
        hubUp = true;
        await sleep(2_000); // let it work a little before the next kill
      }
    })();
    let moverDone = false;
    void mover.then(() => {
      moverDone = true;
    });
    let lastTick = performance.now();
    while (!moverDone || elapsed() < plannedSeconds * 1000) {
      await sleep(TICK_MS);
      const now = performance.now();
      if (!hubUp) {
        lastTick = now;
        continue;
      }
      await pumpFaults(
        { random, rates: DEFAULT_FAULT_RATES, ordersPerSecond: options.ordersPerSecond, hubspotUrl: () => urls.hubspotUrl, odooUrl: () => urls.odooUrl },
        (now - lastTick) / 1000,
        counts,
      );
      lastTick = now;
      await replayer.collect(urls.hubspotUrl).catch(() => undefined);
      await replayer.replayDue(urls.ingressUrl);
    }
    await Promise.all([mover, killer]);
    await replayer.collect(urls.hubspotUrl).catch(() => undefined);
    for (let round = 0; replayer.pending() > 0 && round < 20; round += 1) await replayer.replayDue(urls.ingressUrl, true);
    await countUnsuffered();
    while (!(await clearFaults(urls.hubspotUrl, urls.odooUrl))) await sleep(200);
    const injectionSeconds = elapsed() / 1000;
    const lastFaultAt = performance.now();
    log(`faults stopped after ${injectionSeconds.toFixed(1)} s; waiting for the hub to go quiet`);

    // Drain: every deal has an order ref, sync_failed or a dead letter, and no saga runs.
    const observer = new HubObserver(urls.awsEndpoint);
    const ids = deals.map((deal) => deal.id);
    let sync = new Map<string, DealSync>();
    let letters: DeadLetter[] = [];
    let stuck: string[] = [];
    let running = 0;
    let drainTimedOut = false;
    for (;;) {
      await replayer.collect(urls.hubspotUrl).catch(() => undefined);
      sync = await readDealSync(urls.hubspotUrl, ids);
      letters = await observer.deadLetters();
      running = await observer.runningExecutions().catch(() => -1);
      const lettered = new Set(letters.map((letter) => letter.dealId));
      stuck = ids.filter((id) => {
        const state = sync.get(id);
        return state?.erpOrderRef === undefined && state?.erpStatus !== 'sync_failed' && !lettered.has(id);
      });
      if (stuck.length === 0 && running === 0) break;
      if ((performance.now() - lastFaultAt) / 1000 > options.drainTimeoutSeconds) {
        drainTimedOut = true;
        log(`drain timed out: ${stuck.length} deals without an outcome, ${running} executions running`);
        break;
      }
      await sleep(2_000);
    }
    const drainSeconds = (performance.now() - lastFaultAt) / 1000;
    log(`quiet ${drainSeconds.toFixed(1)} s after the last fault; verifying`);

    // Assess.
    const orders = await readHarmonyOrders(urls.odooUrl);
    const audit = await observer.auditRecords();
    observer.destroy();
    const report = assess({ options, deals, sync, orders, audit, letters, replayer });
    return {
      ...report,
      dataDir,
      timings: {
        createSeconds,
        injectionSeconds,
        drainSeconds,
        drainTimedOut,
        totalSeconds: (performance.now() - began) / 1000,
        restartSeconds,
      },
      faults: { ...counts, kills: restartSeconds.length, driverPatchFaults, driverHubDown, unsuffered },
      replays: replayer.counts,
      stuck: stuck.slice(0, 50),
      ok: report.ok && !drainTimedOut,
    };
  } finally {
    await supervisor.kill('SIGTERM');
    await supervisor.kill('SIGKILL');
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Observed {
  readonly options: ChaosOptions;
  readonly deals: readonly ChaosDeal[];
  readonly sync: ReadonlyMap<string, DealSync>;
  readonly orders: readonly HarmonyOrder[];
  readonly audit: readonly AuditRow[];
  readonly letters: readonly DeadLetter[];
  readonly replayer: WebhookReplayer;
}

/** Classifies every deal and checks audit coverage of every live order. */
function assess(observed: Observed): Pick<ChaosReport, 'options' | 'outcome' | 'audit' | 'deadLetters' | 'ok'> {
  const { deals, sync, orders, audit, letters } = observed;
  const { log: _log, ...options } = observed.options;
  const byDeal = new Map<string, HarmonyOrder[]>();
  for (const order of orders) byDeal.set(order.dealId, [...(byDeal.get(order.dealId) ?? []), order]);
  const lettered = new Set(letters.map((letter) => letter.dealId));
  let completed = 0;
  let compensatedExpected = 0;
  let compensatedOther = 0;
  let inDeadLetterQueue = 0;
  const compensationReasons: Record<string, number> = {};
  const lost: DealFinding[] = [];
  const inconsistent: DealFinding[] = [];
  const duplicated: DealFinding[] = [];
  for (const deal of deals) {
    const state = sync.get(deal.id);
    const all = byDeal.get(deal.id) ?? [];
    const live = all.filter((order) => order.state !== 'cancel');
    const finding: DealFinding = {
      dealId: deal.id,
      sku: deal.sku,
      sync: state,
      liveOrders: live.map((order) => `${order.name} (${order.state})`),
      cancelledOrders: all.filter((order) => order.state === 'cancel').map((order) => order.name),
      inDeadLetterQueue: lettered.has(deal.id),
    };
    if (live.length > 1) duplicated.push(finding);
    else if (state?.erpOrderRef !== undefined && live.length === 1 && live[0]!.state === 'sale' && live[0]!.name === state.erpOrderRef) completed += 1;
    else if (state?.erpStatus === 'sync_failed' && live.length === 0) {
      if (deal.sku === UNKNOWN_SKU) compensatedExpected += 1;
      else {
        compensatedOther += 1;
        const reason = causeOf(state.syncError ?? '');
        compensationReasons[reason] = (compensationReasons[reason] ?? 0) + 1;
      }
    } else if (lettered.has(deal.id) && live.length === 0) inDeadLetterQueue += 1;
    else if (live.length === 0) lost.push(finding);
    else inconsistent.push(finding);
  }
  const created = new Set(
    audit
      .filter((row) => row.action === 'CreateSalesOrder' && row.outcome === 'succeeded' && row.erpOrderRef !== undefined)
      .map((row) => `${row.businessKey}|${row.erpOrderRef}`),
  );
  const liveOrders = orders.filter((order) => order.state !== 'cancel');
  const uncovered = liveOrders
    .filter((order) => !created.has(`deal:hubspot:${PORTAL_ID}:${order.dealId}|${order.name}`))
    .map((order) => `${order.name} (deal ${order.dealId})`);
  const failedAttempts: Record<string, number> = {};
  for (const row of audit) {
    if (row.kind !== 'step' || row.outcome !== 'failed') continue;
    const key = `${row.action}: ${causeOf(row.error ?? '')}`;
    failedAttempts[key] = (failedAttempts[key] ?? 0) + 1;
  }
  const failedCompensations = audit.filter((row) => row.kind === 'compensation' && row.outcome === 'failed').length;
  const ok = lost.length === 0 && duplicated.length === 0 && inconsistent.length === 0 && uncovered.length === 0;
  return {
    options,
    outcome: {
      moved: deals.length,
      accepted: deals.filter((deal) => observed.replayer.wonDelivered.has(deal.id)).length,
      completed,
      compensatedExpected,
      compensatedOther,
      compensationReasons,
      inDeadLetterQueue,
      lost,
      inconsistent,
      duplicated,
    },
    audit: { liveOrders: liveOrders.length, covered: liveOrders.length - uncovered.length, uncovered: uncovered.slice(0, 50), failedAttempts, failedCompensations },
    deadLetters: letters,
    ok,
  };
}
