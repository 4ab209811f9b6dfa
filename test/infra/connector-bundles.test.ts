/**
 * Every connector must survive the Lambda bundling as `cdk deploy` does it (one ESM file,
 * the options of `harmonyBundling`): a vendor library that reads `__dirname`, requires a
 * native module or a file beside it would otherwise fail only in AWS, at the first order.
 * The bundle loads each CRM and ERP connector through the catalog in a fresh Node process.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CRM_SYSTEMS, ERP_SYSTEMS } from '../../functions/connectors/catalog.ts';
import { harmonyBundling } from '../../lib/constructs/harmony-function.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const folder = mkdtempSync(join(tmpdir(), 'harmony-bundles-'));

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('connector bundles', () => {
  it('every connector loads from a bundle built the way the stack builds Lambda code', async () => {
    const options = harmonyBundling();
    const entry = join(folder, 'entry.ts');
    writeFileSync(
      entry,
      [
        `import { loadCrmConnector, loadErpConnector } from ${JSON.stringify(join(ROOT, 'functions/connectors/catalog.ts'))};`,
        `const loaded = [];`,
        ...CRM_SYSTEMS.map((system) => `loaded.push((await loadCrmConnector(${JSON.stringify(system)})).system);`),
        ...ERP_SYSTEMS.map((system) => `loaded.push((await loadErpConnector(${JSON.stringify(system)})).system);`),
        `process.stdout.write(JSON.stringify(loaded));`,
      ].join('\n'),
    );
    const outfile = join(folder, 'bundle.mjs');
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: options.target,
      minify: options.minify,
      mainFields: options.mainFields,
      banner: { js: options.banner },
      external: options.externalModules,
      logLevel: 'silent',
    });
    const run = spawnSync(process.execPath, [outfile], { cwd: folder, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([...CRM_SYSTEMS, ...ERP_SYSTEMS]);
  }, 120_000);
});
