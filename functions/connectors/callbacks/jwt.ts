/**
 * Verifies the bearer JWT of a callback with node:crypto: compact JWS only, an allow-list
 * of asymmetric algorithms (never `none`, never HMAC — with a public key as the HMAC secret
 * anyone could sign), the key chosen from the issuer's JWKS by `kid` and checked to be of
 * the algorithm's type, then `iss`, `aud`, `exp` and `nbf` with a small leeway.
 *
 * Sources: RFC 7519 (JWT claims), RFC 7515 (JWS compact serialization), RFC 7518 §3 (the
 * algorithms; ECDSA signatures are R‖S, not DER), RFC 8037 (EdDSA), RFC 8725 (JWT best
 * current practice: algorithm verification, no `none`, validate issuer and audience).
 */
import { constants, verify, type KeyObject } from 'node:crypto';
import * as z from 'zod';
import type { JsonWebKey } from './jwks.ts';

/** Seconds a clock may be off when checking `exp`, `nbf` and `iat`. */
export const JWT_LEEWAY_SECONDS = 30;

/** Longest token read, in characters: far above any real callback token, far below the body limit. */
const MAX_TOKEN_LENGTH = 8192;

interface AlgorithmRule {
  readonly hash: string | null;
  /** Node's key types that may verify it. */
  readonly keyTypes: readonly string[];
  /** For ECDSA: the curve, as Node names it, and the R‖S length in bytes. */
  readonly curve?: string;
  readonly signatureBytes?: number;
  readonly pss?: boolean;
}

/** The algorithms a callback token may use, and the keys each needs. */
const ALGORITHMS: Readonly<Record<string, AlgorithmRule>> = {
  RS256: { hash: 'sha256', keyTypes: ['rsa'] },
  RS384: { hash: 'sha384', keyTypes: ['rsa'] },
  RS512: { hash: 'sha512', keyTypes: ['rsa'] },
  PS256: { hash: 'sha256', keyTypes: ['rsa', 'rsa-pss'], pss: true },
  PS384: { hash: 'sha384', keyTypes: ['rsa', 'rsa-pss'], pss: true },
  PS512: { hash: 'sha512', keyTypes: ['rsa', 'rsa-pss'], pss: true },
  ES256: { hash: 'sha256', keyTypes: ['ec'], curve: 'prime256v1', signatureBytes: 64 },
  ES384: { hash: 'sha384', keyTypes: ['ec'], curve: 'secp384r1', signatureBytes: 96 },
  ES512: { hash: 'sha512', keyTypes: ['ec'], curve: 'secp521r1', signatureBytes: 132 },
  EdDSA: { hash: null, keyTypes: ['ed25519', 'ed448'] },
};

/** The algorithms accepted, for documentation and tests. */
export const ALLOWED_JWT_ALGORITHMS: readonly string[] = Object.keys(ALGORITHMS);

/** Why a token was refused. */
export type JwtFailure =
  | 'missing-token'
  | 'not-bearer'
  | 'malformed-token'
  | 'algorithm-not-allowed'
  | 'critical-header'
  | 'unknown-key'
  | 'ambiguous-key'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'missing-expiry'
  | 'expired'
  | 'not-yet-valid'
  | 'issued-in-the-future';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

const Header = z.looseObject({
  alg: z.string(),
  kid: z.string().min(1).max(256).optional(),
  typ: z.string().optional(),
  crit: z.unknown().optional(),
});

const NumericDate = z.number().finite();
const Claims = z.looseObject({
  iss: z.string().optional(),
  sub: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  exp: NumericDate.optional(),
  nbf: NumericDate.optional(),
  iat: NumericDate.optional(),
  jti: z.string().optional(),
});
/** The claims of a verified token. */
export type JwtClaims = z.infer<typeof Claims>;

/** What a check needs besides the token. */
export interface JwtExpectations {
  readonly issuer: string;
  readonly audience: string;
  /** The keys that may have signed a token naming `kid` (the JWKS cache). */
  readonly keys: (kid: string | undefined) => Promise<readonly JsonWebKey[]>;
  readonly now: Date;
  /** @default JWT_LEEWAY_SECONDS */
  readonly leewaySeconds?: number;
}

