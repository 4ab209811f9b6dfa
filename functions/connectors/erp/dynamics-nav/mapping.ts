/**
 * NAV's page records (Customer card, Sales Order with its `SalesLines` subpage) as
 * zod shapes, and the pure functions between them and Harmony's Party,
 * SalesOrderDraft and ErpOrder. NAV writes decimals invariantly (`1234.5`), leaves
 * blank fields out of its answers, and upper-cases Code fields (`No`,
 * `External_Document_No`, `Search_Name`), so references are compared upper-cased.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { Party } from '../../crm/port.ts';
import type { ErpOrder, ErpOrderStatus, SalesOrderLineDraft } from '../port.ts';
import type { XmlFields } from '../../soap/xml-writer.ts';
import { elementToPlain, type XmlElement } from '../../soap/xml-reader.ts';

const SYSTEM = 'dynamics-nav';

/** A NAV decimal as it travels in SOAP (`-1234.56`), as a number. */
const NavDecimal = z.string().trim().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal such as "1234.5"').transform(Number);

/** A list NAV writes as a repeated element: one occurrence reads as an object, several as an array, none as ''. */
function repeated<Item extends z.ZodType>(item: Item) {
  return z.preprocess((value) => (value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value]), z.array(item));
}

/** The Customer card fields Harmony reads. */
export const NavCustomer = z.object({
  Key: z.string().min(1),
  No: z.string().min(1),
  Name: z.string().default(''),
  E_Mail: z.string().default(''),
  VAT_Registration_No: z.string().default(''),
});
export type NavCustomer = z.infer<typeof NavCustomer>;

/** `Status` of a sales document (table 36 field 120, an option NAV writes with `_` for spaces). */
const NavDocumentStatus = z.enum(['Open', 'Released', 'Pending_Approval', 'Pending_Prepayment']);

/** A `Sales_Order_Line` of the SalesLines subpage; each line repeats the document's totals. */
const NavSalesOrderLine = z.object({
  Key: z.string().optional(),
  Type: z.string().optional(),
  No: z.string().optional(),
  Quantity: NavDecimal.optional(),
  Unit_Price: NavDecimal.optional(),
  Line_Amount: NavDecimal.optional(),
  Total_Amount_Excl_VAT: NavDecimal.optional(),
  Total_VAT_Amount: NavDecimal.optional(),
  Total_Amount_Incl_VAT: NavDecimal.optional(),
});

/** The Sales Order page fields Harmony reads. */
export const NavSalesOrder = z.object({
  Key: z.string().min(1),
  No: z.string().min(1),
  Sell_to_Customer_No: z.string().default(''),
  External_Document_No: z.string().default(''),
  Currency_Code: z.string().default(''),
  Status: NavDocumentStatus,
  SalesLines: z.preprocess((value) => (value === undefined || value === '' ? {} : value), z.object({ Sales_Order_Line: repeated(NavSalesOrderLine) })),
});
export type NavSalesOrder = z.infer<typeof NavSalesOrder>;

/** Validates a page record read from NAV; PermanentError `malformed-response` naming the field. */
export function parseNavRecord<Schema extends z.ZodType>(schema: Schema, element: XmlElement, operation: string): z.infer<Schema> {
  const parsed = schema.safeParse(elementToPlain(element));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.length === 0 ? '(record)' : issue.path.map(String).join('.');
  throw new PermanentError(`${SYSTEM} ${operation}: unexpected ${element.name} record — ${path}: ${issue.message}`, { system: SYSTEM, code: 'malformed-response' });
}

/**
 * A NAV filter expression that matches exactly `value`: quoted so that `|`, `&`, `*`,
 * `..`, `<`, `>`, `=`, `@`, `(`, `)` in the value are data, with `'` doubled.
 */
export function exactFilter(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A filter matching any of `values` exactly (duplicates dropped). */
export function anyOfFilter(values: readonly string[]): string {
  return [...new Set(values)].map(exactFilter).join('|');
}

/** A VAT number without the spaces, dots and dashes people type into it, upper-cased. */
export function compactVat(vat: string): string {
  return vat.replace(/[\s.\-/]/g, '').toUpperCase();
}

/**
 * The Customer card fields of a new customer: the CRM id in `refField` (after `Name`,
 * whose validation fills Search Name), address and contact data where the party has it.
 */
export function toNavCustomer(party: Party, refField: string): XmlFields {
  const optional = (value: string | undefined): string | undefined => {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };
  const country = optional(party.address?.countryCode)?.toUpperCase();
  return {
    Name: party.name.trim(),
    [refField]: party.externalId,
    Address: optional(party.address?.street),
    Post_Code: optional(party.address?.postalCode),
    City: optional(party.address?.city),
    Country_Region_Code: country,
    Phone_No: optional(party.phone),
    E_Mail: optional(party.email),
    VAT_Registration_No: optional(party.vatNumber),
  };
}

/** The `SalesLines` subpage of a new order: item lines with the CRM's price and discount (NAV fills description and unit of measure from the item). */
export function toNavSalesLines(lines: readonly SalesOrderLineDraft[]): XmlFields {
  return {
    Sales_Order_Line: lines.map((line) => ({
      Type: 'Item',
      No: line.sku,
      Quantity: line.quantity,
      Unit_Price: line.unitPrice,
      Line_Discount_Percent: line.discountPercent ?? 0,
    })),
  };
}

/**
 * Harmony's status for a NAV order: Open and Pending Approval are drafts; Released and
 * Pending Prepayment (released, waiting for the prepayment invoice) are confirmed.
 * Shipped, invoiced and paid live in posted documents the Sales Order page does not show.
 */
export function toErpOrderStatus(status: z.infer<typeof NavDocumentStatus>): ErpOrderStatus {
  switch (status) {
    case 'Open':
    case 'Pending_Approval':
      return 'draft';
    case 'Released':
    case 'Pending_Prepayment':
      return 'confirmed';
  }
}

/**
 * Maps a NAV order to ErpOrder. `localCurrency` stands for a blank Currency Code (NAV's
 * local currency). `knownRef` is the CRM's spelling of the reference when the caller has
 * it; NAV holds External Document No. upper-cased, so it is used only when it matches.
 */
export function toErpOrder(order: NavSalesOrder, localCurrency: string, knownRef?: string): ErpOrder {
  const stored = order.External_Document_No;
  const externalRef = knownRef !== undefined && knownRef.toUpperCase() === stored.toUpperCase() ? knownRef : stored;
  const lines = order.SalesLines.Sales_Order_Line;
  const total = lines[0]?.Total_Amount_Incl_VAT;
  if (lines.length > 0 && total === undefined) {
    throw new PermanentError(`${SYSTEM} SalesOrder: order ${order.No} has lines but no Total_Amount_Incl_VAT`, { system: SYSTEM, code: 'malformed-response' });
  }
  return {
    id: order.No,
    reference: order.No,
    externalRef,
    status: toErpOrderStatus(order.Status),
    amountTotal: total ?? 0,
    currency: order.Currency_Code === '' ? localCurrency : order.Currency_Code,
  };
}
