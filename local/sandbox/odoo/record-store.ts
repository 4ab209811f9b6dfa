/**
 * Where the Odoo sandbox keeps its rows: one node:sqlite row per record (model,
 * id, JSON), counters (next ids, sequences) as rows of their own, and equality
 * indexes built the first time a search asks for one and kept up to date by every
 * commit. A call commits only the rows it changed, in one transaction, so its cost
 * follows the rows it touches, not the size of the database.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';
import type { StoredRecord, StoredValue } from './database.ts';

/**
 * How an index keys a value: `exact` as `=`, `in` and `=like` without wildcards
 * compare, `folded` as `=ilike` without wildcards compares ASCII text.
 */
export type IndexKind = 'exact' | 'folded';

/** One row a call changed: what was committed before (JSON, absent for a new row) and what it is now (absent when deleted). */
export interface RowChange {
  readonly model: string;
  readonly id: number;
  readonly before: string | undefined;
  readonly after: StoredRecord | undefined;
}

/** What the store has written since it opened; lets tests see that a call writes only its rows. */
export interface StoreStatistics {
  /** Rows inserted, replaced or deleted (records, index entries, counters). */
  readonly rowsWritten: number;
  /** Calls that committed a change. */
  readonly commits: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  model TEXT NOT NULL,
  id INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (model, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS indexes (
  model TEXT NOT NULL,
  field TEXT NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (model, field, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_entries (
  model TEXT NOT NULL,
  field TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY (model, field, kind, key, id)
) WITHOUT ROWID;
`;

/** The key under which an index files a stored value; undefined for values it does not index (unset, booleans, lists). */
export function indexKey(kind: IndexKind, value: StoredValue | undefined): string | undefined {
  if (kind === 'folded') return typeof value === 'string' ? foldAscii(value) : undefined;
  if (typeof value === 'string') return `s${value}`;
  if (typeof value === 'number' && Number.isFinite(value)) return `n${value}`;
  return undefined;
}

/**
 * Lower-cases ASCII letters, and the two non-ASCII letters that match an ASCII one
 * case-insensitively (KELVIN SIGN, LONG S); an ASCII pattern matches a value under
 * `=ilike` only if their folds are equal.
 */
function foldAscii(text: string): string {
  return text.replace(/[A-Z\u212A\u017F]/g, (character) => (character === '\u212A' ? 'k' : character === '\u017F' ? 's' : character.toLowerCase()));
}

/** The sandbox's node:sqlite database of records, counters and indexes. */
export class OdooRecordStore {
  readonly #database: HubDatabase;
  /** Indexed (field, kind) pairs per model. */
  readonly #indexes = new Map<string, { field: string; kind: IndexKind }[]>();
  #rowsWritten = 0;
  #commits = 0;

  /** @param dataDirectory folder of `odoo-sandbox.sqlite`; undefined keeps everything in memory */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({
      dataDirectory,
      fileName: 'odoo-sandbox.sqlite',
      synchronous: 'NORMAL',
      schema: SCHEMA,
      schemaVersion: 1,
    });
    for (const row of this.#database.statement('SELECT model, field, kind FROM indexes').all()) {
      this.#indexesOf(String(row.model)).push({ field: String(row.field), kind: row.kind as IndexKind });
    }
  }

  /** True before the first record is stored (the sandbox then seeds itself). */
  isEmpty(): boolean {
    return this.#database.statement('SELECT 1 AS found FROM records LIMIT 1').get() === undefined;
  }

  /** A record's committed JSON, or undefined. */
  load(model: string, id: number): string | undefined {
    const row = this.#database.statement('SELECT data FROM records WHERE model = ? AND id = ?').get(model, id);
    return row === undefined ? undefined : String(row.data);
  }

  /** Every committed record of a model, in id order. */
  scan(model: string): { readonly id: number; readonly data: string }[] {
    return this.#database
      .statement('SELECT id, data FROM records WHERE model = ? ORDER BY id')
      .all(model)
      .map((row) => ({ id: Number(row.id), data: String(row.data) }));
  }

  /** A committed counter, or undefined when never set. */
  counter(name: string): number | undefined {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    return row === undefined ? undefined : Number(row.value);
  }

  /** Ids of committed records whose `field` files under one of `keys`; builds the index on first use. */
  lookup(model: string, field: string, kind: IndexKind, keys: readonly string[]): number[] {
    this.#ensureIndex(model, field, kind);
    const statement = this.#database.statement('SELECT id FROM index_entries WHERE model = ? AND field = ? AND kind = ? AND key = ?');
    const ids: number[] = [];
    for (const key of new Set(keys)) {
      for (const row of statement.all(model, field, kind, key)) ids.push(Number(row.id));
    }
    return ids;
  }

  /** Writes one call's changed rows and counters in one transaction, keeping the indexes in step. */
  commit(rows: readonly RowChange[], counters: ReadonlyMap<string, number>): void {
    const changed = rows
      .map((change) => ({ ...change, data: change.after === undefined ? undefined : JSON.stringify(change.after) }))
      .filter((change) => change.data !== change.before);
    if (changed.length === 0 && counters.size === 0) return;
    const statement = (sql: string) => this.#database.statement(sql);
    this.#database.transaction(() => {
      let written = 0;
      for (const change of changed) {
        if (change.data === undefined) {
          written += Number(statement('DELETE FROM records WHERE model = ? AND id = ?').run(change.model, change.id).changes);
        } else {
          written += Number(
            statement('INSERT INTO records (model, id, data) VALUES (?, ?, ?) ON CONFLICT (model, id) DO UPDATE SET data = excluded.data')
              .run(change.model, change.id, change.data).changes,
          );
        }
        written += this.#reindex(change.model, change.id, change.before, change.after);
      }
      for (const [name, value] of counters) {
        written += Number(
          statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value).changes,
        );
      }
      this.#rowsWritten += written;
      this.#commits += 1;
    });
  }

  /** Rows written and commits since the store opened. */
  statistics(): StoreStatistics {
    return { rowsWritten: this.#rowsWritten, commits: this.#commits };
  }

  /** Closes the database; idempotent. */
  close(): void {
    this.#database.close();
  }

  #indexesOf(model: string): { field: string; kind: IndexKind }[] {
    let list = this.#indexes.get(model);
    if (list === undefined) {
      list = [];
      this.#indexes.set(model, list);
    }
    return list;
  }

  #ensureIndex(model: string, field: string, kind: IndexKind): void {
    const list = this.#indexesOf(model);
    if (list.some((index) => index.field === field && index.kind === kind)) return;
    this.#database.transaction(() => {
      this.#database.statement('INSERT INTO indexes (model, field, kind) VALUES (?, ?, ?)').run(model, field, kind);
      const insert = this.#database.statement('INSERT INTO index_entries (model, field, kind, key, id) VALUES (?, ?, ?, ?, ?)');
      for (const row of this.scan(model)) {
        const key = indexKey(kind, (JSON.parse(row.data) as StoredRecord)[field]);
        if (key !== undefined) insert.run(model, field, kind, key, row.id);
      }
    });
    list.push({ field, kind });
  }

  #reindex(model: string, id: number, before: string | undefined, after: StoredRecord | undefined): number {
    const indexes = this.#indexes.get(model);
    if (indexes === undefined || indexes.length === 0) return 0;
    const previous = before === undefined ? undefined : (JSON.parse(before) as StoredRecord);
    const remove = this.#database.statement('DELETE FROM index_entries WHERE model = ? AND field = ? AND kind = ? AND key = ? AND id = ?');
    const insert = this.#database.statement('INSERT OR IGNORE INTO index_entries (model, field, kind, key, id) VALUES (?, ?, ?, ?, ?)');
    let written = 0;
    for (const { field, kind } of indexes) {
      const oldKey = previous === undefined ? undefined : indexKey(kind, previous[field]);
      const newKey = after === undefined ? undefined : indexKey(kind, after[field]);
      if (oldKey === newKey) continue;
      if (oldKey !== undefined) written += Number(remove.run(model, field, kind, oldKey, id).changes);
      if (newKey !== undefined) written += Number(insert.run(model, field, kind, newKey, id).changes);
    }
    return written;
  }
}
