/**
 * OAuth 2.0 client-credentials tokens for S/4HANA's OData services: `POST` to the token
 * URL of the communication arrangement (on premise `/sap/bc/sec/oauth2/token?sap-client=…`,
 * or the BTP XSUAA `…/oauth/token`) with the client authenticated by HTTP Basic and
 * `grant_type=client_credentials` (plus `scope` where the system wants one). The AS ABAP
 * token service sends `expires_in` as a string, XSUAA as a number: both are read.
 *
 * Tokens live in the shared module-level TokenCache keyed by the credentials, so a warm
 * Lambda reuses one across invocations until shortly before it expires; callers asking at
 * the same time share one request; a token SAP refuses (401) is dropped so the next call
 * fetches anew.
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { credentialsKey, renewalTime, TokenCache } from '../../../core/token-cache.ts';
import { parseVendorJson, type VendorHttp } from '../../../core/vendor-http.ts';

/** Who asks for tokens, and where. */
export interface SapOAuthCredentials {
  /** The token endpoint (checked by the connector). */
  readonly tokenUrl: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated scopes, when the OAuth server requires them (on-premise SOAUTH2 clients). */
  readonly scope?: string | undefined;
}

const TokenAnswer = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i, 'expected "Bearer"'),
  expires_in: z.coerce.number().int().positive(),
});

/** RFC 6749 §5.2 error answer. */
const TokenRefusal = z.object({ error: z.string().min(1), error_description: z.string().optional() });

interface HeldToken {
  readonly value: string;
  /** Epoch ms after which the token is replaced before use. */
  readonly replaceAfter: number;
}

const tokens = new TokenCache<HeldToken>();

/** Forgets every cached token (tests that must start cold). */
export function clearSapTokenCache(): void {
  tokens.clear();
}

/** Seconds before expiry at which a token is replaced (never more than half its lifetime). */
const RENEWAL_MARGIN_SECONDS = 300;

/** One set of credentials' view of the shared cache. */
export class SapOAuthTokenSource {
  readonly #credentials: SapOAuthCredentials;
  readonly #http: VendorHttp;
  readonly #key: string;
  readonly #clock: () => number;

  constructor(credentials: SapOAuthCredentials, http: VendorHttp, clock: () => number = Date.now) {
    this.#credentials = credentials;
    this.#http = http;
    this.#clock = clock;
    this.#key = credentialsKey([credentials.tokenUrl.href, credentials.clientId, credentials.clientSecret, credentials.scope ?? '']);
  }

  /** A bearer token that is not about to expire. */
  async token(): Promise<string> {
    const held = await tokens.get(this.#key, (token) => this.#clock() < token.replaceAfter, () => this.#request());
    return held.value;
  }

  /** Drops `token` because SAP refused it; a token fetched meanwhile by another caller stays. */
  discard(token: string): void {
    tokens.forget(this.#key, (held) => held.value === token);
  }

  async #request(): Promise<HeldToken> {
    const { tokenUrl, clientId, clientSecret, scope } = this.#credentials;
    const operation = 'POST oauth2/token';
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== undefined && scope.trim() !== '') form.set('scope', scope.trim());
    const startedAt = this.#clock();
    const response = await this.#http.request({
      operation,
      method: 'POST',
      url: tokenUrl,
      headers: {
        Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: form.toString(),
      passStatuses: [400, 401],
    });
    if (response.status === 400 || response.status === 401) {
      const refusal = parseVendorJson(this.#http.system, operation, response.text, TokenRefusal);
      throw new PermanentError(
        `${this.#http.system} auth: the OAuth server at ${tokenUrl.origin} refused the client credentials (${refusal.error}${refusal.error_description === undefined ? '' : `: ${refusal.error_description}`}); check SAP_CLIENT_ID, SAP_CLIENT_SECRET and SAP_OAUTH_SCOPE`,
        { system: this.#http.system, code: 'auth' },
      );
    }
    const answer = parseVendorJson(this.#http.system, operation, response.text, TokenAnswer);
    return { value: answer.access_token, replaceAfter: renewalTime(startedAt, answer.expires_in, RENEWAL_MARGIN_SECONDS) };
  }
}
