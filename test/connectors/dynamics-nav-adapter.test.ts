/**
 * The Dynamics NAV adapter against the NAV sandbox: the shared ErpPort contract, then
 * what is particular to NAV — the stale-Key retry on Delete, totals with VAT, foreign
 * currency, references with filter syntax in them, names with markup, a create whose
 * answer is lost, the connector declaration and the sandbox declaration the hub uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { dynamicsNavConnector } from '../../functions/connectors/erp/dynamics-nav/connector.ts';
import { DynamicsNavErp } from '../../functions/connectors/erp/dynamics-nav/index.ts';
import type { SalesOrderDraft } from '../../functions/connectors/erp/port.ts';
import { dynamicsNavSandbox, startDynamicsNavSandbox, type DynamicsNavSandbox } from '../../local/sandbox/dynamics-nav/sandbox.ts';
import type { FaultRequest } from '../../local/sandbox/faults.ts';
import { describeErpPortContract, uniqueRef } from '../contracts/erp-port-contract.ts';
import { rejection } from '../support/failure.ts';
import { sampleDraft } from '../support/sample-orders.ts';

const USERNAME = 'HARMONY';
const PASSWORD = 'adapter-test-password';

function adapter(sandbox: DynamicsNavSandbox, password = PASSWORD, timeoutMs = 1_500): DynamicsNavErp {
  return new DynamicsNavErp({ baseUrl: new URL(sandbox.baseUrl), username: USERNAME, password, localCurrency: sandbox.localCurrency, timeoutMs });
}

async function control(sandbox: DynamicsNavSandbox, path: string, method: string, body?: unknown): Promise<void> {
  const response = await fetch(`${sandbox.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(response.ok).toBe(true);
}

const injectFault = (sandbox: DynamicsNavSandbox, fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>) => control(sandbox, '/__sandbox/faults', 'POST', { count: 1, ...fault });

/** Reads a record straight from the sandbox with a hand-written envelope, parsed by fast-xml-parser: what NAV holds, not what the adapter says. */
async function readRecord(sandbox: DynamicsNavSandbox, service: string, no: string): Promise<Record<string, unknown> | undefined> {
  const namespace = `urn:microsoft-dynamics-schemas/page/${service.toLowerCase()}`;
  const response = await fetch(`${sandbox.baseUrl}/Page/${service}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: `"${namespace}:Read"`,
      Authorization: `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`,
      'x-sandbox-faults': 'bypass',
    },
    body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Read xmlns="${namespace}"><No>${no}</No></Read></s:Body></s:Envelope>`,
  });
  expect(response.status).toBe(200);
  const parsed = new XMLParser({ removeNSPrefix: true, parseTagValue: false, processEntities: true, htmlEntities: true }).parse(await response.text()) as {
    Envelope: { Body: { Read_Result: Record<string, Record<string, unknown>> | '' } };
  };
  const result = parsed.Envelope.Body.Read_Result;
  return result === '' ? undefined : result[service];
}

describeErpPortContract(
  'Dynamics NAV (SOAP)',
  async () => {
    const sandbox = await startDynamicsNavSandbox({ username: USERNAME, password: PASSWORD });
    return {
      erp: adapter(sandbox),
      knownSkus: ['WIDGET-1', 'SERVICE-HOUR'],
      missingOrderId: 'SO-999999',
      currency: 'EUR',
      injectFault: (fault) => injectFault(sandbox, fault),
      clearFaults: () => control(sandbox, '/__sandbox/faults', 'DELETE'),
      withBadCredentials: () => adapter(sandbox, 'not-the-password'),
      close: () => sandbox.close(),
    };
  },
  { credentials: true, accessTokens: false, cancelledOrdersDisappear: true, readOperation: 'SalesOrder.Read' },
);

