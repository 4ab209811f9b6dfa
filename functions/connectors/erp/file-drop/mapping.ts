/**
 * Harmony's shapes ↔ the rows of the file-drop ERP's files: the stable ids Harmony gives
 * customers and orders before the ERP has seen them, the rows it writes, and the schemas
 * the rows the ERP writes must pass (a row that does not is a bad line naming the column).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Party } from '../../crm/port.ts';
import type { ErpOrderStatus, SalesOrderDraft, SalesOrderLineDraft } from '../port.ts';
import type { BadLine, DecodedRecord, TableRecord } from './formats/table.ts';

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16).toUpperCase();
}

/**
 * The customer id Harmony gives a party it asks the ERP to create: derived from the CRM id,
 * so a retry makes the same file and an order can name the customer before the ERP has
 * imported it. The ERP keeps it beside its own customer number.
 */
export function customerIdFor(externalId: string): string {
  return `HC-${shortHash(externalId)}`;
}

/** The order id Harmony uses for the order with this external reference: stable, file-name safe. */
export function orderIdFor(externalRef: string): string {
  return `HO-${shortHash(externalRef)}`;
}

/** What an order id looks like. */
export const ORDER_ID_PATTERN = /^HO-[0-9A-F]{16}$/;
/** A customer id Harmony gave, or an ERP customer number (letters, digits, `-`, `_`, `.`, `/`). */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,19}$/;

/** VAT numbers compared without spaces, dots and dashes, upper case (`DE 123.456.789` = `DE123456789`). */
export function compactVat(vat: string): string {
  return vat.replace(/[\s.\-]/g, '').toUpperCase();
}

/** Emails compared case-insensitively. */
export function foldEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The CUSTOMER file row for a party. */
export function toCustomerRecord(party: Party, customerId: string): TableRecord {
  return {
    CUSTOMER_ID: customerId,
    EXTERNAL_ID: party.externalId,
    KIND: party.kind === 'company' ? 'COMPANY' : 'PERSON',
    NAME: party.name,
    EMAIL: party.email?.trim() || undefined,
    PHONE: party.phone?.trim() || undefined,
    VAT_NUMBER: party.vatNumber?.trim() || undefined,
    STREET: party.address?.street || undefined,
    CITY: party.address?.city || undefined,
    POSTAL_CODE: party.address?.postalCode || undefined,
    COUNTRY: party.address?.countryCode?.toUpperCase() || undefined,
  };
}

/** The ORDER file rows for a draft: one per line, the order's fields repeated. */
export function toOrderRecords(draft: SalesOrderDraft): TableRecord[] {
  return draft.lines.map((line, index) => ({
    ORDER_REF: draft.externalRef,
    CUSTOMER_ID: draft.customerId,
    CURRENCY: draft.currency,
    LINE_NO: index + 1,
    SKU: line.sku,
    DESCRIPTION: line.name || undefined,
    QUANTITY: line.quantity,
    UNIT_PRICE: line.unitPrice,
    DISCOUNT_PERCENT: line.discountPercent,
    NOTE: draft.note || undefined,
  }));
}

/** Net total of lines (before the ERP's tax), rounded to cents: what a draft is worth until the ERP says. */
export function netTotal(lines: readonly Pick<SalesOrderLineDraft, 'quantity' | 'unitPrice' | 'discountPercent'>[]): number {
  const cents = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice * (1 - (line.discountPercent ?? 0) / 100) * 100, 0);
  return Math.round(cents) / 100;
}

/** Statuses the ERP reports. */
export const ERP_STATUSES = ['ACCEPTED', 'CONFIRMED', 'REJECTED', 'SHIPPED', 'INVOICED', 'PAID', 'CANCELLED'] as const;
export type ErpFileStatus = (typeof ERP_STATUSES)[number];

