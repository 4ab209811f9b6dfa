/**
 * Lambda bundles and synth: per function, the minified bundle size and the time
 * a fresh Node 24 process takes to import it (a proxy for cold start), against
 * an empty handler bundled the same way in the same run; and `cdk synth` time
 * against an empty CDK app synthesized in the same run.
 */
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import type { BenchResult } from './run.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const NODE = process.execPath;
const IMPORT_RUNS = 9;
const SYNTH_RUNS = 3;
const BUNDLE_TARGET_BYTES = 300 * 1024;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Milliseconds a fresh Node process spends importing `file`, median of IMPORT_RUNS. */
function coldImportMs(file: string, env: Record<string, string>): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(String(performance.now() - t));`;
  const times: number[] = [];
  for (let run = 0; run < IMPORT_RUNS; run += 1) {
    const result = spawnSync(NODE, ['--enable-source-maps', '--input-type=module', '-e', script], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr}`);
    times.push(Number(result.stdout));
  }
  return median(times);
}

function timeCommand(command: string, args: readonly string[], env: Record<string, string> = {}): number {
  const times: number[] = [];
  for (let run = 0; run < SYNTH_RUNS; run += 1) {
    const start = performance.now();
    execFileSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'pipe' });
    times.push(performance.now() - start);
  }
  return median(times);
}

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

/** Placeholder values for a function's environment so its module-scope config parses. */
function importEnvironment(resource: Resource): Record<string, string> {
  const variables = ((resource.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const env: Record<string, string> = { AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench' };
  for (const [name, value] of Object.entries(variables)) env[name] = typeof value === 'string' ? value : `bench-${name.toLowerCase()}`;
  if (env.FLOW_NAME?.startsWith('bench-')) env.FLOW_NAME = 'order-to-cash';
  env.ODOO_URL = 'https://erp.example.com';
  return env;
}

/** Runs the benchmark. */
export async function benchBundles(): Promise<BenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'harmony-bench-'));
  const cdk = join(ROOT, 'node_modules/.bin/cdk');
  const out = join(work, 'cdk.out');
  const synthMs = timeCommand(cdk, ['synth', '--quiet', '--output', out]);
  const emptyApp = join(work, 'empty-app.mjs');
  writeFileSync(
    emptyApp,
    `import { App, Stack } from ${JSON.stringify(join(ROOT, 'node_modules/aws-cdk-lib/index.js'))};\nconst app = new App(); new Stack(app, 'Empty'); app.synth();\n`,
  );
  const emptySynthMs = timeCommand(cdk, ['synth', '--quiet', '--app', `${NODE} ${emptyApp}`, '--output', join(work, 'empty.out')]);

  const templateFile = readdirSync(out).find((name) => name.endsWith('.template.json'))!;
  const template = JSON.parse(readFileSync(join(out, templateFile), 'utf8')) as { Resources: Record<string, Resource> };

  const baselineDir = join(work, 'baseline');
  const baselineEntry = join(work, 'empty-handler.ts');
  writeFileSync(baselineEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
  await build({
    entryPoints: [baselineEntry], bundle: true, minify: true, sourcemap: true, format: 'esm', platform: 'node',
    target: 'node24', outfile: join(baselineDir, 'index.mjs'),
  });
  const baselineFile = join(baselineDir, 'index.mjs');
  const baselineImportMs = coldImportMs(baselineFile, {});

  const rows = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Metadata?.['harmony:entry'] !== undefined)
    .map(([logicalId, resource]) => {
      const assetDir = join(out, String(resource.Metadata!['aws:asset:path']));
      const file = join(assetDir, readdirSync(assetDir).find((name) => /^index\.m?js$/.test(name))!);
      const bytes = statSync(file).size;
      const importMs = coldImportMs(file, importEnvironment(resource));
      return {
        logicalId,
        entry: String(resource.Metadata!['harmony:entry']),
        bytes,
        gzipBytes: gzipSync(readFileSync(file)).byteLength,
        importMs,
        importRatio: importMs / baselineImportMs,
        withinTarget: bytes <= BUNDLE_TARGET_BYTES,
      };
    });

  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  const table = [
    '| function (entry) | minified | gzip | ≤ 300 KB | cold import (median of 9) | × empty handler |',
    '| --- | ---: | ---: | :---: | ---: | ---: |',
    ...rows.map((row) => `| ${row.entry} | ${kb(row.bytes)} | ${kb(row.gzipBytes)} | ${row.withinTarget ? 'yes' : `no (+${kb(row.bytes - BUNDLE_TARGET_BYTES)})`} | ${row.importMs.toFixed(1)} ms | ${row.importRatio.toFixed(1)}× |`),
    `| _empty handler (baseline)_ | ${kb(statSync(baselineFile).size)} | | | ${baselineImportMs.toFixed(1)} ms | 1.0× |`,
  ];
  const notes = [
    `\`cdk synth\` (with esbuild bundling of every function): ${(synthMs / 1000).toFixed(1)} s, ${(synthMs / emptySynthMs).toFixed(1)}× an empty CDK app (${(emptySynthMs / 1000).toFixed(1)} s) — median of ${SYNTH_RUNS}.`,
  ];
  return { name: 'bundles', title: 'Lambda bundles and cold import', table, notes, data: { synthMs, emptySynthMs, baselineImportMs, rows } };
}
