/**
 * What Harmony's flows need from a warehouse (a WMS or fulfillment provider), in business
 * words like the CRM and ERP ports. One adapter per vendor (`shipbob/`, later others)
 * implements it. Every write is idempotent by the reference Harmony gives it.
 */

/** Where a fulfillment order goes. */
export interface ShipToAddress {
  /** The person (or department) the parcel is addressed to. */
  readonly name: string;
  readonly company?: string;
  readonly street: string;
  readonly street2?: string;
  readonly city: string;
  readonly postalCode?: string;
  /** State or province, where the country has them. */
  readonly state?: string;
  /** ISO 3166-1 alpha-2, e.g. `DE`. */
  readonly countryCode: string;
  readonly email?: string;
  readonly phone?: string;
}

/** How urgently the warehouse should ship; the adapter maps it to the vendor's ship option. */
export type FulfillmentPriority = 'standard' | 'priority';

/** One line to pick: a product by SKU and how many. */
export interface FulfillmentLineDraft {
  /** The SKU shared by CRM, ERP and warehouse. */
  readonly sku: string;
  /** The product's name, for the packing slip and for vendors that need it. */
  readonly name: string;
  readonly quantity: number;
}

/** A fulfillment order to create from a confirmed ERP order. */
export interface FulfillmentOrderDraft {
  /** The ERP's order number (e.g. `S00042`): the warehouse keeps it as the order's unique reference. */
  readonly externalRef: string;
  readonly shipTo: ShipToAddress;
  readonly lines: readonly FulfillmentLineDraft[];
  readonly priority: FulfillmentPriority;
}

/**
 * Where a fulfillment order is, whatever the vendor calls it. `received` … `delivered` only
 * move forward; `cancelled` ends it; `exception` (out of stock, bad address…) holds it until
 * someone acts, with a reason.
 */
export type FulfillmentStatus = 'received' | 'picking' | 'packed' | 'shipped' | 'delivered' | 'cancelled' | 'exception';

/** The forward order of the statuses that progress; `cancelled` and `exception` have no rank. */
export const FULFILLMENT_PROGRESSION: readonly FulfillmentStatus[] = ['received', 'picking', 'packed', 'shipped', 'delivered'];

/** A parcel's carrier and tracking number. */
export interface ParcelTracking {
  readonly carrier: string;
  readonly trackingNumber: string;
  readonly trackingUrl?: string;
}

/** One status the order reached, and when (ISO 8601 with offset). */
export interface FulfillmentStatusChange {
  readonly status: FulfillmentStatus;
  readonly at: string;
}

/** A fulfillment order as the warehouse holds it. */
export interface FulfillmentOrder {
  /** The warehouse's own id, e.g. ShipBob's order id as a string. */
  readonly id: string;
  /** The ERP order number it was created with. */
  readonly externalRef: string;
  readonly status: FulfillmentStatus;
  /** When it entered `status`. */
  readonly statusChangedAt: string;
  readonly priority: FulfillmentPriority;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
  /** One entry per parcel that has a tracking number (from `shipped` on). */
  readonly tracking: readonly ParcelTracking[];
  /** Why the order is held (`exception`), or what went wrong on the way (a delivery exception). */
  readonly exceptionReason?: string;
  /** The statuses the warehouse reports with their times, oldest first; intermediate steps it does not date may be missing. */
  readonly history: readonly FulfillmentStatusChange[];
}

/** Stock of one SKU across the warehouse network. */
export interface StockLevel {
  readonly sku: string;
  /** Physically in the warehouse. */
  readonly onHand: number;
  /** On hand and not yet promised to an order: what can be sold. */
  readonly available: number;
  /** Promised to open orders. */
  readonly reserved: number;
}

/** A record the warehouse sent that Harmony could not read: it goes to a DLQ with where it was and why. */
export interface WmsRejectedRecord {
  /** Where it came from, e.g. the request and page that returned it. */
  readonly source: string;
  /** 1-based position in that source. */
  readonly line: number;
  readonly raw: string;
  readonly reason: string;
}

/** One page of stock levels. */
export interface StockLevelPage {
  readonly levels: readonly StockLevel[];
  /** Pass to the next call for the following page; absent on the last. */
  readonly nextPageToken?: string;
  /** Items of this page that could not be read (the rest of the page still was). */
  readonly rejected: readonly WmsRejectedRecord[];
}

/** Stock that changed since a cursor. */
export interface StockChanges {
  /** The current levels of every SKU whose stock moved since the cursor (each SKU once). */
  readonly levels: readonly StockLevel[];
  /** Where the next call continues; persist it only after the levels are safely handed on. */
  readonly cursor: string;
  /** More changes are waiting: call again with `cursor` straight away. */
  readonly hasMore: boolean;
}

/** One line of a return the warehouse should expect. */
export interface ReturnLineDraft {
  readonly sku: string;
  readonly quantity: number;
}

