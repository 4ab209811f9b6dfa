/**
 * NAV's record `Key`: a bookmark of the record's primary key plus its timestamp,
 * written as `<length>;<bookmark><length>;<timestamp>;` (the shape NAV's keys have,
 * e.g. `28;JAAAAACLAQAAAAJ7BDEAMAAwADQ=6;5685101;`). The bookmark is base64 of the
 * table number and the record number in UTF-16LE, as NAV encodes Code values. A Key read
 * before the record's last write no longer matches its timestamp: that is how Update and
 * Delete see that another session changed the record.
 */
import type { NavRecord, NavTable } from './store.ts';

/** NAV table numbers (Customer is table 18, Sales Header 36). */
const TABLE_NUMBERS: Readonly<Record<NavTable, number>> = { Customer: 18, 'Sales Header': 36 };

/** What a Key names. */
export interface DecodedKey {
  readonly table: NavTable;
  readonly no: string;
  readonly timestamp: number;
}

/** The Key of a record as it is now. */
export function recordKey(record: Pick<NavRecord, 'table' | 'no' | 'timestamp'>): string {
  const bookmark = Buffer.from(`${TABLE_NUMBERS[record.table]};${record.no}`, 'utf16le').toString('base64');
  const timestamp = String(record.timestamp);
  return `${bookmark.length};${bookmark}${timestamp.length};${timestamp};`;
}

/** The Key of a line of a document: the document's bookmark with the line number, and the document's timestamp. */
export function lineKey(record: Pick<NavRecord, 'no' | 'timestamp'>, lineNo: number): string {
  const bookmark = Buffer.from(`37;Order;${record.no};${lineNo}`, 'utf16le').toString('base64');
  const timestamp = String(record.timestamp);
  return `${bookmark.length};${bookmark}${timestamp.length};${timestamp};`;
}

/** Reads a Key; undefined when it is not one this server wrote. */
export function decodeKey(key: string): DecodedKey | undefined {
  const parts = /^(\d{1,4});/.exec(key);
  if (parts === null) return undefined;
  const bookmarkLength = Number(parts[1]);
  const bookmark = key.slice(parts[0].length, parts[0].length + bookmarkLength);
  const rest = /^(\d{1,2});(\d+);$/.exec(key.slice(parts[0].length + bookmarkLength));
  if (bookmark.length !== bookmarkLength || rest === null || rest[2]!.length !== Number(rest[1])) return undefined;
  const [tableNumber, ...noParts] = Buffer.from(bookmark, 'base64').toString('utf16le').split(';');
  const table = (Object.keys(TABLE_NUMBERS) as NavTable[]).find((candidate) => String(TABLE_NUMBERS[candidate]) === tableNumber);
  if (table === undefined || noParts.length !== 1) return undefined;
  return { table, no: noParts[0]!, timestamp: Number(rest[2]) };
}
