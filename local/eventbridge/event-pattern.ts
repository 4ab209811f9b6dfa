/**
 * EventBridge event patterns for the local hub: validation with the reasons
 * PutRule and TestEventPattern give, and matching with the semantics EventBridge
 * uses to route bus events to rules.
 *
 * The semantics follow the AWS documentation ("Creating event patterns",
 * "Comparison operators", "Matching null values and empty strings", "Arrays in
 * event patterns") and, where the documentation is silent, AWS's own matcher
 * (aws/event-ruler: `JsonRuleCompiler`, `ByteMachine`, `CIDR`, `StructuredFinder`),
 * cross-checked against TestEventPattern results recorded from real AWS.
 *
 * How a pattern is read (as event-ruler compiles it):
 * - The pattern becomes one or more branches (more than one only with `$or`); a
 *   branch is a set of conditions keyed by the dotted path of a leaf. Paths are
 *   joined with `.`, so `{"a": {"b": …}}` and `{"a.b": …}` name the same field.
 *   A path given twice in one branch keeps the last definition, as AWS documents.
 * - The event is flattened the same way into leaves (strings, numbers, booleans,
 *   null) at dotted paths; arrays contribute each element, empty arrays and empty
 *   objects contribute nothing. An object or array is never a leaf.
 * - A branch matches when every condition is met by some leaf, all chosen leaves
 *   lying in the same element of any array they share ("array consistency"), or,
 *   for `{"exists": false}`, when no such leaf exists. Conditions are tried in
 *   sorted path order, as event-ruler walks them.
 */

/** A JSON value at a leaf of an event. */
type Leaf = string | number | boolean | null;

/** A test of one leaf value, compiled from one entry of a pattern's value array. */
type LeafTest = (value: Leaf) => boolean;

/** What one pattern field asks of the leaves at its path. */
interface FieldCondition {
  readonly path: string;
  readonly tests: readonly LeafTest[];
  /** `{"exists": true}` is among the alternatives. */
  readonly acceptsPresence: boolean;
  /** `{"exists": false}` is among the alternatives. */
  readonly acceptsAbsence: boolean;
}

/**
 * Which array elements a leaf sits in: pairs of (array id, element index), array
 * ids ascending. Two leaves in different elements of the same array never match together.
 */
type Membership = readonly number[];

/** A leaf of a flattened event. */
interface EventLeaf {
  readonly value: Leaf;
  readonly membership: Membership;
}

/** The leaves at one path, also indexed by the array elements they sit in. */
interface PathLeaves {
  readonly all: EventLeaf[];
  /** array id → element index → leaves in that element. */
  readonly byElement: Map<number, Map<number, EventLeaf[]>>;
}

/** A compiled event pattern: call it with an event to learn whether the pattern matches. */
export type EventPatternMatcher = (event: unknown) => boolean;

/**
 * The pattern is not one EventBridge accepts. PutRule and TestEventPattern answer
 * with `InvalidEventPatternException` and this message.
 */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
  /** The AWS error code the API layer answers with. */
  readonly code = 'InvalidEventPatternException';
  /** AWS's wording of what is wrong, e.g. `prefix match pattern must be a string`. */
  readonly reason: string;
  /** Where in the pattern, as a JSONPath, e.g. `$.detail.state[0].prefix`. */
  readonly path: string;
  constructor(reason: string, path: string) {
    super(`Event pattern is not valid. Reason: ${reason} (at ${path})`);
    this.reason = reason;
    this.path = path;
  }
}

/**
 * Compiles a pattern (already parsed from JSON) once, for matching many events.
 * Throws `InvalidEventPatternError` for a pattern EventBridge would refuse.
 */
export function compileEventPattern(pattern: unknown): EventPatternMatcher {
  const branches = compileBranches(pattern);
  const neededPaths = pathPrefixes(branches);
  return (event: unknown): boolean => {
    if (!isJsonObject(event)) {
      throw new TypeError('An EventBridge event must be a JSON object');
    }
    const leaves = flattenEvent(event, neededPaths);
    return branches.some((conditions) => branchMatches(conditions, leaves, 0, NO_MEMBERSHIP));
  };
}

