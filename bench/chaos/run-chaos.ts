/**
 * The chaos run: starts the sandbox CRM and ERP in one long-lived process and the hub in
 * another, with a fault tap in front of each sandbox; creates deals, moves them to won at
 * a steady pace while faults come from every side (duplicate and out-of-order webhooks,
 * ERP 500/429/timeouts/commit-then-drop, CRM write-back failures, `kill -9` of the hub
 * alone), waits for the hub to go quiet, and checks every deal against the CRM, the ERP,
 * the dead-letter queues and the audit log.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../local/net/free-port.ts';
import { createDeals, moveToWon, readDealSync, UNKNOWN_SKU, type ChaosDeal, type DealSync } from './crm-driver.ts';
import { crmFaultPlan, DEFAULT_FAULT_RATES, erpFaultPlan, type FaultRates } from './fault-plan.ts';
import { FaultTap, hubspotOperation, odooOperation, type TapCounts } from './fault-tap.ts';
import { HubObserver, readErp, type AuditRow, type DeadLetter, type ErpContents, type QueueDepth } from './hub-observer.ts';
import { hubSupervisor } from './hub-supervisor.ts';
import { sandboxSupervisor } from './sandbox-supervisor.ts';
import { seededRandom } from './seeded-random.ts';
import { WebhookReplayer, type ReplayCounts } from './webhook-replayer.ts';

const PORTAL_ID = '62515';
const TICK_MS = 500;
const HOST = '127.0.0.1';
/** The CRM app's client secret: the sandbox signs its webhooks with it, the hub checks them, the replayer signs its repeats. */
const CLIENT_SECRET = 'chaos-hubspot-client-secret';

