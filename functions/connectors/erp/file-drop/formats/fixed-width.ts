/**
 * Fixed-width text files, the oldest ERP import format: every record one line, every field
 * at a fixed position and length, declared by a layout. Text is left-aligned and padded with
 * spaces; numbers right-aligned, padded with zeros, by default with implied decimals
 * (`12.50` in a 9-character field with scale 2 is `000001250`). Positions count characters
 * (Unicode code points) of UTF-8 text. A value longer than its field is a FormatError naming
 * the field: never a silent truncation. Trailing spaces of text are not significant.
 */
import { FormatError, parseDecimal, type BadLine, type Column, type DecodedRecord, type DecodedTable, type TableFormat, type TableRecord } from './table.ts';

/** Where one column stands in a line. */
export interface FixedWidthField {
  /** The column it holds. */
  readonly name: string;
  /** 1-based position of its first character. */
  readonly start: number;
  readonly length: number;
  /** @default 'left' for text, 'right' for numbers */
  readonly align?: 'left' | 'right';
  /** One padding character. @default ' ' for text, '0' for numbers */
  readonly pad?: string;
  /** Decimals: `implied` writes no decimal point (scale digits are decimals), `explicit` writes `12.50`. @default 'implied' */
  readonly decimalPoint?: 'implied' | 'explicit';
}

/** The fields of a record, in any order; they must not overlap. */
export type FixedWidthLayout = readonly FixedWidthField[];

interface ResolvedField {
  readonly column: Column;
  readonly start: number;
  readonly length: number;
  readonly align: 'left' | 'right';
  readonly pad: string;
  readonly decimalPoint: 'implied' | 'explicit';
}

/** Checks a layout against the columns it must hold: every column placed once, no overlaps, one-character padding. */
export function resolveLayout(columns: readonly Column[], layout: FixedWidthLayout): { fields: ResolvedField[]; recordLength: number } {
  const byName = new Map(layout.map((field) => [field.name, field] as const));
  const fields = columns.map((column): ResolvedField => {
    const field = byName.get(column.name);
    if (field === undefined) throw new RangeError(`fixed-width layout: no field for column ${column.name}`);
    if (!Number.isInteger(field.start) || field.start < 1 || !Number.isInteger(field.length) || field.length < 1) {
      throw new RangeError(`fixed-width layout: ${column.name} needs a whole start ≥ 1 and length ≥ 1`);
    }
    const numeric = column.type.kind !== 'text';
    const pad = field.pad ?? (numeric ? '0' : ' ');
    if (Array.from(pad).length !== 1 || pad === '\r' || pad === '\n') throw new RangeError(`fixed-width layout: ${column.name} pad must be one character`);
    return {
      column,
      start: field.start,
      length: field.length,
      align: field.align ?? (numeric ? 'right' : 'left'),
      pad,
      decimalPoint: field.decimalPoint ?? 'implied',
    };
  });
  const sorted = [...fields].sort((first, second) => first.start - second.start);
  for (let index = 1; index < sorted.length; index += 1) {
    const previous = sorted[index - 1]!;
    const current = sorted[index]!;
    if (current.start < previous.start + previous.length) {
      throw new RangeError(`fixed-width layout: ${current.column.name} (from ${current.start}) overlaps ${previous.column.name} (${previous.start}–${previous.start + previous.length - 1})`);
    }
  }
  const recordLength = Math.max(...fields.map((field) => field.start + field.length - 1));
  return { fields, recordLength };
}

function padded(text: string, field: ResolvedField): string {
  const fill = field.pad.repeat(field.length - Array.from(text).length);
  return field.align === 'left' ? text + fill : fill + text;
}

/** A number's characters in its field: implied or explicit decimals, sign before the zero padding. */
function numberText(value: number, field: ResolvedField, recordIndex: number): string {
  const { column } = field;
  const scale = column.type.kind === 'decimal' ? column.type.scale : 0;
  if (!Number.isFinite(value) || Math.abs(value) >= 1e15) throw new FormatError(column.name, recordIndex, `${value} cannot be written exactly`);
  const fixed = Math.abs(value).toFixed(scale);
  if (Math.abs(Number(fixed) - Math.abs(value)) > Math.abs(value) * 1e-12 + 10 ** -(scale + 6)) {
    throw new FormatError(column.name, recordIndex, `${value} has more than ${scale} decimals`);
  }
  const digits = field.decimalPoint === 'implied' ? fixed.replace('.', '').replace(/^0+(?=\d)/, '') : fixed;
  const negative = value < 0 && Number(fixed) !== 0;
  const width = field.length - (negative ? 1 : 0);
  if (digits.length > width) {
    throw new FormatError(column.name, recordIndex, `${value} needs ${digits.length + (negative ? 1 : 0)} characters; the field holds ${field.length}`);
  }
  if (!negative) return padded(digits, field);
  return field.pad === '0' ? `-${'0'.repeat(width - digits.length)}${digits}` : padded(`-${digits}`, field);
}