describe('DynamicsNavErp on the NAV sandbox', () => {
  let sandbox: DynamicsNavSandbox;
  let erp: DynamicsNavErp;
  let customerId: string;

  const draft = (overrides: Partial<SalesOrderDraft> = {}): SalesOrderDraft => sampleDraft(customerId, overrides);

  beforeAll(async () => {
    sandbox = await startDynamicsNavSandbox({ username: USERNAME, password: PASSWORD });
    erp = adapter(sandbox);
    customerId = (await erp.upsertCustomer({ externalId: uniqueRef('hubspot:company'), kind: 'company', name: 'Nordwind Handels GmbH' })).customerId;
  });

  afterAll(async () => {
    await sandbox.close();
  });

  describe('stale Key', () => {
    it('reads the order again and deletes it when another session changed it after the read', async () => {
      const order = await erp.createSalesOrder(draft());
      await control(sandbox, '/__sandbox/concurrent-edits', 'POST', { service: 'SalesOrder', no: order.id, count: 1 });
      expect((await erp.cancelSalesOrder(order.id)).status).toBe('cancelled');
      expect(await readRecord(sandbox, 'SalesOrder', order.id)).toBeUndefined();
    });

    it('retries once only: a second stale Key is a RetryableError stale-key and the order stays', async () => {
      const order = await erp.createSalesOrder(draft());
      await control(sandbox, '/__sandbox/concurrent-edits', 'POST', { service: 'SalesOrder', no: order.id, count: 2 });
      const error = await rejection(erp.cancelSalesOrder(order.id));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('stale-key');
      expect(error.message).toMatch(/Another user has modified the record for this Sales Header/);
      expect(await readRecord(sandbox, 'SalesOrder', order.id)).toBeDefined();
      expect((await erp.cancelSalesOrder(order.id)).status).toBe('cancelled');
    });
  });

  describe('orders', () => {
    it('answers NAV’s total including VAT: lines 4 × 22.50 and 2 × 90 − 10 %, plus 25 % VAT', async () => {
      const order = await erp.createSalesOrder(draft());
      expect(order).toMatchObject({ status: 'draft', currency: 'EUR', amountTotal: 315 });
      expect(order.reference).toMatch(/^SO-\d{4,}$/);
      const stored = await readRecord(sandbox, 'SalesOrder', order.id);
      expect(stored).toMatchObject({ Status: 'Open', Sell_to_Customer_No: customerId });
      expect(stored).not.toHaveProperty('Currency_Code');
    });

    it('keeps an order in a foreign currency in that currency; the local currency travels as a blank Currency Code', async () => {
      const order = await erp.createSalesOrder(draft({ currency: 'USD' }));
      expect(order.currency).toBe('USD');
      expect((await readRecord(sandbox, 'SalesOrder', order.id))?.Currency_Code).toBe('USD');
    });

    it('refuses a currency NAV does not have with a PermanentError naming it, creating nothing', async () => {
      const orderDraft = draft({ currency: 'JPY' });
      const error = await rejection(erp.createSalesOrder(orderDraft));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('(JPY) that cannot be found in the related table (Currency)');
      expect(await erp.findSalesOrderByExternalRef(orderDraft.externalRef)).toBeUndefined();
    });

    it('matches references exactly even when they contain NAV filter syntax', async () => {
      const suffix = uniqueRef('x');
      const tricky = await erp.createSalesOrder(draft({ externalRef: `q:${suffix}*|'&..(1)` }));
      const plain = await erp.createSalesOrder(draft({ externalRef: `q:${suffix}` }));
      expect((await erp.findSalesOrderByExternalRef(`q:${suffix}*|'&..(1)`))?.id).toBe(tricky.id);
      expect((await erp.findSalesOrderByExternalRef(`q:${suffix}`))?.id).toBe(plain.id);
      expect(await erp.findSalesOrderByExternalRef(`q:${suffix}*`)).toBeUndefined();
    });

    it('a create whose answer was lost (committed, then the connection dropped) is retried without a second order', async () => {
      const orderDraft = draft();
      await injectFault(sandbox, { kind: 'commit-then-drop', operation: 'SalesOrder.Create' });
      const lost = await rejection(erp.createSalesOrder(orderDraft));
      expect(lost).toBeInstanceOf(RetryableError);
      const retried = await erp.createSalesOrder(orderDraft);
      expect(retried.externalRef).toBe(orderDraft.externalRef);
      const again = await erp.createSalesOrder(orderDraft);
      expect(again.id).toBe(retried.id);
    });

    it('a lock wait (NAV’s "Please retry the activity" Fault) is a RetryableError', async () => {
      const order = await erp.createSalesOrder(draft());
      await injectFault(sandbox, { kind: '500', operation: 'HarmonySalesOrder.ReleaseSalesOrder' });
      const error = await rejection(erp.confirmSalesOrder(order.id));
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toMatch(/locked by another user\. Please retry the activity/);
      expect((await erp.confirmSalesOrder(order.id)).status).toBe('confirmed');
    });

    it('refuses a blocked item with NAV’s message', async () => {
      const error = await rejection(erp.createSalesOrder(draft({ lines: [{ sku: 'LEGACY-0', name: 'Old', quantity: 1, unitPrice: 10 }] })));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain("Blocked must be equal to 'No'  in Item: No.=LEGACY-0");
    });

    it('refuses an order id that cannot be a NAV number before calling NAV', async () => {
      const error = await rejection(erp.getSalesOrder('SO-'.padEnd(21, '9')));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/orderId: NAV numbers \(Code\[20\]\) have at most 20 characters/);
    });
  });

  describe('customers', () => {
    it('keeps a name with markup, quotes and ampersands as text, and the CRM id (upper-cased) in Search Name', async () => {
      const externalId = uniqueRef('hubspot:company');
      const name = `Müller & Söhne <GmbH> "Nord" 'Süd'`;
      const { customerId: no } = await erp.upsertCustomer({ externalId, kind: 'company', name, email: 'einkauf@mueller.example', address: { countryCode: 'de', city: 'Köln' } });
      expect(await readRecord(sandbox, 'Customer', no)).toMatchObject({ Name: name, Search_Name: externalId.toUpperCase(), Country_Region_Code: 'DE', City: 'Köln' });
    });

    it('refuses a control character in a name with a PermanentError naming the field, creating nothing', async () => {
      const externalId = uniqueRef('hubspot:company');
      const error = await rejection(erp.upsertCustomer({ externalId, kind: 'company', name: 'Bell\u0007 GmbH' }));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/Create\.Customer\.Name: contains U\+0007/);
      expect((await erp.upsertCustomer({ externalId, kind: 'company', name: 'Bell GmbH' })).created).toBe(true);
    });

    it('a country NAV does not know is a PermanentError naming it', async () => {
      const error = await rejection(erp.upsertCustomer({ externalId: uniqueRef('hubspot:company'), kind: 'company', name: 'Atlantis AG', address: { countryCode: 'XA' } }));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('(XA) that cannot be found in the related table (Country/Region)');
    });
  });

  describe('durability', () => {
    it('a restarted sandbox has every answered write and continues its number series', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'dynamics-nav-sandbox-'));
      try {
        let first = await startDynamicsNavSandbox({ username: USERNAME, password: PASSWORD, dataDir });
        let navErp = adapter(first);
        const customer = await navErp.upsertCustomer({ externalId: 'hubspot:company:1', kind: 'company', name: 'Durable GmbH' });
        const order = await navErp.createSalesOrder({ ...draft(), customerId: customer.customerId, externalRef: 'hubspot:deal:1' });
        await first.close();
        first = await startDynamicsNavSandbox({ username: USERNAME, password: PASSWORD, dataDir });
        navErp = adapter(first);
        expect(await navErp.getSalesOrder(order.id)).toEqual(await navErp.findSalesOrderByExternalRef('HUBSPOT:DEAL:1'));
        const next = await navErp.createSalesOrder({ ...draft(), customerId: customer.customerId, externalRef: 'hubspot:deal:2' });
        expect(next.id).not.toBe(order.id);
        await first.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});