/**
 * True when the pattern matches the event, as TestEventPattern answers.
 * Throws `InvalidEventPatternError` for an invalid pattern and `TypeError` when the event is not an object.
 */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}

/** Throws `InvalidEventPatternError`, naming the place, when EventBridge would refuse the pattern. */
export function validateEventPattern(pattern: unknown): void {
  compileBranches(pattern);
}

// ---------------------------------------------------------------------------
// Compiling a pattern into branches
// ---------------------------------------------------------------------------

const OR = '$or';

/** Names event-ruler refuses as field names inside `$or` (`Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP`). */
const RESERVED_INSIDE_OR = new Set([
  'exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists', 'wildcard', 'numeric', 'cidr',
  '=', '<', '<=', '>', '>=',
  'regex', 'not-wildcard', 'not-equals-ignore-case',
  'date-after', 'date-on-or-after', 'date-before', 'date-on-or-before', 'in-date-range',
  'ip-address-in-range', 'ip-address-not-in-range',
]);

type Branch = Map<string, FieldCondition>;

function compileBranches(pattern: unknown): FieldCondition[][] {
  if (!isJsonObject(pattern)) {
    invalid('Filter is not an object', '$');
  }
  const branches: Branch[] = [];
  compileObject(pattern, [], '$', branches, false);
  return branches.map((branch) => [...branch.values()].sort(byPath));
}

/** Adds the fields of a pattern object to every branch; `$or` forks the branches. */
function compileObject(
  object: Readonly<Record<string, unknown>>,
  steps: readonly string[],
  where: string,
  branches: Branch[],
  insideOr: boolean,
): void {
  const keys = Object.keys(object);
  if (keys.length === 0) {
    invalid('Empty objects are not allowed', where);
  }
  for (const key of keys) {
    const value = object[key];
    const here = memberPath(where, key);
    if (key === OR) {
      compileOr(value, steps, here, branches);
      continue;
    }
    if (insideOr && RESERVED_INSIDE_OR.has(key)) {
      invalid(`${key} is Ruler reserved fieldName which cannot be used inside ${OR}.`, here);
    }
    if (Array.isArray(value)) {
      const condition = compileField([...steps, key].join('.'), value, here);
      if (branches.length === 0) {
        branches.push(new Map());
      }
      for (const branch of branches) {
        branch.set(condition.path, condition); // the last definition of a path wins
      }
    } else if (isJsonObject(value)) {
      compileObject(value, [...steps, key], here, branches, insideOr);
    } else {
      invalid(`"${key}" must be an object or an array`, here);
    }
  }
}

/** `"$or": [ {…}, {…} ]`: each object continues a copy of the branches built so far. */
function compileOr(value: unknown, steps: readonly string[], where: string, branches: Branch[]): void {
  if (!Array.isArray(value)) {
    invalid(`It must be an Array followed with ${OR}.`, where);
  }
  const before = branches.map((branch) => new Map(branch));
  branches.length = 0;
  value.forEach((alternative: unknown, index) => {
    const here = `${where}[${index}]`;
    if (!isJsonObject(alternative)) {
      invalid(`Only JSON object is allowed in array of ${OR} relationship.`, here);
    }
    const forks = before.length === 0 ? [new Map<string, FieldCondition>()] : before.map((branch) => new Map(branch));
    compileObject(alternative, steps, here, forks, true);
    branches.push(...forks);
  });
  if (value.length < 2) {
    invalid(`There must have at least 2 Objects in ${OR} relationship.`, where);
  }
}