function fieldText(value: string | number | undefined, field: ResolvedField, recordIndex: number): string {
  const { column } = field;
  if (value === undefined) return ' '.repeat(field.length);
  if (column.type.kind === 'text') {
    if (typeof value !== 'string') throw new FormatError(column.name, recordIndex, `expected text, got ${typeof value}`);
    if (/[\r\n]/.test(value)) throw new FormatError(column.name, recordIndex, 'a fixed-width field cannot hold a line break');
    const text = value.trimEnd();
    if (text === '') return ' '.repeat(field.length);
    const length = Array.from(text).length;
    if (length > field.length) {
      throw new FormatError(column.name, recordIndex, `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is ${length} characters; the field holds ${field.length}`);
    }
    return padded(text, field);
  }
  if (typeof value !== 'number') throw new FormatError(column.name, recordIndex, `expected a number, got ${JSON.stringify(value)}`);
  if (column.type.kind === 'integer' && !Number.isSafeInteger(value)) throw new FormatError(column.name, recordIndex, `expected a whole number, got ${value}`);
  return numberText(value, field, recordIndex);
}

function readField(characters: readonly string[], field: ResolvedField): { value: string | number | undefined } | { problem: string } {
  const slice = characters.slice(field.start - 1, field.start - 1 + field.length).join('');
  const { column } = field;
  if (slice.trim() === '') return { value: undefined };
  if (column.type.kind === 'text') {
    let text = slice;
    if (field.align === 'left') while (text.endsWith(field.pad)) text = text.slice(0, -field.pad.length);
    else while (text.startsWith(field.pad)) text = text.slice(field.pad.length);
    return { value: text === '' ? undefined : text };
  }
  const trimmed = slice.trim();
  const scale = column.type.kind === 'decimal' ? column.type.scale : 0;
  const where = `${column.name} (positions ${field.start}–${field.start + field.length - 1})`;
  if (column.type.kind === 'decimal' && field.decimalPoint === 'explicit') {
    const value = parseDecimal(trimmed, '.');
    return value === undefined ? { problem: `${where}: expected a number such as 12.50, got ${JSON.stringify(slice)}` } : { value };
  }
  if (!/^-?\d+$/.test(trimmed)) return { problem: `${where}: expected digits, got ${JSON.stringify(slice)}` };
  const negative = trimmed.startsWith('-');
  const digits = (negative ? trimmed.slice(1) : trimmed).padStart(scale + 1, '0');
  const number = Number(scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`);
  return { value: negative ? -number : number };
}

/** Fixed-width files of the given layout (one per kind of file: the columns say which fields a layout must place). */
export function fixedWidthFormat(layouts: (columns: readonly Column[]) => FixedWidthLayout): TableFormat {
  return {
    extension: '.txt',
    async encode(columns: readonly Column[], records: readonly TableRecord[]): Promise<Uint8Array> {
      const { fields, recordLength } = resolveLayout(columns, layouts(columns));
      const lines = records.map((record, index) => {
        const line = Array.from(' '.repeat(recordLength));
        for (const field of fields) {
          Array.from(fieldText(record[field.column.name], field, index)).forEach((character, offset) => {
            line[field.start - 1 + offset] = character;
          });
        }
        return `${line.join('')}\r\n`;
      });
      return new TextEncoder().encode(lines.join(''));
    },
    async decode(columns: readonly Column[], bytes: Uint8Array): Promise<DecodedTable> {
      const { fields, recordLength } = resolveLayout(columns, layouts(columns));
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        return { records: [], badLines: [{ line: 1, raw: '', reason: 'the file is not UTF-8 text' }] };
      }
      const records: DecodedRecord[] = [];
      const badLines: BadLine[] = [];
      (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r\n|\n|\r/).forEach((raw, index) => {
        const line = index + 1;
        if (raw.trim() === '') return;
        const characters = Array.from(raw);
        if (characters.length > recordLength && characters.slice(recordLength).join('').trim() !== '') {
          badLines.push({ line, raw, reason: `the line is ${characters.length} characters; the layout defines ${recordLength}` });
          return;
        }
        const values: Record<string, string | number | undefined> = {};
        const problems: string[] = [];
        for (const field of fields) {
          const cell = readField(characters, field);
          if ('problem' in cell) problems.push(cell.problem);
          else values[field.column.name] = cell.value;
        }
        if (problems.length > 0) badLines.push({ line, raw, reason: problems.join('; ') });
        else records.push({ line, raw, values });
      });
      return { records, badLines };
    },
  };
}
