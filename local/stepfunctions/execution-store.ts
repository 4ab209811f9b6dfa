/**
 * The durable record of the local Step Functions service, in `node:sqlite`: every
 * execution (status, input, output, the state in flight and its input), its history
 * events in AWS's shapes, the definition it runs, redrive client tokens, and the
 * cumulative AWS/States-style counters per state machine. Writes are synchronous and
 * each group of events commits in one transaction, so what a caller was told
 * happened is on disk before the next state runs.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import * as z from 'zod';
import { HubDatabase, optionalNumber, optionalText } from '../sqlite/hub-database.ts';

/** Status of an execution, as DescribeExecution reports it. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** The counters `stats()` reports, named like the AWS/States CloudWatch metrics. */
export type ExecutionMetricName =
  | 'ExecutionsStarted'
  | 'ExecutionsSucceeded'
  | 'ExecutionsFailed'
  | 'ExecutionsTimedOut'
  | 'ExecutionsAborted'
  | 'ExecutionsRedriven';

/** Every counter, in the order `stats()` lists them. */
export const EXECUTION_METRIC_NAMES: readonly ExecutionMetricName[] = [
  'ExecutionsStarted',
  'ExecutionsSucceeded',
  'ExecutionsFailed',
  'ExecutionsTimedOut',
  'ExecutionsAborted',
  'ExecutionsRedriven',
];

/** One execution as stored; dates are epoch milliseconds. */
export interface ExecutionRecord {
  /** Insertion order: newest executions have the highest. */
  readonly seq: number;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  /** The execution input, as the caller sent it (a JSON text). */
  readonly input: string;
  readonly output: string | undefined;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  readonly traceHeader: string | undefined;
  readonly startDate: number;
  readonly stopDate: number | undefined;
  readonly redriveCount: number;
  readonly redriveDate: number | undefined;
  /** When the execution times out (its TimeoutSeconds from the start or last redrive). */
  readonly deadline: number | undefined;
  /** Content hash of the state machine revision the execution runs (see `saveDefinition`). */
  readonly definitionHash: string;
  /** The top-level state last entered and not yet left: where a resume or redrive continues. */
  readonly currentState: string | undefined;
  /** That state's input (a JSON text). */
  readonly currentInput: string | undefined;
  /** Id of the newest history event. */
  readonly lastEventId: number;
}

/** Fields of an execution that a transition may change. */
export type ExecutionUpdate = Partial<
  Pick<
    ExecutionRecord,
    | 'status'
    | 'output'
    | 'error'
    | 'cause'
    | 'stopDate'
    | 'redriveCount'
    | 'redriveDate'
    | 'deadline'
    | 'currentState'
    | 'currentInput'
  >
>;

