/**
 * CSV as RFC 4180 defines it (fields in double quotes may hold separators, line breaks and
 * doubled quotes; records end in CRLF), with what legacy ERPs add: a configurable separator
 * (`;` where the decimal separator is a comma), an optional UTF-8 byte order mark, LF line
 * ends, and a header row naming the columns. A record that breaks the syntax (a quote in an
 * unquoted field, an unterminated quote, the wrong number of fields) is a bad line and
 * reading resumes on the next line.
 */
import { cellText, type BadLine, type Column, type DecodedRecord, type DecodedTable, type TableFormat, type TableRecord, typedCell } from './table.ts';

/** How a CSV file is written. */
export interface CsvOptions {
  /** Field separator, one character other than a quote or line break. @default ',' */
  readonly separator?: string;
  /** Decimal separator of numbers. @default '.' */
  readonly decimalSeparator?: '.' | ',';
  /** Start the file with a UTF-8 byte order mark (Excel needs it to read UTF-8). @default false */
  readonly byteOrderMark?: boolean;
}

/** One record as the syntax found it. */
export interface CsvRow {
  /** 1-based line on which the record starts. */
  readonly line: number;
  /** The record's text as it stands in the file, without its line break. */
  readonly raw: string;
  readonly fields: readonly string[];
}

const BOM = '\uFEFF';

function checkSeparator(separator: string): void {
  if (separator.length !== 1 || separator === '"' || separator === '\r' || separator === '\n') {
    throw new RangeError(`CSV separator must be one character other than a quote or line break, got ${JSON.stringify(separator)}`);
  }
}

/** Quotes a field when it must be (RFC 4180 §2.6–2.7): it holds the separator, a quote or a line break, or starts with a BOM. */
export function quoteField(field: string, separator: string): string {
  if (field.includes(separator) || field.includes('"') || field.includes('\n') || field.includes('\r') || field.startsWith(BOM)) {
    return `"${field.replaceAll('"', '""')}"`;
  }
  return field;
}

/** Writes rows of fields as CSV text, each record ending in CRLF. */
export function formatCsvRows(rows: readonly (readonly string[])[], separator = ','): string {
  checkSeparator(separator);
  return rows.map((fields) => `${fields.map((field) => quoteField(field, separator)).join(separator)}\r\n`).join('');
}

/**
 * Splits CSV text into rows and syntax errors. Blank lines are skipped; a leading BOM is
 * ignored. An unterminated quote makes only its first line bad: reading resumes on the
 * next line rather than swallowing the rest of the file.
 */
