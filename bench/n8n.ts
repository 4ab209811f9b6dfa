/**
 * The n8n peer benchmark: n8n running the workflow Harmony's ingress-to-ERP path is
 * compared with (webhook → HTTP call creating a sale order in the Odoo sandbox → respond),
 * loaded by the same kind of generator in its own process, on the same machine, in the
 * same run. n8n comes from `npm run bench:peers` (bench/peers/, not a Harmony dependency).
 *
 * `node bench/n8n.ts [--seconds=10] [--concurrency=10] [--saving=none,default]` runs it
 * alone and prints a table and one JSON line.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as z from 'zod';
import { startOdooSandbox, SANDBOX_UID, type OdooSandbox } from '../local/sandbox/odoo/index.ts';
import { freePort } from '../local/net/free-port.ts';
import { waitFor } from '../local/wait-for.ts';
import { installedN8nVersion, N8N_BIN, N8N_VERSION, NODE_24 } from './peers-install.ts';
import type { LoadOutcome, LoadPlan } from './n8n/webhook-load.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WORKFLOW = join(ROOT, 'bench/n8n/workflow.json');
const LOAD_GENERATOR = join(ROOT, 'bench/n8n/webhook-load.ts');
const WEBHOOK_PATH = 'webhook/harmony-bench-order';
const ODOO = { db: 'harmony', username: 'harmony@example.com', apiKey: 'local-odoo-api-key' } as const;

/**
 * How n8n keeps execution data: `default` saves every execution (n8n's out-of-the-box
 * setting), `none` sets EXECUTIONS_DATA_SAVE_ON_SUCCESS=none.
 */
export type ExecutionSaving = 'default' | 'none';

/** Options of `benchN8n`. */
export interface N8nBenchOptions {
  /** Measured seconds per execution-saving setting. @default 10 */
  readonly seconds?: number;
  /** Concurrent keep-alive connections. @default 10 */
  readonly concurrency?: number;
  /** Unmeasured seconds of the same load first (JIT, caches, sqlite pages). @default 3 */
  readonly warmupSeconds?: number;
  /** Settings to measure, in order. @default ['none', 'default'] */
  readonly savings?: readonly ExecutionSaving[];
  /**
   * The setting whose figures are the top-level result, the one Harmony is compared with.
   * @default 'none' — n8n's faster setting, so the ratio is not flattered
   */
  readonly basis?: ExecutionSaving;
  /** Where progress lines go. @default console.error */
  readonly log?: (line: string) => void;
}

/** One measured setting. */
export interface N8nRun {
  readonly n8nVersion: string;
  readonly executionSaving: ExecutionSaving;
  readonly concurrency: number;
  readonly seconds: number;
  /** Answered requests (any status). */
  readonly requests: number;
  /** 2xx answers. */
  readonly ok: number;
  /** 2xx answers carrying the id of the created order. */
  readonly confirmed: number;
  /** Sale orders the ERP gained during the measured window (counted over JSON-RPC). */
  readonly createdInErp: number;
  readonly statuses: Record<string, number>;
  /** Executions per second: answered requests over the measured window. */
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Milliseconds from `n8n start` to the webhook's first answer. */
  readonly startupMs: number;
  /** The first non-2xx answers and the last (see the load generator). */
  readonly failures: LoadOutcome['failures'];
}

/** Figures of the basis setting at the top level, every setting in `runs`. */
export interface N8nMeasured extends N8nRun {
  readonly installed: true;
  readonly runs: readonly N8nRun[];
}

/** n8n is not in bench/peers/: nothing was measured. */
export interface N8nNotInstalled {
  readonly installed: false;
  readonly reason: string;
}

/** What `benchN8n` returns. */
export type N8nBenchResult = N8nMeasured | N8nNotInstalled;

/** The environment n8n runs with: the issue's settings, its own user folder, nothing phoning home. */
function n8nEnvironment(userFolder: string, port: number, saving: ExecutionSaving): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {
    PATH: `${join(NODE_24, '..')}:${process.env.PATH ?? ''}`,
    HOME: userFolder,
    N8N_USER_FOLDER: userFolder,
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: '127.0.0.1',
    N8N_RUNNERS_ENABLED: 'false',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
    N8N_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  if (saving === 'none') environment.EXECUTIONS_DATA_SAVE_ON_SUCCESS = 'none';
  return environment;
}

