/**
 * Where the Business Central sandbox keeps its state: node:sqlite (WAL, locked to this
 * process, see HubDatabase) with one row per entity (entity set, GUID, JSON), number
 * series and the row-version counter as counters, and settings (the token signing key,
 * the token generation) as text. Every write request commits before it is answered, so
 * a sandbox killed at any moment restarts with every answered write.
 */
import { randomBytes } from 'node:crypto';
import { HubDatabase } from '../../sqlite/hub-database.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entities (
  entity_set TEXT NOT NULL,
  id TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (entity_set, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** The entity sets the sandbox stores. */
export type EntitySet = 'customers' | 'items' | 'currencies' | 'salesOrders' | 'salesInvoices';

/** The sandbox's database. */
export class BusinessCentralStore {
  readonly #database: HubDatabase;

  /** @param dataDirectory folder of `business-central.sqlite`; undefined keeps everything in memory */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({
      dataDirectory,
      fileName: 'business-central.sqlite',
      synchronous: 'NORMAL',
      schema: SCHEMA,
      schemaVersion: 1,
    });
  }

  /** True before anything is stored (the sandbox then seeds itself). */
  isEmpty(): boolean {
    return this.#database.statement('SELECT 1 AS found FROM entities LIMIT 1').get() === undefined;
  }

  /** Every entity of a set, in no particular order (the API sorts by number, as BC lists by primary key). */
  all<Entity>(set: EntitySet): Entity[] {
    return this.#database
      .statement('SELECT data FROM entities WHERE entity_set = ?')
      .all(set)
      .map((row) => JSON.parse(String(row.data)) as Entity);
  }

  /** One entity by id (GUIDs compare case-insensitively, as BC's do). */
  get<Entity>(set: EntitySet, id: string): Entity | undefined {
    const row = this.#database.statement('SELECT data FROM entities WHERE entity_set = ? AND id = ?').get(set, id.toLowerCase());
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as Entity);
  }

  /** Inserts or replaces an entity. */
  put(set: EntitySet, id: string, entity: unknown): void {
    this.#database
      .statement('INSERT INTO entities (entity_set, id, data) VALUES (?, ?, ?) ON CONFLICT (entity_set, id) DO UPDATE SET data = excluded.data')
      .run(set, id.toLowerCase(), JSON.stringify(entity));
  }

  /** Deletes an entity; false when there was none. */
  delete(set: EntitySet, id: string): boolean {
    return Number(this.#database.statement('DELETE FROM entities WHERE entity_set = ? AND id = ?').run(set, id.toLowerCase()).changes) > 0;
  }

  /** Increments a counter and returns its new value (starting from `start` the first time). */
  next(name: string, start: number): number {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    const value = row === undefined ? start : Number(row.value) + 1;
    this.#database.statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
    return value;
  }

  /** A counter's value, or `fallback` when never set. */
  counter(name: string, fallback: number): number {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    return row === undefined ? fallback : Number(row.value);
  }

  /** The key that signs access tokens: made once, kept across restarts so issued tokens stay valid. */
  signingKey(): Buffer {
    const row = this.#database.statement('SELECT value FROM settings WHERE name = ?').get('signing-key');
    if (row !== undefined) return Buffer.from(String(row.value), 'base64');
    const key = randomBytes(32);
    this.#database.statement('INSERT INTO settings (name, value) VALUES (?, ?)').run('signing-key', key.toString('base64'));
    return key;
  }

  /** Runs `work` in one write transaction. */
  transaction<Result>(work: () => Result): Result {
    return this.#database.transaction(work);
  }

  /** Closes the database (and releases its lock); idempotent. */
  close(): void {
    this.#database.close();
  }
}
