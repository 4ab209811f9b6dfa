/**
 * The sandboxes store each call's own rows, not their whole state: the rows a
 * call writes are the same with a handful of orders stored as with hundreds, a
 * read writes nothing, and an Odoo call that raises writes nothing. A store that
 * rewrote everything per write (as the single JSON document once did) fails here.
 * Odoo searches answered through indexes find what testing every row finds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHubspotSandbox, type HubspotSandbox } from '../../local/sandbox/hubspot/server.ts';
import { startOdooSandbox, type OdooSandbox } from '../../local/sandbox/odoo/index.ts';

const DB = 'harmony';
const API_KEY = 'sandbox-api-key';
const TOKEN = 'pat-na1-sandbox-token';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function execute(sandbox: OdooSandbox, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
  const response = await fetch(`${sandbox.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service: 'object', method: 'execute_kw', args: [DB, 2, API_KEY, model, method, args, kwargs] } }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { data: { message: string } } };
  if (body.error !== undefined) throw new Error(body.error.data.message);
  return body.result;
}

/** Rows the sandbox's store wrote while `call` ran (also when it failed). */
async function rowsWrittenBy(statistics: () => { rowsWritten: number }, call: () => Promise<unknown>): Promise<number> {
  const before = statistics().rowsWritten;
  await call().catch(() => undefined);
  return statistics().rowsWritten - before;
}

describe('Odoo sandbox store', () => {
  /** The rows written by one round of an order's calls. */
  async function orderRound(sandbox: OdooSandbox, reference: string): Promise<Record<string, number>> {
    const written = (call: () => Promise<unknown>) => rowsWrittenBy(() => sandbox.statistics(), call);
    let orderId = 0;
    return {
      create: await written(async () => {
        orderId = (await execute(sandbox, 'sale.order', 'create', [
          { partner_id: 3, client_order_ref: reference, order_line: [[0, 0, { product_id: 1, product_uom_qty: 2 }]] },
        ])) as number;
      }),
      write: await written(() => execute(sandbox, 'sale.order', 'write', [[orderId], { origin: `origin ${reference}` }])),
      confirm: await written(() => execute(sandbox, 'sale.order', 'action_confirm', [[orderId]])),
      confirmAgain: await written(() => execute(sandbox, 'sale.order', 'action_confirm', [[orderId]])),
      search: await written(() => execute(sandbox, 'sale.order', 'search_read', [[['client_order_ref', '=', reference]]], { fields: ['name', 'amount_total'] })),
    };
  }

  it('writes the same rows per call with 300 more orders stored, none for a read or a call that raises', async () => {
    // prepare
    const sandbox = await startOdooSandbox({ port: 0, db: DB, username: 'api', apiKey: API_KEY });
    cleanups.push(() => sandbox.close());
    await orderRound(sandbox, 'warm-up'); // Builds the indexes the searches ask for, which later writes keep up.
    const few = await orderRound(sandbox, 'few-1');
    for (let index = 0; index < 300; index += 1) {
      await execute(sandbox, 'sale.order', 'create', [{ partner_id: 3, client_order_ref: `bulk-${index}`, order_line: [[0, 0, { product_id: 2 }]] }]);
    }

    // act
    const many = await orderRound(sandbox, 'many-1');

    // assess
    expect(many).toStrictEqual(few);
    expect(few.confirmAgain).toBe(0);
    expect(few.search).toBe(0);
    expect(few.create).toBeGreaterThan(0);
    expect(few.create).toBeLessThan(20);
  });
});

