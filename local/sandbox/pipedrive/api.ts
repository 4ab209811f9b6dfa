/**
 * The Pipedrive API subset the sandbox serves, after authentication:
 * - `GET|PATCH /api/v2/deals/{id}`, `GET /api/v2/deals/{id}/products` (cursor paging)
 * - `GET /api/v2/products/{id}`, `/api/v2/persons/{id}`, `/api/v2/organizations/{id}`
 * - `GET /api/v1/dealFields`, `/api/v1/organizationFields` (offset paging)
 * Ids are integers; an id that is not one is a 400, an unknown one a 404.
 */
import * as z from 'zod';
import { patchDeal, type DealOutcome } from './deals.ts';
import { notFound, ok, pipedriveError } from './responses.ts';
import type { PipedriveStore, RecordType } from './store.ts';

/** The name faults are injected by: method and path with ids as `{id}`, e.g. `GET /api/v2/deals/{id}/products`. */
export function operationOf(method: string, path: string): string {
  return `${method} ${path.replace(/\/\d+(?=\/|$)/g, '/{id}')}`;
}

const Limit = z.coerce.number().int().min(1, { error: 'must be at least 1' }).max(500, { error: 'must be at most 500' });

/** v2 paging: `limit` (default 100) and `cursor`, an opaque marker of the last id seen. */
const CursorQuery = z.object({
  limit: Limit.default(100),
  cursor: z.string().optional().transform((cursor, context) => {
    if (cursor === undefined) return 0;
    try {
      const position = z.object({ id: z.number().int().nonnegative() }).parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
      return position.id;
    } catch {
      context.addIssue({ code: 'custom', message: 'Invalid cursor' });
      return z.NEVER;
    }
  }),
});

/** v1 paging: `start` and `limit` (default 100). */
const OffsetQuery = z.object({ start: z.coerce.number().int().nonnegative().default(0), limit: Limit.default(100) });

function invalidQuery(error: z.ZodError) {
  const issue = error.issues[0]!;
  return pipedriveError(400, `Validation failed: ${issue.path.map(String).join('.')}: ${issue.message}`);
}

const ENTITIES: Readonly<Record<string, RecordType>> = { deals: 'deal', products: 'product', persons: 'person', organizations: 'organization' };

/** Answers one authenticated API request; a PATCH that changes a deal also yields its webhook. */
export function apiRequest(store: PipedriveStore, method: string, path: string, query: URLSearchParams, body: unknown, now: number): DealOutcome {
  const answer = (result: DealOutcome['answer']): DealOutcome => ({ answer: result, events: [] });
  const v2 = /^\/api\/v2\/(deals|products|persons|organizations)\/([^/]+)(\/products)?$/.exec(path);
  if (v2 !== null) {
    const [, collection, rawId, products] = v2;
    if (!/^[1-9]\d{0,15}$/.test(rawId!)) return answer(pipedriveError(400, `Validation failed: id: must be a positive integer`));
    const id = Number(rawId);
    const type = ENTITIES[collection!]!;
    if (products !== undefined && type === 'deal' && method === 'GET') return answer(dealProducts(store, id, query));
    if (products === undefined && method === 'GET') {
      const record = store.get<{ is_deleted?: boolean }>(type, id);
      return answer(record === undefined || record.is_deleted === true ? notFound() : ok(record));
    }
    if (products === undefined && type === 'deal' && method === 'PATCH') {
      return body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)
        ? answer(pipedriveError(400, 'Validation failed: body: expected a JSON object'))
        : patchDeal(store, id, body, now);
    }
  }
  const fields = /^\/api\/v1\/(dealFields|organizationFields)$/.exec(path);
  if (fields !== null && method === 'GET') {
    const parsed = OffsetQuery.safeParse(Object.fromEntries(query));
    if (!parsed.success) return answer(invalidQuery(parsed.error));
    const { start, limit } = parsed.data;
    const all = store.list<unknown>(fields[1] === 'dealFields' ? 'deal_field' : 'organization_field', 0, 10_000);
    const page = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return answer(ok(page, { pagination: { start, limit, more_items_in_collection: more, ...(more ? { next_start: start + limit } : {}) } }));
  }
  return answer(pipedriveError(404, `Unknown method ${method} ${path}`));
}

function dealProducts(store: PipedriveStore, dealId: number, query: URLSearchParams) {
  if (store.get('deal', dealId) === undefined) return notFound();
  const parsed = CursorQuery.safeParse(Object.fromEntries(query));
  if (!parsed.success) return invalidQuery(parsed.error);
  const { limit, cursor } = parsed.data;
  const items = store.list<{ id: number }>('deal_product', cursor, limit + 1, dealId);
  const page = items.slice(0, limit);
  const next = items.length > limit ? Buffer.from(JSON.stringify({ id: page.at(-1)!.id })).toString('base64url') : null;
  return ok(page, { next_cursor: next });
}
