/**
 * Excel workbooks (exceljs): the first worksheet, a header row naming the columns, one record
 * a row. Numbers are written as number cells, text as text cells (never as formulas), so a
 * person can open the file the ERP reads. When reading, text columns take text or number
 * cells (an ERP customer number typed as 10042 is the text `10042`), number columns number
 * cells or numeric text; rich text, formulas (their cached result) and hyperlinks are read
 * for their text. A row that does not fit is a bad line with its row number.
 */
import ExcelJS from 'exceljs';
import { cellText, FormatError, type BadLine, type CellValue, type Column, type DecodedRecord, type DecodedTable, type TableFormat, type TableRecord, typedCell } from './table.ts';

/** Characters XML 1.0 (and so a workbook) cannot hold. */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** The text of a cell's value, whatever exceljs made of it; undefined for an empty cell. */
function cellValueText(value: ExcelJS.CellValue): string | number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return value.toISOString();
  if ('richText' in value) return value.richText.map((run) => run.text).join('');
  if ('formula' in value || 'sharedFormula' in value) {
    const result = (value as ExcelJS.CellFormulaValue).result;
    if (typeof result === 'boolean') return result ? 'TRUE' : 'FALSE';
    return result === undefined || typeof result === 'object' ? undefined : result;
  }
  if ('hyperlink' in value) return (value as ExcelJS.CellHyperlinkValue).text;
  if ('error' in value) return (value as ExcelJS.CellErrorValue).error;
  return undefined;
}

function typedXlsxCell(column: Column, value: string | number | undefined): { value: CellValue | undefined } | { problem: string } {
  if (value === undefined) return { value: undefined };
  if (typeof value === 'number') {
    if (column.type.kind === 'text') return { value: String(value) };
    if (column.type.kind === 'integer' && !Number.isSafeInteger(value)) return { problem: `${column.name}: expected a whole number, got ${value}` };
    return { value };
  }
  return typedCell(column, value.trim() === '' ? '' : column.type.kind === 'text' ? value : value.trim(), '.');
}

/** XLSX workbooks with a header row; a written sheet is named by `sheetName` (e.g. `ORDER`). */
export function xlsxFormat(sheetName: (columns: readonly Column[]) => string = () => 'DATA'): TableFormat {
  return {
    extension: '.xlsx',
    async encode(columns: readonly Column[], records: readonly TableRecord[]): Promise<Uint8Array> {
      const workbook = new ExcelJS.Workbook();
      const sheet = workbook.addWorksheet(sheetName(columns));
      sheet.addRow(columns.map((column) => column.name));
      records.forEach((record, index) => {
        sheet.addRow(
          columns.map((column) => {
            const value = record[column.name];
            // Validates the value as the other formats do (FormatError naming the column), then writes it typed.
            const text = cellText(column, value, index, '.');
            if (XML_FORBIDDEN.test(text)) throw new FormatError(column.name, index, 'an XLSX cell cannot hold control characters');
            return value ?? null;
          }),
        );
      });
      return new Uint8Array(await workbook.xlsx.writeBuffer());
    },
    async decode(columns: readonly Column[], bytes: Uint8Array): Promise<DecodedTable> {
      const workbook = new ExcelJS.Workbook();
      try {
        await workbook.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
      } catch (error) {
        return { records: [], badLines: [{ line: 1, raw: '', reason: `not an XLSX workbook: ${(error as Error).message}` }] };
      }
      const sheet = workbook.worksheets[0];
      if (sheet === undefined) return { records: [], badLines: [{ line: 1, raw: '', reason: 'the workbook has no worksheet' }] };
      const rows: { line: number; cells: (string | number | undefined)[] }[] = [];
      sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
        const values = Array.isArray(row.values) ? row.values.slice(1) : [];
        rows.push({ line: rowNumber, cells: values.map((value) => cellValueText(value as ExcelJS.CellValue)) });
      });
      const [header, ...data] = rows;
      if (header === undefined) return { records: [], badLines: [] };
      const raw = (cells: readonly (string | number | undefined)[]): string => cells.map((cell) => (cell === undefined ? '' : String(cell))).join('\t');
      const positions = new Map(header.cells.map((name, index) => [String(name ?? '').trim().toUpperCase(), index] as const));
      const missing = columns.filter((column) => !positions.has(column.name));
      if (missing.length > 0) {
        return { records: [], badLines: [{ line: header.line, raw: raw(header.cells), reason: `the header row lacks ${missing.map((column) => column.name).join(', ')}` }] };
      }
      const records: DecodedRecord[] = [];
      const badLines: BadLine[] = [];
      for (const row of data) {
        if (row.cells.every((cell) => cell === undefined || cell === '')) continue;
        const values: Record<string, CellValue | undefined> = {};
        const problems: string[] = [];
        for (const column of columns) {
          const cell = typedXlsxCell(column, row.cells[positions.get(column.name)!]);
          if ('problem' in cell) problems.push(cell.problem);
          else values[column.name] = cell.value;
        }
        if (problems.length > 0) badLines.push({ line: row.line, raw: raw(row.cells), reason: problems.join('; ') });
        else records.push({ line: row.line, raw: raw(row.cells), values });
      }
      return { records, badLines };
    },
  };
}