describe('dynamics-nav connector and sandbox declarations', () => {
  it('the hub’s sandbox environment configures the connector end to end', async () => {
    const running = await dynamicsNavSandbox.start({ host: '127.0.0.1', port: 0, dataDir: mkdtempSync(join(tmpdir(), 'dynamics-nav-hub-')), ingressUrl: 'http://127.0.0.1:1' });
    try {
      const environment = running.environment;
      const settings = dynamicsNavConnector.settings.parse(environment);
      const secrets = Object.fromEntries(Object.entries(dynamicsNavConnector.secrets).map(([field, declared]) => [field, environment[declared.variable]]));
      const erp = dynamicsNavConnector.create(settings, secrets, { timeoutMs: 2_000 });
      const customer = await erp.upsertCustomer({ externalId: uniqueRef('hubspot:company'), kind: 'company', name: 'Hub GmbH' });
      expect(customer.created).toBe(true);
      const error = await rejection(erp.getSalesOrder('SO-999999'));
      expect((error as PermanentError).code).toBe('not-found');
    } finally {
      await running.close();
    }
  });

  it('refuses a URL that is not https (or loopback http), naming the setting', () => {
    const settings = dynamicsNavConnector.settings.parse({ DYNAMICS_NAV_URL: 'http://nav.internal.example:7047/DynamicsNAV/WS/CRONUS', DYNAMICS_NAV_CURRENCY: 'EUR' });
    expect(() => dynamicsNavConnector.create(settings, { username: 'u', password: 'p' }, { timeoutMs: 1_000 })).toThrow(/DYNAMICS_NAV_URL: must be https/);
  });

  it('reads service names with their defaults and refuses one that is not a NAV name', () => {
    const settings = dynamicsNavConnector.settings.parse({ DYNAMICS_NAV_URL: 'https://nav.example.com/WS/X', DYNAMICS_NAV_CURRENCY: 'EUR' });
    expect(settings).toMatchObject({ DYNAMICS_NAV_CUSTOMER_SERVICE: 'Customer', DYNAMICS_NAV_SALES_ORDER_SERVICE: 'SalesOrder', DYNAMICS_NAV_RELEASE_CODEUNIT: 'HarmonySalesOrder', DYNAMICS_NAV_CUSTOMER_REF_FIELD: 'Search_Name' });
    expect(dynamicsNavConnector.settings.safeParse({ DYNAMICS_NAV_URL: 'https://x', DYNAMICS_NAV_CURRENCY: 'EUR', DYNAMICS_NAV_SALES_ORDER_SERVICE: 'Sales Order/../x' }).success).toBe(false);
  });
});
