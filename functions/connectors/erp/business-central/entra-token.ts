/**
 * Access tokens for the Business Central API from Microsoft Entra ID (OAuth 2.0 client
 * credentials, `POST {login}/{tenant}/oauth2/v2.0/token`, scope
 * `https://api.businesscentral.dynamics.com/.default`). Tokens live in a module-level
 * cache keyed by the credentials, so a warm Lambda reuses one across invocations until
 * shortly before it expires; concurrent callers share one request for it.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { credentialsKey, renewalTime, TokenCache } from '../../../core/token-cache.ts';
import { parseVendorJson, type VendorHttp } from '../../../core/vendor-http.ts';

/** The scope that asks Entra ID for every application permission granted on Business Central. */
export const BUSINESS_CENTRAL_SCOPE = 'https://api.businesscentral.dynamics.com/.default';

/** Who asks for tokens, and where. */
export interface EntraCredentials {
  /** e.g. `https://login.microsoftonline.com` (checked by the connector). */
  readonly loginUrl: URL;
  /** Directory (tenant) id or domain. */
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** @default BUSINESS_CENTRAL_SCOPE */
  readonly scope?: string;
}

/** A successful token response (Entra sends `expires_in` as a number; older endpoints as a string). */
const TokenResponse = z.object({
  token_type: z.string().regex(/^bearer$/i, 'expected "Bearer"'),
  expires_in: z.coerce.number().int().positive(),
  access_token: z.string().min(1),
});

/** Entra ID's error body (400/401): `error`, `error_description` with the AADSTS code, `error_codes`. */
const TokenError = z.object({
  error: z.string().min(1),
  error_description: z.string().optional(),
  error_codes: z.array(z.number()).optional(),
});

interface CachedToken {
  readonly accessToken: string;
  /** When to fetch a new one: shortly before Entra's expiry. */
  readonly refreshAt: number;
}

const tokens = new TokenCache<CachedToken>();

/** Seconds before expiry at which a token is replaced (never more than half its lifetime). */
const REFRESH_MARGIN_SECONDS = 300;

/** Forgets every cached token (tests that must start cold). */
export function clearEntraTokenCache(): void {
  tokens.clear();
}

/** One client's view of the shared token cache. */
export class EntraTokenSource {
  readonly #credentials: EntraCredentials;
  readonly #http: VendorHttp;
  readonly #key: string;
  readonly #now: () => number;

  constructor(credentials: EntraCredentials, http: VendorHttp, now: () => number = Date.now) {
    this.#credentials = credentials;
    this.#http = http;
    this.#now = now;
    this.#key = credentialsKey([credentials.loginUrl.href, credentials.tenantId, credentials.clientId, credentials.clientSecret, credentials.scope ?? BUSINESS_CENTRAL_SCOPE]);
  }

  /** A token valid for a while yet: the cached one, or a new one from Entra ID. */
  async accessToken(): Promise<string> {
    const token = await tokens.get(this.#key, (cached) => cached.refreshAt > this.#now(), () => this.#fetch());
    return token.accessToken;
  }

  /** Drops `accessToken` from the cache (the API refused it), unless a newer one replaced it already. */
  reject(accessToken: string): void {
    tokens.forget(this.#key, (cached) => cached.accessToken === accessToken);
  }

  async #fetch(): Promise<CachedToken> {
    const { loginUrl, tenantId, clientId, clientSecret } = this.#credentials;
    const operation = 'POST oauth2/v2.0/token';
    const body = new URLSearchParams({
      client_id: clientId,
      scope: this.#credentials.scope ?? BUSINESS_CENTRAL_SCOPE,
      client_secret: clientSecret,
      grant_type: 'client_credentials',
    }).toString();
    const issuedAt = this.#now();
    const response = await this.#http.request({
      operation,
      method: 'POST',
      url: new URL(`${encodeURIComponent(tenantId)}/oauth2/v2.0/token`, `${loginUrl.href.replace(/\/+$/, '')}/`),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
      passStatuses: [400, 401],
    });
    if (response.status !== 200 && response.status !== 201) {
      const failure = parseVendorJson(this.#http.system, operation, response.text, TokenError);
      const description = (failure.error_description ?? '').split(/\r?\n/)[0]!.trim();
      const what = failure.error === 'invalid_client' ? 'refused the client credentials' : 'refused the token request';
      throw new PermanentError(
        `${this.#http.system} auth: Microsoft Entra ID ${what} (${failure.error})${description === '' ? '' : ` — ${description}`}`,
        { system: this.#http.system, code: 'auth' },
      );
    }
    const token = parseVendorJson(this.#http.system, operation, response.text, TokenResponse);
    return { accessToken: token.access_token, refreshAt: renewalTime(issuedAt, token.expires_in, REFRESH_MARGIN_SECONDS) };
  }
}
