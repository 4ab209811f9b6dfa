/**
 * HubSpot transport: the official `@hubspot/api-client` configured for Harmony,
 * and the one place that turns HubSpot's failures into Harmony's error families.
 *
 * Retries: the client's own retry (`numberOfApiCallRetries`) stays off, and so does
 * its Bottleneck limiter. Its retry ignores `Retry-After` (it sleeps a fixed 10 s × n
 * for 429), sleeps inside the Lambda (billed idle time, racing the Lambda timeout),
 * logs through `console.error`, and is process-global (the SDK keeps decorators in a
 * singleton, so one client's setting changes every other client's). Instead every
 * failure surfaces at once as a `RetryableError` carrying `retryAfterSeconds`, and Step
 * Functions retries the step with backoff — visible in the execution history and the
 * audit log, and bounded by the flow's retry policy.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import * as companies from '@hubspot/api-client/lib/codegen/crm/companies/index.js';
import * as contacts from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import * as deals from '@hubspot/api-client/lib/codegen/crm/deals/index.js';
import * as lineItems from '@hubspot/api-client/lib/codegen/crm/line_items/index.js';
import { ApiClientConfigurator } from '@hubspot/api-client/lib/src/configuration/ApiClientConfigurator.js';
import * as z from 'zod';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import { retryAfterSeconds as parseRetryAfter } from '../../../core/vendor-http.ts';
import { PermanentError, RetryableError, errorForHttpStatus } from '../../../core/errors.ts';

/** HubSpot's public API origin. */
export const HUBSPOT_API_BASE_PATH = 'https://api.hubapi.com';

/** How long a call may stay silent before it is abandoned as a timeout. */
export const DEFAULT_HUBSPOT_TIMEOUT_MS = 10_000;

/** How to reach HubSpot. */
export interface HubspotClientOptions {
  /** Private app token or OAuth access token, sent as `Authorization: Bearer …`. */
  readonly accessToken: string;
  /** @default HUBSPOT_API_BASE_PATH — a sandbox URL in tests and local mode. */
  readonly basePath?: string;
  /**
   * Milliseconds a socket may stay silent (connect, TLS, response) before the call
   * fails with a `RetryableError`. @default DEFAULT_HUBSPOT_TIMEOUT_MS
   */
  readonly timeoutMs?: number;
  /** The portal's request budget, shared by every instance. @default none */
  readonly rateLimiter?: RateLimiter | undefined;
}

/**
 * The part of the official client Harmony uses, with the same shape as `Client`
 * (`client.crm.deals.basicApi…`) and configured the way `Client` configures it.
 * Built from the client's per-object API modules, because `Client` loads every
 * HubSpot API (a 4.4 MB bundle) while these four load only the CRM objects the
 * adapter reads and writes.
 */
export interface HubspotCrmClient {
  readonly crm: {
    readonly deals: { readonly basicApi: deals.BasicApi };
    readonly companies: { readonly basicApi: companies.BasicApi };
    readonly contacts: { readonly basicApi: contacts.BasicApi };
    readonly lineItems: { readonly batchApi: lineItems.BatchApi };
  };
}

/** The official client's settings object (`IConfiguration`). */
type IConfiguration = Parameters<typeof ApiClientConfigurator.getParams>[0];

/** The official client's configuration of one API module (what its `*Discovery` classes do). */
function configurationFor<Configuration>(
  api: {
    createConfiguration(options: ReturnType<typeof ApiClientConfigurator.getParams>): Configuration;
    ServerConfiguration: new (url: string, variables: { [key: string]: string }) => unknown;
    Observable: new (promise: Promise<never>) => unknown;
  },
  configuration: IConfiguration,
): Configuration {
  return api.createConfiguration(
    ApiClientConfigurator.getParams(configuration, api.ServerConfiguration, api.Observable, api.Observable),
  );
}

