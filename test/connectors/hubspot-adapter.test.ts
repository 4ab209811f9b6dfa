/**
 * The HubSpot adapter against the HubSpot sandbox, through the official client:
 * mapping of seeded deals, write-back, and the error family of every failure.
 */
import { readFileSync } from 'node:fs';
import { Client } from '@hubspot/api-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { HubspotCrm } from '../../functions/connectors/crm/hubspot/index.ts';
import type { Deal } from '../../functions/connectors/crm/port.ts';
import { startHubspotSandbox, type HubspotSandbox } from '../../local/sandbox/hubspot/server.ts';
import { rejection } from '../support/failure.ts';

const TOKEN = 'pat-na1-sandbox-token';
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/hubspot/${name}`, import.meta.url), 'utf8'));

let sandbox: HubspotSandbox;
let crm: HubspotCrm;

beforeEach(async () => {
  sandbox = await startHubspotSandbox({ accessToken: TOKEN, clientSecret: 'secret' });
  crm = new HubspotCrm({ accessToken: TOKEN, basePath: sandbox.url, timeoutMs: 500 });
});

afterEach(async () => {
  await sandbox.close();
});

async function control(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${sandbox.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(201);
}

function officialClient(): Client {
  return new Client({ accessToken: TOKEN, basePath: sandbox.url });
}

describe('getDeal', () => {
  it('maps a seeded deal with company, contact and line items', async () => {
    // prepare: deal 4001 is seeded with company 2001, contact 3001 and line items 5001, 5002

    // act
    const deal = await crm.getDeal('4001');

    // assess
    const expected: Deal = {
      id: '4001',
      name: 'Acme – widgets and installation',
      stage: 'appointmentscheduled',
      amount: 592,
      currency: 'EUR',
      closeDate: '2026-03-31T00:00:00.000Z',
      customer: {
        externalId: 'hubspot:company:2001',
        kind: 'company',
        name: 'Acme Industrie GmbH',
        phone: '+49 30 1234567',
        vatNumber: 'DE123456789',
        address: { street: 'Hauptstraße 1', city: 'Berlin', postalCode: '10115', countryCode: 'DE' },
      },
      contact: {
        externalId: 'hubspot:contact:3001',
        kind: 'person',
        name: 'Anna Schmidt',
        email: 'anna.schmidt@acme.example',
        phone: '+49 30 1234568',
      },
      lines: [
        { sku: 'WIDGET-1', name: 'Widget', quantity: 10, unitPrice: 25 },
        { sku: 'SERVICE-HOUR', name: 'Service hour', quantity: 4, unitPrice: 95, discountPercent: 10 },
      ],
    };
    expect(deal).toStrictEqual(expected);
  });

  it('takes the contact as customer when no company is associated, and turns a unit discount into a percentage', async () => {
    // prepare: deal 4003 has contact 3003 only; line 5005 has a 14.99 unit discount on 149.90

    // act
    const deal = await crm.getDeal('4003');

    // assess
    expect(deal.customer).toStrictEqual({
      externalId: 'hubspot:contact:3003',
      kind: 'person',
      name: 'Maria Rossi',
      email: 'maria.rossi@example.com',
      phone: '+39 02 555 0101',
      address: { street: 'Via Roma 1', city: 'Milano', postalCode: '20121', countryCode: 'IT' },
    });
    expect(deal.contact?.externalId).toBe('hubspot:contact:3003');
    expect(deal.lines[1]).toStrictEqual({ sku: 'GADGET-2', name: 'Gadget', quantity: 1, unitPrice: 149.9, discountPercent: 10 });
    expect(deal.amount).toBe(159.91);
  });

  it('reads the VAT number from the configured company property', async () => {
    // prepare: the portal keeps VAT numbers in `domain` for this test's sake
    const custom = new HubspotCrm({ accessToken: TOKEN, basePath: sandbox.url, vatProperty: 'domain' });

    // act
    const deal = await custom.getDeal('4002');

    // assess
    expect(deal.customer.vatNumber).toBe('globex.example');
  });

  it('rejects a line item without hs_sku with a PermanentError naming the line', async () => {
    // prepare: clear the SKU of the second line of deal 4001
    await officialClient().crm.lineItems.basicApi.update('5002', { properties: { hs_sku: '' } });

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('line_items[1] (id 5002, "Service hour").properties.hs_sku');
  });

  it('turns an unknown deal into a PermanentError with HubSpot message and category', async () => {
    // act
    const error = await rejection(crm.getDeal('999'));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('404');
    expect((error as Error).message).toMatch(/404 OBJECT_NOT_FOUND: Object not found\.\s+objectId are usually numeric/);
  });

  it('turns a wrong token into a PermanentError', async () => {
    // prepare
    const intruder = new HubspotCrm({ accessToken: 'pat-na1-wrong', basePath: sandbox.url });

    // act
    const error = await rejection(intruder.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('401');
    expect((error as Error).message).toContain('INVALID_AUTHENTICATION');
  });

  it('turns a 429 with Retry-After into a RetryableError carrying retryAfterSeconds', async () => {
    // prepare
    await control('/__sandbox/faults', { count: 1, kind: '429', operation: 'GET /crm/v3/objects/deals', retryAfterSeconds: 7 });

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterSeconds).toBe(7);
    expect((error as RetryableError).code).toBe('429');
    expect((error as Error).name).toBe('RetryableError');
  });

  it('derives the wait of a 429 without Retry-After from HubSpot\'s policy name', async () => {
    // prepare: HubSpot's documented ten-second-limit body, no Retry-After header
    await control('/__sandbox/responses', {
      operation: 'GET /crm/v3/objects/deals',
      status: 429,
      body: fixture('error-429-ten-secondly-rolling.json'),
    });

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterSeconds).toBe(10);
    expect((error as Error).message).toContain('RATE_LIMIT');
  });

  it('waits a second after the secondly limit recorded from HubSpot, which names no policy', async () => {
    // prepare
    await control('/__sandbox/responses', {
      operation: 'GET /crm/v3/objects/deals',
      status: 429,
      body: fixture('error-429-secondly-recorded.json'),
    });

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterSeconds).toBe(1);
  });

  it('turns HubSpot\'s documented validation error into a PermanentError with message, category and correlation id', async () => {
    // prepare
    await control('/__sandbox/responses', { operation: 'PATCH /crm/v3/objects/deals', status: 400, body: fixture('error-docs-example.json') });

    // act
    const error = await rejection(crm.updateDeal('4001', { erpStatus: 'confirmed' }));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toBe(
      'HubSpot PATCH deal 4001 failed: 400 VALIDATION_ERROR: This will be a human readable message with details about the error. (correlationId a43683b0-5717-4ceb-80b4-104d02915d8c)',
    );
  });

  it('turns a 500 into a RetryableError, and succeeds once the fault is gone', async () => {
    // prepare: the line items batch read fails once
    await control('/__sandbox/faults', { count: 1, kind: '500', operation: 'POST /crm/v3/objects/line_items/batch/read' });

    // act
    const error = await rejection(crm.getDeal('4001'));
    const retried = await crm.getDeal('4001');

    // assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('500');
    expect(retried.lines).toHaveLength(2);
  });

  it('turns a call that never answers into a RetryableError within the timeout', async () => {
    // prepare
    await control('/__sandbox/faults', { count: 1, kind: 'timeout', operation: 'GET /crm/v3/objects/companies' });

    // act
    const started = Date.now();
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('turns a refused connection into a RetryableError', async () => {
    // prepare: nothing listens any more
    await sandbox.close();

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('ECONNREFUSED');
  });

  it('turns a malformed vendor response into a PermanentError naming the path', async () => {
    // prepare: HubSpot answers 200 with `properties: null`
    await control('/__sandbox/responses', {
      operation: 'GET /crm/v3/objects/deals',
      body: { id: '4001', properties: null, createdAt: '2026-01-05T09:00:00.000Z', updatedAt: '2026-01-05T09:00:00.000Z' },
    });

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('deal.properties:');
  });

  it('turns a property of the wrong format into a PermanentError naming the property and the value', async () => {
    // prepare
    await control('/__sandbox/responses', {
      operation: 'GET /crm/v3/objects/deals',
      body: {
        id: '4001',
        properties: { dealname: 'x', dealstage: 'closedwon', amount: '12,00', deal_currency_code: 'EUR' },
        associations: { contacts: { results: [{ id: '3001', type: 'deal_to_contact' }] } },
      },
    });

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('deal.properties.amount: expected a number, got "12,00"');
  });

  it('turns a batch read that misses a line item into a PermanentError naming the id', async () => {
    // prepare: HubSpot's 207 with an OBJECT_NOT_FOUND error for 5002
    await control('/__sandbox/responses', {
      operation: 'POST /crm/v3/objects/line_items/batch/read',
      status: 207,
      body: {
        status: 'COMPLETE',
        results: [{ id: '5001', properties: { name: 'Widget', hs_sku: 'WIDGET-1', quantity: '1', price: '25' } }],
        numErrors: 1,
        errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some LINE_ITEM objects', context: { ids: ['5002'] } }],
        startedAt: '2026-01-05T09:00:00.000Z',
        completedAt: '2026-01-05T09:00:00.100Z',
      },
    });

    // act
    const error = await rejection(crm.getDeal('4001'));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('no record for id 5002');
  });
});

describe('updateDeal', () => {
  it('writes the ERP reference and status, visible through the official client', async () => {
    // act
    await crm.updateDeal('4002', { erpOrderRef: 'S00042', erpStatus: 'confirmed' });

    // assess
    const deal = await officialClient().crm.deals.basicApi.getById('4002', ['erp_order_ref', 'erp_status', 'erp_sync_error']);
    expect(deal.properties).toMatchObject({ erp_order_ref: 'S00042', erp_status: 'confirmed', erp_sync_error: null });
  });

  it('changes nothing when the same update is written twice', async () => {
    // prepare
    await crm.updateDeal('4002', { erpOrderRef: 'S00042', erpStatus: 'confirmed' });
    const client = officialClient();
    const first = await client.crm.deals.basicApi.getById('4002', ['erp_order_ref', 'erp_status']);

    // act
    await crm.updateDeal('4002', { erpOrderRef: 'S00042', erpStatus: 'confirmed' });

    // assess
    const second = await client.crm.deals.basicApi.getById('4002', ['erp_order_ref', 'erp_status']);
    expect(second.properties).toStrictEqual(first.properties);
    expect(second.updatedAt).toStrictEqual(first.updatedAt);
  });

  it('records a sync failure, then clears the error and keeps the reference once the sync succeeds', async () => {
    // prepare
    await crm.updateDeal('4001', { erpOrderRef: 'S00043', erpStatus: 'confirmed' });
    await crm.updateDeal('4001', { erpStatus: 'sync_failed', syncError: 'ERP rejected the order: credit limit' });
    const failed = await officialClient().crm.deals.basicApi.getById('4001', ['erp_status', 'erp_sync_error', 'erp_order_ref']);

    // act
    await crm.updateDeal('4001', { erpStatus: 'shipped' });

    // assess
    const shipped = await officialClient().crm.deals.basicApi.getById('4001', ['erp_status', 'erp_sync_error', 'erp_order_ref']);
    expect(failed.properties).toMatchObject({ erp_status: 'sync_failed', erp_sync_error: 'ERP rejected the order: credit limit' });
    expect(shipped.properties).toMatchObject({ erp_status: 'shipped', erp_sync_error: null, erp_order_ref: 'S00043' });
  });

  it('turns a rate-limited write into a RetryableError', async () => {
    // prepare
    await control('/__sandbox/faults', { count: 1, kind: '429', operation: 'PATCH /crm/v3/objects/deals', retryAfterSeconds: 2 });

    // act
    const error = await rejection(crm.updateDeal('4001', { erpStatus: 'confirmed' }));

    // assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterSeconds).toBe(2);
  });

  it('turns a write to an unknown deal into a PermanentError', async () => {
    // act
    const error = await rejection(crm.updateDeal('999', { erpStatus: 'confirmed' }));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('404');
  });
});
