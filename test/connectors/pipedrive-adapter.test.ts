/**
 * The Pipedrive adapter: the shared CrmPort contract against the Pipedrive sandbox through
 * OAuth (expiring access tokens), the API token flow, custom field resolution, the OAuth
 * token cache, the mapping of the payloads recorded in Pipedrive's API reference, and the
 * connector's configuration.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pipedriveConnector } from '../../functions/connectors/crm/pipedrive/connector.ts';
import { describePipedriveFailure } from '../../functions/connectors/crm/pipedrive/client.ts';
import { PipedriveCrm, type PipedriveCrmOptions } from '../../functions/connectors/crm/pipedrive/index.ts';
import {
  countryCode,
  dealProductToLine,
  offsetPage,
  cursorPage,
  PipedriveDeal,
  PipedriveDealProduct,
  PipedriveField,
  PipedriveOrganization,
  PipedrivePerson,
  PipedriveProduct,
  singleRecord,
  toDeal,
  toSyncCustomFields,
} from '../../functions/connectors/crm/pipedrive/mapping.ts';
import { clearPipedriveTokenCache } from '../../functions/connectors/crm/pipedrive/oauth-token.ts';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { WON_DEAL_STAGE } from '../../functions/core/events.ts';
import { startPipedriveSandbox, type PipedriveSandbox } from '../../local/sandbox/pipedrive/server.ts';
import { describeCrmPortContract, type SeededDeal } from '../contracts/crm-port-contract.ts';
import { rejection } from '../support/failure.ts';

const API_TOKEN = 'pipedrive-adapter-test-token';
const OAUTH = { clientId: 'adapter-test-client', clientSecret: 'adapter-test-secret', refreshToken: '13011977:21440810:adapter-test-refresh' };

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/pipedrive/${name}`, import.meta.url), 'utf8'));

/** Calls the sandbox as another client would: the API token, never faulted. */
async function sandboxApi(sandbox: PipedriveSandbox, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { 'x-api-token': API_TOKEN, 'x-sandbox-faults': 'bypass', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: response.status === 204 ? undefined : await response.json() };
}

/** Creates a deal through the sandbox's control route; answers the deal. */
async function createDeal(sandbox: PipedriveSandbox, request: Record<string, unknown>): Promise<any> {
  const { status, json } = await sandboxApi(sandbox, 'POST', '/__sandbox/deals', request);
  expect(status, JSON.stringify(json)).toBe(201);
  return json.data;
}

function oauthAdapter(sandbox: PipedriveSandbox, overrides: Partial<typeof OAUTH> = {}, options: Partial<PipedriveCrmOptions> = {}): PipedriveCrm {
  return new PipedriveCrm({
    apiUrl: new URL(sandbox.url),
    auth: { oauth: { oauthUrl: new URL(sandbox.url), ...OAUTH, ...overrides } },
    vatField: 'VAT number',
    timeoutMs: 1000,
    ...options,
  });
}

function tokenAdapter(sandbox: PipedriveSandbox, options: Partial<PipedriveCrmOptions> = {}): PipedriveCrm {
  return new PipedriveCrm({ apiUrl: new URL(sandbox.url), auth: { apiToken: API_TOKEN }, vatField: 'VAT number', timeoutMs: 1000, ...options });
}

