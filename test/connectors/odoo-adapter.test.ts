/**
 * The Odoo adapter against the Odoo sandbox (behaviour) and against a tiny
 * server that replays recorded Odoo payloads from test/fixtures/odoo (error
 * shapes the sandbox cannot provoke, malformed answers).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { OdooErp } from '../../functions/connectors/erp/odoo/index.ts';
import { OdooSaleOrders, toErpOrder, toErpOrderStatus, toPartnerValues } from '../../functions/connectors/erp/odoo/mapping.ts';
import { SANDBOX_TAX_RATE, startOdooSandbox, type OdooSandbox } from '../../local/sandbox/odoo/index.ts';
import { rejection } from '../support/failure.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';
import { sampleDraft, sampleParty } from '../support/sample-orders.ts';

const DB = 'harmony';
const USERNAME = 'api@harmony.example';
const API_KEY = 'adapter-test-key';

function fixture<Shape>(name: string): Shape {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'odoo', name), 'utf8')) as Shape;
}

/** `execute_kw` over JSON-RPC, straight to the sandbox: how the tests look at Odoo's state without the adapter. */
async function odoo(sandbox: OdooSandbox, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
  const response = await fetch(`${sandbox.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service: 'object', method: 'execute_kw', args: [DB, 2, API_KEY, model, method, args, kwargs] }, id: 1 }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { data: { message: string } } };
  if (body.error !== undefined) throw new Error(`Odoo error in test helper: ${body.error.data.message}`);
  return body.result;
}

async function injectFault(sandbox: OdooSandbox, fault: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify(fault) });
  expect(response.status).toBe(201);
}

/** A stand-in Odoo that answers each JSON-RPC call from a script of recorded responses. */
interface RecordedOdoo {
  readonly url: string;
  /** Service and method of every call received, e.g. `common.authenticate`, `object.execute_kw`. */
  readonly calls: string[];
  /** The `params` of every call received. */
  readonly params: unknown[];
  close(): Promise<void>;
}

async function startRecordedOdoo(
  answer: (call: { service: string; method: string; index: number }) => { status?: number; body: string },
): Promise<RecordedOdoo> {
  const calls: string[] = [];
  const params: unknown[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; params: { service: string; method: string } };
      calls.push(`${payload.params.service}.${payload.params.method}`);
      params.push(payload.params);
      const reply = answer({ service: payload.params.service, method: payload.params.method, index: calls.length - 1 });
      const body = reply.body.replace('"__ID__"', String(payload.id));
      response.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    params,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const AUTHENTICATED = JSON.stringify({ jsonrpc: '2.0', id: '__ID__', result: 2 });

function recordedError(name: string): string {
  const recorded = fixture<{ response: Record<string, unknown> }>(name);
  return JSON.stringify({ ...recorded.response, id: '__ID__' });
}

describe('OdooErp against the Odoo sandbox', () => {
  let sandbox: OdooSandbox;
  let erp: OdooErp;

  beforeAll(async () => {
    sandbox = await startOdooSandbox({ port: 0, db: DB, username: USERNAME, apiKey: API_KEY });
    erp = new OdooErp({ url: sandbox.url, db: DB, username: USERNAME, apiKey: API_KEY });
  });

  afterAll(async () => {
    await sandbox.close();
  });

  describe('upsertCustomer', () => {
    it('creates a partner with the mapped fields and the CRM id as ref', async () => {
      // prepare
      const customer = sampleParty({
        email: 'einkauf@nordwind.example',
        phone: '+49 40 1234567',
        vatNumber: 'DE811569869',
        address: { street: 'Hafenstraße 7', city: 'Hamburg', postalCode: '20457', countryCode: 'de' },
      });

      // act
      const result = await erp.upsertCustomer(customer);

      // assess
      expect(result).toEqual({ customerId: expect.stringMatching(/^\d+$/), created: true });
      const [record] = (await odoo(sandbox, 'res.partner', 'read', [[Number(result.customerId)]], {
        fields: ['name', 'is_company', 'email', 'phone', 'vat', 'street', 'city', 'zip', 'country_id', 'ref'],
      })) as Record<string, unknown>[];
      expect(record).toMatchObject({
        name: 'Nordwind Handels GmbH',
        is_company: true,
        email: 'einkauf@nordwind.example',
        phone: '+49 40 1234567',
        vat: 'DE811569869',
        street: 'Hafenstraße 7',
        city: 'Hamburg',
        zip: '20457',
        country_id: [expect.any(Number), 'Germany'],
        ref: customer.externalId,
      });
    });

    it('finds the partner by external id on the second call instead of creating a duplicate', async () => {
      // prepare
      const customer = sampleParty({ kind: 'person', name: 'Jana Berg', email: 'jana.berg@example.org' });
      const first = await erp.upsertCustomer(customer);

      // act
      const second = await erp.upsertCustomer({ ...customer, name: 'Jana Berg-Schmidt' });

      // assess
      expect(second).toEqual({ customerId: first.customerId, created: false, matchedBy: 'externalId' });
      expect(await odoo(sandbox, 'res.partner', 'search_count', [[['ref', '=', customer.externalId]]])).toBe(1);
    });

    it('matches an existing company by VAT number, however it is typed, and stores the CRM id on it', async () => {
      // prepare
      const [azureId] = (await odoo(sandbox, 'res.partner', 'search', [[['name', '=', 'Azure Interior']]])) as number[];
      const customer = sampleParty({ name: 'Azure Interior SA', vatNumber: 'be 0477.472.701', email: 'someone-else@example.org' });

      // act
      const result = await erp.upsertCustomer(customer);
      const again = await erp.upsertCustomer(customer);

      // assess
      expect(result).toEqual({ customerId: String(azureId), created: false, matchedBy: 'vatNumber' });
      const [azure] = (await odoo(sandbox, 'res.partner', 'read', [[azureId], ['ref']])) as { ref: string }[];
      expect(azure?.ref).toBe(customer.externalId);
      expect(again.matchedBy).toBe('externalId');
    });

    it('matches an existing contact by email, ignoring case', async () => {
      // prepare
      const [brandonId] = (await odoo(sandbox, 'res.partner', 'search', [[['name', '=', 'Brandon Freeman']]])) as number[];
      const customer = sampleParty({ kind: 'person', name: 'Brandon Freeman', email: 'Brandon.Freeman@Azure-Interior.example' });

      // act
      const result = await erp.upsertCustomer(customer);

      // assess
      expect(result).toEqual({ customerId: String(brandonId), created: false, matchedBy: 'email' });
    });

    it('treats the email as an exact value, not a LIKE pattern', async () => {
      // prepare
      await odoo(sandbox, 'res.partner', 'create', [{ name: 'Pattern Trap', email: 'salesXteam@trap.example' }]);
      const customer = sampleParty({ name: 'Other Company', email: 'sales_team@trap.example' });

      // act
      const result = await erp.upsertCustomer(customer);

      // assess
      expect(result.created).toBe(true);
    });

    it('does not match archived partners', async () => {
      // prepare
      const customer = sampleParty({ name: 'Archived Partner Co' });
      await odoo(sandbox, 'res.partner', 'create', [{ name: 'Archived Partner Co', ref: customer.externalId, active: false }]);

      // act
      const result = await erp.upsertCustomer(customer);

      // assess
      expect(result.created).toBe(true);
    });
  });

  describe('createSalesOrder', () => {
    let customerId: string;

    beforeAll(async () => {
      customerId = (await erp.upsertCustomer(sampleParty({ name: 'Order Test AG' }))).customerId;
    });

    it('creates a draft order with the lines mapped to products by SKU', async () => {
      // prepare
      const order = sampleDraft(customerId);

      // act
      const created = await erp.createSalesOrder(order);

      // assess
      const untaxed = 4 * 22.5 + 2 * 90 * 0.9;
      expect(created).toEqual({
        id: expect.stringMatching(/^\d+$/),
        reference: expect.stringMatching(/^S\d{5}$/),
        externalRef: order.externalRef,
        status: 'draft',
        amountTotal: Math.round(untaxed * (1 + SANDBOX_TAX_RATE) * 100) / 100,
        currency: 'EUR',
      });
      const [record] = (await odoo(sandbox, 'sale.order', 'read', [[Number(created.id)], ['partner_id', 'order_line', 'client_order_ref']])) as {
        partner_id: [number, string];
        order_line: number[];
      }[];
      expect(record?.partner_id[0]).toBe(Number(customerId));
      const lines = await odoo(sandbox, 'sale.order.line', 'read', [record?.order_line, ['product_id', 'name', 'product_uom_qty', 'price_unit', 'discount']]);
      expect(lines).toEqual([
        expect.objectContaining({ product_id: [1, '[WIDGET-1] Widget'], name: 'Widget', product_uom_qty: 4, price_unit: 22.5, discount: 0 }),
        expect.objectContaining({ product_id: [3, '[SERVICE-HOUR] Consulting Hour'], name: 'Onboarding', product_uom_qty: 2, price_unit: 90, discount: 10 }),
      ]);
    });

    it('is idempotent: a second call returns the same order and Odoo holds one', async () => {
      // prepare
      const order = sampleDraft(customerId);
      const first = await erp.createSalesOrder(order);

      // act
      const second = await erp.createSalesOrder(order);

      // assess
      expect(second).toEqual(first);
      expect(await odoo(sandbox, 'sale.order', 'search_count', [[['client_order_ref', '=', order.externalRef]]])).toBe(1);
    });

    it('rejects unknown SKUs as a PermanentError naming them, and creates nothing', async () => {
      // prepare
      const order = sampleDraft(customerId, {
        lines: [
          { sku: 'WIDGET-1', name: 'Widget', quantity: 1, unitPrice: 25 },
          { sku: 'NOPE-9', name: 'Does not exist', quantity: 1, unitPrice: 1 },
        ],
      });

      // act
      const error = await rejection(erp.createSalesOrder(order));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('NOPE-9');
      expect(error.message).not.toContain('WIDGET-1');
      expect(await odoo(sandbox, 'sale.order', 'search_count', [[['client_order_ref', '=', order.externalRef]]])).toBe(0);
    });

    it('treats an archived product as unknown', async () => {
      // act
      const error = await rejection(erp.createSalesOrder(sampleDraft(customerId, { lines: [{ sku: 'LEGACY-0', name: 'Old', quantity: 1, unitPrice: 10 }] })));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('LEGACY-0');
    });

    it('creates the order in the draft currency through its pricelist, and rejects a currency Odoo has no pricelist for', async () => {
      // prepare
      const inDollars = sampleDraft(customerId, { currency: 'USD' });
      const inYen = sampleDraft(customerId, { currency: 'JPY' });

      // act
      const created = await erp.createSalesOrder(inDollars);
      const error = await rejection(erp.createSalesOrder(inYen));

      // assess
      expect(created.currency).toBe('USD');
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('unknown-currency');
      expect(await odoo(sandbox, 'sale.order', 'search_count', [[['client_order_ref', '=', inYen.externalRef]]])).toBe(0);
    });

    it('rejects a customer id that does not exist with Odoo’s MissingError', async () => {
      // act
      const error = await rejection(erp.createSalesOrder(sampleDraft('999999')));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('odoo.exceptions.MissingError');
    });

    it('finds the newest order that is not cancelled by external reference', async () => {
      // prepare
      const order = sampleDraft(customerId);
      const first = await erp.createSalesOrder(order);
      await erp.cancelSalesOrder(first.id);
      const replacement = await erp.createSalesOrder(order);

      // act
      const found = await erp.findSalesOrderByExternalRef(order.externalRef);
      const missing = await erp.findSalesOrderByExternalRef(uniqueRef('hubspot:deal'));

      // assess
      expect(replacement.id).not.toBe(first.id);
      expect(found).toEqual(replacement);
      expect(missing).toBeUndefined();
    });
  });

  describe('confirmSalesOrder and cancelSalesOrder', () => {
    let customerId: string;

    beforeAll(async () => {
      customerId = (await erp.upsertCustomer(sampleParty({ name: 'Lifecycle KG' }))).customerId;
    });

    it('confirms an order, and confirming it again is a no-op', async () => {
      // prepare
      const created = await erp.createSalesOrder(sampleDraft(customerId));

      // act
      const confirmed = await erp.confirmSalesOrder(created.id);
      const again = await erp.confirmSalesOrder(created.id);

      // assess
      expect(confirmed).toEqual({ ...created, status: 'confirmed' });
      expect(again).toEqual(confirmed);
      const [record] = (await odoo(sandbox, 'sale.order', 'read', [[Number(created.id)], ['state']])) as { state: string }[];
      expect(record?.state).toBe('sale');
    });

    it('really cancels a confirmed order directly (no wizard), and cancelling it again is a no-op', async () => {
      // prepare
      const order = sampleDraft(customerId);
      const created = await erp.createSalesOrder(order);
      await erp.confirmSalesOrder(created.id);

      // act
      const cancelled = await erp.cancelSalesOrder(created.id);
      const again = await erp.cancelSalesOrder(created.id);

      // assess
      expect(cancelled.status).toBe('cancelled');
      expect(again).toEqual(cancelled);
      const [record] = (await odoo(sandbox, 'sale.order', 'read', [[Number(created.id)], ['state']])) as { state: string }[];
      expect(record?.state).toBe('cancel');
      expect(await odoo(sandbox, 'sale.order.cancel', 'search_count', [[['order_id', '=', Number(created.id)]]])).toBe(0);
      expect(await erp.findSalesOrderByExternalRef(order.externalRef)).toBeUndefined();
    });

    it('cancels through the sale.order.cancel wizard when Odoo shows it despite disable_cancel_warning', async () => {
      // prepare
      const stubborn = await startOdooSandbox({ port: 0, db: DB, username: USERNAME, apiKey: API_KEY, cancelWizardIgnoresContext: true });
      try {
        const stubbornErp = new OdooErp({ url: stubborn.url, db: DB, username: USERNAME, apiKey: API_KEY });
        const created = await stubbornErp.createSalesOrder(sampleDraft('3'));
        await stubbornErp.confirmSalesOrder(created.id);

        // act
        const cancelled = await stubbornErp.cancelSalesOrder(created.id);

        // assess
        expect(cancelled.status).toBe('cancelled');
        const [record] = (await odoo(stubborn, 'sale.order', 'read', [[Number(created.id)], ['state']])) as { state: string }[];
        expect(record?.state).toBe('cancel');
      } finally {
        await stubborn.close();
      }
    });

    it('reports a locked order it cannot cancel as a PermanentError with Odoo’s message', async () => {
      // prepare
      const created = await erp.createSalesOrder(sampleDraft(customerId));
      await erp.confirmSalesOrder(created.id);
      await odoo(sandbox, 'sale.order', 'action_lock', [[Number(created.id)]]);

      // act
      const error = await rejection(erp.cancelSalesOrder(created.id));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('odoo.exceptions.UserError');
      expect(error.message).toContain('You cannot cancel a locked order');
      expect((await erp.getSalesOrder(created.id)).status).toBe('confirmed');
    });

    it('refuses to confirm a cancelled order with Odoo’s UserError', async () => {
      // prepare
      const created = await erp.createSalesOrder(sampleDraft(customerId));
      await erp.cancelSalesOrder(created.id);

      // act
      const error = await rejection(erp.confirmSalesOrder(created.id));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('Some orders are not in a state requiring confirmation.');
    });

    it('reports an order that does not exist as a PermanentError', async () => {
      // act
      const missing = await rejection(erp.getSalesOrder('987654'));
      const malformed = await rejection(erp.getSalesOrder('S00001'));

      // assess
      expect(missing).toBeInstanceOf(PermanentError);
      expect((missing as PermanentError).code).toBe('odoo.exceptions.MissingError');
      expect(malformed).toBeInstanceOf(PermanentError);
    });
  });

  describe('transport failures', () => {
    it('turns HTTP 429 into a RetryableError carrying Retry-After', async () => {
      // prepare
      const created = await erp.createSalesOrder(sampleDraft('3'));
      await injectFault(sandbox, { count: 1, kind: '429', operation: 'sale.order.read', retryAfterSeconds: 7 });

      // act
      const error = await rejection(erp.getSalesOrder(created.id));

      // assess
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).retryAfterSeconds).toBe(7);
      expect((error as RetryableError).code).toBe('429');
    });

    it('turns HTTP 500 into a RetryableError, and the retry succeeds', async () => {
      // prepare
      const order = sampleDraft('3');
      await injectFault(sandbox, { count: 1, kind: '500', operation: 'sale.order.create' });

      // act
      const error = await rejection(erp.createSalesOrder(order));
      const retried = await erp.createSalesOrder(order);

      // assess
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('500');
      expect(retried.externalRef).toBe(order.externalRef);
      expect(await odoo(sandbox, 'sale.order', 'search_count', [[['client_order_ref', '=', order.externalRef]]])).toBe(1);
    });

    it('turns a request that never gets an answer into a RetryableError after the timeout', async () => {
      // prepare
      const impatient = new OdooErp({ url: sandbox.url, db: DB, username: USERNAME, apiKey: API_KEY, timeoutMs: 250 });
      await injectFault(sandbox, { count: 1, kind: 'timeout', operation: 'sale.order.search_read' });

      // act
      const error = await rejection(impatient.findSalesOrderByExternalRef('anything'));

      // assess
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('timeout');
    });

    it('rejects bad credentials as a PermanentError', async () => {
      // prepare
      const wrongKey = new OdooErp({ url: sandbox.url, db: DB, username: USERNAME, apiKey: 'not-the-key' });

      // act
      const error = await rejection(wrongKey.getSalesOrder('1'));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toBe('Odoo rejected the credentials');
    });
  });
});

describe('OdooErp against recorded Odoo answers', () => {
  it.each([
    ['an HTML page', '<html><body>Maintenance</body></html>'],
    ['JSON that is not JSON-RPC', JSON.stringify({ ok: true })],
    ['a result of the wrong shape', JSON.stringify({ jsonrpc: '2.0', id: '__ID__', result: [{ id: 'forty-two', name: 7 }] })],
  ])('turns %s into a PermanentError', async (_case, body) => {
    // prepare
    const recorded = await startRecordedOdoo(({ service }) => (service === 'common' ? { body: AUTHENTICATED } : { body }));
    const erp = new OdooErp({ url: recorded.url, db: DB, username: USERNAME, apiKey: API_KEY });

    try {
      // act
      const error = await rejection(erp.getSalesOrder('42'));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('malformed-response');
    } finally {
      await recorded.close();
    }
  });

  it('turns a recorded serialization failure into a RetryableError', async () => {
    // prepare
    const recorded = await startRecordedOdoo(({ service }) =>
      service === 'common' ? { body: AUTHENTICATED } : { body: recordedError('jsonrpc-error-serialization-failure.json') });
    const erp = new OdooErp({ url: recorded.url, db: DB, username: USERNAME, apiKey: API_KEY });

    try {
      // act
      const error = await rejection(erp.getSalesOrder('42'));

      // assess
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('psycopg2.errors.SerializationFailure');
    } finally {
      await recorded.close();
    }
  });

  it('turns a recorded UserError into a PermanentError with Odoo’s message and exception name', async () => {
    // prepare
    const recorded = await startRecordedOdoo(({ service }) =>
      service === 'common' ? { body: AUTHENTICATED } : { body: recordedError('jsonrpc-error-user-error.json') });
    const erp = new OdooErp({ url: recorded.url, db: DB, username: USERNAME, apiKey: API_KEY });

    try {
      // act
      const error = await rejection(erp.getSalesOrder('42'));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('odoo.exceptions.UserError');
      expect(error.message).toContain('Some orders are not in a state requiring confirmation.');
    } finally {
      await recorded.close();
    }
  });

  it('authenticates again once when Odoo answers AccessDenied, then carries on', async () => {
    // prepare
    const order = fixture<{ response: { result: unknown } }>('sale-order-read.json').response.result;
    const recorded = await startRecordedOdoo(({ service, index }) => {
      if (service === 'common') return { body: AUTHENTICATED };
      if (index === 1) return { body: recordedError('jsonrpc-error-access-denied.json') };
      return { body: JSON.stringify({ jsonrpc: '2.0', id: '__ID__', result: order }) };
    });
    const erp = new OdooErp({ url: recorded.url, db: DB, username: USERNAME, apiKey: API_KEY });

    try {
      // act
      const found = await erp.getSalesOrder('42');

      // assess
      expect(found.reference).toBe('S00042');
      expect(recorded.calls).toEqual(['common.authenticate', 'object.execute_kw', 'common.authenticate', 'object.execute_kw']);
    } finally {
      await recorded.close();
    }
  });

  it('gives up with a PermanentError when AccessDenied persists after re-authenticating', async () => {
    // prepare
    const recorded = await startRecordedOdoo(({ service }) =>
      service === 'common' ? { body: AUTHENTICATED } : { body: recordedError('jsonrpc-error-access-denied.json') });
    const erp = new OdooErp({ url: recorded.url, db: DB, username: USERNAME, apiKey: API_KEY });

    try {
      // act
      const error = await rejection(erp.getSalesOrder('42'));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('odoo.exceptions.AccessDenied');
      expect(recorded.calls).toHaveLength(4);
    } finally {
      await recorded.close();
    }
  });

  it('authenticates with the documented call and reports a false uid as rejected credentials', async () => {
    // prepare
    const documented = fixture<{ request: { params: unknown }; rejectedResponse: Record<string, unknown> }>('common-authenticate.json');
    const recorded = await startRecordedOdoo(() => ({ body: JSON.stringify({ ...documented.rejectedResponse, id: '__ID__' }) }));
    const erp = new OdooErp({ url: recorded.url, db: 'mycompany', username: 'admin', apiKey: '<api key>' });

    try {
      // act
      const error = await rejection(erp.getSalesOrder('42'));

      // assess
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toBe('Odoo rejected the credentials');
      expect(recorded.calls).toEqual(['common.authenticate']);
      expect(recorded.params).toEqual([documented.request.params]);
    } finally {
      await recorded.close();
    }
  });
});

describe('Odoo mapping', () => {
  it('maps a recorded sale.order read to an ErpOrder', () => {
    // prepare
    const [record] = OdooSaleOrders.parse(fixture<{ response: { result: unknown } }>('sale-order-read.json').response.result);

    // act
    const order = toErpOrder(record!);

    // assess
    expect(order).toEqual({
      id: '42',
      reference: 'S00042',
      externalRef: 'hubspot:deal:1234567',
      status: 'confirmed',
      amountTotal: 1150,
      currency: 'EUR',
    });
  });

  it.each([
    ['draft', 'no', 'draft'],
    ['sent', 'no', 'draft'],
    ['sale', 'to invoice', 'confirmed'],
    ['sale', 'invoiced', 'invoiced'],
    ['done', 'invoiced', 'invoiced'],
    ['done', 'to invoice', 'confirmed'],
    ['cancel', 'no', 'cancelled'],
  ] as const)('maps state %s with invoice status %s to %s', (state, invoiceStatus, expected) => {
    // act
    const status = toErpOrderStatus(state, invoiceStatus);

    // assess
    expect(status).toBe(expected);
  });

  it('leaves absent party fields out of the partner values instead of blanking them', () => {
    // act
    const values = toPartnerValues({ externalId: 'hubspot:contact:9', kind: 'person', name: '  Ada Lovelace ', email: ' ' }, undefined);

    // assess
    expect(values).toEqual({ name: 'Ada Lovelace', is_company: false, ref: 'hubspot:contact:9', customer_rank: 1 });
  });
});
