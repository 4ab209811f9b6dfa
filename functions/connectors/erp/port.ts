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
}
