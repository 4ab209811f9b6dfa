/**
 * The sandbox's Sales Order page service (page 42 with its SalesLines subpage, published
 * as `SalesOrder`): an atomic Create of header and item lines with NAV's validation
 * (customer, currency and items must exist, blocked items refused, prices from the item
 * in the order's currency unless given), Read by `No`, ReadMultiple, and Delete with
 * the record's Key (a stale Key is refused with NAV's concurrency Fault). Every line
 * carries the document totals (excl. VAT, VAT, incl. VAT), as the subpage's totals do.
 */
import type { XmlElement } from '../../../functions/connectors/soap/xml-reader.ts';
import type { XmlFields } from '../../../functions/connectors/soap/xml-writer.ts';
import { anotherUserModified, badRequest, dialog, recordNotFound, tableRelation, testField } from './nav-errors.ts';
import { entityContent, readEntityFields, readMultiple, readParameter, type FieldValue, type PageDefinition } from './page-fields.ts';
import { decodeKey, lineKey, recordKey } from './record-keys.ts';
import { SANDBOX_VAT_PERCENT, SEED_EXCHANGE_RATES, SEED_ITEMS } from './seed.ts';
import type { NavRecord, NavStore } from './store.ts';

/** Sales document statuses as SOAP writes the option. */
const DOCUMENT_STATUSES = ['Open', 'Released', 'Pending_Approval', 'Pending_Prepayment'] as const;

/** The Sales Order page's header fields the sandbox publishes, in page order. */
export const SALES_ORDER_PAGE: PageDefinition = {
  service: 'SalesOrder',
  table: 'Sales Header',
  fields: [
    { name: 'No', caption: 'No.', kind: 'code', length: 20, editable: true },
    { name: 'Sell_to_Customer_No', caption: 'Sell-to Customer No.', kind: 'code', length: 20, editable: true },
    { name: 'Sell_to_Customer_Name', caption: 'Sell-to Customer Name', kind: 'text', length: 100, editable: false },
    { name: 'External_Document_No', caption: 'External Document No.', kind: 'code', length: 35, editable: true },
    { name: 'Currency_Code', caption: 'Currency Code', kind: 'code', length: 10, editable: true },
    // Table 36 field 120 Status is Editable = false: only Release/Reopen change it.
    { name: 'Status', caption: 'Status', kind: 'option', editable: false, options: DOCUMENT_STATUSES },
  ],
};

/** The SalesLines subpage's fields (`Sales_Order_Line`), in page order. */
export const SALES_LINE_PAGE: PageDefinition = {
  service: 'Sales_Order_Line',
  table: 'Sales Line',
  fields: [
    { name: 'Type', caption: 'Type', kind: 'option', editable: true, options: ['_blank_', 'G_L_Account', 'Item', 'Resource', 'Fixed_Asset', 'Charge_Item'] },
    { name: 'No', caption: 'No.', kind: 'code', length: 20, editable: true },
    { name: 'Description', caption: 'Description', kind: 'text', length: 100, editable: true },
    { name: 'Quantity', caption: 'Quantity', kind: 'decimal', editable: true },
    { name: 'Unit_of_Measure_Code', caption: 'Unit of Measure Code', kind: 'code', length: 10, editable: false },
    { name: 'Unit_Price', caption: 'Unit Price Excl. VAT', kind: 'decimal', editable: true },
    { name: 'Line_Amount', caption: 'Line Amount Excl. VAT', kind: 'decimal', editable: false },
    { name: 'Line_Discount_Percent', caption: 'Line Discount %', kind: 'decimal', editable: true },
    { name: 'Document_No', caption: 'Document No.', kind: 'code', length: 20, editable: false },
    { name: 'Line_No', caption: 'Line No.', kind: 'decimal', editable: false },
    { name: 'Total_Amount_Excl_VAT', caption: 'Total Amount Excl. VAT', kind: 'decimal', editable: false },
    { name: 'Total_VAT_Amount', caption: 'Total VAT', kind: 'decimal', editable: false },
    { name: 'Total_Amount_Incl_VAT', caption: 'Total Amount Incl. VAT', kind: 'decimal', editable: false },
  ],
};

