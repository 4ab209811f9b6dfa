/**
 * Everything the NetSuite sandbox keeps across restarts, in node:sqlite (WAL): one row per
 * record (type, internal id, the external id folded to lower case — NetSuite compares
 * external ids case-insensitively and keeps them unique per record type — and the record as
 * JSON), counters (next ids, the `SO1001` sequence), issued access tokens, TBA nonces seen,
 * asynchronous jobs with their idempotency keys, and the sandbox's own generated settings.
 * Each write request commits in one transaction before it is answered.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';

/** A record as the sandbox keeps it: its own field names, `id` numeric. */
export type StoredRecord = { readonly id: number; readonly externalId?: string } & Readonly<Record<string, unknown>>;

/** One asynchronous job (`Prefer: respond-async`). */
export interface StoredJob {
  readonly id: number;
  readonly idempotencyKey: string | undefined;
  /** The request it runs, as the dispatcher takes it. */
  readonly request: unknown;
  readonly state: 'pending' | 'succeeded' | 'failed';
  /** The answer the request got when it ran. */
  readonly result: unknown;
  readonly submittedAt: number;
  readonly finishedAt: number | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  type TEXT NOT NULL,
  id INTEGER NOT NULL,
  external_key TEXT,
  data TEXT NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS records_by_external_id ON records (type, external_key) WHERE external_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS access_tokens (
  token TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nonces (
  token_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (token_id, nonce)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  request TEXT NOT NULL,
  state TEXT NOT NULL,
  result TEXT,
  submitted_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** The sandbox account's durable store. */
export class NetsuiteStore {
  readonly #database: HubDatabase;

  /** Opens `<dataDirectory>/netsuite.sqlite`; undefined keeps everything in memory. */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'netsuite.sqlite', synchronous: 'NORMAL', schema: SCHEMA, schemaVersion: 1 });
  }

  /** True before anything was stored (the sandbox then seeds itself). */
  isEmpty(): boolean {
    return this.#database.statement('SELECT 1 AS found FROM records LIMIT 1').get() === undefined;
  }

  /** Runs `work` in one transaction (joins an open one). */
  transaction<Result>(work: () => Result): Result {
    return this.#database.db.isTransaction ? work() : this.#database.transaction(work);
  }

  /** A record by internal id. */
  find(type: string, id: number): StoredRecord | undefined {
    const row = this.#database.statement('SELECT data FROM records WHERE type = ? AND id = ?').get(type, id);
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as StoredRecord);
  }

  /** A record by external id, compared case-insensitively. */
  findByExternalId(type: string, externalId: string): StoredRecord | undefined {
    const row = this.#database.statement('SELECT data FROM records WHERE type = ? AND external_key = ?').get(type, externalId.toLowerCase());
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as StoredRecord);
  }

  /** Every record of a type, in id order. */
  all(type: string): StoredRecord[] {
    return this.#database
      .statement('SELECT data FROM records WHERE type = ? ORDER BY id')
      .all(type)
      .map((row) => JSON.parse(String(row.data)) as StoredRecord);
  }

  /** Stores a record, new or changed. The caller has checked that its external id is free. */
  put(type: string, record: StoredRecord): void {
    this.#database
      .statement('INSERT INTO records (type, id, external_key, data) VALUES (?, ?, ?, ?) ON CONFLICT (type, id) DO UPDATE SET external_key = excluded.external_key, data = excluded.data')
      .run(type, record.id, record.externalId === undefined ? null : record.externalId.toLowerCase(), JSON.stringify(record));
  }

  /** The next value of a counter, starting at `first`. */
  next(name: string, first: number): number {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    const value = row === undefined ? first : Number(row.value);
    this.#database.statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value + 1);
    return value;
  }

  /** Remembers an issued access token until `expiresAt` (epoch ms); forgets long-expired ones. */
  issueToken(token: string, expiresAt: number, now: number): void {
    this.#database.statement('DELETE FROM access_tokens WHERE expires_at < ?').run(now - 3_600_000);
    this.#database.statement('INSERT INTO access_tokens (token, expires_at) VALUES (?, ?)').run(token, expiresAt);
  }

  /** Whether `token` was issued and has not expired at `now`. */
  tokenValid(token: string, now: number): boolean {
    const row = this.#database.statement('SELECT expires_at FROM access_tokens WHERE token = ?').get(token);
    return row !== undefined && Number(row.expires_at) > now;
  }

  /** Makes every issued token expired (`POST /__sandbox/expire-tokens`). */
  expireTokens(): number {
    return Number(this.#database.statement('UPDATE access_tokens SET expires_at = 0').run().changes);
  }

  /** Records a TBA nonce; false when the token already used it. Nonces older than `keepMs` are forgotten. */
  useNonce(tokenId: string, nonce: string, now: number, keepMs: number): boolean {
    this.#database.statement('DELETE FROM nonces WHERE seen_at < ?').run(now - keepMs);
    const result = this.#database.statement('INSERT OR IGNORE INTO nonces (token_id, nonce, seen_at) VALUES (?, ?, ?)').run(tokenId, nonce, now);
    return Number(result.changes) === 1;
  }

  /** The job holding an idempotency key, if any. */
  jobByKey(key: string): StoredJob | undefined {
    const row = this.#database.statement('SELECT * FROM jobs WHERE idempotency_key = ?').get(key);
    return row === undefined ? undefined : toJob(row);
  }

  /** A job by id. */
  job(id: number): StoredJob | undefined {
    const row = this.#database.statement('SELECT * FROM jobs WHERE id = ?').get(id);
    return row === undefined ? undefined : toJob(row);
  }

  /** Every job, oldest first. */
  jobs(): StoredJob[] {
    return this.#database.statement('SELECT * FROM jobs ORDER BY id').all().map(toJob);
  }

  /** Stores a new pending job and returns its id. */
  addJob(idempotencyKey: string | undefined, request: unknown, now: number): number {
    const id = this.next('job', 1);
    this.#database
      .statement("INSERT INTO jobs (id, idempotency_key, request, state, submitted_at) VALUES (?, ?, ?, 'pending', ?)")
      .run(id, idempotencyKey ?? null, JSON.stringify(request), now);
    return id;
  }

  /** Records how a job ended. */
  finishJob(id: number, state: 'succeeded' | 'failed', result: unknown, now: number): void {
    this.#database.statement('UPDATE jobs SET state = ?, result = ?, finished_at = ? WHERE id = ?').run(state, JSON.stringify(result), now, id);
  }

  /** A setting the sandbox generated for itself (its signing key pair…). */
  setting(name: string): string | undefined {
    const row = this.#database.statement('SELECT value FROM settings WHERE name = ?').get(name);
    return row === undefined ? undefined : String(row.value);
  }

  /** Stores a generated setting. */
  setSetting(name: string, value: string): void {
    this.#database.statement('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }

  /** Closes the database; idempotent. */
  close(): void {
    this.#database.close();
  }
}

function toJob(row: Record<string, unknown>): StoredJob {
  return {
    id: Number(row.id),
    idempotencyKey: row.idempotency_key === null ? undefined : String(row.idempotency_key),
    request: JSON.parse(String(row.request)),
    state: row.state as StoredJob['state'],
    result: row.result === null ? undefined : JSON.parse(String(row.result)),
    submittedAt: Number(row.submitted_at),
    finishedAt: row.finished_at === null ? undefined : Number(row.finished_at),
  };
}
