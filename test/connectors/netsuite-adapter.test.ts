/**
 * The NetSuite adapter beyond the shared contract: recorded payloads from NetSuite's REST web
 * services guide (error bodies, a sales order, the async job protocol, the TBA base string,
 * the client assertion), the idempotency key at work when a create's answer is lost, and the
 * behaviour the sandbox checks (amounts, closing lines, SuiteQL quoting and paging, token
 * reuse across invocations, TBA nonces, state across a restart).
 */
import { constants, createPublicKey, createSign, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { clientAssertion, readPrivateKey } from '../../functions/connectors/erp/netsuite/client-credentials-auth.ts';
import { NetsuiteClient } from '../../functions/connectors/erp/netsuite/client.ts';
import { defaultBaseUrl, netsuiteConnector, realmOf } from '../../functions/connectors/erp/netsuite/connector.ts';
import { fromExternalId, idempotencyKeyFor, toExternalId } from '../../functions/connectors/erp/netsuite/external-id.ts';
import { ItemRow, ORDER_STATUSES, SalesOrderRecord, toErpOrder, toErpOrderStatus } from '../../functions/connectors/erp/netsuite/mapping.ts';
import { signatureBaseString, TokenBasedAuth } from '../../functions/connectors/erp/netsuite/token-based-auth.ts';
import { describeNetsuiteFailure, errorForNetsuiteAnswer, netsuiteErrorCode, parseNetsuiteError } from '../../functions/connectors/erp/netsuite/vendor-errors.ts';
import type { ErpPort } from '../../functions/connectors/erp/port.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';
import { readConnectorSecrets } from '../../functions/connectors/registry.ts';
import { readEnv } from '../../functions/core/env.ts';
import { netsuiteSandbox } from '../../local/sandbox/netsuite/sandbox.ts';
import { SANDBOX_TAX_RATE } from '../../local/sandbox/netsuite/server.ts';
import { startNetsuiteTestAccount, type NetsuiteTestAccount } from '../../local/sandbox/netsuite/test-account.ts';
import { rejection } from '../support/failure.ts';
import { sampleDraft } from '../support/sample-orders.ts';

function fixture(name: string): string {
  return readFileSync(join(import.meta.dirname, '..', 'fixtures', 'netsuite', name), 'utf8');
}

/** The error a promise rejects with; fails the test when it resolves. */

describe('recorded NetSuite payloads', () => {
  it('a 401 INVALID_LOGIN body is described with its detail and code', () => {
    const text = describeNetsuiteFailure(401, fixture('error-401-invalid-login.json'));
    expect(text).toContain('Invalid login attempt');
    expect(text).toContain('INVALID_LOGIN');
  });

  it('a 400 INVALID_CONTENT body is a PermanentError naming the field path and the vendor code', () => {
    const error = errorForNetsuiteAnswer('POST salesOrder', 400, fixture('error-400-invalid-content.json'), new Headers());
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('INVALID_CONTENT');
    expect(error.message).toContain('Invalid Field Value 9999 for the following field: item');
    expect(error.message).toContain('item.items[0].item');
  });

  it('the same body with a concurrency code is a RetryableError carrying Retry-After', () => {
    const throttled = fixture('error-400-invalid-content.json').replace('INVALID_CONTENT', 'SSS_REQUEST_LIMIT_EXCEEDED');
    const error = errorForNetsuiteAnswer('GET salesOrder', 400, throttled, new Headers({ 'retry-after': '5' }));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterSeconds).toBe(5);
  });

  it('reads the idempotency conflict code', () => {
    expect(netsuiteErrorCode(parseNetsuiteError(fixture('error-400-idempotency.json')))).toBe('IDEMPOTENCY_ERROR');
  });

  it('maps the documented sales order GET to an ErpOrder', () => {
    const record = SalesOrderRecord.parse(JSON.parse(fixture('sales-order-get.json')));
    expect(toErpOrder(record, 'USD')).toEqual({
      id: '18',
      reference: 'SO18',
      externalRef: 'hubspot:deal:9876543',
      status: 'confirmed',
      amountTotal: 1200,
      currency: 'USD',
    });
  });

  it('builds the documented TBA signature base string', () => {
    const example = JSON.parse(fixture('tba-signature-base-string.json')) as { method: string; url: string; parameters: Record<string, string>; baseString: string };
    expect(signatureBaseString(example.method, new URL(example.url), example.parameters)).toBe(example.baseString);
  });

  it('signs client assertions with the documented claims, PS256 for RSA and ES256 for EC keys', () => {
    const documented = JSON.parse(fixture('client-assertion-example.json')) as { header: Record<string, unknown>; payload: Record<string, unknown> };
    for (const [type, alg] of [['rsa', 'PS256'], ['ec', 'ES256']] as const) {
      const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const token = clientAssertion({ clientId: 'client-1', certificateId: 'cert-1' }, readPrivateKey(pem), 'https://1234567.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token', 1_700_000_000);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      expect(Object.keys(decodedHeader).sort()).toEqual(Object.keys(documented.header).sort());
      expect(Object.keys(claims).sort()).toEqual(Object.keys(documented.payload).sort());
      expect(decodedHeader).toMatchObject({ typ: 'JWT', alg, kid: 'cert-1' });
      expect(claims).toMatchObject({ iss: 'client-1', scope: ['rest_webservices'], iat: 1_700_000_000 });
      expect(Number(claims.exp) - Number(claims.iat)).toBeLessThan(3600);
      const input = Buffer.from(`${header}.${payload}`);
      const valid =
        alg === 'PS256'
          ? verify('sha256', input, { key: createPublicKey(pem), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(signature, 'base64url'))
          : verify('sha256', input, { key: createPublicKey(pem), dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
      expect(valid).toBe(true);
    }
  });

  describe('the async job protocol, replayed from the guide', () => {
    let server: Server;
    let baseUrl: URL;
    const seen: string[] = [];
    let polls = 0;

    beforeAll(async () => {
      const pending = JSON.parse(fixture('async-job-pending.json')) as Record<string, unknown>;
      server = createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          seen.push(`${request.method} ${request.url}`);
          const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
            response.writeHead(status, { 'content-type': 'application/json', ...headers });
            response.end(body === undefined ? '' : JSON.stringify(body));
          };
          if (request.method === 'POST') return reply(202, undefined, { location: '/services/rest/async/v1/job/1', 'preference-applied': 'respond-async' });
          if (request.url === '/services/rest/async/v1/job/1') {
            polls += 1;
            return reply(200, { ...pending, completed: polls > 1, progress: polls > 1 ? 'succeeded' : 'pending' });
          }
          if (request.url === '/services/rest/async/v1/job/1/task') {
            return reply(200, { items: [{ links: [{ rel: 'self', href: 'https://demo123.suitetalk.api.netsuite.com/services/rest/async/v1/job/1/task/1' }] }] });
          }
          if (request.url === '/services/rest/async/v1/job/1/task/1/result') {
            return reply(204, undefined, { location: 'https://demo123.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder/18' });
          }
          reply(404, JSON.parse(fixture('error-401-invalid-login.json')));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('waits for a pending job and reads the id the task result names, building every URL on the configured base', async () => {
      const client = new NetsuiteClient({
        baseUrl,
        realm: '1234567',
        credentials: { scheme: 'tba', consumerKey: 'ck', consumerSecret: 'cs', tokenId: 'tk', tokenSecret: 'ts' },
        timeoutMs: 2000,
      });
      const id = await client.createRecordOnce('salesOrder', { entity: { id: '110' } }, idempotencyKeyFor('salesOrder:x'));
      expect(id).toBe('18');
      expect(seen).toEqual([
        'POST /services/rest/record/v1/salesOrder',
        'GET /services/rest/async/v1/job/1',
        'GET /services/rest/async/v1/job/1',
        'GET /services/rest/async/v1/job/1/task',
        'GET /services/rest/async/v1/job/1/task/1/result',
      ]);
    });
  });
});

describe('external ids and idempotency keys', () => {
  it('encodes any reference reversibly into the characters NetSuite allows', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (reference) => {
        const externalId = toExternalId(reference);
        expect(externalId).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(fromExternalId(externalId)).toBe(reference);
      }),
    );
  });

  it('keeps references apart even though NetSuite compares external ids case-insensitively', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (left, right) => {
        fc.pre(left !== right);
        expect(toExternalId(left).toLowerCase()).not.toBe(toExternalId(right).toLowerCase());
      }),
    );
    expect(toExternalId('Deal-A')).not.toBe(toExternalId('deal-a'));
  });

  it('derives the same RFC 4122 version 5 key from the same name, and another from another', () => {
    const key = idempotencyKeyFor('salesOrder:hubspot:deal:1');
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idempotencyKeyFor('salesOrder:hubspot:deal:1')).toBe(key);
    expect(idempotencyKeyFor('salesOrder:hubspot:deal:2')).not.toBe(key);
  });
});

