/**
 * An Odoo-compatible sandbox server (node:http only) for development and tests.
 * It speaks Odoo's external RPC API — XML-RPC at `/xmlrpc/2/common` and
 * `/xmlrpc/2/object`, JSON-RPC at `/jsonrpc` — so the Harmony adapter and
 * existing Odoo client libraries work against it unchanged, and it answers
 * errors the way Odoo does (XML-RPC faults, JSON-RPC `error` objects).
 *
 * Tests make it misbehave through `POST /__sandbox/faults` (a FaultRequest whose
 * `operation` is `common.<method>` or `<model>.<method>`, e.g.
 * `sale.order.action_confirm`; kinds `500`, `429`, `timeout`, `commit-then-drop`)
 * and `DELETE /__sandbox/faults` (`GET` tells how many calls are still due to fail);
 * a request with `x-sandbox-faults: bypass` is never faulted.
 * `GET /__sandbox/statistics` tells how many rows the store wrote.
 *
 * State lives in `<dataDir>/odoo-sandbox.sqlite` (node:sqlite, WAL, one row per
 * record), locked to this process; every call that changes something commits its
 * rows before it is answered, so a sandbox killed at any moment restarts with
 * every answered call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { bypassesFaults, FaultInjector, serveFaultRoutes, type Fault } from '../faults.ts';
import { readBody, startSandboxServer } from '../http-server.ts';
import { OdooDatabase } from './database.ts';
import { createModels } from './models.ts';
import {
  accessDenied,
  asOdooException,
  jsonRpcError,
  OdooException,
  typeError,
  xmlRpcFault,
} from './odoo-exceptions.ts';
import { OdooRecordStore, type StoreStatistics } from './record-store.ts';
import { SANDBOX_UID, seedDatabase } from './seed.ts';
import { parseMethodCall, serializeFault, serializeMethodResponse, XmlRpcParseError } from './xml-rpc.ts';

export { SANDBOX_TAX_RATE } from './models.ts';
export { SANDBOX_UID, SEEDED_SKUS } from './seed.ts';
export type { StoreStatistics } from './record-store.ts';

/** How to start an Odoo sandbox. */
export interface OdooSandboxOptions {
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Directory for the durable state (`odoo-sandbox.sqlite`); undefined keeps everything in memory. */
  readonly dataDir?: string;
  /** The one database name `authenticate` accepts. */
  readonly db: string;
  /** The login of the sandbox's API user (uid 2). */
  readonly username: string;
  /** The API key (used as the password) of that user. */
  readonly apiKey: string;
  /**
   * Show the `sale.order.cancel` wizard even when `disable_cancel_warning` is in
   * the context, as customised databases do. @default false
   */
  readonly cancelWizardIgnoresContext?: boolean;
}

