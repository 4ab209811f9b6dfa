/**
 * A JWT issuer for tests: key pairs made with node:crypto, a JWKS served over HTTP on a
 * loopback port (rotatable, countable, able to fail or redirect), and compact JWS signing
 * for every algorithm Harmony accepts — plus the forgeries it must refuse (`none`, HS256).
 */
import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One signing key of the issuer. */
export interface IssuerKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyObject;
  /** The public JWK as the JWKS publishes it. */
  readonly jwk: Record<string, unknown>;
}

/** Makes a key pair for `alg` (RS*, PS*, ES256/384/512, EdDSA). */
export function makeKey(alg: string, kid: string, options: { modulusLength?: number } = {}): IssuerKey {
  const pair =
    alg.startsWith('RS') || alg.startsWith('PS')
      ? generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg]! });
  return { kid, alg, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' } };
}

const HASHES: Readonly<Record<string, string>> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs `claims` as a compact JWS with `key` (header `alg`/`kid` overridable). */
export function signJwt(key: IssuerKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const fullHeader = { alg: key.alg, typ: 'JWT', kid: key.kid, ...header };
  const input = `${encode(fullHeader)}.${encode(claims)}`;
  const alg = key.alg;
  let signature: Buffer;
  if (alg === 'EdDSA') signature = sign(null, Buffer.from(input), key.privateKey);
  else if (alg.startsWith('ES')) signature = sign(HASHES[alg.slice(2)]!, Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (alg.startsWith('PS')) signature = sign(HASHES[alg.slice(2)]!, Buffer.from(input), { key: key.privateKey, padding: 6, saltLength: -1 });
  else signature = sign(HASHES[alg.slice(2)]!, Buffer.from(input), key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** An unsigned token (`alg: none`), as an attacker would send it. */
export function unsignedJwt(claims: Record<string, unknown>, kid?: string): string {
  return `${encode({ alg: 'none', typ: 'JWT', ...(kid === undefined ? {} : { kid }) })}.${encode(claims)}.`;
}

/** An HS256 token keyed with the issuer's public key (PEM) — the classic algorithm-confusion forgery. */
export function hmacWithPublicKey(key: IssuerKey, claims: Record<string, unknown>): string {
  const input = `${encode({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${encode(claims)}`;
  const publicPem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' });
  return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
}

/** A JWKS endpoint on a loopback port. */
export interface JwksServer {
  readonly url: string;
  /** Requests served so far. */
  requests: number;
  /** The keys published now. */
  keys: IssuerKey[];
  /** What the next answers are: the set, a 500, a redirect to `redirectTo`. */
  mode: 'serve' | 'fail' | 'redirect';
  redirectTo: string;
  close(): Promise<void>;
}

/** Starts a JWKS server publishing `keys`. */
export async function startJwksServer(keys: IssuerKey[]): Promise<JwksServer> {
  const state: JwksServer = {
    url: '',
    requests: 0,
    keys,
    mode: 'serve',
    redirectTo: 'http://169.254.169.254/latest/meta-data/',
    close: async () => undefined,
  };
  const server = createServer((request, response) => {
    state.requests += 1;
    if (state.mode === 'fail') {
      response.writeHead(500, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    if (state.mode === 'redirect') {
      response.writeHead(302, { location: state.redirectTo }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
