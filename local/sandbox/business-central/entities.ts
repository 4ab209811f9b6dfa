/**
 * The sandbox's entities as stored, and their API v2.0 JSON as Microsoft Learn documents
 * it (`customer`, `item`, `currency`, `salesOrder`, `salesOrderLine`, `salesInvoice`):
 * `@odata.etag` from the row version, totals computed the way BC does (line amounts
 * rounded to the currency's 0.01, VAT per VAT identifier on the document's total).
 */

/** BC's empty GUID, sent for unset references. */
export const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/** Fields every stored entity has. */
export interface Versioned {
  readonly id: string;
  /** Increases on every write (BC's SQL rowversion); the etag is made from it. */
  readonly rowVersion: number;
  readonly lastModifiedDateTime: string;
}

export interface StoredCustomer extends Versioned {
  readonly number: string;
  readonly displayName: string;
  readonly type: 'Company' | 'Person';
  readonly addressLine1: string;
  readonly addressLine2: string;
  readonly city: string;
  readonly state: string;
  readonly country: string;
  readonly postalCode: string;
  readonly phoneNumber: string;
  readonly email: string;
  readonly website: string;
  readonly taxLiable: boolean;
  readonly taxRegistrationNumber: string;
  readonly currencyCode: string;
  readonly blocked: ' ' | 'Ship' | 'Invoice' | 'All';
}

export interface StoredItem extends Versioned {
  readonly number: string;
  readonly displayName: string;
  readonly type: 'Inventory' | 'Service' | 'Non-Inventory';
  readonly blocked: boolean;
  readonly gtin: string;
  readonly inventory: number;
  readonly unitPrice: number;
  readonly unitCost: number;
  readonly taxGroupCode: string;
  readonly baseUnitOfMeasureCode: string;
  /** VAT % of the item's VAT product posting group (the sandbox has one VAT business group). */
  readonly vatPercent: number;
}

export interface StoredCurrency extends Versioned {
  readonly code: string;
  readonly displayName: string;
  readonly symbol: string;
}

export interface StoredLine {
  readonly id: string;
  readonly sequence: number;
  readonly itemId: string;
  readonly lineObjectNumber: string;
  readonly description: string;
  readonly unitOfMeasureCode: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly discountPercent: number;
  readonly taxCode: string;
  readonly taxPercent: number;
  readonly shipmentDate: string;
}

/** The sell-to address a document copies from its customer (bill-to and ship-to are the same in the sandbox). */
export interface DocumentAddress {
  readonly addressLine1: string;
  readonly addressLine2: string;
  readonly city: string;
  readonly country: string;
  readonly state: string;
  readonly postCode: string;
}

export interface StoredSalesOrder extends Versioned {
  readonly number: string;
  readonly externalDocumentNumber: string;
  readonly orderDate: string;
  readonly postingDate: string;
  readonly customerId: string;
  readonly customerNumber: string;
  readonly customerName: string;
  readonly address: DocumentAddress;
  /** Blank for the local currency, as BC stores it. */
  readonly currencyCode: string;
  readonly email: string;
  readonly phoneNumber: string;
  readonly requestedDeliveryDate: string;
  readonly status: 'Draft' | 'In Review' | 'Open';
  readonly lines: readonly StoredLine[];
}

export interface StoredSalesInvoice extends Versioned {
  readonly number: string;
  readonly externalDocumentNumber: string;
  readonly invoiceDate: string;
  readonly dueDate: string;
  readonly customerId: string;
  readonly customerNumber: string;
  readonly customerName: string;
  readonly address: DocumentAddress;
  readonly currencyCode: string;
  readonly orderId: string;
  readonly orderNumber: string;
  readonly status: 'Open' | 'Paid';
  readonly lines: readonly StoredLine[];
}

/** `W/"…"` the way BC writes it: base64 of `'<digits length>;<rowversion>;00;'`. */
export function etagOf(entity: Pick<Versioned, 'rowVersion'>): string {
  const digits = String(entity.rowVersion);
  return `W/"${Buffer.from(`'${digits.length};${digits};00;'`).toString('base64')}"`;
}

