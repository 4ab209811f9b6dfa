/**
 * Simulated edits by another NAV session, for testing how a client handles a stale Key:
 * `POST /__sandbox/concurrent-edits` names a record and a count, and after each of the
 * next `count` answers that carry that record the sandbox writes it once more (a new
 * timestamp, so a new Key), as if a user had saved it in between. Held in memory only.
 */
import * as z from 'zod';
import type { NavRecord, NavStore, NavTable } from './store.ts';

/** Body of `POST /__sandbox/concurrent-edits`. */
export const ConcurrentEditRequest = z.object({
  /** The page service the record belongs to. */
  service: z.enum(['Customer', 'SalesOrder']),
  /** The record's number, e.g. `SO-1001`. */
  no: z.string().min(1),
  /** How many answers carrying the record are each followed by an edit. */
  count: z.number().int().positive().max(1000).default(1),
});
export type ConcurrentEditRequest = z.infer<typeof ConcurrentEditRequest>;

/** Pending edits by table and record number. */
export class ConcurrentEdits {
  private readonly pending = new Map<string, number>();

  /** Queues edits of a record. */
  add(request: ConcurrentEditRequest): void {
    const table: NavTable = request.service === 'Customer' ? 'Customer' : 'Sales Header';
    this.pending.set(keyOf(table, request.no.toUpperCase()), request.count);
  }

  /** Another session writes each answered record that has an edit pending (after the answer was composed). */
  apply(records: readonly NavRecord[], store: NavStore): void {
    for (const record of records) {
      const key = keyOf(record.table, record.no);
      const remaining = this.pending.get(key);
      if (remaining === undefined) continue;
      const current = store.get(record.table, record.no);
      if (current !== undefined) store.put(record.table, record.no, current.fields);
      if (remaining <= 1) this.pending.delete(key);
      else this.pending.set(key, remaining - 1);
    }
  }
}

function keyOf(table: NavTable, no: string): string {
  return `${table}|${no}`;
}
