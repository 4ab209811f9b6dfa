/**
 * The Business Central adapter against the Business Central sandbox: the shared ERP
 * contract (cancelling deletes, so cancelled orders disappear), then what is particular
 * to BC — the stale etag between read and delete, lost answers to creates, the 35-character
 * external document number, the local currency, BC's totals, posted orders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import type { Party } from '../../functions/connectors/crm/port.ts';
import { BusinessCentralErp } from '../../functions/connectors/erp/business-central/index.ts';
import { externalDocumentNumberFor } from '../../functions/connectors/erp/business-central/mapping.ts';
import { startBusinessCentralSandbox, type BusinessCentralSandbox } from '../../local/sandbox/business-central/sandbox.ts';
import { describeErpPortContract, uniqueRef } from '../contracts/erp-port-contract.ts';
import { rejection } from '../support/failure.ts';
import { sampleDraft, sampleParty } from '../support/sample-orders.ts';

const TENANT = '7a1e3c5b-2d4f-4e6a-8b0c-9d1e2f3a4b5c';
const ENVIRONMENT = 'sandbox-tests';
const CLIENT_ID = '5c7e9a1b-3d5f-4a6c-8e0b-2d4f6a8c0e1b';
const CLIENT_SECRET = 'contract-test-secret';

function adapter(sandbox: BusinessCentralSandbox, overrides: { clientSecret?: string } = {}): BusinessCentralErp {
  return new BusinessCentralErp({
    apiUrl: new URL(sandbox.url),
    loginUrl: new URL(sandbox.url),
    tenantId: TENANT,
    environment: ENVIRONMENT,
    companyId: sandbox.companyId,
    clientId: CLIENT_ID,
    clientSecret: overrides.clientSecret ?? CLIENT_SECRET,
    localCurrency: 'EUR',
    timeoutMs: 1500,
  });
}

async function control(sandbox: BusinessCentralSandbox, method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${sandbox.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(response.status).toBeLessThan(300);
}

/** Calls the sandbox's API as another client would: its own token, never faulted, If-Match when given. */
async function api(
  sandbox: BusinessCentralSandbox,
  method: string,
  path: string,
  options: { readonly body?: unknown; readonly etag?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const form = new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope: 'https://api.businesscentral.dynamics.com/.default' });
  const tokenResponse = await fetch(`${sandbox.url}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', body: form, headers: { 'x-sandbox-faults': 'bypass' } });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const response = await fetch(`${sandbox.url}/v2.0/${TENANT}/${ENVIRONMENT}/api/v2.0/companies(${sandbox.companyId})/${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'x-sandbox-faults': 'bypass',
      ...(options.etag === undefined ? {} : { 'If-Match': options.etag }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function party(overrides: Partial<Party> = {}): Party {
  return sampleParty({ email: `${uniqueRef('buyer')}@nordwind.example`, ...overrides });
}

describe('Business Central', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bc-contract-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  describeErpPortContract(
    'Business Central',
    async () => {
      const sandbox = await startBusinessCentralSandbox({ dataDir: join(dataDir, 'contract'), tenantId: TENANT, environment: ENVIRONMENT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      return {
        erp: adapter(sandbox),
        knownSkus: ['WIDGET-1', 'GADGET-2'],
        missingOrderId: '00000000-1111-4222-8333-444444444444',
        currency: 'EUR',
        injectFault: (fault) => control(sandbox, 'POST', '/__sandbox/faults', { count: 1, ...fault }),
        clearFaults: () => control(sandbox, 'DELETE', '/__sandbox/faults'),
        withBadCredentials: () => adapter(sandbox, { clientSecret: 'not-the-secret' }),
        expireTokens: () => control(sandbox, 'POST', '/__sandbox/expire-tokens'),
        close: () => sandbox.close(),
      };
    },
    { credentials: true, accessTokens: true, cancelledOrdersDisappear: true, readOperation: 'GET salesOrders' },
  );

  describe('behaviour particular to Business Central', () => {
    let sandbox: BusinessCentralSandbox;
    let erp: BusinessCentralErp;
    let customerId: string;
    beforeAll(async () => {
      sandbox = await startBusinessCentralSandbox({ dataDir: join(dataDir, 'particular'), tenantId: TENANT, environment: ENVIRONMENT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      erp = adapter(sandbox);
      customerId = (await erp.upsertCustomer(party())).customerId;
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('cancels an order someone changed between the read and the delete: reads it again and deletes with the fresh etag', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      await control(sandbox, 'POST', '/__sandbox/concurrent-edits', { count: 1, operation: 'DELETE salesOrders' });
      const cancelled = await erp.cancelSalesOrder(order.id);
      expect(cancelled).toMatchObject({ id: order.id, status: 'cancelled', reference: order.reference });
      expect((await api(sandbox, 'GET', `salesOrders(${order.id})`)).status).toBe(404);
    });

    it('gives up with a RetryableError when the order changes again before the second delete, and leaves it in place', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      await control(sandbox, 'POST', '/__sandbox/concurrent-edits', { count: 2, operation: 'DELETE salesOrders' });
      const error = await rejection(erp.cancelSalesOrder(order.id));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('412');
      expect((await erp.getSalesOrder(order.id)).status).toBe('confirmed');
      expect((await erp.cancelSalesOrder(order.id)).status).toBe('cancelled');
    });

    it('the sandbox refuses a stale etag with 412 Request_EntityChanged and a missing one with BadRequest_InvalidToken', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      const read = await api(sandbox, 'GET', `salesOrders(${order.id})`);
      const etag = String(read.json['@odata.etag']);
      const patched = await api(sandbox, 'PATCH', `salesOrders(${order.id})`, { etag, body: { requestedDeliveryDate: '2030-01-31' } });
      expect(patched.status).toBe(200);
      expect(patched.json['@odata.etag']).not.toBe(etag);
      const stale = await api(sandbox, 'DELETE', `salesOrders(${order.id})`, { etag });
      expect(stale.status).toBe(412);
      expect(stale.json).toMatchObject({ error: { code: 'Request_EntityChanged' } });
      const missing = await api(sandbox, 'DELETE', `salesOrders(${order.id})`);
      expect(missing.status).toBe(400);
      expect(missing.json).toMatchObject({ error: { code: 'BadRequest_InvalidToken' } });
    });

    it('a customer create whose answer is lost is found by its number on the retry, not created twice', async () => {
      const buyer = party();
      await control(sandbox, 'POST', '/__sandbox/faults', { count: 1, kind: 'commit-then-drop', operation: 'POST customers' });
      const lost = await rejection(erp.upsertCustomer(buyer));
      expect(lost).toBeInstanceOf(RetryableError);
      const retried = await erp.upsertCustomer(buyer);
      expect(retried).toMatchObject({ created: false, matchedBy: 'externalId' });
      const customers = await api(sandbox, 'GET', `customers?$filter=${encodeURIComponent(`email eq '${buyer.email}'`)}`);
      expect((customers.json.value as unknown[]).length).toBe(1);
    });

    it('an order create whose answer is lost is found by its external reference on the retry, not created twice', async () => {
      const orderDraft = sampleDraft(customerId);
      await control(sandbox, 'POST', '/__sandbox/faults', { count: 1, kind: 'commit-then-drop', operation: 'POST salesOrders' });
      expect(await rejection(erp.createSalesOrder(orderDraft))).toBeInstanceOf(RetryableError);
      const retried = await erp.createSalesOrder(orderDraft);
      expect(retried.externalRef).toBe(orderDraft.externalRef);
      const orders = await api(sandbox, 'GET', `salesOrders?$filter=${encodeURIComponent(`externalDocumentNumber eq '${orderDraft.externalRef}'`)}`);
      expect((orders.json.value as { id: string }[]).map((order) => order.id)).toEqual([retried.id]);
    });

    it('keeps an external reference longer than 35 characters as its stable hashed form and still finds the order by it', async () => {
      const externalRef = `salesforce:opportunity:${'0065g00000AbCdEfGh'.repeat(2)}-${uniqueRef('long')}`;
      const created = await erp.createSalesOrder(sampleDraft(customerId, { externalRef }));
      expect(created.externalRef).toBe(externalRef);
      expect((await erp.findSalesOrderByExternalRef(externalRef))?.id).toBe(created.id);
      const stored = await api(sandbox, 'GET', `salesOrders(${created.id})`);
      expect(stored.json.externalDocumentNumber).toBe(externalDocumentNumberFor(externalRef));
      expect(String(stored.json.externalDocumentNumber)).toHaveLength(35);
      expect((await erp.createSalesOrder(sampleDraft(customerId, { externalRef }))).id).toBe(created.id);
    });

    it('leaves the currency blank for the local currency, sends a foreign one, and refuses one BC does not have', async () => {
      const local = await erp.createSalesOrder(sampleDraft(customerId));
      expect(local.currency).toBe('EUR');
      const foreign = await erp.createSalesOrder(sampleDraft(customerId, { currency: 'USD' }));
      expect(foreign.currency).toBe('USD');
      const error = await rejection(erp.createSalesOrder(sampleDraft(customerId, { currency: 'JPY' })));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('unknown-currency');
    });

    it('returns the total BC computed: line amounts after discount, 19 % VAT on the document total', async () => {
      // 4 × 22.50 = 90.00; 2 × 90.00 − 10 % = 162.00; 252.00 + 47.88 VAT.
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      expect(order.amountTotal).toBe(299.88);
      expect(order.reference).toMatch(/^S-ORD\d{6}$/);
    });

    it('refuses a blocked item with a PermanentError naming its SKU, and creates nothing', async () => {
      const orderDraft = sampleDraft(customerId, { lines: [{ sku: 'LEGACY-0', name: 'Legacy', quantity: 1, unitPrice: 10 }] });
      const error = await rejection(erp.createSalesOrder(orderDraft));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('LEGACY-0');
      expect(await erp.findSalesOrderByExternalRef(orderDraft.externalRef)).toBeUndefined();
    });

    it('reads an order BC posted with shipAndInvoice as invoiced, and refuses to cancel it', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      expect((await api(sandbox, 'POST', `salesOrders(${order.id})/Microsoft.NAV.shipAndInvoice`)).status).toBe(204);
      expect(await erp.getSalesOrder(order.id)).toMatchObject({ id: order.id, status: 'invoiced', reference: order.reference, amountTotal: order.amountTotal });
      expect((await erp.confirmSalesOrder(order.id)).status).toBe('invoiced');
      const error = await rejection(erp.cancelSalesOrder(order.id));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('already-invoiced');
    });

    it('says which setting is wrong when the company id is not the company', async () => {
      const wrongCompany = new BusinessCentralErp({
        apiUrl: new URL(sandbox.url),
        loginUrl: new URL(sandbox.url),
        tenantId: TENANT,
        environment: ENVIRONMENT,
        companyId: '11111111-2222-4333-8444-555555555555',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        localCurrency: 'EUR',
        timeoutMs: 1500,
      });
      const error = await rejection(wrongCompany.getSalesOrder('00000000-1111-4222-8333-444444444444'));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('BUSINESS_CENTRAL_COMPANY_ID');
    });

    it('names Entra ID and the AADSTS code when the client secret is wrong', async () => {
      const error = await rejection(adapter(sandbox, { clientSecret: 'wrong' }).getSalesOrder('00000000-1111-4222-8333-444444444444'));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('auth');
      expect(error.message).toMatch(/invalid_client.*AADSTS7000215/);
    });

    it('rejects an order id that is not a GUID with a PermanentError naming the field', async () => {
      const error = await rejection(erp.getSalesOrder('42'));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('orderId');
    });
  });
});
