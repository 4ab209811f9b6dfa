/**
 * The SAP sandbox speaks SAP's protocol, checked over plain HTTP: the CSRF token bound
 * to its session, the ICF logon and the OAuth token endpoint, OData v2 JSON (ALPHA
 * numbers, `/Date()/`, ETags, `$filter`/`$select`/`$expand`/`$top`/`$skip`/`$inlinecount`,
 * `__next`), SAP's error body, the documented deep insert, and state across a restart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SapErrorBody } from '../../functions/connectors/erp/sap/odata.ts';
import { startSapSandbox, type SapSandbox } from '../../local/sandbox/sap/sandbox.ts';
import { odata, results, SANDBOX_USERS, sandboxControl } from '../fixtures/sap/sandbox-harness.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sap');
const basic = `Basic ${Buffer.from(`${SANDBOX_USERS.username}:${SANDBOX_USERS.password}`).toString('base64')}`;

function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    SalesOrderType: 'OR',
    SalesOrganization: '1710',
    DistributionChannel: '10',
    OrganizationDivision: '00',
    SoldToParty: '10100001',
    PurchaseOrderByCustomer: `PO-${Math.random().toString(36).slice(2, 10)}`,
    to_Item: [{ Material: 'WIDGET-1', RequestedQuantity: '2' }],
    ...overrides,
  };
}

describe('SAP sandbox protocol', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sap-sandbox-'));
  let sandbox: SapSandbox;
  beforeAll(async () => {
    sandbox = await startSapSandbox({ ...SANDBOX_USERS, dataDir, pageSize: 2 });
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const service = (path: string) => `${sandbox.url}/sap/opu/odata/sap/${path}`;

  describe('CSRF protection', () => {
    it('refuses a modifying call without a token: 403, x-csrf-token: Required, plain text', async () => {
      const response = await fetch(service('API_SALES_ORDER_SRV/A_SalesOrder'), { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/json' }, body: JSON.stringify(orderBody()) });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-csrf-token')).toBe('Required');
      expect(await response.text()).toBe('CSRF token validation failed');
    });

    it('binds the token to the session: without the session cookies it is refused, with them accepted', async () => {
      const fetched = await fetch(service('API_SALES_ORDER_SRV/'), { headers: { Authorization: basic, 'x-csrf-token': 'Fetch' } });
      const token = fetched.headers.get('x-csrf-token')!;
      const cookies = fetched.headers.getSetCookie().map((cookie) => cookie.split(';')[0]!);
      expect(cookies.map((cookie) => cookie.split('=')[0])).toEqual(expect.arrayContaining(['SAP_SESSIONID_S4H_100', 'sap-XSRF_S4H_100']));
      const post = (cookie: string | undefined) =>
        fetch(service('API_SALES_ORDER_SRV/A_SalesOrder'), {
          method: 'POST',
          headers: { Authorization: basic, 'Content-Type': 'application/json', 'x-csrf-token': token, ...(cookie === undefined ? {} : { Cookie: cookie }) },
          body: JSON.stringify(orderBody()),
        });
      expect((await post(undefined)).status).toBe(403);
      expect((await post(cookies.join('; '))).status).toBe(201);
      await sandboxControl(sandbox, '/__sandbox/expire-sessions');
      expect((await post(cookies.join('; '))).headers.get('x-csrf-token')).toBe('Required');
    });
  });

  describe('logon', () => {
    it('answers a wrong password with 401 and a Basic challenge naming the system and client', async () => {
      const response = await fetch(service('API_SALES_ORDER_SRV/A_SalesOrder'), { headers: { Authorization: `Basic ${Buffer.from('HARMONY_TEST:nope').toString('base64')}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="SAP NetWeaver Application Server [S4H/100]"');
    });

    it('issues bearer tokens for client credentials (expires_in as AS ABAP writes it) and stops accepting them once expired', async () => {
      const refused = await fetch(`${sandbox.url}/sap/bc/sec/oauth2/token`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`${SANDBOX_USERS.clientId}:wrong`).toString('base64')}` }, body: 'grant_type=client_credentials' });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
      const issued = await fetch(`${sandbox.url}/sap/bc/sec/oauth2/token?sap-client=100`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${SANDBOX_USERS.clientId}:${SANDBOX_USERS.clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      const token = (await issued.json()) as { access_token: string; token_type: string; expires_in: unknown };
      expect(token).toMatchObject({ token_type: 'Bearer', expires_in: '3600' });
      const read = () => fetch(service('API_SALES_ORDER_SRV/A_SalesOrder?$top=1'), { headers: { Authorization: `Bearer ${token.access_token}` } });
      expect((await read()).status).toBe(200);
      await sandboxControl(sandbox, '/__sandbox/expire-tokens');
      const expired = await read();
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    });
  });

  describe('OData v2', () => {
    let order: Record<string, any>;
    beforeAll(async () => {
      order = (await odata(sandbox, 'POST', 'API_SALES_ORDER_SRV/A_SalesOrder', { body: orderBody({ to_Item: { results: [{ Material: 'WIDGET-1', RequestedQuantity: '2' }, { Material: 'cable-3', RequestedQuantity: '10' }] } }) })).json.d as Record<string, any>;
    });

    it('numbers orders from a range and writes them without leading zeros; a padded key finds the same order', async () => {
      expect(order.SalesOrder).toMatch(/^[1-9]\d{3,}$/);
      const padded = await odata(sandbox, 'GET', `API_SALES_ORDER_SRV/A_SalesOrder('${order.SalesOrder.padStart(10, '0')}')`);
      expect(padded.status).toBe(200);
      expect((padded.json.d as Record<string, unknown>).SalesOrder).toBe(order.SalesOrder);
    });

    it('answers the deep insert with the items inline, decimals as strings, upper-cased materials and SAP dates', async () => {
      expect(order.to_Item.results.map((item: Record<string, unknown>) => [item.SalesOrderItem, item.Material, item.RequestedQuantity, item.NetAmount])).toEqual([
        ['10', 'WIDGET-1', '2.000', '50.00'],
        ['20', 'CABLE-3', '10.000', '45.00'],
      ]);
      expect(order.TotalNetAmount).toBe('95.00');
      expect(order.CreationDate).toMatch(/^\/Date\(\d+\)\/$/);
      expect(order.LastChangeDateTime).toMatch(/^\/Date\(\d+\+0000\)\/$/);
      expect(order.__metadata.etag).toMatch(/^W\/"datetimeoffset'\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{7}Z'"$/);
    });

    it('sends the ETag header with a single entity and guards updates with it: 428 without If-Match, 412 when stale', async () => {
      const read = await odata(sandbox, 'GET', `API_SALES_ORDER_SRV/A_SalesOrder('${order.SalesOrder}')`);
      const etag = read.headers.get('etag')!;
      expect(etag).toBe((read.json.d as Record<string, any>).__metadata.etag);
      const missing = await odata(sandbox, 'PATCH', `API_SALES_ORDER_SRV/A_SalesOrder('${order.SalesOrder}')`, { body: { DeliveryBlockReason: '02' } });
      expect(missing.status).toBe(428);
      expect(SapErrorBody.parse(missing.json).error.code).toBe('SADL_ENTITY_RUNTIME/004');
      expect((await odata(sandbox, 'PATCH', `API_SALES_ORDER_SRV/A_SalesOrder('${order.SalesOrder}')`, { body: { DeliveryBlockReason: '02' }, ifMatch: etag })).status).toBe(204);
      expect((await odata(sandbox, 'PATCH', `API_SALES_ORDER_SRV/A_SalesOrder('${order.SalesOrder}')`, { body: { DeliveryBlockReason: '' }, ifMatch: etag })).status).toBe(412);
    });

    it('filters with eq, and, or and substringof; selects; expands two levels; counts and pages', async () => {
      const filter = `PurchaseOrderByCustomer eq '${order.PurchaseOrderByCustomer}' and (SoldToParty eq '0010100001' or SoldToParty eq 'nobody')`;
      const found = await odata(sandbox, 'GET', `API_SALES_ORDER_SRV/A_SalesOrder?$filter=${encodeURIComponent(filter)}&$select=SalesOrder,TotalNetAmount&$expand=to_Item/to_PricingElement&$inlinecount=allpages`);
      const rows = results(found.json) as Record<string, any>[];
      expect((found.json.d as Record<string, unknown>).__count).toBe('1');
      expect(Object.keys(rows[0]!).sort()).toEqual(['SalesOrder', 'TotalNetAmount', '__metadata', 'to_Item']);
      expect(rows[0]!.to_Item.results[0].to_PricingElement.results.map((condition: Record<string, unknown>) => [condition.ConditionType, condition.ConditionCategory, condition.ConditionAmount])).toEqual([
        ['PR00', 'B', '50.00'],
        ['MWST', 'D', '9.50'],
      ]);
      const partners = await odata(sandbox, 'GET', `API_BUSINESS_PARTNER/A_BusinessPartner?$filter=${encodeURIComponent("substringof('Sandbox', BusinessPartnerFullName)")}`);
      expect(results(partners.json).map((row) => row.BusinessPartner)).toEqual(['10100001']);
      const firstPage = await odata(sandbox, 'GET', 'API_SALES_ORDER_SRV/A_SalesOrderItem?$inlinecount=allpages');
      const d = firstPage.json.d as { results: unknown[]; __count: string; __next: string };
      expect(d.results).toHaveLength(2);
      expect(Number(d.__count)).toBeGreaterThan(2);
      expect(new URL(d.__next).searchParams.get('$skip')).toBe('2');
    });

    it('answers what it cannot do with SAP\'s error body: an unknown property, a bad filter, a missing key', async () => {
      const unknownProperty = await odata(sandbox, 'GET', `API_SALES_ORDER_SRV/A_SalesOrder?$filter=${encodeURIComponent("Nonsense eq 'x'")}`);
      expect(unknownProperty.status).toBe(400);
      expect(SapErrorBody.parse(unknownProperty.json).error.message.value).toMatch(/Nonsense/);
      const missing = await odata(sandbox, 'GET', "API_SALES_ORDER_SRV/A_SalesOrder('99999999')");
      expect(missing.status).toBe(404);
      expect(SapErrorBody.parse(missing.json).error).toMatchObject({ code: '/IWBEP/CM_MGW_RT/020', message: { value: "Resource not found for segment 'A_SalesOrderType'" } });
    });
  });

  describe('the documented deep insert (test/fixtures/sap/sales-order-create-request.json)', () => {
    const documented = JSON.parse(readFileSync(join(FIXTURES, 'sales-order-create-request.json'), 'utf8')) as Record<string, unknown>;

    it('refuses the documented order type and organisation of another system with SAP\'s error body', async () => {
      const { to_Partner: _partners, to_Text: _texts, ...body } = documented;
      const answer = await odata(sandbox, 'POST', 'API_SALES_ORDER_SRV/A_SalesOrder', { body });
      expect(answer.status).toBe(400);
      expect(SapErrorBody.parse(answer.json).error.message.value).toBe('Sales document type ZPVA is not defined');
    });

    it('reads its items and pricing elements and names the material the sandbox does not sell', async () => {
      const { to_Partner: _partners, to_Text: _texts, ...body } = documented;
      const answer = await odata(sandbox, 'POST', 'API_SALES_ORDER_SRV/A_SalesOrder', { body: { ...body, SalesOrderType: 'OR', SalesOrganization: '1710', DistributionChannel: '10', OrganizationDivision: '00', SoldToParty: '10100001' } });
      expect(answer.status).toBe(400);
      expect(SapErrorBody.parse(answer.json).error.message.value).toBe('Material 10450007 is not defined for sales org.1710, distr.chan.10, language EN');
    });
  });

  it('keeps what it stored across a restart', async () => {
    const created = (await odata(sandbox, 'POST', 'API_SALES_ORDER_SRV/A_SalesOrder', { body: orderBody() })).json.d as Record<string, string>;
    await sandbox.close();
    sandbox = await startSapSandbox({ ...SANDBOX_USERS, dataDir, pageSize: 2 });
    const again = await odata(sandbox, 'GET', `API_SALES_ORDER_SRV/A_SalesOrder('${created.SalesOrder}')`);
    expect((again.json.d as Record<string, string>).PurchaseOrderByCustomer).toBe(created.PurchaseOrderByCustomer);
    const next = (await odata(sandbox, 'POST', 'API_SALES_ORDER_SRV/A_SalesOrder', { body: orderBody() })).json.d as Record<string, string>;
    expect(Number(next.SalesOrder)).toBe(Number(created.SalesOrder) + 1);
  });
});