/** A field's array of alternatives: exact values and match expressions, any of which may match. */
function compileField(path: string, alternatives: readonly unknown[], where: string): FieldCondition {
  if (alternatives.length === 0) {
    invalid('Empty arrays are not allowed', where);
  }
  const tests: LeafTest[] = [];
  let acceptsPresence = false;
  let acceptsAbsence = false;
  alternatives.forEach((alternative, index) => {
    const here = `${where}[${index}]`;
    if (typeof alternative === 'string') {
      tests.push(exactString(alternative));
    } else if (isJsonNumber(alternative)) {
      tests.push((value) => value === alternative);
    } else if (alternative === true || alternative === false || alternative === null) {
      tests.push((value) => value === alternative);
    } else if (isJsonObject(alternative)) {
      const expression = compileMatchExpression(alternative, here);
      if (expression === true) {
        acceptsPresence = true;
      } else if (expression === false) {
        acceptsAbsence = true;
      } else {
        tests.push(expression);
      }
    } else {
      invalid('Match value must be String, number, true, false, or null', here);
    }
  });
  return { path, tests, acceptsPresence, acceptsAbsence };
}

/**
 * One `{ "operator": operand }` entry. Returns the leaf test, or for `exists`
 * the boolean it asks for (presence and absence are not tests of a value).
 */
function compileMatchExpression(expression: Readonly<Record<string, unknown>>, where: string): LeafTest | boolean {
  const keys = Object.keys(expression);
  const [operator] = keys;
  if (operator === undefined) {
    invalid('Match expression name not found', where);
  }
  if (keys.length > 1) {
    invalid('Only one key allowed in match expression', where);
  }
  const operand = expression[operator];
  const here = memberPath(where, operator);
  switch (operator) {
    case 'prefix':
      return compilePrefix(operand, here);
    case 'suffix':
      return compileSuffix(operand, here);
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') {
        invalid('equals-ignore-case match pattern must be a string', here);
      }
      const pattern = ignoreCaseRegExp(operand, 'whole');
      return (value) => typeof value === 'string' && pattern.test(value);
    }
    case 'wildcard': {
      if (typeof operand !== 'string') {
        invalid('wildcard match pattern must be a string', here);
      }
      const wildcard = parseWildcard(operand, here);
      return (value) => typeof value === 'string' && wildcardMatches(wildcard, value);
    }
    case 'anything-but':
      return compileAnythingBut(operand, here);
    case 'numeric':
      return compileNumeric(operand, here);
    case 'exists':
      if (typeof operand !== 'boolean') {
        invalid('exists match pattern must be either true or false.', here);
      }
      return operand;
    case 'cidr': {
      if (typeof operand !== 'string') {
        invalid('prefix match pattern must be a string', here); // AWS's wording for a non-string CIDR
      }
      const block = parseCidr(operand, here);
      return (value) => {
        if (typeof value !== 'string') {
          return false;
        }
        const address = parseIpAddress(value);
        return address !== undefined && cidrContains(block, address);
      };
    }
    default:
      return invalid(`Unrecognized match type ${operator}`, here);
  }
}

function compilePrefix(operand: unknown, where: string): LeafTest {
  if (isJsonObject(operand)) {
    const pattern = ignoreCaseRegExp(ignoreCaseOperand(operand, 'Prefix', where), 'start');
    return (value) => typeof value === 'string' && pattern.test(value);
  }
  if (typeof operand !== 'string') {
    invalid('prefix match pattern must be a string', where);
  }
  return (value) => typeof value === 'string' && value.startsWith(operand);
}

function compileSuffix(operand: unknown, where: string): LeafTest {
  if (isJsonObject(operand)) {
    const pattern = ignoreCaseRegExp(ignoreCaseOperand(operand, 'Suffix', where), 'end');
    return (value) => typeof value === 'string' && pattern.test(value);
  }
  if (typeof operand !== 'string') {
    invalid('suffix match pattern must be a string', where);
  }
  return (value) => typeof value === 'string' && value.endsWith(operand);
}