describeCrmPortContract(
  'Pipedrive',
  async () => {
    const sandbox = await startPipedriveSandbox({ apiToken: API_TOKEN, oauth: OAUTH });
    let sequence = 0;
    const fieldKeys = new Map<string, string>(
      (await sandboxApi(sandbox, 'GET', '/api/v1/dealFields')).json.data.map((field: { name: string; key: string }) => [field.name, field.key]),
    );
    const control = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${sandbox.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (!response.ok) throw new Error(`sandbox ${path}: ${response.status}`);
    };

    async function seed(withOrganization: boolean): Promise<SeededDeal> {
      sequence += 1;
      const email = `buyer-${sequence}@contract.example`;
      const lines = [
        { sku: 'WIDGET-1', quantity: 4, unitPrice: 22.5 },
        { sku: 'SERVICE-HOUR', quantity: 2, unitPrice: 90 },
      ];
      const deal = await createDeal(sandbox, {
        title: `Contract deal ${sequence}`,
        status: 'won',
        currency: 'EUR',
        ...(withOrganization ? { organization: { name: `Nordwind ${sequence} GmbH`, vat_number: `DE${100_000_000 + sequence}` } } : {}),
        person: { name: `Ada Lovelace ${sequence}`, email },
        products: lines.map((line) => ({ code: line.sku, quantity: line.quantity, item_price: line.unitPrice })),
      });
      return {
        dealId: String(deal.id),
        name: `Contract deal ${sequence}`,
        amount: 270,
        currency: 'EUR',
        stage: WON_DEAL_STAGE,
        customer: withOrganization ? { kind: 'company', name: `Nordwind ${sequence} GmbH` } : { kind: 'person', name: `Ada Lovelace ${sequence}` },
        contactEmail: email,
        lines,
      };
    }

    return {
      crm: oauthAdapter(sandbox),
      seedWonDeal: () => seed(true),
      seedPersonDeal: () => seed(false),
      async readSyncFields(dealId) {
        const fields = (await sandboxApi(sandbox, 'GET', `/api/v2/deals/${dealId}`)).json.data.custom_fields;
        const value = (name: string) => fields[fieldKeys.get(name)!] ?? undefined;
        return { erpOrderRef: value('Harmony ERP order'), erpStatus: value('Harmony ERP status'), syncError: value('Harmony sync error') };
      },
      missingDealId: '999999',
      injectFault: (fault) => control('POST', '/__sandbox/faults', { count: 1, ...fault }),
      clearFaults: () => control('DELETE', '/__sandbox/faults'),
      withBadCredentials: () => oauthAdapter(sandbox, { refreshToken: '13011977:21440810:revoked' }),
      expireTokens: () => control('POST', '/__sandbox/expire-tokens'),
      close: () => sandbox.close(),
    };
  },
  { accessTokens: true },
);

