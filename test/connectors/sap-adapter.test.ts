/**
 * What is particular to SAP, adapter against sandbox: basic auth, the CSRF session
 * expiring mid-session, a stale ETag between read and release, answers lost after SAP
 * committed, SAP's pricing and tax in the total, statuses moved on by delivery and
 * billing, and the business partner lookups (VAT, email, a partner that is not a customer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import type { Party } from '../../functions/connectors/crm/port.ts';
import { SapErp } from '../../functions/connectors/erp/sap/index.ts';
import { partnerKeyFor, purchaseOrderReferenceFor } from '../../functions/connectors/erp/sap/mapping.ts';
import { SEEDED_CUSTOMER, SEEDED_SUPPLIER, startSapSandbox, type SapSandbox } from '../../local/sandbox/sap/sandbox.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';
import { rejection } from '../support/failure.ts';
import { sampleDraft, sampleParty } from '../support/sample-orders.ts';
import { BASIC, odata, results, SANDBOX_USERS, sandboxControl, sapAdapterOptions } from '../fixtures/sap/sandbox-harness.ts';

/** A company party with an email and an address (SAP needs a country), unique per call. */
function party(overrides: Partial<Party> = {}): Party {
  return sampleParty({ email: `${uniqueRef('buyer')}@nordwind.example`, address: { street: 'Hafenstraße 7', city: 'Hamburg', postalCode: '20457', countryCode: 'DE' }, ...overrides });
}

