/**
 * Runs a parsed SOQL query against the store and pages its rows as the REST API does
 * ("Query" and "Query More Results", REST API Developer Guide): `{totalSize, done, records}`,
 * and while rows remain `done: false` with `nextRecordsUrl`
 * (`/services/data/vXX.X/query/01g…-2000`) that returns the next batch. Rows carry
 * `attributes` (`type`, `url`); a parent's fields come as a nested record, or `null` when the
 * reference is empty. A locator is kept in the store, so paging survives a sandbox restart.
 */
import { toEighteenCharacterId } from '../../../functions/connectors/crm/salesforce/record-id.ts';
import type { FieldValue, OrgStore, StoredRecord } from './org-store.ts';
import { SalesforceApiError } from './responses.ts';
import type { SObjectDefinition } from './schema.ts';
import { parseSoql, resolvePath, valuesMatch, type ResolvedPath, type SoqlQuery } from './soql.ts';

/** One answer of `/query`. */
export interface QueryPage {
  readonly totalSize: number;
  readonly done: boolean;
  readonly nextRecordsUrl?: string;
  readonly records: readonly Record<string, unknown>[];
}

/** What a query runs in. */
export interface QueryContext {
  readonly store: OrgStore;
  readonly schema: ReadonlyMap<string, SObjectDefinition>;
  /** The API version of the request, e.g. `62.0`, for the URLs in the answer. */
  readonly version: string;
  readonly batchSize: number;
  readonly now: () => number;
}

interface Plan {
  readonly object: SObjectDefinition;
  readonly select: readonly ResolvedPath[];
  readonly query: SoqlQuery;
}

