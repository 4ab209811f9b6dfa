/**
 * Pipedrive OAuth 2.0 access tokens from a refresh token (`POST {oauth}/oauth/token`,
 * `grant_type=refresh_token`, HTTP basic auth of client id and secret, form-encoded body).
 * Tokens live in a module-level cache keyed by the credentials, so a warm Lambda reuses one
 * across invocations until shortly before it expires; concurrent callers share one request.
 * The answer's `api_domain` (the company's own `https://<company>.pipedrive.com`) becomes the
 * API base, but only when it is a pipedrive.com host or the configured API URL: a token
 * answer must not be able to send the bearer token elsewhere.
 *
 * Sources: developers.pipedrive.com/docs/api/v1/Oauth ("Refreshing the tokens") and
 * pipedrive.readme.io/docs/marketplace-oauth-and-api-proxy-status-codes (400 messages).
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import { credentialsKey, renewalTime, TokenCache } from '../../../core/token-cache.ts';
import { parseVendorJson, type VendorHttp } from '../../../core/vendor-http.ts';

/** Who refreshes tokens, and where. */
export interface PipedriveOAuthCredentials {
  /** e.g. `https://oauth.pipedrive.com` (checked by the connector). */
  readonly oauthUrl: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/** A token and the API base it is for. */
export interface PipedriveSession {
  readonly accessToken: string;
  /** From the token answer's `api_domain`, else the configured API URL. */
  readonly apiUrl: URL;
}

/** The refresh answer; `expires_in` is a number in the docs, a string in the official SDK's tests. */
const TokenResponse = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i, { error: 'expected "Bearer"' }),
  expires_in: z.coerce.number().int().positive(),
  refresh_token: z.string().min(1).optional(),
  api_domain: z.string().min(1).optional(),
});

/** The refusal: `{success: false, message, error}` (e.g. `invalid_grant`). */
const TokenError = z.looseObject({ error: z.string().optional(), message: z.string().optional(), error_description: z.string().optional() });

interface CachedSession extends PipedriveSession {
  readonly refreshAt: number;
  /** The newest refresh token (Pipedrive may hand out a new one with each refresh). */
  readonly refreshToken: string;
}

const sessions = new TokenCache<CachedSession>();

/** Seconds before expiry at which a token is replaced (never more than half its lifetime). */
const REFRESH_MARGIN_SECONDS = 300;

/** Forgets every cached token (tests that must start cold). */
export function clearPipedriveTokenCache(): void {
  sessions.clear();
}

/** One adapter's view of the shared token cache. */
export class PipedriveOAuthTokens {
  readonly #credentials: PipedriveOAuthCredentials;
  readonly #http: VendorHttp;
  readonly #apiUrl: URL;
  readonly #key: string;
  readonly #now: () => number;

  /** @param apiUrl the configured API URL: the base when the answer has no `api_domain`, and an allowed one */
  constructor(credentials: PipedriveOAuthCredentials, http: VendorHttp, apiUrl: URL, now: () => number = Date.now) {
    this.#credentials = credentials;
    this.#http = http;
    this.#apiUrl = apiUrl;
    this.#now = now;
    this.#key = credentialsKey([credentials.oauthUrl.href, credentials.clientId, credentials.clientSecret, credentials.refreshToken, apiUrl.href]);
  }

  /** A token valid for a while yet: the cached one, or a fresh one. */
  session(): Promise<PipedriveSession> {
    return sessions.get(
      this.#key,
      (cached) => cached.refreshAt > this.#now(),
      (stale) => this.#refresh(stale?.refreshToken ?? this.#credentials.refreshToken),
    );
  }

  /** Marks `accessToken` as refused by the API (expired early, revoked), unless a newer one replaced it already. */
  reject(accessToken: string): void {
    // Its refresh token stays: Pipedrive may have replaced the configured one.
    const cached = sessions.peek(this.#key);
    if (cached?.accessToken === accessToken) sessions.set(this.#key, { ...cached, refreshAt: 0 });
  }

  async #refresh(refreshToken: string): Promise<CachedSession> {
    const { oauthUrl, clientId, clientSecret } = this.#credentials;
    const system = this.#http.system;
    const operation = 'POST oauth/token';
    const issuedAt = this.#now();
    const response = await this.#http.request({
      operation,
      method: 'POST',
      url: new URL('oauth/token', `${oauthUrl.href.replace(/\/+$/, '')}/`),
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
      passStatuses: [400, 401, 403],
    });
    if (response.status >= 400) {
      const refusal = parseVendorJson(system, operation, response.text, TokenError);
      const reason = [refusal.error, refusal.message ?? refusal.error_description].filter(Boolean).join(': ') || `HTTP ${response.status}`;
      throw new PermanentError(
        `${system} auth: Pipedrive OAuth refused to refresh the access token (${reason}); check the client id and secret, and renew the refresh token by installing the app again`,
        { system, code: 'auth' },
      );
    }
    const token = parseVendorJson(system, operation, response.text, TokenResponse);
    return {
      accessToken: token.access_token,
      apiUrl: token.api_domain === undefined ? this.#apiUrl : this.#allowedApiUrl(token.api_domain),
      refreshAt: renewalTime(issuedAt, token.expires_in, REFRESH_MARGIN_SECONDS),
      refreshToken: token.refresh_token ?? refreshToken,
    };
  }

  #allowedApiUrl(apiDomain: string): URL {
    const system = this.#http.system;
    let url: URL;
    try {
      url = checkOutboundUrl('api_domain', apiDomain);
    } catch (error) {
      throw new PermanentError(`${system} auth: the token answer's ${(error as Error).message}`, { system, code: 'auth' });
    }
    if (url.origin === this.#apiUrl.origin || (url.protocol === 'https:' && /(^|\.)pipedrive\.com$/i.test(url.hostname))) return url;
    throw new PermanentError(
      `${system} auth: the token answer's api_domain ${url.origin} is neither a pipedrive.com host nor PIPEDRIVE_API_URL (${this.#apiUrl.origin})`,
      { system, code: 'auth' },
    );
  }
}
