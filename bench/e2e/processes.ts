/**
 * The processes of an end-to-end run — the hub, the sandboxes, the load generator — started
 * as children of the benchmark, and what Linux says about them (/proc): resident memory and
 * CPU time per process and per thread, read without touching the process itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as z from 'zod';

const HUB_CHILD = new URL('./hub-process.ts', import.meta.url).pathname;
const SANDBOX_CHILD = new URL('../../local/sandbox/main.ts', import.meta.url).pathname;
/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** Instances per function the benchmarked hub may run (`HARMONY_LAMBDA_CONCURRENCY`). */
export const BENCH_LAMBDA_CONCURRENCY = 12;

/** What the hub child prints once ready. */
export const HubReady = z.object({
  ready: z.literal(true),
  awsEndpoint: z.string(),
  ingressUrl: z.string(),
});
export type HubReady = z.infer<typeof HubReady>;

/** What the sandbox child prints once ready. */
export const SandboxesReady = z.object({ ready: z.literal(true), hubspotUrl: z.string(), odooUrl: z.string() });
export type SandboxesReady = z.infer<typeof SandboxesReady>;

/** One Lambda function's counters as the hub's runtime keeps them. */
export const FunctionCounters = z.looseObject({
  functionName: z.string(),
  invocations: z.number(),
  errors: z.number(),
  throttles: z.number(),
  coldStarts: z.number(),
  instances: z.number(),
  concurrencyLimit: z.number(),
});

/** The hub child's answer to `stats`. */
export const HubStats = z.object({
  memory: z.object({ rss: z.number(), heapUsed: z.number(), external: z.number(), arrayBuffers: z.number() }),
  mainThreadUtilization: z.number(),
  functions: z.array(FunctionCounters),
});
export type HubStats = z.infer<typeof HubStats>;

/** A child process started by the benchmark. */
export class BenchChild<Ready> {
  readonly ready: Promise<Ready>;
  private readonly child: ChildProcess;
  private errors = '';

  constructor(
    file: string,
    options: { readonly environment: Readonly<Record<string, string>>; readonly args?: readonly string[]; readonly schema: z.ZodType<Ready> },
  ) {
    this.child = spawn(process.execPath, [file, ...(options.args ?? [])], {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...options.environment },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.errors = (this.errors + chunk.toString()).slice(-4000);
    });
    this.ready = new Promise((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((candidate) => candidate.startsWith('{"ready":true'));
        if (line === undefined) return;
        this.child.stdout!.off('data', onData);
        this.child.stdout!.resume();
        resolve(options.schema.parse(JSON.parse(line)));
      };
      this.child.stdout!.on('data', onData);
      this.child.once('exit', (code, signal) => reject(new Error(`${file} exited (${code ?? signal}) before it was ready:\n${this.errors}`)));
    });
  }

  /** The child's process id. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `message` over IPC and resolves with the first answer carrying `key` (rejects on one carrying `failed`). */
  ask<Answer>(message: Readonly<Record<string, unknown>>, key: string, schema: z.ZodType<Answer>): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const onMessage = (answer: unknown) => {
        if (typeof answer !== 'object' || answer === null) return;
        if ('failed' in answer) {
          this.child.off('message', onMessage);
          reject(new Error(`child: ${String(answer.failed)}`));
          return;
        }
        if (!(key in answer)) return;
        this.child.off('message', onMessage);
        try {
          resolve(schema.parse((answer as Record<string, unknown>)[key]));
        } catch (error) {
          reject(error as Error);
        }
      };
      this.child.on('message', onMessage);
      this.child.send(message);
    });
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** The last lines the child wrote to stderr. */
  stderrTail(): string {
    return this.errors;
  }
}

/**
 * Starts the sandbox CRM and ERP in their own process (local/sandbox/main.ts) on free ports,
 * keeping their state under `dataDir`, with no webhook subscription: creating or moving a
 * deal sends nothing, so the benchmark's load process is the only sender of webhooks.
 */
export function startSandboxProcess(dataDir: string): BenchChild<SandboxesReady> {
  return new BenchChild(SANDBOX_CHILD, {
    environment: {},
    args: ['--hubspot-port', '0', '--odoo-port', '0', '--webhook-url', 'none', '--data-dir', dataDir],
    schema: SandboxesReady,
  });
}

/** Starts the hub in its own process on free ports and `dataDir`, its connectors pointed at the given sandboxes. */
export function startHubProcess(options: {
  readonly dataDir: string;
  readonly hubspotUrl: string;
  readonly odooUrl: string;
  /** Where and how often the hub's worker threads write CPU profiles (`HARMONY_CPU_PROFILE_DIR`, `_SECONDS`); the main thread is profiled on request. */
  readonly cpuProfile?: { readonly directory: string; readonly partSeconds: number };
}): BenchChild<HubReady> {
  return new BenchChild(HUB_CHILD, {
    environment: {
      HARMONY_DATA_DIR: options.dataDir,
      HARMONY_AWS_PORT: '0',
      HARMONY_INGRESS_PORT: '0',
      HARMONY_HUBSPOT_PORT: '0',
      HARMONY_ODOO_PORT: '0',
      HARMONY_SANDBOXES: 'false',
      // Lambda would scale each function out; the local default of 4 instances held steps
      // waiting for a worker while the hub used under one core (12: 19/s where 4 gave 10/s).
      HARMONY_LAMBDA_CONCURRENCY: String(BENCH_LAMBDA_CONCURRENCY),
      HUBSPOT_BASE_URL: options.hubspotUrl,
      ODOO_URL: options.odooUrl,
      ...(options.cpuProfile === undefined
        ? {}
        : { HARMONY_CPU_PROFILE_DIR: options.cpuProfile.directory, HARMONY_CPU_PROFILE_SECONDS: String(options.cpuProfile.partSeconds) }),
    },
    schema: HubReady,
  });
}

/** Resident set size of a process in bytes (`VmRSS`), and its peak (`VmHWM`). */
export function residentMemory(pid: number): { readonly rss: number; readonly peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kilobytes('VmRSS'), peak: kilobytes('VmHWM') };
}

/** CPU time (user + system, ms) of one thread or process from its `stat` line. */
function cpuMsOf(statLine: string): { readonly name: string; readonly ms: number } {
  // The name sits in parentheses and may itself hold spaces or parentheses: split after the last ')'.
  const close = statLine.lastIndexOf(')');
  const name = statLine.slice(statLine.indexOf('(') + 1, close);
  const fields = statLine.slice(close + 2).split(' ');
  // After the name: state is field 3 of stat(5), utime 14 and stime 15 → indexes 11 and 12 here.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { name, ms: (ticks / TICKS_PER_SECOND) * 1000 };
}

/** CPU time of a process so far, in all and per thread name (threads of one name summed). */
export interface CpuTime {
  readonly totalMs: number;
  readonly byThread: Readonly<Record<string, number>>;
}

/** Reads the CPU time of `pid` and of each of its threads from /proc. */
export function cpuTime(pid: number): CpuTime {
  const totalMs = cpuMsOf(readFileSync(`/proc/${pid}/stat`, 'utf8')).ms;
  const byThread: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const thread = cpuMsOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      const name = tid === String(pid) ? 'main' : thread.name;
      byThread[name] = (byThread[name] ?? 0) + thread.ms;
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return { totalMs, byThread };
}

/** CPU time spent between two readings. */
export function cpuBetween(before: CpuTime, after: CpuTime): CpuTime {
  const byThread: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after.byThread)) byThread[name] = ms - (before.byThread[name] ?? 0);
  return { totalMs: after.totalMs - before.totalMs, byThread };
}