describe('SAP S/4HANA: behaviour particular to SAP', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sap-adapter-'));
  let sandbox: SapSandbox;
  let erp: SapErp;
  let customerId: string;
  beforeAll(async () => {
    sandbox = await startSapSandbox({ ...SANDBOX_USERS, dataDir });
    erp = new SapErp(sapAdapterOptions(sandbox, BASIC));
    customerId = (await erp.upsertCustomer(party())).customerId;
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('basic auth and the CSRF session', () => {
    it('runs the whole order lifecycle with a communication user and password', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      expect(order.status).toBe('draft');
      expect((await erp.confirmSalesOrder(order.id)).status).toBe('confirmed');
      expect((await erp.cancelSalesOrder(order.id)).status).toBe('cancelled');
    });

    it('a wrong password is a PermanentError naming the settings to check', async () => {
      const refused = new SapErp(sapAdapterOptions(sandbox, { scheme: 'basic', username: SANDBOX_USERS.username, password: 'wrong' }));
      const error = await rejection(refused.getSalesOrder('4711'));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('auth');
      expect(error.message).toMatch(/SAP_USERNAME, SAP_PASSWORD/);
    });

    it('a sap-client the system does not have is refused as auth, naming SAP_CLIENT', async () => {
      const wrongClient = new SapErp(sapAdapterOptions(sandbox, BASIC, { sapClient: '200' }));
      const error = await rejection(wrongClient.getSalesOrder('4711'));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/SAP_CLIENT/);
    });

    it('fetches a new CSRF token once when SAP ended the session mid-way, and the write goes through', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      await sandboxControl(sandbox, '/__sandbox/expire-sessions');
      const confirmed = await erp.confirmSalesOrder(order.id);
      expect(confirmed.status).toBe('confirmed');
      await sandboxControl(sandbox, '/__sandbox/expire-sessions');
      expect((await erp.cancelSalesOrder(order.id)).status).toBe('cancelled');
    });

    it('a token fetch that fails is retryable, and the next write fetches again', async () => {
      await sandboxControl(sandbox, '/__sandbox/expire-sessions');
      await sandboxControl(sandbox, '/__sandbox/faults', { count: 1, kind: '500', operation: 'GET API_SALES_ORDER_SRV' });
      const orderDraft = sampleDraft(customerId);
      const error = await rejection(erp.createSalesOrder(orderDraft));
      expect(error).toBeInstanceOf(RetryableError);
      expect((await erp.createSalesOrder(orderDraft)).externalRef).toBe(orderDraft.externalRef);
    });
  });

  describe('orders', () => {
    it('totals the net value SAP priced from the CRM prices plus the output tax', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      // 4 × 22.50 + 2 × (90 less 10 %) = 252.00 net, 19 % tax 47.88.
      expect(order.amountTotal).toBe(299.88);
      expect(order.currency).toBe('EUR');
      expect(order.reference).toBe(order.id);
      expect(order.id).toMatch(/^[1-9]\d*$/);
    });

    it('leaves prices to SAP\'s condition records when told to', async () => {
      const sapPriced = new SapErp(sapAdapterOptions(sandbox, BASIC, { orders: { salesOrderType: 'OR', salesArea: { salesOrganization: '1710', distributionChannel: '10', division: '00' }, deliveryBlock: 'Z1', pricing: 'sap', priceConditionType: 'PR00' } }));
      const order = await sapPriced.createSalesOrder(sampleDraft(customerId));
      // 4 × 25 + 2 × 95 = 290 net (list prices), 19 % tax 55.10.
      expect(order.amountTotal).toBe(345.1);
    });

    it('an order lost after SAP saved it is found on the retry, not created twice', async () => {
      const orderDraft = sampleDraft(customerId);
      await sandboxControl(sandbox, '/__sandbox/faults', { count: 1, kind: 'commit-then-drop', operation: 'POST A_SalesOrder' });
      expect(await rejection(erp.createSalesOrder(orderDraft))).toBeInstanceOf(RetryableError);
      const order = await erp.createSalesOrder(orderDraft);
      const stored = await odata(sandbox, 'GET', `API_SALES_ORDER_SRV/A_SalesOrder?$filter=PurchaseOrderByCustomer eq '${orderDraft.externalRef}'`);
      expect(results(stored.json).map((row) => row.SalesOrder)).toEqual([order.id]);
    });

    it('keeps a reference longer than PurchaseOrderByCustomer in a stable short form and finds the order by it', async () => {
      const externalRef = `salesforce:opportunity:${'0'.repeat(5)}${uniqueRef('006Hs00001AbCdEfGh')}`;
      const first = await erp.createSalesOrder(sampleDraft(customerId, { externalRef }));
      const again = await erp.createSalesOrder(sampleDraft(customerId, { externalRef }));
      expect(again.id).toBe(first.id);
      expect((await erp.findSalesOrderByExternalRef(externalRef))?.externalRef).toBe(externalRef);
      const stored = await odata(sandbox, 'GET', `API_SALES_ORDER_SRV/A_SalesOrder('${first.id}')`);
      expect((stored.json.d as Record<string, unknown>).PurchaseOrderByCustomer).toBe(purchaseOrderReferenceFor(externalRef));
    });

    it('releases an order someone changed between the read and the update: reads it again and uses the fresh ETag', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      await sandboxControl(sandbox, '/__sandbox/concurrent-edits', { count: 1 });
      expect((await erp.confirmSalesOrder(order.id)).status).toBe('confirmed');
    });

    it('gives up with a RetryableError when the order changes under it twice', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      await sandboxControl(sandbox, '/__sandbox/concurrent-edits', { count: 2 });
      const error = await rejection(erp.confirmSalesOrder(order.id));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('412');
    });

    it('does not lift a delivery block it did not set: confirming waits for SAP (RetryableError)', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      await odata(sandbox, 'PATCH', `API_SALES_ORDER_SRV/A_SalesOrder('${order.id}')`, { body: { DeliveryBlockReason: '01' }, ifMatch: '*' });
      const error = await rejection(erp.confirmSalesOrder(order.id));
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toMatch(/delivery block 01/);
      expect((await erp.getSalesOrder(order.id)).status).toBe('draft');
    });

    it('creates orders confirmed when no delivery block is configured', async () => {
      const unblocked = new SapErp(sapAdapterOptions(sandbox, BASIC, { orders: { salesOrderType: 'OR', salesArea: { salesOrganization: '1710', distributionChannel: '10', division: '00' }, deliveryBlock: '', pricing: 'crm', priceConditionType: 'PR00' } }));
      const order = await unblocked.createSalesOrder(sampleDraft(customerId));
      expect(order.status).toBe('confirmed');
      expect(await unblocked.confirmSalesOrder(order.id)).toEqual(order);
    });

    it('reads shipped after the goods issue, and then refuses to cancel with SAP\'s reason', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      await erp.confirmSalesOrder(order.id);
      await sandboxControl(sandbox, '/__sandbox/deliver', { salesOrder: order.id });
      expect((await erp.getSalesOrder(order.id)).status).toBe('shipped');
      const error = await rejection(erp.cancelSalesOrder(order.id));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/delivered/);
    });

    it('reads invoiced once order-related billing is done (services)', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId, { lines: [{ sku: 'SERVICE-HOUR', name: 'Onboarding', quantity: 3, unitPrice: 95 }] }));
      await erp.confirmSalesOrder(order.id);
      await sandboxControl(sandbox, '/__sandbox/bill', { salesOrder: order.id });
      expect((await erp.getSalesOrder(order.id)).status).toBe('invoiced');
    });

    it('a cancelled order counts for nothing: no net value, no tax', async () => {
      const order = await erp.createSalesOrder(sampleDraft(customerId));
      expect((await erp.cancelSalesOrder(order.id)).amountTotal).toBe(0);
    });

    it('refuses a sold-to party SAP does not have with SAP\'s message', async () => {
      const error = await rejection(erp.createSalesOrder(sampleDraft('99999999')));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/Sold-to party 99999999 does not exist/);
    });

    it('refuses a quantity with more decimals than SAP keeps before calling SAP', async () => {
      const error = await rejection(erp.createSalesOrder(sampleDraft(customerId, { lines: [{ sku: 'WIDGET-1', name: 'Widget', quantity: 1.0005, unitPrice: 1 }] })));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/lines\[0\]\.quantity|quantity/);
    });
  });

  describe('customers', () => {
    it('stores the CRM id as BusinessPartnerIDByExtSystem and creates a customer in the sales area', async () => {
      const buyer = party({ vatNumber: 'DE 123.456.789', phone: '+49 40 1234567' });
      const result = await erp.upsertCustomer(buyer);
      const partner = await odata(sandbox, 'GET', `API_BUSINESS_PARTNER/A_BusinessPartner('${result.customerId}')?$expand=to_BusinessPartnerTax,to_BusinessPartnerAddress/to_EmailAddress,to_Customer/to_CustomerSalesArea`);
      const d = partner.json.d as Record<string, any>;
      expect(d.BusinessPartnerIDByExtSystem).toBe(partnerKeyFor(buyer.externalId));
      expect(d.BusinessPartnerCategory).toBe('2');
      expect(d.to_BusinessPartnerTax.results).toMatchObject([{ BPTaxType: 'DE0', BPTaxNumber: 'DE123456789' }]);
      expect(d.to_BusinessPartnerAddress.results[0].to_EmailAddress.results[0].EmailAddress).toBe(buyer.email);
      expect(d.to_Customer.to_CustomerSalesArea.results).toMatchObject([{ SalesOrganization: '1710', DistributionChannel: '10', Division: '00', Currency: 'EUR' }]);
    });

    it('finds a customer someone entered in SAP by VAT number, whatever the spacing, and one by email', async () => {
      const byVat = await erp.upsertCustomer(party({ vatNumber: 'de 811 907 980', email: undefined }));
      expect(byVat).toEqual({ customerId: SEEDED_CUSTOMER.businessPartner, created: false, matchedBy: 'vatNumber' });
      const byEmail = await erp.upsertCustomer(party({ email: SEEDED_CUSTOMER.email }));
      expect(byEmail).toEqual({ customerId: SEEDED_CUSTOMER.businessPartner, created: false, matchedBy: 'email' });
    });

    it('a partner that matches but is not a customer is a PermanentError, not a twin', async () => {
      const error = await rejection(erp.upsertCustomer(party({ vatNumber: SEEDED_SUPPLIER.vatNumber })));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('not-a-customer');
      expect(error.message).toContain(SEEDED_SUPPLIER.businessPartner);
    });

    it('a partner create lost after SAP saved it is found by the CRM id on the retry', async () => {
      const buyer = party();
      await sandboxControl(sandbox, '/__sandbox/faults', { count: 1, kind: 'commit-then-drop', operation: 'POST A_BusinessPartner' });
      expect(await rejection(erp.upsertCustomer(buyer))).toBeInstanceOf(RetryableError);
      const again = await erp.upsertCustomer(buyer);
      expect(again).toMatchObject({ created: false, matchedBy: 'externalId' });
      const partners = await odata(sandbox, 'GET', `API_BUSINESS_PARTNER/A_BusinessPartner?$filter=BusinessPartnerIDByExtSystem eq '${partnerKeyFor(buyer.externalId)}'`);
      expect(results(partners.json)).toHaveLength(1);
    });

    it('splits a long company name over SAP\'s 40-character name fields, and a person\'s into first and last name', async () => {
      const name = 'Nordwind Handels- und Logistikgesellschaft mbH & Co. KG Hamburg';
      const company = await erp.upsertCustomer(party({ name }));
      const stored = (await odata(sandbox, 'GET', `API_BUSINESS_PARTNER/A_BusinessPartner('${company.customerId}')`)).json.d as Record<string, string>;
      const pieces = [stored.OrganizationBPName1, stored.OrganizationBPName2, stored.OrganizationBPName3, stored.OrganizationBPName4].filter((piece) => piece !== '');
      expect(pieces.join(' ')).toBe(name);
      expect(pieces.length).toBeGreaterThan(1);
      expect(Math.max(...pieces.map((piece) => piece!.length))).toBeLessThanOrEqual(40);
      const person = await erp.upsertCustomer(party({ kind: 'person', name: 'Ada King Lovelace' }));
      const storedPerson = (await odata(sandbox, 'GET', `API_BUSINESS_PARTNER/A_BusinessPartner('${person.customerId}')`)).json.d as Record<string, string>;
      expect(storedPerson).toMatchObject({ BusinessPartnerCategory: '1', FirstName: 'Ada King', LastName: 'Lovelace' });
    });

    it('a party without a country is an error naming the field when no default country is set', async () => {
      const noDefault = new SapErp(sapAdapterOptions(sandbox, BASIC, { customers: { salesArea: { salesOrganization: '1710', distributionChannel: '10', division: '00' }, currency: 'EUR' } }));
      const error = await rejection(noDefault.upsertCustomer(party({ address: { city: 'Hamburg' } })));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/Country/);
    });
  });
});
