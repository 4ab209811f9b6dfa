/**
 * The Odoo sandbox behaves like Odoo's external API for the clients Harmony and
 * others use: the `odoo-xmlrpc` library over XML-RPC, plain JSON-RPC, Odoo's
 * error shapes, the sale.order cancel wizard, fault injection and durability.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_TAX_RATE, startOdooSandbox, type OdooSandbox } from '../../local/sandbox/odoo/index.ts';

const DB = 'harmony';
const USERNAME = 'api@harmony.example';
const API_KEY = 'sandbox-api-key';

/** The `odoo-xmlrpc` client, as its README documents it (callback style, no type definitions). */
interface OdooXmlRpcClient {
  connect(callback: (error: unknown, uid: unknown) => void): void;
  execute_kw(model: string, method: string, params: unknown[], callback: (error: unknown, value: unknown) => void): void;
}
type OdooXmlRpcConstructor = new (config: { url: string; db: string; username: string; password: string }) => OdooXmlRpcClient;
const OdooXmlRpc = createRequire(import.meta.url)('odoo-xmlrpc') as OdooXmlRpcConstructor;

function promised<Value>(start: (callback: (error: unknown, value: Value) => void) => void): Promise<Value> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
}

function fixture<Shape>(name: string): Shape {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'odoo', name), 'utf8')) as Shape;
}

interface JsonRpcAnswer {
  status: number;
  body: { jsonrpc?: string; id?: unknown; result?: unknown; error?: { code: number; message: string; data: { name: string; message: string; arguments: unknown[]; debug: string; context: unknown } } };
}

