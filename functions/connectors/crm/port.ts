/**
 * What Harmony's flows need from a CRM, in business words. One adapter per
 * vendor (`hubspot/`, later `salesforce/`, `pipedrive/`) implements it.
 */

/** A postal address as both sides can hold it. */
export interface Address {
  readonly street?: string;
  readonly city?: string;
  readonly postalCode?: string;
  /** ISO 3166-1 alpha-2 where known, e.g. `DE`. */
  readonly countryCode?: string;
}

/** The customer of a deal: a company, or a person buying for themselves. */
export interface Party {
  /** The CRM's id for this party, qualified by system, e.g. `hubspot:company:123`. */
  readonly externalId: string;
  readonly kind: 'company' | 'person';
  readonly name: string;
  readonly email?: string;
  readonly phone?: string;
  /** VAT / tax registration number, used to match existing ERP customers. */
  readonly vatNumber?: string;
  readonly address?: Address;
}

/** One line of a deal: a product by SKU, a quantity and the CRM's price. */
export interface DealLine {
  /** The product's SKU, shared by CRM and ERP (`hs_sku` in HubSpot, `default_code` in Odoo). */
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  /** Unit price as the CRM shows it; the ERP's price list may differ. */
  readonly unitPrice: number;
  /** Discount in percent (0–100). */
  readonly discountPercent?: number;
}

/** A deal as the order-to-cash flow needs it: who buys what, for how much. */
export interface Deal {
  /** The CRM's own id of the deal, e.g. `"1234567"`. */
  readonly id: string;
  readonly name: string;
  /** Pipeline stage id, e.g. `closedwon`. */
  readonly stage: string;
  readonly amount: number;
  /** ISO 4217, e.g. `EUR`. */
  readonly currency: string;
  readonly closeDate?: string;
  /** The buying company, or the contact when no company is associated. */
  readonly customer: Party;
  /** The person on the buyer's side, when one is associated. */
  readonly contact?: Party;
  readonly lines: readonly DealLine[];
}

/** Statuses Harmony writes back to the CRM, in the order they may occur. */
export type ErpSyncStatus =
  | 'confirmed'
  | 'shipped'
  | 'invoiced'
  | 'paid'
  | 'cancelled'
  | 'sync_failed';

/** What Harmony writes back to a deal after (or instead of) creating the ERP order. */
export interface DealSyncUpdate {
  /** The ERP's order number, e.g. `S00042`. */
  readonly erpOrderRef?: string;
  readonly erpStatus: ErpSyncStatus;
  /** Why the sync failed, shown to the sales team; set with `sync_failed`. */
  readonly syncError?: string;
}

/** The CRM side of every flow. */
export interface CrmPort {
  /** Short vendor name, e.g. `hubspot`. */
  readonly system: string;
  /** Loads a deal with its company/contact and line items; PermanentError if it does not exist. */
  getDeal(dealId: string): Promise<Deal>;
  /** Writes the ERP reference and status to the deal. Idempotent: writing the same values twice changes nothing. */
  updateDeal(dealId: string, update: DealSyncUpdate): Promise<void>;
}
