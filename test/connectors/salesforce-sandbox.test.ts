/**
 * The Salesforce sandbox behaves like the org it stands in for: the token endpoint's checks,
 * REST answers shaped like the documented ones (compared with recorded payloads), Salesforce's
 * error codes, SOQL paging, the record rules Harmony relies on (won stages, line item totals),
 * Outbound Messages once per transition to won, fault injection, and state that survives a
 * restart. Everything here goes over HTTP, as a Salesforce client would.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingOutboundQueue, SandboxControl } from '../../local/sandbox/salesforce/control-client.ts';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../local/sandbox/salesforce/server.ts';

const CLIENT_ID = '3MVG9harmony.sandbox.consumer.key';
const CLIENT_SECRET = 'sandbox-consumer-secret';
const VERSION = 'v62.0';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/salesforce/${name}`, import.meta.url), 'utf8'));
}

/** A signed JWT with any header and claims, to probe the token endpoint's checks. */
function signedAssertion(claims: Record<string, unknown>, privateKey: string, alg = 'RS256'): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg })}.${encode(claims)}`;
  return `${input}.${createSign('sha256').update(input).sign(privateKey).toString('base64url')}`;
}

/** A minimal Salesforce REST client over fetch, for the tests' own calls. */
class RestClient {
  readonly url: string;
  token = '';
  constructor(url: string) {
    this.url = url;
  }

  async token_(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async login(): Promise<void> {
    const answer = await this.token_({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    this.token = String(answer.body.access_token);
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
    const response = await fetch(`${this.url}${path.startsWith('/services') ? path : `/services/data/${VERSION}${path}`}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: response.headers };
  }

  query(soql: string): Promise<{ status: number; body: unknown }> {
    return this.call('GET', `/query?q=${encodeURIComponent(soql)}`);
  }
}

