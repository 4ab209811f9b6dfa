/**
 * Rows as OData v2 JSON, the way Gateway writes them: `__metadata` (`id`, `uri`, `type`,
 * and `etag` — `W/"datetimeoffset'…'"` — on types with a concurrency token), decimals as
 * strings, `Edm.DateTime` as `/Date(ms)/`, `Edm.DateTimeOffset` as `/Date(ms+0000)/`,
 * ALPHA-converted numbers without leading zeros, navigation properties as `__deferred`
 * links or, when `$expand`ed, inline (`{"results":[…]}` for to-many). Also the parsing of
 * key predicates and of `$select`/`$expand`.
 */
import { alphaInput, mustEntitySet, type EntitySetDefinition, type PropertyDefinition } from './entity-model.ts';
import type { Row, SapStore } from './store.ts';

/** Why a request's URL is not one the service understands (SAP answers 400). */
export class UrlError extends Error {
  override readonly name = 'UrlError';
}

/** An expand tree: navigation name → what to expand below it. */
export type ExpandTree = Map<string, ExpandTree>;

/** Parses `$expand=to_Item,to_Item/to_PricingElement` against `set`, checking every navigation exists. */
export function parseExpand(text: string | null, set: EntitySetDefinition): ExpandTree {
  const tree: ExpandTree = new Map();
  if (text === null || text.trim() === '') return tree;
  for (const path of text.split(',')) {
    let node = tree;
    let current = set;
    for (const segment of path.trim().split('/')) {
      const navigation = current.navigations[segment];
      if (navigation === undefined) throw new UrlError(`Property '${segment}' is invalid: not a navigation property of ${current.service}.${current.type}`);
      if (!node.has(segment)) node.set(segment, new Map());
      node = node.get(segment)!;
      current = mustEntitySet(navigation.target);
    }
  }
  return tree;
}

/** Parses `$select`; undefined selects everything. */
export function parseSelect(text: string | null, set: EntitySetDefinition): Set<string> | undefined {
  if (text === null || text.trim() === '' || text.trim() === '*') return undefined;
  const names = new Set(text.split(',').map((name) => name.trim()));
  for (const name of names) {
    if (set.properties[name] === undefined && set.navigations[name] === undefined) throw new UrlError(`Property '${name}' is invalid: not a property of ${set.service}.${set.type}`);
  }
  return names;
}

/**
 * Parses a key predicate — `'4711'` for a single key, `SalesOrder='4711',SalesOrderItem='10'`
 * for a composite one — into key values as the store keeps them.
 */
export function parseKey(predicate: string, set: EntitySetDefinition): Record<string, string> {
  const literal = (text: string): string => {
    const match = /^'((?:[^']|'')*)'$/.exec(text.trim());
    if (match === null) throw new UrlError(`Invalid key predicate '${predicate}' for ${set.type}`);
    return match[1]!.replaceAll("''", "'");
  };
  const convert = (name: string, value: string): string => (set.properties[name]?.alpha === true ? alphaInput(value) : value);
  if (set.keys.length === 1 && !/^\s*\w+\s*=/.test(predicate)) {
    const name = set.keys[0]!;
    return { [name]: convert(name, literal(predicate)) };
  }
  const values: Record<string, string> = {};
  for (const part of predicate.match(/\w+\s*=\s*'(?:[^']|'')*'/g) ?? []) {
    const equals = part.indexOf('=');
    const name = part.slice(0, equals).trim();
    if (!set.keys.includes(name)) throw new UrlError(`Invalid key predicate '${predicate}': ${name} is not a key of ${set.type}`);
    values[name] = convert(name, literal(part.slice(equals + 1)));
  }
  if (set.keys.some((name) => values[name] === undefined)) throw new UrlError(`Invalid key predicate '${predicate}': ${set.type} needs ${set.keys.join(', ')}`);
  return values;
}

