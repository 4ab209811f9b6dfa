/**
 * The file-drop ERP adapter: Harmony's ErpPort for a legacy ERP that has no API, only
 * folders. Harmony drops customer, order and cancellation files into the ERP's import
 * folder; the ERP drops status files and master data exports into its export folder. The
 * conversation is asynchronous, so the port answers with what the files say now and
 * RetryableError ("waiting for the ERP to …") while the ERP has yet to act: the saga
 * retries until it has.
 *
 * Every write is idempotent by file name: a customer file is named by the id derived from
 * the CRM id, an order and its cancellation by the id derived from the external
 * reference, so a retry makes the same file, and an order that already has a file waiting
 * or an open order in the ERP is not written again. An order's state is the newest of the
 * ERP's statuses for its external reference (ACCEPTED is a draft, CONFIRMED / SHIPPED /
 * INVOICED / PAID / CANCELLED as named, REJECTED: the ERP refused it, with a reason); an
 * order file still waiting in the import folder is newer than any status.
 *
 * What this relies on from the ERP (the sandbox behaves so): it writes an order's status
 * before it removes the order file from its import folder; it ignores an order file whose
 * ORDER_REF already has an open order; it imports customer files before order files, and
 * order files before cancellation files; it writes its export files whole (or under a
 * temporary name it then renames).
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import type { Party } from '../../crm/port.ts';
import { draftInput, PartyInput } from '../inputs.ts';
import type { CustomerUpsertResult, ErpOrder, ErpPort, ErpStatusPoll, SalesOrderDraft } from '../port.ts';
import { FileDropClient, type FileDropFolders } from './client.ts';
import { CANCEL_FILE, CUSTOMER_FILE, CUSTOMER_MASTER_FILE, FILE_PREFIX, ITEM_MASTER_FILE, MASTER_FILE, ORDER_FILE } from './file-kinds.ts';
import type { TableFormat } from './formats/table.ts';
import {
  compactVat,
  CUSTOMER_ID_PATTERN,
  CustomerMasterRow,
  customerIdFor,
  foldEmail,
  ItemRow,
  netTotal,
  ORDER_ID_PATTERN,
  ORDER_STATUS,
  orderIdFor,
  PendingCustomerRow,
  PendingOrderRow,
  toCustomerRecord,
  toOrderRecords,
  validateRows,
} from './mapping.ts';
import { allStatusLines, readStatusFiles, type StatusFileBatch, type StatusLine } from './status-files.ts';
import { FILE_DROP_SYSTEM, type FileTransport, type RemoteFile } from './transports/transport.ts';

/** How to reach one file-drop ERP. */
export interface FileDropErpOptions {
  readonly transport: FileTransport;
  readonly format: TableFormat;
  readonly folders: FileDropFolders;
  /** The ERP's home currency: amounts its files carry without a CURRENCY are in it. */
  readonly currency: string;
  /** Base name of the ERP's item master export; undefined when it exports none. @default 'ITEMS' */
  readonly itemMaster?: string | undefined;
  /** Base name of the ERP's customer master export. @default 'CUSTOMERS' */
  readonly customerMaster?: string;
  /** How long the item master is cached. @default 300000 */
  readonly referenceDataTtlMs?: number;
}

const FileDropPartyInput = PartyInput.extend({
  email: z.string().trim().optional(),
  phone: z.string().optional(),
  vatNumber: z.string().trim().optional(),
});

const DraftInput = draftInput({
  customerId: z.string().regex(CUSTOMER_ID_PATTERN, 'expected a customer id such as HC-0123456789ABCDEF or an ERP customer number'),
});

const OrderId = z.string().regex(ORDER_ID_PATTERN, 'expected a file-drop order id such as HO-0123456789ABCDEF');

function validate<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new PermanentError(`Invalid ${what} for the file-drop ERP: ${z.prettifyError(parsed.error)}`, { system: FILE_DROP_SYSTEM, code: 'invalid-input' });
}

/** What the files say about one order. */
interface OrderState {
  readonly id: string;
  /** The order file still waiting in the import folder. */
  readonly pendingOrder: RemoteFile | undefined;
  readonly pendingCancel: boolean;
  /** Every status the ERP reported for the order, oldest first. */
  readonly statuses: readonly StatusLine[];
}

function newest(state: OrderState): StatusLine | undefined {
  return state.statuses.at(-1);
}

/** The ERP has the order open (neither rejected nor cancelled). */
function isOpen(state: OrderState): boolean {
  const status = newest(state)?.row.STATUS;
  return status !== undefined && status !== 'REJECTED' && status !== 'CANCELLED';
}

