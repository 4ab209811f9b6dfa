/**
 * What every file format of the file-drop ERP reads and writes: a table of typed columns.
 * Formats (CSV, fixed-width, XLSX) differ only in how a table becomes bytes; a file of
 * any format decodes into the good records and a list of bad lines, each with where it
 * was, its raw text and why — one bad line never stops the rest of the file.
 */

/** How a column's values are typed. Decimals carry a scale: the digits after the point a file keeps. */
export type ColumnType = { readonly kind: 'text' } | { readonly kind: 'decimal'; readonly scale: number } | { readonly kind: 'integer' };

/** One column of a table. */
export interface Column {
  /** Name as it stands in a header row, e.g. `ORDER_REF`. */
  readonly name: string;
  readonly type: ColumnType;
}

/** A cell's value; an empty cell is absent from the record. */
export type CellValue = string | number;

/** One row of a table, by column name. */
export type TableRecord = Readonly<Record<string, CellValue | undefined>>;

/** A record read from a file, with the 1-based line (CSV, fixed-width) or row (XLSX) it started on. */
export interface DecodedRecord {
  readonly line: number;
  readonly raw: string;
  readonly values: TableRecord;
}

/** A line that could not be read, and why. */
export interface BadLine {
  /** 1-based line (or row) number in the file. */
  readonly line: number;
  readonly raw: string;
  readonly reason: string;
}

/** A decoded file: the good records and the bad lines. */
export interface DecodedTable {
  readonly records: readonly DecodedRecord[];
  readonly badLines: readonly BadLine[];
}

/**
 * A value that cannot be written in a format (too long for its fixed-width field, a
 * number with more decimals than the column keeps, a line break in a fixed-width field):
 * a clear error naming the column and the record, never a silent truncation.
 */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  /** The column, e.g. `NOTE`. */
  readonly column: string;
  /** 0-based index of the record being written. */
  readonly recordIndex: number;
  constructor(column: string, recordIndex: number, problem: string) {
    super(`${column}: ${problem} (record ${recordIndex + 1})`);
    this.column = column;
    this.recordIndex = recordIndex;
  }
}

/** A file format: tables to bytes and back. */
export interface TableFormat {
  /** File name extension with its dot, e.g. `.csv`. */
  readonly extension: string;
  encode(columns: readonly Column[], records: readonly TableRecord[]): Promise<Uint8Array>;
  decode(columns: readonly Column[], bytes: Uint8Array): Promise<DecodedTable>;
}

/**
 * A decimal as a file writes it: at most `scale` decimals, no exponent, trailing zeros
 * dropped (`12.5`, `4`), with `decimalSeparator`. Throws when the value needs more
 * decimals than the column keeps (rounding would change what the ERP books) or is too
 * large to write exactly (10^15 and more).
 */
export function formatDecimal(value: number, scale: number, decimalSeparator: string): string {
  if (!Number.isFinite(value)) throw new RangeError(`expected a finite number, got ${value}`);
  // From 10^15 a double no longer holds every cent, and toFixed switches to exponents.
  if (Math.abs(value) >= 1e15) throw new RangeError(`${value} is too large to write exactly`);
  const fixed = value.toFixed(scale);
  if (Math.abs(Number(fixed) - value) > Math.abs(value) * 1e-12 + 10 ** -(scale + 6)) {
    throw new RangeError(`${value} has more than ${scale} decimals`);
  }
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  const normalised = trimmed === '-0' ? '0' : trimmed;
  return decimalSeparator === '.' ? normalised : normalised.replace('.', decimalSeparator);
}

/** Reads a decimal written with `decimalSeparator` (no thousands separators, no exponent); undefined when it is not one. */
export function parseDecimal(text: string, decimalSeparator: string): number | undefined {
  const escaped = decimalSeparator === '.' ? '\\.' : decimalSeparator;
  if (!new RegExp(`^-?\\d+(${escaped}\\d+)?$`).test(text)) return undefined;
  return Number(decimalSeparator === '.' ? text : text.replace(decimalSeparator, '.'));
}

/** Turns one cell's text into the column's type; a message saying what was wrong when it cannot. */
export function typedCell(column: Column, text: string, decimalSeparator: string): { value: CellValue | undefined } | { problem: string } {
  if (text === '') return { value: undefined };
  switch (column.type.kind) {
    case 'text':
      return { value: text };
    case 'integer':
      return /^-?\d+$/.test(text) ? { value: Number(text) } : { problem: `${column.name}: expected a whole number, got ${JSON.stringify(text)}` };
    case 'decimal': {
      const value = parseDecimal(text, decimalSeparator);
      return value === undefined
        ? { problem: `${column.name}: expected a number with "${decimalSeparator}" as decimal separator, got ${JSON.stringify(text)}` }
        : { value };
    }
  }
}

/** The text a typed cell is written as (empty for an absent value); throws FormatError for a value the column cannot hold. */
export function cellText(column: Column, value: CellValue | undefined, recordIndex: number, decimalSeparator: string): string {
  if (value === undefined) return '';
  if (column.type.kind === 'text') {
    if (typeof value !== 'string') throw new FormatError(column.name, recordIndex, `expected text, got ${typeof value}`);
    return value;
  }
  if (typeof value !== 'number') throw new FormatError(column.name, recordIndex, `expected a number, got ${JSON.stringify(value)}`);
  if (column.type.kind === 'integer') {
    if (!Number.isSafeInteger(value)) throw new FormatError(column.name, recordIndex, `expected a whole number, got ${value}`);
    return String(value);
  }
  try {
    return formatDecimal(value, column.type.scale, decimalSeparator);
  } catch (error) {
    throw new FormatError(column.name, recordIndex, (error as Error).message);
  }
}
