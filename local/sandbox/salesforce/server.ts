/**
 * A Salesforce-compatible sandbox org on `node:http`: the OAuth token endpoint (client
 * credentials and JWT bearer flows), the REST API subset Harmony's adapter uses through
 * jsforce (sObject Rows, sObject create, SOQL query with paging), Salesforce's error bodies
 * and id formats, and Outbound Messages for Opportunities that become won.
 *
 * Routes:
 * - `POST /services/oauth2/token` — see oauth-endpoint.ts
 * - `GET|PATCH /services/data/vXX.X/sobjects/<Object>/<id>`, `POST …/sobjects/<Object>`,
 *   `GET …/query?q=<SOQL>`, `GET …/query/<locator>-<offset>` — see rest-api.ts; they need
 *   `Authorization: Bearer <token>` of a token the sandbox issued and has not expired
 * - `POST|GET|DELETE /__sandbox/faults` — a `FaultRequest`; operations are named
 *   `POST /services/oauth2/token`, `GET /sobjects/Opportunity`, `PATCH /sobjects/Opportunity`,
 *   `POST /sobjects/Account`, `GET /query`…
 * - `POST|DELETE /__sandbox/responses` — answer the next N calls of an operation with a given
 *   status, body and headers (a recorded Salesforce answer)
 * - `POST /__sandbox/expire-tokens` — every issued access token stops working (sessions end)
 * - `POST /__sandbox/opportunities` — see opportunity-seeding.ts; answers the created ids
 * - `GET /__sandbox/records/<id>` — any record as sObject Rows would return it
 *
 * A request with `x-sandbox-faults: bypass` is never faulted and gets no canned response.
 * State lives in `<dataDir>/salesforce.sqlite` (see org-store.ts); a write commits before it
 * is answered, and an Opportunity it made won is handed to the Outbound Message queue after
 * the commit — once per transition to won, as a workflow rule "created, and any time it's
 * edited to subsequently meet criteria" on `IsWon = true` fires.
 */
import type http from 'node:http';
import { toEighteenCharacterId } from '../../../functions/connectors/crm/salesforce/record-id.ts';
import { CannedResponses } from '../canned-responses.ts';
import { bypassesFaults, FaultInjector, serveFaultRoutes } from '../faults.ts';
import { readBody, startSandboxServer, withJsonBody } from '../http-server.ts';
import { issueToken, readCertificate, type ConnectedApp } from './oauth-endpoint.ts';
import { OpportunityRequest, seedOpportunity } from './opportunity-seeding.ts';
import { OrgStore, type StoredRecord } from './org-store.ts';
import type { Org } from './records.ts';
import { invalidSession, notFound, restError, SalesforceApiError, send, serverError, tooManyRequests, type SandboxAnswer } from './responses.ts';
import { recordBody, serveRest } from './rest-api.ts';
import { orgSchema, type OrgFeatures } from './schema.ts';
import { seedOrg } from './seed.ts';

/** A dateTime as the REST API writes it, e.g. `2026-11-23T20:46:00.790+0000`. */
const REST_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{4}$/;

/** What the sandbox hands an Opportunity that became won (the Outbound Message sender's interface). */
export interface OutboundMessageQueue {
  enqueue(sObjectType: 'Opportunity', fields: Record<string, string | number | boolean | null>): void;
  close(): Promise<void>;
}

/** How to start the sandbox. */
export interface SalesforceSandboxOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** State is kept in `<dataDir>/salesforce.sqlite`; undefined keeps it in memory. */
  readonly dataDir?: string;
  /** The org's 18-character id (00D…). @default DEFAULT_ORGANIZATION_ID */
  readonly organizationId?: string;
  /** The connected app's consumer key. */
  readonly clientId: string;
  /** The connected app's consumer secret (client credentials flow). */
  readonly clientSecret: string;
  /** PEM certificate or public key for the JWT bearer flow; without it the flow is refused. */
  readonly jwtCertificate?: string;
  /** The integration user's username (the JWT bearer flow's `sub`). @default integration@harmony-sandbox.example */
  readonly username?: string;
  /** Records carry CurrencyIsoCode (EUR, USD). @default true */
  readonly multiCurrency?: boolean;
  /** Accounts may be person accounts. @default true */
  readonly personAccounts?: boolean;
  /** Rows per query batch before `nextRecordsUrl`. @default 2000 (Salesforce's) */
  readonly queryBatchSize?: number;
  /** Where won Opportunities go (the Outbound Message sender); none sends nothing. */
  readonly outboundMessages?: OutboundMessageQueue;
  readonly log?: (line: string) => void;
}

/** A running sandbox. */
export interface SalesforceSandbox {
  /** Base URL, e.g. `http://127.0.0.1:4011` — the login URL and the instance URL alike. */
  readonly url: string;
  readonly port: number;
  readonly organizationId: string;
  readonly username: string;
  /** Stops serving; ends held requests; closes the Outbound Message queue and the store. */
  close(): Promise<void>;
}

