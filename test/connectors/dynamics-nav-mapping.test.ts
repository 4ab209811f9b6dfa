/**
 * The NAV adapter's reading of recorded NAV answers (test/fixtures/dynamics-nav): page
 * records into ErpOrder and customers, NAV's Faults into error families, and the filter
 * literals that keep CRM references from being read as NAV filter syntax.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyNavFault } from '../../functions/connectors/erp/dynamics-nav/client.ts';
import { anyOfFilter, exactFilter, NavCustomer, NavSalesOrder, parseNavRecord, toErpOrder, toNavCustomer } from '../../functions/connectors/erp/dynamics-nav/mapping.ts';
import { PermanentError } from '../../functions/core/errors.ts';
import { readEnvelope, type SoapEnvelope } from '../../functions/connectors/soap/envelope.ts';
import { childElement, readXml } from '../../functions/connectors/soap/xml-reader.ts';

const recorded = (name: string): SoapEnvelope => readEnvelope(readXml(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'dynamics-nav', name), 'utf8')));

describe('NAV records', () => {
  it('reads a Sales Order with its lines into an ErpOrder: number, reference, status, total incl. VAT, currency', () => {
    const order = parseNavRecord(NavSalesOrder, childElement(recorded('sales-order-read.xml').payload!, 'SalesOrder')!, 'SalesOrder.Read');
    expect(order.SalesLines.Sales_Order_Line).toHaveLength(2);
    expect(toErpOrder(order, 'EUR')).toEqual({ id: '1004', reference: '1004', externalRef: 'HUBSPOT:18273645', status: 'confirmed', amountTotal: 1861, currency: 'USD' });
  });

  it('reports the CRM’s spelling of the reference when it is the one NAV upper-cased', () => {
    const order = parseNavRecord(NavSalesOrder, childElement(recorded('sales-order-read.xml').payload!, 'SalesOrder')!, 'SalesOrder.Read');
    expect(toErpOrder(order, 'EUR', 'hubspot:18273645').externalRef).toBe('hubspot:18273645');
    expect(toErpOrder(order, 'EUR', 'hubspot:999').externalRef).toBe('HUBSPOT:18273645');
  });

  it('an empty Read_Result means "no such record"', () => {
    const payload = recorded('read-not-found.xml').payload!;
    expect(payload.name).toBe('Read_Result');
    expect(childElement(payload, 'SalesOrder')).toBeUndefined();
  });

  it('reads customers from ReadMultiple, one with blank fields left out', () => {
    const list = childElement(recorded('customer-read-multiple.xml').payload!, 'ReadMultiple_Result')!;
    const customers = list.children.map((element) => parseNavRecord(NavCustomer, element, 'Customer.ReadMultiple'));
    expect(customers.map((customer) => [customer.No, customer.Name, customer.VAT_Registration_No])).toEqual([
      ['10000', 'The Cannon Group PLC', 'GB789456278'],
      ['20000', 'Selangorian Ltd. & Partners', ''],
    ]);
  });

  it('a record without its Key or with an unknown Status is a PermanentError naming the field', () => {
    const order = childElement(recorded('sales-order-read.xml').payload!, 'SalesOrder')!;
    const withoutKey = { ...order, children: order.children.filter((child) => child.name !== 'Key') };
    expect(() => parseNavRecord(NavSalesOrder, withoutKey, 'SalesOrder.Read')).toThrow(/dynamics-nav SalesOrder\.Read: unexpected SalesOrder record — Key:/);
    const oddStatus = { ...order, children: order.children.map((child) => (child.name === 'Status' ? { ...child, text: 'Shipped' } : child)) };
    const error = (() => {
      try {
        parseNavRecord(NavSalesOrder, oddStatus, 'SalesOrder.Read');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('malformed-response');
    expect((error as Error).message).toMatch(/— Status:/);
  });
});

describe('NAV Faults', () => {
  const fault = (name: string) => recorded(name).fault!;

  it('a record that does not exist is permanent, code not-found', () => {
    expect(classifyNavFault(fault('fault-record-not-found.xml'))).toEqual({ retry: false, code: 'not-found' });
  });

  it('"Another user has modified the record" is retryable, code stale-key', () => {
    expect(classifyNavFault(fault('fault-another-user-modified.xml'))).toEqual({ retry: true, code: 'stale-key' });
  });

  it('a record locked by another session ("Please try again later") is retryable', () => {
    expect(classifyNavFault(fault('fault-record-locked.xml'))).toEqual({ retry: true, code: 'busy' });
  });

  it('a value missing from a related table is a permanent business rejection named after the exception', () => {
    expect(classifyNavFault(fault('fault-table-relation.xml'))).toEqual({ retry: false, code: 'NavCSideValidateTableRelationException' });
    expect(fault('fault-table-relation.xml').reason).toContain('(NO-SUCH-SKU-404)');
  });
});

describe('NAV filter literals and customer fields', () => {
  it('quotes a value so filter syntax in it is data, doubling quotes', () => {
    expect(exactFilter("O'Brien & Co|*")).toBe("'O''Brien & Co|*'");
    expect(anyOfFilter(['DE 123', 'DE123', 'DE123'])).toBe("'DE 123'|'DE123'");
  });

  it('writes Name before the reference field and leaves out what the party does not have', () => {
    const fields = toNavCustomer({ externalId: 'hubspot:1', kind: 'person', name: '  Ada Lovelace ', email: ' ada@example.org ', address: { countryCode: 'gb' } }, 'Search_Name');
    expect(Object.keys(fields).filter((key) => fields[key] !== undefined)).toEqual(['Name', 'Search_Name', 'Country_Region_Code', 'E_Mail']);
    expect(fields).toMatchObject({ Name: 'Ada Lovelace', Search_Name: 'hubspot:1', Country_Region_Code: 'GB', E_Mail: 'ada@example.org' });
  });
});
