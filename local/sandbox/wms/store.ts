/**
 * Where the ShipBob sandbox keeps its warehouse: node:sqlite (WAL, locked to this process,
 * see HubDatabase) with orders and returns as JSON rows keyed by id and reference, inventory
 * items with their on-hand and committed quantities, the inventory history (one row per
 * movement, ids as ShipBob's `inventory_audit_event_id`), issued tokens and id counters.
 * Every write request commits before it is answered, so a restarted sandbox has every
 * answered write.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';
import type { StoredOrder, StoredReturn } from './records.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY,
  reference_id TEXT NOT NULL UNIQUE,
  updated_at TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_updated_at ON orders (updated_at);
CREATE TABLE IF NOT EXISTS inventory (
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  on_hand INTEGER NOT NULL,
  committed INTEGER NOT NULL,
  quarantined INTEGER NOT NULL,
  digital INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inventory_events (
  id INTEGER PRIMARY KEY,
  inventory_id INTEGER NOT NULL,
  facility_id INTEGER NOT NULL,
  category TEXT NOT NULL,
  quantity_change INTEGER NOT NULL,
  committed_change INTEGER NOT NULL,
  at TEXT NOT NULL,
  order_id INTEGER
);
CREATE TABLE IF NOT EXISTS returns (
  id INTEGER PRIMARY KEY,
  reference_id TEXT NOT NULL UNIQUE,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  spent INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** One inventory item (a SKU in ShipBob's network). */
export interface InventoryRow {
  readonly id: number;
  readonly sku: string;
  readonly name: string;
  readonly onHand: number;
  readonly committed: number;
  readonly quarantined: number;
  readonly digital: boolean;
}

/** One movement of stock. */
export interface InventoryEventRow {
  readonly id: number;
  readonly inventoryId: number;
  readonly facilityId: number;
  readonly category: string;
  readonly quantityChange: number;
  readonly committedChange: number;
  readonly at: string;
  readonly orderId: number | null;
}

function inventoryRow(row: Record<string, unknown>): InventoryRow {
  return {
    id: Number(row.id),
    sku: String(row.sku),
    name: String(row.name),
    onHand: Number(row.on_hand),
    committed: Number(row.committed),
    quarantined: Number(row.quarantined),
    digital: Number(row.digital) === 1,
  };
}

/** The sandbox's database. */
export class WarehouseStore {
  readonly #database: HubDatabase;

