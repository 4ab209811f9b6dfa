/**
 * Creating records in the HubSpot sandbox through the official client, as a
 * salesperson's CRM would: deals with associations, line items in batches, contacts,
 * companies; HubSpot's validation and error shapes; the stage webhook of a deal
 * created in `closedwon`; faults and restarts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssociationTypes, Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum as CompanyCategory } from '@hubspot/api-client/lib/codegen/crm/companies/index.js';
import { AssociationSpecAssociationCategoryEnum as ContactCategory } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import { AssociationSpecAssociationCategoryEnum as DealCategory } from '@hubspot/api-client/lib/codegen/crm/deals/index.js';
import { AssociationSpecAssociationCategoryEnum as LineItemCategory } from '@hubspot/api-client/lib/codegen/crm/line_items/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { HubspotCrm } from '../../functions/connectors/crm/hubspot/index.ts';
import {
  HubspotWebhookBatch,
  toHubEvents,
  verifyHubspotSignatureV3,
} from '../../functions/connectors/crm/hubspot/webhook.ts';
import { DEAL_STAGE_CHANGED } from '../../functions/core/events.ts';
import { startHubspotSandbox, type HubspotSandbox, type HubspotSandboxOptions } from '../../local/sandbox/hubspot/server.ts';

const TOKEN = 'pat-na1-sandbox-token';
const SECRET = 'app-client-secret';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startSandbox(options: Partial<HubspotSandboxOptions> = {}): Promise<HubspotSandbox> {
  const sandbox = await startHubspotSandbox({ port: 0, accessToken: TOKEN, clientSecret: SECRET, ...options });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'harmony-hubspot-create-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

function official(sandbox: HubspotSandbox): Client {
  return new Client({ accessToken: TOKEN, basePath: sandbox.url });
}

interface Received {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook endpoint that answers 200 and keeps what it received. */
async function startReceiver(): Promise<{ readonly url: string; readonly requests: Received[] }> {
  const requests: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${port}/webhooks/hubspot`, requests };
}

async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
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

async function addFault(sandbox: HubspotSandbox, fault: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify(fault) });
  expect(response.status).toBe(201);
}

/** An association list as plain `{id, type}` pairs (the client returns model instances). */
function links(list: { readonly results: readonly { id: string; type: string }[] } | undefined): { id: string; type: string }[] {
  return (list?.results ?? []).map(({ id, type }) => ({ id, type }));
}

/** Every deal id in the portal, through the official client. */
async function dealIds(client: Client): Promise<string[]> {
  const page = await client.crm.deals.basicApi.getPage(100);
  return page.results.map((deal) => deal.id);
}

const toCompany = (id: string, associationTypeId: number = AssociationTypes.primaryDealToCompany) => ({
  to: { id },
  types: [{ associationCategory: DealCategory.HubspotDefined, associationTypeId }],
});
const toContact = (id: string) => ({
  to: { id },
  types: [{ associationCategory: DealCategory.HubspotDefined, associationTypeId: AssociationTypes.dealToContact }],
});
const toDeal = (id: string) => ({
  to: { id },
  types: [{ associationCategory: LineItemCategory.HubspotDefined, associationTypeId: AssociationTypes.lineItemToDeal }],
});

describe('POST /crm/v3/objects/deals', () => {
  it('creates a deal with a new id and HubSpot\'s system properties, associated both ways', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);
    const before = Date.now();

    // act
    const created = await client.crm.deals.basicApi.create({
      properties: { dealname: 'Acme – spring order', dealstage: 'qualifiedtobuy', amount: '120.50', deal_currency_code: 'EUR' },
      associations: [toCompany('2001'), toContact('3001')],
    });

    // assess
    expect(created.id).toMatch(/^\d+$/);
    expect(['4001', '4002', '4003']).not.toContain(created.id);
    expect(created.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(created.updatedAt).toStrictEqual(created.createdAt);
    expect(created.properties).toMatchObject({
      hs_object_id: created.id,
      dealname: 'Acme – spring order',
      dealstage: 'qualifiedtobuy',
      amount: '120.50',
      pipeline: 'default',
      createdate: created.createdAt.toISOString(),
    });
    const deal = await client.crm.deals.basicApi.getById(created.id, undefined, undefined, ['companies', 'contacts']);
    expect(links(deal.associations?.['companies'])).toStrictEqual([
      { id: '2001', type: 'deal_to_company' },
      { id: '2001', type: 'deal_to_company_unlabeled' },
    ]);
    expect(links(deal.associations?.['contacts'])).toStrictEqual([{ id: '3001', type: 'deal_to_contact' }]);
    const company = await client.crm.companies.basicApi.getById('2001', undefined, undefined, ['deals']);
    expect(links(company.associations?.['deals'])).toContainEqual({ id: created.id, type: 'company_to_deal' });
  });

  it('gives every created record its own id, also across types', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);

    // act
    const first = await client.crm.deals.basicApi.create({ properties: { dealname: 'one' }, associations: [] });
    const company = await client.crm.companies.basicApi.create({ properties: { name: 'Initech' }, associations: [] });
    const second = await client.crm.deals.basicApi.create({ properties: { dealname: 'two' }, associations: [] });

    // assess
    expect(new Set([first.id, company.id, second.id]).size).toBe(3);
    expect(await dealIds(client)).toStrictEqual(['4001', '4002', '4003', first.id, second.id]);
  });

  it('rejects invalid properties as the PATCH route does, and creates nothing', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);

    // act
    const error = await failure(
      client.crm.deals.basicApi.create({
        properties: { dealname: 'bad', dealstage: 'teleported', amount: '12,00', no_such_property: 'x', hs_object_id: '1' },
        associations: [],
      }),
    );

    // assess
    expect(error.code).toBe(400);
    expect(error.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    const message = (error.body as { message: string }).message;
    for (const code of ['INVALID_OPTION', 'INVALID_FLOAT', 'PROPERTY_DOESNT_EXIST', 'READ_ONLY_VALUE']) {
      expect(message).toContain(code);
    }
    expect(await dealIds(client)).toStrictEqual(['4001', '4002', '4003']);
  });

  it('answers an unknown association type with HubSpot\'s 400 and creates nothing', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);

    // act
    const unknown = await failure(
      client.crm.deals.basicApi.create({ properties: { dealname: 'x' }, associations: [toCompany('2001', 999)] }),
    );
    const custom = await failure(
      client.crm.deals.basicApi.create({
        properties: { dealname: 'x' },
        associations: [{ to: { id: '2001' }, types: [{ associationCategory: DealCategory.UserDefined, associationTypeId: 5 }] }],
      }),
    );

    // assess
    expect(unknown.code).toBe(400);
    expect(unknown.body).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      message: 'One or more associations are invalid',
      context: {
        associationSpec: ['HUBSPOT_DEFINED=999'],
        INVALID_ASSOCIATION_TYPE_ID: ['HUBSPOT_DEFINED=999 is not a valid association definition id'],
      },
    });
    expect(custom.body).toMatchObject({ context: { INVALID_ASSOCIATION_TYPE_ID: ['USER_DEFINED=5 is not a valid association definition id'] } });
    expect(await dealIds(client)).toStrictEqual(['4001', '4002', '4003']);
  });

  it('answers a type of the wrong direction and a missing target with 400s', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);

    // act: 20 is line item → deal, not deal → something; company 9999 does not exist
    const wrongDirection = await failure(
      client.crm.deals.basicApi.create({ properties: { dealname: 'x' }, associations: [toCompany('2001', AssociationTypes.lineItemToDeal)] }),
    );
    const missing = await failure(client.crm.deals.basicApi.create({ properties: { dealname: 'x' }, associations: [toCompany('9999')] }));

    // assess
    expect(wrongDirection.code).toBe(400);
    expect(wrongDirection.body).toMatchObject({
      category: 'VALIDATION_ERROR',
      message: 'invalid from object type 0-3 for associations to be created. expected: 0-8',
    });
    expect(missing.code).toBe(400);
    expect(missing.body).toMatchObject({
      message: 'One or more associations are invalid',
      context: { INVALID_OBJECT_IDS: ['COMPANY=9999 is not valid'], objectId: ['9999'], objectType: ['COMPANY'] },
    });
    expect(await dealIds(client)).toStrictEqual(['4001', '4002', '4003']);
  });
});

describe('POST /crm/v3/objects/line_items/batch/create', () => {
  it('creates line items that copy their product or take explicit values, in HubSpot\'s batch shape', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);
    const deal = await client.crm.deals.basicApi.create({ properties: { dealname: 'Order 1' }, associations: [toCompany('2002')] });

    // act
    const batch = await client.crm.lineItems.batchApi.create({
      inputs: [
        { properties: { hs_product_id: '1001', quantity: '3' }, associations: [toDeal(deal.id)], objectWriteTraceId: 'line-1' },
        {
          properties: { hs_product_id: '1002', quantity: '2', name: 'Gadget (gift box)', price: '139.90', hs_sku: 'GADGET-2-GIFT', hs_discount_percentage: '10' },
          associations: [toDeal(deal.id)],
          objectWriteTraceId: 'line-2',
        },
      ],
    });

    // assess
    expect(batch.status).toBe('COMPLETE');
    expect(batch.startedAt).toBeInstanceOf(Date);
    expect(batch.completedAt.getTime()).toBeGreaterThanOrEqual(batch.startedAt.getTime());
    expect(batch.results.map((line) => line.objectWriteTraceId)).toStrictEqual(['line-1', 'line-2']);
    expect(batch.results[0]?.properties).toMatchObject({ name: 'Widget', price: '25.00', hs_sku: 'WIDGET-1', quantity: '3', amount: '75.00' });
    expect(batch.results[1]?.properties).toMatchObject({ name: 'Gadget (gift box)', price: '139.90', hs_sku: 'GADGET-2-GIFT', amount: '251.82' });
    const lineIds = batch.results.map((line) => line.id);
    const read = await client.crm.deals.basicApi.getById(deal.id, undefined, undefined, ['line_items']);
    expect(links(read.associations?.['line items'])).toStrictEqual(lineIds.map((id) => ({ id, type: 'deal_to_line_item' })));
    const line = await client.crm.lineItems.basicApi.getById(lineIds[0]!, undefined, undefined, ['deals']);
    expect(links(line.associations?.['deals'])).toStrictEqual([{ id: deal.id, type: 'line_item_to_deal' }]);
  });

  it('creates nothing when one input is invalid', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);

    // act
    const error = await failure(
      client.crm.lineItems.batchApi.create({
        inputs: [
          { properties: { hs_product_id: '1001', quantity: '1' }, associations: [toDeal('4001')] },
          { properties: { hs_product_id: '4242', quantity: '1' }, associations: [toDeal('4001')] },
        ],
      }),
    );

    // assess
    expect(error.code).toBe(400);
    expect((error.body as { message: string }).message).toContain('hs_product_id');
    const deal = await client.crm.deals.basicApi.getById('4001', undefined, undefined, ['line_items']);
    expect(links(deal.associations?.['line items']).map((link) => link.id)).toStrictEqual(['5001', '5002']);
  });

  it('refuses more than 100 inputs', async () => {
    // prepare
    const sandbox = await startSandbox();
    const inputs = Array.from({ length: 101 }, () => ({ properties: { name: 'x', quantity: '1', price: '1' }, associations: [] }));

    // act
    const error = await failure(official(sandbox).crm.lineItems.batchApi.create({ inputs }));

    // assess
    expect(error.code).toBe(400);
    expect(error.body).toMatchObject({ category: 'VALIDATION_ERROR', message: 'Batch input size 101 exceeds the limit of 100' });
  });
});

describe('other created types', () => {
  it('creates a deal in batch, then a company that becomes its primary company', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);
    const deals = await client.crm.deals.batchApi.create({
      inputs: [{ properties: { dealname: 'Batch deal' }, associations: [toCompany('2001')] }],
    });
    const dealId = deals.results[0]!.id;

    // act: 6 = primary company → deal
    const company = await client.crm.companies.basicApi.create({
      properties: { name: 'Initech SA', country: 'France', vat_number: 'FR12345678901' },
      associations: [{ to: { id: dealId }, types: [{ associationCategory: CompanyCategory.HubspotDefined, associationTypeId: AssociationTypes.primaryCompanyToDeal }] }],
    });

    // assess: the previous primary company keeps only its unlabeled association
    const deal = await client.crm.deals.basicApi.getById(dealId, undefined, undefined, ['companies']);
    expect(links(deal.associations?.['companies'])).toStrictEqual([
      { id: '2001', type: 'deal_to_company_unlabeled' },
      { id: company.id, type: 'deal_to_company' },
      { id: company.id, type: 'deal_to_company_unlabeled' },
    ]);
    const previous = await client.crm.companies.basicApi.getById('2001', undefined, undefined, ['deals']);
    expect(links(previous.associations?.['deals']).filter((link) => link.id === dealId)).toStrictEqual([
      { id: dealId, type: 'company_to_deal_unlabeled' },
    ]);
  });

  it('creates a contact and answers a second one with the same email with HubSpot\'s 409', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);
    const contact = await client.crm.contacts.basicApi.create({
      properties: { email: 'lena.berg@example.com', firstname: 'Lena', lastname: 'Berg' },
      associations: [{ to: { id: '2001' }, types: [{ associationCategory: ContactCategory.HubspotDefined, associationTypeId: AssociationTypes.primaryContactToCompany }] }],
    });

    // act
    const duplicate = await failure(
      client.crm.contacts.basicApi.create({ properties: { email: 'Lena.Berg@example.com' }, associations: [] }),
    );

    // assess
    expect(duplicate.code).toBe(409);
    expect(duplicate.body).toMatchObject({ category: 'CONFLICT', message: `Contact already exists. Existing ID: ${contact.id}` });
    const read = await client.crm.contacts.basicApi.getById(contact.id, undefined, undefined, ['companies']);
    expect(links(read.associations?.['companies']).map((link) => link.type)).toStrictEqual([
      'contact_to_company',
      'contact_to_company_unlabeled',
    ]);
  });

  it('creates a deal Harmony\'s adapter loads like a seeded one', async () => {
    // prepare: a private buyer's deal, created as a salesperson's CRM would
    const sandbox = await startSandbox();
    const client = official(sandbox);
    const contact = await client.crm.contacts.basicApi.create({
      properties: { email: 'jan.novak@example.com', firstname: 'Jan', lastname: 'Novák', city: 'Praha', country: 'Czechia' },
      associations: [],
    });
    const deal = await client.crm.deals.basicApi.create({
      properties: { dealname: 'Jan Novák – widgets', dealstage: 'contractsent', deal_currency_code: 'EUR' },
      associations: [toContact(contact.id)],
    });
    await client.crm.lineItems.batchApi.create({
      inputs: [
        { properties: { hs_product_id: '1001', quantity: '4' }, associations: [toDeal(deal.id)] },
        { properties: { hs_product_id: '1003', quantity: '1', hs_discount_percentage: '50' }, associations: [toDeal(deal.id)] },
      ],
    });

    // act
    const loaded = await new HubspotCrm({ accessToken: TOKEN, basePath: sandbox.url }).getDeal(deal.id);

    // assess
    expect(loaded).toMatchObject({
      id: deal.id,
      stage: 'contractsent',
      amount: 147.5,
      customer: { externalId: `hubspot:contact:${contact.id}`, kind: 'person', name: 'Jan Novák' },
      lines: [
        { sku: 'WIDGET-1', name: 'Widget', quantity: 4, unitPrice: 25 },
        { sku: 'SERVICE-HOUR', name: 'Service hour', quantity: 1, unitPrice: 95, discountPercent: 50 },
      ],
    });
  });
});

describe('webhooks of created deals', () => {
  it('sends the signed deal.propertyChange of a deal created in closedwon, as for a PATCH', async () => {
    // prepare
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url, portalId: 777 });
    const client = official(sandbox);

    // act
    const deal = await client.crm.deals.basicApi.create({
      properties: { dealname: 'Won on the phone', dealstage: 'closedwon' },
      associations: [toCompany('2001')],
    });

    // assess
    await eventually(() => receiver.requests.length >= 1);
    const request = receiver.requests[0]!;
    const verdict = verifyHubspotSignatureV3({
      method: 'POST',
      uri: `${new URL(receiver.url).origin}${request.url}`,
      body: request.body,
      timestamp: request.headers['x-hubspot-request-timestamp'] as string | undefined,
      signature: request.headers['x-hubspot-signature-v3'] as string | undefined,
      clientSecret: SECRET,
    });
    expect(verdict).toStrictEqual({ valid: true });
    expect(JSON.parse(request.body)).toMatchObject([
      { subscriptionType: 'deal.propertyChange', objectId: Number(deal.id), propertyName: 'dealstage', propertyValue: 'closedwon', changeSource: 'API' },
    ]);
    expect(toHubEvents(HubspotWebhookBatch.parse(JSON.parse(request.body)))).toMatchObject([
      { detailType: DEAL_STAGE_CHANGED, detail: { accountId: '777', dealId: deal.id, stage: 'closedwon' } },
    ]);
  });

  it('sends one event per deal of a batch, and none for a deal created without a stage', async () => {
    // prepare
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url });
    const client = official(sandbox);

    // act
    const batch = await client.crm.deals.batchApi.create({
      inputs: [
        { properties: { dealname: 'a', dealstage: 'closedwon' }, associations: [] },
        { properties: { dealname: 'b' }, associations: [] },
        { properties: { dealname: 'c', dealstage: 'appointmentscheduled' }, associations: [] },
      ],
    });

    // assess
    await eventually(() => receiver.requests.length >= 1 && sandbox.pendingWebhooks() === 0);
    const events = receiver.requests.flatMap((request) => JSON.parse(request.body) as { objectId: number; propertyValue: string }[]);
    const [a, , c] = batch.results.map((deal) => Number(deal.id));
    expect(events.map((event) => [event.objectId, event.propertyValue])).toStrictEqual([
      [a, 'closedwon'],
      [c, 'appointmentscheduled'],
    ]);
  });
});

describe('faults and restarts', () => {
  it('fails a create with an injected 429 before writing anything, then creates on retry', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);
    await addFault(sandbox, { count: 1, kind: '429', operation: 'POST /crm/v3/objects/deals', retryAfterSeconds: 2 });

    // act
    const error = await failure(client.crm.deals.basicApi.create({ properties: { dealname: 'retry me' }, associations: [] }));
    const retried = await client.crm.deals.basicApi.create({ properties: { dealname: 'retry me' }, associations: [] });

    // assess
    expect(error.code).toBe(429);
    expect(error.headers?.['retry-after']).toBe('2');
    expect(await dealIds(client)).toStrictEqual(['4001', '4002', '4003', retried.id]);
  });

  it('names the batch create operation for faults', async () => {
    // prepare
    const sandbox = await startSandbox();
    const client = official(sandbox);
    await addFault(sandbox, { count: 1, kind: '500', operation: 'POST /crm/v3/objects/line_items/batch/create' });
    const inputs = [{ properties: { hs_product_id: '1001', quantity: '1' }, associations: [toDeal('4002')] }];

    // act
    const single = await client.crm.lineItems.basicApi.create(inputs[0]!);
    const error = await failure(client.crm.lineItems.batchApi.create({ inputs }));
    const retried = await client.crm.lineItems.batchApi.create({ inputs });

    // assess
    expect(single.id).toMatch(/^\d+$/);
    expect(error.code).toBe(500);
    expect(retried.results).toHaveLength(1);
  });

  it('keeps created records and the id counter across a restart', async () => {
    // prepare
    const dataDir = await temporaryDirectory();
    const first = await startSandbox({ dataDir });
    const before = await official(first).crm.deals.basicApi.create({ properties: { dealname: 'before restart' }, associations: [] });
    await first.close();

    // act
    const second = await startSandbox({ dataDir });
    const client = official(second);
    const after = await client.crm.deals.basicApi.create({ properties: { dealname: 'after restart' }, associations: [] });

    // assess
    expect((await client.crm.deals.basicApi.getById(before.id, ['dealname'])).properties['dealname']).toBe('before restart');
    expect(Number(after.id)).toBeGreaterThan(Number(before.id));
  });
});
