/**
 * The sandbox's stand-in for Odoo's ORM: models with typed fields, the generic
 * model methods external clients call through `execute_kw` (search, read,
 * search_read, search_count, create, write, unlink, name_get, name_search,
 * fields_get…), x2many commands, `active` filtering, default ordering, and one
 * transaction per call (a call that raises changes nothing).
 *
 * A call works on a copy-on-write view of the rows it touches and commits only the
 * rows it changed; searches narrow their candidates through equality indexes
 * (`=`, `in`, `=like` and `=ilike` without wildcards, `id`) before testing the whole
 * domain, so a call's cost follows the rows it touches, not the database's size.
 */
import { domainLeaves, evaluateDomain, matchValue, parseDomain, type DomainLeaf, type DomainNode } from './domain.ts';
import {
  missingError,
  OdooException,
  typeError,
  userError,
  validationError,
  valueError,
} from './odoo-exceptions.ts';
import { indexKey, type IndexKind, type OdooRecordStore, type RowChange } from './record-store.ts';
import { XmlRpcDouble } from './xml-rpc.ts';

/** A value as stored: scalars, `null` when unset, ids for one2many fields (those are computed, never stored). */
export type StoredValue = string | number | boolean | null | number[];

/** One stored row. */
export interface StoredRecord {
  id: number;
  [field: string]: StoredValue;
}

/** Field types the sandbox models use (Odoo's names). */
export type FieldType =
  | 'char'
  | 'text'
  | 'html'
  | 'boolean'
  | 'integer'
  | 'float'
  | 'monetary'
  | 'selection'
  | 'many2one'
  | 'one2many'
  | 'date'
  | 'datetime';

/** One field of a model. */
export interface FieldDefinition {
  readonly type: FieldType;
  /** Label, as `fields_get` reports it. */
  readonly string: string;
  readonly help?: string;
  /** Target model of many2one / one2many fields. */
  readonly relation?: string;
  /** The many2one on `relation` that a one2many mirrors. */
  readonly inverseName?: string;
  readonly selection?: readonly (readonly [string, string])[];
  readonly required?: boolean;
  readonly readonly?: boolean;
  /** What a many2one does when its target is deleted; Odoo's default is `set null`, `restrict` when required. */
  readonly ondelete?: 'cascade' | 'restrict' | 'set null';
  readonly default?: (env: Environment) => StoredValue;
  /** Computed (not stored) value. */
  readonly compute?: (record: StoredRecord, env: Environment) => StoredValue;
}

/** A model-specific public method, e.g. `sale.order.action_confirm`. */
export interface ModelMethod {
  /** Names of the positional/keyword parameters after `self`. */
  readonly parameters: readonly string[];
  /** True for methods on records (the first positional argument is the ids), false for `@api.model` methods. */
  readonly onRecords: boolean;
  readonly run: (env: Environment, ids: number[], args: Readonly<Record<string, unknown>>) => unknown;
}

/** One model (`_name`) of the sandbox. */
export interface ModelDefinition {
  readonly name: string;
  /** `_description`, used in error messages. */
  readonly description: string;
  /** `_order`, e.g. `date_order desc, id desc`. */
  readonly order: string;
  /** `_rec_name`; defaults to `name`. */
  readonly recName?: string;
  /** Extra fields `name_search` looks in besides the rec name, e.g. `default_code` for products. */
  readonly nameSearchFields?: readonly string[];
  readonly fields: Readonly<Record<string, FieldDefinition>>;
  readonly displayName?: (record: StoredRecord, env: Environment) => string;
  /** Fills derived values before a row is stored (sequence numbers, values from a product…); `provided` holds the caller's values. */
  readonly prepareCreate?: (row: Record<string, StoredValue>, provided: Readonly<Record<string, unknown>>, env: Environment) => void;
  /** Raises when the rows may not be deleted. */
  readonly beforeUnlink?: (records: readonly StoredRecord[], env: Environment) => void;
  readonly methods?: Readonly<Record<string, ModelMethod>>;
}

const MAGIC_FIELDS: Readonly<Record<string, FieldDefinition>> = {
  id: { type: 'integer', string: 'ID', readonly: true },
  display_name: { type: 'char', string: 'Display Name', readonly: true },
  create_date: { type: 'datetime', string: 'Created on', readonly: true },
  write_date: { type: 'datetime', string: 'Last Updated on', readonly: true },
};

/** Odoo's datetime string format, in UTC: `2024-01-31 08:15:00`. */
export function odooDatetime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** A row as one call sees it: loaded (or created) once, then shared by every use within the call. */
interface LoadedRow {
  record: StoredRecord | undefined;
  /** The committed JSON, undefined for a row this call created. */
  readonly before: string | undefined;
}

/**
 * One call's copy-on-write view of the store: rows are parsed from their committed
 * JSON on first use (so each call works on private copies), changed rows are marked,
 * and only those are committed when the call succeeds. A call that raises is
 * dropped with its view, so it changes nothing.
 */
class Transaction {
  readonly #store: OdooRecordStore;
  readonly #rows = new Map<string, Map<number, LoadedRow>>();
  readonly #dirty = new Map<string, Set<number>>();
  readonly #counters = new Map<string, number>();

  constructor(store: OdooRecordStore) {
    this.#store = store;
  }

