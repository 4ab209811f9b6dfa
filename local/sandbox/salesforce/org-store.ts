/**
 * What the Salesforce sandbox keeps across restarts, in node:sqlite (WAL): one row per record
 * (its fields as JSON), an index row per indexed field value (reference fields, Product Code)
 * so a SOQL equality costs what it returns rather than the size of the org, id counters per
 * key prefix, the access tokens it issued, and the query locators of unfinished SOQL results.
 * A request that writes runs in one transaction: wholly stored before it is answered, or not at all.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';
import { idSuffix } from '../../../functions/connectors/crm/salesforce/record-id.ts';

/** A field value as the REST API carries it. */
export type FieldValue = string | number | boolean | null;

/** A stored record: every field of its sObject, `Id` first. */
export type StoredRecord = Readonly<Record<string, FieldValue>> & { readonly Id: string };

/** One issued access token. */
export interface IssuedToken {
  readonly token: string;
  readonly userId: string;
  readonly expired: boolean;
}

/** An unfinished SOQL result: the ids still to return and how the rows are built. */
export interface QueryCursor {
  readonly plan: string;
  readonly ids: readonly string[];
  readonly batchSize: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  id TEXT PRIMARY KEY,
  sobject TEXT NOT NULL,
  data TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_sobject ON records (sobject, id);
CREATE TABLE IF NOT EXISTS lookups (
  sobject TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (sobject, field, value, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lookups_by_id ON lookups (id);
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expired INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cursors (
  locator TEXT PRIMARY KEY,
  cursor TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `value` in base 62, left-padded with zeros to `width` characters. */
function base62(value: number, width: number): string {
  let text = '';
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) text = BASE62.charAt(rest % 62) + text;
  return text.padStart(width, '0');
}

/** The value an index row holds: ids and text compare without regard to case in SOQL. */
function indexValue(value: FieldValue): string {
  return String(value).toLowerCase();
}

/** The sandbox org's durable store. */
export class OrgStore {
  readonly #database: HubDatabase;
  readonly #indexedFields: (sobject: string) => readonly string[];

  /**
   * Opens `<dataDirectory>/salesforce.sqlite` (in memory when undefined).
   * @param indexedFields the fields of each sObject that get index rows
   */
  constructor(dataDirectory: string | undefined, indexedFields: (sobject: string) => readonly string[]) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'salesforce.sqlite', synchronous: 'NORMAL', schema: SCHEMA, schemaVersion: 1 });
    this.#indexedFields = indexedFields;
  }

  /** True until something was stored: the org still needs its seed. */
  isEmpty(): boolean {
    return this.#database.statement('SELECT 1 AS found FROM counters LIMIT 1').get() === undefined;
  }

  /** Runs `work` in one transaction (or inside the one under way). */
  transaction<Result>(work: () => Result): Result {
    return this.#database.db.isTransaction ? work() : this.#database.transaction(work);
  }

  /** A new 18-character id with the object's key prefix; ids are never reused, also after a restart. */
  allocateId(keyPrefix: string): string {
    const name = `id:${keyPrefix}`;
    const next = this.#counter(name) + 1;
    this.#setCounter(name, next);
    // Prefix, a two-character pod id, a reserved 0, then the record's number: Salesforce's layout.
    const id15 = `${keyPrefix}Dn0${base62(next, 9)}`;
    return `${id15}${idSuffix(id15)}`;
  }

  /** One record by its 18-character id, with its sObject name. */
  find(id: string): { readonly sobject: string; readonly record: StoredRecord } | undefined {
    const row = this.#database.statement('SELECT sobject, data FROM records WHERE id = ?').get(id);
    return row === undefined ? undefined : { sobject: String(row.sobject), record: JSON.parse(String(row.data)) as StoredRecord };
  }

  /** Stores a record (new or changed) and its index rows. */
  put(sobject: string, record: StoredRecord): void {
    this.#database.statement('INSERT INTO records (id, sobject, data) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data').run(record.Id, sobject, JSON.stringify(record));
    this.#database.statement('DELETE FROM lookups WHERE id = ?').run(record.Id);
    for (const field of this.#indexedFields(sobject)) {
      const value = record[field];
      if (value === null || value === undefined) continue;
      this.#database.statement('INSERT OR IGNORE INTO lookups (sobject, field, value, id) VALUES (?, ?, ?, ?)').run(sobject, field, indexValue(value), record.Id);
    }
  }

  /** Records of `sobject` whose indexed `field` equals `value` (case-insensitively), in id order. */
  findBy(sobject: string, field: string, value: FieldValue): StoredRecord[] {
    return this.#database
      .statement('SELECT r.data FROM lookups l JOIN records r ON r.id = l.id WHERE l.sobject = ? AND l.field = ? AND l.value = ? ORDER BY l.id')
      .all(sobject, field, indexValue(value))
      .map((row) => JSON.parse(String(row.data)) as StoredRecord);
  }

  /** Every record of `sobject`, in id order (SOQL without an indexed condition). */
  all(sobject: string): StoredRecord[] {
    return this.#database
      .statement('SELECT data FROM records WHERE sobject = ? ORDER BY id')
      .all(sobject)
      .map((row) => JSON.parse(String(row.data)) as StoredRecord);
  }

  /** Records an access token for `userId`. */
  saveToken(token: string, userId: string, issuedAt: number): void {
    this.#database.statement('INSERT INTO tokens (token, user_id, issued_at, expired) VALUES (?, ?, ?, 0)').run(token, userId, issuedAt);
  }

  /** The token as issued, or undefined when the sandbox never issued it. */
  findToken(token: string): IssuedToken | undefined {
    const row = this.#database.statement('SELECT user_id, expired FROM tokens WHERE token = ?').get(token);
    return row === undefined ? undefined : { token, userId: String(row.user_id), expired: Number(row.expired) === 1 };
  }

  /** Ends every session; returns how many tokens were still valid. */
  expireTokens(): number {
    return Number(this.#database.statement('UPDATE tokens SET expired = 1 WHERE expired = 0').run().changes);
  }

  /** Keeps an unfinished result; returns its locator (`01g…`, 18 characters). */
  saveCursor(cursor: QueryCursor, now: number): string {
    const locator = this.allocateId('01g');
    this.#database.statement('INSERT INTO cursors (locator, cursor, created_at) VALUES (?, ?, ?)').run(locator, JSON.stringify(cursor), now);
    return locator;
  }

  /** An unfinished result by its locator. */
  findCursor(locator: string): QueryCursor | undefined {
    const row = this.#database.statement('SELECT cursor FROM cursors WHERE locator = ?').get(locator);
    return row === undefined ? undefined : (JSON.parse(String(row.cursor)) as QueryCursor);
  }

  /** Closes the database; idempotent. */
  close(): void {
    this.#database.close();
  }

  #counter(name: string): number {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    return row === undefined ? 0 : Number(row.value);
  }

  #setCounter(name: string, value: number): void {
    this.#database.statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }
}
