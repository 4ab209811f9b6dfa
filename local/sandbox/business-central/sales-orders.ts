/**
 * The sales order writes of the sandbox, as BC's "APIV2 - Sales Orders" page does them:
 * create with a deep insert of `salesOrderLines` (all or nothing), PATCH and DELETE
 * guarded by If-Match (412 `Request_EntityChanged` on a stale etag), and the bound action
 * `Microsoft.NAV.shipAndInvoice`, which posts the order to a sales invoice and deletes it
 * (BC deletes a fully shipped and invoiced order). Numbers come from the series
 * `S-ORD101001…` and `S-INV103001…`; the local currency is stored blank.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { nextRowVersion, today, type Company } from './company.ts';
import { etagOf, salesOrderJson, type StoredCurrency, type StoredCustomer, type StoredItem, type StoredLine, type StoredSalesInvoice, type StoredSalesOrder } from './entities.ts';
import { parseBody, text } from './request-body.ts';
import { bcError, dialogError, entityNotFound, type SandboxAnswer } from './responses.ts';

const Guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const DateText = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

const LineCreate = z.strictObject({
  lineType: z.enum(['Item']).optional(),
  lineObjectNumber: text(20).optional(),
  itemId: Guid.optional(),
  description: text(100).optional(),
  unitOfMeasureCode: text(10).optional(),
  quantity: z.number().nonnegative().optional(),
  unitPrice: z.number().nonnegative().optional(),
  discountPercent: z.number().min(0).max(100).optional(),
  shipmentDate: DateText.optional(),
});

const OrderCreate = z.strictObject({
  customerId: Guid.optional(),
  customerNumber: text(20).optional(),
  externalDocumentNumber: text(35).optional(),
  orderDate: DateText.optional(),
  postingDate: DateText.optional(),
  requestedDeliveryDate: DateText.optional(),
  currencyCode: text(10).optional(),
  email: text(80).optional(),
  phoneNumber: text(30).optional(),
  salesOrderLines: z.array(LineCreate).optional(),
});

const OrderUpdate = z.strictObject({
  externalDocumentNumber: text(35).optional(),
  orderDate: DateText.optional(),
  requestedDeliveryDate: DateText.optional(),
  email: text(80).optional(),
  phoneNumber: text(30).optional(),
});

/** The If-Match check of PATCH and DELETE: undefined when the request may go on. */
function preconditionFailure(order: StoredSalesOrder, ifMatch: string | undefined): SandboxAnswer | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '') {
    return bcError(400, 'BadRequest_InvalidToken', 'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.');
  }
  if (ifMatch.trim() !== '*' && ifMatch.trim() !== etagOf(order)) {
    return bcError(412, 'Request_EntityChanged', 'Another user has already changed the record.');
  }
  return undefined;
}

/** Creates a sales order and its lines in one transaction; 201 with its JSON (lines when `$expand=salesOrderLines`). */
export function createSalesOrder(company: Company, body: unknown, expandLines: boolean): SandboxAnswer {
  const parsed = parseBody(OrderCreate, body, 'salesOrder');
  if (!parsed.ok) return parsed.answer;
  const input = parsed.data;
  const { store } = company;
  if (input.customerId === undefined && (input.customerNumber === undefined || input.customerNumber === '')) {
    return dialogError('A "customerNumber" or a "customerId" must be provided.');
  }
  const customers = store.all<StoredCustomer>('customers');
  const customer = input.customerId !== undefined
    ? customers.find((candidate) => candidate.id === input.customerId!.toLowerCase())
    : customers.find((candidate) => candidate.number === input.customerNumber!.toUpperCase());
  if (customer === undefined) return dialogError('The sell-to customer cannot be found.');
  if (input.customerId !== undefined && input.customerNumber !== undefined && input.customerNumber.toUpperCase() !== customer.number) {
    return dialogError('The sell-to customer values do not match to a specific Customer.');
  }
  if (customer.blocked === 'All') {
    return bcError(400, 'Application_FieldValidationException', `You cannot create this type of document when Customer ${customer.number} is blocked with type All`);
  }
  let currencyCode = (input.currencyCode ?? '').toUpperCase();
  if (currencyCode === company.localCurrency) currencyCode = '';
  if (currencyCode !== '' && !store.all<StoredCurrency>('currencies').some((currency) => currency.code === currencyCode)) {
    return dialogError('The "currencyCode" does not match to a Currency.');
  }
  const items = store.all<StoredItem>('items');
  const lines: StoredLine[] = [];
  for (const [index, line] of (input.salesOrderLines ?? []).entries()) {
    const item = line.itemId !== undefined
      ? items.find((candidate) => candidate.id === line.itemId!.toLowerCase())
      : items.find((candidate) => candidate.number === (line.lineObjectNumber ?? '').toUpperCase());
    if (item === undefined) return dialogError('Item does not exist.');
    if (item.blocked) {
      return bcError(400, 'Application_FieldValidationException', `Blocked must be equal to 'No'  in Item: No.=${item.number}. Current value is 'Yes'.`);
    }
    lines.push({
      id: randomUUID(),
      sequence: (index + 1) * 10000,
      itemId: item.id,
      lineObjectNumber: item.number,
      description: line.description ?? item.displayName,
      unitOfMeasureCode: line.unitOfMeasureCode ?? item.baseUnitOfMeasureCode,
      quantity: line.quantity ?? 0,
      unitPrice: line.unitPrice ?? item.unitPrice,
      discountPercent: line.discountPercent ?? 0,
      taxCode: item.taxGroupCode,
      taxPercent: item.vatPercent,
      shipmentDate: line.shipmentDate ?? input.orderDate ?? today(),
    });
  }
  const id = randomUUID();
  const order: StoredSalesOrder = {
    id,
    number: `S-ORD${store.next('sales-order-number', 101001)}`,
    externalDocumentNumber: input.externalDocumentNumber ?? '',
    orderDate: input.orderDate ?? today(),
    postingDate: input.postingDate ?? today(),
    customerId: customer.id,
    customerNumber: customer.number,
    customerName: customer.displayName,
    address: { addressLine1: customer.addressLine1, addressLine2: customer.addressLine2, city: customer.city, country: customer.country, state: customer.state, postCode: customer.postalCode },
    currencyCode,
    email: input.email ?? customer.email,
    phoneNumber: input.phoneNumber ?? customer.phoneNumber,
    requestedDeliveryDate: input.requestedDeliveryDate ?? '0001-01-01',
    status: 'Draft',
    lines,
    rowVersion: nextRowVersion(company),
    lastModifiedDateTime: new Date().toISOString(),
  };
  store.put('salesOrders', id, order);
  return { status: 201, body: salesOrderJson(order, company.localCurrency, expandLines) };
}

