/**
 * SuiteQL for the NetSuite sandbox (`POST /services/rest/query/v1/suiteql`, `Prefer: transient`,
 * body `{q}`): a small parser for the query shapes Harmony's adapter sends —
 *
 *   SELECT col[, col…] | * FROM customer|item|currency
 *   [WHERE cond [AND cond…]] [ORDER BY col [ASC|DESC]]
 *   cond := [UPPER(|LOWER(]col[)] (= | <> | !=) literal | … [NOT] IN (literal[, literal…])
 *
 * with string literals in single quotes (`''` for a quote) — and NetSuite's paging: `limit`
 * (≤ 1000) and `offset` in the URL, the answer `{links, count, hasMore, items, offset,
 * totalResults}` with `next`/`last` links. Values come back as text (booleans `T`/`F`) and
 * empty columns are left out, as NetSuite does.
 */
import { netsuiteError, type SandboxAnswer } from './responses.ts';
import type { NetsuiteStore, StoredRecord } from './store.ts';

type Token = { readonly kind: 'word' | 'string' | 'number' | 'symbol'; readonly text: string };

interface Condition {
  readonly column: string;
  readonly fold?: 'upper' | 'lower';
  readonly operator: '=' | '<>' | 'in' | 'not in';
  readonly values: readonly string[];
}

interface Query {
  readonly columns: readonly string[] | '*';
  readonly table: string;
  readonly conditions: readonly Condition[];
  readonly order?: { readonly column: string; readonly descending: boolean };
}

const text = (value: unknown): string | undefined => (value === undefined || value === null || value === '' ? undefined : String(value));
const flag = (value: unknown): string => (value === true ? 'T' : 'F');

/** The columns of each table, computed from the stored record. */
const TABLES: Readonly<Record<string, Readonly<Record<string, (record: StoredRecord) => string | undefined>>>> = {
  customer: {
    id: (record) => String(record.id),
    entityid: (record) => text(record.entityId),
    companyname: (record) => text(record.companyName),
    firstname: (record) => text(record.firstName),
    lastname: (record) => text(record.lastName),
    email: (record) => text(record.email),
    phone: (record) => text(record.phone),
    externalid: (record) => text(record.externalId),
    vatregnumber: (record) => text(record.vatRegNumber),
    isperson: (record) => flag(record.isPerson),
    isinactive: (record) => flag(record.isInactive),
    subsidiary: (record) => text(record.subsidiary),
  },
  item: {
    id: (record) => String(record.id),
    itemid: (record) => text(record.itemId),
    displayname: (record) => text(record.displayName),
    itemtype: (record) => text(record.itemType),
    isinactive: (record) => flag(record.isInactive),
  },
  currency: {
    id: (record) => String(record.id),
    name: (record) => text(record.name),
    symbol: (record) => text(record.symbol),
    displaysymbol: (record) => text(record.displaySymbol),
    isinactive: (record) => flag(record.isInactive),
  },
};

class QueryError extends Error {}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|(<>|!=|[=(),*]))/y;
  let position = 0;
  while (position < source.length) {
    if (/^\s*$/.test(source.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (match === null) throw new QueryError(`unexpected input at ${position}: ${JSON.stringify(source.slice(position, position + 20))}`);
    position = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'word', text: match[1] });
    else if (match[2] !== undefined) tokens.push({ kind: 'string', text: match[2].replaceAll("''", "'") });
    else if (match[3] !== undefined) tokens.push({ kind: 'number', text: match[3] });
    else tokens.push({ kind: 'symbol', text: match[4]! });
  }
  return tokens;
}

/** Parses the supported SELECT shapes; QueryError naming what was not understood. */
function parse(source: string): Query {
  const tokens = tokenize(source);
  let index = 0;
  const peek = (): Token | undefined => tokens[index];
  const keyword = (word: string): boolean => {
    const token = peek();
    if (token?.kind !== 'word' || token.text.toUpperCase() !== word) return false;
    index += 1;
    return true;
  };
  const expectKeyword = (word: string): void => {
    if (!keyword(word)) throw new QueryError(`expected ${word} near ${JSON.stringify(peek()?.text ?? 'the end')}`);
  };
  const symbol = (value: string): boolean => {
    if (peek()?.kind !== 'symbol' || peek()?.text !== value) return false;
    index += 1;
    return true;
  };
  const identifier = (): string => {
    const token = tokens[index++];
    if (token?.kind !== 'word') throw new QueryError(`expected a column or table name near ${JSON.stringify(token?.text ?? 'the end')}`);
    return token.text.toLowerCase();
  };
  const literal = (): string => {
    const token = tokens[index++];
    if (token?.kind !== 'string' && token?.kind !== 'number') throw new QueryError(`expected a value near ${JSON.stringify(token?.text ?? 'the end')}`);
    return token.text;
  };

  expectKeyword('SELECT');
  let columns: string[] | '*' = [];
  if (symbol('*')) columns = '*';
  else do columns.push(identifier());
  while (symbol(','));
  expectKeyword('FROM');
  const table = identifier();
  const conditions: Condition[] = [];
  if (keyword('WHERE')) {
    do {
      let fold: 'upper' | 'lower' | undefined;
      let column: string;
      if (peek()?.kind === 'word' && ['UPPER', 'LOWER'].includes(peek()!.text.toUpperCase()) && tokens[index + 1]?.text === '(') {
        fold = peek()!.text.toUpperCase() === 'UPPER' ? 'upper' : 'lower';
        index += 2;
        column = identifier();
        if (!symbol(')')) throw new QueryError('expected ) after the column');
      } else {
        column = identifier();
      }
      const negated = keyword('NOT');
      if (keyword('IN')) {
        if (!symbol('(')) throw new QueryError('expected ( after IN');
        const values = [literal()];
        while (symbol(',')) values.push(literal());
        if (!symbol(')')) throw new QueryError('expected ) after the IN list');
        conditions.push({ column, ...(fold === undefined ? {} : { fold }), operator: negated ? 'not in' : 'in', values });
      } else if (!negated && symbol('=')) {
        conditions.push({ column, ...(fold === undefined ? {} : { fold }), operator: '=', values: [literal()] });
      } else if (!negated && (symbol('<>') || symbol('!='))) {
        conditions.push({ column, ...(fold === undefined ? {} : { fold }), operator: '<>', values: [literal()] });
      } else {
        throw new QueryError(`expected =, <>, IN or NOT IN after ${column}`);
      }
    } while (keyword('AND'));
  }
  let order: Query['order'];
  if (keyword('ORDER')) {
    expectKeyword('BY');
    const column = identifier();
    const descending = keyword('DESC');
    if (!descending) keyword('ASC');
    order = { column, descending };
  }
  if (index < tokens.length) throw new QueryError(`unexpected ${JSON.stringify(tokens[index]!.text)}`);
  return { columns, table, conditions, ...(order === undefined ? {} : { order }) };
}

