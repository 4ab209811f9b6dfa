/**
 * The "legacy ERP" of the file-drop sandbox: a batch job over the exchange folder, as such
 * ERPs run every few minutes. One run:
 *
 * 1. confirms the orders it accepted in an earlier run (CONFIRMED);
 * 2. imports the files in `inbox/` — customer files first, then orders, then cancellations,
 *    each by name; files still being uploaded (`.NAME.part`) and files it imported before
 *    (same name and SHA-256) are skipped. An order is checked against the item master, the
 *    customers and the currencies: accepted as `AB-000123` (ACCEPTED, total with 19 % VAT)
 *    or REJECTED with the reason; an order file for a reference with an open order is
 *    ignored. A cancellation cancels the open order (CANCELLED), or is REJECTED;
 * 3. writes the run's status lines to `outbox/STATUS_<UTC time>_<n>.<ext>` (a temporary
 *    name, then renamed) before it removes the imported files from `inbox/` (to `archive/`);
 * 4. exports its customer master (`outbox/CUSTOMERS`) and item master (`outbox/ITEMS`) when
 *    they changed.
 *
 * A `malformed` fault (operation `status-file` or none) puts a line the adapter cannot read
 * into the next status file, after the first good line.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CANCEL_FILE, CUSTOMER_FILE, CUSTOMER_MASTER_FILE, FILE_PREFIX, isTemporaryName, ITEM_MASTER_FILE, MASTER_FILE, ORDER_FILE, STATUS_FILE, type FileKind } from '../../../functions/connectors/erp/file-drop/file-kinds.ts';
import { formatForExtension, tableFormat, type FileFormatName, type FormatOptions } from '../../../functions/connectors/erp/file-drop/formats/index.ts';
import type { DecodedRecord, TableFormat, TableRecord } from '../../../functions/connectors/erp/file-drop/formats/table.ts';
import type { FaultInjector } from '../faults.ts';
import type { ErpStore, PendingStatusLine } from './erp-store.ts';
import { SANDBOX_VAT_RATE } from './seed.ts';

/** How the ERP reads and writes its folders. */
export interface LegacyErpOptions {
  /** The exchange folder (`inbox/`, `outbox/`, `archive/` inside). */
  readonly root: string;
  readonly store: ErpStore;
  /** The format of the files it writes; it reads any format by extension. */
  readonly format: FileFormatName;
  readonly formatOptions?: FormatOptions;
  /** Faults for the files it writes (`malformed`). */
  readonly faults: FaultInjector;
  readonly log?: ((line: string) => void) | undefined;
}

/** What one run did. */
export interface RunReport {
  readonly imported: readonly string[];
  readonly statusFile: string | undefined;
  readonly statusLines: number;
}

/** Folders of the exchange, relative to the root. */
export const ERP_FOLDERS = { inbox: 'inbox', outbox: 'outbox', processed: 'outbox/processed', archive: 'archive' } as const;

const PREFIX_ORDER = [FILE_PREFIX.customer, FILE_PREFIX.order, FILE_PREFIX.cancel];

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:TZ.]/g, '');
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The sandbox's ERP. */
export class LegacyErp {
  readonly #options: LegacyErpOptions;
  readonly #format: TableFormat;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #exported = new Map<string, string>();

  constructor(options: LegacyErpOptions) {
    this.#options = options;
    this.#format = tableFormat(options.format, options.formatOptions);
  }

