/**
 * The SAP adapter's shapes against SAP's own documents (test/fixtures/sap, see SOURCES.md):
 * every property the adapter reads or writes — and every property the sandbox serves —
 * exists in the services' `$metadata` with the length SAP gives it, writes only where SAP
 * lets a client write; recorded answers and error bodies read as the adapter expects;
 * the status table; and the connector built from its settings, from the sandbox's
 * environment exactly as the registry would.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sapConnector } from '../../functions/connectors/erp/sap/connector.ts';
import {
  partnerKeyFor,
  purchaseOrderReferenceFor,
  SapEmailAddress,
  SapPartnerAddress,
  SapPartnerRef,
  SapSalesOrder,
  SapSalesOrderItem,
  SapTaxNumber,
  splitName,
  taxTypeFor,
  toErpOrderStatus,
  toPartnerCreate,
  toSalesOrderCreate,
  type SapSalesOrder as SalesOrderRecord,
} from '../../functions/connectors/erp/sap/mapping.ts';
import { decimalText, describeSapFailure, EntityMetadata, odataCollection, odataEntity, parseSapDate, SapErrorBody } from '../../functions/connectors/erp/sap/odata.ts';
import { readConnectorSecrets } from '../../functions/connectors/registry.ts';
import { mustEntitySet } from '../../local/sandbox/sap/entity-model.ts';
import { sapSandbox } from '../../local/sandbox/sap/sandbox.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sap');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

interface EdmProperty {
  readonly maxLength?: number;
  readonly creatable: boolean;
  readonly updatable: boolean;
}

/** Entity types of the recorded `$metadata` excerpts: properties (with length and writability) and navigation properties. */
function entityTypes(file: string): Map<string, { properties: Map<string, EdmProperty>; navigations: Set<string> }> {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['EntityType', 'Property', 'NavigationProperty'].includes(name) });
  const schema = parser.parse(readFileSync(join(FIXTURES, file), 'utf8')).Schema as { EntityType: Record<string, any>[] };
  return new Map(
    schema.EntityType.map((type) => [
      type.Name as string,
      {
        properties: new Map(
          (type.Property as Record<string, string>[]).map((property) => [
            property.Name!,
            {
              ...(property.MaxLength === undefined ? {} : { maxLength: Number(property.MaxLength) }),
              creatable: property['sap:creatable'] !== 'false',
              updatable: property['sap:updatable'] !== 'false',
            },
          ]),
        ),
        navigations: new Set(((type.NavigationProperty ?? []) as Record<string, string>[]).map((navigation) => navigation.Name!)),
      },
    ]),
  );
}

const TYPES = new Map([...entityTypes('api-sales-order-srv.entity-types.xml'), ...entityTypes('api-business-partner.entity-types.xml')]);

function type(name: string) {
  const found = TYPES.get(name);
  if (found === undefined) throw new Error(`no ${name} in the fixtures`);
  return found;
}

/** Every property of `body` is writable on `typeName` and fits its length; navigations are checked recursively via `children`. */
function expectWritable(typeName: string, body: Record<string, unknown>, children: Record<string, string> = {}, mode: 'create' | 'update' = 'create'): void {
  const edm = type(typeName);
  for (const [name, value] of Object.entries(body)) {
    if (edm.navigations.has(name)) {
      const childType = children[name];
      expect(childType, `${typeName}.${name}: which type?`).toBeDefined();
      const rows = Array.isArray(value) ? value : [value];
      for (const row of rows) expectWritable(childType!, row as Record<string, unknown>, children);
      continue;
    }
    const property = edm.properties.get(name);
    expect(property, `${typeName}.${name} exists`).toBeDefined();
    expect(mode === 'create' ? property!.creatable : property!.updatable, `${typeName}.${name} is writable`).toBe(true);
    if (typeof value === 'string' && property!.maxLength !== undefined) expect(value.length, `${typeName}.${name} fits`).toBeLessThanOrEqual(property!.maxLength);
  }
}

