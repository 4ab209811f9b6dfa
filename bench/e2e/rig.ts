/**
 * The end-to-end bench rig: the sandboxes and the hub each in their own process (fresh
 * temp data directory, free ports), won deals created up front, and phases of open-loop
 * webhook load from a third process. While a phase runs the rig only reads /proc and asks
 * the sandbox ERP for one count a second, so the hub's work is the hub's own.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as z from 'zod';
import { LoadSpec, LoadSummary, SentWebhook } from './load-spec.ts';
import { countConfirmedOrders } from './observations.ts';
import {
  type BenchChild,
  cpuBetween,
  cpuTime,
  type CpuTime,
  HubStats,
  type HubReady,
  residentMemory,
  type SandboxesReady,
  startHubProcess,
  startSandboxProcess,
} from './processes.ts';
import { createWonDeals, WON_STAGE } from './won-deals.ts';

const LOAD_CHILD = new URL('./load-process.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
const CLIENT_SECRET = 'local-hubspot-client-secret';
const PORTAL_ID = 62_515;

/** One reading taken while a phase runs. */
export interface Sample {
  /** Epoch ms. */
  readonly at: number;
  /** Orders of the phase's deals the ERP holds confirmed. */
  readonly confirmed: number;
  readonly hubRss: number;
  readonly hubCpuMs: number;
  readonly sandboxCpuMs: number;
}

/** What one phase of load did. */
export interface PhaseRun {
  readonly rate: number;
  readonly summary: LoadSummary;
  readonly sent: readonly SentWebhook[];
  readonly samples: readonly Sample[];
  /** Seconds from the last webhook until every deal of the phase was confirmed (or the wait ran out). */
  readonly drainSeconds: number;
  readonly drained: boolean;
  /** CPU of each process over the phase, drain included. */
  readonly cpu: { readonly hub: CpuTime; readonly sandboxes: number; readonly load: number };
  /** The hub's stats when the phase began and when it ended (counters are cumulative). */
  readonly hubStatsBefore: HubStats;
  readonly hubStats: HubStats;
}

/** How to run one phase. */
export interface PhaseOptions {
  readonly dealIds: readonly string[];
  readonly rate: number;
  readonly arrivals?: 'poisson' | 'uniform';
  readonly eventsPerRequest?: number;
  readonly seed?: number;
  /** Longest wait for the phase's orders after the last webhook. @default 60 */
  readonly drainTimeoutSeconds?: number;
  /** Stop waiting once the backlog stops shrinking for this long (the hub is stuck or overloaded). @default 15 */
  readonly stallSeconds?: number;
  /** Called once a second while the phase runs. */
  readonly onSample?: (sample: Sample) => void;
  /**
   * Wait for the phase's orders after the last webhook. Without it the phase ends when the
   * load process does, so phases can follow each other as one sustained load. @default true
   */
  readonly drain?: boolean;
}

/** A running rig. */
export class EndToEndRig {
  readonly dataDir: string;
  readonly hub: BenchChild<HubReady>;
  readonly sandboxes: BenchChild<SandboxesReady>;
  readonly urls: HubReady & SandboxesReady;
  private nextEventId = 1_000_000_000;
  private dealCount = 0;

  private constructor(dataDir: string, hub: BenchChild<HubReady>, sandboxes: BenchChild<SandboxesReady>, urls: HubReady & SandboxesReady) {
    this.dataDir = dataDir;
    this.hub = hub;
    this.sandboxes = sandboxes;
    this.urls = urls;
  }

