/**
 * The part of NAV's filter syntax (ReadMultiple `Criteria`) the sandbox reads:
 * alternatives joined by `|`; each optionally `@` (case-insensitive) and a comparison
 * (`=`, `<>`, `<`, `<=`, `>`, `>=`), then a value: `'quoted'` (special characters are
 * data, `''` is a quote) or unquoted with `*` and `?` wildcards. Code fields compare
 * upper-cased, as NAV upper-cases them. Ranges (`..`), `&` and parentheses are refused
 * with NAV's filter error rather than guessed.
 */
import { invalidFilter } from './nav-errors.ts';

/** How a field compares. */
export type FieldKind = 'code' | 'text' | 'decimal' | 'option';

/** A compiled filter: true when a field value passes it. */
export type FieldPredicate = (value: string) => boolean;

const OPERATORS = ['<>', '<=', '>=', '=', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];

/** Compiles `criteria` for a field; NavError (NavFilterException) when the sandbox cannot read it. */
export function compileFilter(criteria: string, field: string, table: string, kind: FieldKind): FieldPredicate {
  if (criteria === '') return () => true;
  const fail = (reason: string) => invalidFilter(criteria, field, table, reason);
  const alternatives = splitAlternatives(criteria, fail).map((alternative) => compileAlternative(alternative, kind, fail));
  return (value) => alternatives.some((matches) => matches(value));
}

function splitAlternatives(criteria: string, fail: (reason: string) => Error): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const character of criteria) {
    if (character === "'") quoted = !quoted;
    if (character === '|' && !quoted) {
      parts.push(current);
      current = '';
    } else current += character;
  }
  if (quoted) throw fail('A quotation mark is not closed.');
  parts.push(current);
  return parts;
}

function compileAlternative(alternative: string, kind: FieldKind, fail: (reason: string) => Error): FieldPredicate {
  let rest = alternative.trim();
  const caseInsensitive = rest.startsWith('@');
  if (caseInsensitive) rest = rest.slice(1);
  const operator: Operator = OPERATORS.find((candidate) => rest.startsWith(candidate)) ?? '=';
  if (rest.startsWith(operator)) rest = rest.slice(operator.length);
  let expected: string;
  let pattern: RegExp | undefined;
  if (rest.startsWith("'")) {
    if (!rest.endsWith("'") || rest.length < 2) throw fail('Text after the closing quotation mark is not supported by the sandbox.');
    const inner = rest.slice(1, -1);
    if (inner.replace(/''/g, '').includes("'")) throw fail('A quotation mark inside a value must be doubled.');
    expected = inner.replace(/''/g, "'");
  } else {
    if (/\.\.|[&()]/.test(rest)) throw fail('Ranges, & and parentheses are not supported by the sandbox.');
    expected = rest;
    if (/[*?]/.test(rest) && operator === '=') {
      const source = rest.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
      pattern = new RegExp(`^${source}$`, 's');
    }
  }
  const fold = (value: string): string => (kind === 'code' || caseInsensitive ? value.toUpperCase() : value);
  const target = fold(expected);
  if (pattern !== undefined) {
    const folded = new RegExp(pattern.source, caseInsensitive || kind === 'code' ? 'si' : 's');
    return (value) => folded.test(value);
  }
  if (kind === 'decimal') {
    const number = Number(expected);
    if (!Number.isFinite(number)) throw fail(`${expected} is not a decimal.`);
    return (value) => compare(Number(value === '' ? 0 : value), number, operator);
  }
  return (value) => compare(fold(value), target, operator);
}

function compare<Value extends string | number>(actual: Value, expected: Value, operator: Operator): boolean {
  switch (operator) {
    case '=':
      return actual === expected;
    case '<>':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
  }
}