function expectReadable(typeName: string, schema: z.ZodObject): void {
  const edm = type(typeName);
  for (const name of Object.keys(schema.shape)) {
    if (name === '__metadata') continue;
    expect(edm.properties.has(name) || edm.navigations.has(name), `${typeName}.${name} exists`).toBe(true);
  }
}

const salesArea = { salesOrganization: '1710', distributionChannel: '10', division: '00' };

describe('against SAP\'s $metadata', () => {
  it('reads only properties the services have', () => {
    expectReadable('A_SalesOrderType', SapSalesOrder);
    expectReadable('A_SalesOrderItemType', SapSalesOrderItem);
    expectReadable('A_BusinessPartnerType', SapPartnerRef);
    expectReadable('A_BusinessPartnerTaxNumberType', SapTaxNumber);
    expectReadable('A_AddressEmailAddressType', SapEmailAddress);
    expectReadable('A_BusinessPartnerAddressType', SapPartnerAddress);
  });

  it('writes a sales order deep insert SAP accepts property by property', () => {
    const body = toSalesOrderCreate(
      { externalRef: `pipedrive:deal:${'9'.repeat(40)}`, customerId: '17100001', currency: 'EUR', lines: [{ sku: 'WIDGET-1', name: 'Widget', quantity: 1.5, unitPrice: 19.99, discountPercent: 12.5 }] },
      { salesOrderType: 'OR', salesArea, deliveryBlock: 'Z1', pricing: 'crm', priceConditionType: 'PPR0' },
    );
    expectWritable('A_SalesOrderType', body, { to_Item: 'A_SalesOrderItemType', to_PricingElement: 'A_SalesOrderItemPrElementType' });
    expectWritable('A_SalesOrderType', { DeliveryBlockReason: '' }, {}, 'update');
    expectWritable('A_SalesOrderItemType', { SalesDocumentRjcnReason: '10' }, {}, 'update');
  });

  it('writes a business partner deep insert SAP accepts property by property', () => {
    const built = toPartnerCreate(
      {
        externalId: 'salesforce:account:001Hs00001AbCdEfGhIjKl',
        kind: 'company',
        name: 'Nordwind Handels- und Logistikgesellschaft mbH & Co. KG Hamburg',
        email: 'einkauf@nordwind.example',
        phone: '+49 40 1234567',
        vatNumber: 'DE 123 456 789',
        address: { street: 'Hafenstraße 7', city: 'Hamburg', postalCode: '20457', countryCode: 'de' },
      },
      { salesArea, currency: 'EUR', grouping: 'BP02' },
    );
    if (!('body' in built)) throw new Error(z.prettifyError(built.issues));
    expectWritable('A_BusinessPartnerType', built.body, {
      to_BusinessPartnerRole: 'A_BusinessPartnerRoleType',
      to_BusinessPartnerAddress: 'A_BusinessPartnerAddressType',
      to_EmailAddress: 'A_AddressEmailAddressType',
      to_PhoneNumber: 'A_AddressPhoneNumberType',
      to_BusinessPartnerTax: 'A_BusinessPartnerTaxNumberType',
      to_Customer: 'A_CustomerType',
      to_CustomerSalesArea: 'A_CustomerSalesAreaType',
    });
  });

  it('keeps the derived references within SAP\'s field lengths', () => {
    expect(partnerKeyFor('hubspot:company:'.padEnd(300, '7')).length).toBeLessThanOrEqual(type('A_BusinessPartnerType').properties.get('BusinessPartnerIDByExtSystem')!.maxLength!);
    expect(partnerKeyFor('a')).toMatch(/^CRM-[0-9A-F]{16}$/);
    expect(partnerKeyFor('hubspot:company:1')).not.toBe(partnerKeyFor('hubspot:Company:1'));
    const long = 'salesforce:opportunity:006Hs00001AbCdEfGhIjKlMnOp';
    expect(purchaseOrderReferenceFor(long).length).toBe(type('A_SalesOrderType').properties.get('PurchaseOrderByCustomer')!.maxLength);
    expect(purchaseOrderReferenceFor(long)).toBe(purchaseOrderReferenceFor(long));
    expect(purchaseOrderReferenceFor('hubspot:deal:42')).toBe('hubspot:deal:42');
  });

  it('the sandbox serves only properties the services have, with SAP\'s lengths and writability', () => {
    const sets = ['A_BusinessPartner', 'A_BusinessPartnerRole', 'A_BusinessPartnerAddress', 'A_AddressEmailAddress', 'A_AddressPhoneNumber', 'A_BusinessPartnerTaxNumber', 'A_Customer', 'A_CustomerSalesArea', 'A_SalesOrder', 'A_SalesOrderItem', 'A_SalesOrderItemPrElement'];
    for (const name of sets) {
      const set = mustEntitySet(name);
      const edm = type(set.type);
      for (const [property, definition] of Object.entries(set.properties)) {
        const documented = edm.properties.get(property);
        expect(documented, `${set.type}.${property} exists`).toBeDefined();
        if (definition.maxLength !== undefined) expect(definition.maxLength, `${set.type}.${property} length`).toBe(documented!.maxLength);
        if (definition.computed === true) expect(documented!.creatable, `${set.type}.${property} is computed by SAP`).toBe(false);
      }
      for (const navigation of Object.keys(set.navigations)) expect(edm.navigations.has(navigation), `${set.type}.${navigation}`).toBe(true);
    }
  });
});

