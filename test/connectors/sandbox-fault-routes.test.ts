/**
 * The fault control routes every vendor sandbox shares (`local/sandbox/faults.ts`), served
 * by each: a rule is added and counted, `GET` tells how many calls are still due to fail
 * (what a scenario reads to prove the system under test met every fault), a bad rule is
 * refused naming the field, and `DELETE` clears them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { businessCentralSandbox } from '../../local/sandbox/business-central/sandbox.ts';
import type { RunningSandbox, SandboxDefinition } from '../../local/sandbox/definition.ts';
import { dynamicsNavSandbox } from '../../local/sandbox/dynamics-nav/sandbox.ts';
import { FAULT_BYPASS_HEADER, FAULT_BYPASS_VALUE } from '../../local/sandbox/faults.ts';
import { startHubspotSandbox } from '../../local/sandbox/hubspot/server.ts';
import { netsuiteSandbox } from '../../local/sandbox/netsuite/sandbox.ts';
import { startOdooSandbox } from '../../local/sandbox/odoo/index.ts';
import { pipedriveSandbox } from '../../local/sandbox/pipedrive/sandbox.ts';
import { salesforceSandbox } from '../../local/sandbox/salesforce/sandbox.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sandbox-fault-routes-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A sandbox as the hub starts it, in its own data directory; no webhook is ever due, so the ingress URL is never called. */
function fromDefinition(definition: SandboxDefinition): () => Promise<Pick<RunningSandbox, 'url' | 'close'>> {
  return () => definition.start({ host: '127.0.0.1', port: 0, dataDir: join(dataDir, definition.system), ingressUrl: 'http://127.0.0.1:9' });
}

const SANDBOXES: readonly (readonly [string, () => Promise<Pick<RunningSandbox, 'url' | 'close'>>])[] = [
  ['hubspot', () => startHubspotSandbox({ accessToken: 'pat-na1-fault-routes', clientSecret: 'fault-routes-secret' })],
  ['odoo', () => startOdooSandbox({ db: 'fault-routes', username: 'api@harmony.example', apiKey: 'fault-routes-key' })],
  ['netsuite', fromDefinition(netsuiteSandbox)],
  ['business-central', fromDefinition(businessCentralSandbox)],
  ['dynamics-nav', fromDefinition(dynamicsNavSandbox)],
  ['salesforce', fromDefinition(salesforceSandbox)],
  ['pipedrive', fromDefinition(pipedriveSandbox)],
];

describe.each(SANDBOXES)('%s sandbox: /__sandbox/faults', (_system, start) => {
  let sandbox: Pick<RunningSandbox, 'url' | 'close'>;
  beforeAll(async () => {
    sandbox = await start();
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  afterEach(async () => {
    await faults('DELETE');
  });

  async function faults(method: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method,
      headers: { [FAULT_BYPASS_HEADER]: FAULT_BYPASS_VALUE, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }

  it('counts the calls still due to fail as rules are added, and none once cleared', async () => {
    // act
    const before = await faults('GET');
    const added = await faults('POST', { kind: '500', count: 2, operation: 'GET /no-call-makes-this' });
    const addedMore = await faults('POST', { kind: '429', count: 1, retryAfterSeconds: 3, operation: 'GET /nor-this' });
    const pending = await faults('GET');
    const cleared = await faults('DELETE');
    const after = await faults('GET');

    // assess
    expect(before).toEqual({ status: 200, json: { remaining: 0 } });
    expect(added).toEqual({ status: 201, json: { remaining: 2 } });
    expect(addedMore).toEqual({ status: 201, json: { remaining: 3 } });
    expect(pending).toEqual({ status: 200, json: { remaining: 3 } });
    expect(cleared.status).toBe(204);
    expect(after).toEqual({ status: 200, json: { remaining: 0 } });
  });

  it('refuses a rule that is not a FaultRequest, naming the field, and adds nothing', async () => {
    // act
    const refused = await faults('POST', { kind: '418', count: 1 });
    const notJson = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: '{"kind":' });
    const pending = await faults('GET');

    // assess
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('kind');
    expect(notJson.status).toBe(400);
    expect(pending.json).toEqual({ remaining: 0 });
  });
});
