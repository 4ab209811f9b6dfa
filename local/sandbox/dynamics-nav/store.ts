/**
 * Where the Dynamics NAV sandbox keeps its customers and sales orders: one node:sqlite
 * row per record (table, number, timestamp, JSON fields) and the number series, in
 * `<dataDir>/dynamics-nav.sqlite` (WAL, locked to this process). Every write takes a
 * new timestamp from one counter, like SQL Server's rowversion behind NAV, so a record's
 * Key changes with every write.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';

/** The sandbox's two record tables. */
export type NavTable = 'Customer' | 'Sales Header';

/** A stored record. */
export interface NavRecord {
  readonly table: NavTable;
  readonly no: string;
  /** Changes with every write; part of the record's Key. */
  readonly timestamp: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  tbl TEXT NOT NULL,
  no TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (tbl, no)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Number series: prefix, first number, increment and digits (NAV's No. Series lines). */
const SERIES: Readonly<Record<NavTable, { prefix: string; first: number; step: number; digits: number }>> = {
  Customer: { prefix: 'C', first: 10, step: 10, digits: 5 },
  'Sales Header': { prefix: 'SO-', first: 1001, step: 1, digits: 4 },
};

/** The sandbox's node:sqlite database. */
export class NavStore {
  readonly #database: HubDatabase;

  /** @param dataDirectory folder of `dynamics-nav.sqlite`; undefined keeps everything in memory */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'dynamics-nav.sqlite', synchronous: 'NORMAL', schema: SCHEMA, schemaVersion: 1 });
  }

  /** One record, or undefined. */
  get(table: NavTable, no: string): NavRecord | undefined {
    const row = this.#database.statement('SELECT timestamp, data FROM records WHERE tbl = ? AND no = ?').get(table, no);
    return row === undefined ? undefined : { table, no, timestamp: Number(row.timestamp), fields: JSON.parse(String(row.data)) as Record<string, unknown> };
  }

  /** Every record of a table in primary-key order. */
  scan(table: NavTable): NavRecord[] {
    return this.#database
      .statement('SELECT no, timestamp, data FROM records WHERE tbl = ? ORDER BY no')
      .all(table)
      .map((row) => ({ table, no: String(row.no), timestamp: Number(row.timestamp), fields: JSON.parse(String(row.data)) as Record<string, unknown> }));
  }

  /** Inserts or replaces a record under a new timestamp, committed before it returns. */
  put(table: NavTable, no: string, fields: Readonly<Record<string, unknown>>): NavRecord {
    return this.#database.transaction(() => {
      const timestamp = this.#next('timestamp', 1, 1);
      this.#database
        .statement('INSERT INTO records (tbl, no, timestamp, data) VALUES (?, ?, ?, ?) ON CONFLICT (tbl, no) DO UPDATE SET timestamp = excluded.timestamp, data = excluded.data')
        .run(table, no, timestamp, JSON.stringify(fields));
      return { table, no, timestamp, fields };
    });
  }

  /** Deletes a record; false when there was none. */
  delete(table: NavTable, no: string): boolean {
    return this.#database.transaction(() => Number(this.#database.statement('DELETE FROM records WHERE tbl = ? AND no = ?').run(table, no).changes) > 0);
  }

  /** The table's next number from its series (`C00010`, `SO-1001`), committed. */
  nextNumber(table: NavTable): string {
    const series = SERIES[table];
    return this.#format(table, this.#database.transaction(() => this.#next(`series:${table}`, series.first, series.step)));
  }

  /** The number `nextNumber` would give now, without taking it (for messages about a record not yet inserted). */
  peekNumber(table: NavTable): string {
    const series = SERIES[table];
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(`series:${table}`);
    return this.#format(table, row === undefined ? series.first : Number(row.value) + series.step);
  }

  /** Closes the database; idempotent. */
  close(): void {
    this.#database.close();
  }

  #format(table: NavTable, value: number): string {
    const series = SERIES[table];
    return `${series.prefix}${String(value).padStart(series.digits, '0')}`;
  }

  #next(name: string, first: number, step: number): number {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    const value = row === undefined ? first : Number(row.value) + step;
    this.#database.statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
    return value;
  }
}
