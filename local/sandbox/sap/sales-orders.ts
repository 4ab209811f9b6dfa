/**
 * API_SALES_ORDER_SRV's behaviour in the sandbox: the deep insert of a sales order with
 * its items (checked as SD checks them: order type, sales area, sold-to party maintained
 * for it, materials sold there, currency, delivery block), pricing (a price condition
 * from the material's list price or the manual one sent, 19 % output tax `MWST`), the
 * header's ETag-guarded update, the item's reason for rejection, and the status fields
 * that follow from the items. `deliver` and `bill` stand in for the outbound delivery
 * and billing documents that move an order on.
 */
import { alphaInput, keyOf, mustEntitySet } from './entity-model.ts';
import { etagOf } from './odata-format.ts';
import { PayloadError, readEntity } from './payload.ts';
import { CURRENCIES, DELIVERY_BLOCKS, listPrice, MATERIALS, PRICE_CONDITION_TYPES, REJECTION_REASONS, SALES_AREA, SALES_ORDER_TYPES, SANDBOX_VAT_PERCENT } from './seed.ts';
import type { Row, SapStore } from './store.ts';

const BUSINESS = '/IWBEP/CX_MGW_BUSI_EXCEPTION';
const HEADER = mustEntitySet('A_SalesOrder');
const ITEM = mustEntitySet('A_SalesOrderItem');
const CONDITION = mustEntitySet('A_SalesOrderItemPrElement');
/** First number of the sandbox's sales order number range (`0000004711` inside, `4711` on the wire). */
const FIRST_ORDER = 4711;
/** Header properties the sandbox lets a PATCH change. */
const CHANGEABLE_HEADER = new Set(['DeliveryBlockReason', 'PurchaseOrderByCustomer', 'HeaderBillingBlockReason']);

/** How an update ended. */
export type UpdateResult = 'updated' | 'not-found' | 'precondition-failed' | 'precondition-required';

const round2 = (value: number): number => Math.round(value * 100) / 100;
const today = (now: number): number => Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());

/** Creates the order the body describes; returns its number. Runs inside the caller's transaction. */
export function createSalesOrder(store: SapStore, body: unknown, now: number): string {
  const order = readEntity(HEADER, body);
  const header = order.values;
  const type = String(header.SalesOrderType ?? '');
  if (!SALES_ORDER_TYPES.has(type)) throw new PayloadError(BUSINESS, `Sales document type ${type || '(blank)'} is not defined`);
  const area = [header.SalesOrganization, header.DistributionChannel, header.OrganizationDivision].map((part) => String(part ?? ''));
  if (area.join('/') !== `${SALES_AREA.salesOrganization}/${SALES_AREA.distributionChannel}/${SALES_AREA.division}`) {
    throw new PayloadError(BUSINESS, `Sales area ${area.join(' ')} is not defined for sales document type ${type}`);
  }
  const soldTo = String(header.SoldToParty ?? '');
  const salesArea = store.get('A_CustomerSalesArea', `${soldTo}/${area.join('/')}`);
  if (soldTo === '' || store.get('A_Customer', soldTo) === undefined) throw new PayloadError(BUSINESS, `Sold-to party ${soldTo || '(blank)'} does not exist`);
  if (salesArea === undefined) throw new PayloadError(BUSINESS, `Sold-to party ${soldTo} not maintained for sales area ${area.join(' ')}`);
  const currency = String(header.TransactionCurrency ?? salesArea.Currency ?? '');
  if (!CURRENCIES.has(currency)) throw new PayloadError(BUSINESS, `Currency ${currency} is not defined`);
  const block = String(header.DeliveryBlockReason ?? '');
  if (block !== '' && !DELIVERY_BLOCKS.has(block)) throw new PayloadError(BUSINESS, `Delivery block ${block} is not defined`);

  const number = String(store.next('sales-order', FIRST_ORDER));
  const items = order.children.to_Item ?? [];
  const used = new Set<string>();
  items.forEach((itemBody, index) => createItem(store, number, currency, itemBody, index, used));
  const row: Row = {
    SalesGroup: '',
    SalesOffice: '',
    PurchaseOrderByCustomer: '',
    HeaderBillingBlockReason: '',
    SalesOrderDate: today(now),
    ...header,
    SalesOrder: number,
    SoldToParty: soldTo,
    TransactionCurrency: currency,
    DeliveryBlockReason: block,
    CreationDate: today(now),
    CreatedByUser: 'HARMONY',
    LastChangeDate: today(now),
    LastChangeDateTime: now,
    TotalCreditCheckStatus: '',
  };
  store.put('A_SalesOrder', number, withStatuses(store, row));
  return number;
}

