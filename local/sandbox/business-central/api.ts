/**
 * The company-scoped routes of the sandbox's API v2.0
 * (`…/api/v2.0/companies({id})/<entitySet>[(<id>)][/<navigation>]`): GET on `customers`,
 * `items`, `currencies`, `salesOrders` (with `$expand=salesOrderLines`),
 * `salesOrders(<id>)/salesOrderLines` and `salesInvoices`; POST `customers` and
 * `salesOrders` (deep insert); PATCH and DELETE `salesOrders(<id>)`; POST
 * `salesOrders(<id>)/Microsoft.NAV.shipAndInvoice`. Anything else is BC's 404 or 405.
 */
import { byNumber, collectionPage, unsupportedOption, select, type CollectionLocation, type EntityType } from './collections.ts';
import type { Company } from './company.ts';
import { createCustomer } from './customers.ts';
import {
  currencyJson,
  customerJson,
  itemJson,
  lineJson,
  salesInvoiceJson,
  salesOrderJson,
  type StoredCurrency,
  type StoredCustomer,
  type StoredItem,
  type StoredSalesInvoice,
  type StoredSalesOrder,
} from './entities.ts';
import { bcError, entityNotFound, type SandboxAnswer } from './responses.ts';
import { createSalesOrder, deleteSalesOrder, shipAndInvoice, updateSalesOrder } from './sales-orders.ts';
import type { EntitySet } from './store.ts';

/** A request addressed to one company's entities. */
export interface CompanyRequest {
  readonly method: string;
  readonly entitySet: string;
  /** The key in `entitySet(<id>)`, lower-cased. */
  readonly id: string | undefined;
  /** `salesOrderLines`, `Microsoft.NAV.shipAndInvoice`… */
  readonly navigation: string | undefined;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly ifMatch: string | undefined;
  /** For `@odata.context` and `@odata.nextLink`. */
  readonly location: CollectionLocation;
}

/** How the sandbox reads `<entitySet>[(<id>)][/<navigation>]`; undefined when it is not that shape. */
export function parseCompanyPath(rest: string): Pick<CompanyRequest, 'entitySet' | 'id' | 'navigation'> | undefined {
  const match = /^([A-Za-z]+)(?:\(([^)]*)\))?(?:\/([A-Za-z.]+))?$/.exec(rest);
  if (match === null) return undefined;
  return { entitySet: match[1]!, id: match[2]?.toLowerCase(), navigation: match[3] };
}

/** The fault-injection name of a request, e.g. `GET salesOrders`, `POST salesOrders/Microsoft.NAV.shipAndInvoice`. */
export function operationName(method: string, path: Pick<CompanyRequest, 'entitySet' | 'navigation'>): string {
  return `${method} ${path.entitySet}${path.navigation === undefined ? '' : `/${path.navigation}`}`;
}

const READABLE: Readonly<Record<string, { readonly set: EntitySet; readonly type: EntityType }>> = {
  customers: { set: 'customers', type: 'customer' },
  items: { set: 'items', type: 'item' },
  currencies: { set: 'currencies', type: 'currency' },
  salesOrders: { set: 'salesOrders', type: 'salesOrder' },
  salesInvoices: { set: 'salesInvoices', type: 'salesInvoice' },
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every entity of a set as API JSON, in BC's key order. */
function rowsOf(company: Company, set: EntitySet, expandLines: boolean): Record<string, unknown>[] {
  const { store, localCurrency } = company;
  switch (set) {
    case 'customers':
      return store.all<StoredCustomer>(set).sort(byNumber).map(customerJson);
    case 'items':
      return store.all<StoredItem>(set).sort(byNumber).map(itemJson);
    case 'currencies':
      return store.all<StoredCurrency>(set).sort((left, right) => (left.code < right.code ? -1 : 1)).map(currencyJson);
    case 'salesOrders':
      return store.all<StoredSalesOrder>(set).sort(byNumber).map((order) => salesOrderJson(order, localCurrency, expandLines));
    case 'salesInvoices':
      return store.all<StoredSalesInvoice>(set).sort(byNumber).map((invoice) => salesInvoiceJson(invoice, localCurrency));
  }
}

function expandsLines(request: CompanyRequest): SandboxAnswer | boolean {
  const expand = request.query.get('$expand');
  if (expand === null || expand === '') return false;
  if (request.entitySet === 'salesOrders' && expand === 'salesOrderLines') return true;
  return bcError(400, 'BadRequest', `Could not find a property named '${expand}' on type 'Microsoft.NAV.${READABLE[request.entitySet]?.type ?? request.entitySet}'.`);
}

/** Answers one company request. */
export function handleCompanyRequest(company: Company, request: CompanyRequest, pageSize: number): SandboxAnswer {
  const { method, entitySet, id, navigation } = request;
  const readable = READABLE[entitySet];
  if (readable === undefined) return bcError(404, 'BadRequest_NotFound', `Resource not found for the segment '${entitySet}'.`);
  if (id !== undefined && !GUID.test(id)) return bcError(400, 'BadRequest_NotFound', 'Bad Request - Error in query syntax.');
  const unsupported = unsupportedOption(request.query);
  if (unsupported !== undefined) return unsupported;
  const expand = expandsLines(request);
  if (typeof expand !== 'boolean') return expand;

  if (method === 'GET' && navigation === undefined) {
    if (id === undefined) return collectionPage(rowsOf(company, readable.set, expand), readable.type, request.query, request.location, pageSize);
    const row = rowsOf(company, readable.set, expand).find((candidate) => candidate.id === id);
    return row === undefined ? entityNotFound() : { status: 200, body: { '@odata.context': `${request.location.context}/$entity`, ...select(row, request.query) } };
  }
  if (method === 'GET' && entitySet === 'salesOrders' && id !== undefined && navigation === 'salesOrderLines') {
    const order = company.store.get<StoredSalesOrder>('salesOrders', id);
    if (order === undefined) return entityNotFound();
    return collectionPage(order.lines.map((line) => lineJson(line, order.id, false)), 'salesOrderLine', request.query, request.location, pageSize);
  }
  if (method === 'POST' && id === undefined && navigation === undefined && entitySet === 'customers') {
    return company.store.transaction(() => createCustomer(company, request.body));
  }
  if (method === 'POST' && id === undefined && navigation === undefined && entitySet === 'salesOrders') {
    return company.store.transaction(() => createSalesOrder(company, request.body, expand));
  }
  if (entitySet === 'salesOrders' && id !== undefined) {
    if (method === 'PATCH' && navigation === undefined) return company.store.transaction(() => updateSalesOrder(company, id, request.body, request.ifMatch));
    if (method === 'DELETE' && navigation === undefined) return company.store.transaction(() => deleteSalesOrder(company, id, request.ifMatch));
    if (method === 'POST' && navigation === 'Microsoft.NAV.shipAndInvoice') return company.store.transaction(() => shipAndInvoice(company, id));
    if (method === 'POST' && navigation !== undefined && navigation.startsWith('Microsoft.NAV.')) {
      return bcError(400, 'BadRequest_MethodNotImplemented', `Entity does not support the bound action '${navigation}'.`);
    }
  }
  return bcError(405, 'BadRequest_MethodNotAllowed', `'${method}' requests for '${entitySet}' are not allowed within Microsoft Dynamics 365 Business Central OData web services.`);
}