/** Rounds to the currency's amount precision (0.01 for EUR and USD). */
export function roundAmount(value: number): number {
  return Math.round((value + Number.EPSILON) * 100) / 100;
}

/** BC's line arithmetic: Line Amount = round(qty × price) − round(round(qty × price) × discount %). */
function lineAmounts(line: StoredLine) {
  const gross = roundAmount(line.quantity * line.unitPrice);
  const discountAmount = roundAmount((gross * line.discountPercent) / 100);
  const amountExcludingTax = roundAmount(gross - discountAmount);
  const totalTaxAmount = roundAmount((amountExcludingTax * line.taxPercent) / 100);
  return { discountAmount, amountExcludingTax, totalTaxAmount, amountIncludingTax: roundAmount(amountExcludingTax + totalTaxAmount) };
}

/** A document's totals: VAT is computed per VAT % on the sum of its lines (no per-line rounding drift). */
export function documentTotals(lines: readonly StoredLine[]): { totalAmountExcludingTax: number; totalTaxAmount: number; totalAmountIncludingTax: number } {
  const byRate = new Map<number, number>();
  for (const line of lines) byRate.set(line.taxPercent, roundAmount((byRate.get(line.taxPercent) ?? 0) + lineAmounts(line).amountExcludingTax));
  let excluding = 0;
  let tax = 0;
  for (const [rate, base] of byRate) {
    excluding = roundAmount(excluding + base);
    tax = roundAmount(tax + roundAmount((base * rate) / 100));
  }
  return { totalAmountExcludingTax: excluding, totalTaxAmount: tax, totalAmountIncludingTax: roundAmount(excluding + tax) };
}

/** Strips the sandbox's own fields and adds the etag. */
function withEtag<Entity extends Versioned>(entity: Entity): Record<string, unknown> {
  const { rowVersion: _rowVersion, ...rest } = entity;
  return { '@odata.etag': etagOf(entity), ...rest };
}

/** `customer` JSON. */
export function customerJson(customer: StoredCustomer): Record<string, unknown> {
  return {
    ...withEtag(customer),
    salespersonCode: '',
    balanceDue: 0,
    creditLimit: 0,
    taxAreaId: EMPTY_GUID,
    taxAreaDisplayName: '',
    currencyId: EMPTY_GUID,
    paymentTermsId: EMPTY_GUID,
    shipmentMethodId: EMPTY_GUID,
    paymentMethodId: EMPTY_GUID,
  };
}

/** `item` JSON. */
export function itemJson(item: StoredItem): Record<string, unknown> {
  const { vatPercent: _vatPercent, ...rest } = withEtag(item) as Record<string, unknown> & { vatPercent: number };
  return {
    ...rest,
    displayName2: '',
    itemCategoryId: EMPTY_GUID,
    itemCategoryCode: '',
    priceIncludesTax: false,
    taxGroupId: EMPTY_GUID,
    baseUnitOfMeasureId: EMPTY_GUID,
    generalProductPostingGroupId: EMPTY_GUID,
    generalProductPostingGroupCode: item.type === 'Service' ? 'SERVICES' : 'RETAIL',
    inventoryPostingGroupId: EMPTY_GUID,
    inventoryPostingGroupCode: item.type === 'Inventory' ? 'RESALE' : '',
  };
}

/** `currency` JSON. */
export function currencyJson(currency: StoredCurrency): Record<string, unknown> {
  return { ...withEtag(currency), amountDecimalPlaces: '2:2', amountRoundingPrecision: 0.01 };
}