describe('Pipedrive adapter on the sandbox', () => {
  let sandbox: PipedriveSandbox;
  beforeAll(async () => {
    sandbox = await startPipedriveSandbox({ apiToken: API_TOKEN, oauth: OAUTH });
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  beforeEach(async () => {
    await sandboxApi(sandbox, 'DELETE', '/__sandbox/faults');
  });

  describe('with the API token', () => {
    it('reads the organization with its VAT custom field and address, the person, and lines with their discounts', async () => {
      const deal = await createDeal(sandbox, {
        title: 'Token deal',
        status: 'won',
        currency: 'USD',
        organization: { name: 'Gemini Furniture', vat_number: 'US-12-3456789', address: { route: 'Fremont Blvd', street_number: '39500', postal_code: '94538', locality: 'Fremont', country: 'United States' } },
        person: { name: 'Grace Hopper', email: 'grace@gemini.example', phone: '+1 510 555 0100' },
        products: [
          { code: 'GADGET-2', quantity: 2, discount: 10, discount_type: 'percentage' },
          { code: 'DOCK-4', quantity: 1, item_price: 200, discount: 50, discount_type: 'amount' },
          { code: 'CABLE-3', quantity: 3, is_enabled: false },
        ],
      });
      const read = await tokenAdapter(sandbox).getDeal(String(deal.id));
      expect(read).toMatchObject({
        id: String(deal.id),
        stage: WON_DEAL_STAGE,
        currency: 'USD',
        amount: 384,
        customer: {
          externalId: `pipedrive:organization:${deal.org_id}`,
          kind: 'company',
          name: 'Gemini Furniture',
          vatNumber: 'US-12-3456789',
          address: { street: '39500 Fremont Blvd', city: 'Fremont', postalCode: '94538', countryCode: 'US' },
        },
        contact: { externalId: `pipedrive:person:${deal.person_id}`, kind: 'person', name: 'Grace Hopper', email: 'grace@gemini.example', phone: '+1 510 555 0100' },
      });
      expect(read.lines).toEqual([
        { sku: 'GADGET-2', name: 'Gadget', quantity: 2, unitPrice: 130, discountPercent: 10 },
        { sku: 'DOCK-4', name: 'Docking Station', quantity: 1, unitPrice: 200, discountPercent: 25 },
      ]);
    });

    it('reads a deal bought by a seeded private person, with the postal address', async () => {
      const deal = await createDeal(sandbox, { title: 'Private buyer', status: 'won', person: { id: 3 }, products: [{ code: 'WIDGET-1', quantity: 1 }] });
      const read = await tokenAdapter(sandbox).getDeal(String(deal.id));
      expect(read.customer).toEqual({
        externalId: 'pipedrive:person:3',
        kind: 'person',
        name: 'Ana Example',
        email: 'ana@example.com',
        address: { street: 'Invalidenstraße 1', city: 'Berlin', postalCode: '10115', countryCode: 'DE' },
      });
      expect(read.contact).toEqual(read.customer);
    });

    it('reports lost and open deals in Harmony words, so the saga does not start on them', async () => {
      const lost = await createDeal(sandbox, { title: 'Lost', status: 'lost', organization: { id: 1 } });
      const open = await createDeal(sandbox, { title: 'Open', stage_id: 3, organization: { id: 1 } });
      expect((await tokenAdapter(sandbox).getDeal(String(lost.id))).stage).toBe('closedlost');
      expect((await tokenAdapter(sandbox).getDeal(String(open.id))).stage).toBe('3');
    });

    it('names the line whose product has no code', async () => {
      const deal = await createDeal(sandbox, { title: 'Engraved', status: 'won', organization: { id: 2 }, products: [{ code: 'WIDGET-1', quantity: 1 }, { product_id: 6, quantity: 1 }] });
      const error = await rejection(tokenAdapter(sandbox).getDeal(String(deal.id)));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/products\[1\] \(product 6 "Custom engraving"\)\.code: the product has no code/);
    });

    it('refuses a deal with neither organization nor person', async () => {
      const deal = await createDeal(sandbox, { title: 'Nobody', status: 'won', products: [{ code: 'WIDGET-1', quantity: 1 }] });
      const error = await rejection(tokenAdapter(sandbox).getDeal(String(deal.id)));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('neither an organization nor a person');
    });

    it('a refused API token is a PermanentError that says auth', async () => {
      const error = await rejection(new PipedriveCrm({ apiUrl: new URL(sandbox.url), auth: { apiToken: 'wrong' }, timeoutMs: 1000 }).getDeal('1'));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/HTTP 401 — auth: Pipedrive refused the API token .*unauthorized access/);
    });

    it('writes the sync fields by key when the settings are keys, and clears an old error', async () => {
      const deal = await createDeal(sandbox, { title: 'By key', status: 'won', organization: { id: 1 } });
      const keys = sandbox.fieldKeys;
      const crm = tokenAdapter(sandbox, { syncFields: { orderRef: keys.orderRef, status: keys.status, syncError: keys.syncError } });
      await crm.updateDeal(String(deal.id), { erpStatus: 'sync_failed', syncError: 'ERP down' });
      await crm.updateDeal(String(deal.id), { erpOrderRef: 'S00077', erpStatus: 'confirmed' });
      const fields = (await sandboxApi(sandbox, 'GET', `/api/v2/deals/${deal.id}`)).json.data.custom_fields;
      expect(fields).toMatchObject({ [keys.orderRef]: 'S00077', [keys.status]: 'confirmed', [keys.syncError]: null });
    });

    it('names the setting when no deal field has the configured name, or the field cannot hold text', async () => {
      const deal = await createDeal(sandbox, { title: 'Misconfigured', status: 'won', organization: { id: 1 } });
      const missing = await rejection(tokenAdapter(sandbox, { syncFields: { status: 'ERP state' } }).updateDeal(String(deal.id), { erpStatus: 'confirmed' }));
      expect(missing).toBeInstanceOf(PermanentError);
      expect(missing.message).toMatch(/PIPEDRIVE_STATUS_FIELD: Pipedrive has no deal field named "ERP state"/);
      const monetary = await rejection(tokenAdapter(sandbox, { syncFields: { orderRef: 'value' } }).updateDeal(String(deal.id), { erpStatus: 'confirmed' }));
      expect(monetary.message).toMatch(/PIPEDRIVE_ORDER_REF_FIELD: the deal field "Value" is of type monetary/);
    });

    it('an injected 429 on the products page is retryable with the wait Pipedrive asked for', async () => {
      const deal = await createDeal(sandbox, { title: 'Busy', status: 'won', organization: { id: 1 }, products: [{ code: 'WIDGET-1', quantity: 1 }] });
      await sandboxApi(sandbox, 'POST', '/__sandbox/faults', { kind: '429', count: 1, operation: 'GET /api/v2/deals/{id}/products', retryAfterSeconds: 4 });
      const error = await rejection(tokenAdapter(sandbox).getDeal(String(deal.id)));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).retryAfterSeconds).toBe(4);
    });
  });

  describe('with OAuth', () => {
    it('keeps the access token across adapter instances: a second instance does not refresh', async () => {
      clearPipedriveTokenCache();
      const deal = await createDeal(sandbox, { title: 'Cached token', status: 'won', organization: { id: 1 } });
      await oauthAdapter(sandbox).getDeal(String(deal.id));
      await sandboxApi(sandbox, 'POST', '/__sandbox/faults', { kind: '500', count: 1, operation: 'POST /oauth/token' });
      expect((await oauthAdapter(sandbox).getDeal(String(deal.id))).id).toBe(String(deal.id));
      clearPipedriveTokenCache();
      const cold = await rejection(oauthAdapter(sandbox).getDeal(String(deal.id)));
      expect(cold, 'the fault is still pending, so the cold instance did refresh').toBeInstanceOf(RetryableError);
    });

    it('a token endpoint that fails while replacing an expired token is retryable', async () => {
      const deal = await createDeal(sandbox, { title: 'Expired', status: 'won', organization: { id: 1 } });
      await oauthAdapter(sandbox).getDeal(String(deal.id));
      await sandboxApi(sandbox, 'POST', '/__sandbox/expire-tokens');
      await sandboxApi(sandbox, 'POST', '/__sandbox/faults', { kind: 'timeout', count: 1, operation: 'POST /oauth/token' });
      expect(await rejection(oauthAdapter(sandbox).getDeal(String(deal.id)))).toBeInstanceOf(RetryableError);
      await sandboxApi(sandbox, 'DELETE', '/__sandbox/faults');
      expect((await oauthAdapter(sandbox).getDeal(String(deal.id))).id).toBe(String(deal.id));
    });

    it('a wrong client secret is a PermanentError naming invalid_client', async () => {
      const error = await rejection(oauthAdapter(sandbox, { clientSecret: 'guess' }).getDeal('1'));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/auth: Pipedrive OAuth refused .*invalid_client: Invalid client: client is invalid/);
    });

    it('refuses a token answer whose api_domain is neither pipedrive.com nor the configured URL', async () => {
      const rogue = await startPipedriveSandbox({ apiToken: API_TOKEN, oauth: OAUTH, oauthApiDomain: 'https://collector.example.net' });
      try {
        const error = await rejection(oauthAdapter(rogue).getDeal('1'));
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toMatch(/api_domain https:\/\/collector\.example\.net is neither a pipedrive\.com host nor PIPEDRIVE_API_URL/);
      } finally {
        await rogue.close();
      }
    });
  });
});

