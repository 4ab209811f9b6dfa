/**
 * The files Harmony and the legacy ERP exchange: for each kind its columns (the header row
 * in CSV and XLSX) and its fixed-width layout (positions 1-based), and how each file is
 * named. This is the interface an ERP team configures its import and export jobs to; the
 * fixtures in `test/fixtures/file-drop/` show one file of each kind in each format.
 *
 * Harmony writes into the ERP's import folder (`inbox/`): `CUSTOMER_<customerId>`,
 * `ORDER_<orderId>` (one row per order line, the order's fields repeated),
 * `CANCEL_<orderId>`. The ERP writes into its export folder (`outbox/`): `STATUS_*` files
 * (one row per status change), its customer master `CUSTOMERS` and its item master `ITEMS`.
 */
import type { FixedWidthLayout } from './formats/fixed-width.ts';
import type { Column, ColumnType } from './formats/table.ts';

const text: ColumnType = { kind: 'text' };
const integer: ColumnType = { kind: 'integer' };
const decimal = (scale: number): ColumnType => ({ kind: 'decimal', scale });

/** One kind of file: its columns and their fixed-width positions. */
export interface FileKind {
  /** e.g. `ORDER`; also the XLSX sheet name. */
  readonly name: string;
  readonly columns: readonly Column[];
  readonly layout: FixedWidthLayout;
}

/** Builds a kind from `[name, type, length]` triples laid out one after another from position 1. */
function kind(name: string, fields: readonly (readonly [string, ColumnType, number])[]): FileKind {
  let start = 1;
  const layout = fields.map(([column, , length]) => {
    const field = { name: column, start, length };
    start += length;
    return field;
  });
  return { name, columns: fields.map(([column, type]) => ({ name: column, type })), layout };
}

/** A customer Harmony asks the ERP to create (or update: the ERP keys it by CUSTOMER_ID). */
export const CUSTOMER_FILE = kind('CUSTOMER', [
  ['CUSTOMER_ID', text, 20],
  ['EXTERNAL_ID', text, 64],
  ['KIND', text, 7],
  ['NAME', text, 80],
  ['EMAIL', text, 80],
  ['PHONE', text, 30],
  ['VAT_NUMBER', text, 20],
  ['STREET', text, 60],
  ['CITY', text, 40],
  ['POSTAL_CODE', text, 10],
  ['COUNTRY', text, 2],
]);

/** A sales order, one row per line; ORDER_REF is the CRM deal's qualified id. */
export const ORDER_FILE = kind('ORDER', [
  ['ORDER_REF', text, 64],
  ['CUSTOMER_ID', text, 20],
  ['CURRENCY', text, 3],
  ['LINE_NO', integer, 4],
  ['SKU', text, 30],
  ['DESCRIPTION', text, 60],
  ['QUANTITY', decimal(3), 12],
  ['UNIT_PRICE', decimal(4), 14],
  ['DISCOUNT_PERCENT', decimal(2), 6],
  ['NOTE', text, 120],
]);

/** A request to cancel the order with ORDER_REF. */
export const CANCEL_FILE = kind('CANCEL', [
  ['ORDER_REF', text, 64],
  ['REQUESTED_AT', text, 29],
  ['REASON', text, 120],
]);

/** Status changes the ERP reports, one row each. */
export const STATUS_FILE = kind('STATUS', [
  ['ORDER_REF', text, 64],
  ['ERP_ORDER_NO', text, 20],
  ['STATUS', text, 10],
  ['AMOUNT_TOTAL', decimal(2), 14],
  ['CURRENCY', text, 3],
  ['OCCURRED_AT', text, 29],
  ['REASON', text, 200],
]);

/** The ERP's customer master export. CUSTOMER_ID is the id Harmony sent (empty for customers the ERP had before). */
export const CUSTOMER_MASTER_FILE = kind('CUSTOMERS', [
  ['CUSTOMER_NO', text, 20],
  ['CUSTOMER_ID', text, 20],
  ['EXTERNAL_ID', text, 64],
  ['NAME', text, 80],
  ['VAT_NUMBER', text, 20],
  ['EMAIL', text, 80],
]);

/** The ERP's item master export: what it sells. */
export const ITEM_MASTER_FILE = kind('ITEMS', [
  ['SKU', text, 30],
  ['NAME', text, 60],
  ['UNIT_PRICE', decimal(4), 14],
  ['CURRENCY', text, 3],
]);

/** Every kind, for the fixed-width format to find a layout by columns. */
export const FILE_KINDS: readonly FileKind[] = [CUSTOMER_FILE, ORDER_FILE, CANCEL_FILE, STATUS_FILE, CUSTOMER_MASTER_FILE, ITEM_MASTER_FILE];

/** The kind whose columns these are (the very array), if any. */
export function kindOf(columns: readonly Column[]): FileKind | undefined {
  return FILE_KINDS.find((candidate) => candidate.columns === columns);
}

/** The fixed-width layout of the kind whose columns these are. */
export function layoutFor(columns: readonly Column[]): FixedWidthLayout {
  const found = kindOf(columns);
  if (found === undefined) throw new RangeError(`no fixed-width layout for columns ${columns.map((column) => column.name).join(', ')}`);
  return found.layout;
}

/** File name prefixes (the ERP's import and export jobs match on them). */
export const FILE_PREFIX = { customer: 'CUSTOMER_', order: 'ORDER_', cancel: 'CANCEL_', status: 'STATUS_' } as const;
/** Base names of the ERP's master data exports. */
export const MASTER_FILE = { customers: 'CUSTOMERS', items: 'ITEMS' } as const;

/**
 * True for names a writer is still uploading (`.NAME.<random>.part`): Harmony writes to
 * such a name and renames when complete, and neither side reads them.
 */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.part');
}
