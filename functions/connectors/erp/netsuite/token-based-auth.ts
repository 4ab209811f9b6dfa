/**
 * NetSuite Token-Based Authentication: OAuth 1.0a (RFC 5849) with HMAC-SHA256, one signature
 * per request with a fresh nonce and timestamp, `realm` = the account id (upper case, `_SB1`
 * for a sandbox) and never part of the signature ("The Signature for Web Services and
 * RESTlets", "Constructing the Signature for Step One of the TBA Authorization Flow").
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { NetsuiteAuth } from './auth.ts';

/** The four TBA secrets: the integration record's consumer key/secret and the access token's id/secret. */
export interface TokenBasedCredentials {
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly tokenId: string;
  readonly tokenSecret: string;
}

/** RFC 3986 percent-encoding as RFC 5849 §3.6 wants it (unreserved characters stay, everything else `%XX`). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The signature base string (RFC 5849 §3.4.1): method, the URL without query or default
 * port, and every query and protocol parameter encoded, sorted by name then value and
 * joined — `realm` and `oauth_signature` are not among `parameters`.
 */
export function signatureBaseString(method: string, url: URL, parameters: Readonly<Record<string, string>>): string {
  const baseUri = `${url.protocol}//${url.host.toLowerCase()}${url.pathname}`;
  const pairs = [...url.searchParams.entries(), ...Object.entries(parameters)]
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort(([leftName, leftValue], [rightName, rightValue]) =>
      leftName === rightName ? (leftValue < rightValue ? -1 : leftValue > rightValue ? 1 : 0) : leftName < rightName ? -1 : 1,
    );
  const normalized = pairs.map(([name, value]) => `${name}=${value}`).join('&');
  return `${method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(normalized)}`;
}

/** Base64 HMAC-SHA256 of the base string keyed with `consumerSecret&tokenSecret` (each encoded). */
export function hmacSha256Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  return createHmac('sha256', `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`).update(baseString).digest('base64');
}

/** TBA for one account: every request gets its own nonce, timestamp and signature. */
export class TokenBasedAuth implements NetsuiteAuth {
  readonly scheme = 'token-based authentication (TBA)';
  readonly credentialHint = 'NETSUITE_ACCOUNT_ID, NETSUITE_CONSUMER_KEY/SECRET and NETSUITE_TOKEN_ID/SECRET';
  private readonly realm: string;
  private readonly credentials: TokenBasedCredentials;
  private readonly now: () => number;

  /** @param realm the account id as NetSuite spells it in the realm, e.g. `1234567_SB1` */
  constructor(realm: string, credentials: TokenBasedCredentials, now: () => number = Date.now) {
    this.realm = realm;
    this.credentials = credentials;
    this.now = now;
  }

  async authorize(method: string, url: URL): Promise<string> {
    const parameters = {
      oauth_consumer_key: this.credentials.consumerKey,
      oauth_token: this.credentials.tokenId,
      oauth_signature_method: 'HMAC-SHA256',
      oauth_timestamp: String(Math.floor(this.now() / 1000)),
      oauth_nonce: randomBytes(16).toString('hex'),
      oauth_version: '1.0',
    };
    const signature = hmacSha256Signature(signatureBaseString(method, url, parameters), this.credentials.consumerSecret, this.credentials.tokenSecret);
    const fields = { realm: this.realm, ...parameters, oauth_signature: signature };
    return `OAuth ${Object.entries(fields).map(([name, value]) => `${name}="${percentEncode(value)}"`).join(', ')}`;
  }

  /** A refused signature stays refused: the credentials, the realm or the clock are wrong. */
  refused(): boolean {
    return false;
  }
}