/** Harmony's status for the ERP's (REJECTED has none: the order does not exist in the ERP). */
export const ORDER_STATUS: Readonly<Record<Exclude<ErpFileStatus, 'REJECTED'>, ErpOrderStatus>> = {
  ACCEPTED: 'draft',
  CONFIRMED: 'confirmed',
  SHIPPED: 'shipped',
  INVOICED: 'invoiced',
  PAID: 'paid',
  CANCELLED: 'cancelled',
};

const requiredText = z.string().trim().min(1);
const optionalText = z.string().trim().optional();

/** One row of a STATUS file. */
export const StatusRow = z
  .object({
    ORDER_REF: requiredText,
    ERP_ORDER_NO: optionalText,
    STATUS: z.string().trim().toUpperCase().pipe(z.enum(ERP_STATUSES)),
    AMOUNT_TOTAL: z.number().nonnegative().optional(),
    CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR').optional(),
    OCCURRED_AT: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 timestamp with offset, e.g. 2025-03-01T10:15:00+01:00' }),
    REASON: optionalText,
  })
  .superRefine((row, context) => {
    if (row.STATUS !== 'REJECTED' && (row.ERP_ORDER_NO === undefined || row.ERP_ORDER_NO === '')) {
      context.addIssue({ code: 'custom', path: ['ERP_ORDER_NO'], message: `required with status ${row.STATUS}` });
    }
    if (row.STATUS === 'REJECTED' && (row.REASON === undefined || row.REASON === '')) {
      context.addIssue({ code: 'custom', path: ['REASON'], message: 'a REJECTED status must say why' });
    }
  });
export type StatusRow = z.infer<typeof StatusRow>;

/** One row of the ERP's CUSTOMERS export. */
export const CustomerMasterRow = z.object({
  CUSTOMER_NO: requiredText,
  CUSTOMER_ID: optionalText,
  EXTERNAL_ID: optionalText,
  NAME: optionalText,
  VAT_NUMBER: optionalText,
  EMAIL: optionalText,
});
export type CustomerMasterRow = z.infer<typeof CustomerMasterRow>;

/** One row of the ERP's ITEMS export. */
export const ItemRow = z.object({
  SKU: requiredText,
  NAME: optionalText,
  UNIT_PRICE: z.number().optional(),
  CURRENCY: optionalText,
});

/** A CUSTOMER file Harmony wrote that still waits in the inbox. */
export const PendingCustomerRow = z.object({
  CUSTOMER_ID: requiredText,
  EXTERNAL_ID: requiredText,
  VAT_NUMBER: optionalText,
  EMAIL: optionalText,
});
export type PendingCustomerRow = z.infer<typeof PendingCustomerRow>;

/** An ORDER file row Harmony wrote that still waits in the inbox. */
export const PendingOrderRow = z.object({
  ORDER_REF: requiredText,
  CURRENCY: z.string(),
  QUANTITY: z.number(),
  UNIT_PRICE: z.number(),
  DISCOUNT_PERCENT: z.number().optional(),
});

/** Validates decoded rows with a schema: the rows that pass, and a bad line naming the column for each that does not. */
export function validateRows<Schema extends z.ZodType>(
  schema: Schema,
  records: readonly DecodedRecord[],
): { rows: { line: number; raw: string; row: z.infer<Schema> }[]; badLines: BadLine[] } {
  const rows: { line: number; raw: string; row: z.infer<Schema> }[] = [];
  const badLines: BadLine[] = [];
  for (const record of records) {
    const parsed = schema.safeParse(record.values);
    if (parsed.success) {
      rows.push({ line: record.line, raw: record.raw, row: parsed.data });
    } else {
      const reason = parsed.error.issues
        .map((issue) => {
          const column = issue.path.map(String).join('.') || '(row)';
          const value = issue.path.length === 1 ? (record.values as Record<string, unknown>)[String(issue.path[0])] : undefined;
          return `${column}: ${issue.message}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}`;
        })
        .join('; ');
      badLines.push({ line: record.line, raw: record.raw, reason });
    }
  }
  return { rows, badLines };
}