async function jsonRpc(sandbox: OdooSandbox, service: string, method: string, args: unknown[]): Promise<JsonRpcAnswer> {
  const response = await fetch(`${sandbox.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: 7 }),
  });
  return { status: response.status, body: (await response.json()) as JsonRpcAnswer['body'] };
}

/** `execute_kw` over JSON-RPC as the sandbox's API user; throws the JSON-RPC error object when Odoo answers one. */
async function execute(sandbox: OdooSandbox, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
  const answer = await jsonRpc(sandbox, 'object', 'execute_kw', [DB, 2, API_KEY, model, method, args, kwargs]);
  if (answer.body.error !== undefined) throw Object.assign(new Error(answer.body.error.data.message), { rpc: answer.body.error });
  return answer.body.result;
}

async function rpcError(promise: Promise<unknown>): Promise<NonNullable<JsonRpcAnswer['body']['error']>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the call should have failed').toBeDefined();
  return (error as { rpc: NonNullable<JsonRpcAnswer['body']['error']> }).rpc;
}

async function xmlRpc(sandbox: OdooSandbox, path: string, body: string): Promise<string> {
  const response = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body });
  return response.text();
}

async function createConfirmedOrder(sandbox: OdooSandbox, reference: string): Promise<number> {
  const id = (await execute(sandbox, 'sale.order', 'create', [
    { partner_id: 3, client_order_ref: reference, order_line: [[0, 0, { product_id: 1, product_uom_qty: 1 }]] },
  ])) as number;
  await execute(sandbox, 'sale.order', 'action_confirm', [[id]]);
  return id;
}

async function orderState(sandbox: OdooSandbox, id: number): Promise<unknown> {
  const [order] = (await execute(sandbox, 'sale.order', 'read', [[id], ['state']])) as { state: string }[];
  return order?.state;
}

async function injectFault(sandbox: OdooSandbox, fault: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify(fault) });
  expect(response.status).toBe(201);
}

describe('Odoo sandbox', () => {
  let sandbox: OdooSandbox;

  beforeAll(async () => {
    sandbox = await startOdooSandbox({ port: 0, db: DB, username: USERNAME, apiKey: API_KEY });
  });

  afterAll(async () => {
    await sandbox.close();
  });

  describe('XML-RPC with the odoo-xmlrpc library', () => {
    it('connects, authenticates, searches, creates and reads', async () => {
      // prepare
      const odoo = new OdooXmlRpc({ url: sandbox.url, db: DB, username: USERNAME, password: API_KEY });

      // act
      const uid = await promised<unknown>((callback) => odoo.connect(callback));
      const companyIds = await promised<unknown>((callback) =>
        odoo.execute_kw('res.partner', 'search', [[[['is_company', '=', true]]]], callback));
      const createdId = await promised<unknown>((callback) =>
        odoo.execute_kw('res.partner', 'create', [[{ name: 'Xml & <Rpc> GmbH', is_company: true, email: 'xml@rpc.example' }]], callback));
      const records = await promised<unknown>((callback) =>
        odoo.execute_kw('res.partner', 'read', [[[createdId], ['name', 'is_company', 'country_id', 'email']]], callback));
      const count = await promised<unknown>((callback) =>
        odoo.execute_kw('res.partner', 'search_count', [[[['email', '=', 'xml@rpc.example']]]], callback));
      const page = await promised<unknown>((callback) =>
        odoo.execute_kw('product.product', 'search_read', [[[['default_code', 'in', ['WIDGET-1', 'GADGET-2']]], ['default_code', 'list_price'], 0, 5]], callback));

      // assess
      expect(uid).toBe(2);
      expect(companyIds).toEqual(expect.arrayContaining([1, 3, 4]));
      expect(typeof createdId).toBe('number');
      expect(records).toEqual([{ id: createdId, name: 'Xml & <Rpc> GmbH', is_company: true, country_id: false, email: 'xml@rpc.example' }]);
      expect(count).toBe(1);
      expect(page).toEqual([
        { id: 2, default_code: 'GADGET-2', list_price: 120 },
        { id: 1, default_code: 'WIDGET-1', list_price: 25 },
      ]);
    });

    it('answers a wrong API key with authenticate → false and an AccessDenied fault (code 3)', async () => {
      // prepare
      const odoo = new OdooXmlRpc({ url: sandbox.url, db: DB, username: USERNAME, password: 'wrong-key' });

      // act
      const connectError = await promised<unknown>((callback) => odoo.connect(callback)).catch((error: unknown) => error);
      const executeError = await promised<unknown>((callback) => odoo.execute_kw('res.partner', 'search', [[[]]], callback))
        .catch((error: unknown) => error);

      // assess
      expect(connectError).toEqual({ message: 'No UID returned from authentication.' });
      expect(executeError).toMatchObject({ faultCode: 3, faultString: 'Access Denied' });
    });

    it('writes the Access Denied fault exactly as Odoo does', async () => {
      // prepare
      const recorded = fixture<{ requestXml: string; responseXml: string }>('xmlrpc-fault-access-denied.json');

      // act
      const body = await xmlRpc(sandbox, '/xmlrpc/2/object', recorded.requestXml);

      // assess
      expect(body).toBe(recorded.responseXml);
    });

    it('sends UserError as faultCode 2 with the message and other errors as faultCode 1 with a traceback', async () => {
      // prepare
      const odoo = new OdooXmlRpc({ url: sandbox.url, db: DB, username: USERNAME, password: API_KEY });
      await promised<unknown>((callback) => odoo.connect(callback));
      const orderId = await createConfirmedOrder(sandbox, 'xmlrpc-faults');

      // act
      const userError = await promised<unknown>((callback) => odoo.execute_kw('sale.order', 'action_confirm', [[[orderId]]], callback))
        .catch((error: unknown) => error);
      const valueError = await promised<unknown>((callback) => odoo.execute_kw('res.partner', 'search', [[[['no_such_field', '=', 1]]]], callback))
        .catch((error: unknown) => error);

      // assess
      expect(userError).toMatchObject({ faultCode: 2, faultString: 'Some orders are not in a state requiring confirmation.' });
      expect(valueError).toMatchObject({ faultCode: 1 });
      expect((valueError as { faultString: string }).faultString).toMatch(/^Traceback[\s\S]*ValueError: Invalid field res\.partner\.no_such_field/);
    });

    it('decodes every XML-RPC type a client may send', async () => {
      // prepare
      const header = `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>
        <param><value>${DB}</value></param>
        <param><value><i4>2</i4></value></param>
        <param><value><string>${API_KEY}</string></value></param>`;
      const partnerCall = `${header}
        <param><value><string>res.partner</string></value></param>
        <param><value><string>create</string></value></param>
        <param><value><array><data><value><struct>
          <member><name>name</name><value><string><![CDATA[Typed & Sons]]></string></value></member>
          <member><name>is_company</name><value><boolean>1</boolean></value></member>
          <member><name>customer_rank</name><value><int>3</int></value></member>
          <member><name>comment</name><value><nil/></value></member>
          <member><name>street</name><value>Caf&#233;straße 1</value></member>
          <member><name>ref</name><value><base64>SGFybW9ueQ==</base64></value></member>
        </struct></value></data></array></value></param>
      </params></methodCall>`;
      const orderCall = (partnerId: number): string => `${header}
        <param><value><string>sale.order</string></value></param>
        <param><value><string>create</string></value></param>
        <param><value><array><data><value><struct>
          <member><name>partner_id</name><value><int>${partnerId}</int></value></member>
          <member><name>date_order</name><value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value></member>
          <member><name>order_line</name><value><array><data><value><array><data>
            <value><int>0</int></value><value><int>0</int></value>
            <value><struct><member><name>product_id</name><value><int>1</int></value></member>
              <member><name>price_unit</name><value><double>12.5</double></value></member></struct></value>
          </data></array></value></data></array></value></member>
        </struct></value></data></array></value></param>
      </params></methodCall>`;

      // act
      const partnerId = Number(/<int>(\d+)<\/int>/.exec(await xmlRpc(sandbox, '/xmlrpc/2/object', partnerCall))?.[1]);
      const orderId = Number(/<int>(\d+)<\/int>/.exec(await xmlRpc(sandbox, '/xmlrpc/2/object', orderCall(partnerId)))?.[1]);
      const [partner] = (await execute(sandbox, 'res.partner', 'read', [[partnerId], ['name', 'is_company', 'customer_rank', 'comment', 'street', 'ref']])) as unknown[];
      const [order] = (await execute(sandbox, 'sale.order', 'read', [[orderId], ['date_order', 'amount_untaxed']])) as unknown[];

      // assess
      expect(partner).toEqual({ id: partnerId, name: 'Typed & Sons', is_company: true, customer_rank: 3, comment: false, street: 'Caféstraße 1', ref: 'SGFybW9ueQ==' });
      expect(order).toEqual({ id: orderId, date_order: '2025-01-02 03:04:05', amount_untaxed: 12.5 });
    });

    it('answers a malformed body with a fault instead of crashing', async () => {
      // act
      const body = await xmlRpc(sandbox, '/xmlrpc/2/common', '<methodCall><methodName>version</methodName><params>');

      // assess
      expect(body).toContain('<fault>');
      expect(body).toContain('<name>faultCode</name>\n<value><int>1</int></value>');
    });
  });

  describe('JSON-RPC', () => {
    it('answers common.version, authenticate and execute_kw', async () => {
      // act
      const version = await jsonRpc(sandbox, 'common', 'version', []);
      const uid = await jsonRpc(sandbox, 'common', 'authenticate', [DB, USERNAME, API_KEY, {}]);
      const products = await execute(sandbox, 'product.product', 'search_read', [[['default_code', '=', 'SERVICE-HOUR']]], {
        fields: ['name', 'type', 'lst_price', 'display_name'],
      });

      // assess
      expect(version.body).toMatchObject({ jsonrpc: '2.0', id: 7, result: { server_serie: '17.0', protocol_version: 1 } });
      expect(uid.body.result).toBe(2);
      expect(products).toEqual([{ id: 3, name: 'Consulting Hour', type: 'service', lst_price: 95, display_name: '[SERVICE-HOUR] Consulting Hour' }]);
    });

    it('answers authenticate with false for a wrong key, login or database', async () => {
      // act
      const answers = await Promise.all([
        jsonRpc(sandbox, 'common', 'authenticate', [DB, USERNAME, 'wrong', {}]),
        jsonRpc(sandbox, 'common', 'authenticate', [DB, 'someone-else', API_KEY, {}]),
        jsonRpc(sandbox, 'common', 'authenticate', ['other-db', USERNAME, API_KEY, {}]),
      ]);

      // assess
      expect(answers.map((answer) => answer.body.result)).toEqual([false, false, false]);
    });

    it('shapes errors as Odoo does: code 200, "Odoo Server Error", the exception in data', async () => {
      // prepare
      const recorded = fixture<{ response: { error: { code: number; message: string; data: { name: string; message: string; arguments: unknown[] } } } }>(
        'jsonrpc-error-user-error.json',
      );
      const orderId = await createConfirmedOrder(sandbox, 'json-error-shape');

      // act
      const error = await rpcError(execute(sandbox, 'sale.order', 'action_confirm', [[orderId]]));

      // assess
      expect(error).toMatchObject({
        code: recorded.response.error.code,
        message: recorded.response.error.message,
        data: {
          name: recorded.response.error.data.name,
          message: recorded.response.error.data.message,
          arguments: recorded.response.error.data.arguments,
          context: {},
        },
      });
      expect(error.data.debug).toContain('odoo.exceptions.UserError: Some orders are not in a state requiring confirmation.');
    });

    it('rejects execute_kw with a wrong API key as AccessDenied', async () => {
      // prepare
      const recorded = fixture<{ response: { error: unknown } }>('jsonrpc-error-access-denied.json');

      // act
      const answer = await jsonRpc(sandbox, 'object', 'execute_kw', [DB, 2, 'wrong', 'res.partner', 'search', [[]], {}]);

      // assess
      expect(answer.body.error).toMatchObject({
        code: 200,
        message: 'Odoo Server Error',
        data: { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' },
      });
      expect(answer.body.error?.data.name).toBe((recorded.response.error as { data: { name: string } }).data.name);
    });

    it.each([
      ['an unknown model', 'no.such.model', 'search', [[]], {}, 'odoo.exceptions.UserError', "Object no.such.model doesn't exist"],
      ['an unknown method', 'res.partner', 'frobnicate', [[1]], {}, 'builtins.AttributeError', "The method 'res.partner.frobnicate' does not exist"],
      ['a private method', 'res.partner', '_compute_display_name', [[1]], {}, 'odoo.exceptions.AccessError', 'Private methods'],
      ['an unknown field in a domain', 'res.partner', 'search', [[['shoe_size', '=', 42]]], {}, 'builtins.ValueError', 'Invalid field res.partner.shoe_size'],
      ['an unknown field in create', 'res.partner', 'create', [{ name: 'X', shoe_size: 42 }], {}, 'builtins.ValueError', "Invalid field 'shoe_size' on model 'res.partner'"],
      ['an unknown field in read', 'res.partner', 'read', [[1], ['shoe_size']], {}, 'builtins.ValueError', "Invalid field 'shoe_size' on model 'res.partner'"],
      ['an unexpected keyword argument', 'res.partner', 'search', [[]], { colour: 'red' }, 'builtins.TypeError', "unexpected keyword argument 'colour'"],
      ['a missing record', 'sale.order', 'read', [[999_999]], {}, 'odoo.exceptions.MissingError', 'Record does not exist or has been deleted.'],
      ['a missing required field', 'res.partner', 'create', [{ email: 'nameless@example.com' }], {}, 'odoo.exceptions.ValidationError', 'a mandatory field is not set'],
      ['a wrong selection value', 'sale.order', 'write', [[1], { state: 'shipped' }], {}, 'builtins.ValueError', 'Wrong value for sale.order.state'],
    ])('raises %s the way Odoo does', async (_case, model, method, args, kwargs, name, message) => {
      // act
      const error = await rpcError(execute(sandbox, model, method, args, kwargs));

      // assess
      expect(error.data.name).toBe(name);
      expect(error.data.message).toContain(message);
    });
  });

  describe('models', () => {
    it('numbers orders S00001… and computes amounts from lines with discount and the fixed tax rate', async () => {
      // prepare
      const values = {
        partner_id: 3,
        client_order_ref: 'amounts-1',
        order_line: [
          [0, 0, { product_id: 1, product_uom_qty: 3 }],
          [0, 0, { product_id: 2, product_uom_qty: 2, price_unit: 100, discount: 12.5 }],
        ],
      };

      // act
      const firstId = (await execute(sandbox, 'sale.order', 'create', [values])) as number;
      const secondId = (await execute(sandbox, 'sale.order', 'create', [{ ...values, client_order_ref: 'amounts-2' }])) as number;
      const [first, second] = (await execute(sandbox, 'sale.order', 'read', [[firstId, secondId]], {
        fields: ['name', 'state', 'amount_untaxed', 'amount_tax', 'amount_total', 'currency_id', 'order_line'],
      })) as Record<string, unknown>[];
      const lines = (await execute(sandbox, 'sale.order.line', 'read', [first?.order_line], {
        fields: ['name', 'price_unit', 'price_subtotal', 'product_id'],
      })) as Record<string, unknown>[];

      // assess
      const untaxed = 3 * 25 + 2 * 100 * (1 - 0.125);
      expect(first).toMatchObject({ state: 'draft', amount_untaxed: untaxed, currency_id: [1, 'EUR'] });
      expect(first?.amount_tax).toBeCloseTo(untaxed * SANDBOX_TAX_RATE, 2);
      expect(first?.amount_total).toBeCloseTo(untaxed * (1 + SANDBOX_TAX_RATE), 2);
      expect(String(first?.name)).toMatch(/^S\d{5}$/);
      expect(Number(String(second?.name).slice(1))).toBe(Number(String(first?.name).slice(1)) + 1);
      expect(lines).toEqual([
        expect.objectContaining({ name: '[WIDGET-1] Widget', price_unit: 25, price_subtotal: 75, product_id: [1, '[WIDGET-1] Widget'] }),
        expect.objectContaining({ price_unit: 100, price_subtotal: 175 }),
      ]);
    });

    it('sends floats as <double> over XML-RPC, as Python does', async () => {
      // prepare
      const call = `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>
        <param><value><string>${DB}</string></value></param><param><value><int>2</int></value></param>
        <param><value><string>${API_KEY}</string></value></param><param><value><string>product.product</string></value></param>
        <param><value><string>read</string></value></param>
        <param><value><array><data><value><array><data><value><int>1</int></value></data></array></value>
        <value><array><data><value><string>list_price</string></value></data></array></value></data></array></value></param>
      </params></methodCall>`;

      // act
      const body = await xmlRpc(sandbox, '/xmlrpc/2/object', call);

      // assess
      expect(body).toContain('<name>list_price</name>\n<value><double>25.0</double></value>');
    });

    it('leaves a confirmed order uncancelled and returns the cancel wizard when action_cancel has no disable_cancel_warning', async () => {
      // prepare
      const recorded = fixture<{ response: { result: Record<string, unknown> & { context: Record<string, unknown> } } }>(
        'sale-order-action-cancel-wizard.json',
      );
      const orderId = await createConfirmedOrder(sandbox, 'wizard-1');

      // act
      const action = await execute(sandbox, 'sale.order', 'action_cancel', [[orderId]]);
      const stateAfterAction = await orderState(sandbox, orderId);
      const context = (action as { context: Record<string, unknown> }).context;
      const wizardId = await execute(sandbox, 'sale.order.cancel', 'create', [{}], { context });
      const wizardResult = await execute(sandbox, 'sale.order.cancel', 'action_cancel', [[wizardId]], { context });
      const stateAfterWizard = await orderState(sandbox, orderId);

      // assess
      expect(action).toEqual({ ...recorded.response.result, context: { ...recorded.response.result.context, default_order_id: orderId } });
      expect(stateAfterAction).toBe('sale');
      expect(wizardResult).toBe(true);
      expect(stateAfterWizard).toBe('cancel');
    });

    it('cancels a confirmed order at once with disable_cancel_warning, and a draft order even without it', async () => {
      // prepare
      const confirmedId = await createConfirmedOrder(sandbox, 'cancel-context');
      const draftId = (await execute(sandbox, 'sale.order', 'create', [{ partner_id: 4, client_order_ref: 'cancel-draft' }])) as number;

      // act
      const confirmedResult = await execute(sandbox, 'sale.order', 'action_cancel', [[confirmedId]], { context: { disable_cancel_warning: true } });
      const draftResult = await execute(sandbox, 'sale.order', 'action_cancel', [[draftId]]);

      // assess
      expect(confirmedResult).toBe(true);
      expect(draftResult).toBe(true);
      expect(await orderState(sandbox, confirmedId)).toBe('cancel');
      expect(await orderState(sandbox, draftId)).toBe('cancel');
    });

    it('refuses to cancel a locked order and to delete a confirmed one', async () => {
      // prepare
      const orderId = await createConfirmedOrder(sandbox, 'locked-1');
      await execute(sandbox, 'sale.order', 'action_lock', [[orderId]]);

      // act
      const cancelError = await rpcError(execute(sandbox, 'sale.order', 'action_cancel', [[orderId]], { context: { disable_cancel_warning: true } }));
      const unlinkError = await rpcError(execute(sandbox, 'sale.order', 'unlink', [[orderId]]));

      // assess
      expect(cancelError.data).toMatchObject({ name: 'odoo.exceptions.UserError', message: 'You cannot cancel a locked order. Please unlock it first.' });
      expect(unlinkError.data.message).toContain('You must first cancel it.');
      expect(await orderState(sandbox, orderId)).toBe('sale');
    });

    it('rolls back a call that fails half-way', async () => {
      // prepare
      const values = {
        partner_id: 3,
        client_order_ref: 'rollback-1',
        order_line: [[0, 0, { product_id: 1 }], [0, 0, { product_id: 987_654 }]],
      };

      // act
      const error = await rpcError(execute(sandbox, 'sale.order', 'create', [values]));
      const count = await execute(sandbox, 'sale.order', 'search_count', [[['client_order_ref', '=', 'rollback-1']]]);

      // assess
      expect(error.data.name).toBe('odoo.exceptions.MissingError');
      expect(count).toBe(0);
    });

    it('evaluates domains with prefix operators and Odoo operator semantics', async () => {
      // prepare
      const search = (domain: unknown[]): Promise<unknown> =>
        execute(sandbox, 'res.partner', 'search', [domain], { order: 'id asc' });

      // act
      const either = await search(['|', ['vat', '=', 'BE0477472701'], ['email', '=ilike', 'INFO@DECO-ADDICT.EXAMPLE']]);
      const notCompanies = await search(['!', ['is_company', '=', true], ['parent_id', '!=', false]]);
      const escapedWildcard = await search([['email', '=ilike', 'info@azure\\_interior.example']]);
      const unescapedWildcard = await search([['email', '=ilike', 'info@azure_interior.example']]);
      const notIn = await search([['is_company', '=', true], ['country_id.code', 'not in', ['BE', 'NL']]]);
      const notEqualIncludesUnset = await search([['vat', '!=', 'BE0477472701'], ['is_company', '=', true], ['name', 'ilike', 'gemini']]);
      const implicitAnd = await search([['country_id.code', '=', 'BE'], ['is_company', '=', true]]);

      // assess
      expect(either).toEqual([3, 4]);
      expect(notCompanies).toEqual([2, 5, 6]);
      expect(escapedWildcard).toEqual([]);
      expect(unescapedWildcard).toEqual([3]);
      expect(notIn).toEqual([1, 7]);
      expect(notEqualIncludesUnset).toEqual([7]);
      expect(implicitAnd).toEqual([3]);
    });

    it('hides archived records unless the domain or context asks for them', async () => {
      // act
      const byDefault = await execute(sandbox, 'product.product', 'search', [[['default_code', '=', 'LEGACY-0']]]);
      const withContext = await execute(sandbox, 'product.product', 'search', [[['default_code', '=', 'LEGACY-0']]], { context: { active_test: false } });
      const withDomain = await execute(sandbox, 'product.product', 'search', [[['default_code', '=', 'LEGACY-0'], ['active', '=', false]]]);

      // assess
      expect(byDefault).toEqual([]);
      expect(withContext).toEqual([6]);
      expect(withDomain).toEqual([6]);
    });

    it('answers name_get, name_search and fields_get', async () => {
      // act
      const names = await execute(sandbox, 'res.partner', 'name_get', [[5]]);
      const found = await execute(sandbox, 'product.product', 'name_search', ['GADGET']);
      const fields = (await execute(sandbox, 'sale.order', 'fields_get', [], { attributes: ['type', 'string', 'relation'] })) as Record<string, unknown>;

      // assess
      expect(names).toEqual([[5, 'Azure Interior, Brandon Freeman']]);
      expect(found).toEqual([[2, '[GADGET-2] Gadget']]);
      expect(fields.partner_id).toEqual({ type: 'many2one', string: 'Customer', relation: 'res.partner' });
      expect(fields.state).toEqual({ type: 'selection', string: 'Status' });
    });
  });

  describe('fault injection', () => {
    it('fails the next matching call with HTTP 500, then serves again', async () => {
      // prepare
      await injectFault(sandbox, { count: 1, kind: '500', operation: 'res.partner.search' });

      // act
      const other = await jsonRpc(sandbox, 'object', 'execute_kw', [DB, 2, API_KEY, 'res.country', 'search', [[]]]);
      const failed = await fetch(`${sandbox.url}/jsonrpc`, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service: 'object', method: 'execute_kw', args: [DB, 2, API_KEY, 'res.partner', 'search', [[]]] } }),
      });
      const again = await jsonRpc(sandbox, 'object', 'execute_kw', [DB, 2, API_KEY, 'res.partner', 'search', [[]]]);

      // assess
      expect(other.status).toBe(200);
      expect(failed.status).toBe(500);
      expect(again.status).toBe(200);
    });

    it('answers 429 with Retry-After, on XML-RPC too', async () => {
      // prepare
      await injectFault(sandbox, { count: 1, kind: '429', operation: 'common.authenticate', retryAfterSeconds: 9 });
      const odoo = new OdooXmlRpc({ url: sandbox.url, db: DB, username: USERNAME, password: API_KEY });

      // act
      const response = await fetch(`${sandbox.url}/xmlrpc/2/common`, {
        method: 'POST',
        body: `<?xml version="1.0"?><methodCall><methodName>authenticate</methodName><params><param><value>${DB}</value></param><param><value>${USERNAME}</value></param><param><value>${API_KEY}</value></param><param><value><struct></struct></value></param></params></methodCall>`,
      });
      const uid = await promised<unknown>((callback) => odoo.connect(callback));

      // assess
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('9');
      expect(uid).toBe(2);
    });

    it('holds a timed-out call without answering until the client gives up', async () => {
      // prepare
      await injectFault(sandbox, { count: 1, kind: 'timeout', operation: 'common.version' });

      // act
      const held = await fetch(`${sandbox.url}/jsonrpc`, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service: 'common', method: 'version', args: [] } }),
        signal: AbortSignal.timeout(300),
      }).then(
        () => 'answered',
        (error: unknown) => (error as Error).name,
      );
      const next = await jsonRpc(sandbox, 'common', 'version', []);

      // assess
      expect(held).toBe('TimeoutError');
      expect(next.status).toBe(200);
    });

    it('forgets pending faults on DELETE and rejects malformed fault requests', async () => {
      // prepare
      await injectFault(sandbox, { count: 5, kind: '500' });

      // act
      const cleared = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'DELETE' });
      const answer = await jsonRpc(sandbox, 'common', 'version', []);
      const malformed = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ count: 0, kind: '418' }) });

      // assess
      expect(cleared.status).toBe(204);
      expect(answer.status).toBe(200);
      expect(malformed.status).toBe(400);
      expect(sandbox.faults.remaining()).toBe(0);
    });
  });

  describe('durability', () => {
    it('keeps its state across a restart with the same data directory', async () => {
      // prepare
      const dataDir = mkdtempSync(join(tmpdir(), 'odoo-sandbox-'));
      try {
        const first = await startOdooSandbox({ port: 0, db: DB, username: USERNAME, apiKey: API_KEY, dataDir });
        const partnerId = (await execute(first, 'res.partner', 'create', [{ name: 'Durable GmbH', ref: 'durable-1' }])) as number;
        const firstOrder = await createConfirmedOrder(first, 'durable-order');
        await first.close();

        // act
        const second = await startOdooSandbox({ port: 0, db: DB, username: USERNAME, apiKey: API_KEY, dataDir });
        try {
          const partners = await execute(second, 'res.partner', 'search_read', [[['ref', '=', 'durable-1']]], { fields: ['name'] });
          const secondOrder = await createConfirmedOrder(second, 'durable-order-2');
          const orders = (await execute(second, 'sale.order', 'read', [[firstOrder, secondOrder], ['name', 'state']])) as { name: string; state: string }[];

          // assess
          expect(partners).toEqual([{ id: partnerId, name: 'Durable GmbH' }]);
          expect(orders.map((order) => order.state)).toEqual(['sale', 'sale']);
          expect(orders[0]?.name).toBe('S00001');
          expect(orders[1]?.name).toBe('S00002');
        } finally {
          await second.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});
