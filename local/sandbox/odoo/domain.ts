/**
 * Odoo search domains: a list in Polish (prefix) notation of `'&'`, `'|'`,
 * `'!'` and `(field, operator, value)` terms, consecutive terms joined by an
 * implicit `'&'`. Parsed once into a tree, then evaluated per record with the
 * operator semantics of Odoo's SQL translation (`!=` and `not in` also match
 * unset values; `like` wraps the value in `%…%`; `=like` uses it as a pattern).
 */
import { valueError } from './odoo-exceptions.ts';

/** Operators the sandbox evaluates (`child_of`, `parent_of`, `any` are not supported). */
export type DomainOperator =
  | '='
  | '!='
  | '<'
  | '>'
  | '<='
  | '>='
  | '=?'
  | 'in'
  | 'not in'
  | 'like'
  | 'not like'
  | 'ilike'
  | 'not ilike'
  | '=like'
  | '=ilike';

const OPERATORS: ReadonlySet<string> = new Set<DomainOperator>([
  '=', '!=', '<', '>', '<=', '>=', '=?', 'in', 'not in', 'like', 'not like', 'ilike', 'not ilike', '=like', '=ilike',
]);
const UNSUPPORTED_OPERATORS: ReadonlySet<string> = new Set(['child_of', 'parent_of', 'any', 'not any']);

/** One `(field, operator, value)` term. */
export interface DomainLeaf {
  readonly kind: 'leaf';
  /** A field name, possibly a dotted path such as `currency_id.name`. */
  readonly field: string;
  readonly operator: DomainOperator;
  readonly value: unknown;
}

/** A parsed domain. */
export type DomainNode =
  | DomainLeaf
  | { readonly kind: 'constant'; readonly value: boolean }
  | { readonly kind: 'not'; readonly child: DomainNode }
  | { readonly kind: 'and' | 'or'; readonly left: DomainNode; readonly right: DomainNode };

/** Parses a domain as sent over RPC; throws an Odoo-shaped ValueError on a malformed one. */
export function parseDomain(domain: unknown): DomainNode {
  if (domain === undefined || domain === null || domain === false) return { kind: 'constant', value: true };
  if (!Array.isArray(domain)) throw valueError(`Invalid domain: ${describe(domain)}`);
  let position = 0;
  const parseNext = (): DomainNode => {
    if (position >= domain.length) throw valueError(`Domain ${describe(domain)} is syntactically not correct.`);
    const token: unknown = domain[position++];
    if (token === '&' || token === '|') {
      const left = parseNext();
      const right = parseNext();
      return { kind: token === '&' ? 'and' : 'or', left, right };
    }
    if (token === '!') return { kind: 'not', child: parseNext() };
    return parseLeaf(token);
  };
  let result: DomainNode | undefined;
  while (position < domain.length) {
    const node = parseNext();
    result = result === undefined ? node : { kind: 'and', left: result, right: node };
  }
  return result ?? { kind: 'constant', value: true };
}

function parseLeaf(token: unknown): DomainNode {
  if (!Array.isArray(token) || token.length !== 3) throw valueError(`Invalid leaf ${describe(token)}`);
  const [field, operator, value] = token as [unknown, unknown, unknown];
  // Odoo's TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
  if ((field === 1 || field === 0) && operator === '=' && value === 1) return { kind: 'constant', value: field === 1 };
  if (typeof field !== 'string' || field === '') throw valueError(`Invalid leaf ${describe(token)}`);
  if (typeof operator !== 'string') throw valueError(`Invalid leaf ${describe(token)}`);
  const normalised = operator.toLowerCase() === '<>' ? '!=' : operator.toLowerCase();
  if (UNSUPPORTED_OPERATORS.has(normalised)) {
    throw valueError(`Operator ${describe(operator)} is not supported by the Harmony Odoo sandbox`);
  }
  if (!OPERATORS.has(normalised)) throw valueError(`Invalid leaf ${describe(token)}`);
  return { kind: 'leaf', field, operator: normalised as DomainOperator, value };
}

/** Evaluates a parsed domain, asking `testLeaf` about each term. */
export function evaluateDomain(node: DomainNode, testLeaf: (leaf: DomainLeaf) => boolean): boolean {
  switch (node.kind) {
    case 'constant':
      return node.value;
    case 'not':
      return !evaluateDomain(node.child, testLeaf);
    case 'and':
      return evaluateDomain(node.left, testLeaf) && evaluateDomain(node.right, testLeaf);
    case 'or':
      return evaluateDomain(node.left, testLeaf) || evaluateDomain(node.right, testLeaf);
    case 'leaf':
      return testLeaf(node);
  }
}

