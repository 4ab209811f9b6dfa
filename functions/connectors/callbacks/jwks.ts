/**
 * The signing keys of the callback issuer, fetched from its JWKS URL and kept for a while:
 * reused across invocations of a warm function, refreshed after a TTL, and fetched again
 * at most once per cool-down when a token names a key id the cached set lacks (the issuer
 * rotated its keys), so forged key ids cannot make Harmony hammer the issuer.
 *
 * Source: RFC 7517 (JSON Web Key, the `keys` set), RFC 8725 §3.10 (do not trust key
 * material from the token), OpenID Connect Core §10.1.1 (rotation: fetch the set again
 * on an unknown `kid`).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import * as z from 'zod';
import { RetryableError } from '../../core/errors.ts';
import { checkOutboundUrl } from '../../core/outbound-url.ts';

/** Largest JWKS document read, in bytes. */
const MAX_JWKS_BYTES = 64 * 1024;

/** One usable public key of the set. */
export interface JsonWebKey {
  readonly kid: string | undefined;
  /** `alg` when the JWK pins one. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

const JwkEntry = z.looseObject({
  kty: z.string(),
  kid: z.string().optional(),
  alg: z.string().optional(),
  use: z.string().optional(),
  key_ops: z.array(z.string()).optional(),
  d: z.unknown().optional(),
});
const JwkSet = z.looseObject({ keys: z.array(z.unknown()).max(100) });

/**
 * The signature-verifying public keys of a JWKS document. Keys for other uses (`use: enc`),
 * symmetric keys (`kty: oct`) and any JWK carrying private material are left out.
 */
export function publicKeysOf(document: unknown): JsonWebKey[] {
  const parsed = JwkSet.safeParse(document);
  if (!parsed.success) throw new Error('JWKS: expected a JSON object with a "keys" array');
  const keys: JsonWebKey[] = [];
  for (const entry of parsed.data.keys) {
    const jwk = JwkEntry.safeParse(entry);
    if (!jwk.success) continue;
    const { kty, use, key_ops: operations, d } = jwk.data;
    if (!['RSA', 'EC', 'OKP'].includes(kty) || d !== undefined) continue;
    if (use !== undefined && use !== 'sig') continue;
    if (operations !== undefined && !operations.includes('verify')) continue;
    try {
      const key = createPublicKey({ key: entry as import('node:crypto').JsonWebKey, format: 'jwk' });
      keys.push({ kid: jwk.data.kid, alg: jwk.data.alg, key });
    } catch {
      // A key Node cannot import cannot verify anything; the others still can.
    }
  }
  return keys;
}

/** Options of the key cache. */
export interface JwksCacheOptions {
  /** The issuer's JWKS URL; checked as an outbound URL (https, or http to loopback). */
  readonly url: string;
  /** The setting to name in errors. @default 'CALLBACK_JWKS_URL' */
  readonly setting?: string;
  /** How long a fetched set is used before it is fetched again. @default 10 minutes */
  readonly ttlMs?: number;
  /** Least time between two fetches caused by unknown key ids. @default 30 seconds */
  readonly refetchCooldownMs?: number;
  /** Time limit of one fetch. @default 5 seconds */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** The issuer's keys, cached. */
export class JwksCache {
  readonly #url: URL;
  readonly #setting: string;
  readonly #ttlMs: number;
  readonly #cooldownMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #keys: readonly JsonWebKey[] | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<readonly JsonWebKey[]> | undefined;
  /** Fetches made, for tests and logs. */
  fetches = 0;

  constructor(options: JwksCacheOptions) {
    this.#setting = options.setting ?? 'CALLBACK_JWKS_URL';
    this.#url = checkOutboundUrl(this.#setting, options.url);
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
    this.#cooldownMs = options.refetchCooldownMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The keys that may have signed a token with this `kid` (all keys when the token names none).
   * Fetches the set when it is missing or stale, and once more when `kid` is not in it and the
   * last fetch attempt is older than the cool-down. Throws RetryableError when the issuer cannot be reached
   * and no earlier set is at hand.
   */
  async candidates(kid: string | undefined): Promise<readonly JsonWebKey[]> {
    const now = this.#now();
    const stale = this.#keys === undefined || now - this.#fetchedAt > this.#ttlMs;
    // While the issuer is down, a stale set is used and the fetch retried only once per cool-down.
    const mayFetch = this.#keys === undefined || now - this.#attemptedAt > this.#cooldownMs;
    let keys = stale && mayFetch ? await this.#refresh() : this.#keys!;
    const matching = (set: readonly JsonWebKey[]) => (kid === undefined ? set : set.filter((key) => key.kid === kid));
    if (matching(keys).length === 0 && kid !== undefined && this.#now() - this.#attemptedAt > this.#cooldownMs) {
      keys = await this.#refresh();
    }
    return matching(keys);
  }

  async #refresh(): Promise<readonly JsonWebKey[]> {
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    try {
      return await this.#inFlight;
    } catch (error) {
      // A stale set beats none while the issuer is down: its keys were genuine when fetched.
      if (this.#keys !== undefined) return this.#keys;
      throw error;
    }
  }

  async #fetch(): Promise<readonly JsonWebKey[]> {
    this.fetches += 1;
    this.#attemptedAt = this.#now();
    let response: Response;
    try {
      // No redirects: a redirect could lead where the URL check would not have allowed.
      response = await fetch(this.#url, {
        redirect: 'error',
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new RetryableError(`${this.#setting}: the JWKS could not be fetched: ${(error as Error).message}`, {
        system: 'jwks',
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      throw new RetryableError(`${this.#setting}: the JWKS answered ${response.status}`, { system: 'jwks', code: String(response.status) });
    }
    if (Buffer.byteLength(text) > MAX_JWKS_BYTES) {
      throw new RetryableError(`${this.#setting}: the JWKS is larger than ${MAX_JWKS_BYTES} bytes`, { system: 'jwks' });
    }
    let keys: JsonWebKey[];
    try {
      keys = publicKeysOf(JSON.parse(text));
    } catch (error) {
      throw new RetryableError(`${this.#setting}: the JWKS is not a JSON Web Key Set: ${(error as Error).message}`, {
        system: 'jwks',
        cause: error,
      });
    }
    this.#keys = keys;
    this.#fetchedAt = this.#now();
    return keys;
  }
}