function matches(condition: Condition, value: string | undefined): boolean {
  if (value === undefined) return false;
  const folded = condition.fold === 'upper' ? value.toUpperCase() : condition.fold === 'lower' ? value.toLowerCase() : value;
  const found = condition.values.includes(folded);
  return condition.operator === '=' || condition.operator === 'in' ? found : !found;
}

/** The 400 NetSuite answers for a query it cannot run. */
function invalidQuery(reason: string): SandboxAnswer {
  return netsuiteError(400, 'INVALID_PARAMETER', `Invalid search query. Detailed unprocessed description follows. Search error occurred: ${reason}`);
}

/** Runs `POST /services/rest/query/v1/suiteql` for one page. */
export function runSuiteql(store: NetsuiteStore, body: unknown, query: URLSearchParams, origin: string): SandboxAnswer {
  const source = (body as { q?: unknown } | undefined)?.q;
  if (typeof source !== 'string' || source.trim() === '') return invalidQuery('the body must be {"q": "<SuiteQL query>"}');
  const limit = Number(query.get('limit') ?? '1000');
  const offset = Number(query.get('offset') ?? '0');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return netsuiteError(400, 'INVALID_PARAMETER', 'The limit parameter must be an integer from 1 to 1000.');
  if (!Number.isInteger(offset) || offset < 0) return netsuiteError(400, 'INVALID_PARAMETER', 'The offset parameter must be a non-negative integer.');
  let parsed: Query;
  try {
    parsed = parse(source);
  } catch (error) {
    return invalidQuery((error as Error).message);
  }
  const table = TABLES[parsed.table];
  if (table === undefined) return invalidQuery(`Record '${parsed.table}' was not found.`);
  const named = [...(parsed.columns === '*' ? [] : parsed.columns), ...parsed.conditions.map((condition) => condition.column), ...(parsed.order === undefined ? [] : [parsed.order.column])];
  const unknown = named.find((column) => table[column] === undefined);
  if (unknown !== undefined) return invalidQuery(`Field '${unknown}' for record '${parsed.table}' was not found.`);
  const columns = parsed.columns === '*' ? Object.keys(table) : parsed.columns;

  let records = store.all(parsed.table).filter((record) => parsed.conditions.every((condition) => matches(condition, table[condition.column]!(record))));
  if (parsed.order !== undefined) {
    const { column, descending } = parsed.order;
    const key = (record: StoredRecord): string => table[column]!(record) ?? '';
    const numeric = records.every((record) => /^-?\d+(\.\d+)?$/.test(key(record)));
    records = records.sort((left, right) => {
      const order = numeric ? Number(key(left)) - Number(key(right)) : key(left) < key(right) ? -1 : key(left) > key(right) ? 1 : 0;
      return descending ? -order : order;
    });
  }
  const page = records.slice(offset, offset + limit);
  const items = page.map((record) => ({
    links: [],
    ...Object.fromEntries(columns.flatMap((column) => {
      const value = table[column]!(record);
      return value === undefined ? [] : [[column, value]];
    })),
  }));
  const pageLink = (rel: string, pageOffset: number) => ({ rel, href: `${origin}/services/rest/query/v1/suiteql?limit=${limit}&offset=${pageOffset}` });
  const hasMore = offset + page.length < records.length;
  const lastOffset = records.length === 0 ? 0 : Math.floor((records.length - 1) / limit) * limit;
  const links = [
    ...(offset > 0 ? [pageLink('previous', Math.max(0, offset - limit)), pageLink('first', 0)] : []),
    ...(hasMore ? [pageLink('next', offset + limit), pageLink('last', lastOffset)] : []),
    pageLink('self', offset),
  ];
  return { status: 200, body: { links, count: items.length, hasMore, items, offset, totalResults: records.length } };
}