/** Harmony's ErpPort over an ERP that exchanges files. */
export class FileDropErp implements ErpPort {
  readonly system = FILE_DROP_SYSTEM;
  readonly #client: FileDropClient;
  readonly #currency: string;
  readonly #customerMaster: string;

  constructor(options: FileDropErpOptions) {
    this.#client = new FileDropClient({
      transport: options.transport,
      format: options.format,
      folders: options.folders,
      itemMaster: options.itemMaster === undefined ? MASTER_FILE.items : options.itemMaster === '' ? undefined : options.itemMaster,
      ...(options.referenceDataTtlMs === undefined ? {} : { referenceDataTtlMs: options.referenceDataTtlMs }),
    });
    this.#currency = options.currency;
    this.#customerMaster = options.customerMaster ?? MASTER_FILE.customers;
  }

  /**
   * Matches the party against the ERP's customer master and the customer files still
   * waiting in the import folder — by CRM id, then VAT number, then email — and writes a
   * customer file when nothing matches. The id of a customer Harmony created is derived
   * from the CRM id; a customer the ERP had before is known by its customer number.
   */
  async upsertCustomer(party: Party): Promise<CustomerUpsertResult> {
    const input = validate(FileDropPartyInput, party, 'party');
    const ownId = customerIdFor(input.externalId);
    const { inbox } = this.#client.folders;
    const pendingFiles = (await this.#client.list(inbox)).filter((file) => file.name.startsWith(FILE_PREFIX.customer));
    if (pendingFiles.some((file) => file.name === this.#client.fileName(`${FILE_PREFIX.customer}${ownId}`))) {
      return { customerId: ownId, created: false, matchedBy: 'externalId' };
    }
    const master = await this.#client.readMaster(this.#customerMaster, CUSTOMER_MASTER_FILE);
    const masterRows = master === undefined ? [] : validateRows(CustomerMasterRow, master.table.records).rows.map(({ row }) => row);
    const pending: z.infer<typeof PendingCustomerRow>[] = [];
    for (const file of pendingFiles) {
      const read = await this.#client.read(inbox, file, CUSTOMER_FILE).catch((error: unknown) => {
        // Imported (and removed) by the ERP since the listing: the master will show it.
        if (error instanceof PermanentError && error.code === 'file-not-found') return undefined;
        throw error;
      });
      if (read !== undefined) pending.push(...validateRows(PendingCustomerRow, read.table.records).rows.map(({ row }) => row));
    }
    const candidates = [
      ...masterRows.map((row) => ({ id: row.CUSTOMER_ID || row.CUSTOMER_NO, externalId: row.EXTERNAL_ID, vat: row.VAT_NUMBER, email: row.EMAIL })),
      ...pending.map((row) => ({ id: row.CUSTOMER_ID, externalId: row.EXTERNAL_ID, vat: row.VAT_NUMBER, email: row.EMAIL })),
    ];
    const byExternalId = candidates.find((candidate) => candidate.externalId === input.externalId);
    if (byExternalId !== undefined) return { customerId: byExternalId.id, created: false, matchedBy: 'externalId' };
    if (input.vatNumber !== undefined && input.vatNumber !== '') {
      const vat = compactVat(input.vatNumber);
      const byVat = candidates.find((candidate) => candidate.vat !== undefined && candidate.vat !== '' && compactVat(candidate.vat) === vat);
      if (byVat !== undefined) return { customerId: byVat.id, created: false, matchedBy: 'vatNumber' };
    }
    if (input.email !== undefined && input.email !== '') {
      const email = foldEmail(input.email);
      const byEmail = candidates.find((candidate) => candidate.email !== undefined && foldEmail(candidate.email) === email);
      if (byEmail !== undefined) return { customerId: byEmail.id, created: false, matchedBy: 'email' };
    }
    await this.#client.write(inbox, this.#client.fileName(`${FILE_PREFIX.customer}${ownId}`), CUSTOMER_FILE, [toCustomerRecord(party, ownId)]);
    return { customerId: ownId, created: true };
  }

  /** The order with this external reference while it waits for import or is open in the ERP. */
  async findSalesOrderByExternalRef(externalRef: string): Promise<ErpOrder | undefined> {
    const state = await this.#state(orderIdFor(validate(z.string().trim().min(1), externalRef, 'externalRef')));
    if (isOpen(state)) return this.#fromStatuses(state);
    if (state.pendingOrder !== undefined) return this.#pendingDraft(state);
    return undefined;
  }

  /**
   * Writes the order file and answers the order as a draft; an order waiting for import or
   * open in the ERP is answered as it is and not written again. SKUs missing from the
   * ERP's item master (when it exports one) are a PermanentError naming them, and no file
   * is written; otherwise the ERP's REJECTED status tells, and `confirmSalesOrder` reports it.
   */
  async createSalesOrder(draft: SalesOrderDraft): Promise<ErpOrder> {
    const input = validate(DraftInput, draft, 'draft');
    const id = orderIdFor(input.externalRef);
    const state = await this.#state(id);
    if (isOpen(state)) return this.#fromStatuses(state);
    const order: ErpOrder = { id, reference: '', externalRef: input.externalRef, status: 'draft', amountTotal: netTotal(input.lines), currency: input.currency };
    if (state.pendingOrder !== undefined) return order;
    const known = await this.#client.knownSkus(ITEM_MASTER_FILE, (file) => new Set(validateRows(ItemRow, file.table.records).rows.map(({ row }) => row.SKU)));
    if (known !== undefined) {
      const unknown = [...new Set(input.lines.map((line) => line.sku).filter((sku) => !known.has(sku)))];
      if (unknown.length > 0) {
        throw new PermanentError(`the ERP's item master has no SKU ${unknown.join(', ')}; order ${input.externalRef} was not sent`, {
          system: FILE_DROP_SYSTEM,
          code: 'unknown-sku',
        });
      }
    }
    await this.#client.write(this.#client.folders.inbox, this.#client.fileName(`${FILE_PREFIX.order}${id}`), ORDER_FILE, toOrderRecords(input));
    return order;
  }

  /**
   * Answers once the ERP has confirmed the order (the legacy ERP confirms accepted orders
   * itself): RetryableError while it is waiting for import or for confirmation,
   * PermanentError with the ERP's reason when it rejected the order.
   */
  async confirmSalesOrder(orderId: string): Promise<ErpOrder> {
    const state = await this.#state(validate(OrderId, orderId, 'orderId'));
    const latest = newest(state);
    if (state.pendingOrder !== undefined && !isOpen(state)) {
      throw this.#waiting(`waiting for the ERP to import order ${orderId}`);
    }
    if (latest === undefined) throw this.#notFound(orderId);
    switch (latest.row.STATUS) {
      case 'ACCEPTED':
        throw this.#waiting(`waiting for the ERP to confirm order ${latest.row.ORDER_REF} (${latest.row.ERP_ORDER_NO})`);
      case 'REJECTED':
        this.#client.forgetItemMaster();
        throw this.#rejected(latest);
      case 'CANCELLED':
        throw new PermanentError(`the ERP cancelled order ${latest.row.ORDER_REF} (${latest.row.ERP_ORDER_NO}); it cannot be confirmed`, { system: FILE_DROP_SYSTEM, code: 'cancelled' });
      default:
        return this.#fromStatuses(state);
    }
  }

  /**
   * Writes a cancellation file (once) and answers once the ERP reports the order
   * CANCELLED: RetryableError until then. An order the ERP rejected never existed there,
   * so it counts as cancelled.
   */
  async cancelSalesOrder(orderId: string): Promise<ErpOrder> {
    const state = await this.#state(validate(OrderId, orderId, 'orderId'));
    const latest = newest(state);
    if (state.pendingOrder === undefined && !isOpen(state)) {
      if (latest === undefined) throw this.#notFound(orderId);
      return { ...this.#fromStatuses(state), status: 'cancelled' };
    }
    if (!state.pendingCancel) {
      const externalRef = latest?.row.ORDER_REF ?? (await this.#pendingDraft(state)).externalRef;
      await this.#client.write(this.#client.folders.inbox, this.#client.fileName(`${FILE_PREFIX.cancel}${orderId}`), CANCEL_FILE, [
        { ORDER_REF: externalRef, REQUESTED_AT: new Date().toISOString() },
      ]);
    }
    throw this.#waiting(`waiting for the ERP to cancel order ${orderId}`);
  }

  /** The order as the newest status (or the waiting order file) shows it; PermanentError when the ERP never had it. */
  async getSalesOrder(orderId: string): Promise<ErpOrder> {
    const state = await this.#state(validate(OrderId, orderId, 'orderId'));
    if (isOpen(state)) return this.#fromStatuses(state);
    if (state.pendingOrder !== undefined) return this.#pendingDraft(state);
    const latest = newest(state);
    if (latest === undefined) throw this.#notFound(orderId);
    if (latest.row.STATUS === 'REJECTED') throw this.#rejected(latest);
    return this.#fromStatuses(state);
  }

  /**
   * The status files not yet processed: each status once, and each line that could not be
   * read with its file and line number (for the rejected-records queue); `acknowledge()`
   * marks the files processed.
   */
  readStatusFiles(): Promise<StatusFileBatch> {
    return readStatusFiles(this.#client);
  }

  /**
   * The status poller's view of {@link readStatusFiles}: changes of orders the ERP has
   * numbered (REJECTED has no ERP order and is reported by `confirmSalesOrder` instead).
   */
  async pollStatusUpdates(): Promise<ErpStatusPoll> {
    const batch = await readStatusFiles(this.#client);
    return {
      updates: batch.statuses.flatMap(({ row, checksum, line }) =>
        row.STATUS === 'REJECTED' || row.ERP_ORDER_NO === undefined
          ? []
          : [{ orderRef: row.ERP_ORDER_NO, externalRef: row.ORDER_REF, status: ORDER_STATUS[row.STATUS], occurredAt: row.OCCURRED_AT, sourceId: `${checksum}:${line}` }],
      ),
      rejected: batch.badLines.map((bad) => ({ source: bad.file, line: bad.line, raw: bad.raw, reason: bad.reason })),
      acknowledge: () => batch.acknowledge(),
    };
  }

  async #state(id: string): Promise<OrderState> {
    const [inbox, statuses] = await Promise.all([this.#client.list(this.#client.folders.inbox), allStatusLines(this.#client)]);
    return {
      id,
      pendingOrder: inbox.find((file) => file.name === this.#client.fileName(`${FILE_PREFIX.order}${id}`)),
      pendingCancel: inbox.some((file) => file.name === this.#client.fileName(`${FILE_PREFIX.cancel}${id}`)),
      statuses: statuses.filter((status) => orderIdFor(status.row.ORDER_REF) === id),
    };
  }

  #fromStatuses(state: OrderState): ErpOrder {
    const latest = newest(state)!;
    const numbered = state.statuses.findLast((status) => status.row.ERP_ORDER_NO !== undefined && status.row.ERP_ORDER_NO !== '');
    const priced = state.statuses.findLast((status) => status.row.AMOUNT_TOTAL !== undefined);
    return {
      id: state.id,
      reference: numbered?.row.ERP_ORDER_NO ?? '',
      externalRef: latest.row.ORDER_REF,
      status: latest.row.STATUS === 'REJECTED' ? 'cancelled' : ORDER_STATUS[latest.row.STATUS],
      amountTotal: priced?.row.AMOUNT_TOTAL ?? 0,
      currency: priced?.row.CURRENCY ?? latest.row.CURRENCY ?? this.#currency,
    };
  }

  /** The order as the file waiting for import describes it. */
  async #pendingDraft(state: OrderState): Promise<ErpOrder> {
    const file = await this.#client.read(this.#client.folders.inbox, state.pendingOrder!, ORDER_FILE).catch((error: unknown) => {
      if (error instanceof PermanentError && error.code === 'file-not-found') {
        throw this.#waiting(`order ${state.id} is being imported by the ERP`);
      }
      throw error;
    });
    const rows = validateRows(PendingOrderRow, file.table.records).rows.map(({ row }) => row);
    const first = rows[0];
    if (first === undefined) {
      throw new PermanentError(`${file.name} in the ERP's import folder has no readable order line`, { system: FILE_DROP_SYSTEM, code: 'malformed-file' });
    }
    const lines = rows.map((row) => ({ quantity: row.QUANTITY, unitPrice: row.UNIT_PRICE, discountPercent: row.DISCOUNT_PERCENT }));
    return { id: state.id, reference: '', externalRef: first.ORDER_REF, status: 'draft', amountTotal: netTotal(lines), currency: first.CURRENCY };
  }

  #waiting(message: string): RetryableError {
    return new RetryableError(message, { system: FILE_DROP_SYSTEM, code: 'waiting-for-erp' });
  }

  #notFound(orderId: string): PermanentError {
    return new PermanentError(`the file-drop ERP has no order ${orderId}: no order file waits for import and the ERP reported no status for it`, {
      system: FILE_DROP_SYSTEM,
      code: 'not-found',
    });
  }

  #rejected(status: StatusLine): PermanentError {
    return new PermanentError(`the ERP rejected order ${status.row.ORDER_REF}: ${status.row.REASON ?? 'no reason given'} (${status.file}, line ${status.line})`, {
      system: FILE_DROP_SYSTEM,
      code: 'rejected',
    });
  }
}
