/**
 * `npm start` start-up: wall time from spawning the hub process to `/health` answering
 * 200, with an empty data directory (synth runs) and again with the synth cache warm,
 * against a bare `node` process that only starts and exits, measured in the same run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../local/net/free-port.ts';
import type { BenchResult } from './run.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const RUNS = 3;
const TARGET_WARM_MS = 3000;

/** Spawns `npm start`'s entry and resolves with the milliseconds until /health is 200. */
async function timeToHealthy(dataDir: string): Promise<number> {
  const ports = { aws: await freePort(), ingress: await freePort(), hubspot: await freePort(), odoo: await freePort() };
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'local/start.ts')], {
    cwd: ROOT,
    stdio: 'ignore',
    env: {
      ...process.env,
      HARMONY_DATA_DIR: dataDir,
      HARMONY_AWS_PORT: String(ports.aws),
      HARMONY_INGRESS_PORT: String(ports.ingress),
      HARMONY_HUBSPOT_PORT: String(ports.hubspot),
      HARMONY_ODOO_PORT: String(ports.odoo),
    },
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the hub exited with ${child.exitCode}`);
      const healthy = await fetch(`http://127.0.0.1:${ports.ingress}/health`).then((response) => response.ok, () => false);
      if (healthy) return performance.now() - started;
      if (performance.now() - started > 120_000) throw new Error('the hub did not become healthy within 2 minutes');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs the benchmark. */
export async function benchStartup(): Promise<BenchResult> {
  const bare: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
    bare.push(performance.now() - started);
  }
  const cold: number[] = [];
  const warm: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const dataDir = mkdtempSync(join(tmpdir(), 'harmony-startup-'));
    try {
      cold.push(await timeToHealthy(dataDir));
      warm.push(await timeToHealthy(dataDir));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const bareMs = median(bare);
  const coldMs = median(cold);
  const warmMs = median(warm);
  const table = [
    '| start | to /health 200 (median of 3) | × bare `node` process | target |',
    '| --- | ---: | ---: | --- |',
    `| empty data directory (synth runs) | ${(coldMs / 1000).toFixed(2)} s | ${(coldMs / bareMs).toFixed(0)}× | — |`,
    `| synth cache warm, state kept | ${(warmMs / 1000).toFixed(2)} s | ${(warmMs / bareMs).toFixed(0)}× | < 3 s: ${warmMs < TARGET_WARM_MS ? 'met' : `missed by ${((warmMs - TARGET_WARM_MS) / 1000).toFixed(2)} s`} |`,
    `| _bare \`node -e ''\` (baseline)_ | ${(bareMs / 1000).toFixed(3)} s | 1× | |`,
  ];
  return { name: 'startup', title: '`npm start` start-up', table, notes: [], data: { bareMs, coldMs, warmMs, cold, warm, bare } };
}
