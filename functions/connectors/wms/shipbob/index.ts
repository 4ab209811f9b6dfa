/**
 * The ShipBob adapter: Harmony's WmsPort over the ShipBob Developer API 2026-01. Orders and
 * returns are found by their reference before they are created (ShipBob keeps reference ids
 * unique and answers 422 to a second one, which is read as "another attempt got there
 * first"); SKUs are checked against ShipBob's inventory before an order goes out; a cancel
 * is refused here, not by ShipBob, once the order has shipped.
 */
import { PermanentError } from '../../../core/errors.ts';
import { parseVendorJson } from '../../../core/vendor-http.ts';
import type {
  FulfillmentOrder,
  FulfillmentOrderDraft,
  ReturnReceipt,
  ReturnReceiptDraft,
  StockChanges,
  StockLevel,
  StockLevelPage,
  WmsPort,
  WmsStatusPoll,
} from '../port.ts';
import { ShipBobClient, describeShipBobFailure, type ShipBobClientOptions } from './client.ts';
import { InventoryLevels } from './inventory-levels.ts';
import {
  SHIPBOB_SYSTEM,
  checkFulfillmentDraft,
  checkReturnDraft,
  createOrderBody,
  createReturnBody,
  shipBobId,
  toFulfillmentOrder,
  toReturnReceipt,
  type ShippingMethods,
} from './mapping.ts';
import type { StateStore } from './state-store.ts';
import { StatusFeed } from './status-feed.ts';
import { StockChangeFeed } from './stock-changes.ts';
import { CanceledOrder, Order, OrderList, Return, ReturnPage } from './vendor-shapes.ts';

/** Everything the adapter needs. */
export interface ShipBobWmsOptions extends ShipBobClientOptions {
  readonly shippingMethods: ShippingMethods;
  /** Where customer returns are received (`GET /fulfillment-center`); returns are refused without it. */
  readonly returnFulfillmentCenterId?: number;
  /** Keeps the status feed's cursor (and, with OAuth, the rotated refresh token). */
  readonly stateStore: StateStore;
  /** How far back the very first status poll reads. @default one day */
  readonly statusLookbackMs?: number;
}

/** Orders per reference lookup; a reference is unique, so one page is plenty. */
const LOOKUP_LIMIT = 50;

/** ShipBob as Harmony's warehouse. */
export class ShipBobWms implements WmsPort {
  readonly system = SHIPBOB_SYSTEM;
  readonly #client: ShipBobClient;
  readonly #options: ShipBobWmsOptions;
  readonly #levels: InventoryLevels;
  readonly #stock: StockChangeFeed;
  readonly #feed: StatusFeed;