/** `{"prefix": {"equals-ignore-case": "…"}}` and the suffix form: the only nested operator allowed. */
function ignoreCaseOperand(operand: Readonly<Record<string, unknown>>, kind: 'Prefix' | 'Suffix', where: string): string {
  const keys = Object.keys(operand);
  const [operator] = keys;
  if (operator === undefined) {
    invalid(`${kind} expression name not found`, where);
  }
  const here = memberPath(where, operator);
  if (operator !== 'equals-ignore-case') {
    invalid(`Unsupported ${kind.toLowerCase()} pattern: ${operator}`, here);
  }
  const text = operand[operator];
  if (typeof text !== 'string') {
    invalid('equals-ignore-case match pattern must be a string', here);
  }
  if (keys.length > 1) {
    invalid('Only one key allowed in match expression', where);
  }
  return text;
}

/**
 * `anything-but`: a string, a number, a list of only strings or only numbers, or
 * `{prefix|suffix|equals-ignore-case|wildcard: string or list of strings}`. It
 * matches any leaf the exclusion does not cover, including leaves of another type
 * (null, booleans, numbers against a string list), but never a missing field.
 */
function compileAnythingBut(operand: unknown, where: string): LeafTest {
  if (isJsonObject(operand)) {
    return compileAnythingButOperator(operand, where);
  }
  if (!isSingleValueOrList(operand)) {
    invalid('Value of anything-but must be an array or single string/number value.', where);
  }
  const excluded = Array.isArray(operand) ? operand : [operand];
  const strings = new Set<string>();
  const numbers = new Set<number>();
  excluded.forEach((entry: unknown, index) => {
    if (typeof entry === 'string') {
      strings.add(entry);
    } else if (isJsonNumber(entry)) {
      numbers.add(entry);
    } else {
      invalid('Inside anything but list, start|null|boolean is not supported.', Array.isArray(operand) ? `${where}[${index}]` : where);
    }
  });
  if (strings.size > 0 === numbers.size > 0) {
    invalid('Inside anything but list, either all values are number or string, mixed type is not supported', where);
  }
  return (value) => !(typeof value === 'string' ? strings.has(value) : typeof value === 'number' && numbers.has(value));
}

function compileAnythingButOperator(operand: Readonly<Record<string, unknown>>, where: string): LeafTest {
  const keys = Object.keys(operand);
  const [operator] = keys;
  if (operator === undefined) {
    invalid('Anything-But expression name not found', where);
  }
  const here = memberPath(where, operator);
  if (operator !== 'prefix' && operator !== 'suffix' && operator !== 'equals-ignore-case' && operator !== 'wildcard') {
    invalid(`Unsupported anything-but pattern: ${operator}`, here);
  }
  const inner = operand[operator];
  if (!isSingleValueOrList(inner)) {
    invalid('Value of anything-but must be an array or single string/number value.', here);
  }
  const wrongType =
    operator === 'equals-ignore-case'
      ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
      : operator === 'wildcard'
        ? 'wildcard match pattern must be a string'
        : 'prefix/suffix match pattern must be a string';
  const texts = (Array.isArray(inner) ? inner : [inner]).map((entry: unknown, index) => {
    const at = Array.isArray(inner) ? `${here}[${index}]` : here;
    if (typeof entry !== 'string') {
      invalid(wrongType, at);
    }
    if (entry === '' && (operator === 'prefix' || operator === 'suffix')) {
      invalid('Null prefix/suffix not allowed', at);
    }
    return { entry, at };
  });
  if (keys.length > 1) {
    invalid('Only one key allowed in match expression', where);
  }
  let excludes: (text: string) => boolean;
  switch (operator) {
    case 'prefix':
      excludes = (text) => texts.some(({ entry }) => text.startsWith(entry));
      break;
    case 'suffix':
      excludes = (text) => texts.some(({ entry }) => text.endsWith(entry));
      break;
    case 'equals-ignore-case': {
      const patterns = texts.map(({ entry }) => ignoreCaseRegExp(entry, 'whole'));
      excludes = (text) => patterns.some((pattern) => pattern.test(text));
      break;
    }
    case 'wildcard': {
      const wildcards = texts.map(({ entry, at }) => parseWildcard(entry, at));
      excludes = (text) => wildcards.some((wildcard) => wildcardMatches(wildcard, text));
      break;
    }
  }
  return (value) => typeof value !== 'string' || !excludes(value);
}

