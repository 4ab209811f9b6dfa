/**
 * The Salesforce adapter against the sandbox beyond the shared contract: recorded Salesforce
 * answers replayed by the sandbox (errors, token answers, a query of another shape), paging
 * through `nextRecordsUrl`, a single-currency org without person accounts, stages, field
 * names, id checks and timeouts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { SalesforceCrm, type SalesforceCrmOptions } from '../../functions/connectors/crm/salesforce/index.ts';
import { idSuffix } from '../../functions/connectors/crm/salesforce/record-id.ts';
import { SandboxControl } from '../../local/sandbox/salesforce/control-client.ts';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../local/sandbox/salesforce/server.ts';
import { rejection } from '../support/failure.ts';

const CLIENT_ID = '3MVG9harmony.transport.consumer.key';
const CLIENT_SECRET = 'transport-consumer-secret';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/salesforce/${name}`, import.meta.url), 'utf8'));
}

describe('Salesforce adapter on a multi-currency org with person accounts', () => {
  let sandbox: SalesforceSandbox;
  let control: SandboxControl;
  let crm: SalesforceCrm;
  const adapter = (options: Partial<SalesforceCrmOptions> = {}) =>
    new SalesforceCrm({ loginUrl: new URL(sandbox.url), credentials: { flow: 'client-credentials', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, timeoutMs: 1000, ...options });
  const seedWon = (name: string) =>
    control.seedOpportunity({
      name,
      account: { name: `${name} AG`, vatNumber: 'ATU12345678', billingCity: 'Wien', billingPostalCode: '1010', billingStreet: 'Ring 1', billingCountryCode: 'AT', phone: '+43 1 555' },
      contact: { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com', phone: '+43 1 556' },
      lines: [{ productCode: 'DOCK-4', quantity: 1 }],
    });

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, queryBatchSize: 2 });
    control = new SandboxControl(sandbox.url);
    crm = adapter();
  });
  afterAll(() => sandbox?.close());

  it('reads every line item across query batches (nextRecordsUrl), with list prices and discounts', async () => {
    const seeded = await control.seedOpportunity({
      name: 'Five lines',
      currencyIsoCode: 'USD',
      account: { name: 'Paging Inc' },
      lines: [
        { productCode: 'WIDGET-1', quantity: 1 },
        { productCode: 'GADGET-2', quantity: 2, discount: 10 },
        { productCode: 'SERVICE-HOUR', quantity: 3, unitPrice: 100 },
        { productCode: 'CABLE-3', quantity: 4 },
        { productCode: 'DOCK-4', quantity: 5 },
      ],
    });

    const deal = await crm.getDeal(seeded.opportunityId);

    expect(deal.currency).toBe('USD');
    expect(deal.lines.map((line) => [line.sku, line.quantity, line.unitPrice, line.discountPercent])).toEqual([
      ['WIDGET-1', 1, 27, undefined],
      ['GADGET-2', 2, 130, 10],
      ['SERVICE-HOUR', 3, 100, undefined],
      ['CABLE-3', 4, 4.9, undefined],
      ['DOCK-4', 5, 205, undefined],
    ]);
    expect(deal.amount).toBe(27 + 234 + 300 + 19.6 + 1025);
  });

  it('maps the account, its billing address and VAT number, and the primary contact', async () => {
    const seeded = await seedWon('Address');

    const deal = await crm.getDeal(seeded.opportunityId);

    expect(deal.customer).toEqual({
      externalId: `salesforce:account:${seeded.accountId}`,
      kind: 'company',
      name: 'Address AG',
      phone: '+43 1 555',
      vatNumber: 'ATU12345678',
      address: { street: 'Ring 1', city: 'Wien', postalCode: '1010', countryCode: 'AT' },
    });
    expect(deal.contact).toEqual({ externalId: `salesforce:contact:${seeded.contactId}`, kind: 'person', name: 'Grace Hopper', email: 'grace@example.com', phone: '+43 1 556' });
    expect(deal.closeDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('a person account is a person customer with the person email', async () => {
    const seeded = await control.seedOpportunity({ name: 'Person', account: { person: { firstName: 'Ada', lastName: 'Byron', email: 'ada@example.com' } }, lines: [{ productCode: 'CABLE-3', quantity: 2 }] });

    const deal = await crm.getDeal(seeded.opportunityId);

    expect(deal.customer).toMatchObject({ kind: 'person', name: 'Ada Byron', email: 'ada@example.com' });
    expect(deal.contact).toMatchObject({ name: 'Ada Byron', email: 'ada@example.com' });
  });

  it('IsWon decides a win, IsClosed without IsWon is closedlost, an open stage keeps its name', async () => {
    const lost = await control.seedOpportunity({ name: 'Lost', stageName: 'Closed Lost', account: { name: 'L' } });
    const open = await control.seedOpportunity({ name: 'Open', stageName: 'Negotiation/Review', account: { name: 'O' } });

    expect((await crm.getDeal(lost.opportunityId)).stage).toBe('closedlost');
    expect((await crm.getDeal(open.opportunityId)).stage).toBe('Negotiation/Review');
  });

  it('accepts the 15-character form of an id and answers with the 18-character one', async () => {
    const seeded = await seedWon('Fifteen');

    const deal = await crm.getDeal(seeded.opportunityId.slice(0, 15));

    expect(deal.id).toBe(seeded.opportunityId);
  });

  it('refuses ids of another object or with a wrong suffix before calling Salesforce', async () => {
    const seeded = await seedWon('Wrong ids');
    await control.injectFault({ kind: '500', count: 5 });

    const accountId = await rejection(crm.getDeal(seeded.accountId!));
    const wrongSuffix = seeded.opportunityId.endsWith('AAA') ? 'BBB' : 'AAA';
    const badSuffix = await rejection(crm.updateDeal(`${seeded.opportunityId.slice(0, 15)}${wrongSuffix}`, { erpStatus: 'confirmed' }));
    await control.clearFaults();

    expect(accountId).toBeInstanceOf(PermanentError);
    expect(accountId.message).toContain('not an Opportunity id');
    expect(badSuffix).toBeInstanceOf(PermanentError);
    expect(badSuffix.message).toContain('15- or 18-character');
  });

  it('clears an earlier sync error and keeps the order reference when a later update has none', async () => {
    const seeded = await seedWon('Clear error');
    await crm.updateDeal(seeded.opportunityId, { erpStatus: 'sync_failed', syncError: 'ERP down' });
    await crm.updateDeal(seeded.opportunityId, { erpOrderRef: 'S1', erpStatus: 'confirmed' });

    await crm.updateDeal(seeded.opportunityId, { erpStatus: 'shipped' });

    expect(await control.record(seeded.opportunityId)).toMatchObject({ Harmony_ERP_Order_Ref__c: 'S1', Harmony_ERP_Status__c: 'shipped', Harmony_Sync_Error__c: null });
  });

  it('a write-back field the org does not have is a PermanentError with Salesforce INVALID_FIELD and the name', async () => {
    const seeded = await seedWon('Bad field');

    const error = await rejection(adapter({ syncFields: { status: 'ERP_State__c' } }).updateDeal(seeded.opportunityId, { erpStatus: 'confirmed' }));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/INVALID_FIELD.*ERP_State__c/);
  });

  it('a VAT field set explicitly that accounts lack is a configuration error naming the setting', async () => {
    const seeded = await seedWon('Vat');

    const error = await rejection(adapter({ vatField: 'Tax_Id__c' }).getDeal(seeded.opportunityId));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('SALESFORCE_VAT_FIELD');
  });

  it('a recorded 403 REQUEST_LIMIT_EXCEEDED is retryable and carries Retry-After', async () => {
    const seeded = await seedWon('Limit');
    await control.cannedAnswer({ operation: 'GET /sobjects/Opportunity', status: 403, body: fixture('rest-error-request-limit-exceeded.json'), headers: { 'retry-after': '30' } });

    const error = await rejection(crm.getDeal(seeded.opportunityId));

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterSeconds).toBe(30);
    expect(error.message).toContain('REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.');
  });

  it('a recorded 401 INVALID_SESSION_ID gets one new token and the call succeeds', async () => {
    const seeded = await seedWon('Session');
    await control.cannedAnswer({ operation: 'PATCH /sobjects/Opportunity', status: 401, body: fixture('rest-error-invalid-session.json') });

    await crm.updateDeal(seeded.opportunityId, { erpOrderRef: 'S9', erpStatus: 'confirmed' });

    expect(await control.record(seeded.opportunityId)).toMatchObject({ Harmony_ERP_Order_Ref__c: 'S9' });
  });

  it('a session refused again after a new token is a PermanentError about auth, not a loop', async () => {
    const seeded = await seedWon('Session twice');
    await control.cannedAnswer({ operation: 'GET /sobjects/Opportunity', status: 401, body: fixture('rest-error-invalid-session.json'), count: 2 });

    const error = await rejection(crm.getDeal(seeded.opportunityId));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/refused a freshly issued access token too.*INVALID_SESSION_ID/);
  });

  it('a recorded JWT bearer refusal names the flow, the reason and what to check', async () => {
    const seeded = await seedWon('Jwt refusal');
    const { privateKey } = await import('node:crypto').then((crypto) =>
      crypto.generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }),
    );
    await control.cannedAnswer({ operation: 'POST /services/oauth2/token', status: 400, body: fixture('oauth-error-audience-invalid.json') });

    const error = await rejection(adapter({ credentials: { flow: 'jwt-bearer', clientId: CLIENT_ID, username: 'u@example.com', privateKey } }).getDeal(seeded.opportunityId));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('JWT bearer flow (invalid_grant — audience is invalid)');
    expect(error.message).toContain('SALESFORCE_LOGIN_URL');
  });

  it("the recorded client credentials answer from Salesforce Help is refused: its instance_url is a placeholder", async () => {
    const seeded = await seedWon('Placeholder');
    await control.cannedAnswer({ operation: 'POST /services/oauth2/token', status: 200, body: fixture('oauth-client-credentials-token.json') });

    const error = await rejection(adapter({ credentials: { flow: 'client-credentials', clientId: CLIENT_ID, clientSecret: 'rotated-secret' } }).getDeal(seeded.opportunityId));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('instance_url');
  });

  it('a recorded query answer of another object is a PermanentError naming the record and field', async () => {
    const seeded = await seedWon('Other shape');
    await control.cannedAnswer({ operation: 'GET /query', status: 200, body: fixture('rest-query-accounts.json'), count: 2 });

    const error = await rejection(crm.getDeal(seeded.opportunityId));
    await control.clearCannedAnswers();

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/salesforce: unexpected Opportunity(ContactRole|LineItem) of .*\[0\]\.(ContactId|Id|Quantity)/);
  });

  it('a token endpoint that never answers is a RetryableError', async () => {
    const seeded = await seedWon('Slow login');
    await control.injectFault({ kind: 'timeout', operation: 'POST /services/oauth2/token' });

    const error = await rejection(adapter({ credentials: { flow: 'client-credentials', clientId: CLIENT_ID, clientSecret: 'yet-another-secret' } }).getDeal(seeded.opportunityId));
    await control.clearFaults();

    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toContain('POST oauth2/token');
  }, 10_000);

  it('an unknown client id is refused as auth, naming the secrets to check', async () => {
    const seeded = await seedWon('Unknown client');

    const error = await rejection(adapter({ credentials: { flow: 'client-credentials', clientId: '3MVG9unknown', clientSecret: CLIENT_SECRET } }).getDeal(seeded.opportunityId));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('invalid_client_id — client identifier invalid');
    expect(error.message).toContain('SALESFORCE_CLIENT_ID');
  });
});

describe('Salesforce adapter on a single-currency org without person accounts', () => {
  let sandbox: SalesforceSandbox;
  let control: SandboxControl;
  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, multiCurrency: false, personAccounts: false });
    control = new SandboxControl(sandbox.url);
  });
  afterAll(() => sandbox?.close());
  const adapter = (defaultCurrency?: string) =>
    new SalesforceCrm({ loginUrl: new URL(sandbox.url), credentials: { flow: 'client-credentials', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, timeoutMs: 1000, defaultCurrency });

  it('takes the currency from SALESFORCE_DEFAULT_CURRENCY and reads accounts as companies', async () => {
    const seeded = await control.seedOpportunity({ name: 'Single', account: { name: 'Mono GmbH' }, lines: [{ productCode: 'WIDGET-1', quantity: 2 }] });

    const deal = await adapter('EUR').getDeal(seeded.opportunityId);

    expect(deal).toMatchObject({ currency: 'EUR', amount: 50, customer: { kind: 'company', name: 'Mono GmbH' } });
    expect(deal.customer.vatNumber).toBeUndefined();
  });

  it('without SALESFORCE_DEFAULT_CURRENCY the deal cannot be read, and the error says what to set', async () => {
    const seeded = await control.seedOpportunity({ name: 'No currency', account: { name: 'Mono 2' } });

    const error = await rejection(adapter().getDeal(seeded.opportunityId));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('SALESFORCE_DEFAULT_CURRENCY');
  });

  it('an opportunity without an account is bought by its primary contact', async () => {
    const seeded = await control.seedOpportunity({ name: 'No account', contact: { firstName: 'Solo', lastName: 'Buyer', email: 'solo@example.com' } });

    const deal = await adapter('EUR').getDeal(seeded.opportunityId);

    expect(deal.customer).toMatchObject({ kind: 'person', name: 'Solo Buyer', externalId: `salesforce:contact:${seeded.contactId}` });
  });
});

describe('Salesforce adapter errors from the sandbox org itself', () => {
  let sandbox: SalesforceSandbox;
  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => sandbox?.close());

  it('a missing opportunity is NOT_FOUND, permanent, with the id in the message', async () => {
    const id15 = '0065g0zzzzzzzzz';
    const missing = `${id15}${idSuffix(id15)}`;
    const crm = new SalesforceCrm({ loginUrl: new URL(sandbox.url), credentials: { flow: 'client-credentials', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, timeoutMs: 1000 });

    const error = await rejection(crm.getDeal(missing));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(`sobjects/Opportunity/${missing}: HTTP 404 — NOT_FOUND: The requested resource does not exist`);
  });
});
