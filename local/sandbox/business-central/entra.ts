/**
 * The sandbox's stand-in for Microsoft Entra ID's token endpoint
 * (`POST /{tenant}/oauth2/v2.0/token`, client credentials with the secret in the form or
 * in Basic auth) and the check the API does on each bearer token. Tokens look like
 * Entra's (a signed JWT with `aud`, `iss`, `tid`, `appid`, `roles`, `exp`); they carry
 * the token generation, so `POST /__sandbox/expire-tokens` (a new generation) expires
 * every token issued before it. Errors are Entra's body (`error`, `error_description`
 * with the AADSTS code, `error_codes`, `trace_id`, `correlation_id`).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SandboxAnswer } from './responses.ts';

/** The scope a client asks for to call Business Central. */
export const BUSINESS_CENTRAL_SCOPE = 'https://api.businesscentral.dynamics.com/.default';
const AUDIENCE = 'https://api.businesscentral.dynamics.com';

/** Who may get tokens, and how tokens are made and checked. */
export interface TokenIssuerOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Seconds a token lives. */
  readonly lifetimeSeconds: number;
  readonly signingKey: Buffer;
  /** The current token generation: tokens of an older one are expired. */
  readonly generation: () => number;
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

function entraError(status: number, error: string, code: number, description: string): SandboxAnswer {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    status,
    headers: { 'cache-control': 'no-store, no-cache' },
    body: {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

function equalSecrets(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Issues and checks the sandbox's access tokens. */
export class TokenIssuer {
  readonly #options: TokenIssuerOptions;

  constructor(options: TokenIssuerOptions) {
    this.#options = options;
  }

  /** Answers `POST /{tenant}/oauth2/v2.0/token` with a urlencoded `form` and the request's Authorization header. */
  token(tenant: string, form: URLSearchParams, authorization: string | undefined): SandboxAnswer {
    const { tenantId, clientId, clientSecret, lifetimeSeconds } = this.#options;
    if (tenant.toLowerCase() !== tenantId.toLowerCase()) {
      return entraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    let givenId = form.get('client_id') ?? undefined;
    let givenSecret = form.get('client_secret') ?? undefined;
    if (authorization?.startsWith('Basic ') === true) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      givenId = decodeURIComponent(decoded.slice(0, colon));
      givenSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const grantType = form.get('grant_type');
    if (grantType === null) return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grantType !== 'client_credentials') {
      return entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    if (givenId === undefined || givenId === '') return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    const scope = form.get('scope');
    if (scope === null) return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    if (scope !== BUSINESS_CENTRAL_SCOPE) {
      return entraError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    if (givenId !== clientId) {
      return entraError(400, 'unauthorized_client', 700016, `Application with identifier '${givenId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    if (givenSecret === undefined || givenSecret === '') {
      return entraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (!equalSecrets(givenSecret, clientSecret)) {
      return entraError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: 'harmony-sandbox' }));
    const payload = base64url(JSON.stringify({
      aud: AUDIENCE,
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + lifetimeSeconds,
      appid: clientId,
      idtyp: 'app',
      oid: randomUUID(),
      roles: ['API.ReadWrite.All', 'Automation.ReadWrite.All'],
      tid: tenantId,
      gen: this.#options.generation(),
    }));
    const signature = createHmac('sha256', this.#options.signingKey).update(`${header}.${payload}`).digest('base64url');
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache' },
      body: { token_type: 'Bearer', expires_in: lifetimeSeconds, ext_expires_in: lifetimeSeconds, access_token: `${header}.${payload}.${signature}` },
    };
  }

  /** Why the Authorization header does not carry a valid token, or undefined when it does. */
  rejection(authorization: string | undefined): string | undefined {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return 'The access token is missing';
    const [header, payload, signature] = authorization.slice(7).trim().split('.');
    if (header === undefined || payload === undefined || signature === undefined) return 'The access token is malformed';
    const expected = createHmac('sha256', this.#options.signingKey).update(`${header}.${payload}`).digest('base64url');
    if (!equalSecrets(signature, expected)) return 'The access token signature is invalid';
    let claims: { exp?: unknown; gen?: unknown; tid?: unknown; aud?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return 'The access token is malformed';
    }
    if (claims.aud !== AUDIENCE || claims.tid !== this.#options.tenantId) return 'The access token was issued for another audience or tenant';
    if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000 || claims.gen !== this.#options.generation()) return 'The access token is expired';
    return undefined;
  }
}
