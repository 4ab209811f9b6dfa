/**
 * How the SAP client proves who it is on every OData call: a communication user with
 * basic auth, or an OAuth 2.0 client-credentials bearer token. Only the bearer token is
 * worth fetching again when SAP answers 401 (it may have expired); a refused password
 * stays refused.
 */
import type { VendorHttp } from '../../../core/vendor-http.ts';
import { SapOAuthTokenSource } from './oauth-token.ts';

/** The credentials of one of the two schemes. */
export type SapCredentials =
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string }
  | { readonly scheme: 'oauth2'; readonly tokenUrl: URL; readonly clientId: string; readonly clientSecret: string; readonly scope?: string | undefined };

/** The Authorization header for SAP's OData calls. */
export interface SapAuthorization {
  readonly scheme: SapCredentials['scheme'];
  /** A stable, non-secret-revealing key of the identity (for the CSRF session cache). */
  readonly identity: string;
  header(): Promise<string>;
  /** SAP answered 401 to `header`: true when asking again with a fresh header may succeed. */
  refused(header: string): boolean;
}

/** Builds the scheme's authorization; the token source uses `tokenHttp` (outside SAP's rate budget). */
export function sapAuthorization(credentials: SapCredentials, tokenHttp: VendorHttp, identity: string): SapAuthorization {
  if (credentials.scheme === 'basic') {
    const header = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
    return { scheme: 'basic', identity, header: () => Promise.resolve(header), refused: () => false };
  }
  const tokens = new SapOAuthTokenSource(credentials, tokenHttp);
  return {
    scheme: 'oauth2',
    identity,
    header: async () => `Bearer ${await tokens.token()}`,
    refused: (header) => {
      tokens.discard(header.slice('Bearer '.length));
      return true;
    },
  };
}
