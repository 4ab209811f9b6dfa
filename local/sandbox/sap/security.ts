/**
 * Who may call the SAP sandbox, and the CSRF protection of its security sessions.
 *
 * - Logon: basic auth with the communication user, or a bearer token from the OAuth
 *   token endpoint (`POST /sap/bc/sec/oauth2/token`, client credentials with the client
 *   authenticated by HTTP Basic or in the form; opaque tokens, `expires_in` as a string as
 *   AS ABAP sends it). `sap-client` must name the sandbox's client when given.
 * - Sessions: every logged-on call without a valid `SAP_SESSIONID_<SID>_<client>` cookie
 *   gets a new session and the cookie. `x-csrf-token: Fetch` on a GET gives the session's
 *   token (and the `sap-XSRF_<SID>_<client>` cookie); a modifying call must send that
 *   token with the session's cookies, else 403 `x-csrf-token: Required`. Sessions live in
 *   memory: `expireSessions` (and a restart) ends them all.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SandboxAnswer } from './responses.ts';
import type { SapStore } from './store.ts';

/** Sessions kept before the oldest is dropped. */
const MAX_SESSIONS = 10_000;

/** The sandbox's users and system identity. */
export interface SecurityOptions {
  /** Three-letter system id in cookie names and realms, e.g. `S4H`. */
  readonly systemId: string;
  /** The one client (`sap-client`) the sandbox has. */
  readonly client: string;
  readonly username: string;
  readonly password: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Seconds an access token lives. */
  readonly tokenLifetimeSeconds: number;
}

/** A security session: the logged-on identity and its CSRF token once fetched. */
interface Session {
  readonly user: string;
  csrfToken?: string;
}

/** What the logon decided for one request. */
export type Logon = { readonly user: string } | { readonly refused: 'password' | 'token' | 'client' };

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function basicPair(authorization: string | undefined): { id: string; secret: string } | undefined {
  if (authorization?.startsWith('Basic ') !== true) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

function cookies(header: string | undefined): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0) jar.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  return jar;
}

/** Logon, OAuth tokens and CSRF sessions of one sandbox. */
export class SapSecurity {
  readonly #options: SecurityOptions;
  readonly #store: SapStore;
  readonly #sessions = new Map<string, Session>();

  constructor(options: SecurityOptions, store: SapStore) {
    this.#options = options;
    this.#store = store;
  }

  get #sessionCookie(): string {
    return `SAP_SESSIONID_${this.#options.systemId}_${this.#options.client}`;
  }

  get #xsrfCookie(): string {
    return `sap-XSRF_${this.#options.systemId}_${this.#options.client}`;
  }

  /** Answers the token endpoint (`grant_type=client_credentials`). */
  issueToken(form: URLSearchParams, authorization: string | undefined): SandboxAnswer {
    const refuse = (status: number, error: string, description: string): SandboxAnswer => ({ status, headers: { 'cache-control': 'no-store' }, body: { error, error_description: description } });
    const basic = basicPair(authorization);
    const id = basic === undefined ? form.get('client_id') ?? '' : decodeURIComponent(basic.id);
    const secret = basic === undefined ? form.get('client_secret') ?? '' : decodeURIComponent(basic.secret);
    const grant = form.get('grant_type');
    if (grant === null) return refuse(400, 'invalid_request', 'Parameter grant_type is missing');
    if (grant !== 'client_credentials') return refuse(400, 'unsupported_grant_type', `Grant type ${grant} is not supported`);
    if (!same(id, this.#options.clientId) || !same(secret, this.#options.clientSecret)) return refuse(401, 'invalid_client', 'Client authentication failed');
    const token = randomBytes(24).toString('base64url');
    this.#store.transaction(() => this.#store.saveToken(tokenHash(token), Date.now() + this.#options.tokenLifetimeSeconds * 1000));
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: { access_token: token, token_type: 'Bearer', expires_in: String(this.#options.tokenLifetimeSeconds), scope: 'API_SALES_ORDER_SRV_0001 API_BUSINESS_PARTNER_0001' },
    };
  }

  /** Checks `sap-client` and the Authorization header. */
  logon(headers: IncomingHttpHeaders, sapClient: string | null): Logon {
    if (sapClient !== null && sapClient !== this.#options.client) return { refused: 'client' };
    const authorization = headers.authorization;
    if (authorization?.startsWith('Bearer ') === true) {
      const expiry = this.#store.tokenExpiry(tokenHash(authorization.slice(7).trim()));
      return expiry !== undefined && expiry > Date.now() ? { user: `oauth:${this.#options.clientId}` } : { refused: 'token' };
    }
    const basic = basicPair(authorization);
    if (basic !== undefined && same(basic.id.toUpperCase(), this.#options.username.toUpperCase()) && same(basic.secret, this.#options.password)) {
      return { user: this.#options.username.toUpperCase() };
    }
    return { refused: 'password' };
  }

  /**
   * The CSRF side of a logged-on call: whether a modifying call may run, and the
   * headers (cookies, fetched token) its answer carries.
   */
  session(user: string, headers: IncomingHttpHeaders, method: string): { readonly allowed: boolean; readonly headers: Record<string, string | string[]> } {
    const jar = cookies(headers.cookie);
    const id = jar.get(this.#sessionCookie);
    let session = id === undefined ? undefined : this.#sessions.get(id);
    const answer: Record<string, string | string[]> = {};
    const setCookies: string[] = [];
    if (session !== undefined && session.user !== user) session = undefined;
    const modifying = method !== 'GET' && method !== 'HEAD';
    if (modifying) {
      const given = headers['x-csrf-token'];
      const allowed = session?.csrfToken !== undefined && typeof given === 'string' && same(given, session.csrfToken) && jar.get(this.#xsrfCookie) === this.#xsrfValue(session.csrfToken);
      return { allowed, headers: allowed ? {} : { 'x-csrf-token': 'Required' } };
    }
    let sessionId = id;
    if (session === undefined) {
      sessionId = randomBytes(24).toString('base64url');
      session = { user };
      this.#sessions.set(sessionId, session);
      // Callers that never send cookies open a session per call: keep the newest only.
      if (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
      setCookies.push(`${this.#sessionCookie}=${sessionId}; path=/; HttpOnly`);
    }
    if (typeof headers['x-csrf-token'] === 'string' && headers['x-csrf-token'].toLowerCase() === 'fetch') {
      session.csrfToken ??= randomBytes(18).toString('base64');
      answer['x-csrf-token'] = session.csrfToken;
      setCookies.push(`${this.#xsrfCookie}=${this.#xsrfValue(session.csrfToken)}; path=/sap/opu/odata/; HttpOnly`);
    }
    if (setCookies.length > 0) answer['set-cookie'] = setCookies;
    return { allowed: true, headers: answer };
  }

  /** The XSRF cookie's value for a token (SAP compares header and cookie). */
  #xsrfValue(csrfToken: string): string {
    return createHash('sha256').update(`xsrf:${csrfToken}`).digest('base64url');
  }

  /** Ends every security session: every CSRF token is refused until fetched again. */
  expireSessions(): void {
    this.#sessions.clear();
  }

  /** Expires every OAuth access token issued so far. */
  expireTokens(): void {
    this.#store.transaction(() => this.#store.expireTokens());
  }
}