/** The configured official client plus the call wrapper that classifies every failure. */
export interface HubspotTransport {
  /** The official client; call it only inside {@link HubspotTransport.call}. */
  readonly client: HubspotCrmClient;
  /**
   * Runs one HubSpot request. Resolves with its result, or rejects with a
   * `RetryableError` (429, 5xx, timeout, network) or a `PermanentError` (401/403,
   * 404, 400, unreadable response) whose message names `operation`.
   * @param operation what is being done, for error messages, e.g. `GET deal 4001`
   */
  call<Result>(operation: string, request: (client: HubspotCrmClient) => Promise<Result>): Promise<Result>;
}

/** Builds the official client for `options` and wraps it in Harmony's error classification. */
export function createHubspotTransport(options: HubspotClientOptions): HubspotTransport {
  const basePath = (options.basePath ?? HUBSPOT_API_BASE_PATH).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_HUBSPOT_TIMEOUT_MS;
  const configuration: IConfiguration = {
    accessToken: options.accessToken,
    basePath,
    httpAgent: createTimeoutAgent(new URL(basePath).protocol, timeoutMs),
    middleware: [failedResponseInterceptor],
  };
  const client: HubspotCrmClient = {
    crm: {
      deals: { basicApi: new deals.BasicApi(configurationFor(deals as never, configuration)) },
      companies: { basicApi: new companies.BasicApi(configurationFor(companies as never, configuration)) },
      contacts: { basicApi: new contacts.BasicApi(configurationFor(contacts as never, configuration)) },
      lineItems: { batchApi: new lineItems.BatchApi(configurationFor(lineItems as never, configuration)) },
    },
  };
  return {
    client,
    async call(operation, request) {
      const target = `hubspot:${options.accessToken.slice(-8)}`;
      await options.rateLimiter?.acquire(target, { maxWaitMs: timeoutMs });
      try {
        return await request(client);
      } catch (error) {
        const classified = classifyHubspotFailure(error, operation, timeoutMs);
        if (classified instanceof RetryableError && classified.code === '429' && classified.retryAfterSeconds !== undefined) {
          await options.rateLimiter?.backOff(target, classified.retryAfterSeconds);
        }
        throw classified;
      }
    },
  };
}

/** Turns anything a HubSpot call threw into Harmony's error families. */
function classifyHubspotFailure(
  error: unknown,
  operation: string,
  timeoutMs: number = DEFAULT_HUBSPOT_TIMEOUT_MS,
): RetryableError | PermanentError {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  if (error instanceof HubspotHttpFailure) return classifyHttpFailure(error, operation);
  if (error instanceof HubspotTimeout) {
    return new RetryableError(`HubSpot ${operation}: no answer within ${timeoutMs} ms`, {
      system: 'hubspot',
      code: 'timeout',
      cause: error,
    });
  }
  const networkCode = networkErrorCode(error);
  if (networkCode !== undefined) {
    return new RetryableError(`HubSpot ${operation}: network error ${networkCode}`, {
      system: 'hubspot',
      code: networkCode,
      cause: error,
    });
  }
  // A 2xx whose body the SDK could not parse (not JSON, wrong shape for its models).
  const detail = error instanceof Error ? error.message : String(error);
  return new PermanentError(`HubSpot ${operation}: unreadable response (${detail})`, {
    system: 'hubspot',
    code: 'malformed_response',
    cause: error,
  });
}

/** HubSpot's error body; every field is optional, as HubSpot's error-handling guide asks. */
const HubspotErrorBody = z.looseObject({
  status: z.string().optional(),
  message: z.string().optional(),
  correlationId: z.string().optional(),
  category: z.string().optional(),
  errorType: z.string().optional(),
  policyName: z.string().optional(),
});

/** A non-2xx answer, caught by the response middleware before the SDK's own parsing can lose its status. */
class HubspotHttpFailure extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly bodyText: string;
  constructor(status: number, headers: Readonly<Record<string, string>>, bodyText: string) {
    super(`HubSpot answered ${status}`);
    this.status = status;
    this.headers = headers;
    this.bodyText = bodyText;
  }
}