/** One history event as stored: the AWS HistoryEvent without its envelope fields in `details`. */
export interface StoredHistoryEvent {
  readonly id: number;
  readonly type: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly previousEventId: number;
  /** The event's details member(s), e.g. `{ stateEnteredEventDetails: { name, input } }`. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** What one transition writes, in one transaction. */
export interface Transition {
  readonly events: readonly StoredHistoryEvent[];
  readonly update?: ExecutionUpdate;
  /** A counter to add one to, for the execution's state machine. */
  readonly metric?: ExecutionMetricName;
  /** A redrive client token to remember with the redrive date (idempotent RedriveExecution). */
  readonly redriveToken?: string;
}

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;


/** A row of `executions`: the file is outside the process, so it is checked like any other input. */
const ExecutionRow = z
  .object({
    seq: z.number().int(),
    arn: z.string(),
    state_machine_arn: z.string(),
    name: z.string(),
    status: z.enum(STATUSES),
    input: z.string(),
    output: optionalText,
    error: optionalText,
    cause: optionalText,
    trace_header: optionalText,
    start_date: z.number(),
    stop_date: optionalNumber,
    redrive_count: z.number().int(),
    redrive_date: optionalNumber,
    deadline: optionalNumber,
    definition_hash: z.string(),
    current_state: optionalText,
    current_input: optionalText,
    last_event_id: z.number().int(),
  })
  .transform(
    (row): ExecutionRecord => ({
      seq: row.seq,
      executionArn: row.arn,
      stateMachineArn: row.state_machine_arn,
      name: row.name,
      status: row.status,
      input: row.input,
      output: row.output,
      error: row.error,
      cause: row.cause,
      traceHeader: row.trace_header,
      startDate: row.start_date,
      stopDate: row.stop_date,
      redriveCount: row.redrive_count,
      redriveDate: row.redrive_date,
      deadline: row.deadline,
      definitionHash: row.definition_hash,
      currentState: row.current_state,
      currentInput: row.current_input,
      lastEventId: row.last_event_id,
    }),
  );

const HistoryRow = z.object({
  id: z.number().int(),
  type: z.string(),
  timestamp: z.number(),
  previous_event_id: z.number().int(),
  details: z.string(),
});

const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS state_machines (
    arn TEXT PRIMARY KEY,
    creation_date INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS definitions (
    hash TEXT PRIMARY KEY,
    machine TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    state_machine_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    trace_header TEXT,
    start_date INTEGER NOT NULL,
    stop_date INTEGER,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_date INTEGER,
    deadline INTEGER,
    definition_hash TEXT NOT NULL REFERENCES definitions (hash),
    current_state TEXT,
    current_input TEXT,
    last_event_id INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, seq);
  CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
  CREATE TABLE IF NOT EXISTS history (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    type TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS metrics (
    state_machine_arn TEXT NOT NULL,
    metric TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (state_machine_arn, metric)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS redrive_tokens (
    execution_arn TEXT NOT NULL,
    token TEXT NOT NULL,
    redrive_date INTEGER NOT NULL,
    PRIMARY KEY (execution_arn, token)
  ) WITHOUT ROWID;
`;

/** Column of `executions` for each updatable field. */
const UPDATE_COLUMNS: Readonly<Record<keyof ExecutionUpdate, string>> = {
  status: 'status',
  output: 'output',
  error: 'error',
  cause: 'cause',
  stopDate: 'stop_date',
  redriveCount: 'redrive_count',
  redriveDate: 'redrive_date',
  deadline: 'deadline',
  currentState: 'current_state',
  currentInput: 'current_input',
};

/** Which executions a listing returns. */
export interface ExecutionQuery {
  readonly stateMachineArn: string;
  readonly status?: ExecutionStatus;
  /** `true`: only executions redriven at least once; `false`: only never redriven. */
  readonly redriven?: boolean;
  /** Only executions older (lower `seq`) than this. */
  readonly beforeSeq?: number;
  readonly limit: number;
}

/** Which history events a page returns. */
export interface HistoryQuery {
  readonly reverse: boolean;
  /** Only events after this id (before it when `reverse`). */
  readonly afterId?: number;
  readonly limit: number;
}

/**
 * The sqlite database of the local Step Functions service: `stepfunctions.sqlite` in
 * `dataDirectory` (WAL, `synchronous=NORMAL`: a process crash loses nothing committed),
 * or an in-memory database when there is none.
 */
export class ExecutionStore {
  readonly #database: HubDatabase;
  readonly #db: DatabaseSync;

  constructor(dataDirectory?: string) {
    this.#database = new HubDatabase({
      dataDirectory,
      fileName: 'stepfunctions.sqlite',
      synchronous: 'NORMAL',
      pragmas: 'PRAGMA foreign_keys = ON',
      schema: SCHEMA,
      schemaVersion: SCHEMA_VERSION,
    });
    this.#db = this.#database.db;
  }

  /** Closes the database; the store cannot be used afterwards. */
  close(): void {
    this.#database.close();
  }

  /** The creation date of a state machine: when this data directory first saw it. */
  registerStateMachine(arn: string, now: number): number {
    this.#statement('INSERT OR IGNORE INTO state_machines (arn, creation_date) VALUES (?, ?)').run(arn, now);
    const row = this.#statement('SELECT creation_date FROM state_machines WHERE arn = ?').get(arn);
    return z.number().parse(row?.creation_date);
  }

  /** Stores a state machine revision (its JSON text) under its content hash, once. */
  saveDefinition(hash: string, machineJson: string): void {
    this.#statement('INSERT OR IGNORE INTO definitions (hash, machine) VALUES (?, ?)').run(hash, machineJson);
  }

  /** The JSON text of a stored state machine revision. */
  definition(hash: string): string | undefined {
    const row = this.#statement('SELECT machine FROM definitions WHERE hash = ?').get(hash);
    return row === undefined ? undefined : z.string().parse(row.machine);
  }

  /** One execution, or undefined. */
  execution(executionArn: string): ExecutionRecord | undefined {
    const row = this.#statement('SELECT * FROM executions WHERE arn = ?').get(executionArn);
    return row === undefined ? undefined : ExecutionRow.parse(row);
  }

  /** Every execution still RUNNING, oldest first. */
  runningExecutions(): ExecutionRecord[] {
    return this.#statement("SELECT * FROM executions WHERE status = 'RUNNING' ORDER BY seq")
      .all()
      .map((row) => ExecutionRow.parse(row));
  }

  /** A page of a state machine's executions, newest first. */
  listExecutions(query: ExecutionQuery): ExecutionRecord[] {
    const conditions = ['state_machine_arn = ?'];
    const parameters: SQLInputValue[] = [query.stateMachineArn];
    if (query.status !== undefined) {
      conditions.push('status = ?');
      parameters.push(query.status);
    }
    if (query.redriven !== undefined) conditions.push(query.redriven ? 'redrive_count > 0' : 'redrive_count = 0');
    if (query.beforeSeq !== undefined) {
      conditions.push('seq < ?');
      parameters.push(query.beforeSeq);
    }
    parameters.push(query.limit);
    return this.#statement(`SELECT * FROM executions WHERE ${conditions.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...parameters)
      .map((row) => ExecutionRow.parse(row));
  }

  /** A page of an execution's history. */
  history(executionArn: string, query: HistoryQuery): StoredHistoryEvent[] {
    const order = query.reverse ? 'DESC' : 'ASC';
    const after = query.afterId === undefined ? '' : query.reverse ? 'AND id < ?' : 'AND id > ?';
    const parameters: SQLInputValue[] = [executionArn];
    if (query.afterId !== undefined) parameters.push(query.afterId);
    parameters.push(query.limit);
    return this.#statement(`SELECT * FROM history WHERE execution_arn = ? ${after} ORDER BY id ${order} LIMIT ?`)
      .all(...parameters)
      .map((row) => {
        const parsed = HistoryRow.parse(row);
        return {
          id: parsed.id,
          type: parsed.type,
          timestamp: parsed.timestamp,
          previousEventId: parsed.previous_event_id,
          details: JSON.parse(parsed.details) as Record<string, unknown>,
        };
      });
  }

  /**
   * Deletes up to `limit` executions that stopped before `stoppedBeforeMs`, with their
   * history and redrive tokens (AWS keeps a closed Standard execution 90 days); returns
   * how many went. Running executions are never touched.
   */
  expireStopped(stoppedBeforeMs: number, limit = 1000): number {
    let removed = 0;
    this.#transaction(() => {
      const arns = this.#statement(
        "SELECT arn FROM executions WHERE status != 'RUNNING' AND stop_date IS NOT NULL AND stop_date < ? ORDER BY seq LIMIT ?",
      )
        .all(stoppedBeforeMs, limit)
        .map((row) => String(row.arn));
      for (const arn of arns) {
        this.#statement('DELETE FROM history WHERE execution_arn = ?').run(arn);
        this.#statement('DELETE FROM redrive_tokens WHERE execution_arn = ?').run(arn);
        this.#statement('DELETE FROM executions WHERE arn = ?').run(arn);
      }
      removed = arns.length;
    });
    return removed;
  }

  /** Inserts a new execution with its first history event, and counts it as started. */
  insertExecution(record: ExecutionRecord, started: StoredHistoryEvent): void {
    this.#transaction(() => {
      this.#statement(
        `INSERT INTO executions (arn, state_machine_arn, name, status, input, trace_header, start_date, redrive_count,
           deadline, definition_hash, last_event_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        record.executionArn,
        record.stateMachineArn,
        record.name,
        record.status,
        record.input,
        record.traceHeader ?? null,
        record.startDate,
        record.redriveCount,
        record.deadline ?? null,
        record.definitionHash,
        started.id,
      );
      this.#insertEvent(record.executionArn, started);
      this.#count(record.stateMachineArn, 'ExecutionsStarted');
    });
  }

  /** Writes one transition of an execution: its events, the execution's new fields, a counter. */
  transition(executionArn: string, stateMachineArn: string, transition: Transition): void {
    this.#transaction(() => {
      for (const event of transition.events) this.#insertEvent(executionArn, event);
      const assignments: string[] = [];
      const values: SQLInputValue[] = [];
      for (const [field, value] of Object.entries(transition.update ?? {}) as [keyof ExecutionUpdate, unknown][]) {
        assignments.push(`${UPDATE_COLUMNS[field]} = ?`);
        values.push((value ?? null) as SQLInputValue);
      }
      const last = transition.events.at(-1);
      if (last !== undefined) {
        assignments.push('last_event_id = ?');
        values.push(last.id);
      }
      if (assignments.length > 0) {
        this.#statement(`UPDATE executions SET ${assignments.join(', ')} WHERE arn = ?`).run(...values, executionArn);
      }
      if (transition.metric !== undefined) this.#count(stateMachineArn, transition.metric);
      if (transition.redriveToken !== undefined && last !== undefined) {
        this.#statement('INSERT OR REPLACE INTO redrive_tokens (execution_arn, token, redrive_date) VALUES (?, ?, ?)').run(
          executionArn,
          transition.redriveToken,
          last.timestamp,
        );
        // AWS answers idempotently for the last 10 client tokens of an execution.
        this.#statement(
          `DELETE FROM redrive_tokens WHERE execution_arn = ? AND token NOT IN
             (SELECT token FROM redrive_tokens WHERE execution_arn = ? ORDER BY redrive_date DESC LIMIT 10)`,
        ).run(executionArn, executionArn);
      }
    });
  }

  /** The redrive date a client token already produced for an execution, if any. */
  redriveDateOfToken(executionArn: string, token: string): number | undefined {
    const row = this.#statement('SELECT redrive_date FROM redrive_tokens WHERE execution_arn = ? AND token = ?').get(
      executionArn,
      token,
    );
    return row === undefined ? undefined : z.number().parse(row.redrive_date);
  }

  /** Every counter of every state machine that has one. */
  metrics(): Map<string, Map<ExecutionMetricName, number>> {
    const result = new Map<string, Map<ExecutionMetricName, number>>();
    for (const row of this.#statement('SELECT state_machine_arn, metric, value FROM metrics').all()) {
      const arn = z.string().parse(row.state_machine_arn);
      const metric = z.enum(EXECUTION_METRIC_NAMES as [ExecutionMetricName, ...ExecutionMetricName[]]).parse(row.metric);
      const counters = result.get(arn) ?? new Map<ExecutionMetricName, number>();
      counters.set(metric, z.number().parse(row.value));
      result.set(arn, counters);
    }
    return result;
  }

  #insertEvent(executionArn: string, event: StoredHistoryEvent): void {
    this.#statement(
      'INSERT INTO history (execution_arn, id, type, timestamp, previous_event_id, details) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(executionArn, event.id, event.type, event.timestamp, event.previousEventId, JSON.stringify(event.details));
  }

  #count(stateMachineArn: string, metric: ExecutionMetricName): void {
    this.#statement(
      `INSERT INTO metrics (state_machine_arn, metric, value) VALUES (?, ?, 1)
       ON CONFLICT (state_machine_arn, metric) DO UPDATE SET value = value + 1`,
    ).run(stateMachineArn, metric);
  }

  #transaction(work: () => void): void {
    this.#database.transaction(work);
  }

  #statement(sql: string): StatementSync {
    return this.#database.statement(sql);
  }
}