function createItem(store: SapStore, order: string, currency: string, body: Record<string, unknown>, index: number, used: Set<string>): void {
  const item = readEntity(ITEM, body);
  const values = item.values;
  const number = values.SalesOrderItem === undefined || values.SalesOrderItem === '' ? String((index + 1) * 10) : String(values.SalesOrderItem);
  if (!/^\d{1,6}$/.test(number) || used.has(number)) throw new PayloadError(BUSINESS, `Item number ${number} is invalid or used twice`);
  used.add(number);
  const materialNumber = String(values.Material ?? '');
  const material = MATERIALS.get(materialNumber);
  if (material === undefined) {
    throw new PayloadError(BUSINESS, `Material ${materialNumber || '(blank)'} is not defined for sales org.${SALES_AREA.salesOrganization}, distr.chan.${SALES_AREA.distributionChannel}, language EN`);
  }
  const quantity = Number(values.RequestedQuantity ?? 0);
  if (!(quantity > 0)) throw new PayloadError(BUSINESS, `Enter a quantity for item ${number}`);
  const reason = String(values.SalesDocumentRjcnReason ?? '');
  if (reason !== '' && !REJECTION_REASONS.has(reason)) throw new PayloadError(BUSINESS, `Reason for rejection ${reason} is not defined`);
  const conditions = (item.children.to_PricingElement ?? []).map((conditionBody) => readEntity(CONDITION, conditionBody).values);
  for (const condition of conditions) {
    if (!PRICE_CONDITION_TYPES.has(String(condition.ConditionType ?? ''))) {
      throw new PayloadError(BUSINESS, `Condition type ${String(condition.ConditionType ?? '')} is not allowed in the pricing procedure of item ${number}`);
    }
  }
  const manual = conditions[0];
  const rate = manual?.ConditionRateValue === undefined || manual.ConditionRateValue === null ? listPrice(material, currency) : Number(manual.ConditionRateValue);
  const net = round2(rate * quantity);
  const tax = round2((net * SANDBOX_VAT_PERCENT) / 100);
  const row: Row = {
    SalesOrderItemCategory: material.service ? 'TAD' : 'TAN',
    SalesOrderItemText: material.name,
    RequestedQuantityUnit: material.service ? 'H' : 'EA',
    ...values,
    SalesOrder: order,
    SalesOrderItem: alphaInput(number),
    Material: materialNumber,
    RequestedQuantity: quantity,
    SalesDocumentRjcnReason: reason,
    TransactionCurrency: currency,
    NetAmount: net,
    TaxAmount: tax,
    SDProcessStatus: reason === '' ? 'A' : 'C',
    DeliveryStatus: material.service ? '' : 'A',
    OrderRelatedBillingStatus: material.service ? 'A' : '',
  };
  store.put('A_SalesOrderItem', keyOf(ITEM, row), row);
  const priceType = String(manual?.ConditionType ?? 'PR00');
  const price: Row = {
    SalesOrder: order,
    SalesOrderItem: row.SalesOrderItem!,
    PricingProcedureStep: '010',
    PricingProcedureCounter: '001',
    ConditionType: priceType,
    ConditionRateValue: rate,
    ConditionCurrency: currency,
    ConditionCategory: 'B',
    ConditionIsForStatistics: false,
    ConditionAmount: net,
    TransactionCurrency: currency,
    ConditionInactiveReason: '',
  };
  const vat: Row = { ...price, PricingProcedureStep: '900', ConditionType: 'MWST', ConditionRateValue: SANDBOX_VAT_PERCENT, ConditionCategory: 'D', ConditionAmount: tax };
  for (const condition of [price, vat]) store.put('A_SalesOrderItemPrElement', keyOf(CONDITION, condition), condition);
}

/** The items of an order, in item order. */
function itemsOf(store: SapStore, order: string): Row[] {
  return store
    .all('A_SalesOrderItem')
    .filter((item) => item.SalesOrder === order)
    .sort((left, right) => Number(left.SalesOrderItem) - Number(right.SalesOrderItem));
}

/** Aggregate status of item statuses: all `C` → `C`, all `A` → `A`, mixed → `B`, none relevant → blank. */
function aggregate(statuses: readonly string[]): string {
  const relevant = statuses.filter((status) => status !== '');
  if (relevant.length === 0) return '';
  if (relevant.every((status) => status === 'C')) return 'C';
  if (relevant.every((status) => status === 'A')) return 'A';
  return 'B';
}

/** The header with its net value and overall statuses derived from its items (rejected items count for neither). */
function withStatuses(store: SapStore, header: Row): Row {
  const items = itemsOf(store, String(header.SalesOrder));
  const open = items.filter((item) => item.SalesDocumentRjcnReason === '');
  const rejected = items.length > 0 && open.length === 0;
  const delivery = aggregate(open.map((item) => String(item.DeliveryStatus ?? '')));
  const billing = aggregate(open.map((item) => String(item.OrderRelatedBillingStatus ?? '')));
  const process = rejected ? 'C' : aggregate(open.map((item) => String(item.SDProcessStatus ?? 'A')));
  return {
    ...header,
    TotalNetAmount: round2(open.reduce((sum, item) => sum + Number(item.NetAmount ?? 0), 0)),
    OverallSDDocumentRejectionSts: items.length === 0 ? '' : rejected ? 'C' : open.length < items.length ? 'B' : 'A',
    OverallTotalDeliveryStatus: delivery,
    OverallDeliveryStatus: delivery,
    OverallOrdReltdBillgStatus: billing,
    OverallSDProcessStatus: process || 'A',
  };
}