/** A stored sales line. */
interface StoredLine {
  readonly Line_No: number;
  readonly Type: string;
  readonly No: string;
  readonly Description: string;
  readonly Quantity: number;
  readonly Unit_of_Measure_Code: string;
  readonly Unit_Price: number;
  readonly Line_Discount_Percent: number;
  readonly Line_Amount: number;
}

/** Rounds to the currency's amount precision (0.01), away from floating-point noise. */
function roundAmount(value: number): number {
  return Math.round((value + Math.sign(value) * Number.EPSILON) * 100) / 100;
}

/** Line Amount as NAV computes it: Round(Quantity × Unit Price) − Round(that × Line Discount % / 100). */
function lineAmount(quantity: number, unitPrice: number, discountPercent: number): number {
  const gross = roundAmount(quantity * unitPrice);
  return roundAmount(gross - roundAmount((gross * discountPercent) / 100));
}

/** The Sales Order page's operations over the store. */
export class SalesOrderPage {
  private readonly store: NavStore;

  constructor(store: NavStore) {
    this.store = store;
  }

  /** `Create`: header then lines, all validated before anything is written (NAV's Create is atomic). */
  create(entity: XmlElement): NavRecord {
    const { values, parts } = readEntityFields(SALES_ORDER_PAGE, entity, ['SalesLines']);
    const no = this.store.peekNumber('Sales Header');
    const header: Record<string, FieldValue> = { Sell_to_Customer_No: '', Sell_to_Customer_Name: '', External_Document_No: '', Currency_Code: '', Status: 'Open' };
    for (const [name, value] of values) {
      if (name === 'No') {
        if (value !== '') throw dialog('You may not enter numbers manually. If you want to enter numbers manually, please activate Manual Nos. in No. Series S-ORD.');
      } else if (name === 'Sell_to_Customer_No') {
        const customer = value === '' ? undefined : this.store.get('Customer', String(value));
        if (value !== '' && customer === undefined) throw tableRelation('Sell-to Customer No.', 'Sales Header', String(value), 'Customer');
        header.Sell_to_Customer_No = value;
        header.Sell_to_Customer_Name = String(customer?.fields.Name ?? '');
      } else if (name === 'Currency_Code') {
        if (value !== '' && !SEED_EXCHANGE_RATES.has(String(value))) throw tableRelation('Currency Code', 'Sales Header', String(value), 'Currency');
        header.Currency_Code = value;
      } else header[name] = value;
    }
    const lineElements = parts.get('SalesLines')?.children ?? [];
    if (lineElements.length > 0 && header.Sell_to_Customer_No === '') {
      throw testField(`Sell-to Customer No. must have a value in Sales Header: Document Type=Order, No.=${no}. It cannot be zero or empty.`);
    }
    const lines = lineElements.map((element, index) => this.line(element, (index + 1) * 10_000, String(header.Currency_Code)));
    this.store.nextNumber('Sales Header');
    return this.store.put('Sales Header', no, { ...header, lines });
  }

  /** `Read(No)`: the order, or undefined. */
  read(request: XmlElement): NavRecord | undefined {
    return this.store.get('Sales Header', readParameter(request, 'No'));
  }

  /** `ReadMultiple(filter, bookmarkKey, setSize)` over the header fields. */
  readMultiple(request: XmlElement): NavRecord[] {
    return readMultiple(SALES_ORDER_PAGE, this.store.scan('Sales Header'), request);
  }

  /** `Delete(Key)`: true when deleted; NAV's Faults for a missing record and a stale Key. */
  delete(request: XmlElement): boolean {
    const key = request.children.find((child) => child.name === 'Key')?.text.trim() ?? '';
    const decoded = decodeKey(key);
    if (decoded === undefined || decoded.table !== 'Sales Header') throw badRequest(`The key '${key}' is not a valid key of the ${SALES_ORDER_PAGE.service} page.`);
    const identification = `Document Type='Order',No.='${decoded.no}'`;
    const record = this.store.get('Sales Header', decoded.no);
    if (record === undefined) throw recordNotFound('Sales Header', identification);
    if (record.timestamp !== decoded.timestamp) throw anotherUserModified('Sales Header', identification);
    return this.store.delete('Sales Header', decoded.no);
  }

