/**
 * Reference data an adapter looks up on every order (product ids by SKU, currencies,
 * countries, custom field keys), kept for a while: it changes far more rarely than orders
 * are made, and each lookup is a vendor call. A value is kept `ttlMs` after it was loaded;
 * a key the vendor lacks is not kept (unless the adapter caches the absence as a value),
 * so a record created meanwhile is found next time.
 */

/** Values by key, each kept `ttlMs` after it was loaded. */
export class ReferenceCache<Value> {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { readonly value: Value; readonly until: number }>();

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The value loaded for `key`, unless it has expired. */
  get(key: string): Value | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` for `key` from now on. */
  set(key: string, value: Value): void {
    this.#entries.set(key, { value, until: this.#now() + this.#ttlMs });
  }

  /** Forgets everything (the vendor said a cached value is stale). */
  clear(): void {
    this.#entries.clear();
  }

  /**
   * The values for `keys`: fresh ones from memory, the rest through one call of `load`
   * (which may answer more keys than asked, e.g. every currency at once; all are kept).
   * Keys `load` does not answer are absent from the result.
   */
  async resolve(keys: Iterable<string>, load: (missing: readonly string[]) => Promise<ReadonlyMap<string, Value>>): Promise<Map<string, Value>> {
    const found = new Map<string, Value>();
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const value = this.get(key);
      if (value !== undefined) found.set(key, value);
      else missing.push(key);
    }
    if (missing.length === 0) return found;
    const fresh = await load(missing);
    for (const [key, value] of fresh) {
      this.set(key, value);
      if (missing.includes(key)) found.set(key, value);
    }
    return found;
  }
}
