/**
 * The NAV sandbox speaks NAV's SOAP as a client without Harmony's code sees it:
 * hand-written envelopes, answers read with fast-xml-parser. Basic auth, SOAP 1.1 only,
 * the ContractFilter Fault, ReadMultiple's filters, set size and bookmark paging, Code
 * fields upper-cased, field lengths, manual numbers, read-only Status, unknown fields,
 * Keys that change with every write, and the malformed fault kind.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamicsNavSandbox, type DynamicsNavSandbox } from '../../local/sandbox/dynamics-nav/sandbox.ts';

const USERNAME = 'HARMONY';
const PASSWORD = 'sandbox-test-password';
const AUTHORIZATION = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;

const parser = new XMLParser({ removeNSPrefix: true, parseTagValue: false, processEntities: true, htmlEntities: true, isArray: (name) => name === 'Customer' || name === 'SalesOrder' || name === 'Sales_Order_Line' });

interface NavAnswer {
  readonly status: number;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

let sandbox: DynamicsNavSandbox;

/** Calls a page operation with `inner` as the operation element's content. */
async function call(service: string, operation: string, inner: string, options: { authorization?: string; contentType?: string; action?: string } = {}): Promise<NavAnswer> {
  const namespace = `urn:microsoft-dynamics-schemas/page/${service.toLowerCase()}`;
  const response = await fetch(`${sandbox.baseUrl}/Page/${service}`, {
    method: 'POST',
    headers: {
      'Content-Type': options.contentType ?? 'text/xml; charset=utf-8',
      SOAPAction: options.action ?? `"${namespace}:${operation}"`,
      Authorization: options.authorization ?? AUTHORIZATION,
    },
    body: `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="${namespace}"><soapenv:Body><p:${operation}>${inner}</p:${operation}></soapenv:Body></soapenv:Envelope>`,
  });
  const text = await response.text();
  const parsed = /^<\?xml|^<(\w+:)?Envelope/.test(text) ? (parser.parse(text) as { Envelope?: { Body?: Record<string, unknown> } }) : {};
  return { status: response.status, text, body: parsed.Envelope?.Body ?? {} };
}

const faultString = (answer: NavAnswer): string => String((answer.body.Fault as { faultstring?: unknown } | undefined)?.faultstring ?? '');

async function createCustomer(fields: string): Promise<Record<string, string>> {
  const answer = await call('Customer', 'Create', `<p:Customer>${fields}</p:Customer>`);
  expect(answer.status, answer.text).toBe(200);
  return (answer.body.Create_Result as { Customer: Record<string, string>[] }).Customer[0]!;
}

async function readMultiple(service: string, filters: readonly [string, string][], setSize: number, bookmarkKey?: string): Promise<Record<string, string>[]> {
  const filterXml = filters.map(([field, criteria]) => `<p:filter><p:Field>${field}</p:Field><p:Criteria>${criteria}</p:Criteria></p:filter>`).join('');
  const answer = await call(service, 'ReadMultiple', `${filterXml}${bookmarkKey === undefined ? '' : `<p:bookmarkKey>${bookmarkKey}</p:bookmarkKey>`}<p:setSize>${setSize}</p:setSize>`);
  expect(answer.status, answer.text).toBe(200);
  const inner = (answer.body.ReadMultiple_Result as { ReadMultiple_Result?: Record<string, Record<string, string>[]> | '' }).ReadMultiple_Result;
  return inner === undefined || inner === '' ? [] : (inner[service] ?? []);
}

beforeAll(async () => {
  sandbox = await startDynamicsNavSandbox({ username: USERNAME, password: PASSWORD });
});

afterAll(async () => {
  await sandbox.close();
});

