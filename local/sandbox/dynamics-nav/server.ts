/**
 * A Dynamics NAV–compatible sandbox on `node:http`: the SOAP 1.1 web services Harmony's
 * NAV connector uses, as NAV serves them, with HTTP Basic (NavUserPassword).
 *
 * Routes (company name URL-encoded, e.g. `CRONUS%20International%20Ltd.`):
 * - `POST /<instance>/WS/<company>/Page/Customer` — `Create`, `Read`, `ReadMultiple`
 * - `POST /<instance>/WS/<company>/Page/SalesOrder` — `Create` (with SalesLines), `Read`,
 *   `ReadMultiple`, `Delete`
 * - `POST /<instance>/WS/<company>/Codeunit/HarmonySalesOrder` — `ReleaseSalesOrder`
 * - `POST|GET|DELETE /__sandbox/faults` — a FaultRequest; operations are named
 *   `<Service>.<Operation>`, e.g. `SalesOrder.Read`, `HarmonySalesOrder.ReleaseSalesOrder`.
 *   `500` is a NAV Fault (HTTP 500) saying a record was locked ("Please retry"); `429`
 *   HTTP 429 with Retry-After; `malformed` the real answer cut in half; `timeout` holds the
 *   request; `commit-then-drop` runs the call, commits, then destroys the connection.
 *   `x-sandbox-faults: bypass` is never faulted.
 * - `POST /__sandbox/concurrent-edits` — `{ service, no, count }`: after each of the next
 *   `count` answers that carry that record, another session writes it, so the Key the
 *   caller just read is stale (to test how a client handles NAV's concurrency Fault).
 *
 * Requests must be SOAP 1.1 (`text/xml`; NAV's basicHttpBinding answers 415 otherwise),
 * their body element in the service's namespace, and their SOAPAction empty or
 * `<namespace>:<Operation>`. State lives in `<dataDir>/dynamics-nav.sqlite`; every write
 * commits before it is answered, so a restarted sandbox has every answered write.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { readEnvelope } from '../../../functions/connectors/soap/envelope.ts';
import { readXml, type XmlElement } from '../../../functions/connectors/soap/xml-reader.ts';
import { writeElement, type XmlFields } from '../../../functions/connectors/soap/xml-writer.ts';
import { bypassesFaults, FaultInjector, serveFaultRoutes, type Fault } from '../faults.ts';
import { readBody, startSandboxServer } from '../http-server.ts';
import { ConcurrentEditRequest, ConcurrentEdits } from './concurrent-edits.ts';
import { CustomerPage } from './customer-page.ts';
import { badRequest, lockTimeout, NavError, navFaultEnvelope } from './nav-errors.ts';
import { pageNamespace } from './page-fields.ts';
import { releaseSalesOrder, SalesOrderPage } from './sales-order-page.ts';
import { NavStore, type NavRecord } from './store.ts';

/** How to start the sandbox. */
export interface DynamicsNavSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** Folder of `dynamics-nav.sqlite`; undefined keeps everything in memory. */
  readonly dataDir?: string;
  /** The NavUserPassword user Basic auth accepts. */
  readonly username: string;
  readonly password: string;
  /** @default 'CRONUS International Ltd.' */
  readonly company?: string;
  /** Server instance in the URL. @default 'DynamicsNAV' */
  readonly serverInstance?: string;
  /** The company's local currency (a blank Currency Code). @default 'EUR' */
  readonly localCurrency?: string;
}