function plan(context: QueryContext, soql: string): Plan {
  const query = parseSoql(soql);
  const object = [...context.schema.values()].find((candidate) => candidate.name.toLowerCase() === query.object.toLowerCase());
  if (object === undefined) {
    throw new SalesforceApiError(
      400,
      'INVALID_TYPE',
      `sObject type '${query.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const select = query.fields.map((path) => resolvePath(context.schema, object, path));
  return { object, select, query };
}

/** Runs `GET /query?q=`: the first batch, and a locator for the rest. */
export function runQuery(context: QueryContext, soql: string): QueryPage {
  const { object, select, query } = plan(context, soql);
  const conditions = query.where.map((condition) => ({ ...condition, resolved: resolvePath(context.schema, object, condition.path) }));
  const order = query.orderBy === undefined ? undefined : { ...query.orderBy, resolved: resolvePath(context.schema, object, query.orderBy.path) };
  const parents = new Map<string, StoredRecord | undefined>();
  const valueOf = (record: StoredRecord, path: ResolvedPath): FieldValue => {
    if (path.referenceField === undefined) return record[path.field] ?? null;
    const parentId = record[path.referenceField];
    if (typeof parentId !== 'string') return null;
    if (!parents.has(parentId)) parents.set(parentId, context.store.find(parentId)?.record);
    return parents.get(parentId)?.[path.field] ?? null;
  };

  // An equality on the id or an indexed field of the object itself narrows the candidates.
  const narrowing = conditions.find(
    (condition) => condition.operator !== '!=' && condition.resolved.referenceField === undefined && (condition.resolved.field === 'Id' || object.fields[condition.resolved.field]?.indexed === true),
  );
  let candidates: StoredRecord[];
  if (narrowing === undefined) {
    candidates = context.store.all(object.name);
  } else {
    const byId = new Map<string, StoredRecord>();
    for (const value of narrowing.values) {
      const found = narrowing.resolved.field === 'Id' ? recordById(context.store, object.name, value) : context.store.findBy(object.name, narrowing.resolved.field, value);
      for (const record of found) byId.set(record.Id, record);
    }
    candidates = [...byId.values()].sort((left, right) => (left.Id < right.Id ? -1 : 1));
  }
  let rows = candidates.filter((record) =>
    conditions.every((condition) => {
      const stored = valueOf(record, condition.resolved);
      const matches = condition.values.some((value) => valuesMatch(stored, value));
      return condition.operator === '!=' ? !matches : matches;
    }),
  );
  if (order !== undefined) {
    const direction = order.descending ? -1 : 1;
    rows = rows.sort((left, right) => direction * compare(valueOf(left, order.resolved), valueOf(right, order.resolved)));
  }
  if (query.limit !== undefined) rows = rows.slice(0, query.limit);
  const ids = rows.map((record) => record.Id);
  return page(context, { object, select, query }, soql, ids, 0, undefined);
}

/** Runs `GET /query/<locator>-<offset>`: the next batch of an earlier query. */
export function nextBatch(context: QueryContext, locatorAndOffset: string): QueryPage {
  const match = /^(01g[a-zA-Z0-9]{15})-(\d+)$/.exec(locatorAndOffset);
  const cursor = match === null ? undefined : context.store.findCursor(match[1]!);
  if (match === null || cursor === undefined) {
    throw new SalesforceApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
  }
  const offset = Number(match[2]);
  if (offset > cursor.ids.length) throw new SalesforceApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
  return page({ ...context, batchSize: cursor.batchSize }, plan(context, cursor.plan), cursor.plan, cursor.ids, offset, match[1]);
}

function page(context: QueryContext, planned: Plan, soql: string, ids: readonly string[], offset: number, existingLocator: string | undefined): QueryPage {
  const batch = ids.slice(offset, offset + context.batchSize);
  const records = batch.flatMap((id) => {
    const found = context.store.find(id);
    return found === undefined ? [] : [row(context, planned, found.record)];
  });
  const next = offset + batch.length;
  if (next >= ids.length) return { totalSize: ids.length, done: true, records };
  const locator = existingLocator ?? context.store.saveCursor({ plan: soql, ids, batchSize: context.batchSize }, context.now());
  return { totalSize: ids.length, done: false, nextRecordsUrl: `/services/data/v${context.version}/query/${locator}-${next}`, records };
}

/** The record of `sobject` with id `value` (15 or 18 characters), as a list of zero or one. */
function recordById(store: OrgStore, sobject: string, value: FieldValue): StoredRecord[] {
  const id = typeof value === 'string' ? toEighteenCharacterId(value) : undefined;
  const found = id === undefined ? undefined : store.find(id);
  return found?.sobject === sobject ? [found.record] : [];
}

function attributes(version: string, type: string, id: string): { type: string; url: string } {
  return { type, url: `/services/data/v${version}/sobjects/${type}/${id}` };
}

/** One result row: the selected fields in order, a parent's fields nested under its relationship name. */
function row(context: QueryContext, planned: Plan, record: StoredRecord): Record<string, unknown> {
  const result: Record<string, unknown> = { attributes: attributes(context.version, planned.object.name, record.Id) };
  for (const path of planned.select) {
    if (path.referenceField === undefined) {
      result[path.field] = record[path.field] ?? null;
      continue;
    }
    const parentId = record[path.referenceField];
    const parent = typeof parentId === 'string' ? context.store.find(parentId)?.record : undefined;
    if (parent === undefined) {
      result[path.relationshipName!] = null;
      continue;
    }
    const nested = (result[path.relationshipName!] ??= { attributes: attributes(context.version, path.targetObject, parent.Id) }) as Record<string, unknown>;
    nested[path.field] = parent[path.field] ?? null;
  }
  return result;
}

/** SOQL's default order: nulls first, text without case. */
function compare(left: FieldValue, right: FieldValue): number {
  if (left === right) return 0;
  if (left === null) return -1;
  if (right === null) return 1;
  const a = typeof left === 'string' ? left.toLowerCase() : left;
  const b = typeof right === 'string' ? right.toLowerCase() : right;
  return a < b ? -1 : a > b ? 1 : 0;
}
