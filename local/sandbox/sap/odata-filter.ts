/**
 * The OData v2 `$filter` subset the SAP sandbox answers, as a predicate over a stored
 * row: `eq ne gt ge lt le`, `and`, `or`, `not`, parentheses, `substringof('x',P)`,
 * `startswith(P,'x')`, `endswith(P,'x')`, and string ('…' with '' for a quote), number
 * (optionally suffixed `M`/`d`), `true`/`false`, `null` and `datetime'…'` literals.
 * Strings compare case-sensitively, as on HANA; literals for ALPHA-converted properties
 * (`SalesOrder eq '0000004711'`) are converted as SAP converts them. A syntax error or a
 * property the type does not have throws FilterError.
 */
import { alphaInput, type EntitySetDefinition } from './entity-model.ts';
import type { Row } from './store.ts';

/** A `$filter` SAP would refuse; the message says what and where. */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

type Literal = string | number | boolean | null;

interface Token {
  readonly kind: 'name' | 'string' | 'number' | 'datetime' | 'open' | 'close' | 'comma';
  readonly text: string;
  readonly at: number;
}

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  const quoted = (start: number): { text: string; end: number } => {
    let value = '';
    let index = start + 1;
    for (;;) {
      if (index >= source.length) throw new FilterError(`Invalid filter expression: unterminated string at position ${start} in '${source}'`);
      if (source[index] === "'") {
        if (source[index + 1] !== "'") return { text: value, end: index + 1 };
        value += "'";
        index += 2;
      } else {
        value += source[index];
        index += 1;
      }
    }
  };
  while (at < source.length) {
    const character = source[at]!;
    if (/\s/.test(character)) {
      at += 1;
    } else if (character === '(' || character === ')' || character === ',') {
      tokens.push({ kind: character === '(' ? 'open' : character === ')' ? 'close' : 'comma', text: character, at });
      at += 1;
    } else if (character === "'") {
      const { text, end } = quoted(at);
      tokens.push({ kind: 'string', text, at });
      at = end;
    } else if (/^datetime(offset)?'/.test(source.slice(at))) {
      const start = source.indexOf("'", at);
      const { text, end } = quoted(start);
      const parsed = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`);
      if (Number.isNaN(parsed)) throw new FilterError(`Invalid filter expression: '${text}' is not a datetime`);
      tokens.push({ kind: 'datetime', text: String(parsed), at });
      at = end;
    } else {
      const number = /^-?\d+(\.\d+)?[MmDdLl]?/.exec(source.slice(at));
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(at));
      if (number !== null) {
        tokens.push({ kind: 'number', text: number[0].replace(/[MmDdLl]$/, ''), at });
        at += number[0].length;
      } else if (name !== null) {
        tokens.push({ kind: 'name', text: name[0], at });
        at += name[0].length;
      } else {
        throw new FilterError(`Invalid filter expression: unexpected '${character}' at position ${at} in '${source}'`);
      }
    }
  }
  return tokens;
}

/** A compiled filter: true for the rows it keeps. */
export type RowPredicate = (row: Readonly<Row>) => boolean;

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

function compare(operator: string, left: unknown, right: Literal): boolean {
  if (operator === 'eq') return left === right || (left === undefined && right === null);
  if (operator === 'ne') return !(left === right || (left === undefined && right === null));
  if (left === null || left === undefined || right === null || typeof left !== typeof right) return false;
  const order = (left as string | number) < right ? -1 : (left as string | number) > right ? 1 : 0;
  return operator === 'gt' ? order > 0 : operator === 'ge' ? order >= 0 : operator === 'lt' ? order < 0 : order <= 0;
}

/** Compiles `source` for rows of `set`; throws FilterError as SAP answers 400. */
export function compileFilter(source: string, set: EntitySetDefinition): RowPredicate {
  const tokens = lex(source);
  let position = 0;
  const fail = (): never => {
    const token = tokens[position];
    throw new FilterError(`Invalid filter expression: syntax error at position ${token?.at ?? source.length} in '${source}'`);
  };
  const take = (kind: Token['kind']): Token => {
    const token = tokens[position];
    if (token?.kind !== kind) fail();
    position += 1;
    return token!;
  };
  const keyword = (word: string): boolean => {
    const token = tokens[position];
    if (token?.kind === 'name' && token.text === word) {
      position += 1;
      return true;
    }
    return false;
  };
  const property = (): string => {
    const name = take('name').text;
    if (set.properties[name] === undefined) throw new FilterError(`Invalid filter expression: property '${name}' not found in type '${set.service}.${set.type}'`);
    return name;
  };
  const literalFor = (name: string): Literal => {
    const token = tokens[position];
    position += 1;
    const kind = set.properties[name]!.kind;
    if (token?.kind === 'string') return set.properties[name]!.alpha === true ? alphaInput(token.text) : token.text;
    if (token?.kind === 'number') return kind === 'string' ? token.text : Number(token.text);
    if (token?.kind === 'datetime') return Number(token.text);
    if (token?.kind === 'name' && (token.text === 'true' || token.text === 'false')) return token.text === 'true';
    if (token?.kind === 'name' && token.text === 'null') return null;
    return fail();
  };
  const textTest = (name: string, test: (value: string) => boolean): RowPredicate => (row) => typeof row[name] === 'string' && test(row[name] as string);

  const primary = (): RowPredicate => {
    const token = tokens[position];
    if (token?.kind === 'open') {
      position += 1;
      const inner = disjunction();
      take('close');
      return inner;
    }
    if (token?.kind === 'name' && tokens[position + 1]?.kind === 'open' && ['substringof', 'startswith', 'endswith'].includes(token.text)) {
      position += 2;
      if (token.text === 'substringof') {
        const needle = take('string').text;
        take('comma');
        const name = property();
        take('close');
        return wrapBoolean(textTest(name, (value) => value.includes(needle)));
      }
      const name = property();
      take('comma');
      const affix = take('string').text;
      take('close');
      return wrapBoolean(textTest(name, (value) => (token.text === 'startswith' ? value.startsWith(affix) : value.endsWith(affix))));
    }
    const name = property();
    const operator = tokens[position];
    if (operator?.kind !== 'name' || !COMPARISONS.has(operator.text)) return fail();
    position += 1;
    const value = literalFor(name);
    return (row) => compare(operator.text, row[name], value);
  };
  /** `substringof(…) eq true` is how v2 clients often write a function test. */
  const wrapBoolean = (test: RowPredicate): RowPredicate => {
    const operator = tokens[position];
    if (operator?.kind === 'name' && (operator.text === 'eq' || operator.text === 'ne')) {
      const value = tokens[position + 1];
      if (value?.kind !== 'name' || (value.text !== 'true' && value.text !== 'false')) return fail();
      position += 2;
      const wanted = (value.text === 'true') === (operator.text === 'eq');
      return (row) => test(row) === wanted;
    }
    return test;
  };
  const negation = (): RowPredicate => {
    if (keyword('not')) {
      const inner = negation();
      return (row) => !inner(row);
    }
    return primary();
  };
  const conjunction = (): RowPredicate => {
    let left = negation();
    while (keyword('and')) {
      const [first, second] = [left, negation()];
      left = (row) => first(row) && second(row);
    }
    return left;
  };
  const disjunction = (): RowPredicate => {
    let left = conjunction();
    while (keyword('or')) {
      const [first, second] = [left, conjunction()];
      left = (row) => first(row) || second(row);
    }
    return left;
  };

  const predicate = disjunction();
  if (position < tokens.length) fail();
  return predicate;
}
