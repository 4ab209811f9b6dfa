/**
 * Ingress throughput: signed HubSpot webhooks per second accepted by the local hub's
 * ingress (signature, validation, dedup, PutEvents on the durable bus), against a bare
 * Node `http` server answering 200 on the same machine in the same run, with the same
 * load generator in its own process.
 */
import { startBareServer } from './bare-server.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHubEnvironment } from '../local/config.ts';
import { startHub } from '../local/hub.ts';
import type { BenchResult } from './run.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const CONCURRENCY = 16;
const SECONDS = 10;
const TARGET_RATIO = 0.5;
const SECRET = 'local-hubspot-client-secret';

interface LoadResult {
  readonly requests: number;
  readonly ok: number;
  readonly statuses: Record<string, number>;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** Runs the generator against `url` (asynchronously: the server may live in this very process). */
async function load(url: string, runId: number): Promise<LoadResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'bench/ingress-load.ts'), url, SECRET, String(CONCURRENCY), String(SECONDS), String(runId)],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: (SECONDS + 60) * 1000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

/** Runs the benchmark. */
export async function benchIngress(): Promise<BenchResult> {
  const bare = await startBareServer();
  const bareResult = await load(bare.url, 1);
  await bare.close();

  const dataDir = mkdtempSync(join(tmpdir(), 'harmony-ingress-bench-'));
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const hub = await startHub({
    environment: readHubEnvironment({ HARMONY_DATA_DIR: dataDir, HARMONY_AWS_PORT: '0', HARMONY_INGRESS_PORT: '0', HARMONY_HUBSPOT_PORT: '0', HARMONY_ODOO_PORT: '0' }),
    log: () => undefined,
    onAlarm: () => undefined,
  });
  let hubResult: LoadResult;
  try {
    await load(`${hub.ingressUrl}/webhooks/hubspot`, 2); // warm-up: cold starts of the ingest instances
    hubResult = await load(`${hub.ingressUrl}/webhooks/hubspot`, 3);
  } finally {
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ratio = hubResult.perSecond / bareResult.perSecond;
  const row = (name: string, result: LoadResult) =>
    `| ${name} | ${result.perSecond.toFixed(0)} | ${result.ok}/${result.requests} | ${result.p50.toFixed(1)} | ${result.p95.toFixed(1)} | ${result.p99.toFixed(1)} |`;
  const table = [
    `| server (${CONCURRENCY} keep-alive connections, ${SECONDS} s) | requests/s | 2xx | p50 ms | p95 ms | p99 ms |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('Harmony ingress (verify, validate, dedup, PutEvents)', hubResult),
    row('_bare Node `http` answering 200 (baseline)_', bareResult),
  ];
  const notes = [
    `Harmony at ${(ratio * 100).toFixed(0)}% of bare Node — target ≥ ${TARGET_RATIO * 100}%: ${ratio >= TARGET_RATIO ? 'met' : `missed by ${((TARGET_RATIO - ratio) * 100).toFixed(0)} points`}. Each request is a signed one-event batch with a fresh event id (a contact change, so no saga starts); every accepted event is durably on the bus (sqlite outbox + archive) and has an idempotency record and an audit record in dynalite before the 200. The load generator runs in its own process on the same 2 cores.`,
  ];
  return { name: 'ingress', title: 'Ingress throughput', table, notes, data: { bare: bareResult, harmony: hubResult, ratio } };
}
