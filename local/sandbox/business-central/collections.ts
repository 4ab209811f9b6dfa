/**
 * How the sandbox answers a GET on an entity set: `$filter` (see odata-filter.ts),
 * `$select`, `$top`, server-driven paging with `@odata.nextLink` (`$skiptoken`), rows in
 * primary-key order, and BC's errors for query options it does not take.
 */
import { compileFilter, ODataFilterError } from './odata-filter.ts';
import { bcError, type SandboxAnswer } from './responses.ts';

/** The properties each entity type can be filtered on (its JSON, per Microsoft Learn). */
export const PROPERTIES = {
  customer: ['id', 'number', 'displayName', 'type', 'addressLine1', 'addressLine2', 'city', 'state', 'country', 'postalCode', 'phoneNumber', 'email', 'website', 'taxLiable', 'taxRegistrationNumber', 'currencyCode', 'blocked', 'lastModifiedDateTime'],
  item: ['id', 'number', 'displayName', 'type', 'blocked', 'gtin', 'inventory', 'unitPrice', 'unitCost', 'taxGroupCode', 'baseUnitOfMeasureCode', 'lastModifiedDateTime'],
  currency: ['id', 'code', 'displayName', 'symbol', 'lastModifiedDateTime'],
  salesOrder: ['id', 'number', 'externalDocumentNumber', 'orderDate', 'postingDate', 'customerId', 'customerNumber', 'customerName', 'currencyCode', 'status', 'fullyShipped', 'totalAmountExcludingTax', 'totalTaxAmount', 'totalAmountIncludingTax', 'email', 'phoneNumber', 'lastModifiedDateTime'],
  salesOrderLine: ['id', 'documentId', 'sequence', 'itemId', 'lineType', 'lineObjectNumber', 'description', 'quantity', 'unitPrice', 'discountPercent'],
  salesInvoice: ['id', 'number', 'externalDocumentNumber', 'invoiceDate', 'postingDate', 'dueDate', 'customerId', 'customerNumber', 'orderId', 'orderNumber', 'currencyCode', 'status', 'totalAmountIncludingTax', 'lastModifiedDateTime'],
} as const;

/** An entity type of the sandbox. */
export type EntityType = keyof typeof PROPERTIES;

const KNOWN_OPTIONS = new Set(['$filter', '$select', '$top', '$skiptoken', '$expand', '$schemaversion', 'company', 'tenant']);

/** BC's answer for a query option it does not support, or undefined when all are known. */
export function unsupportedOption(query: URLSearchParams): SandboxAnswer | undefined {
  for (const name of query.keys()) {
    if (!KNOWN_OPTIONS.has(name)) return bcError(400, 'BadRequest', `The query parameter '${name}' is not supported.`);
  }
  return undefined;
}

/** `$select=a,b`: only those properties (and the etag). */
export function select(row: Record<string, unknown>, query: URLSearchParams): Record<string, unknown> {
  const fields = query.get('$select');
  if (fields === null || fields.trim() === '') return row;
  const wanted = new Set(fields.split(',').map((field) => field.trim()));
  return Object.fromEntries(Object.entries(row).filter(([key]) => key === '@odata.etag' || wanted.has(key)));
}

/** Where one collection answer lives, for `@odata.context` and `@odata.nextLink`. */
export interface CollectionLocation {
  /** `…/api/v2.0/$metadata#companies(<id>)/salesOrders` */
  readonly context: string;
  /** The request's own URL (its `$skiptoken` is replaced on the next link). */
  readonly requestUrl: URL;
}

/**
 * One page of `rows` (already in key order) after `$filter`, `$top` and `$skiptoken`,
 * with `@odata.nextLink` when more follow.
 */
export function collectionPage(
  rows: readonly Record<string, unknown>[],
  type: EntityType,
  query: URLSearchParams,
  location: CollectionLocation,
  pageSize: number,
): SandboxAnswer {
  const unsupported = unsupportedOption(query);
  if (unsupported !== undefined) return unsupported;
  let matching = rows;
  const filter = query.get('$filter');
  if (filter !== null && filter.trim() !== '') {
    try {
      const predicate = compileFilter(filter, new Set(PROPERTIES[type]), type);
      matching = rows.filter((row) => predicate(row));
    } catch (error) {
      if (error instanceof ODataFilterError) return bcError(400, 'BadRequest_InvalidRequestUrl', error.message);
      throw error;
    }
  }
  const top = query.get('$top');
  if (top !== null) {
    if (!/^\d+$/.test(top)) return bcError(400, 'BadRequest', `The limit of '${top}' for Top query has been exceeded or is invalid.`);
    matching = matching.slice(0, Number(top));
  }
  const skipToken = query.get('$skiptoken');
  const offset = skipToken === null ? 0 : Number(skipToken);
  if (!Number.isInteger(offset) || offset < 0) return bcError(400, 'BadRequest', `The skip token '${skipToken}' is not valid.`);
  const page = matching.slice(offset, offset + pageSize).map((row) => select(row, query));
  const body: Record<string, unknown> = { '@odata.context': location.context, value: page };
  if (offset + pageSize < matching.length) {
    const next = new URL(location.requestUrl);
    next.searchParams.set('$skiptoken', String(offset + pageSize));
    // BC writes the system query options' `$` as it is.
    body['@odata.nextLink'] = `${next.origin}${next.pathname}?${next.searchParams.toString().replaceAll('%24', '$')}`;
  }
  return { status: 200, body };
}

/** Orders entities by `number`, their primary key, as BC lists them (Code fields sort as text). */
export function byNumber(left: { readonly number: string }, right: { readonly number: string }): number {
  return left.number < right.number ? -1 : left.number > right.number ? 1 : 0;
}
