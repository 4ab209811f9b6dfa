/**
 * A module-level cache of values that are expensive to get and stay good for a while
 * (access tokens, the SKU catalogue, the list of fulfillment centers): shared by every
 * adapter of a warm Lambda, keyed by account, and loaded once when several callers ask at
 * the same time.
 */

/** One cache; `fresh` decides whether a cached value may still be used. */
export class SharedCache<Value> {
  readonly #values = new Map<string, Value>();
  readonly #loading = new Map<string, Promise<Value>>();
  readonly #fresh: (value: Value) => boolean;

  constructor(fresh: (value: Value) => boolean) {
    this.#fresh = fresh;
  }

  /** The cached value when fresh (and `reload` is false), else the result of `load`, shared with concurrent callers. */
  async get(key: string, load: () => Promise<Value>, reload = false): Promise<Value> {
    const cached = this.#values.get(key);
    if (!reload && cached !== undefined && this.#fresh(cached)) return cached;
    let pending = this.#loading.get(key);
    if (pending === undefined) {
      pending = load()
        .then((value) => {
          this.#values.set(key, value);
          return value;
        })
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, pending);
    }
    return pending;
  }

  /** Drops the value of `key` when `matches` says it is the one to drop. */
  forget(key: string, matches: (value: Value) => boolean = () => true): void {
    const cached = this.#values.get(key);
    if (cached !== undefined && matches(cached)) this.#values.delete(key);
  }

  /** Forgets everything (tests that must start cold). */
  clear(): void {
    this.#values.clear();
    this.#loading.clear();
  }
}