/** A socket that stayed silent longer than the timeout; the socket is destroyed with it. */
class HubspotTimeout extends Error {}

function classifyHttpFailure(failure: HubspotHttpFailure, operation: string): RetryableError | PermanentError {
  const body = parseErrorBody(failure.bodyText);
  const category = body?.category ?? body?.errorType;
  const vendorMessage = body?.message ?? (failure.bodyText.slice(0, 300) || 'no body');
  const parts = [`HubSpot ${operation} failed: ${failure.status}`];
  if (category !== undefined) parts.push(category);
  let message = `${parts.join(' ')}: ${vendorMessage}`;
  if (body?.correlationId !== undefined) message += ` (correlationId ${body.correlationId})`;
  const retryAfterSeconds =
    failure.status === 429 || failure.status === 503
      ? (parseRetryAfter(failure.headers['retry-after'] ?? null) ?? retryAfterForPolicy(body?.policyName, body?.message))
      : undefined;
  return errorForHttpStatus(failure.status, message, {
    system: 'hubspot',
    code: String(failure.status),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    cause: failure,
  });
}

function parseErrorBody(text: string): z.infer<typeof HubspotErrorBody> | undefined {
  try {
    const parsed = HubspotErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}


/**
 * HubSpot often sends no Retry-After; its limit policies say how long the window is.
 * The search endpoints' per-second limit comes with a message instead of a policy.
 */
function retryAfterForPolicy(policyName: string | undefined, message: string | undefined): number | undefined {
  if (policyName === undefined && message === 'You have reached your secondly limit.') return 1;
  switch (policyName) {
    case 'SECONDLY':
      return 1;
    case 'TEN_SECONDLY_ROLLING':
      return 10;
    case 'DAILY':
      return 3600;
    default:
      return undefined;
  }
}

function networkErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** What the SDK hands a middleware after a response arrives (its `ResponseContext`). */
interface ResponseContextLike {
  readonly httpStatusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { text(): Promise<string> };
}

function isResponseContext(value: unknown): value is ResponseContextLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof ResponseContextLike, unknown>>;
  return (
    typeof candidate.httpStatusCode === 'number' &&
    typeof candidate.headers === 'object' &&
    typeof candidate.body === 'object' &&
    candidate.body !== null &&
    typeof (candidate.body as { text?: unknown }).text === 'function'
  );
}

/**
 * Stops every non-2xx response before the SDK's response processor, which throws
 * away the status when an error body is not JSON (an HTML 502 from a proxy, say).
 */
const failedResponseInterceptor = {
  pre: (context: unknown): unknown => context,
  post: async (context: unknown): Promise<unknown> => {
    if (!isResponseContext(context)) return context;
    if (context.httpStatusCode >= 200 && context.httpStatusCode < 300) return context;
    const bodyText = await context.body.text().catch(() => '');
    throw new HubspotHttpFailure(context.httpStatusCode, context.headers, bodyText);
  },
};

/**
 * An agent whose sockets are destroyed after `timeoutMs` of silence. The SDK's
 * transport accepts no AbortSignal; with an agent it uses `node:http` and rejects
 * when the socket errors, so the call ends and no socket is left behind.
 */
function createTimeoutAgent(protocol: string, timeoutMs: number): http.Agent {
  const options = { keepAlive: true, timeout: timeoutMs };
  const agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  const createConnection = agent.createConnection.bind(agent) as (
    connectionOptions: http.ClientRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ) => Duplex | null | undefined;
  agent.createConnection = (connectionOptions, callback) => {
    const socket = createConnection(connectionOptions, callback);
    if (socket !== null && socket !== undefined && 'setTimeout' in socket) {
      const timed = socket as Duplex & { setTimeout(ms: number): unknown };
      timed.setTimeout(timeoutMs);
      timed.on('timeout', () => timed.destroy(new HubspotTimeout(`socket silent for ${timeoutMs} ms`)));
    }
    return socket;
  };
  return agent;
}