/** Every leaf of a domain, e.g. to see whether it filters on `active` itself. */
export function domainLeaves(node: DomainNode): DomainLeaf[] {
  switch (node.kind) {
    case 'constant':
      return [];
    case 'not':
      return domainLeaves(node.child);
    case 'and':
    case 'or':
      return [...domainLeaves(node.left), ...domainLeaves(node.right)];
    case 'leaf':
      return [node];
  }
}

/** A stored value as the domain sees it: a scalar, `null` when unset, or the ids of an x2many field. */
export type ComparableValue = string | number | boolean | null | readonly number[];

function isUnset(value: unknown): boolean {
  return value === null || value === undefined || value === false;
}

function sameValue(left: unknown, right: unknown): boolean {
  if (typeof left === 'number' && typeof right === 'string' && right.trim() !== '') return left === Number(right);
  if (typeof left === 'string' && typeof right === 'number') return Number(left) === right;
  return left === right;
}

/** Tests one stored value against one operator and value, with Odoo's SQL semantics. */
export function matchValue(value: ComparableValue, operator: DomainOperator, target: unknown): boolean {
  if (Array.isArray(value)) return matchMany(value as readonly number[], operator, target);
  switch (operator) {
    case '=':
      return isUnset(target) ? isUnset(value) : sameValue(value, target);
    case '=?':
      return isUnset(target) ? true : sameValue(value, target);
    case '!=':
      return isUnset(target) ? !isUnset(value) : isUnset(value) || !sameValue(value, target);
    case 'in': {
      const list = asList(target);
      if (isUnset(value)) return list.some(isUnset);
      return list.some((item) => sameValue(value, item));
    }
    case 'not in': {
      const list = asList(target);
      if (isUnset(value)) return !list.some(isUnset);
      return !list.some((item) => sameValue(value, item));
    }
    case 'like':
    case 'ilike':
    case '=like':
    case '=ilike': {
      if (isUnset(value)) return false;
      return likePattern(operator, target).test(String(value));
    }
    case 'not like':
    case 'not ilike': {
      if (isUnset(value)) return true;
      return !likePattern(operator, target).test(String(value));
    }
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compareOrdered(value, operator, target);
  }
}

function matchMany(ids: readonly number[], operator: DomainOperator, target: unknown): boolean {
  switch (operator) {
    case '=':
    case '=?':
      if (isUnset(target)) return operator === '=?' || ids.length === 0;
      return ids.some((id) => sameValue(id, target));
    case '!=':
      if (isUnset(target)) return ids.length > 0;
      return !ids.some((id) => sameValue(id, target));
    case 'in':
      return asList(target).some((item) => ids.some((id) => sameValue(id, item)));
    case 'not in':
      return !asList(target).some((item) => ids.some((id) => sameValue(id, item)));
    default:
      throw valueError(`Operator ${describe(operator)} cannot be used on a relational field without a sub-field path`);
  }
}

function asList(target: unknown): unknown[] {
  if (Array.isArray(target)) return target;
  return [target];
}

function compareOrdered(value: ComparableValue, operator: '<' | '>' | '<=' | '>=', target: unknown): boolean {
  if (isUnset(value) || isUnset(target)) return false;
  const left = typeof value === 'number' ? value : String(value);
  const right = typeof value === 'number' ? Number(target) : String(target);
  if (typeof right === 'number' && Number.isNaN(right)) return false;
  switch (operator) {
    case '<':
      return left < right;
    case '>':
      return left > right;
    case '<=':
      return left <= right;
    case '>=':
      return left >= right;
  }
}

/** SQL LIKE: `%` any run, `_` one character, `\` escapes the next character. */
function likePattern(operator: DomainOperator, target: unknown): RegExp {
  const text = isUnset(target) ? '' : String(target);
  const pattern = operator.startsWith('=') ? text : `%${text}%`;
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index]!;
    if (character === '\\' && index + 1 < pattern.length) {
      source += escapeRegExp(pattern[++index]!);
    } else if (character === '%') {
      source += '.*';
    } else if (character === '_') {
      source += '.';
    } else {
      source += escapeRegExp(character);
    }
  }
  const caseInsensitive = operator.includes('ilike');
  return new RegExp(`^${source}$`, caseInsensitive ? 'isu' : 'su');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Python-ish repr for error messages. */
function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `(${value.map(describe).join(', ')})`;
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