/** A running Odoo sandbox. */
export interface OdooSandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234`; clients append `/jsonrpc` or `/xmlrpc/2/...`. */
  readonly url: string;
  readonly port: number;
  /** The database name to use. */
  readonly db: string;
  /** Pending faults; the same queue `POST /__sandbox/faults` fills. */
  readonly faults: FaultInjector;
  /** Rows the store has written since it started (`GET /__sandbox/statistics`). */
  statistics(): StoreStatistics;
  /** Stops listening, drops held (timed-out) requests and closes every connection. */
  close(): Promise<void>;
}

/** What `common.version()` returns (`odoo/service/common.py`, `exp_version`). */
const SERVER_VERSION = {
  server_version: '17.0',
  server_version_info: [17, 0, 0, 'final', 0, ''],
  server_serie: '17.0',
  protocol_version: 1,
};

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Body of a JSON-RPC call to `/jsonrpc`. */
const JsonRpcRequest = z.object({
  jsonrpc: z.literal('2.0').optional(),
  method: z.string().optional(),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

/** Starts an Odoo sandbox and resolves once it listens. */
export async function startOdooSandbox(options: OdooSandboxOptions): Promise<OdooSandbox> {
  const host = options.host ?? '127.0.0.1';
  const store = new OdooRecordStore(options.dataDir);
  const database = new OdooDatabase(store, {
    models: createModels({ cancelWizardIgnoresContext: options.cancelWizardIgnoresContext ?? false }),
  });
  if (store.isEmpty()) seedDatabase(database);

  const faults = new FaultInjector();

  /** `odoo.service.security.check`: the database, user id and password/API key must all match. */
  const checkCredentials = (db: unknown, uid: unknown, password: unknown): number => {
    if (db !== options.db || uid !== SANDBOX_UID || password !== options.apiKey) throw accessDenied();
    return SANDBOX_UID;
  };

  const dispatchCommon = (method: string, args: readonly unknown[]): unknown => {
    switch (method) {
      case 'version':
        return SERVER_VERSION;
      case 'about':
        return 'See http://openerp.com';
      case 'login':
      case 'authenticate': {
        const expected = method === 'login' ? 3 : 4;
        if (args.length !== expected) {
          throw typeError(`exp_${method}() takes ${expected} positional arguments but ${args.length} were given`);
        }
        const [db, login, password] = args;
        return db === options.db && login === options.username && password === options.apiKey ? SANDBOX_UID : false;
      }
      default:
        throw new OdooException('builtins.Exception', `Method not found: ${method}`);
    }
  };

  const dispatchObject = (method: string, args: readonly unknown[]): unknown => {
    if (method !== 'execute_kw' && method !== 'execute') {
      throw new OdooException('builtins.NameError', `Method not available ${method}`);
    }
    const [db, uid, password, model, modelMethod, ...rest] = args;
    const userId = checkCredentials(db, uid, password);
    if (typeof model !== 'string' || typeof modelMethod !== 'string') {
      throw typeError(`${method}() expects the model and method names as strings`);
    }
    if (method === 'execute') return database.execute(userId, model, modelMethod, rest, {});
    const [positional = [], named = {}] = rest;
    if (rest.length > 2) throw typeError(`execute_kw() takes from 6 to 7 positional arguments but ${args.length + 1} were given`);
    if (!Array.isArray(positional)) throw typeError(`execute_kw() expects the positional arguments as a list, got ${JSON.stringify(positional)}`);
    if (named === null || named === false) return database.execute(userId, model, modelMethod, positional, {});
    if (typeof named !== 'object' || Array.isArray(named)) {
      throw typeError(`execute_kw() expects the keyword arguments as a dictionary, got ${JSON.stringify(named)}`);
    }
    return database.execute(userId, model, modelMethod, positional, named as Record<string, unknown>);
  };

  const dispatch = (service: string, method: string, args: readonly unknown[]): unknown => {
    if (service === 'common') return dispatchCommon(method, args);
    if (service === 'object') return dispatchObject(method, args);
    throw new OdooException('builtins.KeyError', `'${service}'`);
  };

  /** The fault-injection name of a call: `common.authenticate`, `sale.order.create`… */
  const operationOf = (service: string, method: string, args: readonly unknown[]): string => {
    if (service === 'object' && typeof args[3] === 'string' && typeof args[4] === 'string') return `${args[3]}.${args[4]}`;
    return `${service}.${method}`;
  };

  /** The fault this request must suffer: none when it asked to bypass faults. */
  const faultFor = (request: IncomingMessage, operation: string): Fault | undefined =>
    bypassesFaults(request.headers) ? undefined : faults.take(operation);

  /** Answers with the injected fault; true when the request must not be served. */
  const suffer = (fault: Fault | undefined, response: ServerResponse): boolean => {
    if (fault === undefined || fault.kind === 'commit-then-drop') return false;
    if (fault.kind === 'timeout') {
      server.hold(response);
      return true;
    }
    if (fault.kind === 'malformed') {
      // A proxy's truncated answer: neither a JSON-RPC nor an XML-RPC response.
      send(response, 200, 'application/json', '{"jsonrpc": "2.0", "id": 1, "result": [{"id": 4');
      return true;
    }
    if (fault.kind === '429') {
      send(response, 429, 'text/html; charset=utf-8', '<html><head><title>429 Too Many Requests</title></head><body><h1>429 Too Many Requests</h1></body></html>\n', {
        'Retry-After': String(fault.retryAfterSeconds),
      });
      return true;
    }
    send(response, 500, 'text/html; charset=utf-8', '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n');
    return true;
  };

  /** Sends an answer, or for `commit-then-drop` (the call has run and committed) ends the connection without one. */
  const answer = (fault: Fault | undefined, response: ServerResponse, contentType: string, body: string): void => {
    if (fault?.kind === 'commit-then-drop') response.destroy();
    else send(response, 200, contentType, body);
  };

  const serveXmlRpc = (service: string, body: string, request: IncomingMessage, response: ServerResponse): void => {
    let call;
    try {
      call = parseMethodCall(body);
    } catch (error) {
      const message = error instanceof XmlRpcParseError ? error.message : String(error);
      const fault = xmlRpcFault(new OdooException('builtins.Exception', `ExpatError: ${message}`));
      send(response, 200, 'text/xml; charset=utf-8', serializeFault(fault.faultCode, fault.faultString));
      return;
    }
    const args = call.params.map(fromXmlRpc);
    const injected = faultFor(request, operationOf(service, call.methodName, args));
    if (suffer(injected, response)) return;
    try {
      const result = dispatch(service, call.methodName, args);
      answer(injected, response, 'text/xml; charset=utf-8', serializeMethodResponse(result));
    } catch (error) {
      const fault = xmlRpcFault(asOdooException(error));
      answer(injected, response, 'text/xml; charset=utf-8', serializeFault(fault.faultCode, fault.faultString));
    }
  };

  const serveJsonRpc = (body: string, request: IncomingMessage, response: ServerResponse): void => {
    let parsed: z.infer<typeof JsonRpcRequest>;
    try {
      const result = JsonRpcRequest.safeParse(JSON.parse(body));
      if (!result.success) throw new Error('not a JSON-RPC request object');
      parsed = result.data;
    } catch {
      send(response, 400, 'text/html; charset=utf-8', '<p>Invalid JSON data</p>\n');
      return;
    }
    const id = parsed.id ?? null;
    const params = parsed.params ?? {};
    const service = typeof params.service === 'string' ? params.service : '';
    const method = typeof params.method === 'string' ? params.method : '';
    const args = Array.isArray(params.args) ? params.args : undefined;
    const injected = faultFor(request, operationOf(service, method, args ?? []));
    if (suffer(injected, response)) return;
    let payload: Record<string, unknown>;
    try {
      if (service === '' || method === '' || args === undefined) {
        throw typeError("jsonrpc() missing required arguments: 'service', 'method' and 'args'");
      }
      const result = dispatch(service, method, args);
      payload = { jsonrpc: '2.0', id };
      // Odoo leaves `result` out when the method returned None.
      if (result !== null && result !== undefined) payload.result = result;
    } catch (error) {
      payload = { jsonrpc: '2.0', id, error: jsonRpcError(asOdooException(error)) };
    }
    answer(injected, response, 'application/json', JSON.stringify(payload));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
    const method = request.method ?? 'GET';
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === undefined) {
      send(response, 413, 'text/plain', 'Request Entity Too Large\n');
      return;
    }
    const faultRoute = serveFaultRoutes(faults, method, path, body);
    if (faultRoute !== undefined) {
      send(response, faultRoute.status, 'application/json', faultRoute.body === undefined ? '' : JSON.stringify(faultRoute.body));
      return;
    }
    if (path === '/__sandbox/statistics' && method === 'GET') {
      send(response, 200, 'application/json', JSON.stringify(store.statistics()));
      return;
    }
    const xmlRpc = /^\/xmlrpc\/2\/([a-z_]+)$/.exec(path);
    if (xmlRpc !== null && method === 'POST') {
      serveXmlRpc(xmlRpc[1]!, body, request, response);
      return;
    }
    if (path === '/jsonrpc' && method === 'POST') {
      serveJsonRpc(body, request, response);
      return;
    }
    send(response, 404, 'text/html; charset=utf-8', '<!doctype html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n');
  };

  const server = await startSandboxServer({
    host,
    port: options.port ?? 0,
    handle,
    fail: (response, error) => send(response, 500, 'text/plain', `sandbox error: ${String(error)}\n`),
    release: () => store.close(),
  });

  return {
    url: server.url,
    port: server.port,
    db: options.db,
    faults,
    statistics: () => store.statistics(),
    close: () => server.close(),
  };
}

/** XML-RPC values as the ORM takes them: binary as base64 text (as Odoo's binary fields expect). */
function fromXmlRpc(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(fromXmlRpc);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, fromXmlRpc(member)]));
  }
  return value;
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  response.end(body);
}
