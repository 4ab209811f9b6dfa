/**
 * Transport to Odoo's external JSON-RPC API (`POST <url>/jsonrpc`, services
 * `common` and `object`): authentication with an API key, the uid cached per
 * client, timeouts, HTTP status handling and the classification of Odoo's
 * server errors into Harmony's two error families. Nothing here knows about
 * partners or orders; that is `mapping.ts` and `index.ts`.
 */
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { VendorHttp } from '../../../core/vendor-http.ts';

const SYSTEM = 'odoo';

/** Where and as whom to call Odoo. */
export interface OdooClientOptions {
  /** Base URL of the Odoo server, e.g. `https://acme.odoo.com` (no trailing `/jsonrpc`). */
  readonly url: string;
  /** Database name, e.g. `acme`. */
  readonly db: string;
  /** The API user's login. */
  readonly username: string;
  /** An API key of that user (Odoo takes it where the password goes). */
  readonly apiKey: string;
  /** Per-request timeout in milliseconds. @default 30000 */
  readonly timeoutMs?: number;
  /** The shared request budget of this Odoo. @default none */
  readonly rateLimiter?: RateLimiter | undefined;
}

const ClientOptions = z.object({
  url: z.url({ protocol: /^https?$/ }),
  db: z.string().min(1),
  username: z.string().min(1),
  apiKey: z.string().min(1),
  timeoutMs: z.number().int().positive().max(900_000).default(30_000),
});

/** The `data` member of an Odoo JSON-RPC error (`odoo/http.py`, `serialize_exception`). */
const OdooErrorData = z.object({
  name: z.string(),
  message: z.string(),
  debug: z.string().optional(),
  arguments: z.array(z.unknown()).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
});

/** A JSON-RPC 2.0 response as Odoo writes it: `result` (left out when the method returned None) or `error`. */
const JsonRpcResponse = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.number(), z.string(), z.null()]).optional(),
  result: z.unknown().optional(),
  error: z
    .object({
      code: z.number(),
      message: z.string(),
      data: OdooErrorData.optional(),
    })
    .optional(),
});
/** The `error` member of an Odoo JSON-RPC response: code 200 "Odoo Server Error" with the exception in `data`. */
export type OdooJsonRpcError = NonNullable<z.infer<typeof JsonRpcResponse>['error']>;

/** What `common.authenticate` returns: the uid, or `false` for bad credentials. */
const AuthenticateResult = z.union([z.number().int().positive(), z.literal(false)]);

/** Exceptions that mean "this call will fail the same way again". */
const PERMANENT_EXCEPTIONS: ReadonlySet<string> = new Set([
  'odoo.exceptions.UserError',
  'odoo.exceptions.ValidationError',
  'odoo.exceptions.AccessError',
  'odoo.exceptions.AccessDenied',
  'odoo.exceptions.MissingError',
  'odoo.exceptions.RedirectWarning',
  'odoo.exceptions.Warning',
  'builtins.ValueError',
  'builtins.TypeError',
  'builtins.KeyError',
  'builtins.AttributeError',
]);

/** PostgreSQL concurrency failures Odoo retries itself (`odoo/service/model.py`) and may still give up on. */
const TRANSIENT_DATABASE_ERROR = /^psycopg2?\.(errors\.)?(SerializationFailure|TransactionRollbackError|DeadlockDetected|LockNotAvailable|OperationalError|InterfaceError)$/;
const TRANSIENT_DATABASE_MESSAGE = /could not serialize access|concurrent update|deadlock detected|could not obtain lock|server closed the connection/i;

/** An Odoo JSON-RPC client for one database and one API user. */
export class OdooClient {
  private readonly options: z.infer<typeof ClientOptions>;
  private readonly endpoint: string;
  private uid: number | undefined;
  private authenticating: Promise<number> | undefined;
  private requestId = 0;
  private readonly http: VendorHttp;

  constructor(options: OdooClientOptions) {
    const parsed = ClientOptions.safeParse(options);
    if (!parsed.success) {
      throw new PermanentError(`Invalid Odoo client options: ${z.prettifyError(parsed.error)}`, { system: SYSTEM, code: 'configuration' });
    }
    this.options = parsed.data;
    this.endpoint = `${parsed.data.url.replace(/\/+$/, '')}/jsonrpc`;
    this.http = new VendorHttp({
      system: SYSTEM,
      timeoutMs: parsed.data.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: `${SYSTEM}:${new URL(parsed.data.url).host}/${parsed.data.db}`,
      describeFailure: () => '',
    });
  }

  /**
   * Logs in with `common.authenticate(db, login, apiKey, {})` and caches the uid.
   * PermanentError 'Odoo rejected the credentials' when Odoo answers `false`.
   */
  async authenticate(): Promise<number> {
    if (this.uid !== undefined) return this.uid;
    this.authenticating ??= this.login().finally(() => {
      this.authenticating = undefined;
    });
    return this.authenticating;
  }