  find(model: string, id: number): StoredRecord | undefined {
    return this.#row(model, id).record;
  }

  /** Every row of a model, in id order. */
  all(model: string): StoredRecord[] {
    const rows = this.#rowsOf(model);
    const found: StoredRecord[] = [];
    const seen = new Set<number>();
    for (const { id, data } of this.#store.scan(model)) {
      seen.add(id);
      let loaded = rows.get(id);
      if (loaded === undefined) {
        loaded = { record: JSON.parse(data) as StoredRecord, before: data };
        rows.set(id, loaded);
      }
      if (loaded.record !== undefined) found.push(loaded.record);
    }
    for (const id of this.#dirty.get(model) ?? []) {
      const record = rows.get(id)?.record;
      if (!seen.has(id) && record !== undefined) found.push(record);
    }
    return found.sort((left, right) => left.id - right.id);
  }

  /** Rows of a model whose `field` files under one of `keys` in a `kind` index, in id order. */
  where(model: string, field: string, kind: IndexKind, keys: readonly string[]): StoredRecord[] {
    const dirty = this.#dirty.get(model) ?? new Set<number>();
    const ids = new Set(this.#store.lookup(model, field, kind, keys).filter((id) => !dirty.has(id)));
    const wanted = new Set(keys);
    for (const id of dirty) {
      const record = this.#rowsOf(model).get(id)?.record;
      const key = record === undefined ? undefined : indexKey(kind, record[field]);
      if (key !== undefined && wanted.has(key)) ids.add(id);
    }
    return [...ids]
      .sort((left, right) => left - right)
      .map((id) => this.find(model, id))
      .filter((record) => record !== undefined);
  }

  /** Marks a row as changed by this call; call before mutating it. */
  touch(model: string, id: number): void {
    this.#row(model, id);
    this.#dirtyOf(model).add(id);
  }

  insert(model: string, record: StoredRecord): void {
    this.#rowsOf(model).set(record.id, { record, before: undefined });
    this.#dirtyOf(model).add(record.id);
  }

  remove(model: string, id: number): void {
    this.#row(model, id).record = undefined;
    this.#dirtyOf(model).add(id);
  }

  counter(name: string): number | undefined {
    return this.#counters.get(name) ?? this.#store.counter(name);
  }

  setCounter(name: string, value: number): void {
    this.#counters.set(name, value);
  }

  /** Writes the changed rows and counters; nothing when the call only read. */
  commit(): void {
    const changes: RowChange[] = [];
    for (const [model, ids] of this.#dirty) {
      const rows = this.#rowsOf(model);
      for (const id of ids) {
        const loaded = rows.get(id)!;
        if (loaded.before === undefined && loaded.record === undefined) continue;
        changes.push({ model, id, before: loaded.before, after: loaded.record });
      }
    }
    this.#store.commit(changes, this.#counters);
  }

  #row(model: string, id: number): LoadedRow {
    const rows = this.#rowsOf(model);
    let loaded = rows.get(id);
    if (loaded === undefined) {
      const data = this.#store.load(model, id);
      loaded = { record: data === undefined ? undefined : (JSON.parse(data) as StoredRecord), before: data };
      rows.set(id, loaded);
    }
    return loaded;
  }

  #rowsOf(model: string): Map<number, LoadedRow> {
    let rows = this.#rows.get(model);
    if (rows === undefined) {
      rows = new Map();
      this.#rows.set(model, rows);
    }
    return rows;
  }

  #dirtyOf(model: string): Set<number> {
    let ids = this.#dirty.get(model);
    if (ids === undefined) {
      ids = new Set();
      this.#dirty.set(model, ids);
    }
    return ids;
  }
}

/** The view of the database one call works in (Odoo's `env`): the call's transaction, user and context. */
export class Environment {
  readonly uid: number;
  readonly context: Readonly<Record<string, unknown>>;
  /** When this call started, in Odoo's datetime format. */
  readonly now: string;
  private readonly database: OdooDatabase;
  private readonly transaction: Transaction;

  constructor(database: OdooDatabase, transaction: Transaction, uid: number, context: Readonly<Record<string, unknown>>, now?: string) {
    this.database = database;
    this.transaction = transaction;
    this.uid = uid;
    this.context = context;
    this.now = now ?? odooDatetime(new Date());
  }

  /** The same transaction with extra context keys (Odoo's `with_context`). */
  withContext(extra: Readonly<Record<string, unknown>>): Environment {
    return new Environment(this.database, this.transaction, this.uid, { ...this.context, ...extra }, this.now);
  }

  /** The definition of a model; UserError when it does not exist. */
  model(name: string): ModelDefinition {
    return this.database.model(name);
  }

  /** All rows of a model, in id order (reads the whole table: keep to small models, use `rowsWhere` otherwise). */
  rows(model: string): StoredRecord[] {
    this.model(model);
    return this.transaction.all(model);
  }

  /** Rows whose stored `field` equals `value` (a many2one id, a code…), in id order, through an index. */
  rowsWhere(model: string, field: string, value: string | number): StoredRecord[] {
    this.model(model);
    const key = indexKey('exact', value);
    return key === undefined ? [] : this.transaction.where(model, field, 'exact', [key]);
  }

  /** Rows whose `field` files under one of `keys` in a `kind` index, in id order. */
  rowsIndexed(model: string, field: string, kind: IndexKind, keys: readonly string[]): StoredRecord[] {
    this.model(model);
    return this.transaction.where(model, field, kind, keys);
  }