describe('Odoo sandbox indexes', () => {
  it('find what testing every row finds: case-insensitive, escaped, coerced, by id, after a change', async () => {
    // prepare
    const sandbox = await startOdooSandbox({ port: 0, db: DB, username: 'api', apiKey: API_KEY });
    cleanups.push(() => sandbox.close());
    const search = (domain: unknown[]) => execute(sandbox, 'res.partner', 'search', [domain], { order: 'id' });
    const [first, second] = (await execute(sandbox, 'res.partner', 'create', [[
      { name: 'Index One', email: 'Mixed.Case_1@Example.com', ref: '42' },
      { name: 'Index Two', email: 'mixed.casex1@example.com', ref: 'x' },
    ]])) as [number, number];
    const before = {
      foldedEscaped: await search([['email', '=ilike', 'MIXED.CASE\\_1@EXAMPLE.COM']]),
      foldedWildcard: await search([['email', '=ilike', 'mixed.case_1@example.com']]),
      exact: await search([['email', '=', 'Mixed.Case_1@Example.com']]),
      exactOtherCase: await search([['email', '=', 'mixed.case_1@example.com']]),
      coerced: await search([['ref', '=', 42]]),
      byId: await search([['id', 'in', [second, 999_999]]]),
      either: await search(['|', ['ref', '=', 'x'], ['email', '=like', 'Mixed.Case\\_1@Example.com']]),
    };

    // act
    await execute(sandbox, 'res.partner', 'write', [[first], { email: 'moved@example.com' }]);
    const after = {
      oldEmail: await search([['email', '=ilike', 'mixed.case\\_1@example.com']]),
      newEmail: await search([['email', 'in', ['moved@example.com']]]),
    };

    // assess
    expect(before).toStrictEqual({
      foldedEscaped: [first],
      foldedWildcard: [first, second],
      exact: [first],
      exactOtherCase: [],
      coerced: [first],
      byId: [second],
      either: [first, second],
    });
    expect(after).toStrictEqual({ oldEmail: [], newEmail: [first] });
  });
});

describe('HubSpot sandbox store', () => {
  async function startSandbox(): Promise<HubspotSandbox> {
    const sandbox = await startHubspotSandbox({ port: 0, accessToken: TOKEN, clientSecret: 'secret' });
    cleanups.push(() => sandbox.close());
    return sandbox;
  }

  async function call(sandbox: HubspotSandbox, method: string, path: string, body?: unknown): Promise<{ id: string; results: { id: string }[] }> {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as { id: string; results: { id: string }[] };
  }

  const toCompany = { to: { id: '2001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 5 }] };

  /** The rows written by creating a deal of company 2001, moving it and reading it. */
  async function dealRound(sandbox: HubspotSandbox): Promise<Record<string, number>> {
    const written = (work: () => Promise<unknown>) => rowsWrittenBy(() => sandbox.statistics(), work);
    let dealId = '';
    return {
      create: await written(async () => {
        dealId = (await call(sandbox, 'POST', '/crm/v3/objects/deals', { properties: { dealname: 'round' }, associations: [toCompany] })).id;
      }),
      patch: await written(() => call(sandbox, 'PATCH', `/crm/v3/objects/deals/${dealId}`, { properties: { dealstage: 'closedwon' } })),
      read: await written(() => call(sandbox, 'GET', `/crm/v3/objects/deals/${dealId}?associations=companies`)),
      company: await written(() => call(sandbox, 'GET', '/crm/v3/objects/companies/2001?associations=deals')),
    };
  }

  it('writes the same rows per call with 300 more deals of the same company stored, none for a read', async () => {
    // prepare
    const sandbox = await startSandbox();
    await dealRound(sandbox);
    const few = await dealRound(sandbox);
    for (let batch = 0; batch < 3; batch += 1) {
      const inputs = Array.from({ length: 100 }, (_, index) => ({ properties: { dealname: `bulk ${batch}-${index}` }, associations: [toCompany] }));
      expect((await call(sandbox, 'POST', '/crm/v3/objects/deals/batch/create', { inputs })).results).toHaveLength(100);
    }

    // act
    const many = await dealRound(sandbox);

    // assess
    expect(many).toStrictEqual(few);
    expect(few.read).toBe(0);
    expect(few.company).toBe(0);
    expect(few.create).toBeLessThan(20);
  });
});