  constructor(options: ShipBobWmsOptions) {
    this.#options = options;
    this.#client = new ShipBobClient(options);
    const account = `${options.apiUrl.host}:${options.channelId}`;
    this.#levels = new InventoryLevels(this.#client, account);
    this.#stock = new StockChangeFeed(this.#client, this.#levels, account);
    this.#feed = new StatusFeed(this.#client, {
      store: options.stateStore,
      cursorKey: `shipbob:status-feed:${account}`,
      initialLookbackMs: options.statusLookbackMs ?? 24 * 3600 * 1000,
      methods: options.shippingMethods,
    });
  }

  async createFulfillmentOrder(draft: FulfillmentOrderDraft): Promise<FulfillmentOrder> {
    const checked = checkFulfillmentDraft(draft);
    const existing = await this.findFulfillmentOrderByExternalRef(checked.externalRef);
    if (existing !== undefined) return existing;
    await this.#levels.inventoryIdsOf(
      checked.lines.map((line) => line.sku),
      'createFulfillmentOrder',
    );
    const operation = 'POST /order';
    const response = await this.#client.send({ operation, method: 'POST', path: 'order', body: createOrderBody(checked, this.#options.shippingMethods), passStatuses: [422] });
    if (response.status === 422) {
      // "Cannot insert order with existing ReferenceId": an earlier attempt whose answer was lost.
      const raced = await this.findFulfillmentOrderByExternalRef(checked.externalRef);
      if (raced !== undefined) return raced;
      throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: HTTP 422 — ${describeShipBobFailure(422, response.text)}`, { system: SHIPBOB_SYSTEM, code: '422' });
    }
    return toFulfillmentOrder(parseVendorJson(SHIPBOB_SYSTEM, operation, response.text, Order), this.#options.shippingMethods);
  }

  async findFulfillmentOrderByExternalRef(externalRef: string): Promise<FulfillmentOrder | undefined> {
    const orders = await this.#client.json(
      { operation: 'GET /order', method: 'GET', path: 'order', query: { ReferenceIds: referenceFilter(externalRef), Limit: LOOKUP_LIMIT } },
      OrderList,
    );
    const matching = orders.filter((order) => order.reference_id === externalRef).sort((a, b) => b.id - a.id);
    return matching[0] === undefined ? undefined : toFulfillmentOrder(matching[0], this.#options.shippingMethods);
  }

  async getFulfillmentOrder(id: string): Promise<FulfillmentOrder> {
    const orderId = shipBobId(id, 'fulfillmentOrderId');
    const operation = 'GET /order/{orderId}';
    const response = await this.#client.send({ operation, method: 'GET', path: `order/${orderId}`, passStatuses: [404] });
    if (response.status === 404) throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: no order ${orderId}`, { system: SHIPBOB_SYSTEM, code: 'not-found' });
    return toFulfillmentOrder(parseVendorJson(SHIPBOB_SYSTEM, operation, response.text, Order), this.#options.shippingMethods);
  }

  async cancelFulfillmentOrder(id: string): Promise<FulfillmentOrder> {
    const current = await this.getFulfillmentOrder(id);
    if (current.status === 'cancelled') return current;
    refuseWhenShipped(current);
    const operation = 'POST /order/{orderId}:cancel';
    const response = await this.#client.send({ operation, method: 'POST', path: `order/${current.id}:cancel`, passStatuses: [422] });
    const refusal =
      response.status === 422
        ? describeShipBobFailure(422, response.text)
        : (parseVendorJson(SHIPBOB_SYSTEM, operation, response.text, CanceledOrder).canceled_shipment_results ?? [])
            .filter((result) => result.is_success === false)
            .map((result) => `shipment ${result.shipment_id ?? '?'}: ${result.reason ?? 'refused'}`)
            .join('; ');
    const after = await this.getFulfillmentOrder(current.id);
    if (after.status === 'cancelled') return after;
    refuseWhenShipped(after);
    throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: ShipBob did not cancel order ${current.id} (${after.status})${refusal === '' ? '' : ` — ${refusal}`}`, {
      system: SHIPBOB_SYSTEM,
      code: 'cancel-refused',
    });
  }

  listStockLevels(options: { readonly pageToken?: string; readonly pageSize?: number } = {}): Promise<StockLevelPage> {
    return this.#levels.page(options.pageToken, options.pageSize ?? 100);
  }

  async getStockLevels(skus: readonly string[]): Promise<readonly StockLevel[]> {
    const known = await this.#levels.inventoryIdsOf(skus, 'getStockLevels', { unknown: 'skip' });
    return this.#levels.byInventoryIds([...new Set(known.values())]);
  }

  stockChangesSince(cursor: string | undefined): Promise<StockChanges> {
    return this.#stock.since(cursor);
  }

  async createReturnReceipt(draft: ReturnReceiptDraft): Promise<ReturnReceipt> {
    const checked = checkReturnDraft(draft);
    const centerId = this.#options.returnFulfillmentCenterId;
    if (centerId === undefined) {
      throw new PermanentError(`${SHIPBOB_SYSTEM} createReturnReceipt: no fulfillment center for returns (set SHIPBOB_RETURN_FULFILLMENT_CENTER_ID)`, { system: SHIPBOB_SYSTEM, code: 'configuration' });
    }
    const existing = await this.#findReturn(checked.externalRef);
    if (existing !== undefined) return existing;
    const ids = await this.#levels.inventoryIdsOf(
      checked.lines.map((line) => line.sku),
      'createReturnReceipt',
    );
    const operation = 'POST /return';
    const response = await this.#client.send({ operation, method: 'POST', path: 'return', body: createReturnBody(checked, ids, centerId), passStatuses: [422] });
    if (response.status === 422) {
      const raced = await this.#findReturn(checked.externalRef);
      if (raced !== undefined) return raced;
      throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: HTTP 422 — ${describeShipBobFailure(422, response.text)}`, { system: SHIPBOB_SYSTEM, code: '422' });
    }
    const skus = new Map([...ids].map(([sku, inventoryId]) => [inventoryId, sku]));
    return toReturnReceipt(parseVendorJson(SHIPBOB_SYSTEM, operation, response.text, Return), (inventoryId) => skus.get(inventoryId));
  }

  async getReturnReceipt(id: string): Promise<ReturnReceipt> {
    const returnId = shipBobId(id, 'returnReceiptId');
    const operation = 'GET /return/{id}';
    const response = await this.#client.send({ operation, method: 'GET', path: `return/${returnId}`, passStatuses: [404] });
    if (response.status === 404) throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: no return ${returnId}`, { system: SHIPBOB_SYSTEM, code: 'not-found' });
    return this.#receipt(parseVendorJson(SHIPBOB_SYSTEM, operation, response.text, Return));
  }

  pollStatusUpdates(): Promise<WmsStatusPoll> {
    return this.#feed.poll();
  }

  async #findReturn(externalRef: string): Promise<ReturnReceipt | undefined> {
    const page = await this.#client.json(
      { operation: 'GET /return', method: 'GET', path: 'return', query: { ReferenceIds: referenceFilter(externalRef), Limit: LOOKUP_LIMIT } },
      ReturnPage,
    );
    const found = (page.items ?? []).filter((item) => item.reference_id === externalRef).sort((a, b) => b.id - a.id)[0];
    return found === undefined ? undefined : this.#receipt(found);
  }

  async #receipt(found: Return): Promise<ReturnReceipt> {
    const withoutSku = (found.inventory ?? []).filter((item) => !item.sku).map((item) => item.id);
    const skuOf = withoutSku.length === 0 ? () => undefined : await this.#levels.skuOf(withoutSku);
    return toReturnReceipt(found, skuOf);
  }
}

/** A reference as a `ReferenceIds` filter, which is comma-separated: a comma inside one cannot be asked for. */
function referenceFilter(externalRef: string): string {
  if (externalRef.trim() === '' || externalRef.includes(',')) {
    throw new PermanentError(`${SHIPBOB_SYSTEM}: externalRef "${externalRef.slice(0, 60)}" cannot be looked up (empty, or contains a comma)`, { system: SHIPBOB_SYSTEM, code: 'validation' });
  }
  return externalRef;
}

function refuseWhenShipped(order: FulfillmentOrder): void {
  if (order.status === 'shipped' || order.status === 'delivered') {
    throw new PermanentError(`${SHIPBOB_SYSTEM}: order ${order.id} (${order.externalRef}) has already shipped (${order.status} since ${order.statusChangedAt}) and can no longer be cancelled`, {
      system: SHIPBOB_SYSTEM,
      code: 'already-shipped',
    });
  }
}
