/**
 * The access-token cache an OAuth adapter keeps at module level: one token per credentials,
 * so every invocation of a warm Lambda reuses it instead of asking the vendor again; one
 * request for a new one in flight per credentials, so concurrent callers share it; and a
 * token replaced shortly before the vendor says it expires, so a call never carries one that
 * dies on the way. How a token is requested, and what a token holds, stay with the adapter.
 */
import { createHash } from 'node:crypto';

/** Tokens by credentials key, each with at most one request for a new one under way. */
export class TokenCache<Token> {
  readonly #tokens = new Map<string, Token>();
  readonly #pending = new Map<string, Promise<Token>>();

  /**
   * The token cached for `key` while `usable(token)` says so; otherwise the request under way
   * for `key`, or a new one from `request` (given the unusable token, if any, e.g. for its
   * refresh token). A token `request` resolves with is cached; a rejection caches nothing.
   */
  async get(key: string, usable: (token: Token) => boolean, request: (stale: Token | undefined) => Promise<Token>): Promise<Token> {
    const cached = this.#tokens.get(key);
    if (cached !== undefined && usable(cached)) return cached;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = request(cached)
        .then((token) => {
          this.#tokens.set(key, token);
          return token;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** The token cached for `key`, usable or not. */
  peek(key: string): Token | undefined {
    return this.#tokens.get(key);
  }

  /** Replaces the token cached for `key` (e.g. marks a refused one stale but keeps its refresh token). */
  set(key: string, token: Token): void {
    this.#tokens.set(key, token);
  }

  /** Forgets the token cached for `key` when `refused(token)`: the vendor refused it, and no newer one replaced it yet. */
  forget(key: string, refused: (token: Token) => boolean): void {
    const cached = this.#tokens.get(key);
    if (cached !== undefined && refused(cached)) this.#tokens.delete(key);
  }

  /** Forgets every token and request (tests that must start cold). */
  clear(): void {
    this.#tokens.clear();
    this.#pending.clear();
  }
}

/** A cache key for credentials: a SHA-256 of their parts, so no secret is a Map key in memory dumps or logs. */
export function credentialsKey(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * When to replace a token issued at `issuedAt` (epoch ms) that lives `lifetimeSeconds`:
 * `marginSeconds` before it expires, but never earlier than half its lifetime.
 */
export function renewalTime(issuedAt: number, lifetimeSeconds: number, marginSeconds: number): number {
  return issuedAt + (lifetimeSeconds - Math.min(marginSeconds, lifetimeSeconds / 2)) * 1000;
}