export function parseCsvRows(text: string, separator = ','): { rows: CsvRow[]; badLines: BadLine[] } {
  checkSeparator(separator);
  const input = text.startsWith(BOM) ? text.slice(1) : text;
  const rows: CsvRow[] = [];
  const badLines: BadLine[] = [];
  let position = 0;
  let line = 1;

  /** End of the physical line starting at `from` (index of its CR/LF, or the end). */
  const lineEnd = (from: number): number => {
    const next = input.slice(from).search(/\r\n|\n|\r/);
    return next < 0 ? input.length : from + next;
  };
  const breakLength = (at: number): number => (input.startsWith('\r\n', at) ? 2 : at < input.length ? 1 : 0);

  while (position < input.length) {
    const start = position;
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let problem: string | undefined;
    let cursor = position;
    let linesInRecord = 0;
    let quoted = false;
    let fieldStart = true;
    let ended = false;
    while (!ended) {
      if (quoted) {
        const close = input.indexOf('"', cursor);
        if (close < 0) {
          problem = 'a quoted field is not closed before the end of the file';
          break;
        }
        const chunk = input.slice(cursor, close);
        linesInRecord += (chunk.match(/\r\n|\n|\r/g) ?? []).length;
        field += chunk;
        if (input[close + 1] === '"') {
          field += '"';
          cursor = close + 2;
          continue;
        }
        quoted = false;
        cursor = close + 1;
        const next = input[cursor];
        if (next !== undefined && next !== separator && next !== '\r' && next !== '\n') {
          problem = `unexpected ${JSON.stringify(next)} after a closing quote in field ${fields.length + 1}`;
          break;
        }
        continue;
      }
      const character = input[cursor];
      if (character === undefined || character === '\r' || character === '\n') {
        fields.push(field);
        ended = true;
        break;
      }
      if (character === separator) {
        fields.push(field);
        field = '';
        fieldStart = true;
        cursor += 1;
        continue;
      }
      if (character === '"') {
        if (!fieldStart) {
          problem = `a quote inside unquoted field ${fields.length + 1} (quote the field and double the quote)`;
          break;
        }
        quoted = true;
        fieldStart = false;
        cursor += 1;
        continue;
      }
      field += character;
      fieldStart = false;
      cursor += 1;
    }

    if (problem !== undefined) {
      // Resume on the line after the one the record started on: one bad line, not the rest of the file.
      const end = lineEnd(start);
      const reason = linesInRecord > 0 ? `${problem} — a quote opened on this line runs over the line break (an unclosed quote?)` : problem;
      badLines.push({ line: startLine, raw: input.slice(start, end), reason });
      position = end + breakLength(end);
      line = startLine + 1;
      continue;
    }
    const raw = input.slice(start, cursor);
    position = cursor + breakLength(cursor);
    line = startLine + linesInRecord + 1;
    if (raw === '') continue;
    rows.push({ line: startLine, raw, fields });
  }
  return { rows, badLines };
}

/** CSV files with a header row naming the columns (in any order; extra columns are ignored). */
export function csvFormat(options: CsvOptions = {}): TableFormat {
  const separator = options.separator ?? ',';
  const decimalSeparator = options.decimalSeparator ?? '.';
  checkSeparator(separator);
  return {
    extension: '.csv',
    async encode(columns: readonly Column[], records: readonly TableRecord[]): Promise<Uint8Array> {
      const rows = [columns.map((column) => column.name), ...records.map((record, index) => columns.map((column) => cellText(column, record[column.name], index, decimalSeparator)))];
      const text = formatCsvRows(rows, separator);
      return new TextEncoder().encode(options.byteOrderMark === true ? BOM + text : text);
    },
    async decode(columns: readonly Column[], bytes: Uint8Array): Promise<DecodedTable> {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        return { records: [], badLines: [{ line: 1, raw: '', reason: 'the file is not UTF-8 text' }] };
      }
      const { rows, badLines } = parseCsvRows(text, separator);
      const [header, ...data] = rows;
      if (header === undefined) return { records: [], badLines };
      const positions = new Map(header.fields.map((name, index) => [name.trim().toUpperCase(), index] as const));
      const missing = columns.filter((column) => !positions.has(column.name));
      if (missing.length > 0) {
        const reason = `the header row lacks ${missing.map((column) => column.name).join(', ')} (separator ${JSON.stringify(separator)})`;
        return { records: [], badLines: [{ line: header.line, raw: header.raw, reason }, ...badLines] };
      }
      const bad: BadLine[] = [...badLines];
      const records: DecodedRecord[] = [];
      for (const row of data) {
        if (row.fields.length !== header.fields.length) {
          bad.push({ line: row.line, raw: row.raw, reason: `expected ${header.fields.length} fields as in the header, found ${row.fields.length}` });
          continue;
        }
        const values: Record<string, string | number | undefined> = {};
        const problems: string[] = [];
        for (const column of columns) {
          const cell = typedCell(column, row.fields[positions.get(column.name)!]!, decimalSeparator);
          if ('problem' in cell) problems.push(cell.problem);
          else values[column.name] = cell.value;
        }
        if (problems.length > 0) bad.push({ line: row.line, raw: row.raw, reason: problems.join('; ') });
        else records.push({ line: row.line, raw: row.raw, values });
      }
      bad.sort((first, second) => first.line - second.line);
      return { records, badLines: bad };
    },
  };
}