/** A running sandbox. */
export interface DynamicsNavSandbox {
  /** Server root, e.g. `http://127.0.0.1:4026`. */
  readonly url: string;
  readonly port: number;
  /** The company's SOAP base, `<url>/<instance>/WS/<company>` — what DYNAMICS_NAV_URL takes. */
  readonly baseUrl: string;
  readonly company: string;
  readonly localCurrency: string;
  /** Pending faults; the queue `POST /__sandbox/faults` fills. */
  readonly faults: FaultInjector;
  /** Stops listening, drops held requests and closes the store. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const CODEUNIT = 'HarmonySalesOrder';
const CODEUNIT_NAMESPACE = `urn:microsoft-dynamics-schemas/codeunit/${CODEUNIT}`;
const SOAP_11 = 'http://schemas.xmlsoap.org/soap/envelope/';

/** An answer to a SOAP call: the result element, and the records it carries (for concurrent edits). */
interface CallResult {
  readonly element: { readonly name: string; readonly namespace: string; readonly content?: XmlFields };
  readonly records: readonly NavRecord[];
}

/** Starts the sandbox and resolves once it listens. */
export async function startDynamicsNavSandbox(options: DynamicsNavSandboxOptions): Promise<DynamicsNavSandbox> {
  const host = options.host ?? '127.0.0.1';
  const company = options.company ?? 'CRONUS International Ltd.';
  const instance = options.serverInstance ?? 'DynamicsNAV';
  const store = new NavStore(options.dataDir);
  const customers = new CustomerPage(store);
  const orders = new SalesOrderPage(store);
  const faults = new FaultInjector();
  const concurrentEdits = new ConcurrentEdits();
  const expectedAuthorization = `Basic ${Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64')}`;

  const dispatchPage = (service: string, operation: string, request: XmlElement): CallResult => {
    const namespace = pageNamespace(service);
    const page = service === 'Customer' ? customers : orders;
    const result = (content: XmlFields | undefined, records: readonly NavRecord[]): CallResult => ({
      element: { name: `${operation}_Result`, namespace, ...(content === undefined ? {} : { content }) },
      records,
    });
    switch (operation) {
      case 'Read': {
        const record = page.read(request);
        return result(record === undefined ? undefined : { [service]: page.entity(record) }, record === undefined ? [] : [record]);
      }
      case 'ReadMultiple': {
        const records = page.readMultiple(request);
        return result({ ReadMultiple_Result: records.length === 0 ? null : { [service]: records.map((record) => page.entity(record)) } }, records);
      }
      case 'Create': {
        const entity = request.children.find((child) => child.name === service);
        if (entity === undefined) throw badRequest(`Create needs a ${service} element.`);
        return result({ [service]: page.entity(page.create(entity)) }, []);
      }
      case 'Delete':
        if (service === 'SalesOrder') return result({ Delete_Result: orders.delete(request) }, []);
    }
    throw contractMismatch(`${namespace}:${operation}`);
  };

  const dispatch = (kind: 'Page' | 'Codeunit', service: string, operation: string, request: XmlElement): CallResult => {
    if (kind === 'Page') return dispatchPage(service, operation, request);
    if (operation !== 'ReleaseSalesOrder') throw contractMismatch(`${CODEUNIT_NAMESPACE}:${operation}`);
    const documentNo = request.children.find((child) => child.name === 'documentNo');
    if (documentNo === undefined) throw badRequest('The parameter documentNo of ReleaseSalesOrder is missing.');
    releaseSalesOrder(store, documentNo.text);
    return { element: { name: 'ReleaseSalesOrder_Result', namespace: CODEUNIT_NAMESPACE }, records: [] };
  };

  const serveSoap = (kind: 'Page' | 'Codeunit', service: string, body: string, request: IncomingMessage, response: ServerResponse): void => {
    if (request.headers.authorization !== expectedAuthorization) {
      send(response, 401, 'text/plain; charset=utf-8', '', { 'WWW-Authenticate': `Basic realm="${host}"` });
      return;
    }
    const contentType = request.headers['content-type'] ?? '';
    if (!/^text\/xml\b/i.test(contentType)) {
      send(response, 415, 'text/plain; charset=utf-8', `Cannot process the message because the content type '${contentType}' was not the expected type 'text/xml; charset=utf-8'.`);
      return;
    }
    let payload: XmlElement;
    try {
      const envelope = readEnvelope(readXml(body));
      if (envelope.version !== '1.1' || envelope.payload === undefined) throw new Error('expected a SOAP 1.1 envelope with a body element');
      payload = envelope.payload;
    } catch (error) {
      sendFault(response, new NavError('System.Xml.XmlException', `The request is not a readable SOAP 1.1 message: ${(error as Error).message}`, 400));
      return;
    }
    const namespace = kind === 'Page' ? pageNamespace(service) : CODEUNIT_NAMESPACE;
    const action = String(request.headers.soapaction ?? '').replace(/^"|"$/g, '');
    if (payload.namespace !== namespace || (action !== '' && action !== `${namespace}:${payload.name}`)) {
      sendFault(response, contractMismatch(action === '' ? `${payload.namespace}:${payload.name}` : action));
      return;
    }
    const injected: Fault | undefined = bypassesFaults(request.headers) ? undefined : faults.take(`${service}.${payload.name}`);
    if (injected?.kind === 'timeout') {
      server.hold(response);
      return;
    }
    if (injected?.kind === '429') {
      send(response, 429, 'text/plain; charset=utf-8', 'Too Many Requests', { 'Retry-After': String(injected.retryAfterSeconds) });
      return;
    }
    if (injected?.kind === '500') {
      sendFault(response, lockTimeout(service === 'Customer' ? 'Customer' : 'Sales Header'));
      return;
    }
    let answer: string;
    let status = 200;
    let records: readonly NavRecord[] = [];
    try {
      const result = dispatch(kind, service, payload.name, payload);
      answer = navEnvelope(writeElement(result.element));
      records = result.records;
    } catch (error) {
      if (!(error instanceof NavError)) throw error;
      answer = navFaultEnvelope(error);
      status = error.status;
    }
    concurrentEdits.apply(records, store);
    if (injected?.kind === 'commit-then-drop') {
      response.destroy();
      return;
    }
    if (injected?.kind === 'malformed') {
      send(response, 200, 'text/xml; charset=utf-8', answer.slice(0, Math.floor(answer.length / 2)));
      return;
    }
    send(response, status, 'text/xml; charset=utf-8', answer);
  };

  const serveControl = (path: string, method: string, body: string, response: ServerResponse): boolean => {
    const faultRoute = serveFaultRoutes(faults, method, path, body);
    if (faultRoute !== undefined) {
      send(response, faultRoute.status, 'application/json', faultRoute.body === undefined ? '' : JSON.stringify(faultRoute.body));
      return true;
    }
    if (path === '/__sandbox/concurrent-edits' && method === 'POST') {
      acceptJson(ConcurrentEditRequest, body, response, (request) => {
        concurrentEdits.add(request);
        return request.count;
      });
      return true;
    }
    return false;
  };

  const route = new RegExp(`^/${escapeRegExp(instance)}/WS/([^/]+)/(Page|Codeunit)/([^/]+)$`);
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
    const method = request.method ?? 'GET';
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === undefined) {
      send(response, 413, 'text/plain', 'Request Entity Too Large\n');
      return;
    }
    if (serveControl(path, method, body, response)) return;
    const match = route.exec(path);
    const service = match === null ? undefined : decodeURIComponent(match[3]!);
    const known = match !== null && (match[2] === 'Page' ? service === 'Customer' || service === 'SalesOrder' : service === CODEUNIT);
    if (match === null || decodeURIComponent(match[1]!) !== company || !known) {
      send(response, 404, 'text/plain; charset=utf-8', 'Not Found\n');
      return;
    }
    if (method !== 'POST') {
      send(response, 405, 'text/plain; charset=utf-8', 'The sandbox serves SOAP calls (POST), not WSDL.\n', { Allow: 'POST' });
      return;
    }
    serveSoap(match[2] as 'Page' | 'Codeunit', service!, body, request, response);
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
    baseUrl: `${server.url}/${instance}/WS/${encodeURIComponent(company)}`,
    company,
    localCurrency: options.localCurrency ?? 'EUR',
    faults,
    close: () => server.close(),
  };
}

