/**
 * How the sandbox authenticates: the API token in `x-api-token` (v1 also `?api_token=`), or an
 * OAuth access token as `Authorization: Bearer …` that its `POST /oauth/token` issued from the
 * configured refresh token (basic auth of client id and secret, form-encoded body). Answers
 * and messages follow pipedrive.readme.io/docs/marketplace-oauth-and-api-proxy-status-codes;
 * the refusal body `{success: false, message, error}` follows the official Node client's tests.
 * The refresh token does not rotate: each refresh answers the same one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SandboxAnswer } from './responses.ts';
import { SANDBOX_COMPANY_ID, SANDBOX_USER_ID } from './seed.ts';
import type { PipedriveStore } from './store.ts';

/** The path of the token endpoint (oauth.pipedrive.com's, served by the sandbox itself). */
export const TOKEN_PATH = '/oauth/token';

/** The scopes the sandbox app has. */
const SCOPE = 'deals:full,products:read,contacts:read,base';

/** The OAuth app the sandbox knows, and the refresh token of its installation. */
export interface SandboxOAuthApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/** The credentials the sandbox accepts. */
export interface SandboxCredentials {
  readonly apiToken: string;
  readonly oauth?: SandboxOAuthApp | undefined;
  readonly tokenLifetimeSeconds: number;
}

const same = (left: string, right: string): boolean =>
  timingSafeEqual(createHash('sha256').update(left).digest(), createHash('sha256').update(right).digest());

function refusal(error: string, message: string): SandboxAnswer {
  return { status: 400, body: { success: false, message, error } };
}

/** `POST /oauth/token` with `grant_type=refresh_token`: a new access token for the company's API. */
export function issueToken(
  store: PipedriveStore,
  credentials: SandboxCredentials,
  headers: IncomingHttpHeaders,
  body: string,
  apiDomain: string,
  now: number,
): SandboxAnswer {
  if (!(headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return refusal('invalid_request', 'Invalid request: content must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(body);
  const grantType = form.get('grant_type');
  if (grantType === null || grantType === '') return refusal('invalid_request', 'Missing parameter: `grant_type`');
  const basic = /^basic +(\S+)$/i.exec(headers.authorization ?? '');
  if (basic === null) return refusal('invalid_client', 'Invalid client: cannot retrieve client credentials');
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  const app = credentials.oauth;
  if (app === undefined || separator < 0 || !same(decoded.slice(0, separator), app.clientId) || !same(decoded.slice(separator + 1), app.clientSecret)) {
    return refusal('invalid_client', 'Invalid client: client is invalid');
  }
  if (grantType !== 'refresh_token') return refusal('unsupported_grant_type', 'Unsupported grant type: `grant_type` is invalid');
  if (!same(form.get('refresh_token') ?? '', app.refreshToken)) return refusal('invalid_grant', 'Invalid grant: `refresh_token` is invalid');
  const accessToken = `${SANDBOX_COMPANY_ID}:${SANDBOX_USER_ID}:${randomBytes(20).toString('hex')}`;
  store.issueToken(accessToken, now + credentials.tokenLifetimeSeconds * 1000);
  return {
    status: 200,
    body: { access_token: accessToken, token_type: 'Bearer', expires_in: credentials.tokenLifetimeSeconds, refresh_token: app.refreshToken, scope: SCOPE, api_domain: apiDomain },
  };
}

/** Why an API request is refused: `unauthorized` (401), `malformed` (400), or undefined when it may proceed. */
export function refusedAuthentication(
  store: PipedriveStore,
  credentials: SandboxCredentials,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  v1: boolean,
  now: number,
): 'unauthorized' | 'malformed' | undefined {
  const apiToken = headers['x-api-token'] ?? (v1 ? query.get('api_token') ?? undefined : undefined);
  if (typeof apiToken === 'string' && apiToken !== '') return same(apiToken, credentials.apiToken) ? undefined : 'unauthorized';
  const authorization = headers.authorization;
  if (authorization === undefined) return 'unauthorized';
  const bearer = /^Bearer (\S+)$/.exec(authorization);
  if (bearer === null) return 'malformed';
  return store.tokenValid(bearer[1]!, now) ? undefined : 'unauthorized';
}
