/**
 * The one way the local hub opens its node:sqlite databases: in the data
 * directory, WAL, locked to this process until closed (a second hub on the same
 * data directory would deliver every message and run every execution twice),
 * with a schema version check; or in memory when there is no data directory.
 * Plus the write transaction and the prepared-statement cache every store uses.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import * as z from 'zod';

/** `FULL` survives a power cut; `NORMAL` survives a process crash and is faster. */
export type SynchronousMode = 'FULL' | 'NORMAL';

/** How to open one store's database. */
export interface HubDatabaseOptions {
  /** Folder of the file; undefined opens an in-memory database. */
  readonly dataDirectory: string | undefined;
  /** e.g. `sqs.sqlite`. */
  readonly fileName: string;
  readonly synchronous: SynchronousMode;
  /** `CREATE TABLE IF NOT EXISTS …` statements, run on every open. */
  readonly schema: string;
  /** Stored in `user_version`; a file written by another version is refused. */
  readonly schemaVersion: number;
  /** Further pragmas, e.g. `PRAGMA foreign_keys = ON`. */
  readonly pragmas?: string;
}

/** An open store database with its statement cache. */
export class HubDatabase {
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(options: HubDatabaseOptions) {
    if (options.dataDirectory === undefined) {
      this.db = new DatabaseSync(':memory:');
    } else {
      mkdirSync(options.dataDirectory, { recursive: true });
      const path = join(options.dataDirectory, options.fileName);
      this.db = new DatabaseSync(path);
      try {
        this.db.exec('PRAGMA busy_timeout = 200; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; BEGIN EXCLUSIVE; COMMIT');
      } catch (error) {
        this.db.close();
        throw new Error(`${path} is in use by another process (another hub on this data directory?): ${(error as Error).message}`);
      }
    }
    this.db.exec(`PRAGMA synchronous = ${options.synchronous}${options.pragmas === undefined ? '' : `; ${options.pragmas}`}`);
    const version = this.statement('PRAGMA user_version').get()?.user_version;
    if (version !== 0 && version !== options.schemaVersion) {
      throw new Error(`${options.fileName} has schema version ${String(version)}; this hub reads version ${options.schemaVersion}`);
    }
    this.db.exec(options.schema);
    this.db.exec(`PRAGMA user_version = ${options.schemaVersion}`);
  }

  /** A prepared statement, compiled once per SQL text. */
  statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `work` in one write transaction: all of it commits before this returns, or none of it. */
  transaction<Result>(work: () => Result): Result {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * Runs `work` in a write transaction shared with every other `commitSoon` of the same
   * turn of the event loop: one COMMIT, so one fsync, for all of them (group commit).
   * Resolves once that commit is on disk. Each work runs in its own savepoint, so one
   * that throws is rolled back and rejected alone; if the COMMIT itself fails, all reject.
   */
  commitSoon<Result>(work: () => Result): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#commitPending());
    });
  }

  readonly #pending: { work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];

  #commitPending(): void {
    const batch = this.#pending.splice(0);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.transaction(() => {
        for (const { work } of batch) {
          this.db.exec('SAVEPOINT work');
          try {
            outcomes.push({ ok: true, value: work() });
            this.db.exec('RELEASE work');
          } catch (error) {
            this.db.exec('ROLLBACK TO work; RELEASE work');
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    batch.forEach(({ resolve, reject }, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  }

  /** Closes the database (and its lock); idempotent. */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

/** A nullable TEXT column read as `string | undefined`. */
export const optionalText = z
  .string()
  .nullable()
  .transform((value) => value ?? undefined);

/** A nullable INTEGER/REAL column read as `number | undefined`. */
export const optionalNumber = z
  .number()
  .nullable()
  .transform((value) => value ?? undefined);
