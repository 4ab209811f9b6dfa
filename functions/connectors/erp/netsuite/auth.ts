/** What the NetSuite client needs from an authentication scheme (OAuth 2.0 M2M or TBA). */

/** Makes the `Authorization` header of each request and hears when NetSuite refuses one. */
export interface NetsuiteAuth {
  /** How the scheme is named in errors, e.g. `OAuth 2.0 client credentials`. */
  readonly scheme: string;
  /** The settings and secrets to check when NetSuite refuses the credentials, for the error message. */
  readonly credentialHint: string;
  /** The `Authorization` header value for one request (TBA signs each request; OAuth 2.0 reuses a cached token). */
  authorize(method: string, url: URL): Promise<string>;
  /**
   * NetSuite answered 401 to a request sent with `authorization`. Returns true when a new
   * header may succeed (an expired bearer token is forgotten and fetched again), false when
   * it cannot (a TBA signature is refused for its credentials).
   */
  refused(authorization: string): boolean;
}
