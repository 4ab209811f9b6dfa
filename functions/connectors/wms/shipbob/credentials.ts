/**
 * How the ShipBob client proves who it is. A Personal Access Token (ShipBob's choice for a
 * single-merchant integration; it does not expire) is sent as it is. OAuth 2.0 (for apps
 * installed by a merchant) trades the refresh token from the install for access tokens at
 * `{auth}/connect/token` (`grant_type=refresh_token`); access tokens live an hour, and each
 * refresh returns a new refresh token, which is kept (state store) and used next time.
 * Access tokens live in a module-level cache keyed by the credentials, so a warm Lambda
 * reuses one across invocations; concurrent callers share one token request.
 */
import { createHash } from 'node:crypto';
import { PermanentError } from '../../../core/errors.ts';
import { parseVendorJson, type VendorHttp } from '../../../core/vendor-http.ts';
import { SHIPBOB_SYSTEM } from './mapping.ts';
import { SharedCache } from './shared-cache.ts';
import type { StateStore } from './state-store.ts';
import { TokenAnswer, TokenError } from './vendor-shapes.ts';

/** Gives the bearer token for the next call; told when ShipBob refused one. */
export interface ShipBobCredentials {
  /** `pat` tokens cannot be renewed: a refusal is final. */
  readonly kind: 'pat' | 'oauth';
  accessToken(): Promise<string>;
  /** Forgets `token` (ShipBob answered 401 to it), unless a newer one replaced it already. */
  reject(token: string): void;
}

/** A Personal Access Token. */
export function personalAccessToken(token: string): ShipBobCredentials {
  return { kind: 'pat', accessToken: () => Promise.resolve(token), reject: () => undefined };
}

/** What OAuth needs: the app's client and the refresh token the merchant's install gave. */
export interface OAuthClient {
  /** e.g. `https://auth.shipbob.com` (checked by the connector). */
  readonly authUrl: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The refresh token from the install; superseded by each rotated one kept in `store`. */
  readonly refreshToken: string;
  /** The app's registered callback, which ShipBob's token endpoint expects with every grant. */
  readonly redirectUri?: string;
}

interface CachedToken {
  readonly accessToken: string;
  readonly refreshAt: number;
}

const tokens = new SharedCache<CachedToken>((token) => token.refreshAt > Date.now());

/** Seconds before expiry at which a token is replaced (never more than half its lifetime). */
const REFRESH_MARGIN_SECONDS = 300;

/** Forgets every cached access token (tests that must start cold). */
export function clearShipBobTokenCache(): void {
  tokens.clear();
}

/** OAuth 2.0 access tokens by refresh-token grant, with rotation. */
export function oauthRefreshToken(client: OAuthClient, http: VendorHttp, store: StateStore): ShipBobCredentials {
  const key = createHash('sha256').update([client.authUrl.href, client.clientId, client.clientSecret, client.refreshToken].join('\n')).digest('hex');
  const storeKey = `shipbob:refresh-token:${key}`;

  /**
   * Another instance may have spent the refresh token between our read and our request:
   * ShipBob then says invalid_grant, and the store holds the newer one, tried once.
   */
  const fetchToken = async (): Promise<CachedToken> => {
    const tried = (await store.load(storeKey)) ?? client.refreshToken;
    try {
      return await refresh(tried);
    } catch (error) {
      const latest = await store.load(storeKey);
      if (!(error instanceof PermanentError) || !error.message.includes('(invalid_grant)') || latest === undefined || latest === tried) throw error;
      return refresh(latest);
    }
  };

  const refresh = async (refreshToken: string): Promise<CachedToken> => {
    const operation = 'POST connect/token';
    const issuedAt = Date.now();
    const response = await http.request({
      operation,
      method: 'POST',
      url: new URL('connect/token', `${client.authUrl.href.replace(/\/+$/, '')}/`),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        refresh_token: refreshToken,
        ...(client.redirectUri === undefined ? {} : { redirect_uri: client.redirectUri }),
      }).toString(),
      passStatuses: [400, 401],
    });
    if (response.status === 400 || response.status === 401) {
      const failure = parseVendorJson(SHIPBOB_SYSTEM, operation, response.text, TokenError);
      const what = failure.error === 'invalid_client' ? 'refused the client credentials' : failure.error === 'invalid_grant' ? 'refused the refresh token (spent, revoked or older than 30 days: reinstall the app)' : 'refused the token request';
      throw new PermanentError(`${SHIPBOB_SYSTEM} auth: ShipBob ${what} (${failure.error})${failure.error_description ? ` — ${failure.error_description}` : ''}`, {
        system: SHIPBOB_SYSTEM,
        code: 'auth',
      });
    }
    const answer = parseVendorJson(SHIPBOB_SYSTEM, operation, response.text, TokenAnswer);
    // The old refresh token is spent: keep the new one before anything else can fail.
    if (answer.refresh_token !== undefined && answer.refresh_token !== refreshToken) await store.save(storeKey, answer.refresh_token);
    const margin = Math.min(REFRESH_MARGIN_SECONDS, answer.expires_in / 2);
    return { accessToken: answer.access_token, refreshAt: issuedAt + (answer.expires_in - margin) * 1000 };
  };

  return {
    kind: 'oauth',
    accessToken: async () => (await tokens.get(key, fetchToken)).accessToken,
    reject: (token) => tokens.forget(key, (cached) => cached.accessToken === token),
  };
}