  /** One row, or undefined. */
  find(model: string, id: number): StoredRecord | undefined {
    this.model(model);
    return this.transaction.find(model, id);
  }

  /** Rows for ids; MissingError when one is gone. */
  browse(model: string, ids: readonly number[]): StoredRecord[] {
    const missing = ids.filter((id) => this.find(model, id) === undefined);
    if (missing.length > 0) throw missingError(model, missing, this.uid);
    return ids.map((id) => this.find(model, id)!);
  }

  /** A field's value, computed if the field is computed; one2many fields give the ids of their rows. */
  get(model: string, record: StoredRecord, fieldName: string): StoredValue {
    if (fieldName === 'id') return record.id;
    if (fieldName === 'display_name') return this.displayName(model, record);
    const field = this.field(model, fieldName);
    if (field.compute !== undefined) return field.compute(record, this);
    if (field.type === 'one2many') {
      return this.rowsWhere(field.relation!, field.inverseName!, record.id)
        .sort(this.database.comparator(field.relation!, this.model(field.relation!).order, this))
        .map((row) => row.id);
    }
    return record[fieldName] ?? null;
  }

  /** What Odoo shows for a record (`display_name`). */
  displayName(model: string, record: StoredRecord): string {
    const definition = this.model(model);
    if (definition.displayName !== undefined) return definition.displayName(record, this);
    const name = record[definition.recName ?? 'name'];
    return typeof name === 'string' ? name : `${model},${record.id}`;
  }

  /** The definition of one field, including id/display_name/create_date/write_date. */
  field(model: string, fieldName: string): FieldDefinition {
    const field = allFields(this.model(model))[fieldName];
    if (field === undefined) throw valueError(`Invalid field '${fieldName}' on model '${model}'`);
    return field;
  }

  /** Creates one record as the ORM does (defaults, checks, x2many commands); returns its id. */
  create(model: string, values: Readonly<Record<string, unknown>>): number {
    return this.database.createRecord(this, model, values);
  }

  /** Writes values on records as the ORM does. */
  write(model: string, ids: readonly number[], values: Readonly<Record<string, unknown>>): void {
    this.database.writeRecords(this, model, ids, values);
  }

  /** Marks a row as changed by this call, so it is committed; call before mutating the row. */
  touch(model: string, record: StoredRecord): void {
    this.transaction.touch(model, record.id);
  }

  /** Stores a new row under the next id of its model; returns the id. */
  insert(model: string, row: Omit<StoredRecord, 'id'>): StoredRecord {
    const counter = `next_id:${model}`;
    const id = this.transaction.counter(counter) ?? 1;
    this.transaction.setCounter(counter, id + 1);
    const record = { ...row, id } as StoredRecord;
    this.transaction.insert(model, record);
    return record;
  }

  /** Deletes a row. */
  remove(model: string, id: number): void {
    this.transaction.remove(model, id);
  }

  /** Next number of a sequence, e.g. `S00042` for `sale.order`. */
  nextSequence(code: string, prefix: string, padding: number): string {
    const counter = `sequence:${code}`;
    const next = (this.transaction.counter(counter) ?? 0) + 1;
    this.transaction.setCounter(counter, next);
    return `${prefix}${String(next).padStart(padding, '0')}`;
  }
}

function allFields(model: ModelDefinition): Readonly<Record<string, FieldDefinition>> {
  return { ...MAGIC_FIELDS, ...model.fields };
}

/** Generic model methods and their Python signatures (parameters after `self`). */
const GENERIC_METHODS: Readonly<Record<string, { parameters: readonly string[]; onRecords: boolean }>> = {
  search: { parameters: ['domain', 'offset', 'limit', 'order', 'count'], onRecords: false },
  search_count: { parameters: ['domain', 'limit'], onRecords: false },
  search_read: { parameters: ['domain', 'fields', 'offset', 'limit', 'order', 'load'], onRecords: false },
  read: { parameters: ['fields', 'load'], onRecords: true },
  create: { parameters: ['vals_list'], onRecords: false },
  write: { parameters: ['vals'], onRecords: true },
  unlink: { parameters: [], onRecords: true },
  exists: { parameters: [], onRecords: true },
  name_get: { parameters: [], onRecords: true },
  name_search: { parameters: ['name', 'args', 'operator', 'limit'], onRecords: false },
  fields_get: { parameters: ['allfields', 'attributes'], onRecords: false },
  default_get: { parameters: ['fields_list'], onRecords: false },
  check_access_rights: { parameters: ['operation', 'raise_exception'], onRecords: false },
};

/** Options of the sandbox ORM. */
export interface OdooDatabaseOptions {
  readonly models: readonly ModelDefinition[];
}

/** The sandbox database: model registry plus the generic ORM methods. */
export class OdooDatabase {
  private readonly store: OdooRecordStore;
  private readonly models: ReadonlyMap<string, ModelDefinition>;

  constructor(store: OdooRecordStore, options: OdooDatabaseOptions) {
    this.store = store;
    this.models = new Map(options.models.map((model) => [model.name, model]));
  }

  /** A model's definition; `UserError("Object x doesn't exist")` as Odoo's `execute_cr` raises. */
  model(name: string): ModelDefinition {
    const model = this.models.get(name);
    if (model === undefined) throw userError(`Object ${name} doesn't exist`);
    return model;
  }

