/**
 * How the NetSuite sandbox checks who is calling, as NetSuite documents it:
 *
 * - OAuth 2.0 client credentials: `POST /services/rest/auth/oauth2/v1/token` with a JWT
 *   assertion whose signature verifies with the mapped certificate's public key (`kid` = the
 *   certificate id; PS256/384/512 or ES256/384/512 only), `iss` = the client id, `aud` = this
 *   token endpoint, `scope` naming `rest_webservices`, `exp` in the future and under an hour
 *   after `iat`. It answers `{access_token, expires_in: "3600", token_type: "Bearer"}`; the
 *   token is then sent as `Authorization: Bearer …` until it expires.
 * - TBA: `Authorization: OAuth realm=…` with an HMAC-SHA256 signature over the RFC 5849 base
 *   string, recomputed here from the request; a nonce may be used once per token and the
 *   timestamp must be within five minutes.
 */
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { verifyJwt } from '../../../functions/connectors/callbacks/jwt.ts';
import type { SandboxAnswer } from './responses.ts';
import type { NetsuiteStore } from './store.ts';

/** The token endpoint's path. */
export const TOKEN_PATH = '/services/rest/auth/oauth2/v1/token';

/** The algorithms NetSuite accepts for client assertions ("The Request Token Structure"). */
const ASSERTION_ALGORITHMS = new Set(['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);

/** How far a TBA timestamp may be from the sandbox's clock, and how long nonces are remembered. */
const TBA_CLOCK_SKEW_MS = 5 * 60_000;

/** The integration the sandbox accepts OAuth 2.0 client credentials for. */
export interface ClientCredentialsMapping {
  readonly clientId: string;
  readonly certificateId: string;
  /** The public part of the mapped certificate. */
  readonly publicKey: KeyObject;
}

/** The TBA credentials the sandbox accepts. */
export interface TokenBasedCredentials {
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly tokenId: string;
  readonly tokenSecret: string;
}

/** What authentication needs to know about the account. */
export interface AccountAuthentication {
  /** The account id as the TBA realm must spell it, e.g. `1234567_SB1`. */
  readonly realm: string;
  readonly clientCredentials: ClientCredentialsMapping;
  readonly tokenBased: TokenBasedCredentials;
  /** Seconds an access token lives. */
  readonly tokenLifetimeSeconds: number;
  readonly store: NetsuiteStore;
  readonly now: () => number;
}

/** An OAuth 2.0 error answer (RFC 6749 §5.2). */
function oauthError(status: number, error: string, description: string): SandboxAnswer {
  return { status, body: { error, error_description: description } };
}

/** Answers a token request: a bearer token for a valid client assertion, an OAuth error otherwise. */
export async function issueToken(account: AccountAuthentication, form: URLSearchParams, origin: string): Promise<SandboxAnswer> {
  if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return oauthError(400, 'invalid_request', 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  }
  const assertion = form.get('client_assertion') ?? '';
  let header: { alg?: unknown; typ?: unknown };
  try {
    header = JSON.parse(Buffer.from(assertion.split('.')[0] ?? '', 'base64url').toString('utf8')) as typeof header;
  } catch {
    return oauthError(400, 'invalid_request', 'client_assertion is not a JWT');
  }
  if (typeof header.alg !== 'string' || !ASSERTION_ALGORITHMS.has(header.alg)) {
    return oauthError(400, 'invalid_request', `client_assertion alg must be one of ${[...ASSERTION_ALGORITHMS].join(', ')}`);
  }
  const { clientId, certificateId, publicKey } = account.clientCredentials;
  const nowMs = account.now();
  const verified = await verifyJwt(assertion, {
    issuer: clientId,
    audience: `${origin}${TOKEN_PATH}`,
    keys: async (kid) => (kid === certificateId ? [{ kid, alg: undefined, key: publicKey }] : []),
    now: new Date(nowMs),
    leewaySeconds: 0,
  });
  if (!verified.valid) return oauthError(401, 'invalid_client', `client assertion refused: ${verified.reason}`);
  const { iat, exp } = verified.claims;
  if (iat === undefined || exp === undefined || exp - iat > 3600) return oauthError(400, 'invalid_request', 'exp must be less than 60 minutes after iat');
  const scope = verified.claims.scope;
  const scopes = typeof scope === 'string' ? scope.split(/[,\s]+/) : Array.isArray(scope) ? scope.map(String) : [];
  if (!scopes.includes('rest_webservices')) return oauthError(400, 'invalid_scope', 'scope must include rest_webservices');
  const token = `ns-sandbox-${randomBytes(32).toString('base64url')}`;
  account.store.transaction(() => account.store.issueToken(token, nowMs + account.tokenLifetimeSeconds * 1000, nowMs));
  return { status: 200, body: { access_token: token, expires_in: String(account.tokenLifetimeSeconds), token_type: 'Bearer' } };
}

/** RFC 3986 encoding as RFC 5849 §3.6 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Byte-order comparison (RFC 5849 §3.4.1.3.2 sorts by ascending byte value). */
function compareStrings(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The parameters of an `Authorization: OAuth k="v", …` header, decoded. */
function oauthHeaderParameters(header: string): Map<string, string> | undefined {
  const match = /^OAuth\s+(.*)$/is.exec(header.trim());
  if (match === null) return undefined;
  const parameters = new Map<string, string>();
  for (const part of match[1]!.split(',')) {
    const pair = /^\s*([A-Za-z_]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (pair === null) return undefined;
    try {
      parameters.set(pair[1]!, decodeURIComponent(pair[2]!));
    } catch {
      return undefined;
    }
  }
  return parameters;
}

/**
 * Whether a TBA request is signed by the account's token: realm, keys, method and version,
 * a fresh timestamp, an unused nonce, and the signature the sandbox computes itself from
 * the method, `http://<Host><path>` and every query and `oauth_` parameter.
 */
function tokenBasedValid(account: AccountAuthentication, header: string, method: string, host: string, url: URL): boolean {
  const parameters = oauthHeaderParameters(header);
  if (parameters === undefined) return false;
  const { consumerKey, consumerSecret, tokenId, tokenSecret } = account.tokenBased;
  const timestamp = Number(parameters.get('oauth_timestamp'));
  const nonce = parameters.get('oauth_nonce') ?? '';
  const signature = parameters.get('oauth_signature') ?? '';
  if (
    parameters.get('realm') !== account.realm ||
    parameters.get('oauth_consumer_key') !== consumerKey ||
    parameters.get('oauth_token') !== tokenId ||
    parameters.get('oauth_signature_method') !== 'HMAC-SHA256' ||
    (parameters.has('oauth_version') && parameters.get('oauth_version') !== '1.0') ||
    !/^[A-Za-z0-9]{6,64}$/.test(nonce) ||
    !Number.isInteger(timestamp) ||
    Math.abs(timestamp * 1000 - account.now()) > TBA_CLOCK_SKEW_MS
  ) {
    return false;
  }
  const signed = [...url.searchParams.entries(), ...[...parameters].filter(([name]) => name !== 'realm' && name !== 'oauth_signature')]
    .map(([name, value]) => [encode(name), encode(value)])
    .sort((left, right) => compareStrings(left[0]!, right[0]!) || compareStrings(left[1]!, right[1]!))
    .map(([name, value]) => `${name}=${value}`);
  const baseString = [method.toUpperCase(), encode(`http://${host.toLowerCase()}${url.pathname}`), encode(signed.join('&'))].join('&');
  const expected = createHmac('sha256', `${encode(consumerSecret)}&${encode(tokenSecret)}`).update(baseString).digest();
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  // Only a correctly signed request spends its nonce, so a forgery cannot burn the client's nonces.
  return account.store.transaction(() => account.store.useNonce(tokenId, nonce, account.now(), 2 * TBA_CLOCK_SKEW_MS));
}

/** Whether a REST request carries a valid bearer token or TBA signature. */
export function authenticated(account: AccountAuthentication, headers: IncomingHttpHeaders, method: string, url: URL): boolean {
  const header = headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer !== null) return account.store.tokenValid(bearer[1]!, account.now());
  return tokenBasedValid(account, header, method, headers.host ?? '', url);
}
