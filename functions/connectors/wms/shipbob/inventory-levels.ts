/**
 * ShipBob's inventory levels (`GET /inventory-level`, cursor pages with a `next` link):
 * pages of stock for Harmony, levels of chosen inventory ids, and the SKU ↔ inventory-id
 * catalogue (reference data, cached per account with a TTL) that orders and returns need:
 * returns name inventory ids, and an order for a SKU ShipBob does not stock is refused
 * before ShipBob would quietly create an empty product for it.
 */
import type * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import type { StockLevel, StockLevelPage, WmsRejectedRecord } from '../port.ts';
import type { ShipBobCall, ShipBobClient } from './client.ts';
import { SHIPBOB_SYSTEM, toStockLevel } from './mapping.ts';
import { SharedCache } from './shared-cache.ts';
import { InventoryLevel, InventoryLevelPage } from './vendor-shapes.ts';

/** Largest page ShipBob serves. */
const MAX_PAGE_SIZE = 250;
/** Pages of the catalogue read before calling the account unreasonable. */
const MAX_CATALOGUE_PAGES = 200;
/** How long the catalogue is trusted before it is read again. */
const CATALOGUE_TTL_MS = 10 * 60 * 1000;
/** Inventory ids per `InventoryIds=` filter. */
const IDS_PER_CALL = 50;

interface Catalogue {
  readonly loadedAt: number;
  readonly bySku: ReadonlyMap<string, number>;
  readonly byId: ReadonlyMap<number, string>;
}

const catalogues = new SharedCache<Catalogue>((catalogue) => Date.now() - catalogue.loadedAt < CATALOGUE_TTL_MS);

/** Reads one page's items one by one: the good ones as levels, the rest as rejected records. */
function readItems(items: readonly unknown[], source: string): { levels: (StockLevel & { inventoryId: number })[]; rejected: WmsRejectedRecord[] } {
  const levels: (StockLevel & { inventoryId: number })[] = [];
  const rejected: WmsRejectedRecord[] = [];
  items.forEach((item, index) => {
    const parsed = InventoryLevel.safeParse(item);
    if (parsed.success) {
      levels.push({ ...toStockLevel(parsed.data), inventoryId: parsed.data.inventory_id });
      return;
    }
    const issue = parsed.error.issues[0]!;
    rejected.push({ source, line: index + 1, raw: JSON.stringify(item).slice(0, 2000), reason: `${issue.path.map(String).join('.') || '(item)'}: ${issue.message}` });
  });
  return { levels, rejected };
}

/** Stock levels and the SKU catalogue of one ShipBob account. */
export class InventoryLevels {
  readonly #client: ShipBobClient;
  readonly #cacheKey: string;

  constructor(client: ShipBobClient, cacheKey: string) {
    this.#client = client;
    this.#cacheKey = cacheKey;
  }