  /**
   * Runs `model.method(*args, **kwargs)` for user `uid` in its own transaction,
   * the way `odoo.service.model.execute_kw` does after authentication.
   */
  execute(uid: number, modelName: string, method: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): unknown {
    const model = this.model(modelName);
    if (method.startsWith('_')) {
      throw new OdooException(
        'odoo.exceptions.AccessError',
        `Private methods (such as '${modelName}.${method}') cannot be called remotely.`,
      );
    }
    const { context: rawContext, ...namedArguments } = kwargs;
    if (rawContext !== undefined && rawContext !== null && (typeof rawContext !== 'object' || Array.isArray(rawContext))) {
      throw typeError(`context must be a dictionary, got ${JSON.stringify(rawContext)}`);
    }
    const context = (rawContext ?? {}) as Readonly<Record<string, unknown>>;
    const specific = model.methods?.[method];
    const generic = GENERIC_METHODS[method];
    const signature = specific ?? generic;
    if (signature === undefined) {
      throw new OdooException('builtins.AttributeError', `The method '${modelName}.${method}' does not exist`);
    }
    let ids: number[] = [];
    let positional = [...args];
    if (signature.onRecords) {
      if (positional.length === 0) throw typeError(`${method}() missing the record ids (first positional argument)`);
      ids = toIds(positional[0]);
      positional = positional.slice(1);
    }
    const bound = bindArguments(method, signature.parameters, positional, namedArguments);
    const transaction = new Transaction(this.store);
    const env = new Environment(this, transaction, uid, context);
    const result = specific !== undefined
      ? specific.run(env, ids, bound)
      : this.runGeneric(env, modelName, method, ids, bound);
    transaction.commit();
    return result;
  }

  private runGeneric(env: Environment, model: string, method: string, ids: number[], args: Readonly<Record<string, unknown>>): unknown {
    switch (method) {
      case 'search': {
        const found = this.search(env, model, args.domain, args);
        return args.count === true ? found.length : found;
      }
      case 'search_count':
        return this.search(env, model, args.domain, { limit: args.limit }).length;
      case 'search_read': {
        const found = this.search(env, model, args.domain, args);
        return found.map((id) => this.readRecord(env, model, env.find(model, id)!, args.fields, args.load));
      }
      case 'read':
        return env.browse(model, ids).map((record) => this.readRecord(env, model, record, args.fields, args.load));
      case 'create': {
        const valsList = args.vals_list;
        if (Array.isArray(valsList)) return valsList.map((values) => this.createRecord(env, model, asValues(values)));
        return this.createRecord(env, model, asValues(valsList));
      }
      case 'write':
        this.writeRecords(env, model, ids, asValues(args.vals));
        return true;
      case 'unlink':
        this.unlinkRecords(env, model, ids);
        return true;
      case 'exists':
        return ids.filter((id) => env.find(model, id) !== undefined);
      case 'name_get':
        return env.browse(model, ids).map((record) => [record.id, env.displayName(model, record)]);
      case 'name_search':
        return this.nameSearch(env, model, args);
      case 'fields_get':
        return this.fieldsGet(model, args.allfields, args.attributes);
      case 'default_get':
        return this.defaultGet(env, model, args.fields_list);
      case 'check_access_rights':
        return true;
      default:
        throw new OdooException('builtins.AttributeError', `The method '${model}.${method}' does not exist`);
    }
  }

