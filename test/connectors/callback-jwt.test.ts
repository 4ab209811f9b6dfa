/**
 * The callback JWT check: every allowed algorithm against keys from a JWKS served over HTTP,
 * the forgeries it must refuse (none, HMAC with the public key, tampering, a key of another
 * type), the claims (issuer, audience, expiry, not-before with leeway), and the key cache
 * (TTL, one refetch for an unknown kid, cool-down, stale keys while the issuer is down, no redirects).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwksCache, publicKeysOf } from '../../functions/connectors/callbacks/jwks.ts';
import { ALLOWED_JWT_ALGORITHMS, JWT_LEEWAY_SECONDS, bearerToken, verifyJwt } from '../../functions/connectors/callbacks/jwt.ts';
import { RetryableError } from '../../functions/core/errors.ts';
import { hmacWithPublicKey, makeKey, signJwt, startJwksServer, unsignedJwt, type IssuerKey, type JwksServer } from '../support/jwt-issuer.ts';

const ISSUER = 'https://middleware.example.test';
const AUDIENCE = 'harmony-callbacks';
const NOW = new Date(Date.UTC(2026, 4, 21, 12, 0, 0));
const nowSeconds = NOW.getTime() / 1000;
const claims = (overrides: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'erp-middleware', iat: nowSeconds, exp: nowSeconds + 300, ...overrides });

const keys: Record<string, IssuerKey> = {};
let server: JwksServer;

beforeAll(async () => {
  for (const alg of ALLOWED_JWT_ALGORITHMS) keys[alg] = makeKey(alg, `key-${alg}`);
  server = await startJwksServer(Object.values(keys));
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  server.keys = Object.values(keys);
  server.mode = 'serve';
});

/** A fresh cache on the test server, with a clock the test moves. */
function cache(clock = { now: NOW.getTime() }) {
  return { clock, jwks: new JwksCache({ url: server.url, now: () => clock.now, ttlMs: 60_000, refetchCooldownMs: 10_000 }) };
}

async function check(token: string, options: { jwks?: JwksCache; now?: Date } = {}) {
  const jwks = options.jwks ?? cache().jwks;
  return verifyJwt(token, { issuer: ISSUER, audience: AUDIENCE, keys: (kid) => jwks.candidates(kid), now: options.now ?? NOW });
}

describe('callback JWT: genuine tokens', () => {
  it.each(ALLOWED_JWT_ALGORITHMS.map((alg) => [alg]))('accepts a %s token signed by a key of the JWKS', async (alg) => {
    const result = await check(signJwt(keys[alg]!, claims()));
    expect(result).toMatchObject({ valid: true, claims: { sub: 'erp-middleware' } });
  });

  it('accepts an audience list that includes Harmony\'s', async () => {
    expect((await check(signJwt(keys.RS256!, claims({ aud: ['other', AUDIENCE] })))).valid).toBe(true);
  });

  it('accepts a token without kid when exactly one key fits its algorithm', async () => {
    server.keys = [keys.ES256!, keys.RS256!];
    expect((await check(signJwt(keys.ES256!, claims(), { kid: undefined })))).toMatchObject({ valid: true });
  });

  it(`accepts a token expired or not yet valid by less than the ${JWT_LEEWAY_SECONDS} s leeway`, async () => {
    expect((await check(signJwt(keys.RS256!, claims({ exp: nowSeconds - JWT_LEEWAY_SECONDS + 1 })))).valid).toBe(true);
    expect((await check(signJwt(keys.RS256!, claims({ nbf: nowSeconds + JWT_LEEWAY_SECONDS })))).valid).toBe(true);
  });
});

