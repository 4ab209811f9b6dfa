/** The file format a deployment chose (`FILE_DROP_FORMAT`), built with its options. */
import { kindOf, layoutFor } from '../file-kinds.ts';
import { csvFormat } from './csv.ts';
import { fixedWidthFormat } from './fixed-width.ts';
import type { TableFormat } from './table.ts';
import { xlsxFormat } from './xlsx.ts';

/** The formats a file-drop ERP can exchange. */
export const FILE_FORMATS = ['csv', 'fixed-width', 'xlsx'] as const;
export type FileFormatName = (typeof FILE_FORMATS)[number];

/** Options of {@link tableFormat}. */
export interface FormatOptions {
  readonly csvSeparator?: string;
  readonly decimalSeparator?: '.' | ',';
  /** CSV only: write a UTF-8 byte order mark. */
  readonly byteOrderMark?: boolean;
}

/** The format by name, with the file kinds' fixed-width layouts. */
export function tableFormat(name: FileFormatName, options: FormatOptions = {}): TableFormat {
  switch (name) {
    case 'csv':
      return csvFormat({
        ...(options.csvSeparator === undefined ? {} : { separator: options.csvSeparator }),
        ...(options.decimalSeparator === undefined ? {} : { decimalSeparator: options.decimalSeparator }),
        ...(options.byteOrderMark === undefined ? {} : { byteOrderMark: options.byteOrderMark }),
      });
    case 'fixed-width':
      return fixedWidthFormat(layoutFor);
    case 'xlsx':
      return xlsxFormat((columns) => kindOf(columns)?.name ?? 'DATA');
  }
}

/** The format a file's extension names (`.csv`, `.txt`, `.xlsx`), for readers that accept any. */
export function formatForExtension(fileName: string, options: FormatOptions = {}): TableFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return tableFormat('csv', options);
  if (lower.endsWith('.txt')) return tableFormat('fixed-width', options);
  if (lower.endsWith('.xlsx')) return tableFormat('xlsx', options);
  return undefined;
}