describe('recorded answers', () => {
  it('reads the documented create answer: number without padding, the ETag, /Date(ms+0000)/', () => {
    const answer = odataEntity(z.object({ __metadata: EntityMetadata, SalesOrder: z.string(), LastChangeDateTime: z.string(), PurchaseOrderByCustomer: z.string() })).parse(fixture('sales-order-create-response.excerpt.json'));
    expect(answer.d.SalesOrder).toBe('1000013602');
    expect(answer.d.__metadata.etag).toBe("W/\"datetimeoffset'2023-05-12T20%3A30%3A30.3885560Z'\"");
    expect(parseSapDate(answer.d.LastChangeDateTime)).toBe(1683923430388);
  });

  it('reads the documented collection: d.results, ALPHA-converted numbers, /Date(ms)/', () => {
    const answer = odataCollection(z.object({ SalesOrder: z.string(), SoldToParty: z.string(), CreationDate: z.string() })).parse(fixture('sales-order-collection.excerpt.json'));
    expect(answer.d.results[0]).toMatchObject({ SalesOrder: '992330', SoldToParty: '100010' });
    expect(new Date(parseSapDate(answer.d.results[0]!.CreationDate)!).toISOString()).toBe('2019-01-09T00:00:00.000Z');
  });

  it('says what SAP said in its error bodies', () => {
    for (const name of ['error-404-business-partner.json', 'error-400-business-exception.json']) expect(SapErrorBody.safeParse(fixture(name)).success).toBe(true);
    expect(describeSapFailure(404, JSON.stringify(fixture('error-404-business-partner.json')))).toBe("/IWBEP/CM_MGW_RT/020: Resource not found for segment 'A_BusinessPartnerType'");
    expect(describeSapFailure(400, JSON.stringify(fixture('error-400-business-exception.json')))).toBe("XX/124: Creating operations are disabled for entity 'API_PURCHASEREQ_PROCESS~A_PURREQADDDELIVERY'");
    expect(describeSapFailure(401, '<html><body><h1>Logon failed</h1></body></html>')).toBe('Logon failed');
  });

  it('the documented deep insert uses the shapes Harmony sends: to_Item as an array, to_PricingElement per item, decimals as strings', () => {
    const documented = fixture('sales-order-create-request.json') as Record<string, any>;
    const ours = toSalesOrderCreate({ externalRef: 'hubspot:deal:1', customerId: '1000000067', currency: 'EUR', lines: [{ sku: '10450007', name: 'x', quantity: 12, unitPrice: 4 }] }, { salesOrderType: 'OR', salesArea, deliveryBlock: '', pricing: 'crm', priceConditionType: 'PR00' }) as Record<string, any>;
    expect(Array.isArray(ours.to_Item)).toBe(Array.isArray(documented.to_Item));
    expect(Object.keys(ours.to_Item[0]).filter((key) => key !== 'SalesOrderItem')).toEqual(Object.keys(documented.to_Item[0]));
    expect(Object.keys(ours.to_Item[0].to_PricingElement[0]).filter((key) => key !== 'ConditionCurrency')).toEqual(Object.keys(documented.to_Item[0].to_PricingElement[0]));
    expect(typeof ours.to_Item[0].RequestedQuantity).toBe(typeof documented.to_Item[0].RequestedQuantity);
  });
});