/** PATCH with If-Match; 200 with the changed order. */
export function updateSalesOrder(company: Company, id: string, body: unknown, ifMatch: string | undefined): SandboxAnswer {
  const order = company.store.get<StoredSalesOrder>('salesOrders', id);
  if (order === undefined) return entityNotFound();
  const failed = preconditionFailure(order, ifMatch);
  if (failed !== undefined) return failed;
  const parsed = parseBody(OrderUpdate, body, 'salesOrder');
  if (!parsed.ok) return parsed.answer;
  const changed: StoredSalesOrder = { ...order, ...parsed.data, rowVersion: nextRowVersion(company), lastModifiedDateTime: new Date().toISOString() };
  company.store.put('salesOrders', id, changed);
  return { status: 200, body: salesOrderJson(changed, company.localCurrency, false) };
}

/** DELETE with If-Match; 204. */
export function deleteSalesOrder(company: Company, id: string, ifMatch: string | undefined): SandboxAnswer {
  const order = company.store.get<StoredSalesOrder>('salesOrders', id);
  if (order === undefined) return entityNotFound();
  const failed = preconditionFailure(order, ifMatch);
  if (failed !== undefined) return failed;
  company.store.delete('salesOrders', id);
  return { status: 204 };
}

/**
 * A user edits the order in BC (its requested delivery date), so an etag read before
 * is stale: what `POST /__sandbox/concurrent-edits` does between a client's read and write.
 */
export function editSalesOrderAsAnotherUser(company: Company, id: string): void {
  const order = company.store.get<StoredSalesOrder>('salesOrders', id);
  if (order === undefined) return;
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  company.store.put('salesOrders', id, { ...order, requestedDeliveryDate: tomorrow, rowVersion: nextRowVersion(company), lastModifiedDateTime: new Date().toISOString() });
}

/** `Microsoft.NAV.shipAndInvoice`: posts shipment and invoice; the order is deleted, the invoice remains; 204. */
export function shipAndInvoice(company: Company, id: string): SandboxAnswer {
  const order = company.store.get<StoredSalesOrder>('salesOrders', id);
  if (order === undefined) return entityNotFound();
  if (!order.lines.some((line) => line.quantity > 0)) return dialogError('There is nothing to post.');
  const invoiceId = randomUUID();
  const invoiceDate = today();
  const invoice: StoredSalesInvoice = {
    id: invoiceId,
    number: `S-INV${company.store.next('sales-invoice-number', 103001)}`,
    externalDocumentNumber: order.externalDocumentNumber,
    invoiceDate,
    dueDate: new Date(Date.parse(invoiceDate) + 14 * 86_400_000).toISOString().slice(0, 10),
    customerId: order.customerId,
    customerNumber: order.customerNumber,
    customerName: order.customerName,
    address: order.address,
    currencyCode: order.currencyCode,
    orderId: order.id,
    orderNumber: order.number,
    status: 'Open',
    lines: order.lines,
    rowVersion: nextRowVersion(company),
    lastModifiedDateTime: new Date().toISOString(),
  };
  company.store.put('salesInvoices', invoiceId, invoice);
  company.store.delete('salesOrders', id);
  return { status: 204 };
}