  /**
   * Calls `model.method(*args, **kwargs)` through `object.execute_kw` and validates
   * the result with `result`. Authenticates first; when Odoo answers AccessDenied
   * (e.g. the session or key changed) it authenticates once more and retries once.
   */
  async executeKw<Result>(
    model: string,
    method: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>>,
    result: z.ZodType<Result>,
  ): Promise<Result> {
    const operation = `${model}.${method}`;
    for (let attempt = 1; ; attempt++) {
      const uid = await this.authenticate();
      const response = await this.call('object', 'execute_kw', [
        this.options.db,
        uid,
        this.options.apiKey,
        model,
        method,
        args,
        kwargs,
      ], operation);
      if (response.error !== undefined) {
        if (attempt === 1 && isAuthenticationFailure(response.error)) {
          this.uid = undefined;
          continue;
        }
        throw classifyServerError(response.error, operation);
      }
      return parseResult(result, response.result, operation);
    }
  }

  private async login(): Promise<number> {
    const { db, username, apiKey } = this.options;
    const response = await this.call('common', 'authenticate', [db, username, apiKey, {}], 'common.authenticate');
    if (response.error !== undefined) throw classifyServerError(response.error, 'common.authenticate');
    const uid = parseResult(AuthenticateResult, response.result, 'common.authenticate');
    if (uid === false) {
      throw new PermanentError('Odoo rejected the credentials', { system: SYSTEM, code: 'odoo.exceptions.AccessDenied' });
    }
    this.uid = uid;
    return uid;
  }

  /** One JSON-RPC round trip; transport failures become RetryableError/PermanentError, Odoo errors are returned. */
  private async call(service: 'common' | 'object', method: string, args: readonly unknown[], operation: string): Promise<z.infer<typeof JsonRpcResponse>> {
    const id = ++this.requestId;
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id });
    const { text } = await this.http.request({
      operation,
      method: 'POST',
      url: this.endpoint,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body,
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new PermanentError(`Odoo answered ${operation} with a body that is not JSON: ${text.slice(0, 120)}`, {
        system: SYSTEM,
        code: 'malformed-response',
        cause: error,
      });
    }
    const parsed = JsonRpcResponse.safeParse(json);
    if (!parsed.success) {
      throw new PermanentError(`Odoo answered ${operation} with a malformed JSON-RPC response: ${z.prettifyError(parsed.error)}`, {
        system: SYSTEM,
        code: 'malformed-response',
        cause: parsed.error,
      });
    }
    if (parsed.data.id !== undefined && parsed.data.id !== null && parsed.data.id !== id) {
      throw new PermanentError(`Odoo answered ${operation} with JSON-RPC id ${String(parsed.data.id)}, expected ${id}`, {
        system: SYSTEM,
        code: 'malformed-response',
      });
    }
    return parsed.data;
  }
}

function parseResult<Result>(schema: z.ZodType<Result>, value: unknown, operation: string): Result {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new PermanentError(`Odoo's answer to ${operation} is not what Harmony expects: ${z.prettifyError(parsed.error)}`, {
    system: SYSTEM,
    code: 'malformed-response',
    cause: parsed.error,
  });
}

/** AccessDenied from `security.check`, or Odoo's "session expired" JSON-RPC code 100. */
function isAuthenticationFailure(error: OdooJsonRpcError): boolean {
  return error.code === 100 || error.data?.name === 'odoo.exceptions.AccessDenied';
}

/**
 * Sorts an Odoo server error into an error family: PostgreSQL concurrency
 * failures (serialization failure, deadlock, lock not available) and
 * `odoo.exceptions.ConcurrencyError` are retryable; business and programming
 * errors (UserError, ValidationError, AccessError, MissingError, ValueError…)
 * are permanent and carry Odoo's message, with the exception name as `code`.
 * Unknown exceptions are permanent too: retrying a server bug does not fix it.
 */
export function classifyServerError(error: OdooJsonRpcError, operation: string): RetryableError | PermanentError {
  const name = error.data?.name;
  const message = error.data?.message || error.message;
  const details = { system: SYSTEM, code: name ?? `jsonrpc-${error.code}`, cause: error };
  if (name === 'odoo.exceptions.ConcurrencyError' || (name !== undefined && TRANSIENT_DATABASE_ERROR.test(name))) {
    return new RetryableError(`${message} (${operation})`, details);
  }
  if (name !== undefined && name.startsWith('psycopg') && TRANSIENT_DATABASE_MESSAGE.test(message)) {
    return new RetryableError(`${message} (${operation})`, details);
  }
  if (name !== undefined && PERMANENT_EXCEPTIONS.has(name)) {
    return new PermanentError(`${message} (${operation})`, details);
  }
  return new PermanentError(`Odoo failed ${operation}: ${message}`, details);
}