describe('mapping', () => {
  const order = (overrides: Partial<SalesOrderRecord>): SalesOrderRecord => ({
    __metadata: {},
    SalesOrder: '4711',
    SoldToParty: '17100001',
    PurchaseOrderByCustomer: 'hubspot:deal:1',
    TransactionCurrency: 'EUR',
    TotalNetAmount: 100,
    DeliveryBlockReason: '',
    OverallSDProcessStatus: 'A',
    OverallTotalDeliveryStatus: 'A',
    OverallSDDocumentRejectionSts: 'A',
    ...overrides,
  });

  it.each([
    [{ OverallSDDocumentRejectionSts: 'C', OverallSDProcessStatus: 'C' }, 'cancelled'],
    [{ OverallSDDocumentRejectionSts: 'B' }, 'confirmed'],
    [{ OverallOrdReltdBillgStatus: 'C', OverallTotalDeliveryStatus: '' }, 'invoiced'],
    [{ OverallTotalDeliveryStatus: 'C', OverallSDProcessStatus: 'C' }, 'shipped'],
    [{ OverallTotalDeliveryStatus: 'B' }, 'confirmed'],
    [{ DeliveryBlockReason: 'Z1' }, 'draft'],
    [{}, 'confirmed'],
  ] as const)('reads %j as %s', (fields, status) => {
    expect(toErpOrderStatus(order(fields))).toBe(status);
  });

  it('splits names at spaces into SAP\'s 40-character fields', () => {
    expect(splitName('A'.repeat(45), 40)).toEqual(['A'.repeat(40), 'A'.repeat(5)]);
    expect(splitName('  Nordwind   GmbH ', 40)).toEqual(['Nordwind GmbH']);
  });

  it('names the tax number category after the VAT prefix (EL is Greece), else the address country', () => {
    expect(taxTypeFor('DE123456789', 'FR')).toBe('DE0');
    expect(taxTypeFor('EL123456789', 'GR')).toBe('GR0');
    expect(taxTypeFor('123456789', 'AT')).toBe('AT0');
  });

  it('writes decimals within a scale and refuses more', () => {
    expect(decimalText(4, 3)).toBe('4');
    expect(decimalText(81.0000001, 3)).toBeUndefined();
    expect(decimalText(1.25, 3)).toBe('1.25');
  });

  it('turns the country a CRM keeps as text into the code SAP wants, and names text that is no country', () => {
    const built = toPartnerCreate({ externalId: 'x', kind: 'company', name: 'N', address: { countryCode: 'Germany' } }, { salesArea, currency: 'EUR' });
    expect('body' in built && (built.body.to_BusinessPartnerAddress as Record<string, unknown>[])[0]!.Country).toBe('DE');
    const unknown = toPartnerCreate({ externalId: 'x', kind: 'company', name: 'N', address: { countryCode: 'Atlantis' } }, { salesArea, currency: 'EUR', country: 'DE' });
    expect('issues' in unknown && z.prettifyError(unknown.issues)).toMatch(/Country/);
  });

  it('refuses a party SAP cannot hold, naming the field', () => {
    const built = toPartnerCreate({ externalId: 'x', kind: 'company', name: 'N'.repeat(200), address: { countryCode: 'DE' } }, { salesArea, currency: 'EUR' });
    expect('issues' in built && z.prettifyError(built.issues)).toMatch(/name/);
  });
});

