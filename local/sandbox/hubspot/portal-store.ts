/**
 * Everything the HubSpot sandbox keeps across restarts, in node:sqlite (WAL): one
 * row per CRM record, one per association link, a contact email index, counters,
 * the webhook outbox (indexed by when each event is due) and the delivery log.
 * Every request that writes runs in one transaction, so a request is either
 * wholly stored before it is answered or not at all, and its cost follows the
 * rows it touches rather than the size of the portal.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';
import {
  OBJECT_TYPES,
  seedPortalObjects,
  type AssociationLink,
  type ObjectType,
  type StoredRecord,
} from './portal-data.ts';

/** Id of the first record created through the API; the seed stays below it. */
export const FIRST_CREATED_ID = 10_001;

/** First webhook `eventId`; ids are never reused, also after a restart. */
const FIRST_EVENT_ID = 1_000_001;

/** One webhook event as HubSpot sends it, minus `attemptNumber` (set per attempt). */
export interface WebhookEventBody {
  readonly eventId: number;
  readonly subscriptionId: number;
  readonly portalId: number;
  readonly appId: number;
  readonly occurredAt: number;
  readonly subscriptionType: string;
  readonly objectId: number;
  readonly changeSource: string;
  readonly propertyName?: string;
  readonly propertyValue?: string;
}

/** An event waiting for (re)delivery. */
export interface OutboxEntry {
  readonly event: WebhookEventBody;
  /** Failed attempts so far; the next request carries it as `attemptNumber`. */
  readonly attempts: number;
  /** Epoch milliseconds before which the event is not sent. */
  readonly nextAttemptAt: number;
}

