/**
 * Who may call the ShipBob sandbox: Personal Access Tokens (they never expire) and OAuth
 * 2.0 access tokens from `POST /connect/token` with `grant_type=refresh_token` — an hour
 * each, and every refresh spends the refresh token and hands out a new one, as ShipBob's
 * IdentityServer does. Token errors are RFC 6749's `{"error":"invalid_grant"}`.
 */
import { randomBytes } from 'node:crypto';
import { ok, unauthorized, type Answer } from './responses.ts';
import type { WarehouseStore } from './store.ts';

/** The one OAuth app the sandbox knows, and the refresh token its install produced. */
export interface OAuthApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/** Issues and checks tokens. */
export class Identity {
  readonly #store: WarehouseStore;
  readonly #personalAccessTokens: ReadonlySet<string>;
  readonly #app: OAuthApp | undefined;
  readonly #lifetimeSeconds: number;

  constructor(store: WarehouseStore, personalAccessTokens: readonly string[], app: OAuthApp | undefined, lifetimeSeconds: number) {
    this.#store = store;
    this.#personalAccessTokens = new Set(personalAccessTokens);
    this.#app = app;
    this.#lifetimeSeconds = lifetimeSeconds;
    // The install's refresh token is valid until its first use (kept across restarts once spent).
    if (app !== undefined) store.transaction(() => store.putToken(app.refreshToken, 'refresh', Number.MAX_SAFE_INTEGER));
  }

  /** Undefined when the bearer token may call the API, else the 401 to answer. */
  rejection(authorization: string | undefined): Answer | undefined {
    const token = /^bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) return unauthorized('The Authorization header is missing or not a bearer token');
    if (this.#personalAccessTokens.has(token)) return undefined;
    const issued = this.#store.token(token);
    if (issued === undefined || issued.kind !== 'access') return unauthorized('The access token is invalid');
    if (issued.expiresAt <= Date.now()) return unauthorized('The access token expired');
    return undefined;
  }

  /** `POST /connect/token` (form-encoded). */
  token(form: URLSearchParams): Answer {
    const error = (code: string, description?: string): Answer => ({ status: 400, body: { error: code, ...(description === undefined ? {} : { error_description: description }) } });
    const app = this.#app;
    if (app === undefined || form.get('client_id') !== app.clientId || form.get('client_secret') !== app.clientSecret) return error('invalid_client');
    if (form.get('grant_type') !== 'refresh_token') return error('unsupported_grant_type');
    const presented = form.get('refresh_token') ?? '';
    const stored = this.#store.token(presented);
    if (stored === undefined || stored.kind !== 'refresh' || stored.spent) return error('invalid_grant');
    const accessToken = `sbat_${randomBytes(24).toString('base64url')}`;
    const refreshToken = `sbrt_${randomBytes(24).toString('base64url')}`;
    this.#store.transaction(() => {
      this.#store.spendToken(presented);
      this.#store.putToken(accessToken, 'access', Date.now() + this.#lifetimeSeconds * 1000);
      this.#store.putToken(refreshToken, 'refresh', Date.now() + 30 * 24 * 3600 * 1000);
    });
    return ok({
      access_token: accessToken,
      expires_in: this.#lifetimeSeconds,
      token_type: 'Bearer',
      refresh_token: refreshToken,
      scope: 'orders_read orders_write inventory_read returns_read returns_write fulfillments_read channels_read offline_access',
    });
  }

  /** Every access token issued so far stops working. */
  expireAccessTokens(): void {
    this.#store.transaction(() => this.#store.expireAccessTokens());
  }
}