describe('connector', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sap-definition-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { SAP_BASE_URL: 'https://my123456-api.s4hana.cloud.sap', SAP_SALES_ORGANIZATION: '1710', SAP_DISTRIBUTION_CHANNEL: '10', SAP_DIVISION: '00', SAP_REJECTION_REASON: '10' };

  it('builds the adapter from the sandbox\'s environment exactly as the registry would, and it works', async () => {
    const sandbox = await sapSandbox.start({ host: '127.0.0.1', port: 0, dataDir, ingressUrl: 'http://127.0.0.1:9' });
    try {
      const environment = sandbox.environment;
      const erp = sapConnector.create(sapConnector.settings.parse(environment), await readConnectorSecrets(sapConnector, environment), { timeoutMs: 2000 });
      // A service URL pasted as SAP_BASE_URL still reaches both services.
      const pasted = { ...environment, SAP_BASE_URL: `${environment.SAP_BASE_URL}/sap/opu/odata/sap/API_SALES_ORDER_SRV/` };
      const fromPasted = sapConnector.create(sapConnector.settings.parse(pasted), await readConnectorSecrets(sapConnector, pasted), { timeoutMs: 2000 });
      expect((await fromPasted.upsertCustomer({ externalId: 'hubspot:company:hub-0', kind: 'person', name: 'Grace Hopper' })).created).toBe(true);
      const customer = await erp.upsertCustomer({ externalId: 'hubspot:company:hub-1', kind: 'company', name: 'Hub GmbH', email: 'hub@example.org' });
      const order = await erp.createSalesOrder({ externalRef: 'hubspot:deal:hub-1', customerId: customer.customerId, currency: 'EUR', lines: [{ sku: 'DOCK-4', name: 'Dock', quantity: 1, unitPrice: 189 }] });
      expect(order.status).toBe('draft');
      expect((await erp.confirmSalesOrder(order.id)).status).toBe('confirmed');
    } finally {
      await sandbox.close();
    }
  });

  it('names what SAP_AUTH needs when it is missing', () => {
    const settings = sapConnector.settings.parse(base);
    expect(() => sapConnector.create(settings, { clientId: 'id', clientSecret: 'secret' }, { timeoutMs: 1000 })).toThrow(/SAP_TOKEN_URL: required with SAP_AUTH=oauth2/);
    const basicSettings = sapConnector.settings.parse({ ...base, SAP_AUTH: 'basic' });
    expect(() => sapConnector.create(basicSettings, { username: 'COMM' }, { timeoutMs: 1000 })).toThrow(/SAP_PASSWORD: required with SAP_AUTH=basic/);
  });

  it('refuses an SAP_BASE_URL that is not https, and settings SAP would not take', () => {
    const settings = sapConnector.settings.parse({ ...base, SAP_BASE_URL: 'http://s4.example.com', SAP_AUTH: 'basic' });
    expect(() => sapConnector.create(settings, { username: 'COMM', password: 'pw' }, { timeoutMs: 1000 })).toThrow(/SAP_BASE_URL/);
    expect(sapConnector.settings.safeParse({ ...base, SAP_CLIENT: '1000' }).success).toBe(false);
    expect(sapConnector.settings.safeParse({ ...base, SAP_SALES_ORGANIZATION: '17100' }).success).toBe(false);
    expect(sapConnector.settings.parse(base)).toMatchObject({ SAP_AUTH: 'oauth2', SAP_SALES_ORDER_TYPE: 'OR', SAP_DELIVERY_BLOCK: '', SAP_PRICING: 'crm', SAP_PRICE_CONDITION_TYPE: 'PR00' });
  });
});