/** Runs one n8n CLI command to completion, its output appended to `logFile`. */
async function n8nCommand(args: readonly string[], environment: NodeJS.ProcessEnv, logFile: string): Promise<void> {
  try {
    const { stdout, stderr } = await promisify(execFile)(NODE_24, [N8N_BIN, ...args], { env: environment, encoding: 'utf8', timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    writeFileSync(logFile, `$ n8n ${args.join(' ')}\n${stdout}${stderr}`, { flag: 'a' });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`n8n ${args.join(' ')} failed: ${`${failure.stderr ?? ''}${failure.stdout ?? ''}`.trim().split('\n').slice(-8).join('\n') || failure.message}`);
  }
}

/** Calls the sandbox's JSON-RPC `execute_kw` as any Odoo client would. */
async function odooCall(odoo: OdooSandbox, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
  const response = await fetch(`${odoo.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service: 'object', method: 'execute_kw', args: [odoo.db, SANDBOX_UID, ODOO.apiKey, model, method, args, kwargs] } }),
  });
  const answer = (await response.json()) as { result?: unknown; error?: { data?: { message?: string } } };
  if (answer.error !== undefined) throw new Error(`Odoo sandbox ${model}.${method}: ${answer.error.data?.message ?? JSON.stringify(answer.error)}`);
  return answer.result;
}

async function saleOrderCount(odoo: OdooSandbox): Promise<number> {
  return z.number().parse(await odooCall(odoo, 'sale.order', 'search_count', [[]]));
}

async function firstId(odoo: OdooSandbox, model: string, domain: unknown[]): Promise<number> {
  const [id] = z.array(z.number()).parse(await odooCall(odoo, model, 'search', [domain], { limit: 1 }));
  if (id === undefined) throw new Error(`the Odoo sandbox has no ${model} matching ${JSON.stringify(domain)}`);
  return id;
}

/** Runs the load generator in its own process and reads its JSON line. */
async function load(plan: LoadPlan): Promise<LoadOutcome> {
  const { stdout } = await promisify(execFile)(process.execPath, [LOAD_GENERATOR, JSON.stringify(plan)], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: (plan.seconds + 90) * 1000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadOutcome;
}

/** Stops n8n: SIGTERM, then SIGKILL if it has not exited within 20 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Starts `n8n start` and resolves once the workflow's webhook answers with a created order. */
async function startN8n(environment: NodeJS.ProcessEnv, webhookUrl: string, body: Record<string, unknown>, logFile: string): Promise<{ child: ChildProcess; startupMs: number }> {
  const began = performance.now();
  const child = spawn(NODE_24, [N8N_BIN, 'start'], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(output);
  child.stderr!.pipe(output);
  let exited = false;
  child.once('exit', () => { exited = true; });
  try {
    await waitFor('the n8n webhook to answer', async () => {
      if (exited) throw new Error(`n8n start exited before its webhook answered; last lines:\n${readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n')}`);
      const response = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, reference: 'readiness' }) }).catch(() => undefined);
      if (response === undefined) return undefined;
      // Before its migrations finish n8n answers every request 200 "n8n is starting up", and
      // before the workflow is activated 404: only the created order's id means ready.
      const answer = await response.text();
      return response.ok && /"orderId":\d+/.test(answer) ? true : undefined;
    }, { timeoutMs: 180_000, intervalMs: 250 });
  } catch (error) {
    await stop(child);
    throw error;
  }
  return { child, startupMs: performance.now() - began };
}