/** An inbound receipt for a customer return (an RMA). */
export interface ReturnReceiptDraft {
  /** The CRM's return id, e.g. `hubspot:ticket:123`: the warehouse keeps it as the receipt's unique reference. */
  readonly externalRef: string;
  readonly lines: readonly ReturnLineDraft[];
  /** The return label's tracking number, when the customer has one. */
  readonly trackingNumber?: string;
}

/** Where a return receipt is. */
export type ReturnReceiptStatus = 'awaiting' | 'arrived' | 'processing' | 'completed' | 'cancelled';

/** What became of returned units: back on the shelf, or held/destroyed as damaged. */
export type ReturnCondition = 'sellable' | 'damaged';

/** One part of a returned line as the warehouse processed it. */
export interface ReceivedQuantity {
  readonly quantity: number;
  readonly condition: ReturnCondition;
  /** What the warehouse did: `restock` (sellable), `quarantine` or `dispose` (damaged). */
  readonly disposition: 'restock' | 'quarantine' | 'dispose';
  readonly reason?: string;
}

/** One line of a receipt: what was expected and what actually came back. */
export interface ReturnReceiptLine {
  readonly sku: string;
  readonly expectedQuantity: number;
  /** Everything processed; less than expected when the return came in short. */
  readonly receivedQuantity: number;
  readonly received: readonly ReceivedQuantity[];
}

/** A return receipt as the warehouse holds it. */
export interface ReturnReceipt {
  readonly id: string;
  readonly externalRef: string;
  readonly status: ReturnReceiptStatus;
  readonly lines: readonly ReturnReceiptLine[];
  /** When the warehouse finished processing it. */
  readonly completedAt?: string;
}

/** A fulfillment status change read by polling. */
export interface WmsStatusUpdate {
  readonly fulfillmentOrderId: string;
  /** The ERP order number the fulfillment order carries. */
  readonly externalRef?: string;
  readonly status: FulfillmentStatus;
  /** When the status changed in the warehouse (ISO 8601 with offset). */
  readonly occurredAt: string;
  readonly tracking: readonly ParcelTracking[];
  readonly exceptionReason?: string;
  /** Unique and stable per reported change: the dedup key (the same change polled twice has the same id). */
  readonly sourceId: string;
}

/** What one poll of the warehouse's status feed found. */
export interface WmsStatusPoll {
  readonly updates: readonly WmsStatusUpdate[];
  readonly rejected: readonly WmsRejectedRecord[];
  /**
   * Marks what this poll returned as consumed (advances the persisted cursor). Call it only
   * once every update is on the bus and every rejected record in the DLQ: a crash before it
   * means the next poll returns them again (deduplicated by sourceId).
   */
  acknowledge(): Promise<void>;
}

/** The warehouse side of every flow. Every write is idempotent. */
export interface WmsPort {
  /** Short vendor name, e.g. `shipbob`. */
  readonly system: string;
  /**
   * Creates the fulfillment order, or returns the one that already carries `externalRef`
   * (whatever its status). PermanentError naming the field for a draft the warehouse cannot
   * take (no street, unknown SKU, quantity 0…).
   */
  createFulfillmentOrder(draft: FulfillmentOrderDraft): Promise<FulfillmentOrder>;
  /** The fulfillment order that carries this ERP order number, if any. */
  findFulfillmentOrderByExternalRef(externalRef: string): Promise<FulfillmentOrder | undefined>;
  /** PermanentError `not-found` for an id the warehouse does not have. */
  getFulfillmentOrder(id: string): Promise<FulfillmentOrder>;
  /**
   * Cancels the order while it has not shipped; cancelling a cancelled order is a no-op.
   * Once shipped: PermanentError `already-shipped` saying so, and the order is unchanged.
   */
  cancelFulfillmentOrder(id: string): Promise<FulfillmentOrder>;
  /** Stock levels, a page at a time (page size is a hint the vendor may cap). */
  listStockLevels(options?: { readonly pageToken?: string; readonly pageSize?: number }): Promise<StockLevelPage>;
  /** Current stock of these SKUs; a SKU the warehouse does not know is left out. */
  getStockLevels(skus: readonly string[]): Promise<readonly StockLevel[]>;
  /**
   * What moved since `cursor`. Without a cursor: no levels and a cursor that starts now —
   * take it before a full `listStockLevels` run, then follow the deltas from it.
   */
  stockChangesSince(cursor: string | undefined): Promise<StockChanges>;
  /** Creates the inbound receipt, or returns the one that already carries `externalRef`. PermanentError naming an unknown SKU. */
  createReturnReceipt(draft: ReturnReceiptDraft): Promise<ReturnReceipt>;
  /** What the warehouse has received on it so far. PermanentError `not-found` for an id it does not have. */
  getReturnReceipt(id: string): Promise<ReturnReceipt>;
  /**
   * Status changes since the last acknowledged poll, for warehouses that tell of them only
   * when asked. A record that cannot be read is returned as rejected and the rest is still read.
   */
  pollStatusUpdates?(): Promise<WmsStatusPoll>;
}
