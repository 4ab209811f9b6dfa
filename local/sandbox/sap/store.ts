/**
 * Where the SAP sandbox keeps its state: node:sqlite (WAL, locked to this process, see
 * HubDatabase) with one row per entity (entity set, key, JSON), number ranges as
 * counters, and the OAuth access tokens it issued (by hash, with their expiry). Every
 * write request commits before it is answered, so a sandbox killed at any moment
 * restarts with every answered write. Security sessions (CSRF tokens) are not stored:
 * like SAP's, they end when the server does.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entities (
  entity_set TEXT NOT NULL,
  key TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (entity_set, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS access_tokens (
  token_hash TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** A stored entity: its properties by name, as the sandbox keeps them (strings, numbers, booleans, epoch ms). */
export type Row = Record<string, string | number | boolean | null>;

/** The sandbox's database. */
export class SapStore {
  readonly #database: HubDatabase;

  /** @param dataDirectory folder of `sap.sqlite`; undefined keeps everything in memory */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'sap.sqlite', synchronous: 'NORMAL', schema: SCHEMA, schemaVersion: 1 });
  }

  /** True before anything is stored (the sandbox then seeds itself). */
  isEmpty(): boolean {
    return this.#database.statement('SELECT 1 AS found FROM entities LIMIT 1').get() === undefined;
  }

  /** Every entity of a set. */
  all(set: string): Row[] {
    return this.#database
      .statement('SELECT data FROM entities WHERE entity_set = ?')
      .all(set)
      .map((row) => JSON.parse(String(row.data)) as Row);
  }

  /** One entity by its key (see `keyOf`). */
  get(set: string, key: string): Row | undefined {
    const row = this.#database.statement('SELECT data FROM entities WHERE entity_set = ? AND key = ?').get(set, key);
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as Row);
  }

  /** Inserts or replaces an entity. */
  put(set: string, key: string, entity: Row): void {
    this.#database
      .statement('INSERT INTO entities (entity_set, key, data) VALUES (?, ?, ?) ON CONFLICT (entity_set, key) DO UPDATE SET data = excluded.data')
      .run(set, key, JSON.stringify(entity));
  }

  /** Increments a number range and returns its new value (`start` the first time). */
  next(name: string, start: number): number {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    const value = row === undefined ? start : Number(row.value) + 1;
    this.#database.statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
    return value;
  }

  /** Remembers an issued access token (by its hash) until `expiresAt` (epoch ms). */
  saveToken(tokenHash: string, expiresAt: number): void {
    this.#database.statement('INSERT INTO access_tokens (token_hash, expires_at) VALUES (?, ?)').run(tokenHash, expiresAt);
  }

  /** When the token expires, or undefined for a token the sandbox never issued. */
  tokenExpiry(tokenHash: string): number | undefined {
    const row = this.#database.statement('SELECT expires_at FROM access_tokens WHERE token_hash = ?').get(tokenHash);
    return row === undefined ? undefined : Number(row.expires_at);
  }

  /** Expires every access token issued so far. */
  expireTokens(): void {
    this.#database.statement('UPDATE access_tokens SET expires_at = 0').run();
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
