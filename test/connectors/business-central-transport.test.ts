/**
 * The Business Central transport and sandbox: the sandbox's entities carry every property
 * Microsoft Learn documents, its state and tokens survive a restart, collections page with
 * `@odata.nextLink`, the token cache is shared and renewed before expiry, and answers the
 * sandbox cannot give (Entra's documented error, a nextLink elsewhere) come from a replay server.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { VendorHttp } from '../../functions/core/vendor-http.ts';
import { BusinessCentralErp } from '../../functions/connectors/erp/business-central/index.ts';
import { clearEntraTokenCache, EntraTokenSource } from '../../functions/connectors/erp/business-central/entra-token.ts';
import { businessCentralConnector } from '../../functions/connectors/erp/business-central/connector.ts';
import { businessCentralSandbox, startBusinessCentralSandbox, type BusinessCentralSandbox } from '../../local/sandbox/business-central/sandbox.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';
import { rejection } from '../support/failure.ts';

const TENANT = 'contoso.onmicrosoft.com';
const ENVIRONMENT = 'production';
const CLIENT_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const CLIENT_SECRET = 'transport-test-secret';
const credentials = { tenantId: TENANT, environment: ENVIRONMENT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'business-central', name), 'utf8')) as Record<string, unknown>;
}

function adapter(url: string, companyId: string, clientSecret = CLIENT_SECRET): BusinessCentralErp {
  return new BusinessCentralErp({ apiUrl: new URL(url), loginUrl: new URL(url), ...credentials, clientSecret, companyId, localCurrency: 'EUR', timeoutMs: 1500 });
}

async function token(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const goodForm = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope: 'https://api.businesscentral.dynamics.com/.default' };

async function get(sandbox: BusinessCentralSandbox, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const { body } = await token(sandbox.url, goodForm);
  const response = await fetch(`${sandbox.url}/v2.0/${TENANT}/${ENVIRONMENT}/api/v2.0/companies(${sandbox.companyId})/${path}`, {
    headers: { Authorization: `Bearer ${String(body.access_token)}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Business Central sandbox and transport', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bc-transport-'));
  let sandbox: BusinessCentralSandbox;
  let customerId: string;
  beforeAll(async () => {
    sandbox = await startBusinessCentralSandbox({ ...credentials, dataDir: join(dataDir, 'main'), pageSize: 2 });
    customerId = (await adapter(sandbox.url, sandbox.companyId).upsertCustomer({ externalId: uniqueRef('crm:company'), kind: 'company', name: 'Paging GmbH' })).customerId;
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every property Microsoft Learn documents for salesOrder, salesOrderLine, customer, item, currency and salesInvoice', async () => {
    const erp = adapter(sandbox.url, sandbox.companyId);
    const order = await erp.createSalesOrder({ externalRef: uniqueRef('crm:deal'), customerId, currency: 'EUR', lines: [{ sku: 'CABLE-3', name: 'Cable', quantity: 3, unitPrice: 4.5 }] });
    const missing = (documented: string, actual: Record<string, unknown>) => Object.keys(fixture(documented)).filter((key) => !(key in actual));
    const expanded = (await get(sandbox, `salesOrders(${order.id})?$expand=salesOrderLines`)).body;
    expect(missing('sales-order-resource.json', expanded)).toEqual([]);
    expect(missing('sales-order-line-resource.json', (expanded.salesOrderLines as Record<string, unknown>[])[0]!)).toEqual([]);
    expect(missing('customer-resource.json', (await get(sandbox, `customers(${customerId})`)).body)).toEqual([]);
    const items = (await get(sandbox, "items?$filter=number eq 'WIDGET-1'")).body.value as Record<string, unknown>[];
    expect(missing('item-resource.json', items[0]!)).toEqual([]);
    const currencies = (await get(sandbox, "currencies?$filter=code eq 'USD'")).body.value as Record<string, unknown>[];
    expect(missing('currency-resource.json', currencies[0]!)).toEqual([]);
    expect((await fetch(`${sandbox.url}/v2.0/${TENANT}/${ENVIRONMENT}/api/v2.0/companies(${sandbox.companyId})/salesOrders(${order.id})/Microsoft.NAV.shipAndInvoice`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${String((await token(sandbox.url, goodForm)).body.access_token)}` },
    })).status).toBe(204);
    const invoices = (await get(sandbox, `salesInvoices?$filter=orderId eq ${order.id}`)).body.value as Record<string, unknown>[];
    expect(missing('sales-invoice-resource.json', invoices[0]!)).toEqual([]);
  });

  it('follows @odata.nextLink: with two items a page, an order of three SKUs still finds all three', async () => {
    const erp = adapter(sandbox.url, sandbox.companyId);
    const order = await erp.createSalesOrder({
      externalRef: uniqueRef('crm:deal'),
      customerId,
      currency: 'EUR',
      lines: ['WIDGET-1', 'GADGET-2', 'DOCK-4'].map((sku) => ({ sku, name: sku, quantity: 1, unitPrice: 10 })),
    });
    expect(order.amountTotal).toBe(35.7);
    const page = (await get(sandbox, 'items')).body;
    expect((page.value as unknown[]).length).toBe(2);
    expect(String(page['@odata.nextLink'])).toContain('$skiptoken=2');
  });

  it('refuses a $filter it cannot parse, or on a property the entity does not have, as BC does', async () => {
    expect((await get(sandbox, "customers?$filter=number eq 'unterminated")).body).toMatchObject({ error: { code: 'BadRequest_InvalidRequestUrl' } });
    expect((await get(sandbox, "customers?$filter=vatNumber eq 'DE1'")).body).toMatchObject({ error: { message: expect.stringContaining("property named 'vatNumber'") } });
    const quoted = await get(sandbox, `customers?$filter=${encodeURIComponent("displayName eq 'O''Neil' or displayName eq 'Trey Research'")}`);
    expect((quoted.body.value as { number: string }[]).map((customer) => customer.number)).toEqual(['20000']);
  });

  it("answers Entra ID's errors for a wrong grant type, scope and client id", async () => {
    expect(await token(sandbox.url, { ...goodForm, grant_type: 'password' })).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(await token(sandbox.url, { ...goodForm, scope: 'https://graph.microsoft.com/.default' })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(await token(sandbox.url, { ...goodForm, client_id: 'someone-else' })).toMatchObject({ status: 400, body: { error: 'unauthorized_client', error_codes: [700016] } });
    const issued = await token(sandbox.url, goodForm);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(String(issued.body.access_token).split('.')).toHaveLength(3);
  });

  it('keeps orders and issued tokens across a restart on the same data directory', async () => {
    const directory = join(dataDir, 'restart');
    const first = await startBusinessCentralSandbox({ ...credentials, dataDir: directory });
    const erp = adapter(first.url, first.companyId);
    const buyer = await erp.upsertCustomer({ externalId: uniqueRef('crm:company'), kind: 'company', name: 'Restart AG' });
    const order = await erp.createSalesOrder({ externalRef: uniqueRef('crm:deal'), customerId: buyer.customerId, currency: 'USD', lines: [{ sku: 'GADGET-2', name: 'Gadget', quantity: 1, unitPrice: 120 }] });
    await first.close();
    const second = await startBusinessCentralSandbox({ ...credentials, dataDir: directory });
    try {
      // Same credentials and login URL, so the token cached before the restart is used; the
      // old login URL is dead, so the call succeeds only if the restarted sandbox accepts it.
      const afterRestart = new BusinessCentralErp({ apiUrl: new URL(second.url), loginUrl: new URL(first.url), ...credentials, companyId: second.companyId, localCurrency: 'EUR', timeoutMs: 1500 });
      expect(await afterRestart.getSalesOrder(order.id)).toEqual(order);
    } finally {
      await second.close();
    }
  });

  it('shares one token between adapters with the same credentials, and asks for a new one shortly before it expires', async () => {
    const http = new VendorHttp({ system: 'business-central', timeoutMs: 1500 });
    const login = { loginUrl: new URL(sandbox.url), tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    clearEntraTokenCache();
    const start = Date.now();
    const first = await new EntraTokenSource(login, http, () => start).accessToken();
    await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ count: 1, kind: '500', operation: 'POST token' }) });
    // A second source (another adapter instance) gets the cached token: the faulted endpoint is not asked.
    expect(await new EntraTokenSource(login, http, () => start + 60_000).accessToken()).toBe(first);
    // Four minutes before expiry it asks Entra again, and so meets the fault.
    const late = await rejection(new EntraTokenSource(login, http, () => start + (3599 - 240) * 1000).accessToken());
    expect(late).toBeInstanceOf(RetryableError);
    expect(await new EntraTokenSource(login, http, () => start + (3599 - 240) * 1000).accessToken()).not.toBe(first);
  });

  it("the connector built from the sandbox definition's environment (as the hub does) reaches it", async () => {
    const running = await businessCentralSandbox.start({ host: '127.0.0.1', port: 0, dataDir: join(dataDir, 'definition'), ingressUrl: 'http://127.0.0.1:1' });
    try {
      const environment = running.environment;
      const settings = businessCentralConnector.settings.parse(environment);
      const secrets = Object.fromEntries(Object.entries(businessCentralConnector.secrets).map(([field, secret]) => [field, environment[secret.variable]]));
      const erp = businessCentralConnector.create(settings, secrets, { timeoutMs: 1500 });
      const buyer = await erp.upsertCustomer({ externalId: uniqueRef('crm:company'), kind: 'company', name: 'Hub GmbH', vatNumber: 'DE 813 519 911' });
      // The seeded Trey Research has VAT DE813519911: the typed form with spaces still matches it.
      expect(buyer).toMatchObject({ created: false, matchedBy: 'vatNumber' });
      expect(businessCentralConnector.settings.parse({ ...environment, BUSINESS_CENTRAL_ENVIRONMENT: undefined }).BUSINESS_CENTRAL_ENVIRONMENT).toBe('production');
      expect(() => businessCentralConnector.create({ ...settings, BUSINESS_CENTRAL_API_URL: 'http://10.0.0.5' }, secrets, { timeoutMs: 1500 })).toThrow(/BUSINESS_CENTRAL_API_URL/);
    } finally {
      await running.close();
    }
  });

  describe('answers replayed from Microsoft Learn', () => {
    let replay: Server;
    let url: string;
    const companyId = '6f1b2a0c-8d3e-4f5a-9b7c-2e4d6f8a0b1c';
    beforeAll(async () => {
      replay = createServer((request, response) => {
        const path = new URL(request.url ?? '/', 'http://replay').pathname;
        if (path === '/bad-scope.onmicrosoft.com/oauth2/v2.0/token') {
          response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(fixture('entra-token-error-invalid-scope.json')));
        } else if (path.endsWith('/oauth2/v2.0/token')) {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fixture('entra-token-response.json')));
        } else if (path.endsWith('/salesOrders')) {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: [] }));
        } else if (path.endsWith('/items')) {
          const page = { value: [fixture('item-get-response.json')], '@odata.nextLink': 'https://attacker.example/steal?$skiptoken=1' };
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
        } else {
          response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(fixture('odata-error-invalid-option.json')));
        }
      });
      await new Promise<void>((resolve) => replay.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(replay.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => replay.close(() => resolve()));
    });

    it("turns Entra's documented invalid_scope answer into a PermanentError naming auth and the AADSTS code", async () => {
      const erp = new BusinessCentralErp({ apiUrl: new URL(url), loginUrl: new URL(url), ...credentials, tenantId: 'bad-scope.onmicrosoft.com', companyId, localCurrency: 'EUR', timeoutMs: 1500 });
      const error = await rejection(erp.getSalesOrder(companyId));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/auth.*invalid_scope.*AADSTS70011/);
      expect(error.message).not.toContain('Trace ID');
    });

    it("refuses to follow an @odata.nextLink that leaves the company's API", async () => {
      const erp = adapter(url, companyId);
      const error = await rejection(erp.createSalesOrder({ externalRef: 'x', customerId: companyId, currency: 'EUR', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: 1 }] }));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('leaves the company');
    });

    it("puts BC's documented error message into a PermanentError", async () => {
      const error = await rejection(adapter(url, companyId).upsertCustomer({ externalId: 'hubspot:company:1', kind: 'company', name: 'Adatum' }));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain("'Invalid Type' is not an option");
    });
  });
});