  /** @param dataDirectory folder of `shipbob.sqlite`; undefined keeps everything in memory */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'shipbob.sqlite', synchronous: 'NORMAL', schema: SCHEMA, schemaVersion: 1 });
  }

  /** True before the warehouse has any inventory (the sandbox then seeds itself). */
  isEmpty(): boolean {
    return this.#database.statement('SELECT 1 AS found FROM inventory LIMIT 1').get() === undefined;
  }

  /** Runs `work` in one write transaction. */
  transaction<Result>(work: () => Result): Result {
    return this.#database.transaction(work);
  }

  /** Increments a counter and returns its new value (`start` the first time). */
  next(name: string, start: number): number {
    const row = this.#database.statement('SELECT value FROM counters WHERE name = ?').get(name);
    const value = row === undefined ? start : Number(row.value) + 1;
    this.#database.statement('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
    return value;
  }

  putOrder(order: StoredOrder): void {
    this.#database
      .statement('INSERT INTO orders (id, reference_id, updated_at, data) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data')
      .run(order.id, order.reference_id, order.updatedAt, JSON.stringify(order));
  }

  order(id: number): StoredOrder | undefined {
    const row = this.#database.statement('SELECT data FROM orders WHERE id = ?').get(id);
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as StoredOrder);
  }

  orderByReference(referenceId: string): StoredOrder | undefined {
    const row = this.#database.statement('SELECT data FROM orders WHERE reference_id = ?').get(referenceId);
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as StoredOrder);
  }

  /** Every order, oldest first (the API filters and pages them). */
  orders(): StoredOrder[] {
    return this.#documents<StoredOrder>('SELECT data FROM orders ORDER BY id');
  }

  putInventory(item: InventoryRow): void {
    this.#database
      .statement(
        `INSERT INTO inventory (id, sku, name, on_hand, committed, quarantined, digital) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET on_hand = excluded.on_hand, committed = excluded.committed, quarantined = excluded.quarantined, name = excluded.name`,
      )
      .run(item.id, item.sku, item.name, item.onHand, item.committed, item.quarantined, item.digital ? 1 : 0);
  }

  inventory(id: number): InventoryRow | undefined {
    const row = this.#database.statement('SELECT * FROM inventory WHERE id = ?').get(id);
    return row === undefined ? undefined : inventoryRow(row);
  }

  inventoryBySku(sku: string): InventoryRow | undefined {
    const row = this.#database.statement('SELECT * FROM inventory WHERE sku = ?').get(sku);
    return row === undefined ? undefined : inventoryRow(row);
  }

  /** Every inventory item, by id. */
  inventories(): InventoryRow[] {
    return this.#database
      .statement('SELECT * FROM inventory ORDER BY id')
      .all()
      .map(inventoryRow);
  }

  addEvent(event: InventoryEventRow): void {
    this.#database
      .statement('INSERT INTO inventory_events (id, inventory_id, facility_id, category, quantity_change, committed_change, at, order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(event.id, event.inventoryId, event.facilityId, event.category, event.quantityChange, event.committedChange, event.at, event.orderId);
  }

  /** Events of a facility after `afterId`, at or after `since`, oldest first, at most `limit`. */
  events(facilityId: number, afterId: number, since: string, until: string, limit: number): InventoryEventRow[] {
    return this.#database
      .statement('SELECT * FROM inventory_events WHERE facility_id = ? AND id > ? AND at >= ? AND at <= ? ORDER BY id LIMIT ?')
      .all(facilityId, afterId, since, until, limit)
      .map((row) => ({
        id: Number(row.id),
        inventoryId: Number(row.inventory_id),
        facilityId: Number(row.facility_id),
        category: String(row.category),
        quantityChange: Number(row.quantity_change),
        committedChange: Number(row.committed_change),
        at: String(row.at),
        orderId: row.order_id === null ? null : Number(row.order_id),
      }));
  }

  putReturn(stored: StoredReturn): void {
    this.#database
      .statement('INSERT INTO returns (id, reference_id, data) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data')
      .run(stored.id, stored.reference_id, JSON.stringify(stored));
  }

  returnById(id: number): StoredReturn | undefined {
    const row = this.#database.statement('SELECT data FROM returns WHERE id = ?').get(id);
    return row === undefined ? undefined : (JSON.parse(String(row.data)) as StoredReturn);
  }

  returns(): StoredReturn[] {
    return this.#documents<StoredReturn>('SELECT data FROM returns ORDER BY id');
  }

  /** The JSON `data` column of every row `sql` selects. */
  #documents<Document>(sql: string): Document[] {
    return this.#database
      .statement(sql)
      .all()
      .map((row) => JSON.parse(String(row.data)) as Document);
  }

  putToken(token: string, kind: 'access' | 'refresh', expiresAt: number): void {
    this.#database.statement('INSERT INTO tokens (token, kind, expires_at, spent) VALUES (?, ?, ?, 0) ON CONFLICT (token) DO NOTHING').run(token, kind, expiresAt);
  }

  token(token: string): { kind: string; expiresAt: number; spent: boolean } | undefined {
    const row = this.#database.statement('SELECT kind, expires_at, spent FROM tokens WHERE token = ?').get(token);
    return row === undefined ? undefined : { kind: String(row.kind), expiresAt: Number(row.expires_at), spent: Number(row.spent) === 1 };
  }

  spendToken(token: string): void {
    this.#database.statement('UPDATE tokens SET spent = 1 WHERE token = ?').run(token);
  }

  /** Every access token issued so far stops working. */
  expireAccessTokens(): void {
    this.#database.statement("UPDATE tokens SET expires_at = 0 WHERE kind = 'access'").run();
  }

  /** Closes the database (and releases its lock); idempotent. */
  close(): void {
    this.#database.close();
  }
}