  /** Ids of the records matching a domain, ordered, with offset and limit. */
  search(env: Environment, model: string, domain: unknown, options: Readonly<Record<string, unknown>>): number[] {
    const tree = parseDomain(domain);
    const definition = this.model(model);
    const leaves = domainLeaves(tree);
    for (const leaf of leaves) this.checkPath(model, leaf.field.split('.'), leaf);
    const activeTest = 'active' in definition.fields
      && env.context.active_test !== false
      && !leaves.some((leaf) => leaf.field === 'active');
    const order = options.order === undefined || options.order === null || options.order === false ? definition.order : options.order;
    if (typeof order !== 'string') throw valueError(`Invalid "order" specified (${JSON.stringify(order)})`);
    const offset = toCount(options.offset, 'offset') ?? 0;
    const limit = toCount(options.limit, 'limit');
    const candidates = this.candidates(env, model, tree);
    const rows = candidates === undefined ? env.rows(model) : candidates;
    const matching = rows
      .filter((record) => (!activeTest || record.active === true) && evaluateDomain(tree, (leaf) => this.testLeaf(env, model, record, leaf.field.split('.'), leaf)))
      .sort(this.comparator(model, order, env))
      .map((record) => record.id);
    return matching.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  /**
   * The rows a domain can match at most, in id order, found through indexes; undefined
   * when the domain has no indexable part and every row must be tested.
   */
  private candidates(env: Environment, model: string, node: DomainNode): StoredRecord[] | undefined {
    const ids = this.candidateIds(env, model, node);
    if (ids === undefined) return undefined;
    return [...ids]
      .sort((left, right) => left - right)
      .map((id) => env.find(model, id))
      .filter((record) => record !== undefined);
  }

  private candidateIds(env: Environment, model: string, node: DomainNode): Set<number> | undefined {
    switch (node.kind) {
      case 'constant':
        return node.value ? undefined : new Set();
      case 'not':
        return undefined;
      case 'and': {
        const left = this.candidateIds(env, model, node.left);
        const right = this.candidateIds(env, model, node.right);
        if (left === undefined || right === undefined) return left ?? right;
        const [small, large] = left.size <= right.size ? [left, right] : [right, left];
        return new Set([...small].filter((id) => large.has(id)));
      }
      case 'or': {
        const left = this.candidateIds(env, model, node.left);
        const right = left === undefined ? undefined : this.candidateIds(env, model, node.right);
        return left === undefined || right === undefined ? undefined : new Set([...left, ...right]);
      }
      case 'leaf':
        return this.leafCandidates(env, model, node);
    }
  }

  /** Ids a leaf can match, when an index answers it exactly or as a superset. */
  private leafCandidates(env: Environment, model: string, leaf: DomainLeaf): Set<number> | undefined {
    const { field: name, operator, value } = leaf;
    if (name.includes('.') || name === 'display_name') return undefined;
    const values = operator === 'in' ? (Array.isArray(value) ? value : [value]) : operator === '=' || operator === '=?' ? [value] : undefined;
    if (name === 'id') {
      if (values === undefined || !values.every((item) => typeof item === 'number')) return undefined;
      return new Set((values as number[]).filter((id) => env.find(model, id) !== undefined));
    }
    const field = allFields(this.model(model))[name];
    if (field === undefined || field.compute !== undefined || field.type === 'one2many' || field.type === 'boolean') return undefined;
    const numeric = field.type === 'integer' || field.type === 'float' || field.type === 'monetary' || field.type === 'many2one';
    let kind: IndexKind = 'exact';
    let keys: (string | undefined)[];
    if (values !== undefined) {
      // Only values of the field's own type: `sameValue` coerces across types, and unset values match unset rows.
      if (!values.every((item) => (numeric ? typeof item === 'number' : typeof item === 'string'))) return undefined;
      keys = values.map((item) => indexKey('exact', item as string | number));
    } else if ((operator === '=like' || operator === '=ilike') && !numeric && typeof value === 'string') {
      const literal = likeLiteral(value);
      if (literal === undefined) return undefined;
      if (operator === '=ilike') {
        // Case-insensitive equality of ASCII text is equality of ASCII folds; other text is tested row by row.
        if (!/^[\x00-\x7f]*$/.test(literal)) return undefined;
        kind = 'folded';
        keys = [literal.toLowerCase()];
      } else {
        keys = [indexKey('exact', literal)];
      }
    } else {
      return undefined;
    }
    if (keys.some((key) => key === undefined)) return undefined;
    return new Set(env.rowsIndexed(model, name, kind, keys as string[]).map((record) => record.id));
  }

  private checkPath(model: string, path: readonly string[], leaf: DomainLeaf): void {
    const [head, ...rest] = path;
    const field = allFields(this.model(model))[head ?? ''];
    if (field === undefined) throw valueError(`Invalid field ${model}.${head} in leaf ('${leaf.field}', '${leaf.operator}', ${JSON.stringify(leaf.value)})`);
    if (rest.length === 0) return;
    if (field.relation === undefined) throw valueError(`Invalid path '${leaf.field}': ${model}.${head} is not a relational field`);
    this.checkPath(field.relation, rest, leaf);
  }

  private testLeaf(env: Environment, model: string, record: StoredRecord, path: readonly string[], leaf: DomainLeaf): boolean {
    const [head, ...rest] = path as [string, ...string[]];
    const field = env.field(model, head);
    const value = env.get(model, record, head);
    if (rest.length > 0) {
      const related = Array.isArray(value) ? value : value === null || value === false ? [] : [value as number];
      return related.some((id) => {
        const target = env.find(field.relation!, id);
        return target !== undefined && this.testLeaf(env, field.relation!, target, rest, leaf);
      });
    }
    if (field.type === 'many2one' && typeof value === 'number' && isNameComparison(leaf)) {
      const target = env.find(field.relation!, value);
      return target !== undefined && matchValue(env.displayName(field.relation!, target), leaf.operator, leaf.value);
    }
    if (field.type === 'many2one' && value === null && isNameComparison(leaf)) {
      return matchValue(null, leaf.operator, leaf.value);
    }
    return matchValue(value, leaf.operator, leaf.value);
  }

  /** Sort function for an `order` spec such as `date_order desc, id desc`. */
  comparator(model: string, order: string, env: Environment): (left: StoredRecord, right: StoredRecord) => number {
    const terms = order
      .split(',')
      .map((term) => term.trim())
      .filter((term) => term !== '')
      .map((term) => {
        const match = /^([a-z_][a-z0-9_]*)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?$/i.exec(term);
        if (match === null) throw valueError(`Invalid "order" specified (${order}).`);
        const fieldName = match[1]!;
        env.field(model, fieldName);
        const descending = match[2]?.toLowerCase() === 'desc';
        // PostgreSQL: NULLS LAST for ascending, NULLS FIRST for descending.
        const nullsFirst = match[3] === undefined ? descending : match[3].toLowerCase() === 'first';
        return { fieldName, descending, nullsFirst };
      });
    return (left, right) => {
      for (const term of terms) {
        const a = this.sortKey(env, model, left, term.fieldName);
        const b = this.sortKey(env, model, right, term.fieldName);
        if (a === b) continue;
        if (a === null) return term.nullsFirst ? -1 : 1;
        if (b === null) return term.nullsFirst ? 1 : -1;
        const comparison = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
        if (comparison !== 0) return term.descending ? -comparison : comparison;
      }
      return 0;
    };
  }

  private sortKey(env: Environment, model: string, record: StoredRecord, fieldName: string): string | number | null {
    const field = env.field(model, fieldName);
    const value = env.get(model, record, fieldName);
    if (value === null || Array.isArray(value)) return null;
    if (field.type === 'many2one' && typeof value === 'number') {
      const target = env.find(field.relation!, value);
      return target === undefined ? null : env.displayName(field.relation!, target);
    }
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value;
  }

  /** One record as `read` returns it: many2one as `[id, display_name]`, unset values as `false`. */
  readRecord(env: Environment, model: string, record: StoredRecord, fields: unknown, load: unknown): Record<string, unknown> {
    const definition = this.model(model);
    let names: string[];
    if (fields === undefined || fields === null || fields === false || (Array.isArray(fields) && fields.length === 0)) {
      names = Object.keys(allFields(definition));
    } else if (Array.isArray(fields) && fields.every((name) => typeof name === 'string')) {
      names = fields as string[];
    } else {
      throw typeError(`fields must be a list of field names, got ${JSON.stringify(fields)}`);
    }
    const output: Record<string, unknown> = { id: record.id };
    for (const name of names) {
      const field = env.field(model, name);
      output[name] = this.formatValue(env, field, env.get(model, record, name), load);
    }
    return output;
  }

  private formatValue(env: Environment, field: FieldDefinition, value: StoredValue, load: unknown): unknown {
    switch (field.type) {
      case 'boolean':
        return value === true;
      case 'integer':
        return typeof value === 'number' ? value : 0;
      case 'float':
      case 'monetary':
        return new XmlRpcDouble(typeof value === 'number' ? value : 0);
      case 'many2one': {
        if (typeof value !== 'number') return false;
        if (load === '_classic_write' || load === null) return value;
        const target = env.find(field.relation!, value);
        return target === undefined ? false : [value, env.displayName(field.relation!, target)];
      }
      case 'one2many':
        return Array.isArray(value) ? value : [];
      default:
        return value === null || value === undefined ? false : value;
    }
  }

  /** Creates one record: defaults (including `default_<field>` from the context), conversions, checks, x2many commands. */
  createRecord(env: Environment, model: string, values: Readonly<Record<string, unknown>>): number {
    const definition = this.model(model);
    const fields = definition.fields;
    for (const name of Object.keys(values)) env.field(model, name);
    const row: Record<string, StoredValue> = {};
    for (const [name, field] of Object.entries(fields)) {
      if (field.compute !== undefined || field.type === 'one2many') continue;
      if (name in values) {
        row[name] = this.convert(env, model, name, field, values[name]);
      } else if (`default_${name}` in env.context) {
        row[name] = this.convert(env, model, name, field, env.context[`default_${name}`]);
      } else if (field.default !== undefined) {
        row[name] = field.default(env);
      } else {
        row[name] = emptyValue(field);
      }
    }
    definition.prepareCreate?.(row, values, env);
    for (const [name, field] of Object.entries(fields)) {
      if (field.required === true && field.compute === undefined && field.type !== 'one2many' && isEmpty(row[name])) {
        throw mandatoryFieldError(definition, name, field);
      }
    }
    const record = env.insert(model, { ...row, create_date: env.now, write_date: env.now });
    for (const [name, field] of Object.entries(fields)) {
      if (field.type === 'one2many' && field.compute === undefined && name in values) {
        this.applyCommands(env, model, record, name, field, values[name]);
      }
    }
    return record.id;
  }

  /** Writes values on existing records. */
  writeRecords(env: Environment, model: string, ids: readonly number[], values: Readonly<Record<string, unknown>>): void {
    const definition = this.model(model);
    const records = env.browse(model, ids);
    for (const name of Object.keys(values)) env.field(model, name);
    for (const record of records) {
      env.touch(model, record);
      for (const [name, raw] of Object.entries(values)) {
        const field = definition.fields[name];
        if (field === undefined || field.compute !== undefined || field.type === 'one2many') continue;
        const converted = this.convert(env, model, name, field, raw);
        if (field.required === true && isEmpty(converted)) throw mandatoryFieldError(definition, name, field);
        record[name] = converted;
      }
      record.write_date = env.now;
      for (const [name, raw] of Object.entries(values)) {
        const field = definition.fields[name];
        if (field?.type === 'one2many' && field.compute === undefined) this.applyCommands(env, model, record, name, field, raw);
      }
    }
  }

  /** Deletes records, cascading, restricting or nulling the many2one fields that point at them. */
  unlinkRecords(env: Environment, model: string, ids: readonly number[]): void {
    const definition = this.model(model);
    const records = env.browse(model, ids);
    definition.beforeUnlink?.(records, env);
    const doomed = new Set(ids);
    for (const other of this.models.values()) {
      for (const [name, field] of Object.entries(other.fields)) {
        if (field.type !== 'many2one' || field.relation !== model || field.compute !== undefined) continue;
        const pointing = env.rowsIndexed(other.name, name, 'exact', [...doomed].map((id) => indexKey('exact', id)!));
        const referencing = other.name === model ? pointing.filter((row) => !doomed.has(row.id)) : pointing;
        if (referencing.length === 0) continue;
        const ondelete = field.ondelete ?? (field.required === true ? 'restrict' : 'set null');
        if (ondelete === 'cascade') {
          this.unlinkRecords(env, other.name, referencing.map((row) => row.id));
        } else if (ondelete === 'restrict') {
          throw validationError(
            'The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\n'
              + `Model: ${other.description} (${other.name})\nConstraint: ${other.name.replaceAll('.', '_')}_${name}_fkey\n`,
          );
        } else {
          for (const row of referencing) {
            env.touch(other.name, row);
            row[name] = null;
          }
        }
      }
    }
    for (const id of ids) env.remove(model, id);
  }

  private applyCommands(env: Environment, model: string, parent: StoredRecord, name: string, field: FieldDefinition, commands: unknown): void {
    const relation = field.relation!;
    const inverse = field.inverseName!;
    if (commands === false || commands === null) return;
    if (!Array.isArray(commands)) throw valueError(`Wrong value for ${model}.${name}: ${JSON.stringify(commands)}`);
    const current = (): number[] => env.rowsWhere(relation, inverse, parent.id).map((row) => row.id);
    const detach = (ids: readonly number[]): void => {
      if (ids.length === 0) return;
      const inverseField = env.field(relation, inverse);
      if (inverseField.required === true) this.unlinkRecords(env, relation, ids);
      else this.writeRecords(env, relation, ids, { [inverse]: false });
    };
    for (const command of commands) {
      if (!Array.isArray(command) || typeof command[0] !== 'number') {
        throw valueError(`Wrong value for ${model}.${name}: ${JSON.stringify(command)} is not an x2many command`);
      }
      const [code, id, payload] = command as [number, unknown, unknown];
      switch (code) {
        case 0:
          env.create(relation, { ...asValues(payload), [inverse]: parent.id });
          break;
        case 1:
          this.writeRecords(env, relation, [toId(id)], asValues(payload));
          break;
        case 2:
          this.unlinkRecords(env, relation, [toId(id)]);
          break;
        case 3:
          detach([toId(id)]);
          break;
        case 4:
          this.writeRecords(env, relation, [toId(id)], { [inverse]: parent.id });
          break;
        case 5:
          detach(current());
          break;
        case 6: {
          const keep = toIds(payload);
          detach(current().filter((existing) => !keep.includes(existing)));
          if (keep.length > 0) this.writeRecords(env, relation, keep, { [inverse]: parent.id });
          break;
        }
        default:
          throw valueError(`Wrong value for ${model}.${name}: unknown x2many command ${code}`);
      }
    }
  }

  /** Converts an RPC value into what is stored, checking types, selections and many2one targets. */
  private convert(env: Environment, model: string, name: string, field: FieldDefinition, raw: unknown): StoredValue {
    const wrong = (): OdooException => valueError(`Wrong value for ${model}.${name}: ${JSON.stringify(raw)}`);
    if (raw instanceof Date) raw = field.type === 'date' ? odooDatetime(raw).slice(0, 10) : odooDatetime(raw);
    switch (field.type) {
      case 'boolean':
        return isTruthy(raw);
      case 'integer':
        if (raw === false || raw === null || raw === undefined) return 0;
        if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
        if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) return Number(raw);
        throw wrong();
      case 'float':
      case 'monetary':
        if (raw === false || raw === null || raw === undefined) return 0;
        if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
        if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
        throw wrong();
      case 'many2one': {
        if (raw === false || raw === null || raw === undefined || raw === 0) return null;
        const id = typeof raw === 'number' ? raw : Array.isArray(raw) && typeof raw[0] === 'number' ? raw[0] : undefined;
        if (id === undefined || !Number.isInteger(id)) throw wrong();
        if (env.find(field.relation!, id) === undefined) throw missingError(field.relation!, [id], env.uid);
        return id;
      }
      case 'selection': {
        if (raw === false || raw === null || raw === undefined) return null;
        if (typeof raw !== 'string' || !(field.selection ?? []).some(([key]) => key === raw)) throw wrong();
        return raw;
      }
      case 'date':
      case 'datetime': {
        if (raw === false || raw === null || raw === undefined || raw === '') return null;
        if (typeof raw !== 'string') throw wrong();
        const datePart = /^\d{4}-\d{2}-\d{2}$/;
        const dateTimePart = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/;
        if (field.type === 'date') {
          if (datePart.test(raw)) return raw;
          if (dateTimePart.test(raw)) return raw.slice(0, 10);
          throw wrong();
        }
        if (datePart.test(raw)) return `${raw} 00:00:00`;
        if (dateTimePart.test(raw)) return `${raw.replace('T', ' ')}${raw.length === 16 ? ':00' : ''}`;
        throw wrong();
      }
      case 'one2many':
        throw wrong();
      default:
        if (raw === false || raw === null || raw === undefined) return null;
        if (typeof raw === 'string') return raw;
        if (typeof raw === 'number') return String(raw);
        throw wrong();
    }
  }