/** NAV's answer envelope (it writes the `Soap` prefix). */
function navEnvelope(bodyElement: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Soap:Envelope xmlns:Soap="${SOAP_11}"><Soap:Body>${bodyElement}</Soap:Body></Soap:Envelope>`;
}

/** WCF's Fault for an action the service does not have. */
function contractMismatch(action: string): NavError {
  return new NavError(
    'ActionNotSupported',
    `The message with Action '${action}' cannot be processed at the receiver, due to a ContractFilter mismatch at the EndpointDispatcher.`,
  );
}

function sendFault(response: ServerResponse, error: NavError): void {
  send(response, error.status, 'text/xml; charset=utf-8', navFaultEnvelope(error));
}

/** Validates a control request's JSON body: 400 naming what is wrong, or 201 with what `accept` says is pending. */
function acceptJson<Schema extends z.ZodType>(schema: Schema, body: string, response: ServerResponse, accept: (request: z.infer<Schema>) => number): void {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    send(response, 400, 'application/json', JSON.stringify({ error: 'body is not JSON' }));
    return;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) send(response, 400, 'application/json', JSON.stringify({ error: z.prettifyError(parsed.error) }));
  else send(response, 201, 'application/json', JSON.stringify({ pending: accept(parsed.data) }));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  response.end(body);
}