/**
 * `numeric`: `["=", n]`, `["<" | "<=", n]`, `[">" | ">=", n]` or a range
 * `[">" | ">=", low, "<" | "<=", high]` with low < high. Only JSON numbers match;
 * a string such as `"5"` never does.
 */
function compileNumeric(operand: unknown, where: string): LeafTest {
  if (!Array.isArray(operand)) {
    invalid('Value of numeric must be an array.', where);
  }
  const terms: readonly unknown[] = operand;
  const at = (index: number): string => `${where}[${index}]`;
  const operator = terms[0];
  if (typeof operator !== 'string') {
    invalid(`Invalid member in numeric match: ${tokenText(operator)}`, at(0));
  }
  const bound = terms[1];
  const boundName = operator === '=' ? 'equals' : operator;
  if (operator !== '=' && operator !== '<' && operator !== '<=' && operator !== '>' && operator !== '>=') {
    invalid(`Unrecognized numeric range operator: ${operator}`, at(0));
  }
  if (!isJsonNumber(bound)) {
    invalid(`Value of ${boundName} must be numeric`, at(1));
  }
  if (operator === '=' || operator === '<' || operator === '<=') {
    if (terms.length > 2) {
      invalid('Too many elements in numeric expression', at(2));
    }
    switch (operator) {
      case '=':
        return (value) => typeof value === 'number' && value === bound;
      case '<':
        return (value) => typeof value === 'number' && value < bound;
      case '<=':
        return (value) => typeof value === 'number' && value <= bound;
    }
  }
  const openBottom = operator === '>';
  if (terms.length === 2) {
    return openBottom
      ? (value) => typeof value === 'number' && value > bound
      : (value) => typeof value === 'number' && value >= bound;
  }
  const upperOperator = terms[2];
  if (typeof upperOperator !== 'string') {
    invalid(`Bad value in numeric range: ${tokenText(upperOperator)}`, at(2));
  }
  if (upperOperator !== '<' && upperOperator !== '<=') {
    invalid(`Bad numeric range operator: ${upperOperator}`, at(2));
  }
  const top = terms[3];
  if (!isJsonNumber(top)) {
    invalid(`Value of ${upperOperator} must be numeric`, at(3));
  }
  if (terms.length > 4) {
    invalid('Too many terms in numeric range expression', at(4));
  }
  if (!(bound < top)) {
    invalid('Bottom must be less than top', where);
  }
  const openTop = upperOperator === '<';
  return (value) =>
    typeof value === 'number' &&
    (openBottom ? value > bound : value >= bound) &&
    (openTop ? value < top : value <= top);
}

/**
 * An exact string. A pattern string that is an IP address matches the same
 * address however the event writes it (event-ruler compiles it to an address range).
 */
function exactString(expected: string): LeafTest {
  const address = parseIpAddress(expected);
  if (address === undefined) {
    return (value) => value === expected;
  }
  const block: CidrBlock = { address, maskBits: address.length * 8 };
  return (value) => {
    if (typeof value !== 'string') {
      return false;
    }
    if (value === expected) {
      return true;
    }
    const other = parseIpAddress(value);
    return other !== undefined && cidrContains(block, other);
  };
}

// ---------------------------------------------------------------------------
// Case-insensitive and wildcard strings
// ---------------------------------------------------------------------------

/**
 * event-ruler folds case one UTF-16 unit at a time: each unit of the pattern
 * matches its lower-case or its upper-case form (which may be longer, as `ß`/`SS`).
 */