  /** One page; `pageToken` is the `next` link of the previous page. */
  async page(pageToken: string | undefined, pageSize: number): Promise<StockLevelPage> {
    const operation = 'GET /inventory-level';
    const call: Pick<ShipBobCall, 'path' | 'query'> =
      pageToken === undefined
        ? { path: 'inventory-level', query: { PageSize: Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(pageSize))) } }
        : this.#client.followLink(operation, Buffer.from(pageToken, 'base64url').toString('utf8'));
    const body = await this.#client.json({ operation, method: 'GET', ...call }, InventoryLevelPage);
    const { levels, rejected } = readItems(body.items ?? [], `${operation}${pageToken === undefined ? '' : ` (page ${pageToken.slice(0, 24)}…)`}`);
    return {
      levels: levels.map(({ inventoryId: _id, ...level }) => level),
      rejected,
      ...(body.next ? { nextPageToken: Buffer.from(body.next, 'utf8').toString('base64url') } : {}),
    };
  }

  /** Current levels of these inventory ids (unknown ids are simply absent). */
  async byInventoryIds(ids: readonly number[]): Promise<StockLevel[]> {
    const levels: StockLevel[] = [];
    for (let start = 0; start < ids.length; start += IDS_PER_CALL) {
      const chunk = ids.slice(start, start + IDS_PER_CALL);
      const operation = 'GET /inventory-level';
      let call: Pick<ShipBobCall, 'path' | 'query'> | undefined = { path: 'inventory-level', query: { InventoryIds: chunk.join(','), PageSize: MAX_PAGE_SIZE } };
      while (call !== undefined) {
        const body: z.infer<typeof InventoryLevelPage> = await this.#client.json({ operation, method: 'GET', ...call }, InventoryLevelPage);
        const { levels: read, rejected } = readItems(body.items ?? [], operation);
        if (rejected.length > 0) throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: unexpected answer — item ${rejected[0]!.line}: ${rejected[0]!.reason}`, { system: SHIPBOB_SYSTEM, code: 'malformed-response' });
        levels.push(...read.map(({ inventoryId: _id, ...level }) => level));
        call = body.next ? this.#client.followLink(operation, body.next) : undefined;
      }
    }
    return levels;
  }

  /**
   * Inventory ids of these SKUs; PermanentError `unknown-sku` naming every SKU ShipBob does
   * not stock, or (`unknown: 'skip'`) those SKUs left out.
   */
  async inventoryIdsOf(skus: readonly string[], operation: string, options: { readonly unknown: 'throw' | 'skip' } = { unknown: 'throw' }): Promise<Map<string, number>> {
    let catalogue = await this.#catalogue(false);
    if (skus.some((sku) => !catalogue.bySku.has(sku))) catalogue = await this.#catalogue(true);
    const unknown = [...new Set(skus.filter((sku) => !catalogue.bySku.has(sku)))];
    if (options.unknown === 'skip') return new Map(skus.filter((sku) => catalogue.bySku.has(sku)).map((sku) => [sku, catalogue.bySku.get(sku)!]));
    if (unknown.length > 0) {
      throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: ShipBob stocks no product with SKU ${unknown.map((sku) => `"${sku}"`).join(', ')}`, {
        system: SHIPBOB_SYSTEM,
        code: 'unknown-sku',
      });
    }
    return new Map(skus.map((sku) => [sku, catalogue.bySku.get(sku)!]));
  }

  /** The SKU of an inventory id, from the catalogue (read again once when it is missing). */
  async skuOf(inventoryIds: readonly number[]): Promise<(inventoryId: number) => string | undefined> {
    let catalogue = await this.#catalogue(false);
    if (inventoryIds.some((id) => !catalogue.byId.has(id))) catalogue = await this.#catalogue(true);
    return (inventoryId) => catalogue.byId.get(inventoryId);
  }

  #catalogue(refresh: boolean): Promise<Catalogue> {
    return catalogues.get(this.#cacheKey, () => this.#load(), refresh);
  }

  async #load(): Promise<Catalogue> {
    const bySku = new Map<string, number>();
    const byId = new Map<number, string>();
    let token: string | undefined;
    for (let pages = 1; ; pages += 1) {
      const operation = 'GET /inventory-level';
      const call: Pick<ShipBobCall, 'path' | 'query'> = token === undefined ? { path: 'inventory-level', query: { PageSize: MAX_PAGE_SIZE } } : this.#client.followLink(operation, token);
      const body = await this.#client.json({ operation, method: 'GET', ...call }, InventoryLevelPage);
      // Items without a SKU cannot be ordered by SKU; they stay out of the catalogue.
      for (const { inventoryId, sku } of readItems(body.items ?? [], operation).levels) {
        bySku.set(sku, inventoryId);
        byId.set(inventoryId, sku);
      }
      if (!body.next) break;
      if (pages >= MAX_CATALOGUE_PAGES) {
        throw new PermanentError(`${SHIPBOB_SYSTEM} ${operation}: more than ${MAX_CATALOGUE_PAGES} pages of inventory`, { system: SHIPBOB_SYSTEM, code: 'too-many-results' });
      }
      token = body.next;
    }
    return { loadedAt: Date.now(), bySku, byId };
  }
}