/** One delivery attempt, as `GET /__sandbox/webhook-deliveries` lists it. */
export interface DeliveryLogEntry {
  /** Position in the log, increasing; `?after=<seq>` pages from it. */
  readonly seq: number;
  readonly at: string;
  readonly url: string;
  readonly eventIds: readonly number[];
  readonly attemptNumbers: readonly number[];
  /** `delivered` (2xx), `retrying` (failed, will be retried) or `abandoned` (failed, no retries left). */
  readonly outcome: 'delivered' | 'retrying' | 'abandoned';
  readonly status?: number;
  readonly error?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Which part of the delivery log to read. */
export interface DeliveryQuery {
  /** Only attempts after this `seq`, oldest first; without it, the newest `limit` attempts, oldest first. */
  readonly after?: number;
  /** Only attempts that carried this event. */
  readonly eventId?: number;
  readonly limit: number;
}

/** What the store has written since it opened; lets tests see that a request writes only its rows. */
export interface PortalStatistics {
  /** Rows inserted, replaced or deleted. */
  readonly rowsWritten: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  type TEXT NOT NULL,
  id INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
  from_type TEXT NOT NULL,
  from_id INTEGER NOT NULL,
  to_type TEXT NOT NULL,
  seq INTEGER NOT NULL,
  to_id TEXT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (from_type, from_id, to_type, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS links_by_target ON links (from_type, from_id, to_type, to_id, label);
CREATE TABLE IF NOT EXISTS contact_emails (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contact_emails_by_email ON contact_emails (email, id);
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  event_id INTEGER PRIMARY KEY,
  event TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_due ON outbox (next_attempt_at, event_id);
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS delivery_events (
  event_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (event_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS delivery_events_by_seq ON delivery_events (seq);
`;

/** A record id as the API spells it: a plain non-negative integer. */
function numericId(id: string): number | undefined {
  return /^(0|[1-9]\d{0,15})$/.test(id) ? Number(id) : undefined;
}

/** The sandbox portal's durable store. */
export class PortalStore {
  readonly #database: HubDatabase;
  readonly #deliveryLogLimit: number;
  #rowsWritten = 0;

  /**
   * Opens (and on first use seeds) `<dataDirectory>/hubspot.sqlite`.
   * @param dataDirectory undefined keeps everything in memory
   * @param deliveryLogLimit delivery attempts kept; older ones are dropped
   */
  constructor(dataDirectory: string | undefined, deliveryLogLimit: number) {
    this.#database = new HubDatabase({
      dataDirectory,
      fileName: 'hubspot.sqlite',
      synchronous: 'NORMAL',
      schema: SCHEMA,
      schemaVersion: 1,
    });
    this.#deliveryLogLimit = deliveryLogLimit;
    if (this.#counter('next_object_id') === undefined) this.transaction(() => this.#seed());
  }

  /** Runs `work` in one transaction: all of its writes are stored before this returns, or none. */
  transaction<Result>(work: () => Result): Result {
    return this.#database.db.isTransaction ? work() : this.#database.transaction(work);
  }

  /** One record, or undefined (also for an id that is not a plain integer). */
  find(type: ObjectType, id: string): StoredRecord | undefined {
    const key = numericId(id);
    if (key === undefined) return undefined;
    const row = this.#statement('SELECT data FROM records WHERE type = ? AND id = ?').get(type, key);
    return row === undefined ? undefined : { id: String(key), ...(JSON.parse(String(row.data)) as Omit<StoredRecord, 'id'>) };
  }

  /** Up to `limit` records with an id above `after`, in id order. */
  page(type: ObjectType, after: number, limit: number): StoredRecord[] {
    return this.#statement('SELECT id, data FROM records WHERE type = ? AND id > ? ORDER BY id LIMIT ?')
      .all(type, after, limit)
      .map((row) => ({ id: String(row.id), ...(JSON.parse(String(row.data)) as Omit<StoredRecord, 'id'>) }));
  }

  /** Stores a record (new or changed), keeping the contact email index in step. */
  put(type: ObjectType, record: StoredRecord): void {
    const { id, ...data } = record;
    const key = numericId(id)!;
    this.#run('INSERT INTO records (type, id, data) VALUES (?, ?, ?) ON CONFLICT (type, id) DO UPDATE SET data = excluded.data', type, key, JSON.stringify(data));
    if (type !== 'contacts') return;
    const email = record.properties['email']?.toLowerCase();
    const indexed = this.#statement('SELECT email FROM contact_emails WHERE id = ?').get(key)?.email;
    if (indexed === email) return;
    if (indexed !== undefined) this.#run('DELETE FROM contact_emails WHERE id = ?', key);
    if (email !== undefined) this.#run('INSERT INTO contact_emails (id, email) VALUES (?, ?)', key, email);
  }

  /** The lowest contact id whose email is `email` (lower-cased), if any. */
  contactByEmail(email: string): string | undefined {
    const row = this.#statement('SELECT id FROM contact_emails WHERE email = ? ORDER BY id LIMIT 1').get(email);
    return row === undefined ? undefined : String(row.id);
  }

  /** A record's links to records of `targetType`, in the order they were made. */
  links(type: ObjectType, id: string, targetType: ObjectType): AssociationLink[] {
    return this.#statement('SELECT to_id, label FROM links WHERE from_type = ? AND from_id = ? AND to_type = ? ORDER BY seq')
      .all(type, numericId(id)!, targetType)
      .map((row) => ({ id: String(row.to_id), type: String(row.label) }));
  }

  /** Adds a link at the end of the record's list, unless it is there already. */
  addLink(type: ObjectType, id: string, targetType: ObjectType, link: AssociationLink): void {
    const key = numericId(id)!;
    const exists = this.#statement('SELECT 1 AS found FROM links WHERE from_type = ? AND from_id = ? AND to_type = ? AND to_id = ? AND label = ?')
      .get(type, key, targetType, link.id, link.type);
    if (exists !== undefined) return;
    const last = this.#statement('SELECT MAX(seq) AS seq FROM links WHERE from_type = ? AND from_id = ? AND to_type = ?').get(type, key, targetType);
    const seq = last?.seq === null || last?.seq === undefined ? 1 : Number(last.seq) + 1;
    this.#run('INSERT INTO links (from_type, from_id, to_type, seq, to_id, label) VALUES (?, ?, ?, ?, ?, ?)', type, key, targetType, seq, link.id, link.type);
  }

  /** Removes one link, if present. */
  removeLink(type: ObjectType, id: string, targetType: ObjectType, link: AssociationLink): void {
    this.#run('DELETE FROM links WHERE from_type = ? AND from_id = ? AND to_type = ? AND to_id = ? AND label = ?', type, numericId(id)!, targetType, link.id, link.type);
  }

  /** Next free record id; one counter for every type, so an id never names two records. */
  allocateObjectId(): string {
    const id = this.#counter('next_object_id') ?? FIRST_CREATED_ID;
    this.#setCounter('next_object_id', id + 1);
    return String(id);
  }

  /** Next webhook event id. */
  allocateEventId(): number {
    const id = this.#counter('next_event_id') ?? FIRST_EVENT_ID;
    this.#setCounter('next_event_id', id + 1);
    return id;
  }

  /** Queues an event, due at once. */
  enqueue(event: WebhookEventBody): void {
    this.#run('INSERT INTO outbox (event_id, event, attempts, next_attempt_at) VALUES (?, ?, 0, ?)', event.eventId, JSON.stringify(event), event.occurredAt);
  }

  /** Up to `limit` events due at `now`, those waiting longest first, in event id order. */
  due(now: number, limit: number): OutboxEntry[] {
    return this.#statement('SELECT event, attempts, next_attempt_at FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, event_id LIMIT ?')
      .all(now, limit)
      .map((row) => ({ event: JSON.parse(String(row.event)) as WebhookEventBody, attempts: Number(row.attempts), nextAttemptAt: Number(row.next_attempt_at) }))
      .sort((left, right) => left.event.eventId - right.event.eventId);
  }

  /** When the next event is due; undefined when the outbox is empty. */
  nextDueAt(): number | undefined {
    const row = this.#statement('SELECT MIN(next_attempt_at) AS due FROM outbox').get();
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  /** Events not yet delivered (waiting or being retried). */
  pending(): number {
    return Number(this.#statement('SELECT COUNT(*) AS pending FROM outbox').get()?.pending ?? 0);
  }

  /** Records that an event was delivered or given up: it leaves the outbox. */
  settle(eventId: number): void {
    this.#run('DELETE FROM outbox WHERE event_id = ?', eventId);
  }

  /** Records a failed attempt of an event that will be retried at `nextAttemptAt`. */
  reschedule(eventId: number, attempts: number, nextAttemptAt: number): void {
    this.#run('UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE event_id = ?', attempts, nextAttemptAt, eventId);
  }

  /** Appends a delivery attempt to the log, dropping the oldest beyond the limit. */
  logDelivery(entry: Omit<DeliveryLogEntry, 'seq'>): void {
    const seq = Number(this.#run('INSERT INTO deliveries (entry) VALUES (?)', JSON.stringify(entry)).lastInsertRowid);
    for (const eventId of new Set(entry.eventIds)) this.#run('INSERT INTO delivery_events (event_id, seq) VALUES (?, ?)', eventId, seq);
    const oldest = seq - this.#deliveryLogLimit;
    if (oldest > 0) {
      this.#run('DELETE FROM deliveries WHERE seq <= ?', oldest);
      this.#run('DELETE FROM delivery_events WHERE seq <= ?', oldest);
    }
  }

  /** Part of the delivery log, oldest first. */
  deliveries(query: DeliveryQuery): DeliveryLogEntry[] {
    const after = query.after ?? -1;
    const rows = query.eventId !== undefined
      ? this.#statement(`SELECT d.seq, d.entry FROM delivery_events e JOIN deliveries d ON d.seq = e.seq WHERE e.event_id = ? AND e.seq > ? ORDER BY e.seq ${query.after === undefined ? 'DESC' : 'ASC'} LIMIT ?`)
        .all(query.eventId, after, query.limit)
      : this.#statement(`SELECT seq, entry FROM deliveries WHERE seq > ? ORDER BY seq ${query.after === undefined ? 'DESC' : 'ASC'} LIMIT ?`)
        .all(after, query.limit);
    const entries = rows.map((row) => ({ seq: Number(row.seq), ...(JSON.parse(String(row.entry)) as Omit<DeliveryLogEntry, 'seq'>) }));
    return query.after === undefined ? entries.reverse() : entries;
  }

  /** Rows written since the store opened. */
  statistics(): PortalStatistics {
    return { rowsWritten: this.#rowsWritten };
  }

  /** Closes the database; idempotent. */
  close(): void {
    this.#database.close();
  }

  #seed(): void {
    const objects = seedPortalObjects();
    for (const type of OBJECT_TYPES) {
      for (const { associations, ...record } of Object.values(objects[type])) {
        this.put(type, record);
        for (const target of OBJECT_TYPES) {
          for (const link of associations[target] ?? []) this.addLink(type, record.id, target, link);
        }
      }
    }
    this.#setCounter('next_object_id', FIRST_CREATED_ID);
    this.#setCounter('next_event_id', FIRST_EVENT_ID);
  }

  #counter(name: string): number | undefined {
    const row = this.#statement('SELECT value FROM counters WHERE name = ?').get(name);
    return row === undefined ? undefined : Number(row.value);
  }

  #setCounter(name: string, value: number): void {
    this.#run('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value', name, value);
  }

  #statement(sql: string) {
    return this.#database.statement(sql);
  }

  #run(sql: string, ...parameters: (string | number)[]) {
    const result = this.#statement(sql).run(...parameters);
    this.#rowsWritten += Number(result.changes);
    return result;
  }
}
