/**
 * NetSuite OAuth 2.0 client credentials (machine to machine): a JWT assertion signed with the
 * private key of the certificate mapped to the integration (`kid` = certificate id, PS256 for
 * RSA keys, ES256/384/512 for EC keys; `iss` = client id, `scope`, `aud` = the token
 * endpoint, `exp` under an hour after `iat`) is exchanged at
 * `/services/rest/auth/oauth2/v1/token` for a bearer token valid for 60 minutes ("The Request
 * Token Structure", "POST Request to the Token Endpoint and the Access Token Response").
 *
 * Tokens are cached per credentials at module level, so every invocation of a warm Lambda
 * reuses one until shortly before it expires; a 401 forgets it and the client fetches a new
 * one once.
 */
import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { credentialsKey, renewalTime, TokenCache } from '../../../core/token-cache.ts';
import { parseVendorJson, type VendorHttp } from '../../../core/vendor-http.ts';
import type { NetsuiteAuth } from './auth.ts';
import { describeNetsuiteFailure, SYSTEM } from './vendor-errors.ts';

/** The path of the token endpoint under the account's REST domain. */
export const TOKEN_PATH = '/services/rest/auth/oauth2/v1/token';

/** Seconds before a token's expiry at which it is replaced rather than used. */
const EXPIRY_MARGIN_SECONDS = 60;

/** Lifetime of the JWT assertion itself; NetSuite wants less than an hour. */
const ASSERTION_LIFETIME_SECONDS = 300;

/** What the client credentials flow needs. */
export interface ClientCredentials {
  /** The integration record's client id (the assertion's `iss`). */
  readonly clientId: string;
  /** The certificate id from the OAuth 2.0 Client Credentials (M2M) Setup mapping (the assertion's `kid`). */
  readonly certificateId: string;
  /** The certificate's private key, PEM (PKCS#8 or PKCS#1/SEC1). */
  readonly privateKey: string;
}

/** The access token response; `expires_in` comes as a string ("3600") or a number. */
const TokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).transform(Number),
  token_type: z.string().regex(/^bearer$/i, 'expected "Bearer"'),
});

interface CachedToken {
  readonly accessToken: string;
  /** When to fetch a new one (epoch milliseconds): shortly before NetSuite's expiry. */
  readonly refreshAt: number;
}

/** Tokens by credentials fingerprint, shared by every adapter in this process (one Lambda instance). */
const tokenCache = new TokenCache<CachedToken>();

/** Reads a PEM private key; env vars often carry it with literal `\n`. Throws naming the secret. */
export function readPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem);
  } catch (error) {
    throw new PermanentError(`NETSUITE_PRIVATE_KEY: not a PEM private key (${(error as Error).message})`, { system: SYSTEM, code: 'configuration', cause: error });
  }
}

/** The JWS algorithm NetSuite accepts for this key: PS256 for RSA, ES256/384/512 by the EC curve. */
export function assertionAlgorithm(key: KeyObject): 'PS256' | 'ES256' | 'ES384' | 'ES512' {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss') return 'PS256';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
  }
  throw new PermanentError(
    `NETSUITE_PRIVATE_KEY: NetSuite signs client assertions with RSA (PS256) or EC P-256/384/521 (ES256/384/512) keys, not ${type ?? 'this key'}`,
    { system: SYSTEM, code: 'configuration' },
  );
}

/** The signed client assertion for one token request. */
export function clientAssertion(credentials: Omit<ClientCredentials, 'privateKey'>, key: KeyObject, audience: string, nowSeconds: number): string {
  const alg = assertionAlgorithm(key);
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ typ: 'JWT', alg, kid: credentials.certificateId })}.${encode({
    iss: credentials.clientId,
    scope: ['rest_webservices'],
    aud: audience,
    iat: nowSeconds,
    exp: nowSeconds + ASSERTION_LIFETIME_SECONDS,
  })}`;
  const hash = { PS256: 'sha256', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[alg];
  const signature =
    alg === 'PS256'
      ? sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
      : sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Bearer tokens from the client credentials flow, cached across invocations. */
export class ClientCredentialsAuth implements NetsuiteAuth {
  readonly scheme = 'OAuth 2.0 client credentials';
  readonly credentialHint = 'NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, NETSUITE_PRIVATE_KEY and the M2M certificate mapping';
  private readonly tokenUrl: URL;
  private readonly credentials: ClientCredentials;
  private readonly key: KeyObject;
  private readonly http: VendorHttp;
  private readonly cacheKey: string;
  private readonly now: () => number;

  constructor(tokenUrl: URL, credentials: ClientCredentials, http: VendorHttp, now: () => number = Date.now) {
    this.tokenUrl = tokenUrl;
    this.credentials = credentials;
    this.key = readPrivateKey(credentials.privateKey);
    assertionAlgorithm(this.key);
    this.http = http;
    this.now = now;
    this.cacheKey = credentialsKey([tokenUrl.href, credentials.clientId, credentials.certificateId, credentials.privateKey]);
  }

  async authorize(): Promise<string> {
    const token = await tokenCache.get(this.cacheKey, (cached) => this.now() < cached.refreshAt, () => this.requestToken());
    return `Bearer ${token.accessToken}`;
  }

  /** Forgets the refused token (unless it was replaced meanwhile); a new one may well succeed. */
  refused(authorization: string): boolean {
    tokenCache.forget(this.cacheKey, (cached) => cached.accessToken === authorization.replace(/^Bearer /, ''));
    return true;
  }

  private async requestToken(): Promise<CachedToken> {
    const operation = 'POST oauth2 token';
    const assertion = clientAssertion(this.credentials, this.key, this.tokenUrl.href, Math.floor(this.now() / 1000));
    const response = await this.http.request({
      operation,
      method: 'POST',
      url: this.tokenUrl,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
      passStatuses: [400, 401, 403],
    });
    if (response.status >= 400) {
      throw new PermanentError(
        `${SYSTEM} ${operation}: NetSuite refused the ${this.scheme} (HTTP ${response.status} — ${describeNetsuiteFailure(response.status, response.text)}); check ${this.credentialHint}`,
        { system: SYSTEM, code: 'auth' },
      );
    }
    const token = parseVendorJson(SYSTEM, operation, response.text, TokenResponse);
    return { accessToken: token.access_token, refreshAt: renewalTime(this.now(), token.expires_in, EXPIRY_MARGIN_SECONDS) };
  }
}
