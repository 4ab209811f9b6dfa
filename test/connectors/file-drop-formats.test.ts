/**
 * The file-drop formats: RFC 4180 CSV (with `;`, decimal comma and BOM), fixed-width and
 * XLSX. Each writes what it reads (fast-check round trips), reads the recorded fixtures,
 * and reports a bad line with its number and reason while reading the rest of the file.
 */
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ORDER_FILE, STATUS_FILE } from '../../functions/connectors/erp/file-drop/file-kinds.ts';
import { csvFormat, parseCsvRows } from '../../functions/connectors/erp/file-drop/formats/csv.ts';
import { fixedWidthFormat, resolveLayout } from '../../functions/connectors/erp/file-drop/formats/fixed-width.ts';
import { tableFormat } from '../../functions/connectors/erp/file-drop/formats/index.ts';
import { formatDecimal, FormatError, type Column, type TableFormat, type TableRecord } from '../../functions/connectors/erp/file-drop/formats/table.ts';
import { xlsxFormat } from '../../functions/connectors/erp/file-drop/formats/xlsx.ts';

const fixture = (name: string): Promise<Buffer> => readFile(new URL(`../fixtures/file-drop/${name}`, import.meta.url));

const COLUMNS: readonly Column[] = [
  { name: 'REF', type: { kind: 'text' } },
  { name: 'QTY', type: { kind: 'decimal', scale: 3 } },
  { name: 'PRICE', type: { kind: 'decimal', scale: 2 } },
  { name: 'LINE', type: { kind: 'integer' } },
  { name: 'NOTE', type: { kind: 'text' } },
];

/** Decimals the columns can hold exactly: whole thousandths / hundredths. */
const decimal = (scale: number, max: number) => fc.integer({ min: -max, max }).map((units) => units / 10 ** scale);
const optional = <Value>(arbitrary: fc.Arbitrary<Value>) => fc.option(arbitrary, { nil: undefined });

function records(text: fc.Arbitrary<string>): fc.Arbitrary<TableRecord[]> {
  return fc.array(
    fc.record({
      REF: optional(text),
      QTY: optional(decimal(3, 999_999_999)),
      PRICE: optional(decimal(2, 99_999_999)),
      LINE: optional(fc.integer({ min: -9999, max: 9999 })),
      NOTE: optional(text),
    }),
    { maxLength: 8 },
  );
}

async function roundTrip(format: TableFormat, input: readonly TableRecord[]): Promise<TableRecord[]> {
  const decoded = await format.decode(COLUMNS, await format.encode(COLUMNS, input));
  expect(decoded.badLines).toEqual([]);
  return decoded.records.map((record) => record.values);
}

/** What a reader can give back: absent keys for absent values, -0 as 0. */
function normalised(input: readonly TableRecord[], keep: (record: TableRecord) => boolean = () => true): TableRecord[] {
  return input.filter(keep).map((record) =>
    Object.fromEntries(COLUMNS.map((column) => [column.name, record[column.name] === 0 ? 0 : record[column.name]]).filter(([, value]) => value !== undefined && value !== '')),
  );
}

const present = (record: TableRecord): Record<string, unknown> => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));