  /** The `<SalesOrder>` element's content for a record, lines with the document totals. */
  entity(record: NavRecord): XmlFields {
    const lines = (record.fields.lines ?? []) as StoredLine[];
    const excludingVat = roundAmount(lines.reduce((sum, line) => sum + line.Line_Amount, 0));
    const vat = roundAmount((excludingVat * SANDBOX_VAT_PERCENT) / 100);
    const totals = { Total_Amount_Excl_VAT: excludingVat, Total_VAT_Amount: vat, Total_Amount_Incl_VAT: roundAmount(excludingVat + vat) };
    const content = entityContent(SALES_ORDER_PAGE, recordKey(record), { ...record.fields, No: record.no });
    if (lines.length === 0) return content;
    return {
      ...content,
      SalesLines: {
        Sales_Order_Line: lines.map((line) => entityContent(SALES_LINE_PAGE, lineKey(record, line.Line_No), { ...line, Document_No: record.no, ...totals })),
      },
    };
  }

  /** One new line: the item's data first (as validating No. does), then the fields the request sets. */
  private line(element: XmlElement, lineNo: number, currency: string): StoredLine {
    if (element.name !== 'Sales_Order_Line') throw badRequest(`The element '${element.name}' is not a Sales_Order_Line.`);
    const { values } = readEntityFields(SALES_LINE_PAGE, element);
    const type = String(values.get('Type') ?? '_blank_');
    const itemNo = String(values.get('No') ?? '');
    if (type !== 'Item') throw dialog(`The sandbox sells items only: Type must be Item in Sales Line: Document Type=Order, Line No.=${lineNo}. Current value is '${type}'.`);
    const item = SEED_ITEMS.get(itemNo);
    if (item === undefined) throw tableRelation('No.', 'Sales Line', itemNo, 'Item');
    if (item.blocked) throw testField(`Blocked must be equal to 'No'  in Item: No.=${item.no}. Current value is 'Yes'.`);
    const rate = currency === '' ? 1 : SEED_EXCHANGE_RATES.get(currency)!;
    const quantity = Number(values.get('Quantity') ?? 0);
    const unitPrice = Number(values.get('Unit_Price') ?? Math.round(item.unitPrice * rate * 100_000) / 100_000);
    const discount = Number(values.get('Line_Discount_Percent') ?? 0);
    if (discount < 0 || discount > 100) throw dialog(`The value ${discount} of Line Discount % must be between 0 and 100.`);
    return {
      Line_No: lineNo,
      Type: type,
      No: item.no,
      Description: String(values.get('Description') ?? item.description),
      Quantity: quantity,
      Unit_of_Measure_Code: item.unitOfMeasure,
      Unit_Price: unitPrice,
      Line_Discount_Percent: discount,
      Line_Amount: lineAmount(quantity, unitPrice, discount),
    };
  }
}

/**
 * Codeunit `HarmonySalesOrder.ReleaseSalesOrder(documentNo)`: releases an Open order as
 * codeunit 414 does (nothing to release without item lines; a released order is left as it is).
 */
export function releaseSalesOrder(store: NavStore, documentNo: string): void {
  const no = documentNo.trim().toUpperCase();
  const record = store.get('Sales Header', no);
  if (record === undefined) throw recordNotFound('Sales Header', `Document Type='Order',No.='${no}'`);
  if (record.fields.Status === 'Released') return;
  const lines = (record.fields.lines ?? []) as StoredLine[];
  if (!lines.some((line) => line.Quantity !== 0)) throw dialog(`There is nothing to release for the document of type Order with the number ${no}.`);
  store.put('Sales Header', no, { ...record.fields, Status: 'Released' });
}