/** How to run. */
export interface ChaosOptions {
  readonly orders: number;
  /** Seeds the deals, the kill moments, the duplicate picks and each tap's draws. */
  readonly seed: number;
  /** How many times the hub is killed with SIGKILL. */
  readonly kills: number;
  /** Deals moved to won per second. */
  readonly ordersPerSecond: number;
  /**
   * Faults keep coming until every won event reached the hub and this share of the deals has an
   * outcome, so the sagas of the last orders and their write-backs meet them too; the drain is the rest.
   */
  readonly faultsUntilSettled: number;
  /**
   * How long the hub may show no progress at all (deals settling, executions, queue depths, CRM
   * retries) before the run gives up waiting for it. Never less than the work queues' visibility
   * timeout plus a minute: a message whose consumer failed comes back only after it.
   */
  readonly drainTimeoutSeconds: number;
  /** Most instances of one function the hub runs at once (`HARMONY_LAMBDA_CONCURRENCY`); each injected timeout holds one for the connector's timeout. */
  readonly lambdaConcurrency: number;
  /**
   * The sandbox CRM's delay before each retry of a webhook the hub did not take: spread over
   * minutes, as HubSpot's are over hours, so an event sent while the hub restarts is not given up on.
   */
  readonly webhookRetryDelaysMs: readonly number[];
  /** Share of delivered webhook events delivered again (out of order: shuffled, 0–3 s later). */
  readonly duplicateFraction: number;
  /** Share of deals whose line item has an SKU the ERP does not know (at least one): permanent rejections. */
  readonly unknownSkuFraction: number;
  readonly rates: FaultRates;
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

/** A deal without an outcome when the hub stopped making progress, and where its work still is. */
export interface StuckDeal {
  readonly dealId: string;
  /** `CRM still retrying the won webhook`, `saga running`, `queued (…)`. */
  readonly where: string;
}

/** Most memory each process held resident (VmHWM), in MB; undefined where unreadable. */
export interface PeakMemory {
  /** The hub, the largest of its lives (it restarts after each kill). */
  readonly hubMegabytes: number | undefined;
  readonly sandboxesMegabytes: number | undefined;
  /** The harness itself. */
  readonly harnessMegabytes: number;
}

/** A compensation that failed for good (no attempt of it succeeded in its run), and where it went. */
export interface FailedCompensation {
  readonly dealId: string;
  readonly compensation: string;
  readonly executionName: string;
  readonly lastError: string;
  /** The dead-letter queue holding its report, or undefined when none does. */
  readonly deadLetterQueue: string | undefined;
}

/** Everything a chaos run measured. */
export interface ChaosReport {
  readonly options: Omit<ChaosOptions, 'log'>;
  readonly dataDir: string;
  readonly timings: {
    readonly sandboxSeconds: number;
    readonly createSeconds: number;
    readonly injectionSeconds: number;
    /** From the last fault (taps stopped, last kill restarted, last duplicate sent) to quiet. */
    readonly drainSeconds: number;
    readonly drainTimedOut: boolean;
    /** How long the run waited without progress before calling the hub stuck (`drainTimeoutSeconds`, raised to cover visibility timeouts). */
    readonly stallLimitSeconds: number;
    readonly totalSeconds: number;
    readonly restartSeconds: readonly number[];
    /** Queue messages the hub made visible again at each restart (taken by the process that was killed). */
    readonly releasedAtRestart: readonly number[];
  };
  readonly memory: PeakMemory;
  readonly outcome: {
    readonly moved: number;
    /** Deals whose won webhook the ingress answered 2xx. */
    readonly accepted: number;
    readonly completed: number;
    readonly compensatedExpected: number;
    /** Deals with a known SKU that still ended sync_failed, with the reasons. */
    readonly compensatedOther: number;
    readonly compensationReasons: Readonly<Record<string, number>>;
    /** Deals without a clean outcome whose failure is in a dead-letter queue. */
    readonly inDeadLetterQueue: number;
    /** Deals with no outcome and no trace in the CRM's retries, the queues, the running sagas or a DLQ. */
    readonly lost: readonly DealFinding[];
    /** Deals with no outcome yet whose work is still somewhere (reported, and failing the run, but not as lost). */
    readonly stuck: readonly StuckDeal[];
    /** Deals whose won webhook the CRM gave up on before the hub took it (counted in lost too). */
    readonly neverDelivered: number;
    readonly inconsistent: readonly DealFinding[];
    readonly duplicated: readonly DealFinding[];
    /** CRM records with more than one active ERP customer (`ref` → count). */
    readonly duplicatedCustomers: Readonly<Record<string, number>>;
  };
  readonly audit: {
    /** ERP writes checked: every order's creation, its confirmation (live orders) or cancellation, every customer Harmony made. */
    readonly erpWrites: number;
    readonly covered: number;
    readonly uncovered: readonly string[];
    /** Failed step attempts (retried or not) the audit log shows, by step and cause. */
    readonly failedAttempts: Readonly<Record<string, number>>;
    /** Failed compensation attempts, by compensation and cause (most were retried and then succeeded). */
    readonly failedCompensationAttempts: Readonly<Record<string, number>>;
    readonly failedCompensations: readonly FailedCompensation[];
  };
  readonly deadLetters: readonly DeadLetter[];
  readonly faults: {
    readonly erp: TapCounts;
    readonly crm: TapCounts;
    readonly kills: number;
    /** Faults the driver's own calls met: 0 unless `x-sandbox-faults: bypass` stopped working. */
    readonly driverFaults: number;
  };
  readonly replays: ReplayCounts;
  /** True when nothing was lost, duplicated, inconsistent or unaudited, no webhook got a 5xx but 503, and the hub went quiet. */
  readonly ok: boolean;
}

/** The defaults the CLI uses. */
export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  orders: 10_000,
  seed: 1,
  kills: 3,
  ordersPerSecond: 20,
  faultsUntilSettled: 0.99,
  drainTimeoutSeconds: 300,
  lambdaConcurrency: 16,
  webhookRetryDelaysMs: [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 60_000, 60_000, 60_000],
  duplicateFraction: 0.3,
  unknownSkuFraction: 0.01,
  rates: DEFAULT_FAULT_RATES,
  log: (line) => console.error(line),
  keepData: false,
};

/**
 * Webhook answers with a 5xx other than 503. The ingress answers 503 by design when an event is
 * still being published by another delivery (a duplicate racing the original), so the sender redelivers.
 */