describe('NAV sandbox protocol', () => {
  it('refuses wrong credentials with 401 and a Basic challenge', async () => {
    const answer = await call('Customer', 'Read', '<p:No>C00010</p:No>', { authorization: `Basic ${Buffer.from('HARMONY:nope').toString('base64')}` });
    expect(answer.status).toBe(401);
  });

  it('answers SOAP 1.2 with 415, as NAV’s basicHttpBinding does', async () => {
    const answer = await call('Customer', 'Read', '<p:No>C00010</p:No>', { contentType: 'application/soap+xml; charset=utf-8' });
    expect(answer.status).toBe(415);
    expect(answer.text).toContain("was not the expected type 'text/xml; charset=utf-8'");
  });

  it('a SOAPAction that does not match the body is the ContractFilter Fault', async () => {
    const answer = await call('Customer', 'Read', '<p:No>C00010</p:No>', { action: '"urn:microsoft-dynamics-schemas/page/customer:Delete"' });
    expect(answer.status).toBe(500);
    expect(faultString(answer)).toContain('ContractFilter mismatch at the EndpointDispatcher');
  });

  it('numbers customers from the series, upper-cases Code fields and fills Search Name from Name', async () => {
    const customer = await createCustomer('<p:Name>Fabrikam &amp; Söhne</p:Name><p:Post_Code>ab1 2cd</p:Post_Code>');
    expect(customer.No).toMatch(/^C\d{5}$/);
    expect(customer).toMatchObject({ Name: 'Fabrikam & Söhne', Search_Name: 'FABRIKAM & SÖHNE', Post_Code: 'AB1 2CD' });
    expect(customer.Key).toMatch(/^\d+;.+\d+;\d+;$/);
  });

  it('refuses a manual number, a value longer than its field, an unknown field and the read-only Status', async () => {
    expect(faultString(await call('Customer', 'Create', '<p:Customer><p:No>X1</p:No></p:Customer>'))).toContain('You may not enter numbers manually');
    expect(faultString(await call('Customer', 'Create', `<p:Customer><p:Name>${'n'.repeat(101)}</p:Name></p:Customer>`))).toContain(
      'The length of the string is 101, but it must be less than or equal to 100 characters.',
    );
    expect(faultString(await call('Customer', 'Create', '<p:Customer><p:Nickname>x</p:Nickname></p:Customer>'))).toContain("The element 'Nickname' is not a field of the Customer page.");
    expect(faultString(await call('SalesOrder', 'Create', '<p:SalesOrder><p:Status>Released</p:Status></p:SalesOrder>'))).toContain('The Status field of the SalesOrder page is not editable.');
  });

  it('filters ReadMultiple by quoted literals, wildcards, @ (case-insensitive) and alternatives; an unknown field is refused', async () => {
    const tag = `T${Date.now().toString(36)}`;
    await createCustomer(`<p:Name>${tag} Alpha</p:Name><p:E_Mail>Alpha@${tag}.example</p:E_Mail>`);
    await createCustomer(`<p:Name>${tag} Beta|Gamma</p:Name><p:E_Mail>beta@${tag}.example</p:E_Mail>`);
    expect((await readMultiple('Customer', [['Name', `${tag}*`]], 0)).map((customer) => customer.Name)).toEqual([`${tag} Alpha`, `${tag} Beta|Gamma`]);
    expect((await readMultiple('Customer', [['Name', `'${tag} Beta|Gamma'`]], 0)).map((customer) => customer.Name)).toEqual([`${tag} Beta|Gamma`]);
    expect(await readMultiple('Customer', [['E_Mail', `'alpha@${tag}.example'`]], 0)).toHaveLength(0);
    expect(await readMultiple('Customer', [['E_Mail', `@'alpha@${tag}.example'`]], 0)).toHaveLength(1);
    expect(await readMultiple('Customer', [['E_Mail', `'Alpha@${tag}.example'|'beta@${tag}.example'`]], 0)).toHaveLength(2);
    expect(await readMultiple('Customer', [['Search_Name', `'${tag.toLowerCase()} alpha'`]], 0)).toHaveLength(1);
    const unknown = await call('Customer', 'ReadMultiple', '<p:filter><p:Field>Colour</p:Field><p:Criteria>red</p:Criteria></p:filter><p:setSize>0</p:setSize>');
    expect(faultString(unknown)).toBe("Instance validation error: 'Colour' is not a valid value for Customer_Fields.");
  });

  it('pages ReadMultiple with setSize and the last record’s Key as bookmark; a negative setSize reads from the end', async () => {
    const tag = `P${Date.now().toString(36)}`;
    for (const suffix of ['1', '2', '3']) await createCustomer(`<p:Name>${tag} ${suffix}</p:Name>`);
    const first = await readMultiple('Customer', [['Name', `${tag}*`]], 2);
    const second = await readMultiple('Customer', [['Name', `${tag}*`]], 2, first.at(-1)!.Key);
    const third = await readMultiple('Customer', [['Name', `${tag}*`]], 2, second.at(-1)!.Key);
    expect([...first, ...second].map((customer) => customer.Name)).toEqual([`${tag} 1`, `${tag} 2`, `${tag} 3`]);
    expect(third).toEqual([]);
    expect((await readMultiple('Customer', [['Name', `${tag}*`]], -1)).map((customer) => customer.Name)).toEqual([`${tag} 3`]);
  });

  it('a Key changes with every write, and Delete with an old Key is refused with NAV’s concurrency Fault', async () => {
    const customer = await createCustomer('<p:Name>Key Test</p:Name>');
    const created = await call('SalesOrder', 'Create', `<p:SalesOrder><p:Sell_to_Customer_No>${customer.No}</p:Sell_to_Customer_No><p:SalesLines><p:Sales_Order_Line><p:Type>Item</p:Type><p:No>widget-1</p:No><p:Quantity>3</p:Quantity></p:Sales_Order_Line></p:SalesLines></p:SalesOrder>`);
    const order = (created.body.Create_Result as { SalesOrder: Record<string, unknown>[] }).SalesOrder[0]!;
    const line = (order.SalesLines as { Sales_Order_Line: Record<string, string>[] }).Sales_Order_Line[0]!;
    expect(line).toMatchObject({ No: 'WIDGET-1', Description: 'Widget', Unit_Price: '25', Line_Amount: '75', Total_VAT_Amount: '18.75', Total_Amount_Incl_VAT: '93.75' });
    const oldKey = String(order.Key);
    const release = await fetch(`${sandbox.baseUrl}/Codeunit/HarmonySalesOrder`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml', SOAPAction: '"urn:microsoft-dynamics-schemas/codeunit/HarmonySalesOrder:ReleaseSalesOrder"', Authorization: AUTHORIZATION },
      body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ReleaseSalesOrder xmlns="urn:microsoft-dynamics-schemas/codeunit/HarmonySalesOrder"><documentNo>${String(order.No)}</documentNo></ReleaseSalesOrder></s:Body></s:Envelope>`,
    });
    expect(await release.text()).toContain('<ReleaseSalesOrder_Result xmlns="urn:microsoft-dynamics-schemas/codeunit/HarmonySalesOrder"/>');
    const stale = await call('SalesOrder', 'Delete', `<p:Key>${oldKey}</p:Key>`);
    expect(stale.status).toBe(500);
    expect(faultString(stale)).toContain('Another user has modified the record for this Sales Header after you retrieved it from the database.');
    const current = (await call('SalesOrder', 'Read', `<p:No>${String(order.No)}</p:No>`)).body.Read_Result as { SalesOrder: Record<string, string>[] };
    expect(current.SalesOrder[0]!.Key).not.toBe(oldKey);
    expect(current.SalesOrder[0]!.Status).toBe('Released');
    const deleted = await call('SalesOrder', 'Delete', `<p:Key>${current.SalesOrder[0]!.Key}</p:Key>`);
    expect((deleted.body.Delete_Result as { Delete_Result: string }).Delete_Result).toBe('true');
    expect((await call('SalesOrder', 'Read', `<p:No>${String(order.No)}</p:No>`)).body.Read_Result).toBe('');
  });

  it('the malformed fault kind answers 200 with the real answer cut in half', async () => {
    await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ kind: 'malformed', count: 1, operation: 'Customer.ReadMultiple' }) });
    const answer = await call('Customer', 'ReadMultiple', '<p:setSize>1</p:setSize>');
    expect(answer.status).toBe(200);
    expect(answer.text.startsWith('<?xml version="1.0" encoding="utf-8"?><Soap:Envelope')).toBe(true);
    expect(answer.text).not.toContain('</Soap:Envelope>');
  });
});