describe('sales order status mapping', () => {
  it('maps every orderStatus letter, and the status text when the letter is missing', () => {
    expect(Object.fromEntries(Object.keys(ORDER_STATUSES).map((letter) => [letter, toErpOrderStatus({ id: '1', orderStatus: { id: letter } })]))).toEqual({
      A: 'draft',
      B: 'confirmed',
      C: 'cancelled',
      D: 'shipped',
      E: 'shipped',
      F: 'shipped',
      G: 'invoiced',
      H: 'cancelled',
    });
    expect(toErpOrderStatus({ id: '1', status: { refName: 'Pending Billing' } })).toBe('shipped');
  });

  it('refuses a status it does not know rather than guessing', () => {
    expect(() => toErpOrderStatus({ id: '7', orderStatus: { id: 'Z' } })).toThrow(PermanentError);
  });
});

describe('the NetSuite connector declaration', () => {
  it('derives the REST domain and the TBA realm from the account id', () => {
    expect(defaultBaseUrl('1234567_SB1')).toBe('https://1234567-sb1.suitetalk.api.netsuite.com');
    expect(realmOf('1234567-sb1')).toBe('1234567_SB1');
  });

  it('names the secrets the chosen auth scheme lacks', () => {
    const settings = netsuiteConnector.settings.parse({ NETSUITE_ACCOUNT_ID: '1234567', NETSUITE_AUTH: 'tba' });
    expect(() => netsuiteConnector.create(settings, { consumerKey: 'ck' }, { timeoutMs: 1000 })).toThrow(/NETSUITE_CONSUMER_SECRET, NETSUITE_TOKEN_ID, NETSUITE_TOKEN_SECRET/);
  });

  it('refuses a base URL that is not https (except loopback)', () => {
    const settings = netsuiteConnector.settings.parse({ NETSUITE_ACCOUNT_ID: '1234567', NETSUITE_AUTH: 'tba', NETSUITE_BASE_URL: 'http://netsuite.example.com' });
    expect(() => netsuiteConnector.create(settings, { consumerKey: 'a', consumerSecret: 'b', tokenId: 'c', tokenSecret: 'd' }, { timeoutMs: 1000 })).toThrow(/NETSUITE_BASE_URL/);
  });
});