  /** Creates the folders the ERP and its partners use. */
  async prepare(): Promise<void> {
    for (const folder of Object.values(ERP_FOLDERS)) await mkdir(join(this.#options.root, folder), { recursive: true });
    await this.#exportMasters();
  }

  /** Runs once, after any run in progress. */
  run(): Promise<RunReport> {
    const next = this.#queue.then(() => this.#run());
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves once no run is in progress. */
  async idle(): Promise<void> {
    await this.#queue;
  }

  /** Reports a later status of an order (SHIPPED, INVOICED, PAID) in a status file of its own, as the ERP does when the warehouse ships. */
  report(orderNo: string, status: 'SHIPPED' | 'INVOICED' | 'PAID'): Promise<RunReport> {
    const next = this.#queue.then(async () => {
      const { store } = this.#options;
      const order = store.order(orderNo);
      if (order === undefined) throw new Error(`no order ${orderNo}`);
      store.transaction(() => {
        store.setOrderStatus(orderNo, status);
        store.addStatusLine({ orderRef: order.externalRef, orderNo, status, amountTotal: order.amountTotal, currency: order.currency, occurredAt: new Date().toISOString(), reason: undefined });
      });
      const written = await this.#flushStatusLines();
      return { imported: [], statusFile: written?.file, statusLines: written?.lines ?? 0 };
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #run(): Promise<RunReport> {
    const { store, root } = this.#options;
    const run = store.transaction(() => store.next('run'));
    this.#confirmAccepted(run);
    const inbox = join(root, ERP_FOLDERS.inbox);
    const names = (await readdir(inbox, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && !isTemporaryName(entry.name) && PREFIX_ORDER.some((prefix) => entry.name.startsWith(prefix)))
      .map((entry) => entry.name)
      .sort((first, second) => this.#rank(first) - this.#rank(second) || (first < second ? -1 : first > second ? 1 : 0));
    const imported: string[] = [];
    for (const name of names) {
      const bytes = await readFile(join(inbox, name)).catch(() => undefined);
      if (bytes === undefined) continue;
      const checksum = createHash('sha256').update(bytes).digest('hex');
      if (!store.wasImported(name, checksum)) await this.#import(name, bytes, checksum, run);
      imported.push(name);
    }
    const written = await this.#flushStatusLines();
    for (const name of imported) {
      await rename(join(inbox, name), join(root, ERP_FOLDERS.archive, `${stamp(new Date())}_${name}`)).catch(() => undefined);
    }
    await this.#exportMasters();
    return { imported, statusFile: written?.file, statusLines: written?.lines ?? 0 };
  }

  #rank(name: string): number {
    return PREFIX_ORDER.findIndex((prefix) => name.startsWith(prefix));
  }

  #confirmAccepted(run: number): void {
    const { store } = this.#options;
    store.transaction(() => {
      for (const order of store.ordersIn('ACCEPTED')) {
        if (order.acceptedInRun >= run) continue;
        store.setOrderStatus(order.orderNo, 'CONFIRMED');
        store.addStatusLine({ orderRef: order.externalRef, orderNo: order.orderNo, status: 'CONFIRMED', amountTotal: order.amountTotal, currency: order.currency, occurredAt: new Date().toISOString(), reason: undefined });
      }
    });
  }

  async #import(name: string, bytes: Buffer, checksum: string, run: number): Promise<void> {
    const { store } = this.#options;
    const format = formatForExtension(name, this.#options.formatOptions);
    const kind: FileKind = name.startsWith(FILE_PREFIX.customer) ? CUSTOMER_FILE : name.startsWith(FILE_PREFIX.order) ? ORDER_FILE : CANCEL_FILE;
    const decoded = format === undefined ? undefined : await format.decode(kind.columns, new Uint8Array(bytes));
    store.transaction(() => {
      store.markImported(name, checksum, new Date().toISOString());
      if (decoded === undefined) {
        this.#options.log?.(`[file-drop erp] ${name}: unknown file type, ignored`);
        return;
      }
      const problems = decoded.badLines.map((bad) => `line ${bad.line}: ${bad.reason}`);
      if (kind === CUSTOMER_FILE) this.#importCustomers(name, decoded.records, problems);
      else if (kind === ORDER_FILE) this.#importOrder(name, decoded.records, problems, run);
      else this.#importCancellation(name, decoded.records, problems);
    });
  }

  #importCustomers(name: string, records: readonly DecodedRecord[], problems: readonly string[]): void {
    for (const problem of problems) this.#options.log?.(`[file-drop erp] ${name}: ${problem}`);
    for (const { values, line } of records) {
      const customerId = values.CUSTOMER_ID;
      const customerName = values.NAME;
      if (typeof customerId !== 'string' || typeof customerName !== 'string') {
        this.#options.log?.(`[file-drop erp] ${name} line ${line}: CUSTOMER_ID and NAME are required`);
        continue;
      }
      this.#options.store.upsertCustomer({
        customerId,
        externalId: typeof values.EXTERNAL_ID === 'string' ? values.EXTERNAL_ID : undefined,
        name: customerName,
        vatNumber: typeof values.VAT_NUMBER === 'string' ? values.VAT_NUMBER : undefined,
        email: typeof values.EMAIL === 'string' ? values.EMAIL : undefined,
      });
    }
  }