describe('Salesforce sandbox', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const queue = new RecordingOutboundQueue();
  let sandbox: SalesforceSandbox;
  let control: SandboxControl;
  let rest: RestClient;

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, jwtCertificate: keys.publicKey, outboundMessages: queue, queryBatchSize: 2 });
    control = new SandboxControl(sandbox.url);
    rest = new RestClient(sandbox.url);
    await rest.login();
  });
  afterAll(() => sandbox?.close());

  describe('OAuth token endpoint', () => {
    const claims = () => ({ iss: CLIENT_ID, sub: sandbox.username, aud: sandbox.url, exp: Math.floor(Date.now() / 1000) + 120 });

    it('answers the client credentials flow with the fields Salesforce documents, and the token works', async () => {
      const answer = await rest.token_({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
      const documented = fixture('oauth-client-credentials-token.json') as Record<string, unknown>;

      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(Object.keys(documented).sort());
      expect(answer.body).toMatchObject({ token_type: 'Bearer', instance_url: sandbox.url, id: expect.stringContaining(`/id/${sandbox.organizationId}/005`) });
      expect(String(answer.body.access_token)).toMatch(new RegExp(`^${sandbox.organizationId.slice(0, 15)}!`));
    });

    it('refuses a wrong secret and an unknown client as Salesforce does', async () => {
      expect(await rest.token_({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'wrong' })).toEqual({ status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } });
      expect(await rest.token_({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: CLIENT_SECRET })).toEqual({ status: 400, body: { error: 'invalid_client_id', error_description: 'client identifier invalid' } });
      expect((await rest.token_({ grant_type: 'password', username: 'u', password: 'p' })).body).toMatchObject({ error: 'unsupported_grant_type' });
    });

    it('issues a token for a JWT bearer assertion signed with the connected app key', async () => {
      const answer = await rest.token_({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: signedAssertion(claims(), keys.privateKey) });

      expect(answer.status).toBe(200);
      expect(answer.body.instance_url).toBe(sandbox.url);
    });

    it('refuses assertions as Salesforce words it: audience, expiry, lifetime, user, key, algorithm', async () => {
      const jwt = (assertion: string) => rest.token_({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).then((answer) => answer.body);
      const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const now = Math.floor(Date.now() / 1000);

      expect(await jwt(signedAssertion({ ...claims(), aud: 'https://login.salesforce.com' }, keys.privateKey))).toEqual(fixture('oauth-error-audience-invalid.json'));
      expect(await jwt(signedAssertion({ ...claims(), exp: now - 120 }, keys.privateKey))).toEqual({ error: 'invalid_grant', error_description: 'expired authorization code' });
      expect(await jwt(signedAssertion({ ...claims(), exp: now + 3600 }, keys.privateKey))).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
      expect(await jwt(signedAssertion({ ...claims(), sub: 'stranger@example.com' }, keys.privateKey))).toEqual(fixture('oauth-error-user-not-approved.json'));
      expect(await jwt(signedAssertion(claims(), other.privateKey))).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
      expect(await jwt(signedAssertion(claims(), keys.privateKey, 'RS512'))).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
      expect(await jwt(signedAssertion({ ...claims(), iss: 'another-app' }, keys.privateKey))).toEqual({ error: 'invalid_client_id', error_description: 'client identifier invalid' });
    });

    it('expire-tokens ends every session: the API answers 401 INVALID_SESSION_ID', async () => {
      const client = new RestClient(sandbox.url);
      await client.login();
      expect((await client.call('GET', '/query?q=SELECT+Id+FROM+Product2')).status).toBe(200);

      await control.expireTokens();

      expect(await client.call('GET', '/query?q=SELECT+Id+FROM+Product2')).toMatchObject({ status: 401, body: fixture('rest-error-invalid-session.json') });
      await rest.login();
    });
  });

  describe('REST answers', () => {
    it('a SOQL answer has the documented shape (recorded Account query)', async () => {
      const documented = fixture('rest-query-accounts.json') as { records: Record<string, unknown>[] };

      const answer = (await rest.query("SELECT Name FROM Account WHERE Name IN ('Azure Interior', 'Deco Addict')")).body as { totalSize: number; done: boolean; records: Record<string, unknown>[] };

      expect(answer).toMatchObject({ totalSize: 2, done: true });
      expect(answer.records.map((record) => record.Name)).toEqual(['Azure Interior', 'Deco Addict']);
      expect(Object.keys(answer.records[0]!)).toEqual(Object.keys(documented.records[0]!));
      expect(answer.records[0]!.attributes).toEqual({ type: 'Account', url: expect.stringMatching(/^\/services\/data\/v62\.0\/sobjects\/Account\/001[a-zA-Z0-9]{15}$/) });
    });

    it('a parent field comes as a nested record, as in the recorded child-to-parent query', async () => {
      const documented = (fixture('rest-query-child-to-parent.json') as { records: Record<string, Record<string, unknown>>[] }).records[0]!;

      const answer = (await rest.query("SELECT Id, FirstName, LastName, AccountId, Account.Name FROM Contact WHERE LastName = 'freeman'")).body as { records: Record<string, Record<string, unknown>>[] };
      const record = answer.records[0]!;

      expect(Object.keys(record)).toEqual(Object.keys(documented));
      expect(Object.keys(record.Account!)).toEqual(Object.keys(documented.Account!));
      expect(record.Account).toEqual({ attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${String(record.AccountId)}` }, Name: 'Azure Interior' });
    });

    it('pages results through nextRecordsUrl and refuses an unknown locator', async () => {
      const first = (await rest.query('SELECT ProductCode FROM Product2 ORDER BY ProductCode')).body as { totalSize: number; done: boolean; nextRecordsUrl: string; records: { ProductCode: string }[] };
      const codes = first.records.map((record) => record.ProductCode);
      let next: string | undefined = first.nextRecordsUrl;
      while (next !== undefined) {
        const page = (await rest.call('GET', next)).body as { done: boolean; nextRecordsUrl?: string; records: { ProductCode: string }[] };
        codes.push(...page.records.map((record) => record.ProductCode));
        next = page.nextRecordsUrl;
      }

      expect(first).toMatchObject({ totalSize: 5, done: false });
      expect(first.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g[a-zA-Z0-9]{15}-2$/);
      expect(codes).toEqual(['CABLE-3', 'DOCK-4', 'GADGET-2', 'SERVICE-HOUR', 'WIDGET-1']);
      expect(await rest.call('GET', '/query/01gXXXXXXXXXXXXXXX-2')).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_QUERY_LOCATOR' }] });
    });

    it('answers unsupported or wrong SOQL with Salesforce error codes', async () => {
      expect(await rest.query("SELECT Id FROM Opportunity WHERE Name LIKE 'A%'")).toMatchObject({ status: 400, body: [{ errorCode: 'MALFORMED_QUERY', message: expect.stringContaining("'LIKE'") }] });
      expect(await rest.query('SELECT Foo FROM Opportunity')).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD', message: expect.stringContaining("No such column 'Foo' on entity 'Opportunity'") }] });
      expect(await rest.query('SELECT Id FROM Deal__c')).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE' }] });
      expect(await rest.query('SELECT Owner.Name FROM Contact WHERE Boss.Name = null')).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD', message: expect.stringContaining("relationship 'Boss'") }] });
    });

    it('answers records, writes and their errors as the REST API does', async () => {
      const created = await rest.call('POST', '/sobjects/Opportunity', { Name: 'Rest deal', StageName: 'Prospecting', CloseDate: '2026-06-30' });
      const id = (created.body as { id: string }).id;

      expect(created).toMatchObject({ status: 201, body: { id: expect.stringMatching(/^006[a-zA-Z0-9]{15}$/), success: true, errors: [] } });
      expect(created.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/15000$/);
      expect((await rest.call('GET', `/sobjects/Opportunity/${id}?fields=Name,IsWon,Probability`)).body).toEqual({
        attributes: { type: 'Opportunity', url: `/services/data/v62.0/sobjects/Opportunity/${id}` },
        Name: 'Rest deal',
        IsWon: false,
        Probability: 10,
      });
      expect(await rest.call('PATCH', `/sobjects/Opportunity/${id}`, { IsWon: true })).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['IsWon'] }] });
      expect(await rest.call('PATCH', `/sobjects/Opportunity/${id}`, { Nope__c: 'x' })).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD', message: "No such column 'Nope__c' on sobject of type Opportunity" }] });
      expect(await rest.call('PATCH', `/sobjects/Opportunity/${id}`, { Amount: 'ten' })).toMatchObject({ status: 400, body: [{ errorCode: 'JSON_PARSER_ERROR' }] });
      expect(await rest.call('PATCH', `/sobjects/Opportunity/${id}`, { Harmony_ERP_Order_Ref__c: 'x'.repeat(256) })).toMatchObject({ status: 400, body: [{ errorCode: 'STRING_TOO_LONG' }] });
      expect(await rest.call('PATCH', `/sobjects/Opportunity/${id}`, { StageName: 'Won-ish' })).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' }] });
      expect(await rest.call('PATCH', `/sobjects/Opportunity/${id}`, { AccountId: '001000000000000AAA' })).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_CROSS_REFERENCE_KEY' }] });
      expect(await rest.call('POST', '/sobjects/Opportunity', { Name: 'No date', StageName: 'Prospecting' })).toMatchObject({ status: 400, body: [{ errorCode: 'REQUIRED_FIELD_MISSING', fields: ['CloseDate'] }] });
      expect(await rest.call('GET', '/sobjects/Opportunity/not-an-id')).toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'Provided external ID field does not exist or is not accessible: not-an-id' }] });
      expect(await rest.call('GET', `/services/data/v99.0/sobjects/Opportunity/${id}`)).toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND' }] });
      expect(await new RestClient(sandbox.url).call('GET', `/sobjects/Opportunity/${id}`)).toMatchObject({ status: 401, body: [{ errorCode: 'INVALID_SESSION_ID' }] });
    });

    it('keeps line item totals and the opportunity amount as Salesforce computes them', async () => {
      const seeded = await control.seedOpportunity({
        name: 'Totals',
        account: { name: 'Totals Ltd' },
        lines: [
          { productCode: 'CABLE-3', quantity: 3, discount: 12.5 },
          { productCode: 'WIDGET-1', quantity: 1.5, unitPrice: 19.99 },
        ],
      });

      const [cable, widget] = await Promise.all(seeded.lineItemIds.map((id) => control.record(id)));

      expect(cable).toMatchObject({ ProductCode: 'CABLE-3', ListPrice: 4.5, UnitPrice: 4.5, Subtotal: 13.5, TotalPrice: 11.81, Name: 'Totals USB-C Cable', CurrencyIsoCode: 'EUR' });
      expect(widget).toMatchObject({ ProductCode: 'WIDGET-1', ListPrice: 25, UnitPrice: 19.99, TotalPrice: 29.99 });
      expect(seeded.amount).toBe(41.8);
    });
  });

  describe('Outbound Messages', () => {
    it('queues an Opportunity once when it becomes won, never for writes that keep it won', async () => {
      const before = queue.messages.length;
      const seeded = await control.seedOpportunity({ name: 'Outbound', account: { name: 'Outbound GmbH' }, lines: [{ productCode: 'GADGET-2', quantity: 2 }] });
      await rest.call('PATCH', `/sobjects/Opportunity/${seeded.opportunityId}`, { Harmony_ERP_Status__c: 'confirmed' });
      const open = await control.seedOpportunity({ name: 'Still open', stageName: 'Prospecting', account: { name: 'Open Ltd' } });

      expect(queue.messages.slice(before)).toEqual([expect.objectContaining({ Id: seeded.opportunityId, StageName: 'Closed Won', IsWon: true, Amount: 240, Name: 'Outbound', CurrencyIsoCode: 'EUR' })]);

      await rest.call('PATCH', `/sobjects/Opportunity/${open.opportunityId}`, { StageName: 'Closed Won' });
      await rest.call('PATCH', `/sobjects/Opportunity/${open.opportunityId}`, { StageName: 'Negotiation/Review' });
      await rest.call('PATCH', `/sobjects/Opportunity/${open.opportunityId}`, { StageName: 'Closed Won' });

      expect(queue.messages.slice(before + 1).map((message) => [message.Id, message.IsWon])).toEqual([
        [open.opportunityId, true],
        [open.opportunityId, true],
      ]);
    });
  });

  describe('faults', () => {
    it('commit-then-drop stores the write and drops the answer; a bypassed call consumes no fault', async () => {
      const seeded = await control.seedOpportunity({ name: 'Dropped', account: { name: 'Drop AG' } });
      await control.injectFault({ kind: 'commit-then-drop', operation: 'PATCH /sobjects/Opportunity' });

      const bypassed = await rest.call('PATCH', `/sobjects/Opportunity/${seeded.opportunityId}`, { Harmony_ERP_Status__c: 'shipped' }, { 'x-sandbox-faults': 'bypass' });
      const dropped = await rest.call('PATCH', `/sobjects/Opportunity/${seeded.opportunityId}`, { Harmony_ERP_Order_Ref__c: 'S-DROP' }).catch((error: unknown) => error);

      expect(bypassed.status).toBe(204);
      expect(dropped).toBeInstanceOf(Error);
      expect(await control.record(seeded.opportunityId)).toMatchObject({ Harmony_ERP_Status__c: 'shipped', Harmony_ERP_Order_Ref__c: 'S-DROP' });
    });

    it('malformed answers 200 with JSON cut short', async () => {
      await control.injectFault({ kind: 'malformed', operation: 'GET /query' });

      const response = await fetch(`${sandbox.url}/services/data/${VERSION}/query?q=SELECT+Id+FROM+Product2`, { headers: { authorization: `Bearer ${rest.token}` } });
      const text = await response.text();

      expect(response.status).toBe(200);
      expect(() => JSON.parse(text)).toThrow();
    });
  });
});

describe('Salesforce sandbox state across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'salesforce-sandbox-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps records, issued tokens and id counters', async () => {
    const first = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dataDir });
    const rest = new RestClient(first.url);
    await rest.login();
    const seeded = await new SandboxControl(first.url).seedOpportunity({ name: 'Durable', account: { name: 'Durable SE' }, lines: [{ productCode: 'DOCK-4', quantity: 1 }] });
    await rest.call('PATCH', `/sobjects/Opportunity/${seeded.opportunityId}`, { Harmony_ERP_Order_Ref__c: 'S-42' });
    await first.close();

    const second = await startSalesforceSandbox({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dataDir });
    try {
      const again = new RestClient(second.url);
      again.token = rest.token;
      const record = await again.call('GET', `/sobjects/Opportunity/${seeded.opportunityId}?fields=Harmony_ERP_Order_Ref__c,Amount,IsWon`);
      const next = await new SandboxControl(second.url).seedOpportunity({ name: 'After restart', account: { id: seeded.accountId! } });
      const products = (await again.query('SELECT Id FROM Product2')).body as { totalSize: number };

      expect(record).toMatchObject({ status: 200, body: { Harmony_ERP_Order_Ref__c: 'S-42', Amount: 189, IsWon: true } });
      expect(next.opportunityId).not.toBe(seeded.opportunityId);
      expect(products.totalSize).toBe(5);
    } finally {
      await second.close();
    }
  });
});