/** `salesOrderLine` JSON (also the line of a sales invoice). */
export function lineJson(line: StoredLine, documentId: string, shipped: boolean): Record<string, unknown> {
  const amounts = lineAmounts(line);
  return {
    id: line.id,
    documentId,
    sequence: line.sequence,
    itemId: line.itemId,
    accountId: EMPTY_GUID,
    lineType: 'Item',
    lineObjectNumber: line.lineObjectNumber,
    description: line.description,
    description2: '',
    unitOfMeasureId: EMPTY_GUID,
    unitOfMeasureCode: line.unitOfMeasureCode,
    quantity: line.quantity,
    unitPrice: line.unitPrice,
    discountAmount: amounts.discountAmount,
    discountPercent: line.discountPercent,
    discountAppliedBeforeTax: false,
    amountExcludingTax: amounts.amountExcludingTax,
    taxCode: line.taxCode,
    taxPercent: line.taxPercent,
    totalTaxAmount: amounts.totalTaxAmount,
    amountIncludingTax: amounts.amountIncludingTax,
    invoiceDiscountAllocation: 0,
    netAmount: amounts.amountExcludingTax,
    netTaxAmount: amounts.totalTaxAmount,
    netAmountIncludingTax: amounts.amountIncludingTax,
    shipmentDate: line.shipmentDate,
    shippedQuantity: shipped ? line.quantity : 0,
    invoicedQuantity: shipped ? line.quantity : 0,
    invoiceQuantity: shipped ? 0 : line.quantity,
    shipQuantity: shipped ? 0 : line.quantity,
    itemVariantId: EMPTY_GUID,
    locationId: EMPTY_GUID,
  };
}

/** The sell-to, bill-to and ship-to address properties and the header defaults every sales document shows. */
function documentHeader(document: { readonly customerId: string; readonly customerNumber: string; readonly customerName: string; readonly address: DocumentAddress }): Record<string, unknown> {
  const address: Record<string, unknown> = {};
  for (const party of ['sellTo', 'billTo', 'shipTo']) {
    address[`${party}AddressLine1`] = document.address.addressLine1;
    address[`${party}AddressLine2`] = document.address.addressLine2;
    address[`${party}City`] = document.address.city;
    address[`${party}Country`] = document.address.country;
    address[`${party}State`] = document.address.state;
    address[`${party}PostCode`] = document.address.postCode;
  }
  return {
    billToName: document.customerName,
    billToCustomerId: document.customerId,
    billToCustomerNumber: document.customerNumber,
    shipToName: document.customerName,
    shipToContact: '',
    ...address,
    shortcutDimension1Code: '',
    shortcutDimension2Code: '',
    currencyId: EMPTY_GUID,
    paymentTermsId: EMPTY_GUID,
    shipmentMethodId: EMPTY_GUID,
    salesperson: '',
    pricesIncludeTax: false,
    discountAmount: 0,
    discountAppliedBeforeTax: false,
  };
}

/** `salesOrder` JSON; `currencyCode` shows the local currency's code for a blank one, as BC's API does. */
export function salesOrderJson(order: StoredSalesOrder, localCurrency: string, expandLines: boolean): Record<string, unknown> {
  const { lines, address: _address, ...header } = order;
  return {
    ...withEtag(header),
    ...documentHeader(order),
    currencyCode: order.currencyCode === '' ? localCurrency : order.currencyCode,
    partialShipping: true,
    ...documentTotals(lines),
    fullyShipped: false,
    ...(expandLines ? { salesOrderLines: lines.map((line) => lineJson(line, order.id, false)) } : {}),
  };
}

/** `salesInvoice` JSON. */
export function salesInvoiceJson(invoice: StoredSalesInvoice, localCurrency: string): Record<string, unknown> {
  const { lines, address: _address, ...header } = invoice;
  const totals = documentTotals(lines);
  return {
    ...withEtag(header),
    ...documentHeader(invoice),
    postingDate: invoice.invoiceDate,
    customerPurchaseOrderReference: '',
    currencyCode: invoice.currencyCode === '' ? localCurrency : invoice.currencyCode,
    remainingAmount: invoice.status === 'Paid' ? 0 : totals.totalAmountIncludingTax,
    ...totals,
    phoneNumber: '',
    email: '',
    promisedPayDate: '0001-01-01',
    disputeStatusId: EMPTY_GUID,
    disputeStatus: '',
  };
}
