/**
 * What Harmony's flows need from an ERP, in business words. One adapter per
 * vendor (`odoo/`, later `netsuite/`, `sap/`, `business-central/`, `file-drop/`).
 */
import type { Party } from '../crm/port.ts';

/** Lifecycle of an ERP sales order as Harmony sees it, whatever the vendor calls it. */
export type ErpOrderStatus =
  | 'draft'
  | 'confirmed'
  | 'shipped'
  | 'invoiced'
  | 'paid'
  | 'cancelled';

/** The ERP's customer record id and whether this call created it. */
export interface CustomerUpsertResult {
  readonly customerId: string;
  readonly created: boolean;
  /** How an existing customer was found: by the CRM's id, VAT number or email. */
  readonly matchedBy?: 'externalId' | 'vatNumber' | 'email';
}

/** A sales order line to create. */
export interface SalesOrderLineDraft {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly discountPercent?: number;
}

/** A sales order to create in the ERP. */
export interface SalesOrderDraft {
  /** The CRM deal's qualified id; the ERP keeps it as the order's external reference (`client_order_ref` in Odoo). */
  readonly externalRef: string;
  readonly customerId: string;
  readonly currency: string;
  readonly lines: readonly SalesOrderLineDraft[];
  readonly note?: string;
}

/** A sales order as the ERP holds it. */
export interface ErpOrder {
  /** The ERP's internal id, e.g. Odoo's `sale.order` id as a string. */
  readonly id: string;
  /** The order number people use, e.g. `S00042`. */
  readonly reference: string;
  readonly externalRef: string;
  readonly status: ErpOrderStatus;
  /** Total including tax as computed by the ERP's own price lists. */
  readonly amountTotal: number;
  readonly currency: string;
}

/** A status the ERP reported for one of its orders, read by polling (files, a delta API). */
export interface ErpStatusUpdate {
  /** The ERP's order number, e.g. `AB-000123`. */
  readonly orderRef: string;
  /** The CRM deal's qualified id the order carries, when the ERP reports it. */
  readonly externalRef?: string;
  readonly status: ErpOrderStatus;
  /** When the status changed in the ERP (ISO 8601 with offset). */
  readonly occurredAt: string;
  /** Unique and stable per reported change (e.g. a file's checksum and line): the dedup key. */
  readonly sourceId: string;
}

/** A record the ERP sent that Harmony could not read: it goes to a DLQ with where it was and why. */
export interface ErpRejectedRecord {
  /** Where it came from, e.g. the status file's name. */
  readonly source: string;
  /** 1-based line (or row) number in that source. */
  readonly line: number;
  readonly raw: string;
  readonly reason: string;
}

/** What one poll of an ERP's status feed found. */
export interface ErpStatusPoll {
  readonly updates: readonly ErpStatusUpdate[];
  readonly rejected: readonly ErpRejectedRecord[];
  /**
   * Marks what this poll returned as consumed (moves the files, advances the cursor). The
   * poller calls it only once every update is on the bus and every rejected record in the
   * DLQ: a crash before it means the next poll returns them again (deduplicated by sourceId).
   */
  acknowledge(): Promise<void>;
}

/** The ERP side of every flow. Every write is idempotent. */
export interface ErpPort {
  /** Short vendor name, e.g. `odoo`. */
  readonly system: string;
  /** Finds the customer by external id, then VAT number, then email; creates it when none matches. */
  upsertCustomer(party: Party): Promise<CustomerUpsertResult>;
  /** The newest order that carries this external reference and is not cancelled, if any. */
  findSalesOrderByExternalRef(externalRef: string): Promise<ErpOrder | undefined>;
  /** Creates a draft order; PermanentError when the ERP rejects it (unknown product, blocked customer…). */
  createSalesOrder(draft: SalesOrderDraft): Promise<ErpOrder>;
  /** Confirms an order (reserving stock where the ERP does). Confirming a confirmed order is a no-op. */
  confirmSalesOrder(orderId: string): Promise<ErpOrder>;
  /** Cancels an order so that it really ends cancelled. Cancelling a cancelled order is a no-op. */
  cancelSalesOrder(orderId: string): Promise<ErpOrder>;
  getSalesOrder(orderId: string): Promise<ErpOrder>;
  /**
   * For ERPs that tell of status changes only when asked (files they drop, a delta API):
   * the changes since the last acknowledged poll. A record that cannot be read is returned
   * as rejected and the rest of its source is still read. Absent for ERPs that push
   * (webhooks, callbacks).
   */
  pollStatusUpdates?(): Promise<ErpStatusPoll>;
}