/** The outcome of {@link verifyJwt}. */
export type JwtResult = { readonly valid: true; readonly claims: JwtClaims } | { readonly valid: false; readonly reason: JwtFailure };

const fail = (reason: JwtFailure): JwtResult => ({ valid: false, reason });

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Whether `key` is of the type (and curve) the algorithm needs, and strong enough. */
function fits(rule: AlgorithmRule, key: KeyObject): boolean {
  const type = key.asymmetricKeyType ?? '';
  if (!rule.keyTypes.includes(type)) return false;
  if (rule.curve !== undefined) return key.asymmetricKeyDetails?.namedCurve === rule.curve;
  if (type === 'rsa' || type === 'rsa-pss') return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  return true;
}

function signatureMatches(rule: AlgorithmRule, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  if (rule.signatureBytes !== undefined && signature.length !== rule.signatureBytes) return false;
  try {
    if (rule.pss === true) {
      return verify(rule.hash, signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    }
    if (rule.signatureBytes !== undefined) return verify(rule.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(rule.hash, signingInput, key, signature);
  } catch {
    return false;
  }
}

/** Takes the token out of an `Authorization: Bearer <token>` header. */
export function bearerToken(authorization: string | undefined): { token: string } | { reason: JwtFailure } {
  const header = authorization?.trim();
  if (header === undefined || header === '') return { reason: 'missing-token' };
  const match = /^bearer +(\S+)$/i.exec(header);
  if (match === null) return { reason: /^bearer\b/i.test(header) ? 'malformed-token' : 'not-bearer' };
  return { token: match[1]! };
}

/**
 * Verifies a compact JWS token: the signature first (with a key from the issuer's JWKS that
 * fits the algorithm), then the claims. Never throws for a bad token; a JWKS that cannot be
 * fetched throws (RetryableError from the cache).
 */
export async function verifyJwt(token: string, expected: JwtExpectations): Promise<JwtResult> {
  if (token.length > MAX_TOKEN_LENGTH) return fail('malformed-token');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !BASE64URL.test(part)) || parts[0] === '' || parts[1] === '' || parts[2] === '') {
    return fail('malformed-token');
  }
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = Header.safeParse(decodeJson(encodedHeader));
  if (!header.success) return fail('malformed-token');
  const rule = Object.hasOwn(ALGORITHMS, header.data.alg) ? ALGORITHMS[header.data.alg] : undefined;
  if (rule === undefined) return fail('algorithm-not-allowed');
  // No extension is understood, so a token that marks one critical must be refused (RFC 7515 §4.1.11).
  if (header.data.crit !== undefined) return fail('critical-header');
  const claims = Claims.safeParse(decodeJson(encodedPayload));
  if (!claims.success) return fail('malformed-token');

  const candidates = (await expected.keys(header.data.kid)).filter(
    (candidate) => (candidate.alg === undefined || candidate.alg === header.data.alg) && fits(rule, candidate.key),
  );
  if (candidates.length === 0) return fail('unknown-key');
  // Without a kid, one key must be the obvious choice; trying several would turn the endpoint into a key oracle.
  if (header.data.kid === undefined && candidates.length > 1) return fail('ambiguous-key');
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (!candidates.some((candidate) => signatureMatches(rule, candidate.key, signingInput, signature))) return fail('bad-signature');

  const { iss, aud, exp, nbf, iat } = claims.data;
  if (iss !== expected.issuer) return fail('wrong-issuer');
  const audiences = aud === undefined ? [] : typeof aud === 'string' ? [aud] : aud;
  if (!audiences.includes(expected.audience)) return fail('wrong-audience');
  const now = expected.now.getTime() / 1000;
  const leeway = expected.leewaySeconds ?? JWT_LEEWAY_SECONDS;
  if (exp === undefined) return fail('missing-expiry');
  if (now >= exp + leeway) return fail('expired');
  if (nbf !== undefined && now < nbf - leeway) return fail('not-yet-valid');
  if (iat !== undefined && now < iat - leeway) return fail('issued-in-the-future');
  return { valid: true, claims: claims.data };
}