/** The key predicate of a row, for `__metadata.uri`. */
export function keyPredicate(set: EntitySetDefinition, row: Readonly<Row>): string {
  const literal = (name: string) => `'${String(row[name] ?? '').replaceAll("'", "''")}'`;
  return set.keys.length === 1 ? literal(set.keys[0]!) : set.keys.map((name) => `${name}=${literal(name)}`).join(',');
}

/** `2` decimals for amounts, `3` for quantities, up to `9` for condition rates. */
function decimal(value: number, definition: PropertyDefinition): string {
  if (definition.kind === 'amount') return value.toFixed(2);
  if (definition.kind === 'quantity') return value.toFixed(3);
  const fixed = value.toFixed(9).replace(/0+$/, '');
  return fixed.endsWith('.') ? `${fixed}00` : fixed.split('.')[1]!.length < 2 ? `${fixed}0` : fixed;
}

/** One property value on the wire. */
export function wireValue(definition: PropertyDefinition, value: Row[string] | undefined): unknown {
  if (value === null || value === undefined) {
    if (definition.kind === 'string') return '';
    if (definition.kind === 'boolean') return false;
    return null;
  }
  switch (definition.kind) {
    case 'amount':
    case 'quantity':
    case 'rate':
      return decimal(Number(value), definition);
    case 'date':
      return `/Date(${Number(value)})/`;
    case 'timestamp':
      return `/Date(${Number(value)}+0000)/`;
    case 'boolean':
      return Boolean(value);
    default:
      return String(value);
  }
}

/** The weak ETag of a row of a type with a concurrency token (`LastChangeDateTime`). */
export function etagOf(set: EntitySetDefinition, row: Readonly<Row>): string | undefined {
  if (set.etag === undefined) return undefined;
  const at = Number(row[set.etag] ?? 0);
  const iso = new Date(at).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
  return `W/"datetimeoffset'${encodeURIComponent(iso)}'"`;
}

/** Rows of `navigation`'s target that belong to `row`. */
export function related(store: SapStore, set: EntitySetDefinition, row: Readonly<Row>, navigationName: string): Row[] {
  const navigation = set.navigations[navigationName]!;
  const joins = Object.entries(navigation.join);
  return store
    .all(navigation.target)
    .filter((candidate) => joins.every(([target, source]) => candidate[target] === row[source] && row[source] !== undefined && row[source] !== ''))
    .sort(byKey(mustEntitySet(navigation.target)));
}

/** Orders rows by their keys, numbers numerically (as SAP lists by primary key). */
export function byKey(set: EntitySetDefinition): (left: Row, right: Row) => number {
  return (left, right) => {
    for (const name of set.keys) {
      const order = String(left[name] ?? '').localeCompare(String(right[name] ?? ''), 'en', { numeric: true });
      if (order !== 0) return order;
    }
    return 0;
  };
}

/** Writes a row as Gateway does; `serviceRoot` is the absolute URL of the service. */
export function formatEntity(store: SapStore, serviceRoot: string, set: EntitySetDefinition, row: Readonly<Row>, expand: ExpandTree, select?: Set<string>): Record<string, unknown> {
  const uri = `${serviceRoot}/${set.name}(${keyPredicate(set, row)})`;
  const etag = etagOf(set, row);
  const entity: Record<string, unknown> = { __metadata: { id: uri, uri, type: `${set.service}.${set.type}`, ...(etag === undefined ? {} : { etag }) } };
  for (const [name, definition] of Object.entries(set.properties)) {
    if (select === undefined || select.has(name)) entity[name] = wireValue(definition, row[name]);
  }
  for (const [name, navigation] of Object.entries(set.navigations)) {
    const below = expand.get(name);
    if (below === undefined) {
      if (select === undefined || select.has(name)) entity[name] = { __deferred: { uri: `${uri}/${name}` } };
      continue;
    }
    const target = mustEntitySet(navigation.target);
    const rows = related(store, set, row, name).map((child) => formatEntity(store, serviceRoot, target, child, below));
    entity[name] = navigation.many ? { results: rows } : rows[0] ?? null;
  }
  return entity;
}