describe('Pipedrive mapping of the payloads in the API reference', () => {
  const deal = () => singleRecord(PipedriveDeal).parse(fixture('api-v2-get-deal.json')).data;
  const organization = () => singleRecord(PipedriveOrganization).parse(fixture('api-v2-get-organization.json')).data;
  const person = () => singleRecord(PipedrivePerson).parse(fixture('api-v2-get-person.json')).data;

  it('parses every recorded answer with the schemas the client validates with', () => {
    expect(cursorPage(PipedriveDealProduct).parse(fixture('api-v2-get-deal-products.json')).additional_data?.next_cursor).toMatch(/^eyJ/);
    expect(singleRecord(PipedriveProduct).parse(fixture('api-v2-get-product.json')).data.code).toBe('MPENCIL');
    expect(singleRecord(PipedriveDeal).parse(fixture('api-v2-patch-deal.json')).data.id).toBe(1);
    const fields = offsetPage(PipedriveField).parse(fixture('api-v1-get-deal-fields.json'));
    expect(fields.data?.map((field) => field.key)).toEqual(['title', '9dc80c50d78a15643bfc4ca79d76156a73a1ca0e']);
    expect(fields.additional_data?.pagination?.more_items_in_collection).toBe(false);
  });

  it('maps the recorded deal, organization, person and product to Harmony’s deal', () => {
    const [dealProduct] = cursorPage(PipedriveDealProduct).parse(fixture('api-v2-get-deal-products.json')).data!;
    const product = singleRecord(PipedriveProduct).parse(fixture('api-v2-get-product.json')).data;
    const mapped = toDeal({ deal: deal(), organization: organization(), person: person(), lines: [dealProductToLine(dealProduct!, product, 0)] });
    expect(mapped).toEqual({
      id: '1',
      name: 'Deal Title',
      stage: '1',
      amount: 200,
      currency: 'USD',
      closeDate: '2021-01-01T00:00:00Z',
      customer: {
        externalId: 'pipedrive:organization:1',
        kind: 'company',
        name: 'Organization Name',
        address: { street: '123 Main St, 123A', city: 'Sunnyvale', postalCode: '94085', countryCode: 'US' },
      },
      contact: {
        externalId: 'pipedrive:person:1',
        kind: 'person',
        name: 'Person Name',
        email: 'email1@email.com',
        phone: '12345',
        address: { street: '123 Main St, Apt 1', city: 'Sunnyvale', postalCode: '94085', countryCode: 'US' },
      },
      lines: [{ sku: 'MPENCIL', name: 'Mechanical Pencil', quantity: 1, unitPrice: 90 }],
    });
  });

  it('reports won as closedwon and lost as closedlost', () => {
    expect(toDeal({ deal: { ...deal(), status: 'won' }, organization: organization(), lines: [] }).stage).toBe(WON_DEAL_STAGE);
    expect(toDeal({ deal: { ...deal(), status: 'lost' }, organization: organization(), lines: [] }).stage).toBe('closedlost');
  });

  it('reads the VAT number from the organization custom field, plain or as a field object', () => {
    const key = 'd4de1c1518b4531717c676029a45911c340390a6';
    expect(toDeal({ deal: deal(), organization: { ...organization(), custom_fields: { [key]: 'DE811907980' } }, vatKey: key, lines: [] }).customer.vatNumber).toBe('DE811907980');
    expect(toDeal({ deal: deal(), organization: { ...organization(), custom_fields: { [key]: { value: 'FR40303265045' } } }, vatKey: key, lines: [] }).customer.vatNumber).toBe('FR40303265045');
  });

  it('refuses a recorded deal whose value is text, naming the path', () => {
    const recorded = fixture('api-v2-get-deal.json') as { data: Record<string, unknown> };
    const parsed = singleRecord(PipedriveDeal).safeParse({ ...recorded, data: { ...recorded.data, value: '12,00' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['data', 'value']);
  });

  it('refuses discounts larger than their line', () => {
    const [dealProduct] = cursorPage(PipedriveDealProduct).parse(fixture('api-v2-get-deal-products.json')).data!;
    const product = singleRecord(PipedriveProduct).parse(fixture('api-v2-get-product.json')).data;
    expect(() => dealProductToLine({ ...dealProduct!, discount: 120 }, product, 0)).toThrow(/120% is more than 100%/);
    expect(() => dealProductToLine({ ...dealProduct!, discount: 91, discount_type: 'amount' }, product, 0)).toThrow(/91 is more than the line's 90/);
  });

  it('turns the recorded error bodies into their message', () => {
    expect(describePipedriveFailure(404, JSON.stringify(fixture('api-v2-error-404.json')))).toBe('Entity was not found (Object was not found.)');
    expect(describePipedriveFailure(401, JSON.stringify(fixture('api-v1-error-401.json')))).toBe('unauthorized access');
    expect(describePipedriveFailure(502, '<html>Bad gateway</html>')).toBe('<html>Bad gateway</html>');
  });

  it('writes the status and clears the error always, the order number only when known', () => {
    const keys = { orderRef: 'a'.repeat(40), status: 'b'.repeat(40), syncError: 'c'.repeat(40) };
    expect(toSyncCustomFields({ erpStatus: 'sync_failed', syncError: 'no SKU' }, keys)).toEqual({ [keys.status]: 'sync_failed', [keys.syncError]: 'no SKU' });
    expect(toSyncCustomFields({ erpStatus: 'confirmed', erpOrderRef: 'S1' }, keys)).toEqual({ [keys.status]: 'confirmed', [keys.syncError]: null, [keys.orderRef]: 'S1' });
  });

  it('knows countries by Google Maps name, common alias or code', () => {
    expect([countryCode('Germany'), countryCode('USA'), countryCode('United Kingdom'), countryCode('be'), countryCode('Atlantis')]).toEqual(['DE', 'US', 'GB', 'BE', undefined]);
  });
});

describe('Pipedrive connector', () => {
  const settings = (overrides: Record<string, string> = {}) => pipedriveConnector.settings.parse({ PIPEDRIVE_API_URL: 'https://acme.pipedrive.com', ...overrides });
  const runtime = { timeoutMs: 1000 };

  it('defaults the field names and Pipedrive URLs', () => {
    expect(pipedriveConnector.settings.parse({})).toEqual({
      PIPEDRIVE_API_URL: 'https://api.pipedrive.com',
      PIPEDRIVE_OAUTH_URL: 'https://oauth.pipedrive.com',
      PIPEDRIVE_ORDER_REF_FIELD: 'Harmony ERP order',
      PIPEDRIVE_STATUS_FIELD: 'Harmony ERP status',
      PIPEDRIVE_SYNC_ERROR_FIELD: 'Harmony sync error',
    });
  });

  it.each([
    ['neither credential', {}, /apiToken \(PIPEDRIVE_API_TOKEN\), or clientId, clientSecret and refreshToken, is missing/],
    ['both credentials', { apiToken: 't', clientId: 'c', clientSecret: 's', refreshToken: 'r' }, /not both/],
    ['a partial OAuth app', { clientId: 'c', clientSecret: ' ' }, /missing clientSecret, refreshToken/],
  ])('refuses %s, naming the fields', (_name, secrets, message) => {
    expect(() => pipedriveConnector.create(settings(), secrets, runtime)).toThrow(message);
  });

  it('refuses a plain-http API URL outside this machine', () => {
    expect(() => pipedriveConnector.create(settings({ PIPEDRIVE_API_URL: 'http://acme.pipedrive.com' }), { apiToken: 't' }, runtime)).toThrow(/PIPEDRIVE_API_URL: must be https/);
  });

  it('builds an adapter from the secret fields', () => {
    expect(pipedriveConnector.create(settings(), { apiToken: 't' }, runtime).system).toBe('pipedrive');
    expect(pipedriveConnector.create(settings(), { clientId: 'c', clientSecret: 's', refreshToken: 'r' }, runtime).system).toBe('pipedrive');
  });
});