  private nameSearch(env: Environment, model: string, args: Readonly<Record<string, unknown>>): [number, string][] {
    const definition = this.model(model);
    const name = typeof args.name === 'string' ? args.name : '';
    const operator = typeof args.operator === 'string' ? args.operator : 'ilike';
    const extra = Array.isArray(args.args) ? args.args : [];
    const limit = args.limit === undefined ? 100 : args.limit;
    let domain: unknown[] = [...extra];
    if (name !== '') {
      const searchFields = [definition.recName ?? 'name', ...(definition.nameSearchFields ?? [])];
      const alternatives: unknown[] = searchFields.map((field) => [field, operator, name]);
      domain = [...domain, ...Array<string>(alternatives.length - 1).fill('|'), ...alternatives];
    }
    return this.search(env, model, domain, { limit }).map((id) => [id, env.displayName(model, env.find(model, id)!)]);
  }

  private fieldsGet(model: string, allfields: unknown, attributes: unknown): Record<string, Record<string, unknown>> {
    const definition = this.model(model);
    const wanted = Array.isArray(allfields) && allfields.length > 0 ? new Set(allfields.map(String)) : undefined;
    const keep = Array.isArray(attributes) && attributes.length > 0 ? new Set(attributes.map(String)) : undefined;
    const result: Record<string, Record<string, unknown>> = {};
    for (const [name, field] of Object.entries(allFields(definition))) {
      if (wanted !== undefined && !wanted.has(name)) continue;
      const description: Record<string, unknown> = {
        type: field.type,
        string: field.string,
        help: field.help ?? '',
        required: field.required === true,
        readonly: field.readonly === true || (field.compute !== undefined && name !== 'display_name'),
        store: field.compute === undefined && field.type !== 'one2many',
        searchable: true,
        sortable: field.type !== 'one2many',
        name,
      };
      if (field.relation !== undefined) description.relation = field.relation;
      if (field.inverseName !== undefined) description.relation_field = field.inverseName;
      if (field.selection !== undefined) description.selection = field.selection.map(([key, label]) => [key, label]);
      result[name] = keep === undefined
        ? description
        : Object.fromEntries(Object.entries(description).filter(([key]) => keep.has(key)));
    }
    return result;
  }

