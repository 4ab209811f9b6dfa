/**
 * The OData `$filter` subset Business Central's API answers, as a predicate over an
 * entity's JSON: comparisons (`eq ne gt ge lt le`), `and`, `or`, `not`, parentheses,
 * `contains`/`startswith`/`endswith`, and string ('…' with '' for a quote), number,
 * boolean, `null` and GUID literals. Text compares case-insensitively, as BC's SQL
 * collation (…_CI_AS) does. A syntax error or an unknown property throws ODataFilterError.
 */

/** A `$filter` BC would refuse; the message says what and where. */
export class ODataFilterError extends Error {
  override readonly name = 'ODataFilterError';
}

type Literal = string | number | boolean | null;

interface Token {
  readonly kind: 'name' | 'string' | 'number' | 'guid' | 'open' | 'close' | 'comma';
  readonly text: string;
  readonly position: number;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const character = source[index]!;
    if (/\s/.test(character)) {
      index += 1;
      continue;
    }
    if (character === '(' || character === ')' || character === ',') {
      tokens.push({ kind: character === '(' ? 'open' : character === ')' ? 'close' : 'comma', text: character, position: index });
      index += 1;
      continue;
    }
    if (character === "'") {
      let text = '';
      let end = index + 1;
      for (;;) {
        if (end >= source.length) throw new ODataFilterError(`Unterminated string literal at position ${index} in '${source}'.`);
        if (source[end] === "'") {
          if (source[end + 1] === "'") {
            text += "'";
            end += 2;
            continue;
          }
          break;
        }
        text += source[end];
        end += 1;
      }
      tokens.push({ kind: 'string', text, position: index });
      index = end + 1;
      continue;
    }
    const guid = GUID.exec(source.slice(index));
    if (guid !== null) {
      tokens.push({ kind: 'guid', text: guid[0].toLowerCase(), position: index });
      index += guid[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(source.slice(index));
    if (number !== null) {
      tokens.push({ kind: 'number', text: number[0], position: index });
      index += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_./]*/.exec(source.slice(index));
    if (name === null) throw new ODataFilterError(`Syntax error at position ${index} in '${source}'.`);
    tokens.push({ kind: 'name', text: name[0], position: index });
    index += name[0].length;
  }
  return tokens;
}

/** A compiled filter: true for the rows it keeps. */
export type ODataPredicate = (row: Readonly<Record<string, unknown>>) => boolean;

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);

function fold(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function compare(operator: string, left: unknown, right: Literal): boolean {
  const a = fold(left);
  const b = fold(right);
  switch (operator) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    default: {
      if (a === null || b === null || a === undefined) return false;
      const order = (a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0;
      return operator === 'gt' ? order > 0 : operator === 'ge' ? order >= 0 : operator === 'lt' ? order < 0 : order <= 0;
    }
  }
}

/**
 * Compiles `source` for entities that have `properties`; throws ODataFilterError for
 * a syntax error or a property the entity does not have (as BC does).
 */
export function compileFilter(source: string, properties: ReadonlySet<string>, entityType: string): ODataPredicate {
  const tokens = tokenize(source);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const fail = (token: Token | undefined): never => {
    throw new ODataFilterError(`Syntax error at position ${token?.position ?? source.length} in '${source}'.`);
  };
  const keyword = (word: string): boolean => {
    const token = peek();
    if (token?.kind === 'name' && token.text === word) {
      position += 1;
      return true;
    }
    return false;
  };
  const expect = (kind: Token['kind']): Token => {
    const token = peek();
    if (token?.kind !== kind) fail(token);
    position += 1;
    return token!;
  };
  const property = (): string => {
    const token = expect('name');
    if (!properties.has(token.text)) {
      throw new ODataFilterError(`Could not find a property named '${token.text}' on type 'Microsoft.NAV.${entityType}'.`);
    }
    return token.text;
  };
  const literal = (): Literal => {
    const token = peek();
    position += 1;
    if (token?.kind === 'string' || token?.kind === 'guid') return token.text;
    if (token?.kind === 'number') return Number(token.text);
    if (token?.kind === 'name' && (token.text === 'true' || token.text === 'false')) return token.text === 'true';
    if (token?.kind === 'name' && token.text === 'null') return null;
    return fail(token);
  };

  const primary = (): ODataPredicate => {
    const token = peek();
    if (token?.kind === 'open') {
      position += 1;
      const inner = or();
      expect('close');
      return inner;
    }
    if (token?.kind === 'name' && FUNCTIONS.has(token.text) && tokens[position + 1]?.kind === 'open') {
      position += 2;
      const field = property();
      expect('comma');
      const value = expect('string').text.toLowerCase();
      expect('close');
      const test = token.text === 'contains'
        ? (text: string) => text.includes(value)
        : token.text === 'startswith'
          ? (text: string) => text.startsWith(value)
          : (text: string) => text.endsWith(value);
      return (row) => typeof row[field] === 'string' && test((row[field] as string).toLowerCase());
    }
    const field = property();
    const operator = peek();
    if (operator?.kind !== 'name' || !COMPARISONS.has(operator.text)) return fail(operator);
    position += 1;
    const value = literal();
    return (row) => compare(operator.text, row[field], value);
  };
  const not = (): ODataPredicate => {
    if (keyword('not')) {
      const inner = not();
      return (row) => !inner(row);
    }
    return primary();
  };
  const and = (): ODataPredicate => {
    let left = not();
    while (keyword('and')) {
      const first = left;
      const second = not();
      left = (row) => first(row) && second(row);
    }
    return left;
  };
  const or = (): ODataPredicate => {
    let left = and();
    while (keyword('or')) {
      const first = left;
      const second = and();
      left = (row) => first(row) || second(row);
    }
    return left;
  };

  const predicate = or();
  if (position < tokens.length) fail(peek());
  return predicate;
}
