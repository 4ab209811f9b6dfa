/**
 * The OData v2 side of the SAP sandbox for one logged-on request to
 * `/sap/opu/odata/sap/<SERVICE>/…`: the service document, collections with `$filter`,
 * `$select`, `$expand`, `$top`, `$skip` and `$inlinecount` (and `__next` past the
 * server's page size), single entities (with their `ETag` header), navigation from an
 * entity, deep inserts of business partners and sales orders, and PATCH/MERGE of sales
 * order headers and items. Operations are named `GET A_SalesOrder`, `POST A_SalesOrder`,
 * `PATCH A_SalesOrderItem`… for fault injection.
 */
import { createBusinessPartner } from './business-partners.ts';
import { entitySet, entitySetNames, keyOf, mustEntitySet, SERVICES, type EntitySetDefinition } from './entity-model.ts';
import { compileFilter, FilterError } from './odata-filter.ts';
import { byKey, etagOf, formatEntity, parseExpand, parseKey, parseSelect, related, UrlError, type ExpandTree } from './odata-format.ts';
import { PayloadError } from './payload.ts';
import { resourceNotFound, sapError, serviceNotFound, type SandboxAnswer } from './responses.ts';
import { createSalesOrder, updateSalesOrder, updateSalesOrderItem, type UpdateResult } from './sales-orders.ts';
import type { Row, SapStore } from './store.ts';

/** Where an OData request points. */
export interface ODataTarget {
  readonly service: string;
  /** '' for the service document. */
  readonly entitySet: string;
  /** The key predicate's text, without parentheses. */
  readonly key?: string;
  readonly navigation?: string;
}

/** Splits `<SERVICE>/<Set>(<key>)/<nav>`; undefined for a path that is none of these. */
export function parseTarget(rest: string): ODataTarget | undefined {
  const match = /^([A-Z0-9_]+)(?:;v=\d+)?(?:\/([A-Za-z_][A-Za-z0-9_]*)?(?:\((.*)\))?(?:\/([A-Za-z_][A-Za-z0-9_]*))?)?\/?$/.exec(rest);
  if (match === null) return undefined;
  return { service: match[1]!, entitySet: match[2] ?? '', ...(match[3] === undefined ? {} : { key: match[3] }), ...(match[4] === undefined ? {} : { navigation: match[4] }) };
}

/** The operation a request is, for fault rules: `GET API_SALES_ORDER_SRV` for the service document, else `<METHOD> <EntitySet>`. */
export function operationOf(method: string, target: ODataTarget): string {
  return target.entitySet === '' ? `${method} ${target.service}` : `${method} ${target.entitySet}`;
}

/** One OData request. */
export interface ODataRequest {
  readonly method: string;
  readonly target: ODataTarget;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly ifMatch: string | undefined;
  /** e.g. `http://127.0.0.1:4022` */
  readonly origin: string;
}

/** Serves one request; writes commit in one transaction before the answer. */
export function serveOData(store: SapStore, request: ODataRequest, pageSize: number): SandboxAnswer {
  const { target } = request;
  if (!(SERVICES as readonly string[]).includes(target.service)) return serviceNotFound(target.service);
  const root = `${request.origin}/sap/opu/odata/sap/${target.service}`;
  if (target.entitySet === '') {
    return request.method === 'GET' ? { status: 200, body: { d: { EntitySets: entitySetNames(target.service) } } } : methodNotAllowed(target.service, request.method, 'the service document');
  }
  const set = entitySet(target.service, target.entitySet);
  if (set === undefined) return sapError(404, '/IWBEP/CM_MGW_RT/020', `Resource not found for segment '${target.entitySet}'`, target.service);
  try {
    return route(store, request, set, root, pageSize);
  } catch (error) {
    if (error instanceof PayloadError) return sapError(400, error.code, error.message, target.service);
    if (error instanceof FilterError || error instanceof UrlError) return sapError(400, '/IWBEP/CX_MGW_TECH_EXCEPTION', error.message, target.service);
    throw error;
  }
}