  private defaultGet(env: Environment, model: string, fieldsList: unknown): Record<string, unknown> {
    const definition = this.model(model);
    const names = Array.isArray(fieldsList) ? fieldsList.map(String) : Object.keys(definition.fields);
    const result: Record<string, unknown> = {};
    for (const name of names) {
      const field = env.field(model, name);
      if (`default_${name}` in env.context) result[name] = env.context[`default_${name}`];
      else if (field.default !== undefined) result[name] = field.default(env);
    }
    return result;
  }
}

/** The text a `=like`/`=ilike` pattern stands for when it has no unescaped `%` or `_`; undefined when it has. */
function likeLiteral(pattern: string): string | undefined {
  let literal = '';
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index]!;
    if (character === '\\' && index + 1 < pattern.length) literal += pattern[++index]!;
    else if (character === '%' || character === '_') return undefined;
    else literal += character;
  }
  return literal;
}

function isNameComparison(leaf: DomainLeaf): boolean {
  const value = leaf.value;
  if (typeof value === 'string') return true;
  return (leaf.operator === 'in' || leaf.operator === 'not in')
    && Array.isArray(value)
    && value.length > 0
    && value.every((item) => typeof item === 'string');
}

function emptyValue(field: FieldDefinition): StoredValue {
  switch (field.type) {
    case 'boolean':
      return false;
    case 'integer':
    case 'float':
    case 'monetary':
      return 0;
    default:
      return null;
  }
}