/** Stores a changed header with a new `LastChangeDateTime` (so a new ETag). */
function touch(store: SapStore, header: Row, now: number): void {
  const changedAt = Math.max(now, Number(header.LastChangeDateTime ?? 0) + 1);
  store.put('A_SalesOrder', String(header.SalesOrder), withStatuses(store, { ...header, LastChangeDateTime: changedAt, LastChangeDate: today(changedAt) }));
}

/** PATCH/MERGE of `A_SalesOrder(key)`: needs `If-Match` (428 without, 412 when stale; `*` matches any). */
export function updateSalesOrder(store: SapStore, key: string, body: unknown, ifMatch: string | undefined, now: number): UpdateResult {
  const header = store.get('A_SalesOrder', key);
  if (header === undefined) return 'not-found';
  if (ifMatch === undefined) return 'precondition-required';
  if (ifMatch !== '*' && ifMatch !== etagOf(HEADER, header)) return 'precondition-failed';
  const { values } = readEntity(HEADER, body);
  for (const name of Object.keys(values)) {
    if (!CHANGEABLE_HEADER.has(name)) throw new PayloadError(BUSINESS, `The sandbox does not support changing ${name} of a sales order`);
  }
  const block = values.DeliveryBlockReason;
  if (typeof block === 'string' && block !== '' && !DELIVERY_BLOCKS.has(block)) throw new PayloadError(BUSINESS, `Delivery block ${block} is not defined`);
  touch(store, { ...header, ...values }, now);
  return 'updated';
}

/** PATCH/MERGE of `A_SalesOrderItem(key)`: the reason for rejection (delivered items cannot be rejected). */
export function updateSalesOrderItem(store: SapStore, key: string, body: unknown, now: number): UpdateResult {
  const item = store.get('A_SalesOrderItem', key);
  if (item === undefined) return 'not-found';
  const { values } = readEntity(ITEM, body);
  for (const name of Object.keys(values)) {
    if (name !== 'SalesDocumentRjcnReason') throw new PayloadError(BUSINESS, `The sandbox does not support changing ${name} of a sales order item`);
  }
  const reason = String(values.SalesDocumentRjcnReason ?? '');
  if (reason !== '' && !REJECTION_REASONS.has(reason)) throw new PayloadError(BUSINESS, `Reason for rejection ${reason} is not defined`);
  if (reason !== '' && (item.DeliveryStatus === 'B' || item.DeliveryStatus === 'C')) {
    throw new PayloadError(BUSINESS, `Item ${String(item.SalesOrderItem).padStart(6, '0')} has been delivered and cannot be rejected`);
  }
  const stillOpen = item.DeliveryStatus !== 'C' && item.OrderRelatedBillingStatus !== 'C';
  store.put('A_SalesOrderItem', key, { ...item, SalesDocumentRjcnReason: reason, SDProcessStatus: reason !== '' ? 'C' : stillOpen ? 'A' : 'C' });
  touch(store, store.get('A_SalesOrder', String(item.SalesOrder))!, now);
  return 'updated';
}

/** Posts the goods issue of every open deliverable item (what an outbound delivery does); refused while a delivery block is set. */
export function deliverSalesOrder(store: SapStore, order: string, now: number): string | undefined {
  const header = store.get('A_SalesOrder', alphaInput(order));
  if (header === undefined) return `no sales order ${order}`;
  if (header.DeliveryBlockReason !== '') return `sales order ${order} has delivery block ${String(header.DeliveryBlockReason)}`;
  for (const item of itemsOf(store, String(header.SalesOrder))) {
    if (item.SalesDocumentRjcnReason !== '' || item.DeliveryStatus === '') continue;
    const done = item.OrderRelatedBillingStatus === '' || item.OrderRelatedBillingStatus === 'C';
    store.put('A_SalesOrderItem', keyOf(ITEM, item), { ...item, DeliveryStatus: 'C', SDProcessStatus: done ? 'C' : 'B' });
  }
  touch(store, header, now);
  return undefined;
}

/** Bills every open item with order-related billing (what a billing document does). */
export function billSalesOrder(store: SapStore, order: string, now: number): string | undefined {
  const header = store.get('A_SalesOrder', alphaInput(order));
  if (header === undefined) return `no sales order ${order}`;
  for (const item of itemsOf(store, String(header.SalesOrder))) {
    if (item.SalesDocumentRjcnReason !== '' || item.OrderRelatedBillingStatus !== 'A') continue;
    store.put('A_SalesOrderItem', keyOf(ITEM, item), { ...item, OrderRelatedBillingStatus: 'C', SDProcessStatus: 'C' });
  }
  touch(store, header, now);
  return undefined;
}

/** Another "user" changes the order (its ETag moves on), as a concurrent edit in SAP would. */
export function editSalesOrderAsAnotherUser(store: SapStore, order: string, now: number): void {
  const header = store.get('A_SalesOrder', alphaInput(order));
  if (header !== undefined) touch(store, header, now);
}