describe('the NetSuite sandbox as the hub starts it', () => {
  it('hands the connector an environment that reaches it, with the same M2M key after a restart', async () => {
    // prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'harmony-netsuite-hub-'));
    const start = () => netsuiteSandbox.start({ host: '127.0.0.1', port: 0, dataDir, ingressUrl: 'http://127.0.0.1:3000' });
    try {
      const first = await start();
      const firstKey = first.environment.NETSUITE_PRIVATE_KEY;
      await first.close();

      // act
      const second = await start();
      try {
        const environment = second.environment;
        const erp = netsuiteConnector.create(readEnv(netsuiteConnector.settings, environment), await readConnectorSecrets(netsuiteConnector, environment), { timeoutMs: 1500 });
        const customer = await erp.upsertCustomer({ externalId: uniqueRef('hubspot:company'), kind: 'company', name: 'Local Hub GmbH' });

        // assess
        expect(netsuiteSandbox).toMatchObject({ system: 'netsuite', defaultPort: 4021, portVariable: 'HARMONY_NETSUITE_PORT' });
        expect(environment.NETSUITE_PRIVATE_KEY).toBe(firstKey);
        expect(customer.created).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('NetsuiteErp against the NetSuite sandbox', () => {
  let account: NetsuiteTestAccount;
  let erp: ErpPort;
  const adapter = (auth: 'oauth2' | 'tba' = 'oauth2'): ErpPort =>
    netsuiteConnector.create(netsuiteConnector.settings.parse(account.settings(auth)), account.secrets, { timeoutMs: 1500 });

  beforeAll(async () => {
    account = await startNetsuiteTestAccount({ keyType: 'ec' });
    erp = adapter();
  });

  afterAll(async () => {
    await account?.close();
  });

  const newCustomer = async (): Promise<string> =>
    (await erp.upsertCustomer({ externalId: uniqueRef('hubspot:company'), kind: 'company', name: 'Nordwind Handels GmbH' })).customerId;

  it('creates an order whose amounts NetSuite computed, keyed by the encoded reference, numbered SO…', async () => {
    // prepare
    const orderDraft = sampleDraft(await newCustomer());

    // act
    const order = await erp.createSalesOrder(orderDraft);

    // assess
    const net = 4 * 22.5 + 2 * 81;
    const tax = Math.round(4 * 22.5 * SANDBOX_TAX_RATE * 100) / 100 + Math.round(2 * 81 * SANDBOX_TAX_RATE * 100) / 100;
    expect(order).toMatchObject({ externalRef: orderDraft.externalRef, status: 'draft', currency: 'EUR', amountTotal: Math.round((net + tax) * 100) / 100 });
    expect(order.reference).toMatch(/^SO\d{4,}$/);
    const stored = (await account.records('salesOrder')).find((record) => String(record.id) === order.id);
    expect(stored).toMatchObject({ externalId: toExternalId(orderDraft.externalRef), otherRefNum: orderDraft.externalRef, orderStatus: 'A' });
  });

  it('a create whose answer is lost while NetSuite is behind runs once: the retry finds the first job by its key', async () => {
    // prepare
    const orderDraft = sampleDraft(await newCustomer());
    await account.holdJobs(true);
    await account.injectFault({ kind: 'commit-then-drop', count: 1, operation: 'POST /services/rest/record/v1/salesOrder' });

    // act
    const lost = await rejection(erp.createSalesOrder(orderDraft));
    const stillQueued = await rejection(erp.createSalesOrder(orderDraft));
    await account.holdJobs(false);
    const order = await erp.createSalesOrder(orderDraft);

    // assess
    expect(lost).toBeInstanceOf(RetryableError);
    expect(stillQueued).toBeInstanceOf(RetryableError);
    expect((stillQueued as RetryableError).code).toBe('async-pending');
    const key = idempotencyKeyFor(`salesOrder:${orderDraft.externalRef}`);
    expect((await account.jobs()).filter((job) => job.idempotencyKey === key)).toHaveLength(1);
    const stored = (await account.records('salesOrder')).filter((record) => record.externalId === toExternalId(orderDraft.externalRef));
    expect(stored.map((record) => String(record.id))).toEqual([order.id]);
  });

  it('without Prefer: respond-async NetSuite ignores the idempotency key, which is why the adapter creates asynchronously', async () => {
    // prepare
    const customerId = await newCustomer();
    const tba = new TokenBasedAuth(realmOf('7654321_SB1'), account.secrets as never);
    const url = new URL('/services/rest/record/v1/salesOrder', account.sandbox.url);
    const key = idempotencyKeyFor(uniqueRef('same-key'));
    const post = async (): Promise<number> => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: await tba.authorize('POST', url), 'content-type': 'application/json', 'x-netsuite-idempotency-key': key },
        body: JSON.stringify({ entity: { id: customerId }, item: { items: [{ item: { id: 10 }, quantity: 1 }] } }),
      });
      return response.status;
    };
    const before = (await account.records('salesOrder')).length;

    // act
    const statuses = [await post(), await post()];

    // assess
    expect(statuses).toEqual([204, 204]);
    expect((await account.records('salesOrder')).length).toBe(before + 2);
  });

  it('cancels by closing every line: NetSuite then reads the order as Closed', async () => {
    // prepare
    const order = await erp.createSalesOrder(sampleDraft(await newCustomer()));
    await erp.confirmSalesOrder(order.id);

    // act
    const cancelled = await erp.cancelSalesOrder(order.id);

    // assess
    expect(cancelled.status).toBe('cancelled');
    const stored = (await account.records('salesOrder')).find((record) => String(record.id) === order.id) as { orderStatus: string; lines: { isClosed: boolean }[] };
    expect(stored.orderStatus).toBe('H');
    expect(stored.lines.every((line) => line.isClosed)).toBe(true);
  });

  it('matches a customer by an email with a quote in it (SuiteQL literals are escaped)', async () => {
    // prepare
    const email = `o'brien.${uniqueRef('x')}@example.org`;
    const first = await erp.upsertCustomer({ externalId: uniqueRef('hubspot:contact'), kind: 'person', name: "Siobhan O'Brien", email });

    // act
    const second = await erp.upsertCustomer({ externalId: uniqueRef('hubspot:contact'), kind: 'person', name: "Siobhan O'Brien", email: email.toUpperCase() });

    // assess
    expect(second).toEqual({ customerId: first.customerId, created: false, matchedBy: 'email' });
  });

  it('matches a VAT number typed with spaces and dots, and gives the matched customer the CRM id', async () => {
    // prepare
    const crmId = uniqueRef('hubspot:company');

    // act
    const byVat = await erp.upsertCustomer({ externalId: crmId, kind: 'company', name: 'Azure Interior SA', vatNumber: 'be 0477.472.701' });
    const again = await erp.upsertCustomer({ externalId: crmId, kind: 'company', name: 'Azure Interior SA' });

    // assess
    expect(byVat).toEqual({ customerId: '20', created: false, matchedBy: 'vatNumber' });
    expect(again).toEqual({ customerId: '20', created: false, matchedBy: 'externalId' });
  });

  it('refuses a currency NetSuite has inactive, naming it, and creates nothing', async () => {
    // prepare
    const customerId = await newCustomer();
    const before = (await account.records('salesOrder')).length;

    // act
    const error = await rejection(erp.createSalesOrder(sampleDraft(customerId, { currency: 'GBP' })));

    // assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('GBP');
    expect((await account.records('salesOrder')).length).toBe(before);
  });

  it('refuses a malformed draft with an error that names the field', async () => {
    const error = await rejection(erp.createSalesOrder(sampleDraft('20', { currency: 'eur' })));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('draft.currency');
  });

  it('reuses a cached token in a new adapter instance (a warm Lambda) instead of asking for another', async () => {
    // prepare
    await newCustomer();
    await account.injectFault({ kind: '500', count: 1, operation: 'POST /services/rest/auth/oauth2/v1/token' });

    // act
    const customer = await adapter().upsertCustomer({ externalId: uniqueRef('hubspot:company'), kind: 'company', name: 'Warm Start AG' });
    await account.clearFaults();

    // assess
    expect(customer.created).toBe(true);
  });

  it('reads every page of a SuiteQL answer', async () => {
    const client = new NetsuiteClient({
      baseUrl: new URL(account.sandbox.url),
      realm: '7654321_SB1',
      credentials: { scheme: 'tba', ...(account.secrets as { consumerKey: string; consumerSecret: string; tokenId: string; tokenSecret: string }) },
      timeoutMs: 1500,
      suiteqlPageSize: 2,
    });
    const rows = await client.suiteql(`SELECT id, itemid FROM item WHERE isinactive = 'F' ORDER BY id`, ItemRow);
    expect(rows.map((row) => row.itemid)).toEqual(['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4']);
  });

  it('refuses a TBA request replayed with the same nonce', async () => {
    const tba = new TokenBasedAuth('7654321_SB1', account.secrets as never);
    const url = new URL('/services/rest/record/v1/customer/20', account.sandbox.url);
    const authorization = await tba.authorize('GET', url);
    const first = await fetch(url, { headers: { authorization } });
    const replay = await fetch(url, { headers: { authorization } });
    expect([first.status, replay.status]).toEqual([200, 401]);
    expect(netsuiteErrorCode(parseNetsuiteError(await replay.text()))).toBe('INVALID_LOGIN');
  });

  it('refuses an RS256 client assertion: NetSuite accepts only PS256/384/512 and ES256/384/512', async () => {
    const tokenUrl = new URL('/services/rest/auth/oauth2/v1/token', account.sandbox.url);
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const input = `${encode({ typ: 'JWT', alg: 'RS256', kid: account.secrets.certificateId })}.${encode({ iss: account.secrets.clientId, scope: ['rest_webservices'], aud: tokenUrl.href, iat: now, exp: now + 300 })}`;
    const signer = createSign('sha256');
    signer.update(input);
    const assertion = `${input}.${signer.sign(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).toString('base64url')}`;
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('keeps orders across a sandbox restart', async () => {
    // prepare
    const order = await erp.createSalesOrder(sampleDraft(await newCustomer()));

    // act
    await account.restart();
    const reread = await adapter('tba').getSalesOrder(order.id);

    // assess
    expect(reread).toEqual(order);
    erp = adapter();
  });
});