function ignoreCaseRegExp(text: string, anchor: 'whole' | 'start' | 'end'): RegExp {
  let source = '';
  for (let index = 0; index < text.length; index++) {
    const unit = text.charAt(index);
    const lower = unit.toLowerCase();
    const upper = unit.toUpperCase();
    source += lower === upper ? escapeRegExp(lower) : `(?:${escapeRegExp(lower)}|${escapeRegExp(upper)})`;
  }
  return new RegExp(`${anchor === 'end' ? '' : '^'}${source}${anchor === 'start' ? '' : '$'}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A wildcard pattern as the literal pieces between its `*` characters. */
type Wildcard = readonly string[];

/**
 * `*` matches any run of characters, `\*` a literal `*`, `\\` a literal `\`. Any
 * other escape and two `*` in a row are invalid; positions count UTF-8 bytes from
 * the opening quote, as AWS reports them.
 */
function parseWildcard(text: string, where: string): Wildcard {
  const pieces: string[] = [];
  let piece = '';
  const position = (index: number): number => Buffer.byteLength(text.slice(0, index)) + 1;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charAt(index);
    if (unit === '*') {
      if (text.charAt(index + 1) === '*') {
        invalid(`Consecutive wildcard characters at pos ${position(index)}`, where);
      }
      pieces.push(piece);
      piece = '';
    } else if (unit === '\\') {
      const next = text.charAt(index + 1);
      if (next !== '*' && next !== '\\') {
        invalid(`Invalid escape character at pos ${position(index)}`, where);
      }
      piece += next;
      index++;
    } else {
      piece += unit;
    }
  }
  pieces.push(piece);
  return pieces;
}

/** Glob matching without backtracking: anchor the first and last pieces, find the middle ones greedily. */
function wildcardMatches(pieces: Wildcard, value: string): boolean {
  const first = pieces[0] ?? '';
  if (pieces.length === 1) {
    return value === first;
  }
  const last = pieces[pieces.length - 1] ?? '';
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
    return false;
  }
  let from = first.length;
  const end = value.length - last.length;
  for (let index = 1; index < pieces.length - 1; index++) {
    const piece = pieces[index] ?? '';
    const found = value.indexOf(piece, from);
    if (found === -1 || found + piece.length > end) {
      return false;
    }
    from = found + piece.length;
  }
  return true;
}

// ---------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------

interface CidrBlock {
  readonly address: Uint8Array;
  readonly maskBits: number;
}

const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

/** A CIDR block as event-ruler reads it: one `/`, an integer mask, IPv4 masks < 32, IPv6 masks < 128. */
function parseCidr(text: string, where: string): CidrBlock {
  const parts = text.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') {
    parts.pop(); // Java's String.split drops trailing empty strings
  }
  const [ip, mask] = parts;
  if (parts.length !== 2 || ip === undefined || mask === undefined) {
    invalid("Malformed CIDR, one '/' required", where);
  }
  const maskBits = /^[+-]?[0-9]+$/.test(mask) ? Number(mask) : Number.NaN;
  if (!Number.isSafeInteger(maskBits) || Math.abs(maskBits) > 2 ** 31) {
    invalid('Malformed CIDR, mask bits must be an integer', where);
  }
  if (maskBits < 0) {
    invalid('Malformed CIDR, mask bits must not be negative', where);
  }
  if (!IPV4_SHAPE.test(ip) && !IPV6_SHAPE.test(ip)) {
    invalid(`Nonstandard IP address: ${ip}`, where);
  }
  const address = parseIpAddress(ip);
  if (address === undefined) {
    invalid(`Invalid IP address: ${ip}`, where);
  }
  if (address.length === 4 && maskBits > 31) {
    invalid('IPv4 mask bits must be < 32', where);
  }
  if (address.length === 16 && maskBits > 127) {
    invalid('IPv6 mask bits must be < 128', where);
  }
  return { address, maskBits };
}

/**
 * Parses an IPv4 or IPv6 literal into 4 or 16 bytes. An IPv4-mapped IPv6 address
 * (`::ffff:a00:1`) becomes its IPv4 address, as Java's InetAddress does; IPv6
 * with an embedded dotted quad is not an address to event-ruler.
 */
function parseIpAddress(text: string): Uint8Array | undefined {
  if (IPV4_SHAPE.test(text)) {
    const octets = text.split('.');
    if (octets.some((octet) => octet.length > 3 || (octet.length > 1 && octet.startsWith('0')) || Number(octet) > 255)) {
      return undefined;
    }
    return Uint8Array.from(octets, Number);
  }
  if (!IPV6_SHAPE.test(text)) {
    return undefined;
  }
  const halves = text.split('::');
  if (halves.length > 2) {
    return undefined;
  }
  const groupsOf = (half: string | undefined): string[] | undefined => {
    if (half === undefined || half === '') {
      return [];
    }
    const groups = half.split(':');
    return groups.every((group) => group.length >= 1 && group.length <= 4) ? groups : undefined;
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (head === undefined || tail === undefined) {
    return undefined;
  }
  const compressed = halves.length === 2;
  const explicit = head.length + tail.length;
  if (compressed ? explicit > 7 : explicit !== 8) {
    return undefined;
  }
  const groups = [...head, ...Array<string>(8 - explicit).fill('0'), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const word = Number.parseInt(group, 16);
    bytes[index * 2] = word >> 8;
    bytes[index * 2 + 1] = word & 0xff;
  });
  const ipv4Mapped = bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return ipv4Mapped ? bytes.slice(12) : bytes;
}

function cidrContains(block: CidrBlock, address: Uint8Array): boolean {
  if (address.length !== block.address.length) {
    return false;
  }
  let bits = block.maskBits;
  for (let index = 0; bits > 0; index++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((address[index] ?? 0) & mask) !== ((block.address[index] ?? 0) & mask)) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

const NO_MEMBERSHIP: Membership = [];
const NO_LEAVES: readonly EventLeaf[] = [];

/** Every dotted prefix of every path the pattern names: the only parts of an event worth flattening. */
function pathPrefixes(branches: readonly (readonly FieldCondition[])[]): ReadonlySet<string> {
  const prefixes = new Set<string>();
  for (const conditions of branches) {
    for (const { path } of conditions) {
      for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1)) {
        prefixes.add(path.slice(0, dot));
      }
      prefixes.add(path);
    }
  }
  return prefixes;
}

/** The event's leaves by dotted path, with the array elements each one sits in. */
function flattenEvent(event: Readonly<Record<string, unknown>>, neededPaths: ReadonlySet<string>): Map<string, PathLeaves> {
  const leaves = new Map<string, PathLeaves>();
  let arrays = 0;
  const addLeaf = (path: string, value: Leaf, membership: Membership): void => {
    let atPath = leaves.get(path);
    if (atPath === undefined) {
      atPath = { all: [], byElement: new Map() };
      leaves.set(path, atPath);
    }
    const leaf = { value, membership };
    atPath.all.push(leaf);
    for (let at = 0; at < membership.length; at += 2) {
      const arrayId = membership[at] ?? -1;
      const element = membership[at + 1] ?? -1;
      let elements = atPath.byElement.get(arrayId);
      if (elements === undefined) {
        elements = new Map();
        atPath.byElement.set(arrayId, elements);
      }
      const inElement = elements.get(element);
      if (inElement === undefined) {
        elements.set(element, [leaf]);
      } else {
        inElement.push(leaf);
      }
    }
  };
  const visitObject = (object: Readonly<Record<string, unknown>>, path: string | undefined, membership: Membership): void => {
    for (const key of Object.keys(object)) {
      const childPath = path === undefined ? key : `${path}.${key}`;
      if (neededPaths.has(childPath)) {
        visitValue(object[key], childPath, membership);
      }
    }
  };
  const visitValue = (value: unknown, path: string, membership: Membership): void => {
    if (Array.isArray(value)) {
      const arrayId = arrays++;
      value.forEach((element: unknown, index) => {
        if (Array.isArray(element) || isJsonObject(element)) {
          visitValue(element, path, [...membership, arrayId, index]);
        } else {
          visitValue(element, path, membership); // event-ruler gives scalar elements no membership of their own
        }
      });
    } else if (isJsonObject(value)) {
      visitObject(value, path, membership);
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
      addLeaf(path, value, membership);
    }
  };
  visitObject(event, undefined, NO_MEMBERSHIP);
  return leaves;
}

/**
 * Depth-first search for leaves meeting the conditions from `index` on, all
 * array-consistent with `chosen`. Leaves that would leave the search in the same
 * state are tried once, so arrays of scalars cost one pass.
 */
function branchMatches(
  conditions: readonly FieldCondition[],
  leaves: ReadonlyMap<string, PathLeaves>,
  index: number,
  chosen: Membership,
): boolean {
  const condition = conditions[index];
  if (condition === undefined) {
    return true;
  }
  let anyConsistent = false;
  let tried: Set<string> | undefined;
  for (const leaf of candidateLeaves(leaves.get(condition.path), chosen)) {
    const next = mergeMembership(chosen, leaf.membership);
    if (next === undefined) {
      continue;
    }
    anyConsistent = true;
    if (!condition.acceptsPresence && !condition.tests.some((test) => test(leaf.value))) {
      continue;
    }
    const key = next.join(',');
    tried ??= new Set();
    if (tried.has(key)) {
      continue;
    }
    tried.add(key);
    if (branchMatches(conditions, leaves, index + 1, next)) {
      return true;
    }
  }
  return condition.acceptsAbsence && !anyConsistent && branchMatches(conditions, leaves, index + 1, chosen);
}

/**
 * The leaves at a path that can be consistent with the elements chosen so far: when
 * the path runs through an array already pinned to one element, only that element's.
 */
function candidateLeaves(atPath: PathLeaves | undefined, chosen: Membership): readonly EventLeaf[] {
  if (atPath === undefined) {
    return NO_LEAVES;
  }
  for (let at = 0; at < chosen.length; at += 2) {
    const elements = atPath.byElement.get(chosen[at] ?? -1);
    if (elements !== undefined) {
      return elements.get(chosen[at + 1] ?? -1) ?? NO_LEAVES;
    }
  }
  return atPath.all;
}

/** The union of two memberships, or undefined when they put a leaf in different elements of one array. */
function mergeMembership(chosen: Membership, leaf: Membership): Membership | undefined {
  if (leaf.length === 0) {
    return chosen;
  }
  if (chosen.length === 0) {
    return leaf;
  }
  const merged: number[] = [...chosen];
  for (let at = 0; at < leaf.length; at += 2) {
    const arrayId = leaf[at] ?? -1;
    const element = leaf[at + 1] ?? -1;
    let known = false;
    for (let seen = 0; seen < chosen.length; seen += 2) {
      if (chosen[seen] === arrayId) {
        if (chosen[seen + 1] !== element) {
          return undefined;
        }
        known = true;
        break;
      }
    }
    if (!known) {
      merged.push(arrayId, element);
    }
  }
  return merged;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJsonNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isSingleValueOrList(value: unknown): value is string | number | readonly unknown[] {
  return typeof value === 'string' || isJsonNumber(value) || Array.isArray(value);
}

function byPath(left: FieldCondition, right: FieldCondition): number {
  return left.path < right.path ? -1 : left.path > right.path ? 1 : 0;
}

/** `$.detail.state`, or `$["a.b"]` for a key a dotted path would misread. */
function memberPath(parent: string, key: string): string {
  return /^[A-Za-z0-9_$-]+$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** How Jackson prints the token event-ruler complains about: a scalar's text, or the bracket that opens or ends it. */
function tokenText(token: unknown): string {
  if (token === undefined) {
    return ']';
  }
  if (Array.isArray(token)) {
    return '[';
  }
  return isJsonObject(token) ? '{' : String(token);
}

function invalid(reason: string, path: string): never {
  throw new InvalidEventPatternError(reason, path);
}
