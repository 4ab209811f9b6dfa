/**
 * The subset of SOQL the sandbox answers (SOQL and SOSL Reference): `SELECT` a list of fields,
 * including child-to-parent relationship paths such as `Product2.ProductCode`; `FROM` one
 * sObject; an optional `WHERE` of conditions joined by `AND`, each `path = value`,
 * `path != value` or `path IN (value, …)` with string literals (`'…'` with backslash escapes),
 * numbers, `true`, `false`, `null` and dates (`2026-03-01`); optional `ORDER BY path [ASC|DESC]`
 * and `LIMIT n`. Keywords and names are case-insensitive, as are text comparisons.
 *
 * Anything else (OR, LIKE, subqueries, aggregates, bind variables) is answered with
 * `MALFORMED_QUERY` naming the token, so a caller that needs more learns it at once.
 */
import { toEighteenCharacterId } from '../../../functions/connectors/crm/salesforce/record-id.ts';
import type { FieldValue } from './org-store.ts';
import { SalesforceApiError } from './responses.ts';
import { findField, findRelationship, type SObjectDefinition } from './schema.ts';

/** A field path: a field of the queried object, or `Relationship.Field` of a parent. */
export interface FieldPath {
  /** As the API names it, e.g. `["Product2", "ProductCode"]`. */
  readonly segments: readonly string[];
}

/** One condition of the WHERE clause. */
export interface Condition {
  readonly path: FieldPath;
  readonly operator: '=' | '!=' | 'IN';
  readonly values: readonly FieldValue[];
}

/** A parsed query. */
export interface SoqlQuery {
  readonly object: string;
  readonly fields: readonly FieldPath[];
  readonly where: readonly Condition[];
  readonly orderBy?: { readonly path: FieldPath; readonly descending: boolean };
  readonly limit?: number;
}

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'number'; readonly value: number; readonly at: number }
  | { readonly kind: 'symbol'; readonly text: string; readonly at: number };

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };

function malformed(message: string): SalesforceApiError {
  return new SalesforceApiError(400, 'MALFORMED_QUERY', message);
}

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < soql.length) {
    const character = soql.charAt(index);
    if (/\s/.test(character)) {
      index += 1;
    } else if (character === "'") {
      let value = '';
      let end = index + 1;
      for (;;) {
        if (end >= soql.length) throw malformed(`unterminated string literal at column ${index + 1}`);
        const next = soql.charAt(end);
        if (next === "'") break;
        if (next === '\\') {
          const escaped = ESCAPES[soql.charAt(end + 1)];
          if (escaped === undefined) throw malformed(`Invalid string literal '${soql.slice(index, end + 2)}'. Illegal character sequence '\\${soql.charAt(end + 1)}' in string literal.`);
          value += escaped;
          end += 2;
        } else {
          value += next;
          end += 1;
        }
      }
      tokens.push({ kind: 'string', value, at: index });
      index = end + 1;
    } else if (/[0-9]/.test(character) || (character === '-' && /[0-9]/.test(soql.charAt(index + 1)))) {
      const match = /^-?\d+(\.\d+)?(-\d{2}-\d{2})?/.exec(soql.slice(index))!;
      if (match[2] !== undefined) tokens.push({ kind: 'string', value: match[0], at: index });
      else tokens.push({ kind: 'number', value: Number(match[0]), at: index });
      index += match[0].length;
    } else if (/[A-Za-z_]/.test(character)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(soql.slice(index))!;
      tokens.push({ kind: 'word', text: match[0], at: index });
      index += match[0].length;
    } else if (soql.startsWith('!=', index)) {
      tokens.push({ kind: 'symbol', text: '!=', at: index });
      index += 2;
    } else if ('=,()'.includes(character)) {
      tokens.push({ kind: 'symbol', text: character, at: index });
      index += 1;
    } else {
      throw malformed(`unexpected token: '${character}' at column ${index + 1}`);
    }
  }
  return tokens;
}

/** A cursor over the tokens with the helpers the grammar needs. */
class Parser {
  readonly #tokens: Token[];
  #position = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  peekKeyword(keyword: string): boolean {
    const token = this.#tokens[this.#position];
    return token?.kind === 'word' && token.text.toUpperCase() === keyword;
  }

  keyword(keyword: string): void {
    if (!this.peekKeyword(keyword)) throw this.unexpected(`expecting ${keyword}`);
    this.#position += 1;
  }

  symbol(text: string): boolean {
    const token = this.#tokens[this.#position];
    if (token?.kind !== 'symbol' || token.text !== text) return false;
    this.#position += 1;
    return true;
  }

  name(): string {
    const token = this.#tokens[this.#position];
    if (token?.kind !== 'word') throw this.unexpected('expecting a field or object name');
    this.#position += 1;
    return token.text;
  }

  value(): FieldValue {
    const token = this.#tokens[this.#position];
    this.#position += 1;
    if (token?.kind === 'string' || token?.kind === 'number') return token.value;
    if (token?.kind === 'word') {
      const word = token.text.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    this.#position -= 1;
    throw this.unexpected('expecting a literal value');
  }

  atEnd(): boolean {
    return this.#position >= this.#tokens.length;
  }

  unexpected(expectation: string): SalesforceApiError {
    const token = this.#tokens[this.#position];
    if (token === undefined) return malformed(`unexpected end of query, ${expectation}`);
    const text = token.kind === 'string' ? `'${token.value}'` : token.kind === 'number' ? String(token.value) : token.text;
    return malformed(`unexpected token: '${text}' at column ${token.at + 1} (the sandbox's SOQL subset: SELECT fields FROM object [WHERE a = x AND b IN (…)] [ORDER BY f] [LIMIT n]; ${expectation})`);
  }
}

