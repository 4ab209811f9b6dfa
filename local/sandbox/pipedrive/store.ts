/**
 * Everything the Pipedrive sandbox keeps across restarts, in node:sqlite (WAL): one row per
 * record (deals, deal products, products, persons, organizations, fields) as its API v2/v1
 * JSON, id counters per type, issued OAuth access tokens with their expiry, the webhook
 * outbox (indexed by when each delivery is due) and the delivery log. A write request
 * commits its records and webhook events in one transaction before it is answered.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';

/** The record types the sandbox stores. */
export type RecordType = 'deal' | 'deal_product' | 'product' | 'person' | 'organization' | 'deal_field' | 'organization_field';

/** One webhook delivery waiting to go out (or to go out again). */
export interface OutboxEntry {
  readonly seq: number;
  /** The delivery body without `meta.attempt`, which each attempt sets. */
  readonly body: WebhookBody;
  /** Failed attempts so far. */
  readonly attempts: number;
}

/** A webhooks v2 body as the sandbox builds it. */
export interface WebhookBody {
  readonly meta: Readonly<Record<string, unknown>> & { readonly id: string };
  readonly data: unknown;
  readonly previous: unknown;
}

/** One delivery attempt, as `GET /__sandbox/webhook-deliveries` lists it. */
export interface DeliveryLogEntry {
  readonly seq: number;
  readonly at: string;
  readonly url: string;
  /** `meta.id` of the event. */
  readonly eventId: string;
  readonly attempt: number;
  /** `delivered` (2xx), `retrying` (failed, will be retried) or `abandoned` (failed, no retries left). */
  readonly outcome: 'delivered' | 'retrying' | 'abandoned';
  readonly status?: number;
  readonly error?: string;
  readonly body: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  type TEXT NOT NULL,
  id INTEGER NOT NULL,
  parent INTEGER,
  data TEXT NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_parent ON records (type, parent, id);
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS access_tokens (
  token TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_due ON outbox (next_attempt_at, seq);
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry TEXT NOT NULL
);
`;

/** The sandbox company's durable store. */
export class PipedriveStore {
  readonly #database: HubDatabase;

  /** Opens `<dataDirectory>/pipedrive.sqlite`; undefined keeps everything in memory. */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'pipedrive.sqlite', synchronous: 'NORMAL', schema: SCHEMA, schemaVersion: 1 });
  }

  /** Runs `work` in one transaction: all of its writes are stored before this returns, or none. */
  transaction<Result>(work: () => Result): Result {
    return this.#database.db.isTransaction ? work() : this.#database.transaction(work);
  }

  /** True once the seed has been written. */
  seeded(): boolean {
    return this.counter('seeded') !== undefined;
  }

  /** One record, or undefined. */
  get<Record_>(type: RecordType, id: number): Record_ | undefined {
    const row = this.#statement('SELECT data FROM records WHERE type = ? AND id = ?').get(type, id);
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as Record_);
  }

  /** Up to `limit` records of `type` with an id above `after` (and the given parent), in id order. */
  list<Record_>(type: RecordType, after: number, limit: number, parent?: number): Record_[] {
    const rows = parent === undefined
      ? this.#statement('SELECT data FROM records WHERE type = ? AND id > ? ORDER BY id LIMIT ?').all(type, after, limit)
      : this.#statement('SELECT data FROM records WHERE type = ? AND parent = ? AND id > ? ORDER BY id LIMIT ?').all(type, parent, after, limit);
    return rows.map((row) => JSON.parse(String(row.data)) as Record_);
  }

  /** Stores a record (new or changed). */
  put<Record_ extends { readonly id: number }>(type: RecordType, record: Record_, parent?: number): void {
    this.#statement('INSERT INTO records (type, id, parent, data) VALUES (?, ?, ?, ?) ON CONFLICT (type, id) DO UPDATE SET data = excluded.data, parent = excluded.parent')
      .run(type, record.id, parent ?? null, JSON.stringify(record));
  }

  /** The next id of `type`: ids are per type, as in Pipedrive. */
  nextId(type: RecordType): number {
    const id = (this.counter(`next_${type}`) ?? 1);
    this.setCounter(`next_${type}`, id + 1);
    return id;
  }

  /** A named number, e.g. a counter. */
  counter(name: string): number | undefined {
    const row = this.#statement('SELECT value FROM counters WHERE name = ?').get(name);
    return row === undefined ? undefined : Number(row.value);
  }

  setCounter(name: string, value: number): void {
    this.#statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }

  /** Remembers an issued access token. */
  issueToken(token: string, expiresAt: number): void {
    this.#statement('INSERT INTO access_tokens (token, expires_at) VALUES (?, ?)').run(token, expiresAt);
  }

  /** True when `token` was issued and has not expired at `now`. */
  tokenValid(token: string, now: number): boolean {
    const row = this.#statement('SELECT expires_at FROM access_tokens WHERE token = ?').get(token);
    return row !== undefined && Number(row.expires_at) > now;
  }

  /** Expires every issued token; answers how many were still valid. */
  expireTokens(now: number): number {
    return Number(this.#statement('UPDATE access_tokens SET expires_at = 0 WHERE expires_at > ?').run(now).changes);
  }

  /** Queues a delivery, due at `at`. */
  enqueue(body: WebhookBody, at: number): void {
    this.#statement('INSERT INTO outbox (body, attempts, next_attempt_at) VALUES (?, 0, ?)').run(JSON.stringify(body), at);
  }

  /** The delivery due longest at `now`, if any. */
  due(now: number): OutboxEntry | undefined {
    const row = this.#statement('SELECT seq, body, attempts FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT 1').get(now);
    return row === undefined ? undefined : { seq: Number(row.seq), body: JSON.parse(String(row.body)) as WebhookBody, attempts: Number(row.attempts) };
  }

  /** When the next delivery is due; undefined when the outbox is empty. */
  nextDueAt(): number | undefined {
    const row = this.#statement('SELECT MIN(next_attempt_at) AS due FROM outbox').get();
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  /** Deliveries not yet made (waiting or being retried). */
  pending(): number {
    return Number(this.#statement('SELECT COUNT(*) AS pending FROM outbox').get()?.pending ?? 0);
  }

  /** A delivery succeeded or was given up: it leaves the outbox. */
  settle(seq: number): void {
    this.#statement('DELETE FROM outbox WHERE seq = ?').run(seq);
  }

  /** A delivery failed and is retried at `at`. */
  reschedule(seq: number, attempts: number, at: number): void {
    this.#statement('UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE seq = ?').run(attempts, at, seq);
  }

  /** Appends an attempt to the delivery log, keeping the newest `limit`. */
  logDelivery(entry: Omit<DeliveryLogEntry, 'seq'>, limit: number): void {
    const seq = Number(this.#statement('INSERT INTO deliveries (entry) VALUES (?)').run(JSON.stringify(entry)).lastInsertRowid);
    if (seq > limit) this.#statement('DELETE FROM deliveries WHERE seq <= ?').run(seq - limit);
  }

  /** The newest `limit` delivery attempts, oldest first. */
  deliveries(limit: number): DeliveryLogEntry[] {
    return this.#statement('SELECT seq, entry FROM deliveries ORDER BY seq DESC LIMIT ?')
      .all(limit)
      .map((row) => ({ seq: Number(row.seq), ...(JSON.parse(String(row.entry)) as Omit<DeliveryLogEntry, 'seq'>) }))
      .reverse();
  }

  /** Closes the database; idempotent. */
  close(): void {
    this.#database.close();
  }

  #statement(sql: string) {
    return this.#database.statement(sql);
  }
}
