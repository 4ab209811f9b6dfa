/**
 * Reference data (items by SKU, currencies) kept per adapter for a while: an order needs the
 * internal ids of its items and currency, which change far more rarely than orders are made.
 * Only what NetSuite has is kept; a key it lacks is asked for again next time, so an item
 * created meanwhile is found.
 */

/** Values by key, each kept `ttlMs` after it was loaded. */
export class ReferenceData<Value> {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly loaded = new Map<string, { readonly value: Value; readonly until: number }>();

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.ttlMs = ttlMs;
    this.now = now;
  }

  /**
   * The values NetSuite has for `keys`: fresh ones from memory, the rest through one call of
   * `load` (which may answer more keys than asked, e.g. every currency at once).
   */
  async resolve(keys: Iterable<string>, load: (missing: readonly string[]) => Promise<ReadonlyMap<string, Value>>): Promise<Map<string, Value>> {
    const found = new Map<string, Value>();
    const missing: string[] = [];
    const now = this.now();
    for (const key of new Set(keys)) {
      const entry = this.loaded.get(key);
      if (entry !== undefined && entry.until > now) found.set(key, entry.value);
      else missing.push(key);
    }
    if (missing.length === 0) return found;
    const fresh = await load(missing);
    const until = this.now() + this.ttlMs;
    for (const [key, value] of fresh) {
      this.loaded.set(key, { value, until });
      if (missing.includes(key)) found.set(key, value);
    }
    return found;
  }
}