/** Runs the benchmark; a missing n8n is a result, not an error. */
export async function benchN8n(options: N8nBenchOptions = {}): Promise<N8nBenchResult> {
  const n8nVersion = installedN8nVersion();
  if (n8nVersion === undefined) return { installed: false, reason: 'n8n is not installed: run npm run bench:peers' };
  if (n8nVersion !== N8N_VERSION) return { installed: false, reason: `bench/peers/n8n holds n8n ${n8nVersion}, not ${N8N_VERSION}: run npm run bench:peers` };
  const seconds = options.seconds ?? 10;
  const concurrency = options.concurrency ?? 10;
  const warmupSeconds = options.warmupSeconds ?? 3;
  const savings = options.savings ?? ['none', 'default'];
  const basis = options.basis ?? (savings.includes('none') ? 'none' : savings[0]!);
  const log = options.log ?? ((line: string) => console.error(line));

  const workDir = mkdtempSync(join(tmpdir(), 'harmony-n8n-bench-'));
  const userFolder = join(workDir, 'n8n');
  const logFile = join(workDir, 'n8n.log');
  const odoo = await startOdooSandbox({ db: ODOO.db, username: ODOO.username, apiKey: ODOO.apiKey });
  const runs: N8nRun[] = [];
  try {
    const partnerId = await firstId(odoo, 'res.partner', [['name', '=', 'Azure Interior']]);
    const productId = await firstId(odoo, 'product.product', [['default_code', '=', 'WIDGET-1']]);
    const body = { partnerId, productId, quantity: 2 };

    const workflowFile = join(workDir, 'workflow.json');
    writeFileSync(workflowFile, readFileSync(WORKFLOW, 'utf8')
      .replaceAll('__ODOO_URL__', odoo.url).replaceAll('__ODOO_DB__', odoo.db)
      .replaceAll('__ODOO_UID__', String(SANDBOX_UID)).replaceAll('__ODOO_API_KEY__', ODOO.apiKey));
    const workflowId = z.object({ id: z.string() }).parse(JSON.parse(readFileSync(WORKFLOW, 'utf8'))).id;
    const port = await freePort();
    log(`n8n ${n8nVersion}: importing and publishing the workflow (user folder ${userFolder})`);
    await n8nCommand(['import:workflow', `--input=${workflowFile}`], n8nEnvironment(userFolder, port, 'default'), logFile);
    await n8nCommand(['publish:workflow', `--id=${workflowId}`], n8nEnvironment(userFolder, port, 'default'), logFile);

    const webhookUrl = `http://127.0.0.1:${port}/${WEBHOOK_PATH}`;
    for (const saving of savings) {
      log(`n8n ${n8nVersion} (execution saving: ${saving}): starting`);
      const { child, startupMs } = await startN8n(n8nEnvironment(userFolder, port, saving), webhookUrl, body, logFile);
      try {
        const plan = (runId: string, planSeconds: number): LoadPlan => ({ url: webhookUrl, concurrency, seconds: planSeconds, body, runId, confirmKey: 'orderId' });
        log(`n8n up in ${(startupMs / 1000).toFixed(1)} s; warming up ${warmupSeconds} s, then ${seconds} s at ${concurrency} connections`);
        if (warmupSeconds > 0) await load(plan(`warmup-${saving}`, warmupSeconds));
        const before = await saleOrderCount(odoo);
        const outcome = await load(plan(`bench-${saving}`, seconds));
        const createdInErp = (await saleOrderCount(odoo)) - before;
        runs.push({ n8nVersion, executionSaving: saving, concurrency, seconds, ...outcome, createdInErp, startupMs });
        log(`n8n (${saving}): ${outcome.perSecond.toFixed(1)}/s, ${outcome.ok}/${outcome.requests} 2xx, ${createdInErp} orders created, p50 ${outcome.p50.toFixed(0)} ms`);
      } finally {
        await stop(child);
      }
    }
  } catch (error) {
    throw new Error(`n8n benchmark failed (n8n's log: ${logFile}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await odoo.close();
  }
  if (runs.every((run) => run.ok === run.requests && run.createdInErp === run.ok)) rmSync(workDir, { recursive: true, force: true });
  else log(`some answers were not 2xx or not matched by an ERP record; n8n's log is kept: ${logFile}`);
  const top = runs.find((run) => run.executionSaving === basis) ?? runs[0]!;
  return { installed: true, ...top, runs };
}

/** Markdown table lines for a result, header first, the basis setting marked. */
export function n8nTable(result: N8nBenchResult): readonly string[] {
  if (!result.installed) return [`_n8n not measured: ${result.reason}_`];
  const header = [
    `| n8n ${result.n8nVersion} (${result.concurrency} keep-alive connections, ${result.seconds} s) | executions/s | 2xx | orders in ERP | p50 ms | p95 ms | p99 ms |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  return [...header, ...result.runs.map((run) =>
    `| execution saving: ${run.executionSaving === 'none' ? 'EXECUTIONS_DATA_SAVE_ON_SUCCESS=none' : 'default (all)'}${run.executionSaving === result.executionSaving ? ' (basis)' : ''} | ${run.perSecond.toFixed(1)} | ${run.ok}/${run.requests} | ${run.createdInErp} | ${run.p50.toFixed(0)} | ${run.p95.toFixed(0)} | ${run.p99.toFixed(0)} |`)];
}

/** Command-line options of the standalone entry. */
const CommandLine = z.strictObject({
  seconds: z.coerce.number().positive().default(10),
  concurrency: z.coerce.number().int().positive().default(10),
  warmup: z.coerce.number().nonnegative().default(3),
  saving: z.string().default('none,default').pipe(z.string().transform((text) => text.split(',')).pipe(z.array(z.enum(['none', 'default'])).min(1))),
});

if (import.meta.main) {
  const flags = Object.fromEntries(process.argv.slice(2).map((argument) => {
    const match = /^--([a-z]+)=(.*)$/.exec(argument);
    if (match === null) throw new Error(`unknown argument ${argument}: use --seconds=N --concurrency=N --warmup=N --saving=none,default`);
    return [match[1], match[2]];
  }));
  const parsed = CommandLine.safeParse(flags);
  if (!parsed.success) {
    console.error(`bench/n8n.ts: ${z.prettifyError(parsed.error)}`);
    process.exit(2);
  }
  const result = await benchN8n({ seconds: parsed.data.seconds, concurrency: parsed.data.concurrency, warmupSeconds: parsed.data.warmup, savings: parsed.data.saving });
  console.log(n8nTable(result).join('\n'));
  console.log(JSON.stringify(result));
  if (!result.installed) process.exitCode = 1;
}