function isEmpty(value: StoredValue | undefined): boolean {
  return value === null || value === undefined || value === '';
}

/** Python truthiness, as `bool(value)` in a Boolean field's conversion. */
function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function mandatoryFieldError(model: ModelDefinition, name: string, field: FieldDefinition): OdooException {
  return validationError(
    'The operation cannot be completed:\n'
      + '- Create/update: a mandatory field is not set.\n'
      + '- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n'
      + `Model: ${model.description} (${model.name})\nField: ${field.string} (${name})\n`,
  );
}

function asValues(value: unknown): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null || value === false) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw typeError(`expected a dictionary of field values, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function toId(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw typeError(`expected a record id, got ${JSON.stringify(value)}`);
}

/** Odoo accepts a single id or a list of ids for `self`. */
function toIds(value: unknown): number[] {
  if (typeof value === 'number') return [toId(value)];
  if (Array.isArray(value)) return value.map(toId);
  if (value === false || value === null) return [];
  throw typeError(`expected a list of record ids, got ${JSON.stringify(value)}`);
}

function toCount(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === false) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw typeError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
}

/** Binds positional and keyword arguments to a Python-like signature. */
function bindArguments(
  method: string,
  parameters: readonly string[],
  positional: readonly unknown[],
  named: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if (positional.length > parameters.length) {
    throw typeError(`${method}() takes ${parameters.length + 1} positional arguments but ${positional.length + 1} were given`);
  }
  const bound: Record<string, unknown> = {};
  positional.forEach((value, index) => {
    bound[parameters[index]!] = value;
  });
  for (const [name, value] of Object.entries(named)) {
    if (!parameters.includes(name)) throw typeError(`${method}() got an unexpected keyword argument '${name}'`);
    if (name in bound) throw typeError(`${method}() got multiple values for argument '${name}'`);
    bound[name] = value;
  }
  return bound;
}
