/**
 * The local EventBridge's durable state in one SQLite database (`node:sqlite`, WAL,
 * `synchronous=FULL`, so a committed transaction survives a crash and a power cut):
 *
 * - `outbox`: one row per (event, rule target) still to be delivered, self-contained
 *   (queue URL, dead-letter queue, retry policy, the text to send, the event), so a
 *   restart delivers it even if the template changed meanwhile. A row is deleted once
 *   its target (or its dead-letter queue) has the message.
 * - `archive_events`: the events each archive holds, for DescribeArchive and StartReplay.
 * - `replays`: every replay started, for DescribeReplay and ListReplays.
 * - `creation_times`: when each bus, rule and archive was first served, so
 *   CreationTime stays the same across restarts.
 */
import type { DatabaseSync } from 'node:sqlite';
import { HubDatabase, type SynchronousMode } from '../sqlite/hub-database.ts';

/** Where and how one outbox row is delivered. */
export interface DeliveryRoute {
  /** Set for an SQS target. */
  readonly queueUrl?: string;
  readonly messageGroupId?: string;
  readonly deadLetterArn?: string;
  readonly deadLetterQueueUrl?: string;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeInSeconds: number;
}

/** Where an outbox row is: due at its target, due at its dead-letter queue, or kept because neither can take it. */
export type OutboxPhase = 'target' | 'dead-letter' | 'undeliverable';

/** A delivery to record. */
export interface NewDelivery {
  readonly eventId: string;
  readonly ruleArn: string;
  readonly targetId: string;
  readonly targetArn: string;
  readonly route: DeliveryRoute;
  /** What the target receives. */
  readonly payload: string;
  /** The event as JSON: the body of a dead-letter message. */
  readonly event: string;
}

/** A row of the outbox. */
export interface OutboxEntry extends NewDelivery {
  readonly seq: number;
  readonly acceptedMs: number;
  /** Attempts made at the target. */
  readonly attempts: number;
  /** Attempts made at the dead-letter queue. */
  readonly deadLetterAttempts: number;
  readonly phase: OutboxPhase;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** `MaximumRetryAttempts` or `MaximumEventAgeInSeconds` when retries ran out. */
  readonly exhaustedCondition?: string;
}

/** An event an archive keeps. */
export interface ArchivedEvent {
  readonly archive: string;
  readonly eventId: string;
  /** The event's `time`, in milliseconds: what replay windows select on. */
  readonly eventTimeMs: number;
  readonly event: string;
}

/** A replay as stored. */
export interface ReplayRecord {
  readonly name: string;
  readonly description?: string;
  readonly archiveArn: string;
  readonly destination: { readonly Arn: string; readonly FilterArns?: readonly string[] };
  readonly eventStartMs: number;
  readonly eventEndMs: number;
  readonly state: string;
  readonly stateReason?: string;
  readonly replayStartMs: number;
  readonly replayEndMs?: number;
  readonly lastReplayedMs?: number;
}

/** Bumped when the tables change shape; a file of another version is refused. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  rule_arn TEXT NOT NULL,
  target_id TEXT NOT NULL,
  target_arn TEXT NOT NULL,
  route TEXT NOT NULL,
  payload TEXT NOT NULL,
  event TEXT NOT NULL,
  accepted_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  dead_letter_attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  phase TEXT NOT NULL DEFAULT 'target',
  error_code TEXT,
  error_message TEXT,
  exhausted_condition TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (phase, next_attempt_ms);
CREATE TABLE IF NOT EXISTS archive_events (
  archive TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_time_ms INTEGER NOT NULL,
  archived_ms INTEGER NOT NULL,
  event TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  PRIMARY KEY (archive, event_id)
);
CREATE INDEX IF NOT EXISTS archive_events_time ON archive_events (archive, event_time_ms);
CREATE TABLE IF NOT EXISTS replays (
  name TEXT PRIMARY KEY,
  record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS creation_times (
  arn TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL
);
`;

interface OutboxRow {
  seq: number;
  event_id: string;
  rule_arn: string;
  target_id: string;
  target_arn: string;
  route: string;
  payload: string;
  event: string;
  accepted_ms: number;
  attempts: number;
  dead_letter_attempts: number;
  phase: OutboxPhase;
  error_code: string | null;
  error_message: string | null;
  exhausted_condition: string | null;
}

/** The local EventBridge's SQLite database. Synchronous: every method returns once SQLite has it. */
export class EventStore {
  readonly #database: HubDatabase;
  readonly #db: DatabaseSync;