  #importOrder(name: string, records: readonly DecodedRecord[], problems: readonly string[], run: number): void {
    const { store } = this.#options;
    const reject = (orderRef: string, reason: string): void => {
      store.addStatusLine({ orderRef, orderNo: undefined, status: 'REJECTED', amountTotal: undefined, currency: undefined, occurredAt: new Date().toISOString(), reason: reason.slice(0, 200) });
    };
    const orderRef = records.map((record) => record.values.ORDER_REF).find((value): value is string => typeof value === 'string');
    if (orderRef === undefined) {
      this.#options.log?.(`[file-drop erp] ${name}: no readable ORDER_REF; ${problems.join('; ')}`);
      return;
    }
    if (problems.length > 0) return reject(orderRef, `unreadable order file ${name}: ${problems.join('; ')}`);
    if (records.some((record) => record.values.ORDER_REF !== orderRef)) return reject(orderRef, `${name} holds more than one ORDER_REF`);
    if (store.openOrder(orderRef) !== undefined) {
      this.#options.log?.(`[file-drop erp] ${name}: order ${orderRef} is already open; file ignored`);
      return;
    }
    const first = records[0]!.values;
    const customer = typeof first.CUSTOMER_ID === 'string' ? store.findCustomer(first.CUSTOMER_ID) : undefined;
    if (customer === undefined) return reject(orderRef, `unknown customer ${String(first.CUSTOMER_ID ?? '(none)')}`);
    const currency = String(first.CURRENCY ?? '');
    if (!store.hasCurrency(currency)) return reject(orderRef, `currency ${currency || '(none)'} is not set up`);
    let net = 0;
    for (const { values, line } of records) {
      const sku = String(values.SKU ?? '');
      if (!store.hasItem(sku)) return reject(orderRef, `unknown item ${sku || '(none)'} (line ${line})`);
      if (typeof values.QUANTITY !== 'number' || values.QUANTITY <= 0 || typeof values.UNIT_PRICE !== 'number') {
        return reject(orderRef, `line ${line}: QUANTITY and UNIT_PRICE are required`);
      }
      const discount = typeof values.DISCOUNT_PERCENT === 'number' ? values.DISCOUNT_PERCENT : 0;
      net += values.QUANTITY * values.UNIT_PRICE * (1 - discount / 100);
    }
    const orderNo = `AB-${String(100 + store.next('order')).padStart(6, '0')}`;
    const amountTotal = round2(round2(net) * (1 + SANDBOX_VAT_RATE));
    store.insertOrder({ orderNo, externalRef: orderRef, customerNo: customer.customerNo, currency, amountTotal, status: 'ACCEPTED', acceptedInRun: run });
    store.addStatusLine({ orderRef, orderNo, status: 'ACCEPTED', amountTotal, currency, occurredAt: new Date().toISOString(), reason: undefined });
  }

  #importCancellation(name: string, records: readonly DecodedRecord[], problems: readonly string[]): void {
    const { store } = this.#options;
    for (const problem of problems) this.#options.log?.(`[file-drop erp] ${name}: ${problem}`);
    for (const { values } of records) {
      const orderRef = values.ORDER_REF;
      if (typeof orderRef !== 'string') continue;
      const order = store.openOrder(orderRef);
      const occurredAt = new Date().toISOString();
      if (order === undefined) {
        store.addStatusLine({ orderRef, orderNo: undefined, status: 'REJECTED', amountTotal: undefined, currency: undefined, occurredAt, reason: `cancellation: no open order with reference ${orderRef}`.slice(0, 200) });
        continue;
      }
      store.setOrderStatus(order.orderNo, 'CANCELLED');
      store.addStatusLine({ orderRef, orderNo: order.orderNo, status: 'CANCELLED', amountTotal: order.amountTotal, currency: order.currency, occurredAt, reason: undefined });
    }
  }

  /** Writes the status lines owed into one new status file; undefined when none are owed. */
  async #flushStatusLines(): Promise<{ file: string; lines: number } | undefined> {
    const { store } = this.#options;
    const lines = store.unwrittenStatusLines();
    if (lines.length === 0) return undefined;
    const records: TableRecord[] = lines.map((line: PendingStatusLine) => ({
      ORDER_REF: line.orderRef,
      ERP_ORDER_NO: line.orderNo,
      STATUS: line.status,
      AMOUNT_TOTAL: line.amountTotal,
      CURRENCY: line.currency,
      OCCURRED_AT: line.occurredAt,
      REASON: line.reason,
    }));
    const fault = this.#options.faults.take('status-file');
    if (fault?.kind === 'malformed') {
      records.splice(1, 0, { ORDER_REF: 'BROKEN-LINE', ERP_ORDER_NO: 'AB-??????', STATUS: 'SHIPED', OCCURRED_AT: 'yesterday' });
    }
    const file = `${FILE_PREFIX.status}${stamp(new Date())}_${String(store.transaction(() => store.next('status-file'))).padStart(6, '0')}${this.#format.extension}`;
    await this.#writeAtomically(join(ERP_FOLDERS.outbox, file), await this.#format.encode(STATUS_FILE.columns, records));
    store.markWritten(
      lines.map((line) => line.seq),
      file,
    );
    return { file, lines: lines.length };
  }

  async #exportMasters(): Promise<void> {
    const { store } = this.#options;
    const customers = store.customers().map((customer) => ({
      CUSTOMER_NO: customer.customerNo,
      CUSTOMER_ID: customer.customerId,
      EXTERNAL_ID: customer.externalId,
      NAME: customer.name,
      VAT_NUMBER: customer.vatNumber,
      EMAIL: customer.email,
    }));
    const items = store.items().map((item) => ({ SKU: item.sku, NAME: item.name, UNIT_PRICE: item.unitPrice, CURRENCY: 'EUR' }));
    await this.#export(MASTER_FILE.customers, CUSTOMER_MASTER_FILE, customers);
    await this.#export(MASTER_FILE.items, ITEM_MASTER_FILE, items);
  }

  async #export(baseName: string, kind: FileKind, records: readonly TableRecord[]): Promise<void> {
    const fingerprint = JSON.stringify(records);
    if (this.#exported.get(baseName) === fingerprint) return;
    await this.#writeAtomically(join(ERP_FOLDERS.outbox, `${baseName}${this.#format.extension}`), await this.#format.encode(kind.columns, records));
    this.#exported.set(baseName, fingerprint);
  }

  async #writeAtomically(relative: string, bytes: Uint8Array): Promise<void> {
    const path = join(this.#options.root, relative);
    const temporary = join(this.#options.root, `${relative}.part`);
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  }
}