describe('callback JWT: refused tokens', () => {
  const cases: [string, () => string, string][] = [
    ['alg none', () => unsignedJwt(claims(), 'key-RS256'), 'malformed-token'],
    ['alg none with a signature part', () => `${unsignedJwt(claims(), 'key-RS256')}AAAA`, 'algorithm-not-allowed'],
    ['HS256 keyed with the public key', () => hmacWithPublicKey(keys.RS256!, claims()), 'algorithm-not-allowed'],
    ['a changed payload', () => {
      const [header, , signature] = signJwt(keys.RS256!, claims()).split('.');
      return `${header}.${Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url')}.${signature}`;
    }, 'bad-signature'],
    ['a signature by a key not in the JWKS, under a listed kid', () => signJwt({ ...makeKey('RS256', 'key-RS256') }, claims()), 'bad-signature'],
    ['an RS256 token naming an EC key', () => signJwt(keys.RS256!, claims(), { kid: 'key-ES256' }), 'unknown-key'],
    ['an ES256 token naming a P-384 key', () => signJwt(keys.ES256!, claims(), { kid: 'key-ES384' }), 'unknown-key'],
    ['an RS256 signature relabelled PS256', () => {
      const token = signJwt(keys.RS256!, claims());
      const [, payload, signature] = token.split('.');
      return `${Buffer.from(JSON.stringify({ alg: 'PS256', kid: 'key-RS256' })).toString('base64url')}.${payload}.${signature}`;
    }, 'bad-signature'],
    ['an unknown kid', () => signJwt(makeKey('RS256', 'not-published'), claims()), 'unknown-key'],
    ['no kid with several keys fitting', () => signJwt(keys.RS256!, claims(), { kid: undefined, alg: 'RS256' }), 'ambiguous-key'],
    ['a critical header extension', () => signJwt(keys.RS256!, claims(), { crit: ['exp'] }), 'critical-header'],
    ['another issuer', () => signJwt(keys.RS256!, claims({ iss: 'https://evil.example.test' })), 'wrong-issuer'],
    ['no issuer', () => signJwt(keys.RS256!, claims({ iss: undefined })), 'wrong-issuer'],
    ['another audience', () => signJwt(keys.RS256!, claims({ aud: 'someone-else' })), 'wrong-audience'],
    ['no audience', () => signJwt(keys.RS256!, claims({ aud: undefined })), 'wrong-audience'],
    ['no expiry', () => signJwt(keys.RS256!, claims({ exp: undefined })), 'missing-expiry'],
    ['an expired token', () => signJwt(keys.RS256!, claims({ exp: nowSeconds - JWT_LEEWAY_SECONDS })), 'expired'],
    ['a token not valid yet', () => signJwt(keys.RS256!, claims({ nbf: nowSeconds + JWT_LEEWAY_SECONDS + 1 })), 'not-yet-valid'],
    ['a token issued in the future', () => signJwt(keys.RS256!, claims({ iat: nowSeconds + 3600 })), 'issued-in-the-future'],
    ['a string expiry', () => signJwt(keys.RS256!, claims({ exp: String(nowSeconds + 300) })), 'malformed-token'],
    ['two parts', () => signJwt(keys.RS256!, claims()).split('.').slice(0, 2).join('.'), 'malformed-token'],
    ['four parts', () => `${signJwt(keys.RS256!, claims())}.x`, 'malformed-token'],
    ['a JWE-looking token', () => 'a.b.c.d.e', 'malformed-token'],
    ['standard base64 with padding', () => `${signJwt(keys.RS256!, claims())}=`, 'malformed-token'],
    ['a header that is not JSON', () => `bm90IGpzb24.${signJwt(keys.RS256!, claims()).split('.').slice(1).join('.')}`, 'malformed-token'],
    ['an oversized token', () => `${signJwt(keys.RS256!, claims({ pad: 'x'.repeat(9000) }))}`, 'malformed-token'],
  ];

  it.each(cases)('refuses %s', async (_name, token, reason) => {
    expect(await check(token())).toEqual({ valid: false, reason });
  });

  it('refuses an RSA key shorter than 2048 bits', async () => {
    const weak = makeKey('RS256', 'weak', { modulusLength: 1024 });
    server.keys = [weak];
    expect(await check(signJwt(weak, claims()))).toEqual({ valid: false, reason: 'unknown-key' });
  });

  it('refuses a JWK that pins another algorithm', async () => {
    server.keys = [{ ...keys.PS256!, jwk: { ...keys.PS256!.jwk, alg: 'PS512' } }];
    expect(await check(signJwt(keys.PS256!, claims()))).toEqual({ valid: false, reason: 'unknown-key' });
  });
});

