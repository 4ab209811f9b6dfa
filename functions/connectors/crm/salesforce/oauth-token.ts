/**
 * Access tokens from Salesforce's token endpoint, `POST <login URL>/services/oauth2/token`,
 * by one of two server-to-server flows:
 *
 * - client credentials (`grant_type=client_credentials`, `client_id`, `client_secret`): the
 *   connected app runs as its configured "Run As" user;
 * - JWT bearer (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `assertion`): a
 *   signed assertion naming the user (see jwt-bearer-assertion.ts).
 *
 * The answer carries `access_token` and `instance_url` (where the org's REST API lives) but no
 * lifetime: Salesforce ends a session after the org's or app's session timeout, and says so
 * with 401 `INVALID_SESSION_ID`. So a token is kept until it is refused; tokens live in a
 * module-level cache keyed by the credentials, so every invocation of a warm Lambda reuses
 * one, and concurrent callers share one token request.
 */
import type { KeyObject } from 'node:crypto';
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import { credentialsKey, TokenCache } from '../../../core/token-cache.ts';
import { parseVendorJson, type VendorHttp } from '../../../core/vendor-http.ts';
import { jwtBearerAssertion, readRsaPrivateKey } from './jwt-bearer-assertion.ts';
import { OAuthErrorBody, SYSTEM } from './vendor-errors.ts';

/** The token endpoint's path under the login URL. */
export const TOKEN_PATH = '/services/oauth2/token';

/** The grant type of the JWT bearer flow (RFC 7523). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Credentials of one of the two flows. */
export type SalesforceCredentials =
  | { readonly flow: 'client-credentials'; readonly clientId: string; readonly clientSecret: string }
  | { readonly flow: 'jwt-bearer'; readonly clientId: string; readonly username: string; readonly privateKey: string };

/** A usable session: the token and the org's API host. */
export interface SalesforceSession {
  readonly accessToken: string;
  /** The org's instance, e.g. `https://acme.my.salesforce.com` (from the token answer, checked like a setting). */
  readonly instanceUrl: string;
}

/** A successful token answer (extra fields — `signature`, `scope`, `issued_at`, `token_format` — are not needed). */
const TokenAnswer = z.looseObject({
  access_token: z.string().min(1),
  instance_url: z.string().min(1),
  id: z.string().optional(),
  token_type: z.string().regex(/^bearer$/i, 'expected "Bearer"').optional(),
});

const sessions = new TokenCache<SalesforceSession>();

/** Forgets every cached session (tests that must start cold). */
export function clearSalesforceSessions(): void {
  sessions.clear();
}

/** One client's view of the shared session cache. */
export class SalesforceTokenSource {
  readonly #tokenUrl: URL;
  readonly #audience: string;
  readonly #credentials: SalesforceCredentials;
  readonly #key: KeyObject | undefined;
  readonly #http: VendorHttp;
  readonly #cacheKey: string;
  readonly #now: () => number;

  /**
   * @param loginUrl checked already (`SALESFORCE_LOGIN_URL`)
   * @param http the client's VendorHttp (timeouts, rate budget, 5xx/429 classification)
   */
  constructor(loginUrl: URL, credentials: SalesforceCredentials, http: VendorHttp, now: () => number = Date.now) {
    this.#tokenUrl = new URL(TOKEN_PATH, loginUrl);
    this.#audience = loginUrl.origin;
    this.#credentials = credentials;
    this.#key = credentials.flow === 'jwt-bearer' ? readRsaPrivateKey(credentials.privateKey) : undefined;
    this.#http = http;
    this.#now = now;
    this.#cacheKey = credentialsKey([this.#tokenUrl.href, credentials]);
  }

  /** How the flow is named in messages. */
  get flowName(): string {
    return this.#credentials.flow === 'client-credentials' ? 'OAuth 2.0 client credentials flow' : 'OAuth 2.0 JWT bearer flow';
  }

  /** The cached session, or a new one from the token endpoint. */
  session(): Promise<SalesforceSession> {
    // No lifetime is given: a session is good until Salesforce refuses it.
    return sessions.get(this.#cacheKey, () => true, () => this.#requestToken());
  }

  /** Salesforce refused `session`'s token: forget it, unless a newer one replaced it already. */
  reject(session: SalesforceSession): void {
    sessions.forget(this.#cacheKey, (cached) => cached.accessToken === session.accessToken);
  }

  async #requestToken(): Promise<SalesforceSession> {
    const operation = 'POST oauth2/token';
    const credentials = this.#credentials;
    const form: Record<string, string> =
      credentials.flow === 'client-credentials'
        ? { grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret }
        : {
            grant_type: JWT_BEARER_GRANT,
            assertion: jwtBearerAssertion(
              { clientId: credentials.clientId, username: credentials.username, audience: this.#audience },
              this.#key!,
              Math.floor(this.#now() / 1000),
            ),
          };
    const response = await this.#http.request({
      operation,
      method: 'POST',
      url: this.#tokenUrl,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      passStatuses: [400, 401, 403],
    });
    if (response.status >= 400) throw this.#refusal(response.status, response.text);
    const answer = parseVendorJson(SYSTEM, operation, response.text, TokenAnswer);
    let instanceUrl: string;
    try {
      instanceUrl = checkOutboundUrl('instance_url', answer.instance_url).origin;
    } catch (error) {
      throw new PermanentError(`${SYSTEM} ${operation}: the token answer's ${(error as Error).message}`, { system: SYSTEM, code: 'malformed-response' });
    }
    return { accessToken: answer.access_token, instanceUrl };
  }

  /** The PermanentError for a refused token request, naming the flow and the secrets to check. */
  #refusal(status: number, text: string): PermanentError {
    let reason = `HTTP ${status}`;
    try {
      const body = OAuthErrorBody.safeParse(JSON.parse(text));
      if (body.success) reason = `${body.data.error}${body.data.error_description === undefined ? '' : ` — ${body.data.error_description}`}`;
    } catch {
      if (text.trim() !== '') reason = `HTTP ${status} — ${text.slice(0, 200)}`;
    }
    const check =
      this.#credentials.flow === 'client-credentials'
        ? 'SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and the connected app\'s "Run As" user'
        : 'SALESFORCE_CLIENT_ID, SALESFORCE_USERNAME, SALESFORCE_PRIVATE_KEY (its certificate on the connected app) and SALESFORCE_LOGIN_URL (the assertion\'s audience)';
    return new PermanentError(`${SYSTEM} auth: Salesforce refused the ${this.flowName} (${reason}); check ${check}`, { system: SYSTEM, code: 'auth' });
  }
}
