/**
 * A child process that prints one JSON line starting `{"ready":true` once it serves:
 * started, killed (SIGKILL, as a crashing host would) and started again on the same
 * settings. The hub and the sandboxes each run in one, so killing the hub leaves the
 * CRM and the ERP running, as in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import type * as z from 'zod';

/** What to run. */
export interface ReadyProcessOptions<Ready> {
  /** What the process is, for error messages. */
  readonly name: string;
  /** The module to run with this Node. */
  readonly script: string;
  readonly args?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** The ready line's schema. */
  readonly ready: z.ZodType<Ready>;
  /** A file every run's stderr is appended to, for a post-mortem. @default - none */
  readonly stderrFile?: string;
}

/** Runs, kills and restarts one child process. */
export class ReadyProcess<Ready> {
  private readonly options: ReadyProcessOptions<Ready>;
  private child: ChildProcess | undefined;
  private errors = '';

  constructor(options: ReadyProcessOptions<Ready>) {
    this.options = options;
  }

  /** Starts the process and resolves with its ready line once it prints it. */
  start(): Promise<Ready> {
    const { name, script, args = [], environment, ready } = this.options;
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.errors = '';
    return new Promise((resolve, reject) => {
      let output = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        this.errors = (this.errors + chunk.toString()).slice(-4000);
        if (this.options.stderrFile !== undefined) appendFileSync(this.options.stderrFile, chunk);
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((candidate) => candidate.startsWith('{"ready":true'));
        if (line === undefined) return;
        output = '';
        const parsed = ready.safeParse(JSON.parse(line));
        if (parsed.success) resolve(parsed.data);
        else reject(new Error(`${name} printed an unexpected ready line: ${line}`));
      });
      child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${this.errors}`)));
    });
  }

  /** Sends the signal and waits until the process is gone; nothing when it is not running. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const running = this.child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill(signal);
    });
  }

  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }

  /**
   * The most memory the running process has held resident so far (`VmHWM`), in MB; undefined
   * when it is not running or the platform has no `/proc`. Read it before a kill: the mark dies with the process.
   */
  peakResidentMegabytes(): number | undefined {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null || this.child?.signalCode !== null) return undefined;
    try {
      const kilobytes = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kilobytes === undefined ? undefined : Number(kilobytes) / 1024;
    } catch {
      return undefined;
    }
  }

  /** The last lines the process wrote to stderr. */
  stderrTail(): string {
    return this.errors;
  }
}