describe('bearer header', () => {
  it.each([
    [undefined, { reason: 'missing-token' }],
    ['Basic dXNlcjpwYXNz', { reason: 'not-bearer' }],
    ['Bearer', { reason: 'malformed-token' }],
    ['Bearer a b', { reason: 'malformed-token' }],
    ['bearer abc.def.ghi', { token: 'abc.def.ghi' }],
  ])('reads %s', (header, expected) => {
    expect(bearerToken(header)).toEqual(expected);
  });
});

describe('JWKS', () => {
  it('keeps only public signature keys', () => {
    const secretKey = { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' };
    const encryption = { ...keys.RS256!.jwk, kid: 'enc', use: 'enc' };
    const privateJwk = { ...keys.ES256!.privateKey.export({ format: 'jwk' }), kid: 'private' };
    const kept = publicKeysOf({ keys: [secretKey, encryption, privateJwk, keys.EdDSA!.jwk, { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'not-a-point' }] });
    expect(kept.map((key) => key.kid)).toEqual(['key-EdDSA']);
  });

  it('refuses a URL that is not https (except loopback) or is link-local, naming the setting', () => {
    expect(() => new JwksCache({ url: 'http://issuer.example.com/jwks' })).toThrow(/^CALLBACK_JWKS_URL: must be https/);
    expect(() => new JwksCache({ url: 'https://169.254.169.254/jwks' })).toThrow(/CALLBACK_JWKS_URL: .*link-local or metadata/);
  });

  it('fetches once and reuses the keys until the TTL, then fetches again', async () => {
    const { clock, jwks } = cache();
    await jwks.candidates('key-RS256');
    await jwks.candidates('key-ES256');
    expect(jwks.fetches).toBe(1);
    clock.now += 60_001;
    await jwks.candidates('key-RS256');
    expect(jwks.fetches).toBe(2);
  });

  it('fetches again once for a kid it does not know (the issuer rotated), and finds the new key', async () => {
    const { clock, jwks } = cache();
    expect((await check(signJwt(keys.RS256!, claims()), { jwks })).valid).toBe(true);
    const rotated = makeKey('RS256', 'rotated');
    server.keys = [rotated];
    clock.now += 10_001;
    expect((await check(signJwt(rotated, claims()), { jwks })).valid).toBe(true);
    expect(jwks.fetches).toBe(2);
  });

  it('does not fetch again for unknown kids within the cool-down, however many arrive', async () => {
    const { clock, jwks } = cache();
    await jwks.candidates('key-RS256');
    for (let index = 0; index < 5; index += 1) expect(await jwks.candidates(`forged-${index}`)).toEqual([]);
    expect(jwks.fetches).toBe(1);
    clock.now += 10_001;
    await jwks.candidates('forged-after');
    await jwks.candidates('forged-again');
    expect(jwks.fetches).toBe(2);
  });

  it('keeps using the keys it has while the issuer is down, and fails retryably when it has none', async () => {
    const { clock, jwks } = cache();
    await jwks.candidates('key-RS256');
    server.mode = 'fail';
    clock.now += 60_001;
    expect((await jwks.candidates('key-RS256')).length).toBe(1);
    const empty = cache().jwks;
    await expect(empty.candidates('key-RS256')).rejects.toThrow(RetryableError);
    await expect(empty.candidates('key-RS256')).rejects.toThrow(/CALLBACK_JWKS_URL: the JWKS answered 500/);
  });

  it('does not follow a redirect (it could lead to the metadata service)', async () => {
    server.mode = 'redirect';
    const requestsBefore = server.requests;
    await expect(cache().jwks.candidates('key-RS256')).rejects.toThrow(RetryableError);
    expect(server.requests).toBe(requestsBefore + 1);
  });
});
