/**
 * The Salesforce adapter passes the shared CrmPort contract against the Salesforce sandbox with
 * the OAuth 2.0 client credentials flow, and reads and writes the same way with the JWT bearer
 * flow. The harness seeds and reads through the sandbox's control routes only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../../functions/core/errors.ts';
import { SalesforceCrm } from '../../functions/connectors/crm/salesforce/index.ts';
import { idSuffix } from '../../functions/connectors/crm/salesforce/record-id.ts';
import { RecordingOutboundQueue, SandboxControl } from '../../local/sandbox/salesforce/control-client.ts';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../local/sandbox/salesforce/server.ts';
import { describeCrmPortContract, type SeededDeal } from '../contracts/crm-port-contract.ts';
import { rejection } from '../support/failure.ts';

const CLIENT_ID = '3MVG9harmony.contract.consumer.key';
const CLIENT_SECRET = 'contract-consumer-secret';
const TIMEOUT_MS = 1500;

/** An id with the Opportunity prefix and a valid suffix that the sandbox never allocates. */
function unusedOpportunityId(): string {
  const id15 = '0065g0zzzzzzzzz';
  return `${id15}${idSuffix(id15)}`;
}

/** Seeds a won opportunity like the contract wants: a company (or a person account), a contact, two lines. */
async function seedContractDeal(control: SandboxControl, sequence: number, person: boolean): Promise<SeededDeal> {
  const email = `buyer-${sequence}@contract.example`;
  const lines = [
    { sku: 'WIDGET-1', quantity: 4, unitPrice: 22.5 },
    { sku: 'SERVICE-HOUR', quantity: 2, unitPrice: 90 },
  ];
  const name = `Contract deal ${sequence}`;
  const seeded = await control.seedOpportunity({
    name,
    stageName: 'Closed Won',
    currencyIsoCode: 'EUR',
    account: person
      ? { person: { firstName: 'Ada', lastName: `Lovelace ${sequence}`, email } }
      : { name: `Nordwind ${sequence} GmbH`, vatNumber: `DE${100_000_000 + sequence}`, billingCountryCode: 'DE' },
    ...(person ? {} : { contact: { firstName: 'Ada', lastName: `Lovelace ${sequence}`, email } }),
    lines: lines.map((line) => ({ productCode: line.sku, quantity: line.quantity, unitPrice: line.unitPrice })),
  });
  return {
    dealId: seeded.opportunityId,
    name,
    amount: 270,
    currency: 'EUR',
    stage: 'closedwon',
    customer: person ? { kind: 'person', name: `Ada Lovelace ${sequence}` } : { kind: 'company', name: `Nordwind ${sequence} GmbH` },
    contactEmail: email,
    lines,
  };
}

describeCrmPortContract(
  'Salesforce (OAuth 2.0 client credentials)',
  async () => {
    const sandbox = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, outboundMessages: new RecordingOutboundQueue() });
    const control = new SandboxControl(sandbox.url);
    const loginUrl = new URL(sandbox.url);
    let sequence = 0;
    return {
      crm: new SalesforceCrm({ loginUrl, credentials: { flow: 'client-credentials', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, timeoutMs: TIMEOUT_MS }),
      seedWonDeal: () => seedContractDeal(control, (sequence += 1), false),
      seedPersonDeal: () => seedContractDeal(control, (sequence += 1), true),
      async readSyncFields(dealId) {
        const record = await control.record(dealId);
        const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
        return { erpOrderRef: text(record.Harmony_ERP_Order_Ref__c), erpStatus: text(record.Harmony_ERP_Status__c), syncError: text(record.Harmony_Sync_Error__c) };
      },
      missingDealId: unusedOpportunityId(),
      injectFault: (fault) => control.injectFault(fault),
      clearFaults: () => control.clearFaults(),
      withBadCredentials: () =>
        new SalesforceCrm({ loginUrl, credentials: { flow: 'client-credentials', clientId: CLIENT_ID, clientSecret: 'not-the-secret' }, timeoutMs: TIMEOUT_MS }),
      expireTokens: () => control.expireTokens(),
      close: () => sandbox.close(),
    };
  },
  { accessTokens: true },
);

describe('Salesforce adapter with the OAuth 2.0 JWT bearer flow', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  let sandbox: SalesforceSandbox;
  let control: SandboxControl;
  const jwtAdapter = (overrides: { username?: string; privateKey?: string; clientId?: string } = {}) =>
    new SalesforceCrm({
      loginUrl: new URL(sandbox.url),
      credentials: { flow: 'jwt-bearer', clientId: overrides.clientId ?? CLIENT_ID, username: overrides.username ?? sandbox.username, privateKey: overrides.privateKey ?? keys.privateKey },
      timeoutMs: TIMEOUT_MS,
    });

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, jwtCertificate: keys.publicKey });
    control = new SandboxControl(sandbox.url);
  });
  afterAll(() => sandbox?.close());

  it('reads a won deal, writes its status back, and replaces an expired session', async () => {
    const seeded = await seedContractDeal(control, 1, false);
    const crm = jwtAdapter();

    const deal = await crm.getDeal(seeded.dealId);
    await crm.updateDeal(seeded.dealId, { erpOrderRef: 'S07001', erpStatus: 'confirmed' });
    await control.expireTokens();
    const again = await crm.getDeal(seeded.dealId);

    expect(deal).toMatchObject({ id: seeded.dealId, stage: 'closedwon', amount: 270, currency: 'EUR', customer: { kind: 'company', name: seeded.customer.name } });
    expect(again.id).toBe(seeded.dealId);
    expect(await control.record(seeded.dealId)).toMatchObject({ Harmony_ERP_Order_Ref__c: 'S07001', Harmony_ERP_Status__c: 'confirmed' });
  });

  it('an assertion signed with a key the connected app does not hold is refused as auth', async () => {
    const seeded = await seedContractDeal(control, 2, false);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

    const error = await rejection(jwtAdapter({ privateKey: other.privateKey }).getDeal(seeded.dealId));

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/auth.*JWT bearer.*invalid assertion/);
  });

  it('a user the connected app is not approved for is refused, naming the username to check', async () => {
    const seeded = await seedContractDeal(control, 3, false);

    const error = await rejection(jwtAdapter({ username: 'someone.else@example.com' }).getDeal(seeded.dealId));

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("user hasn't approved this consumer");
    expect((error as Error).message).toContain('SALESFORCE_USERNAME');
  });

  it('a private key that is not RSA is refused when the adapter is built, naming the secret', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

    expect(() => jwtAdapter({ privateKey: ec.privateKey })).toThrow(/SALESFORCE_PRIVATE_KEY.*RSA/);
  });
});
