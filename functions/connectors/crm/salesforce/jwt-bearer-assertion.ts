/**
 * The assertion of Salesforce's OAuth 2.0 JWT bearer flow ("OAuth 2.0 JWT Bearer Flow for
 * Server-to-Server Integration", Salesforce Help): header `{"alg":"RS256"}`; claims `iss` = the
 * connected app's consumer key (client id), `sub` = the username Harmony acts as, `aud` = the
 * login URL (`https://login.salesforce.com`, `https://test.salesforce.com` or the My Domain
 * login URL), `exp` = seconds since the epoch, at most three minutes ahead; signed with
 * RSA-SHA256 by the private key of the certificate uploaded to the connected app.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { PermanentError } from '../../../core/errors.ts';
import { SYSTEM } from './vendor-errors.ts';

/** Seconds the assertion is valid for: under Salesforce's three-minute maximum, with room for clock skew. */
export const ASSERTION_LIFETIME_SECONDS = 150;

/** Who the assertion speaks for. */
export interface JwtBearerClaims {
  readonly clientId: string;
  readonly username: string;
  /** The login URL's origin, e.g. `https://login.salesforce.com`. */
  readonly audience: string;
}

/**
 * Reads the PEM private key (PKCS#8 or PKCS#1); environment variables often carry it with
 * literal `\n`. Throws a PermanentError naming the secret when it is no RSA private key.
 */
export function readRsaPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem);
  } catch (error) {
    throw new PermanentError(`SALESFORCE_PRIVATE_KEY: not a PEM private key (${(error as Error).message})`, { system: SYSTEM, code: 'configuration', cause: error });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new PermanentError(`SALESFORCE_PRIVATE_KEY: the JWT bearer flow signs with RS256, which needs an RSA key, not ${key.asymmetricKeyType ?? 'this key'}`, {
      system: SYSTEM,
      code: 'configuration',
    });
  }
  return key;
}

/** The signed assertion for one token request, valid from `nowSeconds` for {@link ASSERTION_LIFETIME_SECONDS}. */
export function jwtBearerAssertion(claims: JwtBearerClaims, key: KeyObject, nowSeconds: number): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'RS256' })}.${encode({
    iss: claims.clientId,
    sub: claims.username,
    aud: claims.audience,
    exp: nowSeconds + ASSERTION_LIFETIME_SECONDS,
  })}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
}
