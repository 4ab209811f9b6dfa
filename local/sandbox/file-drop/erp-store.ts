/**
 * What the legacy ERP of the file-drop sandbox keeps across restarts, in node:sqlite (WAL):
 * its item master and currencies, customers, orders, numbering, the inbox files it has
 * imported (name and SHA-256, so a file seen again is not imported twice) and the status
 * lines it owes the outbox. A processing run commits its changes and the status lines they
 * produce in one transaction; the lines are written to a status file afterwards and marked
 * written, so a crash between the two writes the same lines again (same content, same
 * checksum) rather than losing them.
 */
import { HubDatabase } from '../../sqlite/hub-database.ts';
import { SEEDED_CURRENCIES, SEEDED_ITEMS } from './seed.ts';

/** A customer of the ERP. */
export interface ErpCustomer {
  readonly customerNo: string;
  /** The id Harmony gave (CUSTOMER_ID of its file); undefined for customers the ERP had before. */
  readonly customerId: string | undefined;
  readonly externalId: string | undefined;
  readonly name: string;
  readonly vatNumber: string | undefined;
  readonly email: string | undefined;
}

/** An order of the ERP. */
export interface ErpSalesOrder {
  readonly orderNo: string;
  readonly externalRef: string;
  readonly customerNo: string;
  readonly currency: string;
  readonly amountTotal: number;
  readonly status: string;
  /** The processing run that accepted it (orders are confirmed on a later run). */
  readonly acceptedInRun: number;
}