  /** Starts the sandboxes, then the hub pointed at them. */
  static async start(options: { readonly cpuProfile?: { readonly directory: string; readonly partSeconds: number } } = {}): Promise<EndToEndRig> {
    const dataDir = mkdtempSync(join(tmpdir(), 'harmony-e2e-bench-'));
    const sandboxes = startSandboxProcess(join(dataDir, 'sandbox'));
    let hub: BenchChild<HubReady> | undefined;
    try {
      const sandboxUrls = await sandboxes.ready;
      hub = startHubProcess({ dataDir: join(dataDir, 'hub'), ...sandboxUrls, ...(options.cpuProfile === undefined ? {} : { cpuProfile: options.cpuProfile }) });
      const hubUrls = await hub.ready;
      return new EndToEndRig(dataDir, hub, sandboxes, { ...hubUrls, ...sandboxUrls });
    } catch (error) {
      await hub?.stop();
      await sandboxes.stop();
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Creates won deals in the sandbox CRM (nothing is sent to the hub). */
  async createDeals(count: number): Promise<string[]> {
    this.dealCount += 1;
    return createWonDeals(this.urls.hubspotUrl, count, String(this.dealCount));
  }

  /** The hub's memory, event-loop use since the last call, and Lambda counters. */
  hubStats(): Promise<HubStats> {
    return this.hub.ask({ type: 'stats' }, 'stats', HubStats);
  }

  /** Starts profiling the hub's main thread (its workers profile themselves when the rig was started with `cpuProfile`). */
  async startProfile(): Promise<void> {
    await this.hub.ask({ type: 'profile-start' }, 'profiling', z.literal(true));
  }

  /** Stops the main thread's profile and writes it to `file`. */
  async stopProfile(file: string): Promise<void> {
    await this.hub.ask({ type: 'profile-stop', file }, 'profiled', z.string());
  }

  /** Orders the ERP holds confirmed now, in all (one scan of the ERP's orders: not for use while load runs). */
  confirmed(): Promise<number> {
    return countConfirmedOrders(this.urls.odooUrl);
  }

  /** Offers `dealIds` at `rate` webhooks/s from the load process and follows the ERP until the phase's orders are confirmed. */
  async offer(options: PhaseOptions): Promise<PhaseRun> {
    const specFile = join(this.dataDir, `load-${this.nextEventId}.json`);
    const outFile = join(this.dataDir, `sent-${this.nextEventId}.json`);
    const spec: LoadSpec = {
      url: `${this.urls.ingressUrl}/webhooks/hubspot`,
      clientSecret: CLIENT_SECRET,
      portalId: PORTAL_ID,
      dealIds: [...options.dealIds],
      stage: WON_STAGE,
      rate: options.rate,
      arrivals: options.arrivals ?? 'poisson',
      eventsPerRequest: options.eventsPerRequest ?? 1,
      firstEventId: this.nextEventId,
      seed: options.seed ?? 1,
      outFile,
    };
    this.nextEventId += options.dealIds.length;
    writeFileSync(specFile, JSON.stringify(spec));
    const hubStatsBefore = await this.hubStats(); // also resets the event-loop utilisation window
    const hubCpuBefore = cpuTime(this.hub.pid);
    const sandboxCpuBefore = cpuTime(this.sandboxes.pid).totalMs;
    const samples: Sample[] = [];
    const target = options.dealIds.length;
    const sample = async (): Promise<Sample> => {
      const reading: Sample = {
        at: Date.now(),
        confirmed: await countConfirmedOrders(this.urls.odooUrl, options.dealIds),
        hubRss: residentMemory(this.hub.pid).rss,
        hubCpuMs: cpuTime(this.hub.pid).totalMs - hubCpuBefore.totalMs,
        sandboxCpuMs: cpuTime(this.sandboxes.pid).totalMs - sandboxCpuBefore,
      };
      samples.push(reading);
      options.onSample?.(reading);
      return reading;
    };
    let sending = true;
    const sampler = (async () => {
      while (sending) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (sending) await sample();
      }
    })();
    const load = promisify(execFile)(process.execPath, [LOAD_CHILD, specFile], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    let loadOutput: { stdout: string };
    try {
      loadOutput = await load;
    } finally {
      sending = false;
      await sampler;
    }
    const summary = LoadSummary.parse(JSON.parse(loadOutput.stdout.trim().split('\n').pop()!));
    const sent = z.array(SentWebhook).parse(JSON.parse(readFileSync(outFile, 'utf8')));
    rmSync(outFile, { force: true });
    rmSync(specFile, { force: true });
    const lastSent = Math.max(...sent.map((webhook) => webhook.sentAt));
    // Drain: until every deal's order is confirmed, the backlog stalls, or time runs out.
    const drainTimeoutMs = (options.drainTimeoutSeconds ?? 60) * 1000;
    const stallMs = (options.stallSeconds ?? 15) * 1000;
    let reading = await sample();
    let lastProgressAt = Date.now();
    let lastConfirmed = reading.confirmed;
    while (options.drain !== false && reading.confirmed < target && Date.now() - lastSent < drainTimeoutMs && Date.now() - lastProgressAt < stallMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      reading = await sample();
      if (reading.confirmed > lastConfirmed) {
        lastConfirmed = reading.confirmed;
        lastProgressAt = Date.now();
      }
    }
    const hubStats = await this.hubStats();
    return {
      rate: options.rate,
      summary,
      sent,
      samples,
      drainSeconds: (reading.at - lastSent) / 1000,
      drained: reading.confirmed >= target,
      cpu: {
        hub: cpuBetween(hubCpuBefore, cpuTime(this.hub.pid)),
        sandboxes: cpuTime(this.sandboxes.pid).totalMs - sandboxCpuBefore,
        load: summary.cpuMs,
      },
      hubStatsBefore,
      hubStats,
    };
  }

  /** Stops the hub (writing its CPU profile if asked for) and the sandboxes; removes the data directory. */
  async stop(): Promise<void> {
    await this.hub.stop();
    await this.sandboxes.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
