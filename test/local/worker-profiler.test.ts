/**
 * Opt-in CPU profiles of local Lambda instances: with HARMONY_CPU_PROFILE_DIR in a
 * function's environment its worker writes Chrome DevTools profiles of its own thread,
 * which `--cpu-prof` on the hub process would not.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { LocalLambdaRuntime } from '../../local/lambda/runtime.ts';
import { waitFor } from '../../local/wait-for.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
let runtime: LocalLambdaRuntime | undefined;
const directory = mkdtempSync(join(tmpdir(), 'harmony-profiles-'));

afterEach(async () => {
  await runtime?.stop();
  rmSync(directory, { recursive: true, force: true });
});

function probe(name: string, environment: Record<string, string>) {
  return {
    logicalId: `${name}Logical`,
    functionName: name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    entry: 'test/local/fixtures/probe-handler.ts',
    handlerExport: 'handler',
    environment,
    timeoutMs: 5000,
    memoryMb: 256,
  };
}

it('writes a profile of the instance that ran the handler, and none for a function not asked to', async () => {
  runtime = new LocalLambdaRuntime({
    projectRoot: PROJECT_ROOT,
    functions: [
      probe('Profiled', { HARMONY_CPU_PROFILE_DIR: directory, HARMONY_CPU_PROFILE_SECONDS: '1' }),
      probe('Plain', {}),
    ],
  });
  expect((await runtime.invoke('ProfiledLogical', { n: 1 })).status).toBe('ok');
  expect((await runtime.invoke('PlainLogical', { n: 1 })).status).toBe('ok');
  const file = await waitFor('a profile file', async () => readdirSync(directory).find((name) => name.endsWith('.cpuprofile')), { timeoutMs: 20_000 });
  expect(file).toMatch(/^Profiled\.\d+\.\d+\.001\.cpuprofile$/);
  const profile = JSON.parse(readFileSync(join(directory, file), 'utf8')) as { nodes: { callFrame: { url: string } }[] };
  expect(profile.nodes.some((node) => node.callFrame.url.endsWith('test/local/fixtures/probe-handler.ts'))).toBe(true);
  expect(readdirSync(directory).every((name) => name.startsWith('Profiled.'))).toBe(true);
});