/** A status line the ERP owes the outbox. */
export interface PendingStatusLine {
  readonly seq: number;
  readonly orderRef: string;
  readonly orderNo: string | undefined;
  readonly status: string;
  readonly amountTotal: number | undefined;
  readonly currency: string | undefined;
  readonly occurredAt: string;
  readonly reason: string | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS items (sku TEXT PRIMARY KEY, name TEXT NOT NULL, unit_price REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS currencies (code TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS customers (
  customer_no TEXT PRIMARY KEY,
  customer_id TEXT UNIQUE,
  external_id TEXT,
  name TEXT NOT NULL,
  vat_number TEXT,
  email TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
  order_no TEXT PRIMARY KEY,
  external_ref TEXT NOT NULL,
  customer_no TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount_total REAL NOT NULL,
  status TEXT NOT NULL,
  accepted_in_run INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_by_ref ON orders (external_ref);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS imported_files (name TEXT NOT NULL, checksum TEXT NOT NULL, imported_at TEXT NOT NULL, PRIMARY KEY (name, checksum)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS status_lines (
  seq INTEGER PRIMARY KEY,
  order_ref TEXT NOT NULL,
  order_no TEXT,
  status TEXT NOT NULL,
  amount_total REAL,
  currency TEXT,
  occurred_at TEXT NOT NULL,
  reason TEXT,
  written_to TEXT
);
CREATE INDEX IF NOT EXISTS status_lines_unwritten ON status_lines (written_to) WHERE written_to IS NULL;
`;

const text = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));

/** The ERP's database. */
export class ErpStore {
  readonly #database: HubDatabase;

  /** @param dataDirectory folder of `file-drop-erp.sqlite`; undefined keeps everything in memory */
  constructor(dataDirectory: string | undefined) {
    this.#database = new HubDatabase({ dataDirectory, fileName: 'file-drop-erp.sqlite', synchronous: 'NORMAL', schema: SCHEMA, schemaVersion: 1 });
    if (this.#database.statement('SELECT 1 AS found FROM items LIMIT 1').get() === undefined) {
      this.#database.transaction(() => {
        for (const item of SEEDED_ITEMS) this.#database.statement('INSERT INTO items (sku, name, unit_price) VALUES (?, ?, ?)').run(item.sku, item.name, item.unitPrice);
        for (const code of SEEDED_CURRENCIES) this.#database.statement('INSERT INTO currencies (code) VALUES (?)').run(code);
      });
    }
  }

  /** Runs `work` in one write transaction. */
  transaction<Result>(work: () => Result): Result {
    return this.#database.transaction(work);
  }

  /** Adds one to a counter and returns the new value. */
  next(counter: string): number {
    const row = this.#database
      .statement('INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value')
      .get(counter);
    return Number(row!.value);
  }

  items(): { sku: string; name: string; unitPrice: number }[] {
    return this.#database
      .statement('SELECT sku, name, unit_price FROM items ORDER BY sku')
      .all()
      .map((row) => ({ sku: String(row.sku), name: String(row.name), unitPrice: Number(row.unit_price) }));
  }

  hasItem(sku: string): boolean {
    return this.#database.statement('SELECT 1 AS found FROM items WHERE sku = ?').get(sku) !== undefined;
  }

  hasCurrency(code: string): boolean {
    return this.#database.statement('SELECT 1 AS found FROM currencies WHERE code = ?').get(code) !== undefined;
  }

  customers(): ErpCustomer[] {
    return this.#database.statement('SELECT * FROM customers ORDER BY customer_no').all().map((row) => this.#customer(row));
  }

  /** The customer an order names: by the id Harmony gave or by customer number. */
  findCustomer(idOrNumber: string): ErpCustomer | undefined {
    const row = this.#database.statement('SELECT * FROM customers WHERE customer_id = ? OR customer_no = ?').get(idOrNumber, idOrNumber);
    return row === undefined ? undefined : this.#customer(row);
  }

  /** Creates or updates the customer Harmony keys by `customerId`. */
  upsertCustomer(customer: Omit<ErpCustomer, 'customerNo'> & { customerId: string }): ErpCustomer {
    const existing = this.findCustomer(customer.customerId);
    const customerNo = existing?.customerNo ?? `K-${String(10_000 + this.next('customer')).padStart(5, '0')}`;
    this.#database
      .statement(
        `INSERT INTO customers (customer_no, customer_id, external_id, name, vat_number, email) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (customer_no) DO UPDATE SET external_id = excluded.external_id, name = excluded.name, vat_number = excluded.vat_number, email = excluded.email`,
      )
      .run(customerNo, customer.customerId, customer.externalId ?? null, customer.name, customer.vatNumber ?? null, customer.email ?? null);
    return { ...customer, customerNo };
  }

  /** Adds a customer the ERP had before Harmony (no CUSTOMER_ID), e.g. for tests of matching. */
  addNativeCustomer(customer: { name: string; vatNumber?: string; email?: string }): ErpCustomer {
    const customerNo = `K-${String(10_000 + this.next('customer')).padStart(5, '0')}`;
    this.#database
      .statement('INSERT INTO customers (customer_no, name, vat_number, email) VALUES (?, ?, ?, ?)')
      .run(customerNo, customer.name, customer.vatNumber ?? null, customer.email ?? null);
    return { customerNo, customerId: undefined, externalId: undefined, name: customer.name, vatNumber: customer.vatNumber, email: customer.email };
  }

  /** The open (not cancelled) order with this reference, if any. */
  openOrder(externalRef: string): ErpSalesOrder | undefined {
    const row = this.#database.statement("SELECT * FROM orders WHERE external_ref = ? AND status <> 'CANCELLED' ORDER BY order_no DESC LIMIT 1").get(externalRef);
    return row === undefined ? undefined : this.#order(row);
  }

  order(orderNo: string): ErpSalesOrder | undefined {
    const row = this.#database.statement('SELECT * FROM orders WHERE order_no = ?').get(orderNo);
    return row === undefined ? undefined : this.#order(row);
  }

  /** Orders in a status, oldest first. */
  ordersIn(status: string): ErpSalesOrder[] {
    return this.#database.statement('SELECT * FROM orders WHERE status = ? ORDER BY order_no').all(status).map((row) => this.#order(row));
  }

  insertOrder(order: ErpSalesOrder): void {
    this.#database
      .statement('INSERT INTO orders (order_no, external_ref, customer_no, currency, amount_total, status, accepted_in_run) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(order.orderNo, order.externalRef, order.customerNo, order.currency, order.amountTotal, order.status, order.acceptedInRun);
  }

  setOrderStatus(orderNo: string, status: string): void {
    this.#database.statement('UPDATE orders SET status = ? WHERE order_no = ?').run(status, orderNo);
  }

  wasImported(name: string, checksum: string): boolean {
    return this.#database.statement('SELECT 1 AS found FROM imported_files WHERE name = ? AND checksum = ?').get(name, checksum) !== undefined;
  }

  markImported(name: string, checksum: string, at: string): void {
    this.#database.statement('INSERT OR IGNORE INTO imported_files (name, checksum, imported_at) VALUES (?, ?, ?)').run(name, checksum, at);
  }

  addStatusLine(line: Omit<PendingStatusLine, 'seq'>): void {
    this.#database
      .statement('INSERT INTO status_lines (order_ref, order_no, status, amount_total, currency, occurred_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(line.orderRef, line.orderNo ?? null, line.status, line.amountTotal ?? null, line.currency ?? null, line.occurredAt, line.reason ?? null);
  }

  /** Status lines not yet written to a status file, in order. */
  unwrittenStatusLines(): PendingStatusLine[] {
    return this.#database
      .statement('SELECT * FROM status_lines WHERE written_to IS NULL ORDER BY seq')
      .all()
      .map((row) => ({
        seq: Number(row.seq),
        orderRef: String(row.order_ref),
        orderNo: text(row.order_no),
        status: String(row.status),
        amountTotal: row.amount_total === null ? undefined : Number(row.amount_total),
        currency: text(row.currency),
        occurredAt: String(row.occurred_at),
        reason: text(row.reason),
      }));
  }

  markWritten(seqs: readonly number[], fileName: string): void {
    this.transaction(() => {
      for (const seq of seqs) this.#database.statement('UPDATE status_lines SET written_to = ? WHERE seq = ?').run(fileName, seq);
    });
  }

  close(): void {
    this.#database.close();
  }

  #customer(row: Record<string, unknown>): ErpCustomer {
    return {
      customerNo: String(row.customer_no),
      customerId: text(row.customer_id),
      externalId: text(row.external_id),
      name: String(row.name),
      vatNumber: text(row.vat_number),
      email: text(row.email),
    };
  }

  #order(row: Record<string, unknown>): ErpSalesOrder {
    return {
      orderNo: String(row.order_no),
      externalRef: String(row.external_ref),
      customerNo: String(row.customer_no),
      currency: String(row.currency),
      amountTotal: Number(row.amount_total),
      status: String(row.status),
      acceptedInRun: Number(row.accepted_in_run),
    };
  }
}
