/**
 * The sandbox's `POST /services/oauth2/token`, for the two server-to-server flows Salesforce
 * documents for a connected app:
 *
 * - client credentials: `grant_type=client_credentials` with `client_id` and `client_secret`;
 *   an unknown client id is `invalid_client_id` ("client identifier invalid"), a wrong secret
 *   `invalid_client` ("invalid client credentials");
 * - JWT bearer: `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with `assertion`, an
 *   RS256 JWT whose signature verifies with the connected app's certificate, `iss` = its
 *   consumer key, `aud` = the login URL, `sub` = a user of the org, `exp` in the future and at
 *   most three minutes ahead. Refusals use the descriptions Salesforce sends
 *   (`invalid assertion`, `audience is invalid`, `expired authorization code`,
 *   `user hasn't approved this consumer`).
 *
 * A token answer is `{access_token, signature, scope, instance_url, id, token_type,
 * issued_at}`; tokens carry the org id before a `!`, as Salesforce's do.
 */
import { createHmac, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { verifyJwt } from '../../../functions/connectors/callbacks/jwt.ts';
import type { OrgStore } from './org-store.ts';
import { oauthError, type SandboxAnswer } from './responses.ts';

/** The JWT bearer grant type. */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Longest an assertion may live, per the JWT bearer flow's `exp` rule (plus the verifier's leeway for clock skew). */
const MAX_ASSERTION_SECONDS = 3 * 60;

/** The connected app and org the endpoint issues tokens for. */
export interface ConnectedApp {
  readonly organizationId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The certificate (or public key) PEM uploaded for the JWT bearer flow; undefined turns the flow off. */
  readonly jwtCertificate?: string | undefined;
  /** Usernames the JWT bearer flow may act as (pre-authorized), with their user ids. */
  readonly users: ReadonlyMap<string, string>;
  /** The user the client credentials flow runs as. */
  readonly runAsUserId: string;
  readonly store: OrgStore;
  readonly now: () => number;
}

/** The public key of a certificate or public-key PEM; throws naming the option when it is neither. */
export function readCertificate(pem: string): KeyObject {
  try {
    return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch (error) {
    throw new Error(`jwtCertificate: not a PEM certificate or public key (${(error as Error).message})`);
  }
}

/** Answers a token request; `origin` is the sandbox's own URL (login URL and instance URL alike). */
export async function issueToken(app: ConnectedApp, form: URLSearchParams, origin: string): Promise<SandboxAnswer> {
  const grantType = form.get('grant_type');
  if (grantType === 'client_credentials') {
    if (form.get('client_id') !== app.clientId) return oauthError(400, 'invalid_client_id', 'client identifier invalid');
    if (form.get('client_secret') !== app.clientSecret) return oauthError(400, 'invalid_client', 'invalid client credentials');
    return tokenAnswer(app, app.runAsUserId, origin);
  }
  if (grantType === JWT_BEARER) return jwtBearer(app, form.get('assertion') ?? '', origin);
  return oauthError(400, 'unsupported_grant_type', 'grant type not supported');
}

async function jwtBearer(app: ConnectedApp, assertion: string, origin: string): Promise<SandboxAnswer> {
  if (app.jwtCertificate === undefined) return oauthError(400, 'invalid_grant', 'invalid assertion');
  let alg: unknown;
  try {
    alg = (JSON.parse(Buffer.from(assertion.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown }).alg;
  } catch {
    return oauthError(400, 'invalid_grant', 'invalid assertion');
  }
  if (alg !== 'RS256') return oauthError(400, 'invalid_grant', 'invalid assertion');
  const key = readCertificate(app.jwtCertificate);
  const verified = await verifyJwt(assertion, {
    issuer: app.clientId,
    audience: origin,
    keys: () => Promise.resolve([{ kid: undefined, alg: 'RS256', key }]),
    now: new Date(app.now()),
  });
  if (!verified.valid) {
    switch (verified.reason) {
      case 'wrong-issuer':
        return oauthError(400, 'invalid_client_id', 'client identifier invalid');
      case 'wrong-audience':
        return oauthError(400, 'invalid_grant', 'audience is invalid');
      case 'expired':
        return oauthError(400, 'invalid_grant', 'expired authorization code');
      default:
        return oauthError(400, 'invalid_grant', 'invalid assertion');
    }
  }
  const { exp, sub } = verified.claims;
  if (exp !== undefined && exp - app.now() / 1000 > MAX_ASSERTION_SECONDS + 30) return oauthError(400, 'invalid_grant', 'invalid assertion');
  const userId = sub === undefined ? undefined : app.users.get(sub);
  if (userId === undefined) return oauthError(400, 'invalid_grant', "user hasn't approved this consumer");
  return tokenAnswer(app, userId, origin);
}

function tokenAnswer(app: ConnectedApp, userId: string, origin: string): SandboxAnswer {
  const issuedAt = app.now();
  const accessToken = `${app.organizationId.slice(0, 15)}!${randomBytes(48).toString('base64url')}`;
  app.store.saveToken(accessToken, userId, issuedAt);
  const id = `${origin}/id/${app.organizationId}/${userId}`;
  return {
    status: 200,
    body: {
      access_token: accessToken,
      signature: createHmac('sha256', app.clientSecret).update(`${id}${issuedAt}`).digest('base64'),
      scope: 'api',
      instance_url: origin,
      id,
      token_type: 'Bearer',
      issued_at: String(issuedAt),
    },
  };
}
