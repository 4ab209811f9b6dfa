/**
 * Starts the hub as a child process on fixed ports and one data directory, kills it
 * with SIGKILL and starts it again on the same state, as a crashing host would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as z from 'zod';

const CHILD = new URL('./hub-process.ts', import.meta.url).pathname;

/** The URLs the hub child prints once ready. */
export const HubUrls = z.object({
  ready: z.literal(true),
  awsEndpoint: z.string(),
  ingressUrl: z.string(),
  hubspotUrl: z.string(),
  odooUrl: z.string(),
});
export type HubUrls = z.infer<typeof HubUrls>;

export { freePort } from '../../local/net/free-port.ts';

/** Runs, kills and restarts one hub child process. */
export class HubSupervisor {
  private readonly environment: Readonly<Record<string, string>>;
  private child: ChildProcess | undefined;
  private errors = '';

  constructor(environment: Readonly<Record<string, string>>) {
    this.environment = environment;
  }

  /** Starts the hub and resolves with its URLs once it says it is ready. */
  start(): Promise<HubUrls> {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...this.environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.errors = '';
    return new Promise((resolve, reject) => {
      let output = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        this.errors = (this.errors + chunk.toString()).slice(-4000);
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((candidate) => candidate.startsWith('{"ready":true'));
        if (line !== undefined) resolve(HubUrls.parse(JSON.parse(line)));
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`hub exited (${code ?? signal}) before it was ready:\n${this.errors}`)),
      );
    });
  }

  /** Kills the hub with the signal and waits until it is gone; nothing when it is not running. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const running = this.child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill(signal);
    });
  }

  /** The last lines the hub wrote to stderr. */
  stderrTail(): string {
    return this.errors;
  }
}