describe('CSV (RFC 4180)', () => {
  it('reads the RFC examples: quoted fields, a line break inside quotes, doubled quotes, no final line break', async () => {
    const { rows, badLines } = parseCsvRows((await fixture('rfc4180-examples.csv')).toString('utf8'));
    expect(badLines).toEqual([]);
    expect(rows.map((row) => [row.line, ...row.fields])).toEqual([
      [1, 'A', 'B', 'C'],
      [2, 'aaa', 'bbb', 'ccc'],
      [3, 'aaa', 'b\r\nbb', 'ccc'],
      [5, 'aaa', 'b"bb', 'ccc'],
      [6, 'zzz', 'yyy', 'xxx'],
    ]);
  });

  it('writes what it reads, for any text, with , or ; and either decimal separator, with or without BOM', async () => {
    await fc.assert(
      fc.asyncProperty(
        records(fc.string({ unit: 'binary', maxLength: 20 })),
        fc.constantFrom([',', '.'] as const, [';', ','] as const, ['\t', '.'] as const, ['|', ','] as const),
        fc.boolean(),
        async (input, [separator, decimalSeparator], byteOrderMark) => {
          const format = csvFormat({ separator, decimalSeparator, byteOrderMark });
          // Every record is a line, even one of empty fields (`,,,,`).
          expect((await roundTrip(format, input)).map(present)).toEqual(normalised(input));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('quotes fields only where RFC 4180 needs it and ends records in CRLF', async () => {
    const bytes = await csvFormat({ separator: ';', decimalSeparator: ',' }).encode(COLUMNS, [{ REF: 'a;b', QTY: 1.5, PRICE: 2, LINE: 1, NOTE: 'say "hi"\nbye' }]);
    expect(new TextDecoder().decode(bytes)).toBe('REF;QTY;PRICE;LINE;NOTE\r\n"a;b";1,5;2;1;"say ""hi""\nbye"\r\n');
  });

  it('reads a German ERP export (BOM, ;, decimal comma): bad lines are reported with their numbers, the rest is read', async () => {
    const decoded = await csvFormat({ separator: ';', decimalSeparator: ',' }).decode(STATUS_FILE.columns, await fixture('status-semicolon-decimal-comma.csv'));
    expect(decoded.records.map((record) => [record.line, record.values.ORDER_REF, record.values.AMOUNT_TOTAL])).toEqual([
      [2, 'hubspot:deal:1001', 1234.56],
      [3, 'hubspot:deal:1002', undefined],
      [4, 'hubspot:deal:1001', 1234.56],
      [5, 'hubspot:deal:1003', 99.9],
      [7, 'hubspot:deal:1005', 0],
    ]);
    expect(decoded.records[1]!.values.REASON).toBe('unbekannter Artikel NO-SUCH-SKU; Zeile 2');
    expect(decoded.badLines).toEqual([
      { line: 6, raw: 'hubspot:deal:1004;AB-000125;INVOICED;10.5;EUR;2025-03-03T09:17:00Z;', reason: 'AMOUNT_TOTAL: expected a number with "," as decimal separator, got "10.5"' },
    ]);
  });

  it('an unterminated quote spoils one line, not the rest of the file', async () => {
    const text = 'REF,QTY,PRICE,LINE,NOTE\r\nok-1,1,1,1,a\r\n"broken,1,1,2,b\r\nok-3,3,3,3,c\r\nok-4,4,4,4,"d ""quoted"""\r\n';
    const decoded = await csvFormat().decode(COLUMNS, new TextEncoder().encode(text));
    expect(decoded.records.map((record) => [record.line, record.values.REF])).toEqual([
      [2, 'ok-1'],
      [4, 'ok-3'],
      [5, 'ok-4'],
    ]);
    expect(decoded.badLines).toEqual([
      { line: 3, raw: '"broken,1,1,2,b', reason: 'unexpected "d" after a closing quote in field 1 — a quote opened on this line runs over the line break (an unclosed quote?)' },
    ]);
    const atTheEnd = await csvFormat().decode(COLUMNS, new TextEncoder().encode('REF,QTY,PRICE,LINE,NOTE\r\nok-1,1,1,1,a\r\nlast,1,1,1,"open'));
    expect(atTheEnd.records.map((record) => record.values.REF)).toEqual(['ok-1']);
    expect(atTheEnd.badLines).toEqual([{ line: 3, raw: 'last,1,1,1,"open', reason: 'a quoted field is not closed before the end of the file' }]);
  });

  it('names the problem of each bad line: a quote inside a field, text after a closing quote, the wrong number of fields', async () => {
    const text = 'REF,QTY,PRICE,LINE,NOTE\nab"c,1,1,1,x\n"ab"c,1,1,1,x\nshort,1\nfine,1,2,3,y\n';
    const decoded = await csvFormat().decode(COLUMNS, new TextEncoder().encode(text));
    expect(decoded.records.map((record) => record.values.REF)).toEqual(['fine']);
    expect(decoded.badLines.map((bad) => [bad.line, bad.reason])).toEqual([
      [2, 'a quote inside unquoted field 1 (quote the field and double the quote)'],
      [3, 'unexpected "c" after a closing quote in field 1'],
      [4, 'expected 5 fields as in the header, found 2'],
    ]);
  });

  it('a header without a required column makes the file one bad line naming the column', async () => {
    const decoded = await csvFormat().decode(COLUMNS, new TextEncoder().encode('REF,QTY\r\nx,1\r\n'));
    expect(decoded.records).toEqual([]);
    expect(decoded.badLines[0]).toMatchObject({ line: 1, reason: expect.stringContaining('PRICE, LINE, NOTE') });
  });

  it('reads the order file Harmony writes as the recorded fixture shows it', async () => {
    const format = tableFormat('csv', { csvSeparator: ';', decimalSeparator: ',' });
    const written = await format.encode(ORDER_FILE.columns, [
      { ORDER_REF: 'hubspot:deal:1001', CUSTOMER_ID: 'HC-0123456789ABCDEF', CURRENCY: 'EUR', LINE_NO: 1, SKU: 'WIDGET-1', DESCRIPTION: 'Widget, blue', QUANTITY: 4, UNIT_PRICE: 22.5, NOTE: 'Lieferung an Tor 3' },
      { ORDER_REF: 'hubspot:deal:1001', CUSTOMER_ID: 'HC-0123456789ABCDEF', CURRENCY: 'EUR', LINE_NO: 2, SKU: 'SERVICE-HOUR', DESCRIPTION: 'Consulting "premium"', QUANTITY: 2, UNIT_PRICE: 90, DISCOUNT_PERCENT: 10, NOTE: 'Lieferung an Tor 3' },
    ]);
    expect(Buffer.from(written).toString('utf8')).toBe((await fixture('order-semicolon-decimal-comma.csv')).toString('utf8'));
  });
});

describe('fixed-width', () => {
  const layout = [
    { name: 'REF', start: 1, length: 12 },
    { name: 'QTY', start: 13, length: 10 },
    { name: 'PRICE', start: 23, length: 9, decimalPoint: 'explicit' as const },
    { name: 'LINE', start: 32, length: 5 },
    { name: 'NOTE', start: 37, length: 8, align: 'right' as const, pad: '.' },
  ];
  const format = fixedWidthFormat(() => layout);
  /** Text a fixed-width field keeps: no line breaks, no trailing spaces, nothing the right-aligned `.` padding would eat. */
  const fixedText = (maxLength: number) =>
    fc
      .string({ unit: 'grapheme-ascii', maxLength })
      .map((text) => text.replace(/[\r\n]/g, ' ').trimEnd())
      .filter((text) => !text.startsWith('.'));

  it('writes what it reads for every value that fits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            REF: optional(fixedText(12)),
            QTY: optional(decimal(3, 999_999_999)),
            PRICE: optional(decimal(2, 999_999)),
            LINE: optional(fc.integer({ min: -9999, max: 99999 })),
            NOTE: optional(fixedText(8)),
          }),
          { maxLength: 8 },
        ),
        async (input) => {
          expect((await roundTrip(format, input)).map(present)).toEqual(normalised(input, (record) => COLUMNS.some((column) => record[column.name] !== undefined && record[column.name] !== '')));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes numbers right-aligned with zeros, implied decimals by default, the sign first', async () => {
    const bytes = await format.encode(COLUMNS, [{ REF: 'Ä-1', QTY: -1.5, PRICE: 12.5, LINE: 7, NOTE: 'x' }]);
    expect(new TextDecoder().decode(bytes)).toBe('Ä-1         -000001500000012.5000007.......x\r\n');
  });

  it('refuses a value longer than its field with a FormatError naming the field, never truncating', async () => {
    const tooLong = format.encode(COLUMNS, [{ REF: 'ok' }, { REF: 'x'.repeat(13) }]);
    await expect(tooLong).rejects.toBeInstanceOf(FormatError);
    await expect(tooLong).rejects.toThrow('REF: "xxxxxxxxxxxxx" is 13 characters; the field holds 12 (record 2)');
    await expect(format.encode(COLUMNS, [{ QTY: 12_345_678 }])).rejects.toThrow(/^QTY: 12345678 needs 11 characters; the field holds 10/);
    await expect(format.encode(COLUMNS, [{ PRICE: 1.005 }])).rejects.toThrow('PRICE: 1.005 has more than 2 decimals (record 1)');
    await expect(format.encode(COLUMNS, [{ NOTE: 'a\nb' }])).rejects.toThrow('NOTE: a fixed-width field cannot hold a line break');
  });

  it('reads the recorded status file: a short last line is fine; a bad line is reported with its number and the rest is read', async () => {
    const decoded = await tableFormat('fixed-width').decode(STATUS_FILE.columns, await fixture('status-fixed-width.txt'));
    expect(decoded.records.map((record) => [record.line, record.values.ORDER_REF, record.values.STATUS, record.values.AMOUNT_TOTAL, record.values.REASON])).toEqual([
      [1, 'crm:deal:42', 'ACCEPTED', 1234.56, undefined],
      [2, 'crm:deal:43', 'REJECTED', undefined, 'unknown item NO-SUCH-SKU (line 2)'],
      [4, 'crm:deal:45', 'INVOICED', 0, undefined],
    ]);
    expect(decoded.badLines).toHaveLength(1);
    expect(decoded.badLines[0]).toMatchObject({ line: 3, reason: 'AMOUNT_TOTAL (positions 95–108): expected digits, got "00000000009,90"' });
    expect(decoded.badLines[0]!.raw).toContain('crm:deal:44');
  });

  it('writes the order file exactly as the recorded layout fixture', async () => {
    const written = await tableFormat('fixed-width').encode(ORDER_FILE.columns, [
      { ORDER_REF: 'hubspot:deal:1001', CUSTOMER_ID: 'HC-0123456789ABCDEF', CURRENCY: 'EUR', LINE_NO: 1, SKU: 'WIDGET-1', DESCRIPTION: 'Widget, blue', QUANTITY: 4, UNIT_PRICE: 22.5, NOTE: 'Lieferung an Tor 3' },
      { ORDER_REF: 'hubspot:deal:1001', CUSTOMER_ID: 'HC-0123456789ABCDEF', CURRENCY: 'EUR', LINE_NO: 2, SKU: 'SERVICE-HOUR', DESCRIPTION: 'Consulting "premium"', QUANTITY: 2, UNIT_PRICE: 90, DISCOUNT_PERCENT: 10, NOTE: 'Lieferung an Tor 3' },
    ]);
    expect(Buffer.from(written).toString('utf8')).toBe((await fixture('order-fixed-width.txt')).toString('utf8'));
  });

  it('a line longer than the layout is a bad line', async () => {
    const decoded = await format.decode(COLUMNS, new TextEncoder().encode(`${'a'.repeat(44)}EXTRA\r\nok\r\n`));
    expect(decoded.badLines).toEqual([{ line: 1, raw: `${'a'.repeat(44)}EXTRA`, reason: 'the line is 49 characters; the layout defines 44' }]);
    expect(decoded.records.map((record) => record.values.REF)).toEqual(['ok']);
  });

  it('refuses overlapping fields when the layout is declared', () => {
    expect(() => resolveLayout(COLUMNS, [...layout.slice(0, 4), { name: 'NOTE', start: 30, length: 4 }])).toThrow('NOTE (from 30) overlaps');
  });
});

describe('XLSX', () => {
  const format = xlsxFormat();
  /** XML 1.0 cannot hold most control characters; everything else round-trips. */
  const xlsxText = fc.string({ unit: 'grapheme', maxLength: 15 }).map((text) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, ''));

  it('writes what it reads', async () => {
    await fc.assert(
      fc.asyncProperty(records(xlsxText), async (input) => {
        expect((await roundTrip(format, input)).map(present)).toEqual(normalised(input, (record) => COLUMNS.some((column) => record[column.name] !== undefined && record[column.name] !== '')));
      }),
      { numRuns: 40 },
    );
  });

  it('reads what people type into a workbook: numbers in text columns, numeric text, rich text; a bad row has its row number', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('anything');
    sheet.addRow(['NOTE', 'REF', 'QTY', 'PRICE', 'LINE', 'IGNORED']);
    sheet.addRow(['plain', 10042, '2.5', 3, 1, 'x']);
    sheet.addRow([{ richText: [{ text: 'rich ' }, { text: 'text' }] }, 'R-2', 'two', 1, 2]);
    sheet.addRow([]);
    sheet.addRow(['last', 'R-5', 1, 1.25, 5]);
    const decoded = await format.decode(COLUMNS, new Uint8Array(await workbook.xlsx.writeBuffer()));
    expect(decoded.records.map((record) => [record.line, record.values])).toEqual([
      [2, { NOTE: 'plain', REF: '10042', QTY: 2.5, PRICE: 3, LINE: 1 }],
      [5, { NOTE: 'last', REF: 'R-5', QTY: 1, PRICE: 1.25, LINE: 5 }],
    ]);
    expect(decoded.badLines).toEqual([{ line: 3, raw: 'rich text\tR-2\ttwo\t1\t2', reason: 'QTY: expected a number with "." as decimal separator, got "two"' }]);
  });

  it('a file that is not a workbook is one bad line, not a crash', async () => {
    const decoded = await format.decode(COLUMNS, new TextEncoder().encode('REF,QTY\r\n'));
    expect(decoded.records).toEqual([]);
    expect(decoded.badLines[0]!.reason).toMatch(/^not an XLSX workbook/);
  });
});

describe('decimals', () => {
  it('are written without exponent or trailing zeros, and refused when the column keeps fewer decimals', () => {
    expect(formatDecimal(123_456_789_012.25, 2, '.')).toBe('123456789012.25');
    expect(() => formatDecimal(1e21, 2, '.')).toThrow('1e+21 is too large to write exactly');
    expect(formatDecimal(0.1 + 0.2, 2, ',')).toBe('0,3');
    expect(formatDecimal(-0, 2, '.')).toBe('0');
    expect(() => formatDecimal(0.125, 2, '.')).toThrow('0.125 has more than 2 decimals');
  });
});