  /**
   * Opens (creating if needed) `eventbridge.sqlite` in `dataDirectory`, locked to this process,
   * or a database in memory when `dataDirectory` is undefined.
   */
  constructor(dataDirectory: string | undefined, synchronous: SynchronousMode = 'FULL') {
    this.#database = new HubDatabase({
      dataDirectory,
      fileName: 'eventbridge.sqlite',
      synchronous,
      schema: SCHEMA,
      schemaVersion: SCHEMA_VERSION,
    });
    this.#db = this.#database.db;
  }

  /** Runs `work` in one transaction: all of it is on disk when this returns, or none of it. */
  transaction<T>(work: () => T): T {
    return this.#database.transaction(work);
  }

  /** Like `transaction`, sharing one commit with the other work queued in this turn of the event loop. */
  commitSoon<T>(work: () => T): Promise<T> {
    return this.#database.commitSoon(work);
  }

  /** Adds deliveries due now; returns their rows. */
  addDeliveries(deliveries: readonly NewDelivery[], acceptedMs: number): OutboxEntry[] {
    const insert = this.#db.prepare(
      `INSERT INTO outbox (event_id, rule_arn, target_id, target_arn, route, payload, event, accepted_ms, next_attempt_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return deliveries.map((delivery) => {
      const { lastInsertRowid } = insert.run(
        delivery.eventId,
        delivery.ruleArn,
        delivery.targetId,
        delivery.targetArn,
        JSON.stringify(delivery.route),
        delivery.payload,
        delivery.event,
        acceptedMs,
        acceptedMs,
      );
      return { ...delivery, seq: Number(lastInsertRowid), acceptedMs, attempts: 0, deadLetterAttempts: 0, phase: 'target' as const };
    });
  }

  /** Adds events to archives (an event already there is kept once). */
  addArchivedEvents(events: readonly ArchivedEvent[], archivedMs: number): void {
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO archive_events (archive, event_id, event_time_ms, archived_ms, event, size_bytes) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    for (const event of events) {
      insert.run(event.archive, event.eventId, event.eventTimeMs, archivedMs, event.event, Buffer.byteLength(event.event));
    }
  }

  /** Rows due at `nowMs` (target or dead-letter phase), oldest first, except those in `busy`. */
  due(nowMs: number, busy: Iterable<number>, limit: number): OutboxEntry[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM outbox WHERE phase IN ('target', 'dead-letter') AND next_attempt_ms <= ?
           AND seq NOT IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_ms, seq LIMIT ?`,
      )
      .all(nowMs, JSON.stringify([...busy]), limit) as unknown as OutboxRow[];
    return rows.map(toEntry);
  }

  /** When the next row (not in `busy`) is due, in milliseconds; undefined when none is waiting. */
  nextDueMs(busy: Iterable<number>): number | undefined {
    const row = this.#db
      .prepare(
        `SELECT MIN(next_attempt_ms) AS next FROM outbox WHERE phase IN ('target', 'dead-letter')
           AND seq NOT IN (SELECT value FROM json_each(?))`,
      )
      .get(JSON.stringify([...busy])) as { next: number | null } | undefined;
    return row?.next ?? undefined;
  }

  /** The row is delivered (to its target or its dead-letter queue): it leaves the outbox. */
  remove(seq: number): void {
    this.#db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq);
  }

  /** Records a failed attempt and when to try again, in the phase the row is now in. */
  reschedule(
    seq: number,
    change: {
      readonly phase: OutboxPhase;
      readonly attempts: number;
      readonly deadLetterAttempts?: number;
      readonly nextAttemptMs: number;
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly exhaustedCondition?: string;
    },
  ): void {
    this.#db
      .prepare(
        `UPDATE outbox SET phase = ?, attempts = ?, dead_letter_attempts = ?, next_attempt_ms = ?, error_code = ?,
           error_message = ?, exhausted_condition = COALESCE(?, exhausted_condition) WHERE seq = ?`,
      )
      .run(
        change.phase,
        change.attempts,
        change.deadLetterAttempts ?? 0,
        change.nextAttemptMs,
        change.errorCode,
        change.errorMessage,
        change.exhaustedCondition ?? null,
        seq,
      );
  }

  /** Outbox rows per rule ARN and phase. */
  outboxCounts(): { ruleArn: string; phase: OutboxPhase; count: number }[] {
    return (
      this.#db.prepare('SELECT rule_arn, phase, COUNT(*) AS count FROM outbox GROUP BY rule_arn, phase').all() as unknown as {
        rule_arn: string;
        phase: OutboxPhase;
        count: number;
      }[]
    ).map((row) => ({ ruleArn: row.rule_arn, phase: row.phase, count: row.count }));
  }

  /** How many events an archive holds and their size. */
  archiveSize(archive: string): { eventCount: number; sizeBytes: number } {
    const row = this.#db
      .prepare('SELECT COUNT(*) AS count, COALESCE(SUM(size_bytes), 0) AS bytes FROM archive_events WHERE archive = ?')
      .get(archive) as { count: number; bytes: number };
    return { eventCount: row.count, sizeBytes: row.bytes };
  }

  /** Events of an archive whose time is in [fromMs, toMs), oldest first. */
  archivedEvents(archive: string, fromMs: number, toMs: number): ArchivedEvent[] {
    const rows = this.#db
      .prepare(
        `SELECT event_id, event_time_ms, event FROM archive_events
           WHERE archive = ? AND event_time_ms >= ? AND event_time_ms < ? ORDER BY event_time_ms, archived_ms`,
      )
      .all(archive, fromMs, toMs) as unknown as { event_id: string; event_time_ms: number; event: string }[];
    return rows.map((row) => ({ archive, eventId: row.event_id, eventTimeMs: row.event_time_ms, event: row.event }));
  }

  /** Drops an archive's events archived before `beforeMs` (its retention). */
  expireArchivedEvents(archive: string, beforeMs: number): void {
    this.#db.prepare('DELETE FROM archive_events WHERE archive = ? AND archived_ms < ?').run(archive, beforeMs);
  }

  /** When `arn` was first served: recorded now if it never was. */
  creationTime(arn: string, nowMs: number): number {
    this.#db.prepare('INSERT OR IGNORE INTO creation_times (arn, created_ms) VALUES (?, ?)').run(arn, nowMs);
    const row = this.#db.prepare('SELECT created_ms FROM creation_times WHERE arn = ?').get(arn) as { created_ms: number };
    return row.created_ms;
  }

  /** Stores a replay (insert or replace). */
  putReplay(replay: ReplayRecord): void {
    this.#db.prepare('INSERT OR REPLACE INTO replays (name, record) VALUES (?, ?)').run(replay.name, JSON.stringify(replay));
  }

  /** The replay named `name`, if any. */
  replay(name: string): ReplayRecord | undefined {
    const row = this.#db.prepare('SELECT record FROM replays WHERE name = ?').get(name) as { record: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.record) as ReplayRecord);
  }

  /** Every replay, by name. */
  replays(): ReplayRecord[] {
    const rows = this.#db.prepare('SELECT record FROM replays ORDER BY name').all() as unknown as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as ReplayRecord);
  }

  /** Closes the database (checkpointing the WAL). */
  close(): void {
    this.#database.close();
  }
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    seq: row.seq,
    eventId: row.event_id,
    ruleArn: row.rule_arn,
    targetId: row.target_id,
    targetArn: row.target_arn,
    route: JSON.parse(row.route) as DeliveryRoute,
    payload: row.payload,
    event: row.event,
    acceptedMs: row.accepted_ms,
    attempts: row.attempts,
    deadLetterAttempts: row.dead_letter_attempts,
    phase: row.phase,
    errorCode: row.error_code ?? undefined,
    errorMessage: row.error_message ?? undefined,
    exhaustedCondition: row.exhausted_condition ?? undefined,
  };
}
