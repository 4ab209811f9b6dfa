/**
 * The durable record of the local SQS service, in `node:sqlite`: queues (attributes,
 * tags, counters), messages (one row each, with the state of its current delivery),
 * FIFO deduplication ids, deleted queue names and message move tasks. The service runs
 * each operation in one `transaction()`, so what a caller was told happened is committed
 * (WAL) before the answer leaves, and a message moving between queues (dead-letter move,
 * redrive) is inserted into one and deleted from the other in the same transaction.
 *
 * Message states come from two columns: `visible_at` (when it may next be received) and
 * `receive_count`. Visible: `visible_at <= now`; in flight: later and received at least
 * once; delayed: later and never received. The index on (queue, visible_at,
 * receive_count) serves receives, counts and the next-visibility time of long polls.
 */
import { HubDatabase, optionalNumber, optionalText, type SynchronousMode } from '../sqlite/hub-database.ts';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import * as z from 'zod';
import type { MessageAttributeValue } from './md5.ts';

/** One queue as stored. */
export interface QueueRecord {
  readonly id: number;
  readonly name: string;
  /** The attributes set on the queue (no defaults), normalized strings. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly modifiedAt: number;
  readonly lastPurgeAt: number | undefined;
}

/** One message as stored; times are epoch milliseconds. */
export interface MessageRecord {
  readonly seq: number;
  readonly queueId: number;
  readonly messageId: string;
  readonly body: string;
  readonly bodyMd5: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>> | undefined;
  readonly attributesMd5: string | undefined;
  readonly traceHeader: string | undefined;
  readonly systemAttributesMd5: string | undefined;
  readonly senderId: string;
  /** SentTimestamp. */
  readonly sentAt: number;
  /** What MessageRetentionPeriod counts from (kept on a standard queue's dead-letter move). */
  readonly enqueuedAt: number;
  /** When it entered this queue (ApproximateAgeOfOldestMessage). */
  readonly arrivedAt: number;
  readonly visibleAt: number;
  readonly receiveCount: number;
  readonly firstReceivedAt: number | undefined;
  /** Start of the current delivery (the 12-hour visibility limit counts from it). */
  readonly receivedAt: number | undefined;
  /** Nonce of the current delivery's receipt handle. */
  readonly receipt: string | undefined;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
  readonly sequenceNumber: string | undefined;
  readonly deadLetterSourceArn: string | undefined;
}

/** A message to insert: a MessageRecord without its row number. */
export type MessageFields = Omit<MessageRecord, 'seq'>;

/** A message move task (StartMessageMoveTask) as stored. */
export interface MoveTaskRecord {
  readonly handle: string;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly maxPerSecond: number | undefined;
  readonly status: 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
  readonly startedAt: number;
  readonly toMove: number;
  readonly moved: number;
  readonly failureReason: string | undefined;
  /** Messages of the source with a higher `seq` than this are left (they arrived after the start). */
  readonly lastSeq: number;
  /** The highest `seq` already considered. */
  readonly cursor: number;
}

/** Message counts of one queue. */
export interface MessageCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS queues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    last_purge_at INTEGER,
    expired_messages INTEGER NOT NULL DEFAULT 0,
    sequence INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    body_md5 TEXT NOT NULL,
    attributes TEXT,
    attributes_md5 TEXT,
    trace_header TEXT,
    system_md5 TEXT,
    sender_id TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    arrived_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL,
    first_received_at INTEGER,
    received_at INTEGER,
    receipt TEXT,
    group_id TEXT,
    dedup_id TEXT,
    sequence_number TEXT,
    dead_letter_source_arn TEXT
  );
  CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue_id, visible_at, receive_count);
  CREATE INDEX IF NOT EXISTS messages_by_enqueue_time ON messages (queue_id, enqueued_at);
  CREATE INDEX IF NOT EXISTS messages_by_group ON messages (queue_id, group_id, seq) WHERE group_id IS NOT NULL;
  CREATE TABLE IF NOT EXISTS deduplication (
    queue_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS deleted_queues (
    name TEXT PRIMARY KEY,
    deleted_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS move_tasks (
    handle TEXT PRIMARY KEY,
    source_arn TEXT NOT NULL,
    destination_arn TEXT,
    max_per_second INTEGER,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    to_move INTEGER NOT NULL,
    moved INTEGER NOT NULL,
    failure_reason TEXT,
    last_seq INTEGER NOT NULL,
    cursor INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS move_tasks_by_source ON move_tasks (source_arn, started_at);
`;

const StringMap = z.record(z.string(), z.string());
const StoredAttributes = z.record(z.string(), z.object({ DataType: z.string(), StringValue: z.string().optional(), BinaryValue: z.string().optional() }));
const jsonOf = <Schema extends z.ZodType>(schema: Schema) => z.string().transform((text) => schema.parse(JSON.parse(text)) as z.output<Schema>);

/** A row of `queues`: the file is outside the process, so it is checked like any other input. */
const QueueRow = z
  .object({
    id: z.number().int(),
    name: z.string(),
    attributes: jsonOf(StringMap),
    tags: jsonOf(StringMap),
    created_at: z.number(),
    modified_at: z.number(),
    last_purge_at: optionalNumber,
  })
  .transform(
    (row): QueueRecord => ({
      id: row.id,
      name: row.name,
      attributes: row.attributes,
      tags: row.tags,
      createdAt: row.created_at,
      modifiedAt: row.modified_at,
      lastPurgeAt: row.last_purge_at,
    }),
  );

const MessageRow = z
  .object({
    seq: z.number().int(),
    queue_id: z.number().int(),
    message_id: z.string(),
    body: z.string(),
    body_md5: z.string(),
    attributes: jsonOf(StoredAttributes).nullable(),
    attributes_md5: optionalText,
    trace_header: optionalText,
    system_md5: optionalText,
    sender_id: z.string(),
    sent_at: z.number(),
    enqueued_at: z.number(),
    arrived_at: z.number(),
    visible_at: z.number(),
    receive_count: z.number().int(),
    first_received_at: optionalNumber,
    received_at: optionalNumber,
    receipt: optionalText,
    group_id: optionalText,
    dedup_id: optionalText,
    sequence_number: optionalText,
    dead_letter_source_arn: optionalText,
  })
  .transform(
    (row): MessageRecord => ({
      seq: row.seq,
      queueId: row.queue_id,
      messageId: row.message_id,
      body: row.body,
      bodyMd5: row.body_md5,
      attributes: row.attributes ?? undefined,
      attributesMd5: row.attributes_md5,
      traceHeader: row.trace_header,
      systemAttributesMd5: row.system_md5,
      senderId: row.sender_id,
      sentAt: row.sent_at,
      enqueuedAt: row.enqueued_at,
      arrivedAt: row.arrived_at,
      visibleAt: row.visible_at,
      receiveCount: row.receive_count,
      firstReceivedAt: row.first_received_at,
      receivedAt: row.received_at,
      receipt: row.receipt,
      groupId: row.group_id,
      deduplicationId: row.dedup_id,
      sequenceNumber: row.sequence_number,
      deadLetterSourceArn: row.dead_letter_source_arn,
    }),
  );

const MoveTaskRow = z
  .object({
    handle: z.string(),
    source_arn: z.string(),
    destination_arn: optionalText,
    max_per_second: optionalNumber,
    status: z.enum(['RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED']),
    started_at: z.number(),
    to_move: z.number().int(),
    moved: z.number().int(),
    failure_reason: optionalText,
    last_seq: z.number().int(),
    cursor: z.number().int(),
  })
  .transform(
    (row): MoveTaskRecord => ({
      handle: row.handle,
      sourceArn: row.source_arn,
      destinationArn: row.destination_arn,
      maxPerSecond: row.max_per_second,
      status: row.status,
      startedAt: row.started_at,
      toMove: row.to_move,
      moved: row.moved,
      failureReason: row.failure_reason,
      lastSeq: row.last_seq,
      cursor: row.cursor,
    }),
  );

const Count = z.object({ count: z.number().int() });
const Counts = z.object({ visible: z.number().nullable(), in_flight: z.number().nullable(), delayed: z.number().nullable() });
const Earliest = z.object({ earliest: z.number().nullable() });

/** How commits reach the disk: FULL syncs the WAL on every commit, NORMAL at checkpoints. */
export type { SynchronousMode } from '../sqlite/hub-database.ts';

/**
 * The sqlite database of the local SQS service: `sqs.sqlite` in `dataDirectory` (WAL,
 * locked for this process until `close()`), or an in-memory database when there is none.
 */
export class MessageStore {
  readonly #database: HubDatabase;
  readonly #db: DatabaseSync;

  constructor(dataDirectory: string | undefined, synchronous: SynchronousMode) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'sqs.sqlite', synchronous, schema: SCHEMA, schemaVersion: SCHEMA_VERSION });
    this.#db = this.#database.db;
  }

  /** Closes the database; the store cannot be used afterwards. */
  close(): void {
    this.#database.close();
  }

  /** Runs `work` in one write transaction: all of it commits, or none of it. */
  transaction<Result>(work: () => Result): Result {
    return this.#database.transaction(work);
  }

  // Queues

  /** Every queue, by name. */
  queues(): QueueRecord[] {
    return this.#statement('SELECT * FROM queues ORDER BY name')
      .all()
      .map((row) => QueueRow.parse(row));
  }

  /** Inserts a queue; gives it back with its id. */
  insertQueue(name: string, attributes: Readonly<Record<string, string>>, tags: Readonly<Record<string, string>>, now: number): QueueRecord {
    const result = this.#statement('INSERT INTO queues (name, attributes, tags, created_at, modified_at) VALUES (?, ?, ?, ?, ?)').run(
      name,
      JSON.stringify(attributes),
      JSON.stringify(tags),
      now,
      now,
    );
    return { id: Number(result.lastInsertRowid), name, attributes, tags, createdAt: now, modifiedAt: now, lastPurgeAt: undefined };
  }

  /** Replaces a queue's attributes. */
  updateQueueAttributes(queueId: number, attributes: Readonly<Record<string, string>>, now: number): void {
    this.#statement('UPDATE queues SET attributes = ?, modified_at = ? WHERE id = ?').run(JSON.stringify(attributes), now, queueId);
  }

  /** Replaces a queue's tags. */
  updateQueueTags(queueId: number, tags: Readonly<Record<string, string>>): void {
    this.#statement('UPDATE queues SET tags = ? WHERE id = ?').run(JSON.stringify(tags), queueId);
  }

  /** Deletes a queue with its messages and deduplication ids, remembering when its name was freed. */
  deleteQueue(queueId: number, name: string, now: number): void {
    this.#statement('DELETE FROM messages WHERE queue_id = ?').run(queueId);
    this.#statement('DELETE FROM deduplication WHERE queue_id = ?').run(queueId);
    this.#statement('DELETE FROM queues WHERE id = ?').run(queueId);
    this.#statement('INSERT OR REPLACE INTO deleted_queues (name, deleted_at) VALUES (?, ?)').run(name, now);
  }

  /** When a queue of this name was last deleted, if it was. */
  deletedAt(name: string): number | undefined {
    const row = this.#statement('SELECT deleted_at FROM deleted_queues WHERE name = ?').get(name);
    return row === undefined ? undefined : z.number().parse(row.deleted_at);
  }

  /** Records a purge of the queue. */
  markPurged(queueId: number, now: number): void {
    this.#statement('UPDATE queues SET last_purge_at = ? WHERE id = ?').run(now, queueId);
  }

  /** Messages of the queue dropped because their retention period ended, since it was created. */
  expiredMessages(queueId: number): number {
    const row = this.#statement('SELECT expired_messages AS count FROM queues WHERE id = ?').get(queueId);
    return row === undefined ? 0 : Count.parse(row).count;
  }

  /** The next FIFO sequence number of the queue (increasing). */
  nextSequenceNumber(queueId: number): string {
    const row = this.#statement('UPDATE queues SET sequence = sequence + 1 WHERE id = ? RETURNING sequence AS count').get(queueId);
    return String(10n ** 19n + BigInt(Count.parse(row).count));
  }

  // Messages

  /** Inserts a message; gives its row number. */
  insertMessage(message: MessageFields): number {
    const result = this.#statement(
      `INSERT INTO messages (queue_id, message_id, body, body_md5, attributes, attributes_md5, trace_header, system_md5, sender_id,
         sent_at, enqueued_at, arrived_at, visible_at, receive_count, first_received_at, received_at, receipt, group_id, dedup_id,
         sequence_number, dead_letter_source_arn)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      message.queueId,
      message.messageId,
      message.body,
      message.bodyMd5,
      message.attributes === undefined ? null : JSON.stringify(message.attributes),
      ...nullable(
        message.attributesMd5,
        message.traceHeader,
        message.systemAttributesMd5,
      ),
      message.senderId,
      message.sentAt,
      message.enqueuedAt,
      message.arrivedAt,
      message.visibleAt,
      message.receiveCount,
      ...nullable(
        message.firstReceivedAt,
        message.receivedAt,
        message.receipt,
        message.groupId,
        message.deduplicationId,
        message.sequenceNumber,
        message.deadLetterSourceArn,
      ),
    );
    return Number(result.lastInsertRowid);
  }

  /** One message by row number. */
  message(seq: number): MessageRecord | undefined {
    const row = this.#statement('SELECT * FROM messages WHERE seq = ?').get(seq);
    return row === undefined ? undefined : MessageRow.parse(row);
  }

  /** Visible messages of a queue, longest visible first (then in send order). */
  visibleMessages(queueId: number, now: number, limit: number): MessageRecord[] {
    return this.#statement(
      'SELECT * FROM messages WHERE queue_id = ? AND visible_at <= ? ORDER BY visible_at, receive_count, seq LIMIT ?',
    )
      .all(queueId, now, limit)
      .map((row) => MessageRow.parse(row));
  }

  /** Visible messages of a queue in send order, after row `afterSeq` (FIFO receives). */
  visibleMessagesInOrder(queueId: number, now: number, afterSeq: number, limit: number): MessageRecord[] {
    return this.#statement('SELECT * FROM messages WHERE queue_id = ? AND visible_at <= ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(queueId, now, afterSeq, limit)
      .map((row) => MessageRow.parse(row));
  }

  /** Visible messages of one message group in send order (FIFO receives). */
  visibleGroupMessages(queueId: number, groupId: string, now: number, limit: number): MessageRecord[] {
    return this.#statement('SELECT * FROM messages WHERE queue_id = ? AND group_id = ? AND visible_at <= ? ORDER BY seq LIMIT ?')
      .all(queueId, groupId, now, limit)
      .map((row) => MessageRow.parse(row));
  }

  /** Message groups of a queue with a message in flight (FIFO: no other message of theirs may be received). */
  groupsInFlight(queueId: number, now: number): Set<string> {
    const rows = this.#statement(
      'SELECT DISTINCT group_id FROM messages WHERE queue_id = ? AND visible_at > ? AND receive_count > 0 AND group_id IS NOT NULL',
    ).all(queueId, now);
    return new Set(rows.map((row) => z.string().parse(row.group_id)));
  }

  /** Records a delivery: the new receive count, receipt nonce and visibility. */
  markReceived(seq: number, receiveCount: number, now: number, visibleAt: number, receipt: string): void {
    this.#statement(
      'UPDATE messages SET receive_count = ?, first_received_at = COALESCE(first_received_at, ?), received_at = ?, visible_at = ?, receipt = ? WHERE seq = ?',
    ).run(receiveCount, now, now, visibleAt, receipt, seq);
  }

  /** Makes every message that is in flight now visible at `now`; returns how many. */
  releaseInFlight(now: number): number {
    const result = this.#statement('UPDATE messages SET visible_at = ? WHERE visible_at > ? AND receive_count > 0').run(now, now);
    return Number(result.changes);
  }

  /** Sets when a message may next be received. */
  setVisibleAt(seq: number, visibleAt: number): void {
    this.#statement('UPDATE messages SET visible_at = ? WHERE seq = ?').run(visibleAt, seq);
  }

  /** Deletes one message. */
  deleteMessage(seq: number): void {
    this.#statement('DELETE FROM messages WHERE seq = ?').run(seq);
  }

  /** Deletes every message of a queue; gives how many. */
  purge(queueId: number): number {
    return Number(this.#statement('DELETE FROM messages WHERE queue_id = ?').run(queueId).changes);
  }

  /** Drops the queue's messages enqueued at or before `cutoff` and counts them; gives how many. */
  expire(queueId: number, cutoff: number): number {
    const dropped = Number(this.#statement('DELETE FROM messages WHERE queue_id = ? AND enqueued_at <= ?').run(queueId, cutoff).changes);
    if (dropped > 0) this.#statement('UPDATE queues SET expired_messages = expired_messages + ? WHERE id = ?').run(dropped, queueId);
    return dropped;
  }

  /** Visible, in-flight and delayed messages of a queue at `now`. */
  counts(queueId: number, now: number): MessageCounts {
    const row = Counts.parse(
      this.#statement(
        `SELECT SUM(visible_at <= ?1) AS visible, SUM(visible_at > ?1 AND receive_count > 0) AS in_flight,
           SUM(visible_at > ?1 AND receive_count = 0) AS delayed FROM messages WHERE queue_id = ?2`,
      ).get(now, queueId),
    );
    return { visible: row.visible ?? 0, inFlight: row.in_flight ?? 0, delayed: row.delayed ?? 0 };
  }

  /** All messages of a queue (any state). */
  messageCount(queueId: number): number {
    return Count.parse(this.#statement('SELECT COUNT(*) AS count FROM messages WHERE queue_id = ?').get(queueId)).count;
  }

  /** The highest row number of the queue's messages (0 when empty). */
  lastSeq(queueId: number): number {
    return Count.parse(this.#statement('SELECT COALESCE(MAX(seq), 0) AS count FROM messages WHERE queue_id = ?').get(queueId)).count;
  }

  /** The earliest time after `now` when a message of the queue becomes visible. */
  nextVisibleAt(queueId: number, now: number): number | undefined {
    const row = Earliest.parse(this.#statement('SELECT MIN(visible_at) AS earliest FROM messages WHERE queue_id = ? AND visible_at > ?').get(queueId, now));
    return row.earliest ?? undefined;
  }

  /** When the oldest message of the queue that was received fewer than `receiveLimit` times arrived in it. */
  oldestArrival(queueId: number, receiveLimit: number): number | undefined {
    const row = Earliest.parse(
      this.#statement('SELECT MIN(arrived_at) AS earliest FROM messages WHERE queue_id = ? AND receive_count < ?').get(queueId, receiveLimit),
    );
    return row.earliest ?? undefined;
  }

  /** Messages of a queue in send order with row numbers in (afterSeq, upToSeq]. */
  messagesBetween(queueId: number, afterSeq: number, upToSeq: number, limit: number): MessageRecord[] {
    return this.#statement('SELECT * FROM messages WHERE queue_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
      .all(queueId, afterSeq, upToSeq, limit)
      .map((row) => MessageRow.parse(row));
  }

  // FIFO deduplication

  /** The message a deduplication id stands for, while its 5-minute interval lasts. */
  duplicateOf(queueId: number, scope: string, deduplicationId: string, now: number): { messageId: string; sequenceNumber: string } | undefined {
    const row = this.#statement(
      'SELECT message_id, sequence_number FROM deduplication WHERE queue_id = ? AND scope = ? AND dedup_id = ? AND expires_at > ?',
    ).get(queueId, scope, deduplicationId, now);
    if (row === undefined) return undefined;
    return { messageId: z.string().parse(row.message_id), sequenceNumber: z.string().parse(row.sequence_number) };
  }

  /** Remembers a deduplication id until `expiresAt`. */
  recordDeduplication(queueId: number, scope: string, deduplicationId: string, messageId: string, sequenceNumber: string, expiresAt: number): void {
    this.#statement(
      'INSERT OR REPLACE INTO deduplication (queue_id, scope, dedup_id, message_id, sequence_number, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(queueId, scope, deduplicationId, messageId, sequenceNumber, expiresAt);
  }

  /** Forgets deduplication ids whose interval has ended, and deleted queue names older than `deletedBefore`. */
  forgetExpired(now: number, deletedBefore: number): void {
    this.#statement('DELETE FROM deduplication WHERE expires_at <= ?').run(now);
    this.#statement('DELETE FROM deleted_queues WHERE deleted_at < ?').run(deletedBefore);
  }

  // Message move tasks

  /** Stores a new task. */
  insertMoveTask(task: MoveTaskRecord): void {
    this.#statement(
      `INSERT INTO move_tasks (handle, source_arn, destination_arn, max_per_second, status, started_at, to_move, moved, failure_reason, last_seq, cursor)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      task.handle,
      task.sourceArn,
      task.destinationArn ?? null,
      task.maxPerSecond ?? null,
      task.status,
      task.startedAt,
      task.toMove,
      task.moved,
      task.failureReason ?? null,
      task.lastSeq,
      task.cursor,
    );
  }

  /** Updates a task's progress and status. */
  updateMoveTask(handle: string, update: Pick<MoveTaskRecord, 'status' | 'moved' | 'cursor' | 'failureReason'>): void {
    this.#statement('UPDATE move_tasks SET status = ?, moved = ?, cursor = ?, failure_reason = ? WHERE handle = ?').run(
      update.status,
      update.moved,
      update.cursor,
      update.failureReason ?? null,
      handle,
    );
  }

  /** One task by handle. */
  moveTask(handle: string): MoveTaskRecord | undefined {
    const row = this.#statement('SELECT * FROM move_tasks WHERE handle = ?').get(handle);
    return row === undefined ? undefined : MoveTaskRow.parse(row);
  }

  /** The most recent tasks of a source queue, newest first. */
  moveTasksOf(sourceArn: string, limit: number): MoveTaskRecord[] {
    return this.#statement('SELECT * FROM move_tasks WHERE source_arn = ? ORDER BY started_at DESC LIMIT ?')
      .all(sourceArn, limit)
      .map((row) => MoveTaskRow.parse(row));
  }

  /** Every task still RUNNING. */
  runningMoveTasks(): MoveTaskRecord[] {
    return this.#statement("SELECT * FROM move_tasks WHERE status = 'RUNNING' ORDER BY started_at")
      .all()
      .map((row) => MoveTaskRow.parse(row));
  }

  #statement(sql: string): StatementSync {
    return this.#database.statement(sql);
  }
}

function nullable(...values: (string | number | undefined)[]): SQLInputValue[] {
  return values.map((value) => value ?? null);
}