/** Parses a query of the supported subset; MALFORMED_QUERY otherwise. */
export function parseSoql(soql: string): SoqlQuery {
  const parser = new Parser(tokenize(soql));
  parser.keyword('SELECT');
  const fields: FieldPath[] = [];
  do fields.push({ segments: parser.name().split('.') });
  while (parser.symbol(','));
  parser.keyword('FROM');
  const object = parser.name();
  const where: Condition[] = [];
  if (parser.peekKeyword('WHERE')) {
    parser.keyword('WHERE');
    for (;;) {
      where.push(parseCondition(parser));
      if (!parser.peekKeyword('AND')) break;
      parser.keyword('AND');
    }
  }
  let orderBy: SoqlQuery['orderBy'];
  if (parser.peekKeyword('ORDER')) {
    parser.keyword('ORDER');
    parser.keyword('BY');
    const path = { segments: parser.name().split('.') };
    let descending = false;
    if (parser.peekKeyword('DESC')) {
      parser.keyword('DESC');
      descending = true;
    } else if (parser.peekKeyword('ASC')) {
      parser.keyword('ASC');
    }
    orderBy = { path, descending };
  }
  let limit: number | undefined;
  if (parser.peekKeyword('LIMIT')) {
    parser.keyword('LIMIT');
    const value = parser.value();
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw malformed(`LIMIT must be a non-negative integer, got ${String(value)}`);
    limit = value;
  }
  if (!parser.atEnd()) throw parser.unexpected('expecting the end of the query');
  return { object, fields, where, ...(orderBy === undefined ? {} : { orderBy }), ...(limit === undefined ? {} : { limit }) };
}

function parseCondition(parser: Parser): Condition {
  const path = { segments: parser.name().split('.') };
  if (parser.symbol('=')) return { path, operator: '=', values: [parser.value()] };
  if (parser.symbol('!=')) return { path, operator: '!=', values: [parser.value()] };
  if (parser.peekKeyword('IN')) {
    parser.keyword('IN');
    if (!parser.symbol('(')) throw parser.unexpected("expecting '('");
    const values: FieldValue[] = [];
    do values.push(parser.value());
    while (parser.symbol(','));
    if (!parser.symbol(')')) throw parser.unexpected("expecting ')'");
    return { path, operator: 'IN', values };
  }
  throw parser.unexpected("expecting '=', '!=' or IN");
}

/** A path checked against the schema: the API names of its relationship (if any) and field. */
export interface ResolvedPath {
  /** The reference field to follow (`AccountId` for `Account.Name`), or undefined for the object's own field. */
  readonly referenceField?: string;
  readonly relationshipName?: string;
  readonly targetObject: string;
  readonly field: string;
}

/** Checks a path against the schema: INVALID_FIELD as Salesforce words it when it names nothing. */
export function resolvePath(schema: ReadonlyMap<string, SObjectDefinition>, object: SObjectDefinition, path: FieldPath): ResolvedPath {
  const segments = path.segments;
  if (segments.length === 1) {
    const found = findField(object, segments[0]!);
    if (found === undefined) throw noSuchColumn(segments[0]!, object.name);
    return { targetObject: object.name, field: found[0] };
  }
  if (segments.length === 2) {
    const relationship = findRelationship(object, segments[0]!);
    if (relationship === undefined) {
      throw new SalesforceApiError(400, 'INVALID_FIELD', `Didn't understand relationship '${segments[0]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.`);
    }
    const target = schema.get(relationship[1].referenceTo!)!;
    const found = findField(target, segments[1]!);
    if (found === undefined) throw noSuchColumn(segments[1]!, target.name);
    return { referenceField: relationship[0], relationshipName: relationship[1].relationshipName!, targetObject: target.name, field: found[0] };
  }
  throw malformed(`the sandbox follows one relationship per field path, not '${segments.join('.')}'`);
}

function noSuchColumn(name: string, objectName: string): SalesforceApiError {
  return new SalesforceApiError(
    400,
    'INVALID_FIELD',
    `No such column '${name}' on entity '${objectName}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

/** Whether a stored value matches a literal as SOQL compares them (ids in either length, text without case). */
export function valuesMatch(stored: FieldValue | undefined, literal: FieldValue): boolean {
  if (stored === undefined || stored === null || literal === null) return (stored ?? null) === literal;
  if (typeof stored === 'string' && typeof literal === 'string') {
    const asId = literal.length === 15 ? toEighteenCharacterId(literal) : undefined;
    return stored.toLowerCase() === literal.toLowerCase() || (asId !== undefined && stored === asId);
  }
  return stored === literal;
}
