/**
 * The Business Central mapping against payloads recorded from Microsoft Learn's API v2.0
 * reference (test/fixtures/business-central, see SOURCES.md): what the adapter reads
 * parses, what it writes uses only documented properties, and the CRM ids it stores fit
 * BC's fields.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBusinessCentralFailure } from '../../functions/connectors/erp/business-central/client.ts';
import {
  BcCurrency,
  BcItem,
  BcSalesInvoice,
  BcSalesOrder,
  customerNumberFor,
  externalDocumentNumberFor,
  invoicedOrder,
  newestOrder,
  odataString,
  toCustomerCreate,
  toErpOrder,
  toErpOrderStatus,
  toSalesOrderCreate,
} from '../../functions/connectors/erp/business-central/mapping.ts';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'business-central', name), 'utf8')) as Record<string, unknown>;
}

describe('Business Central mapping', () => {
  it('reads the documented salesOrder create response as a confirmed order in its currency', () => {
    const order = BcSalesOrder.parse(fixture('sales-order-create-response.json'));
    expect(toErpOrder(order, 'EUR', 'hubspot:deal:1')).toEqual({
      id: 'b6f4017a-b749-ee11-ad0b-a1422c0f7f1f',
      reference: '101005',
      externalRef: 'hubspot:deal:1',
      status: 'confirmed',
      amountTotal: 0,
      currency: 'GBP',
    });
  });

  it('reads a blank currency code as the local currency', () => {
    const order = BcSalesOrder.parse({ ...fixture('sales-order-create-response.json'), currencyCode: '' });
    expect(toErpOrder(order, 'EUR').currency).toBe('EUR');
  });

  it('reads the documented paid salesInvoice as a paid order with its total', () => {
    const invoice = BcSalesInvoice.parse(fixture('sales-invoice-get-response.json'));
    expect(invoicedOrder(invoice, 'EUR')).toMatchObject({ status: 'paid', amountTotal: 172.94, currency: 'USD' });
    expect(invoicedOrder({ ...invoice, status: 'Open' }, 'EUR').status).toBe('invoiced');
  });

  it('parses the documented item and currency', () => {
    expect(BcItem.parse(fixture('item-get-response.json'))).toMatchObject({ number: '1896-S', blocked: false });
    expect(BcCurrency.parse(fixture('currency-get-response.json'))).toMatchObject({ code: 'CAD' });
  });

  it('maps BC order statuses: Draft and Open confirmed, In Review draft, fully shipped shipped', () => {
    expect(toErpOrderStatus({ status: 'Draft', fullyShipped: false })).toBe('confirmed');
    expect(toErpOrderStatus({ status: 'Open', fullyShipped: false })).toBe('confirmed');
    expect(toErpOrderStatus({ status: 'In_x0020_Review', fullyShipped: false })).toBe('draft');
    expect(toErpOrderStatus({ status: 'Open', fullyShipped: true })).toBe('shipped');
  });

  it('writes a customer with documented customer properties only', () => {
    const documented = new Set(Object.keys(fixture('customer-resource.json')));
    const body = toCustomerCreate({
      externalId: 'hubspot:company:4711',
      kind: 'person',
      name: ' Ada Lovelace ',
      email: 'ada@example.org',
      phone: '+44 20 7946 0000',
      vatNumber: 'GB123456789',
      address: { street: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', countryCode: 'gb' },
    });
    expect(Object.keys(body).filter((key) => !documented.has(key))).toEqual([]);
    expect(body).toMatchObject({ displayName: 'Ada Lovelace', type: 'Person', country: 'GB', number: customerNumberFor('hubspot:company:4711') });
  });

  it('writes a sales order and its lines with documented properties only', () => {
    const header = new Set([...Object.keys(fixture('sales-order-resource.json')), 'salesOrderLines']);
    const line = new Set(Object.keys(fixture('sales-order-line-create-request.json')));
    const body = toSalesOrderCreate('c04c550b-593f-ee11-be74-6045bdc8c285', 'hubspot:deal:9', '', [
      { sku: 'WIDGET-1', name: '', quantity: 2, unitPrice: 25 },
      { sku: 'DOCK-4', name: 'Dock', quantity: 1, unitPrice: 189, discountPercent: 5 },
    ]);
    expect(Object.keys(body).filter((key) => !header.has(key))).toEqual([]);
    for (const created of body.salesOrderLines) expect(Object.keys(created).filter((key) => !line.has(key))).toEqual([]);
    expect(body.salesOrderLines[0]).toMatchObject({ lineType: 'Item', lineObjectNumber: 'WIDGET-1', description: 'WIDGET-1', discountPercent: 0 });
  });

  it('derives a customer number that fits Code[20], stays the same for the same CRM id and differs for another', () => {
    const number = customerNumberFor('hubspot:company:123');
    expect(number).toMatch(/^CRM-[A-Z2-7]{16}$/);
    expect(customerNumberFor('hubspot:company:123')).toBe(number);
    expect(customerNumberFor('hubspot:company:124')).not.toBe(number);
    expect(customerNumberFor('HUBSPOT:COMPANY:123')).not.toBe(number);
  });

  it('keeps an external reference of up to 35 characters and hashes a longer one to 35, stably', () => {
    expect(externalDocumentNumberFor('hubspot:deal:123')).toBe('hubspot:deal:123');
    const long = 'salesforce:opportunity:0065g00000AbCdEfGhXYZ';
    const stored = externalDocumentNumberFor(long);
    expect(stored).toHaveLength(35);
    expect(stored.startsWith(long.slice(0, 20))).toBe(true);
    expect(externalDocumentNumberFor(long)).toBe(stored);
    expect(externalDocumentNumberFor(`${long}2`)).not.toBe(stored);
  });

  it("escapes quotes in OData string literals", () => {
    expect(odataString("O'Brien & Sons")).toBe("'O''Brien & Sons'");
  });

  it('takes the highest order number as the newest', () => {
    expect(newestOrder([{ number: 'S-ORD101009' }, { number: 'S-ORD101010' }, { number: 'S-ORD99999' }])?.number).toBe('S-ORD101010');
  });

  it("shows BC's documented error body as code and message without the correlation id", () => {
    expect(describeBusinessCentralFailure(400, JSON.stringify(fixture('odata-error-invalid-option.json')))).toBe(
      "Unknown: 'Invalid Type' is not an option. The existing options are: Inventory,Service,Non-Inventory",
    );
    expect(describeBusinessCentralFailure(502, '<html>Bad Gateway</html>')).toBe('<html>Bad Gateway</html>');
  });
});