export function unexpectedServerErrors(replays: ReplayCounts): number {
  return Object.entries(replays.serverErrors).reduce((sum, [status, count]) => sum + (status === '503' ? 0 : count), 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function causeOf(error: string): string {
  // Specific messages first: ids in them (company 512, say) must not read as a status code.
  if (/^Init of .* timed out/i.test(error)) return 'Lambda init timed out';
  if (/is being (found or )?created by run/i.test(error)) return 'claim held by another run';
  if (/no longer in stage/i.test(error)) return 'stage changed';
  if (/no saleable product|unknown product/i.test(error)) return 'unknown product';
  if (/timeout|timed out|within \d+ ?ms|no answer|silent/i.test(error)) return 'timeout';
  if (/\b429\b|rate.?limit|too many/i.test(error)) return '429';
  if (/\b5\d\d\b|internal|server error/i.test(error)) return '5xx';
  if (/could not reach|network|socket|other side closed|ECONNRESET|fetch failed/i.test(error)) return 'connection dropped';
  return 'other';
}

/** Runs the chaos harness and returns its report; stops every process it started. */
export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const options: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, ...overrides };
  const { log } = options;
  // One stream per concern, so the deals, kill moments and duplicates do not shift with how calls interleave.
  const random = seededRandom(options.seed);
  const streamSeed = () => random.integer(0, 0xffff_ffff);
  const replayRandom = seededRandom(streamSeed());
  const erpRandom = seededRandom(streamSeed());
  const crmRandom = seededRandom(streamSeed());
  const began = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'harmony-chaos-'));
  mkdirSync(join(dataDir, 'sandbox'));
  const ingressPort = await freePort(HOST);
  const sandboxes = sandboxSupervisor({
    dataDir: join(dataDir, 'sandbox'),
    host: HOST,
    webhookUrl: `http://${HOST}:${ingressPort}/webhooks/hubspot`,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs,
    clientSecret: CLIENT_SECRET,
  });
  const hubStderr = join(dataDir, 'hub.stderr.log');
  let erpTap: FaultTap | undefined;
  let crmTap: FaultTap | undefined;
  let hub: ReturnType<typeof hubSupervisor> | undefined;
  let hubPeak: number | undefined;
  const sampleHubMemory = () => {
    const now = hub?.peakResidentMegabytes();
    if (now !== undefined) hubPeak = Math.max(hubPeak ?? 0, now);
  };
  try {
    const { hubspotUrl, odooUrl } = await sandboxes.start();
    const sandboxSeconds = (performance.now() - began) / 1000;
    erpTap = await FaultTap.start({ upstream: odooUrl, operationOf: odooOperation, random: erpRandom, host: HOST });
    crmTap = await FaultTap.start({ upstream: hubspotUrl, operationOf: hubspotOperation, random: crmRandom, host: HOST });
    hub = hubSupervisor(
      {
        HARMONY_DATA_DIR: join(dataDir, 'hub'),
        HARMONY_HOST: HOST,
        HARMONY_AWS_PORT: String(await freePort(HOST)),
        HARMONY_INGRESS_PORT: String(ingressPort),
        HARMONY_LAMBDA_CONCURRENCY: String(options.lambdaConcurrency),
        HUBSPOT_BASE_URL: crmTap.baseUrl,
        HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
        ODOO_URL: erpTap.baseUrl,
      },
      hubStderr,
    );
    const urls = await hub.start();
    let hubUp = true;
    log(`sandboxes up in ${sandboxSeconds.toFixed(1)} s, hub in ${((performance.now() - began) / 1000 - sandboxSeconds).toFixed(1)} s; data in ${dataDir}`);

    // Prepare: deals in an open stage, ~1 % with an SKU the ERP rejects.
    const unknownCount = Math.max(1, Math.round(options.orders * options.unknownSkuFraction));
    const unknownIndexes = new Set(random.shuffled(Array.from({ length: options.orders }, (_, index) => index)).slice(0, unknownCount));
    const createStarted = performance.now();
    const deals: ChaosDeal[] = await createDeals(hubspotUrl, options.orders, (index) => unknownIndexes.has(index));
    const createSeconds = (performance.now() - createStarted) / 1000;
    log(`${deals.length} deals created in ${createSeconds.toFixed(1)} s (${unknownCount} with ${UNKNOWN_SKU})`);

    // Act: move to won at a steady pace while faults come from every side.
    const observer = new HubObserver(urls.awsEndpoint);
    const ids = deals.map((deal) => deal.id);
    // A message whose consumer failed (or whose receiver died) comes back after the queue's visibility
    // timeout; waiting less than that for progress would call work that is merely parked "stuck".
    const visibilitySeconds = Math.max(0, ...(await observer.workQueues()).map((queue) => queue.visibilityTimeoutSeconds));
    const stallLimitSeconds = Math.max(options.drainTimeoutSeconds, visibilitySeconds + 60);
    let sync = new Map<string, DealSync>();
    let letters: DeadLetter[] = [];
    /** Deals with neither an order ref, nor sync_failed, nor a dead letter. */
    const unsettled = async (): Promise<string[]> => {
      sync = await readDealSync(hubspotUrl, ids);
      letters = await observer.deadLetters();
      const lettered = new Set(letters.map((letter) => letter.dealId));
      return ids.filter((id) => {
        const state = sync.get(id);
        return state?.erpOrderRef === undefined && state?.erpStatus !== 'sync_failed' && !lettered.has(id);
      });
    };
    const injectionStarted = performance.now();
    const elapsed = () => performance.now() - injectionStarted;
    erpTap.inject(erpFaultPlan(options.rates));
    crmTap.inject(crmFaultPlan(options.rates));
    const replayer = new WebhookReplayer(replayRandom, options.duplicateFraction, CLIENT_SECRET);
    const restartSeconds: number[] = [];
    let driverFaults = 0;
    let moved = 0;

    const mover = (async () => {
      for (const [index, deal] of deals.entries()) {
        const wait = (index / options.ordersPerSecond) * 1000 - elapsed();
        if (wait > 0) await sleep(wait);
        driverFaults += (await moveToWon(hubspotUrl, deal.id)).faultsSeen;
        moved += 1;
        if (moved % 500 === 0) log(`${moved} deals moved to won (${(elapsed() / 1000).toFixed(0)} s)`);
      }
    })();
    // Kill moments: when the run's progress (deals moved plus deals settled, over twice the orders)
    // passes random marks, so kills fall in intake and in processing however fast the hub is.
    let settled = 0;
    const progress = () => (moved + settled) / (2 * deals.length);
    const killMarks = Array.from({ length: options.kills }, () => 0.05 + 0.9 * random.next()).sort((a, b) => a - b);
    let stopKilling = false;
    const killer = (async () => {
      for (const mark of killMarks) {
        while (progress() < mark && !stopKilling) await sleep(TICK_MS);
        if (stopKilling) return;
        await sleep(random.integer(0, 3_000));
        sampleHubMemory();
        hubUp = false;
        await hub!.kill('SIGKILL');
        log(`kill -9 of the hub at ${(elapsed() / 1000).toFixed(1)} s (${moved} deals moved, ${settled} settled)`);
        const restarting = performance.now();
        await hub!.start();
        restartSeconds.push((performance.now() - restarting) / 1000);
        hubUp = true;
        await sleep(2_000); // let it work a little before the next kill
      }
    })();
    let moverDone = false;
    let killerDone = false;
    // Failures surface at the Promise.all below; until then they must not crash the run as unhandled.
    mover.then(() => (moverDone = true)).catch(() => (moverDone = true));
    killer.then(() => (killerDone = true)).catch(() => (killerDone = true));
    const settledEnough = Math.floor(deals.length * (1 - options.faultsUntilSettled));
    let lastCheck = 0;
    let progressAt = performance.now();
    let fewestUnsettled = Number.POSITIVE_INFINITY;
    for (;;) {
      await sleep(TICK_MS);
      await replayer.collect(hubspotUrl).catch(() => undefined);
      if (hubUp) await replayer.replayDue();
      if (performance.now() - lastCheck < 5_000) continue;
      lastCheck = performance.now();
      sampleHubMemory();
      const open = await unsettled().catch(() => undefined);
      if (open === undefined) continue;
      if (Math.floor((deals.length - open.length) / 500) > Math.floor(settled / 500)) log(`${deals.length - open.length} deals settled (${(elapsed() / 1000).toFixed(0)} s)`);
      settled = deals.length - open.length;
      if (open.length < fewestUnsettled) {
        fewestUnsettled = open.length;
        progressAt = performance.now();
      }
      if ((performance.now() - progressAt) / 1000 > stallLimitSeconds) {
        log(`no deal settled for ${stallLimitSeconds} s with faults on: ${open.length} deals without an outcome`);
        stopKilling = true;
        break;
      }
      if (!moverDone || !killerDone || replayer.pending() > 0) continue;
      const wonSettledAtSender = replayer.wonDelivered.size + replayer.wonAbandoned.size;
      if (wonSettledAtSender >= deals.length && open.length <= settledEnough) break;
    }
    await Promise.all([mover, killer]);
    await replayer.collect(hubspotUrl).catch(() => undefined);
    for (let round = 0; replayer.pending() > 0 && round < 20; round += 1) await replayer.replayDue(true);
    await erpTap.stop();
    await crmTap.stop();
    const injectionSeconds = elapsed() / 1000;
    const lastFaultAt = performance.now();
    log(`faults stopped after ${injectionSeconds.toFixed(1)} s; waiting for the hub to go quiet`);

    // Drain: quiet is every deal with an order ref, sync_failed or a dead letter, no saga running,
    // the work queues empty (in flight included) and no won webhook left in the CRM's retries.
    // The wait gives up only after `stallLimitSeconds` in which none of that moved.
    let open: string[] = [];
    let running: string[] = [];
    let queues: QueueDepth[] = [];
    let drainTimedOut = false;
    let lastPicture = '';
    let changedAt = performance.now();
    for (;;) {
      await replayer.collect(hubspotUrl).catch(() => undefined);
      sampleHubMemory();
      open = await unsettled();
      running = await observer.runningExecutions();
      queues = await observer.workQueues();
      const queued = queues.reduce((sum, queue) => sum + queue.waiting + queue.inFlight + queue.delayed, 0);
      if (open.length === 0 && running.length === 0 && queued === 0 && replayer.wonRetrying.size === 0) break;
      const picture = JSON.stringify([open.length, running.length, queues, replayer.wonRetrying.size]);
      if (picture !== lastPicture) {
        lastPicture = picture;
        changedAt = performance.now();
      }
      if ((performance.now() - changedAt) / 1000 > stallLimitSeconds) {
        drainTimedOut = true;
        log(`no progress for ${stallLimitSeconds} s: ${open.length} deals without an outcome, ${running.length} executions running, ${queued} queue messages`);
        break;
      }
      await sleep(2_000);
    }
    const drainSeconds = (performance.now() - lastFaultAt) / 1000;
    log(`${drainTimedOut ? 'gave up' : 'quiet'} ${drainSeconds.toFixed(1)} s after the last fault; verifying`);

    // Where the work of each deal without an outcome still is; a deal found nowhere is lost.
    const runningDeals = new Set(running.map((name) => /^hubspot-\d+-(\d+)-/.exec(name)?.[1]));
    let queuedLeft = queues.reduce((sum, queue) => sum + queue.waiting + queue.inFlight + queue.delayed, 0);
    const stuck: StuckDeal[] = [];
    for (const dealId of open) {
      if (replayer.wonAbandoned.has(dealId)) continue;
      if (replayer.wonRetrying.has(dealId)) stuck.push({ dealId, where: 'CRM still retrying the won webhook' });
      else if (!replayer.wonDelivered.has(dealId)) stuck.push({ dealId, where: 'won webhook not sent by the CRM yet' });
      else if (runningDeals.has(dealId)) stuck.push({ dealId, where: 'saga running' });
      else if (queuedLeft > 0) {
        queuedLeft -= 1;
        stuck.push({ dealId, where: `queued (${queues.map((queue) => `${queue.queue}: ${queue.waiting} waiting, ${queue.inFlight} in flight`).join('; ')})` });
      }
    }

    // Assess.
    const erp = await readErp(odooUrl);
    const audit = await observer.auditRecords();
    observer.destroy();
    const report = assess({ options, deals, sync, erp, audit, letters, replayer, stuck });
    sampleHubMemory();
    return {
      ...report,
      dataDir,
      timings: {
        sandboxSeconds,
        createSeconds,
        injectionSeconds,
        drainSeconds,
        drainTimedOut,
        stallLimitSeconds,
        totalSeconds: (performance.now() - began) / 1000,
        restartSeconds,
        releasedAtRestart: releasedAtRestarts(hubStderr),
      },
      memory: {
        hubMegabytes: hubPeak,
        sandboxesMegabytes: sandboxes.peakResidentMegabytes(),
        harnessMegabytes: process.resourceUsage().maxRSS / 1024,
      },
      faults: { erp: erpTap.counts, crm: crmTap.counts, kills: restartSeconds.length, driverFaults },
      replays: replayer.counts,
      ok: report.ok && !drainTimedOut && unexpectedServerErrors(replayer.counts) === 0,
    };
  } finally {
    await hub?.stop();
    await erpTap?.close();
    await crmTap?.close();
    await sandboxes.stop();
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** What the hub printed at each start about queue messages the killed process had taken (0 when it printed nothing). */
function releasedAtRestarts(stderrFile: string): number[] {
  if (!existsSync(stderrFile)) return [];
  const released: number[] = [];
  for (const line of readFileSync(stderrFile, 'utf8').split('\n')) {
    if (/^\[hub\] template /.test(line)) released.push(0);
    const count = /^\[hub\] (\d+) queue messages taken by the previous run/.exec(line)?.[1];
    if (count !== undefined && released.length > 0) released[released.length - 1] = Number(count);
  }
  return released.slice(1);
}

interface Observed {
  readonly options: ChaosOptions;
  readonly deals: readonly ChaosDeal[];
  readonly sync: ReadonlyMap<string, DealSync>;
  readonly erp: ErpContents;
  readonly audit: readonly AuditRow[];
  readonly letters: readonly DeadLetter[];
  readonly replayer: WebhookReplayer;
  readonly stuck: readonly StuckDeal[];
}

const businessKeyOf = (dealId: string) => `deal:hubspot:${PORTAL_ID}:${dealId}`;

/** Classifies every deal, checks that every ERP write has its audit record, and follows failed compensations. */
function assess(observed: Observed): Pick<ChaosReport, 'options' | 'outcome' | 'audit' | 'deadLetters' | 'ok'> {
  const { deals, sync, erp, audit, letters, stuck } = observed;
  const stuckIds = new Set(stuck.map((deal) => deal.dealId));
  const { log: _log, ...options } = observed.options;
  const byDeal = new Map<string, (typeof erp.orders)[number][]>();
  for (const order of erp.orders) byDeal.set(order.dealId, [...(byDeal.get(order.dealId) ?? []), order]);
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
    } else if (lettered.has(deal.id)) inDeadLetterQueue += 1;
    else if (live.length === 0 && stuckIds.has(deal.id)) continue;
    else if (live.length === 0) lost.push(finding);
    else inconsistent.push(finding);
  }

  const refCounts: Record<string, number> = {};
  for (const partner of erp.partners) refCounts[partner.ref] = (refCounts[partner.ref] ?? 0) + 1;
  const duplicatedCustomers = Object.fromEntries(Object.entries(refCounts).filter(([, count]) => count > 1));

  // Every ERP write has its audit record: a succeeded step or compensation naming what it wrote.
  const named = new Set<string>();
  const customersNamed = new Set<string>();
  for (const row of audit) {
    if (row.outcome !== 'succeeded') continue;
    if (row.erpOrderRef !== undefined) named.add(`${row.businessKey}|${row.action}|${row.erpOrderRef}`);
    if (row.action === 'UpsertCustomer' && row.facts?.customerId !== undefined) customersNamed.add(String(row.facts.customerId));
  }
  const writes: { readonly what: string; readonly covered: boolean }[] = [];
  for (const order of erp.orders) {
    const key = businessKeyOf(order.dealId);
    const has = (action: string) => named.has(`${key}|${action}|${order.name}`);
    // An order whose creation answer was lost and whose run then compensated is named by the cancellation only.
    writes.push({ what: `${order.name} created (deal ${order.dealId})`, covered: has('CreateSalesOrder') || (order.state === 'cancel' && has('CancelSalesOrder')) });
    if (order.state === 'sale') writes.push({ what: `${order.name} confirmed (deal ${order.dealId})`, covered: has('ConfirmSalesOrder') });
    if (order.state === 'cancel') writes.push({ what: `${order.name} cancelled (deal ${order.dealId})`, covered: has('CancelSalesOrder') });
  }
  for (const partner of erp.partners.filter((candidate) => candidate.ref.startsWith('hubspot:'))) {
    writes.push({ what: `customer ${partner.id} (${partner.ref})`, covered: customersNamed.has(String(partner.id)) });
  }
  const uncovered = writes.filter((write) => !write.covered).map((write) => write.what);

  const failedAttempts: Record<string, number> = {};
  const failedCompensationAttempts: Record<string, number> = {};
  const compensationRuns = new Map<string, { dealId: string; compensation: string; executionName: string; succeeded: boolean; lastError: string }>();
  for (const row of audit) {
    if (row.kind === 'step' && row.outcome === 'failed') {
      const key = `${row.action}: ${causeOf(row.error ?? '')}`;
      failedAttempts[key] = (failedAttempts[key] ?? 0) + 1;
    }
    if (row.kind !== 'compensation') continue;
    const runKey = `${row.executionName}|${row.action}`;
    const run = compensationRuns.get(runKey) ?? {
      dealId: row.businessKey.split(':').pop() ?? row.businessKey,
      compensation: row.action,
      executionName: row.executionName ?? '?',
      succeeded: false,
      lastError: '',
    };
    if (row.outcome === 'succeeded') run.succeeded = true;
    else {
      run.lastError = row.error ?? '';
      const key = `${row.action}: ${causeOf(row.error ?? '')}`;
      failedCompensationAttempts[key] = (failedCompensationAttempts[key] ?? 0) + 1;
    }
    compensationRuns.set(runKey, run);
  }
  const failedCompensations: FailedCompensation[] = [...compensationRuns.values()]
    .filter((run) => !run.succeeded)
    .map((run) => ({
      dealId: run.dealId,
      compensation: run.compensation,
      executionName: run.executionName,
      lastError: run.lastError.slice(0, 200),
      deadLetterQueue: letters.find((letter) => letter.dealId === run.dealId && letter.compensation === run.compensation)?.queue,
    }));
  // A compensation whose every attempt failed before the handler ran (a Lambda init timeout, say)
  // left no audit row; its report in the compensation DLQ still counts.
  for (const letter of letters) {
    if (letter.compensation === undefined || letter.dealId === undefined) continue;
    if (failedCompensations.some((failure) => failure.dealId === letter.dealId && failure.compensation === letter.compensation)) continue;
    failedCompensations.push({ dealId: letter.dealId, compensation: letter.compensation, executionName: '?', lastError: letter.reason, deadLetterQueue: letter.queue });
  }
  const unreported = failedCompensations.filter((failure) => failure.deadLetterQueue === undefined);

  const ok =
    lost.length === 0 &&
    stuck.length === 0 &&
    duplicated.length === 0 &&
    Object.keys(duplicatedCustomers).length === 0 &&
    inconsistent.length === 0 &&
    uncovered.length === 0 &&
    unreported.length === 0;
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
      stuck,
      neverDelivered: deals.filter((deal) => observed.replayer.wonAbandoned.has(deal.id)).length,
      inconsistent,
      duplicated,
      duplicatedCustomers,
    },
    audit: {
      erpWrites: writes.length,
      covered: writes.length - uncovered.length,
      uncovered: uncovered.slice(0, 50),
      failedAttempts,
      failedCompensationAttempts,
      failedCompensations,
    },
    deadLetters: letters,
    ok,
  };
}