function route(store: SapStore, request: ODataRequest, set: EntitySetDefinition, root: string, pageSize: number): SandboxAnswer {
  const { method, target, query } = request;
  const row = target.key === undefined ? undefined : store.get(set.name, keyOf(set, parseKey(target.key, set)));
  if (target.key !== undefined && row === undefined) return resourceNotFound(target.service, set.type);
  if (method === 'GET') {
    if (row === undefined) return collection(store, set, store.all(set.name), query, root, pageSize);
    if (target.navigation !== undefined) {
      const navigation = set.navigations[target.navigation];
      if (navigation === undefined) return sapError(404, '/IWBEP/CM_MGW_RT/020', `Resource not found for segment '${target.navigation}'`, target.service);
      const children = related(store, set, row, target.navigation);
      const childSet = mustEntitySet(navigation.target);
      if (navigation.many) return collection(store, childSet, children, query, root, pageSize);
      return children[0] === undefined ? resourceNotFound(target.service, childSet.type) : single(store, childSet, children[0], query, root);
    }
    return single(store, set, row, query, root);
  }
  if (method === 'POST' && row === undefined) {
    const now = Date.now();
    if (set.name === 'A_BusinessPartner') {
      const number = store.transaction(() => createBusinessPartner(store, request.body, now));
      return created(store, set, number, root, expandedChildren(set, request.body));
    }
    if (set.name === 'A_SalesOrder') {
      const number = store.transaction(() => createSalesOrder(store, request.body, now));
      return created(store, set, number, root, new Map<string, ExpandTree>([['to_Item', new Map()]]));
    }
    return sapError(405, '/IWBEP/CX_MGW_TECH_EXCEPTION', `The sandbox does not support creating ${set.name}`, target.service);
  }
  if ((method === 'PATCH' || method === 'MERGE' || method === 'PUT') && row !== undefined && target.navigation === undefined) {
    const key = keyOf(set, row);
    let result: UpdateResult;
    if (set.name === 'A_SalesOrder') result = store.transaction(() => updateSalesOrder(store, key, request.body, request.ifMatch, Date.now()));
    else if (set.name === 'A_SalesOrderItem') result = store.transaction(() => updateSalesOrderItem(store, key, request.body, Date.now()));
    else return sapError(405, '/IWBEP/CX_MGW_TECH_EXCEPTION', `The sandbox does not support updating ${set.name}`, target.service);
    return updateAnswer(result, set, target.service);
  }
  return methodNotAllowed(target.service, method, set.name);
}

function updateAnswer(result: UpdateResult, set: EntitySetDefinition, service: string): SandboxAnswer {
  switch (result) {
    case 'updated':
      return { status: 204 };
    case 'not-found':
      return resourceNotFound(service, set.type);
    case 'precondition-required':
      return sapError(428, 'SADL_ENTITY_RUNTIME/004', `Precondition required for entity ${service}~${set.name.toUpperCase()} (If-Match missing)`, service);
    case 'precondition-failed':
      return sapError(412, '/IWBEP/CX_MGW_TECH_EXCEPTION', `The data has been changed by another user since it was read (ETag mismatch for ${set.type})`, service);
  }
}

function methodNotAllowed(service: string, method: string, what: string): SandboxAnswer {
  return sapError(405, '/IWBEP/CX_MGW_TECH_EXCEPTION', `Method ${method} is not allowed for ${what}`, service);
}

/** The navigations a deep insert body filled, to answer with them inline as Gateway does. */
function expandedChildren(set: EntitySetDefinition, body: unknown): ExpandTree {
  const names = typeof body === 'object' && body !== null ? Object.keys(body).filter((name) => set.navigations[name] !== undefined) : [];
  return new Map(names.map((name): [string, ExpandTree] => [name, new Map()]));
}

function created(store: SapStore, set: EntitySetDefinition, key: string, root: string, expand: ExpandTree): SandboxAnswer {
  const row = store.get(set.name, key)!;
  const entity = formatEntity(store, root, set, row, expand);
  const etag = etagOf(set, row);
  return { status: 201, headers: { location: (entity.__metadata as { uri: string }).uri, ...(etag === undefined ? {} : { etag }) }, body: { d: entity } };
}

function single(store: SapStore, set: EntitySetDefinition, row: Row, query: URLSearchParams, root: string): SandboxAnswer {
  const entity = formatEntity(store, root, set, row, parseExpand(query.get('$expand'), set), parseSelect(query.get('$select'), set));
  const etag = etagOf(set, row);
  return { status: 200, headers: etag === undefined ? {} : { etag }, body: { d: entity } };
}

function collection(store: SapStore, set: EntitySetDefinition, rows: Row[], query: URLSearchParams, root: string, pageSize: number): SandboxAnswer {
  const filter = query.get('$filter');
  const kept = (filter === null || filter.trim() === '' ? rows : rows.filter(compileFilter(filter, set))).sort(byKey(set));
  const number = (name: string): number | undefined => {
    const text = query.get(name);
    if (text === null) return undefined;
    if (!/^\d+$/.test(text)) throw new UrlError(`Invalid system query option ${name}=${text}`);
    return Number(text);
  };
  const skip = number('$skip') ?? 0;
  const top = number('$top');
  const wanted = kept.slice(skip, top === undefined ? undefined : skip + top);
  const page = wanted.slice(0, pageSize);
  const expand = parseExpand(query.get('$expand'), set);
  const select = parseSelect(query.get('$select'), set);
  const body: Record<string, unknown> = { results: page.map((row) => formatEntity(store, root, set, row, expand, select)) };
  const inlineCount = query.get('$inlinecount');
  if (inlineCount !== null && inlineCount !== 'allpages' && inlineCount !== 'none') throw new UrlError(`Invalid system query option $inlinecount=${inlineCount}`);
  if (inlineCount === 'allpages') body.__count = String(kept.length);
  if (wanted.length > page.length) {
    const next = new URLSearchParams(query);
    next.set('$skip', String(skip + page.length));
    if (top !== undefined) next.set('$top', String(top - page.length));
    body.__next = `${root}/${set.name}?${next.toString()}`;
  }
  return { status: 200, body: { d: body } };
}