/** The default org id (an 18-character 00D id). */
export const DEFAULT_ORGANIZATION_ID = '00D5g0000004HrmEAE';

/** REST API versions the sandbox answers (Salesforce serves 31.0 and later). */
const VERSION = /^v(\d{2})\.0$/;
const OLDEST_VERSION = 31;
const NEWEST_VERSION = 66;

/** The API version in the URLs of records the control routes return. */
const CONTROL_API_VERSION = '62.0';

const BODY_LIMIT_BYTES = 1024 * 1024;

/** The OAuth token endpoint's path, under the login URL. */
const TOKEN_PATH = '/services/oauth2/token';


/** Starts a Salesforce sandbox; resolves once it listens. */
export async function startSalesforceSandbox(options: SalesforceSandboxOptions): Promise<SalesforceSandbox> {
  const host = options.host ?? '127.0.0.1';
  const organizationId = options.organizationId ?? DEFAULT_ORGANIZATION_ID;
  if (!/^00D[a-zA-Z0-9]{15}$/.test(organizationId) || toEighteenCharacterId(organizationId) !== organizationId) {
    throw new Error(`organizationId: expected an 18-character organization id starting 00D, got ${JSON.stringify(organizationId)}`);
  }
  const username = options.username ?? 'integration@harmony-sandbox.example';
  if (options.jwtCertificate !== undefined) readCertificate(options.jwtCertificate);
  const features: OrgFeatures = { multiCurrency: options.multiCurrency ?? true, personAccounts: options.personAccounts ?? true, currencies: ['EUR', 'USD'] };
  const schema = orgSchema(features);
  const store = new OrgStore(options.dataDir, (sobject) =>
    Object.entries(schema.get(sobject)?.fields ?? {})
      .filter(([, field]) => field.indexed === true)
      .map(([name]) => name),
  );
  const base = { store, schema, features, corporateCurrency: 'EUR', now: Date.now };
  let seeded: { userId: string; standardPricebookId: string };
  try {
    seeded = store.isEmpty()
      ? store.transaction(() => seedOrg(base, username))
      : { userId: store.all('User')[0]!.Id, standardPricebookId: store.all('Pricebook2').find((book) => book.IsStandard === true)!.Id };
  } catch (error) {
    store.close();
    throw error;
  }
  const org: Org = { ...base, standardPricebookId: seeded.standardPricebookId };
  const faults = new FaultInjector();
  const canned = new CannedResponses();
  let apiRequests = 0;
  const batchSize = options.queryBatchSize ?? 2000;
  let origin = '';

  const app = (): ConnectedApp => ({
    organizationId,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    jwtCertificate: options.jwtCertificate,
    users: new Map([[username, seeded.userId]]),
    runAsUserId: seeded.userId,
    store,
    now: Date.now,
  });

  /** Hands each newly won Opportunity to the queue (after its transaction committed). */
  const announce = (won: readonly StoredRecord[]): void => {
    for (const opportunity of won) {
      const fields: Record<string, string | number | boolean | null> = {};
      // The SOAP message writes dateTimes as xsd:dateTime (`…000Z`), not in the REST API's `…+0000`.
      for (const [name, value] of Object.entries(opportunity)) fields[name] = typeof value === 'string' && REST_DATE_TIME.test(value) ? new Date(value).toISOString() : (value ?? null);
      options.log?.(`salesforce sandbox: Opportunity ${opportunity.Id} is won; queueing its Outbound Message`);
      options.outboundMessages?.enqueue('Opportunity', fields);
    }
  };

  const control = (method: string, path: string, body: unknown): SandboxAnswer => {
    const recordMatch = /^\/__sandbox\/records\/([^/]+)$/.exec(path);
    if (method === 'GET' && recordMatch !== null) {
      const id = toEighteenCharacterId(decodeURIComponent(recordMatch[1]!));
      const found = id === undefined ? undefined : store.find(id);
      return found === undefined ? notFound() : { status: 200, body: recordBody(org, found.sobject, found.record, CONTROL_API_VERSION) };
    }
    const cannedRoute = canned.serve(method, path, body);
    if (cannedRoute !== undefined) return cannedRoute;
    switch (`${method} ${path}`) {
      case 'POST /__sandbox/expire-tokens':
        return { status: 200, body: { expired: store.expireTokens() } };
      case 'POST /__sandbox/opportunities': {
        const parsed = OpportunityRequest.safeParse(body);
        if (!parsed.success) return { status: 400, body: { error: 'invalid opportunity', issues: parsed.error.issues } };
        const seededOpportunity = store.transaction(() => seedOpportunity(org, parsed.data, seeded.userId));
        if (seededOpportunity.won) announce([seededOpportunity.opportunity]);
        const { opportunity, won, ...ids } = seededOpportunity;
        return { status: 201, body: { ...ids, stageName: opportunity.StageName, isWon: won, amount: opportunity.Amount } };
      }
      default:
        return { status: 404, body: { error: `no sandbox route ${method} ${path}` } };
    }
  };

  /** `GET /sobjects/Opportunity`, `GET /query`, `POST /services/oauth2/token`: what a fault or canned response names. */
  const operationOf = (method: string, pathname: string): string => {
    if (pathname === TOKEN_PATH) return `${method} ${TOKEN_PATH}`;
    const segments = pathname.split('/').filter((segment) => segment !== '').slice(3).map(decodeURIComponent);
    return `${method} /${(segments[0] === 'sobjects' ? segments.slice(0, 2) : segments.slice(0, 1)).join('/')}`;
  };

  /** One authenticated REST call below `/services/data`. */
  const serveApi = (request: http.IncomingMessage, method: string, url: URL, text: string): SandboxAnswer => {
    const match = /^\/services\/data\/([^/]+)((?:\/[^/]+)*)$/.exec(url.pathname.replace(/\/+$/, ''));
    const version = VERSION.exec(match?.[1] ?? '');
    if (match === null || version === null || Number(version[1]) < OLDEST_VERSION || Number(version[1]) > NEWEST_VERSION) return notFound();
    const token = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const session = token === undefined ? undefined : store.findToken(token);
    if (session === undefined || session.expired) return invalidSession();
    apiRequests += 1;
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch (error) {
        return restError(400, 'JSON_PARSER_ERROR', `Unexpected character: ${(error as Error).message}`);
      }
    }
    const segments = (match[2] ?? '').split('/').filter((segment) => segment !== '').map(decodeURIComponent);
    const outcome = store.transaction(() =>
      serveRest(org, { method, segments, query: url.searchParams, body, version: version[0].slice(1), userId: session.userId, batchSize }),
    );
    announce(outcome.won);
    return outcome.answer;
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const text = await readBody(request, BODY_LIMIT_BYTES);
    if (text === undefined) return send(response, restError(413, 'REQUEST_ENTITY_TOO_LARGE', `Request body exceeds ${BODY_LIMIT_BYTES} bytes`));
    const faultRoute = serveFaultRoutes(faults, method, url.pathname, text);
    if (faultRoute !== undefined) return send(response, faultRoute);
    if (url.pathname.startsWith('/__sandbox/')) return send(response, withJsonBody(text, (body) => guarded(() => control(method, url.pathname, body))));
    const operation = operationOf(method, url.pathname);
    const bypass = bypassesFaults(request.headers);
    const fault = bypass ? undefined : faults.take(operation);
    if (fault?.kind === 'timeout') return server.hold(response);
    if (fault?.kind === '429') return send(response, tooManyRequests(fault.retryAfterSeconds));
    if (fault?.kind === '500') return send(response, serverError());
    if (fault?.kind === 'malformed') {
      response.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
      return void response.end('{"attributes":{"type":"Opportunity","url":"/services/data/v62.0/sobjects/Opportu');
    }
    const cannedAnswer = bypass ? undefined : canned.take(operation);
    let answer: SandboxAnswer;
    if (cannedAnswer !== undefined) answer = cannedAnswer;
    else if (url.pathname === TOKEN_PATH) answer = method === 'POST' ? await issueToken(app(), new URLSearchParams(text), origin) : notFound();
    else if (url.pathname.startsWith('/services/data/')) answer = guarded(() => serveApi(request, method, url, text));
    else answer = notFound();
    // The call has run and is stored; the caller never hears of it.
    if (fault?.kind === 'commit-then-drop') return void response.destroy();
    send(response, answer, url.pathname.startsWith('/services/data/') ? { 'sforce-limit-info': `api-usage=${apiRequests}/15000` } : {});
  };

  const server = await startSandboxServer({
    host,
    port: options.port ?? 0,
    handle,
    fail: (response, error) => send(response, restError(500, 'UNKNOWN_EXCEPTION', `sandbox failure: ${String(error)}`)),
    drain: async () => {
      await options.outboundMessages?.close();
    },
    release: () => store.close(),
  });
  origin = server.url;
  options.log?.(`salesforce sandbox: org ${organizationId} at ${origin}`);

  return {
    url: origin,
    port: server.port,
    organizationId,
    username,
    close: () => server.close(),
  };
}

/** Runs a handler; a SalesforceApiError becomes Salesforce's error answer. */
function guarded(run: () => SandboxAnswer): SandboxAnswer {
  try {
    return run();
  } catch (error) {
    if (error instanceof SalesforceApiError) return error.answer();
    throw error;
  }
}
