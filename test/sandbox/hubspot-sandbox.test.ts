/**
 * The HubSpot sandbox as the official client and a webhook receiver see it:
 * HubSpot's API shapes, signed stage-change webhooks, retries, faults, restarts.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Signature } from '@hubspot/api-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HubspotWebhookBatch,
  toHubEvents,
  verifyHubspotSignatureV3,
} from '../../functions/connectors/crm/hubspot/webhook.ts';
import { DEAL_STAGE_CHANGED } from '../../functions/core/events.ts';
import { startHubspotSandbox, type HubspotSandbox, type HubspotSandboxOptions } from '../../local/sandbox/hubspot/server.ts';

const TOKEN = 'pat-na1-sandbox-token';
const SECRET = 'app-client-secret';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface Receiver {
  /** Webhook URL including a query with characters HubSpot decodes before signing. */
  readonly url: string;
  readonly requests: Received[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A local webhook endpoint answering the given statuses in turn ('hold' = never answer), then 200. */
async function startReceiver(answers: (number | 'hold')[] = []): Promise<Receiver> {
  const requests: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = answers.shift() ?? 200;
      if (answer === 'hold') return;
      response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/webhooks/hubspot?tenant=acme%3Aeu`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  cleanups.push(receiver.close);
  return receiver;
}

async function startSandbox(options: Partial<HubspotSandboxOptions> = {}): Promise<HubspotSandbox> {
  const sandbox = await startHubspotSandbox({ accessToken: TOKEN, clientSecret: SECRET, ...options });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'harmony-hubspot-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

function official(sandbox: HubspotSandbox, token: string = TOKEN): Client {
  return new Client({ accessToken: token, basePath: sandbox.url });
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function failure(promise: Promise<unknown>): Promise<{ code?: number; body?: unknown; headers?: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: number; body?: unknown; headers?: Record<string, string> };
  }
  throw new Error('expected the call to fail');
}

function receiverUri(receiver: Receiver, request: Received): string {
  return `${new URL(receiver.url).origin}${request.url}`;
}

describe('webhooks', () => {
  it('delivers a signed deal.propertyChange when a deal moves to closedwon through the official client', async () => {
    // prepare
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url, portalId: 777 });
    const client = official(sandbox);
    await client.crm.deals.basicApi.update('4001', { properties: { erp_status: 'confirmed' } }); // no webhook

    // act
    await client.crm.deals.basicApi.update('4001', { properties: { dealstage: 'closedwon' } });

    // assess
    await eventually(() => receiver.requests.length >= 1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/webhooks/hubspot?tenant=acme%3Aeu');
    const verdict = verifyHubspotSignatureV3({
      method: request.method,
      uri: receiverUri(receiver, request),
      body: request.body,
      timestamp: request.headers['x-hubspot-request-timestamp'] as string | undefined,
      signature: request.headers['x-hubspot-signature-v3'] as string | undefined,
      clientSecret: SECRET,
    });
    expect(verdict).toStrictEqual({ valid: true });
    expect(
      Signature.isValid({
        signature: request.headers['x-hubspot-signature'] as string,
        clientSecret: SECRET,
        requestBody: request.body,
      }),
    ).toBe(true);
    const events = toHubEvents(HubspotWebhookBatch.parse(JSON.parse(request.body)));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      detailType: DEAL_STAGE_CHANGED,
      detail: { crm: 'hubspot', accountId: '777', dealId: '4001', stage: 'closedwon' },
    });
    expect(JSON.parse(request.body)[0]).toMatchObject({ subscriptionType: 'deal.propertyChange', attemptNumber: 0 });
  });

  it('sends no webhook when a PATCH leaves the stage as it was', async () => {
    // prepare
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url });
    const client = official(sandbox);

    // act: same stage again, then a real change (which must be the only event)
    await client.crm.deals.basicApi.update('4002', { properties: { dealstage: 'appointmentscheduled' } });
    await client.crm.deals.basicApi.update('4002', { properties: { dealstage: 'qualifiedtobuy' } });

    // assess
    await eventually(() => receiver.requests.length >= 1 && sandbox.pendingWebhooks() === 0);
    const events = receiver.requests.flatMap((request) => JSON.parse(request.body) as { propertyValue: string }[]);
    expect(events.map((event) => event.propertyValue)).toStrictEqual(['qualifiedtobuy']);
  });

  it('retries after a receiver 500 and a timeout, with the next attemptNumber and the same eventId', async () => {
    // prepare
    const receiver = await startReceiver([500, 'hold']);
    const sandbox = await startSandbox({ webhookUrl: receiver.url, retryDelaysMs: [20, 20, 20], deliveryTimeoutMs: 200 });

    // act
    await official(sandbox).crm.deals.basicApi.update('4001', { properties: { dealstage: 'closedwon' } });

    // assess
    await eventually(() => receiver.requests.length >= 3 && sandbox.pendingWebhooks() === 0);
    const attempts = receiver.requests.map((request) => JSON.parse(request.body)[0] as { eventId: number; attemptNumber: number });
    expect(attempts.map((event) => event.attemptNumber)).toStrictEqual([0, 1, 2]);
    expect(new Set(attempts.map((event) => event.eventId)).size).toBe(1);
    expect(sandbox.deliveries().map((delivery) => delivery.outcome)).toStrictEqual(['retrying', 'retrying', 'delivered']);
    expect(sandbox.deliveries()[0]?.status).toBe(500);
  });

  it('gives an event up once its retries are used', async () => {
    // prepare
    const receiver = await startReceiver([500, 429, 503]);
    const sandbox = await startSandbox({ webhookUrl: receiver.url, retryDelaysMs: [10, 10] });

    // act
    await official(sandbox).crm.deals.basicApi.update('4003', { properties: { dealstage: 'closedlost' } });

    // assess
    await eventually(() => sandbox.deliveries().length >= 3);
    expect(sandbox.deliveries().map((delivery) => delivery.outcome)).toStrictEqual(['retrying', 'retrying', 'abandoned']);
    expect(sandbox.pendingWebhooks()).toBe(0);
  });

  it('keeps undelivered events across a restart and delivers them afterwards', async () => {
    // prepare: the first receiver fails, the sandbox stops before the retry
    const dataDir = await temporaryDirectory();
    const failing = await startReceiver([500]);
    const first = await startSandbox({ dataDir, webhookUrl: failing.url, retryDelaysMs: [1_000] });
    await official(first).crm.deals.basicApi.update('4002', { properties: { dealstage: 'closedwon' } });
    await eventually(() => first.deliveries().length === 1);
    await first.close();

    // act
    const working = await startReceiver();
    const second = await startSandbox({ dataDir, webhookUrl: working.url, retryDelaysMs: [1_000] });

    // assess
    await eventually(() => working.requests.length >= 1);
    const [event] = JSON.parse(working.requests[0]!.body) as { objectId: number; propertyValue: string; attemptNumber: number }[];
    expect(event).toMatchObject({ objectId: 4002, propertyValue: 'closedwon', attemptNumber: 1 });
    expect(failing.requests).toHaveLength(1);
    await eventually(() => second.pendingWebhooks() === 0);
  });
});

describe('state', () => {
  it('survives a restart with the same data directory', async () => {
    // prepare
    const dataDir = await temporaryDirectory();
    const first = await startSandbox({ dataDir });
    await official(first).crm.deals.basicApi.update('4001', { properties: { erp_order_ref: 'S00099', dealstage: 'closedwon' } });
    await first.close();

    // act
    const second = await startSandbox({ dataDir });
    const deal = await official(second).crm.deals.basicApi.getById('4001', ['erp_order_ref', 'dealstage']);

    // assess
    expect(deal.properties).toMatchObject({ erp_order_ref: 'S00099', dealstage: 'closedwon' });
  });

  it('starts from the seed without a data directory', async () => {
    // prepare
    const first = await startSandbox();
    await official(first).crm.deals.basicApi.update('4001', { properties: { dealstage: 'closedwon' } });

    // act
    const second = await startSandbox();
    const deal = await official(second).crm.deals.basicApi.getById('4001', ['dealstage']);

    // assess
    expect(deal.properties['dealstage']).toBe('appointmentscheduled');
  });
});

describe('HubSpot API shapes', () => {
  it('answers a wrong token with a HubSpot-shaped 401', async () => {
    // prepare
    const sandbox = await startSandbox();

    // act
    const error = await failure(official(sandbox, 'pat-na1-wrong').crm.deals.basicApi.getById('4001'));

    // assess
    expect(error.code).toBe(401);
    expect(error.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect((error.body as { correlationId?: unknown }).correlationId).toEqual(expect.any(String));
  });

  it('answers an unknown id with the body HubSpot sends', async () => {
    // prepare
    const sandbox = await startSandbox();
    const expected = JSON.parse(readFileSync(new URL('../fixtures/hubspot/error-404-object-not-found.json', import.meta.url), 'utf8'));

    // act
    const response = await fetch(`${sandbox.url}/crm/v3/objects/deals/999`, { headers: { authorization: `Bearer ${TOKEN}` } });

    // assess
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toStrictEqual({ ...expected, correlationId: expect.any(String) });
  });

  it('lists a deal\'s associations under HubSpot\'s keys, primary company first', async () => {
    // prepare
    const sandbox = await startSandbox();

    // act
    const deal = await official(sandbox).crm.deals.basicApi.getById('4001', undefined, undefined, ['companies', 'line_items', 'contacts']);

    // assess
    expect(Object.keys(deal.associations ?? {}).sort()).toStrictEqual(['companies', 'contacts', 'line items']);
    expect(deal.associations?.['companies']?.results[0]).toMatchObject({ id: '2001', type: 'deal_to_company' });
    expect(deal.associations?.['line items']?.results.map((link) => link.id)).toStrictEqual(['5001', '5002']);
    expect(deal.properties).toMatchObject({ dealname: 'Acme – widgets and installation', amount: '592.00', pipeline: 'default' });
  });

  it('answers a batch read with a missing id as 207 with the id in the error', async () => {
    // prepare
    const sandbox = await startSandbox();

    // act
    const batch = await official(sandbox).crm.lineItems.batchApi.read({
      inputs: [{ id: '5001' }, { id: '9999' }],
      properties: ['hs_sku'],
      propertiesWithHistory: [],
    });

    // assess
    expect(batch.results.map((record) => record.properties['hs_sku'])).toStrictEqual(['WIDGET-1']);
    expect('errors' in batch ? batch.errors?.[0]?.context : undefined).toStrictEqual({ ids: ['9999'] });
  });

  it('rejects a write to a property the portal lacks, as HubSpot does', async () => {
    // prepare
    const sandbox = await startSandbox();

    // act
    const error = await failure(
      official(sandbox).crm.deals.basicApi.update('4001', { properties: { erp_status: 'teleported', no_such_property: 'x' } }),
    );

    // assess
    expect(error.code).toBe(400);
    expect(error.body).toMatchObject({ category: 'VALIDATION_ERROR' });
    expect((error.body as { message: string }).message).toContain('PROPERTY_DOESNT_EXIST');
    expect((error.body as { message: string }).message).toContain('INVALID_OPTION');
  });

  it('pages a list with paging.next.after', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);

    // act
    const first = await client.crm.deals.basicApi.getPage(2);
    const second = await client.crm.deals.basicApi.getPage(2, first.paging?.next?.after);

    // assess
    expect(first.results.map((deal) => deal.id)).toStrictEqual(['4001', '4002']);
    expect(second.results.map((deal) => deal.id)).toStrictEqual(['4003']);
    expect(second.paging).toBeUndefined();
  });
});

describe('faults', () => {
  it('fails the next call of the named operation with 429 and Retry-After, then serves again', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);
    const added = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ count: 1, kind: '429', operation: 'PATCH /crm/v3/objects/deals', retryAfterSeconds: 3 }),
    });

    // act
    const read = await client.crm.deals.basicApi.getById('4001');
    const error = await failure(client.crm.deals.basicApi.update('4001', { properties: { erp_status: 'paid' } }));
    const retried = await client.crm.deals.basicApi.update('4001', { properties: { erp_status: 'paid' } });

    // assess
    expect(added.status).toBe(201);
    expect(read.id).toBe('4001');
    expect(error.code).toBe(429);
    expect(error.headers?.['retry-after']).toBe('3');
    expect(retried.properties['erp_status']).toBe('paid');
  });

  it('holds a timed-out call until close(), which ends it', async () => {
    // prepare
    const sandbox = await startHubspotSandbox({ accessToken: TOKEN, clientSecret: SECRET });
    await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ count: 1, kind: 'timeout', operation: 'GET /crm/v3/objects/deals' }),
    });
    const held = official(sandbox).crm.deals.basicApi.getById('4001').then(
      () => 'answered',
      () => 'ended',
    );
    const beforeClose = await Promise.race([held, sleep(200).then(() => 'pending')]);

    // act
    await sandbox.close();

    // assess
    expect(beforeClose).toBe('pending');
    expect(await held).toBe('ended');
  });

  it('close() leaves no timer or socket behind, so a process with a retry pending can exit', async () => {
    // prepare: a child process whose only delivery failed and whose retry is a minute away
    const directory = await temporaryDirectory();
    const script = join(directory, 'close-and-exit.mts');
    const sandboxModule = new URL('../../local/sandbox/hubspot/server.ts', import.meta.url).href;
    await writeFile(
      script,
      [
        "import http from 'node:http';",
        `import { startHubspotSandbox } from '${sandboxModule}';`,
        "const receiver = http.createServer((request, response) => { request.resume(); request.on('end', () => response.writeHead(500).end()); });",
        "await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));",
        "const webhookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;",
        `const sandbox = await startHubspotSandbox({ accessToken: 't', clientSecret: 's', webhookUrl, retryDelaysMs: [60_000] });`,
        "await fetch(`${sandbox.url}/crm/v3/objects/deals/4001`, { method: 'PATCH', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: JSON.stringify({ properties: { dealstage: 'closedwon' } }) });",
        'while (sandbox.deliveries().length < 1) await new Promise((resolve) => setTimeout(resolve, 10));',
        'await sandbox.close();',
        'receiver.close();',
        'receiver.closeAllConnections();',
        "console.log(`closed after ${sandbox.deliveries()[0]?.outcome}`);",
      ].join('\n'),
    );

    // act: the child must end by itself, long before the pending retry
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];

    // assess
    expect(output).toContain('closed after retrying');
    expect({ code, signal }).toStrictEqual({ code: 0, signal: null });
  });

  it('clears pending faults on DELETE', async () => {
    // prepare
    const sandbox = await startSandbox();
    await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ count: 5, kind: '500' }) });

    // act
    const cleared = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'DELETE' });
    const deal = await official(sandbox).crm.deals.basicApi.getById('4002');

    // assess
    expect(cleared.status).toBe(204);
    expect(deal.id).toBe('4002');
  });
});
