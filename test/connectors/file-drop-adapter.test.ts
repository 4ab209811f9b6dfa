/**
 * The file-drop adapter's conversation with the sandbox's legacy ERP beyond the contract:
 * status files read once (by name and checksum, also when re-uploaded under another name),
 * malformed lines reported with file and line while the rest is applied, the status poller's
 * view, the ERP's rejection as the answer when the adapter cannot check SKUs itself, customer
 * matching against the ERP's own customers, and configuration refused with a clear message.
 */
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { fileDropConnector } from '../../functions/connectors/erp/file-drop/connector.ts';
import type { FileDropErp } from '../../functions/connectors/erp/file-drop/index.ts';
import { failure, startFileDropTestExchange, type FileDropTestExchange } from '../../local/sandbox/file-drop/test-exchange.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';

const fixture = (name: string): URL => new URL(`../fixtures/file-drop/${name}`, import.meta.url);

const buyer = () => ({ externalId: uniqueRef('crm:company'), kind: 'company' as const, name: 'Nordwind Handels GmbH', vatNumber: uniqueRef('DE') });

describe('file-drop adapter over FTP (CSV with ; and decimal comma)', () => {
  let exchange: FileDropTestExchange;
  let erp: FileDropErp;
  let outbox: string;

  beforeAll(async () => {
    exchange = await startFileDropTestExchange({ csvSeparator: ';', decimalSeparator: ',' });
    erp = exchange.adapter('ftp');
    outbox = join(exchange.sandbox.root, 'outbox');
  });
  afterAll(async () => {
    await exchange?.sandbox.close();
  });

  /** Reads and acknowledges whatever status files wait, so each case starts from an empty outbox. */
  async function drain(): Promise<void> {
    await (await erp.readStatusFiles()).acknowledge();
  }

  async function sentOrder(): Promise<{ id: string; externalRef: string }> {
    const customer = await erp.upsertCustomer(buyer());
    const externalRef = uniqueRef('crm:deal');
    const order = await erp.createSalesOrder({ externalRef, customerId: customer.customerId, currency: 'EUR', lines: [{ sku: 'WIDGET-1', name: 'Widget', quantity: 2, unitPrice: 25 }] });
    return { id: order.id, externalRef };
  }

  async function acceptedOrder(): Promise<{ id: string; externalRef: string }> {
    const order = await sentOrder();
    await exchange.sandbox.process();
    return order;
  }

  it('reports a malformed status line with its file and line number and applies the rest of the file', async () => {
    await drain();
    const first = await sentOrder();
    const second = await sentOrder();
    await exchange.sandbox.process();
    await drain();
    exchange.sandbox.injectFault({ kind: 'malformed' });
    const report = await exchange.sandbox.process();
    expect(report.statusLines).toBe(2);

    const batch = await erp.readStatusFiles();
    expect(batch.badLines).toHaveLength(1);
    expect(batch.badLines[0]).toMatchObject({ file: report.statusFile, line: 3 });
    expect(batch.badLines[0]!.raw).toContain('BROKEN-LINE');
    expect(batch.badLines[0]!.reason).toMatch(/STATUS: .*got "SHIPED"/);
    expect(batch.badLines[0]!.reason).toMatch(/OCCURRED_AT: .*got "yesterday"/);
    expect(batch.statuses.map((status) => [status.line, status.row.STATUS])).toEqual([
      [2, 'CONFIRMED'],
      [4, 'CONFIRMED'],
    ]);
    expect(batch.statuses.map((status) => status.row.ORDER_REF).sort()).toEqual([first.externalRef, second.externalRef].sort());
    // The order on the line after the bad one is confirmed as far as the adapter is concerned.
    const afterTheBadLine = [first, second].find((order) => order.externalRef === batch.statuses[1]!.row.ORDER_REF)!;
    expect((await erp.confirmSalesOrder(afterTheBadLine.id)).status).toBe('confirmed');
  });

  it('gives the status poller the updates and the rejected lines, and acknowledging moves the file to processed/ with its checksum', async () => {
    await drain();
    const order = await acceptedOrder();
    exchange.sandbox.injectFault({ kind: 'malformed' });
    await exchange.sandbox.process();
    const accepted = await erp.getSalesOrder(order.id);
    await exchange.sandbox.report(accepted.reference, 'SHIPPED');

    const poll = await erp.pollStatusUpdates();
    expect(poll.updates.filter((update) => update.externalRef === order.externalRef).map((update) => update.status)).toEqual(['draft', 'confirmed', 'shipped']);
    expect(poll.updates.every((update) => /^[0-9a-f]{64}:\d+$/.test(update.sourceId) && update.orderRef.startsWith('AB-'))).toBe(true);
    expect(poll.rejected).toHaveLength(1);
    expect(poll.rejected[0]).toMatchObject({ source: expect.stringMatching(/^STATUS_.*\.csv$/), line: 3 });
    await poll.acknowledge();

    const left = (await readdir(outbox)).filter((name) => name.startsWith('STATUS_'));
    expect(left).toEqual([]);
    const processed = await readdir(join(outbox, 'processed'));
    expect(processed.some((name) => /^STATUS_.*\.[0-9a-f]{64}\.csv$/.test(name))).toBe(true);
    expect((await erp.pollStatusUpdates()).updates).toEqual([]);
    // Processed statuses still tell the order's state.
    expect((await erp.getSalesOrder(order.id)).status).toBe('shipped');
  });

  it('does not apply a status file twice: not when the same file comes again, nor a copy under another name', async () => {
    await drain();
    await acceptedOrder();
    const report = await exchange.sandbox.process();
    const name = report.statusFile!;
    const original = await readFile(join(outbox, name));
    const firstRead = await erp.readStatusFiles();
    expect(firstRead.statuses.length).toBeGreaterThan(0);
    await firstRead.acknowledge();

    await writeFile(join(outbox, name), original);
    await writeFile(join(outbox, `STATUS_copy_${name}`), original);
    const again = await erp.readStatusFiles();
    expect(again.statuses).toEqual([]);
    expect(again.files.map((file) => [file.name, file.duplicate])).toEqual([
      [name, true],
      [`STATUS_copy_${name}`, true],
    ]);
    await again.acknowledge();
    expect((await readdir(outbox)).filter((file) => file.startsWith('STATUS_'))).toEqual([]);

    // The same name with new content is a new file.
    await writeFile(join(outbox, name), Buffer.concat([original, Buffer.from('late:ref;AB-999999;PAID;1;EUR;2025-03-04T10:00:00Z;\r\n')]));
    const changed = await erp.readStatusFiles();
    expect(changed.statuses.map((status) => status.row.STATUS)).toContain('PAID');
    await changed.acknowledge();
  });

  it('reads a German ERP export as recorded: the good lines, and each bad line with its number', async () => {
    await drain();
    await copyFile(fixture('status-semicolon-decimal-comma.csv'), join(outbox, 'STATUS_20250303_recorded.csv'));
    const batch = await erp.readStatusFiles();
    expect(batch.statuses.map((status) => [status.line, status.row.ORDER_REF, status.row.STATUS, status.row.AMOUNT_TOTAL])).toEqual([
      [2, 'hubspot:deal:1001', 'ACCEPTED', 1234.56],
      [3, 'hubspot:deal:1002', 'REJECTED', undefined],
      [5, 'hubspot:deal:1003', 'CONFIRMED', 99.9],
      [7, 'hubspot:deal:1005', 'CANCELLED', 0],
    ]);
    expect(batch.badLines.map((bad) => [bad.file, bad.line])).toEqual([
      ['STATUS_20250303_recorded.csv', 4],
      ['STATUS_20250303_recorded.csv', 6],
    ]);
    expect(batch.badLines[1]!.reason).toContain('AMOUNT_TOTAL');
    await batch.acknowledge();
  });

  it('matches a customer the ERP had before Harmony by VAT number and email, and answers its customer number', async () => {
    const native = exchange.sandbox.store.addNativeCustomer({ name: 'Azure Interior', vatNumber: 'BE0477472701', email: 'info@azure-interior.example' });
    await exchange.sandbox.process();
    const byVat = await erp.upsertCustomer({ externalId: uniqueRef('crm:company'), kind: 'company', name: 'Azure Interior SA', vatNumber: 'BE 0477.472.701' });
    expect(byVat).toEqual({ customerId: native.customerNo, created: false, matchedBy: 'vatNumber' });
    const byEmail = await erp.upsertCustomer({ externalId: uniqueRef('crm:contact'), kind: 'person', name: 'Info', email: 'INFO@azure-interior.example' });
    expect(byEmail).toEqual({ customerId: native.customerNo, created: false, matchedBy: 'email' });
  });

  it('finds a customer by its CRM id in the ERP master once the ERP has imported the customer file', async () => {
    const party = buyer();
    const created = await erp.upsertCustomer(party);
    expect(created.created).toBe(true);
    await exchange.sandbox.process();
    expect((await readdir(join(exchange.sandbox.root, 'inbox'))).some((name) => name.includes(created.customerId))).toBe(false);
    expect(await erp.upsertCustomer({ ...party, vatNumber: undefined })).toEqual({ customerId: created.customerId, created: false, matchedBy: 'externalId' });
  });

  it('refuses a draft it cannot send with a PermanentError that names the field', async () => {
    const error = await failure(erp.createSalesOrder({ externalRef: uniqueRef('crm:deal'), customerId: 'HC-0000000000000001', currency: 'euro', lines: [] }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/currency/);
    expect(error.message).toMatch(/lines/);
  });
});

describe('file-drop adapter without an item master (the ERP itself rejects unknown SKUs)', () => {
  let exchange: FileDropTestExchange;
  let erp: FileDropErp;

  beforeAll(async () => {
    exchange = await startFileDropTestExchange({ format: 'xlsx' });
    erp = exchange.adapter('ftp', { FILE_DROP_FORMAT: 'xlsx', FILE_DROP_ITEM_MASTER: '' });
  });
  afterAll(async () => {
    await exchange?.sandbox.close();
  });

  it('sends the order, and confirming answers the ERP REJECTED status as a PermanentError naming the SKU and the reason', async () => {
    const customer = await erp.upsertCustomer(buyer());
    const draft = { externalRef: uniqueRef('crm:deal'), customerId: customer.customerId, currency: 'EUR', lines: [{ sku: 'NO-SUCH-SKU-404', name: 'Ghost', quantity: 1, unitPrice: 1 }] };
    const order = await erp.createSalesOrder(draft);
    expect(order.status).toBe('draft');
    const waiting = await failure(erp.confirmSalesOrder(order.id));
    expect(waiting).toBeInstanceOf(RetryableError);
    expect(waiting.message).toContain('waiting for the ERP to import order');

    await exchange.sandbox.process();
    const rejected = await failure(erp.confirmSalesOrder(order.id));
    expect(rejected).toBeInstanceOf(PermanentError);
    expect(rejected.message).toContain('NO-SUCH-SKU-404');
    expect(rejected.message).toContain('unknown item');
    expect(await erp.findSalesOrderByExternalRef(draft.externalRef)).toBeUndefined();

    // The deal fixed and sent again under the same reference: the ERP imports it this time.
    const fixed = await erp.createSalesOrder({ ...draft, lines: [{ sku: 'DOCK-4', name: 'Dock', quantity: 1, unitPrice: 189 }] });
    expect(fixed.id).toBe(order.id);
    await exchange.sandbox.process();
    await exchange.sandbox.process();
    expect(await erp.confirmSalesOrder(order.id)).toMatchObject({ status: 'confirmed', amountTotal: 224.91, reference: expect.stringMatching(/^AB-\d{6}$/) });
  });

  it('cancelling an order the ERP rejected is a no-op answered as cancelled', async () => {
    const customer = await erp.upsertCustomer(buyer());
    const order = await erp.createSalesOrder({ externalRef: uniqueRef('crm:deal'), customerId: customer.customerId, currency: 'CHF', lines: [{ sku: 'WIDGET-1', name: 'Widget', quantity: 1, unitPrice: 25 }] });
    await exchange.sandbox.process();
    expect((await erp.cancelSalesOrder(order.id)).status).toBe('cancelled');
    expect((await failure(erp.getSalesOrder(order.id))).message).toContain('currency CHF is not set up');
  });
});

describe('file-drop adapter when the ERP owns its outbox (status files remembered, not moved)', () => {
  let exchange: FileDropTestExchange;

  beforeAll(async () => {
    exchange = await startFileDropTestExchange({ format: 'fixed-width' });
  });
  afterAll(async () => {
    await exchange?.sandbox.close();
  });

  it('leaves the files where they are, writes a marker per checksum, and does not return them again', async () => {
    const erp = exchange.adapter('sftp', { FILE_DROP_FORMAT: 'fixed-width', FILE_DROP_STATUS_FILES: 'remember', FILE_DROP_PROCESSED_DIR: 'harmony/processed' });
    const customer = await erp.upsertCustomer(buyer());
    await erp.createSalesOrder({ externalRef: uniqueRef('crm:deal'), customerId: customer.customerId, currency: 'USD', lines: [{ sku: 'CABLE-3', name: 'Cable', quantity: 3, unitPrice: 4.5 }] });
    const report = await exchange.sandbox.process();
    const batch = await erp.readStatusFiles();
    expect(batch.statuses.map((status) => status.row.STATUS)).toEqual(['ACCEPTED']);
    await batch.acknowledge();
    await batch.acknowledge();
    expect(await readdir(join(exchange.sandbox.root, 'outbox'))).toContain(report.statusFile);
    expect(await readdir(join(exchange.sandbox.root, 'harmony/processed'))).toEqual([`${report.statusFile!.replace(/\.txt$/, '')}.${batch.files[0]!.checksum}.txt`]);
    expect((await erp.readStatusFiles()).statuses).toEqual([]);
  });

  it('refuses a note longer than its fixed-width field with a PermanentError naming it, and writes no file', async () => {
    const erp = exchange.adapter('sftp', { FILE_DROP_FORMAT: 'fixed-width' });
    const customer = await erp.upsertCustomer(buyer());
    const draft = { externalRef: uniqueRef('crm:deal'), customerId: customer.customerId, currency: 'EUR', note: 'n'.repeat(121), lines: [{ sku: 'CABLE-3', name: 'Cable', quantity: 1, unitPrice: 4.5 }] };
    const error = await failure(erp.createSalesOrder(draft));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('NOTE: ');
    expect(error.message).toContain('is 121 characters; the field holds 120');
    expect(await erp.findSalesOrderByExternalRef(draft.externalRef)).toBeUndefined();
  });
});

describe('file-drop settings', () => {
  const parse = (overrides: Record<string, string>) =>
    fileDropConnector.settings.safeParse({ FILE_DROP_URL: 'sftp://erp.example.com:22/exchange', FILE_DROP_ALLOWED_HOSTS: 'erp.example.com', ...overrides });
  const message = (result: ReturnType<typeof parse>): string => (result.success ? '' : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'));

  it('refuse a host that is not allowed, a metadata address, credentials in the URL and an unknown scheme', () => {
    expect(message(parse({ FILE_DROP_URL: 'ftp://elsewhere.example.com/x' }))).toContain('FILE_DROP_URL: FILE_DROP_URL: elsewhere.example.com is not in FILE_DROP_ALLOWED_HOSTS');
    expect(message(parse({ FILE_DROP_URL: 'sftp://169.254.169.254/', FILE_DROP_ALLOWED_HOSTS: '169.254.169.254' }))).toContain('link-local or metadata address');
    expect(message(parse({ FILE_DROP_URL: 'ftp://user:secret@erp.example.com/' }))).toContain('credentials do not belong in the URL');
    expect(message(parse({ FILE_DROP_URL: 'http://erp.example.com/' }))).toContain('expected ftp://, ftps://, sftp://, s3:// or file://');
    expect(message(parse({ FILE_DROP_CSV_SEPARATOR: ',', FILE_DROP_DECIMAL_SEPARATOR: ',' }))).toContain('FILE_DROP_CSV_SEPARATOR');
    expect(parse({ FILE_DROP_URL: 's3://acme-erp-exchange/harmony' }).success).toBe(true);
  });

  it('an sftp URL without the pinned host key cannot build an adapter', () => {
    const settings = fileDropConnector.settings.parse({ FILE_DROP_URL: 'sftp://erp.example.com:22/exchange', FILE_DROP_ALLOWED_HOSTS: 'erp.example.com' });
    expect(() => fileDropConnector.create(settings, { username: 'u', password: 'p' }, { timeoutMs: 1000 })).toThrow('FILE_DROP_SFTP_HOST_KEY');
  });
});
