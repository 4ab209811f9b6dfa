/**
 * SAP Gateway's CSRF protection, client side. A modifying request (POST, PATCH, MERGE,
 * PUT, DELETE) must carry an `x-csrf-token` that was fetched (`x-csrf-token: Fetch` on a
 * GET) in the same security session, and that session's cookies (`SAP_SESSIONID_<SID>_<client>`,
 * `sap-XSRF_<SID>_<client>` — names SAP may change, so every cookie is kept). A token
 * that expired with its session gets 403 with `x-csrf-token: Required`: fetch again.
 *
 * Sessions live in a module-level cache keyed by system, client and identity, so a warm
 * Lambda keeps its session (and skips the fetch) across invocations.
 */

/** One security session: its cookies and, once fetched, its CSRF token. */
export class SapSession {
  #token: string | undefined;
  readonly #cookies = new Map<string, string>();
  #fetching: Promise<string> | undefined;

  /** The `Cookie` header value, or undefined before SAP set any cookie. */
  cookieHeader(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** Keeps the cookies SAP set (and drops the ones it expired) from an answer's `Set-Cookie` headers. */
  absorb(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = '', setting = ''] = attribute.split('=').map((part) => part.trim());
        if (/^max-age$/i.test(key)) return Number(setting) <= 0;
        if (/^expires$/i.test(key)) return Date.parse(setting) <= Date.now();
        return false;
      });
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  /** The session's CSRF token: the one held, or one `fetch` gets (callers asking together share one fetch). */
  async csrfToken(fetchToken: () => Promise<string>): Promise<string> {
    if (this.#token !== undefined) return this.#token;
    this.#fetching ??= fetchToken()
      .then((token) => {
        this.#token = token;
        return token;
      })
      .finally(() => {
        this.#fetching = undefined;
      });
    return this.#fetching;
  }

  /** SAP refused `token` (403 `Required`): forget it, and the session it belonged to, unless already replaced. */
  expire(token: string): void {
    if (this.#token !== token) return;
    this.#token = undefined;
    this.#cookies.clear();
  }
}

const sessions = new Map<string, SapSession>();

/** The session for one SAP system, client and identity, created empty the first time. */
export function sapSession(key: string): SapSession {
  let session = sessions.get(key);
  if (session === undefined) {
    session = new SapSession();
    sessions.set(key, session);
  }
  return session;
}

/** Forgets every session (tests that must start cold). */
export function clearSapSessions(): void {
  sessions.clear();
}
