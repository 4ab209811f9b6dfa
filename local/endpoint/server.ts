/**
 * The local hub's one AWS endpoint (`AWS_ENDPOINT_URL`): every SDK client, the AWS CLI
 * and Harmony's CLI talk to it unchanged, and it sends each request where that service
 * lives, by the `X-Amz-Target` header of AWS's JSON protocols:
 *
 * - `DynamoDB_20120810.*` → dynalite, and `AmazonSQS.*` → fauxqs: proxied, bodies
 *   streamed both ways (no size limit, so 16 MB BatchWriteItem requests pass), headers
 *   kept. SQS requests go to fauxqs's `/` whatever path they came on, since the SDK may
 *   post to a queue URL (`http://<endpoint>/<account>/<queue>`); fauxqs finds the queue
 *   by the URL's last segment.
 * - SQS's older query protocol (form-encoded `Action=…`) is translated for fauxqs, which
 *   speaks only JSON to SQS clients (see sqs-query-protocol.ts).
 * - the JSON protocol services behind it (EventBridge `AWSEvents`, Step Functions
 *   `AWSStepFunctions`) by their target prefix.
 * - anything else: 400 `UnknownOperationException` naming what was asked, never a hang.
 *   An unreachable backend is a 503 that names it (SDKs retry 5xx).
 *
 * `GET /health` answers 200.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AwsServiceError, type JsonProtocolService, renderJsonError } from './aws-service.ts';
import { jsonErrorToXml, jsonOutputToXml, queryErrorXml, queryToJsonInput, SQS_QUERY_ACTIONS } from './sqs-query-protocol.ts';

/** Options of the endpoint. */
export interface AwsEndpointOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Services answering by their X-Amz-Target prefix. */
  readonly jsonServices: readonly JsonProtocolService[];
  /** Base URLs of the proxied services. */
  readonly proxies: { readonly dynamodb: string; readonly sqs: string };
  /**
   * Called with each DynamoDB and JSON-service request's `X-Amz-Target` and body once it is
   * read (the cost benchmark counts billed units from them). @default - none
   */
  readonly onRequest?: (target: string, body: Buffer) => void;
}

/** A running endpoint. */
export interface AwsEndpoint {
  /** e.g. `http://127.0.0.1:4566`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The endpoint's port is taken. `code` is `EADDRINUSE`, as Node's own error has it. */
export class EndpointPortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  readonly port: number;
  readonly host: string;

  constructor(host: string, port: number, options?: { cause?: unknown }) {
    super(`The AWS endpoint cannot listen on ${host}:${port}: the port is already in use`, options);
    this.name = 'EndpointPortInUseError';
    this.host = host;
    this.port = port;
  }
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const XML_CONTENT_TYPE = 'text/xml';
/** Largest body a JSON service is given (EventBridge and Step Functions take 256 KB requests). */
const JSON_SERVICE_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Largest query-protocol SQS request (a batch of ten 1 MiB messages). */
const SQS_QUERY_MAX_BODY_BYTES = 12 * 1024 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect', 'transfer-encoding']);

/** Starts the endpoint; rejects with EndpointPortInUseError when the port is taken. */
export async function startAwsEndpoint(options: AwsEndpointOptions): Promise<AwsEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const services = new Map(options.jsonServices.map((service) => [service.targetPrefix, service]));
  const dynamodb = new URL(options.proxies.dynamodb);
  const sqs = new URL(options.proxies.sqs);

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        sendJsonError(response, new AwsServiceError('InternalFailure', `The local hub's AWS endpoint failed: ${(error as Error).message}`, 500));
      } else {
        response.destroy(error as Error);
      }
    });
  });
  // Long polls (ReceiveMessage up to 20 s) and large batches must not be cut short.
  server.requestTimeout = 0;
  // Idle keep-alive sockets outlive the SDK's, so a client never writes to a socket the endpoint just closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = header(request.headers, 'x-amz-target');
    const url = new URL(request.url ?? '/', 'http://endpoint');
    if (target === undefined) {
      if (request.method === 'GET' && url.pathname === '/health') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ status: 'ok', services: ['DynamoDB', 'SQS', ...services.keys()] }));
        return;
      }
      const contentType = header(request.headers, 'content-type') ?? '';
      const action = url.searchParams.get('Action');
      if (contentType.startsWith('application/x-www-form-urlencoded') || action !== null) {
        await sqsQuery(request, response, url);
        return;
      }
      request.resume();
      sendJsonError(response, unknownRequest(`${request.method} ${url.pathname} without an X-Amz-Target header`));
      return;
    }
    const dot = target.indexOf('.');
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const operation = dot < 0 ? '' : target.slice(dot + 1);
    if (prefix === 'DynamoDB_20120810') {
      if (options.onRequest !== undefined) observeBody(request, (body) => options.onRequest?.(target, body));
      proxy(request, response, dynamodb, request.url ?? '/', 'DynamoDB (dynalite)');
      return;
    }
    if (prefix === 'AmazonSQS') {
      proxy(request, response, sqs, '/', 'SQS (fauxqs)');
      return;
    }
    const service = services.get(prefix);
    if (service === undefined) {
      request.resume();
      sendJsonError(response, unknownRequest(`X-Amz-Target ${target}`));
      return;
    }
    if (options.onRequest !== undefined) observeBody(request, (body) => options.onRequest?.(target, body));
    await jsonService(service, operation, request, response);
  }

  async function sqsQuery(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(request, SQS_QUERY_MAX_BODY_BYTES);
    if (body === undefined) {
      sendXml(response, 413, queryErrorXml('RequestEntityTooLarge', 'The request is larger than the local hub accepts'));
      return;
    }
    const params = new URLSearchParams(url.search);
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.append(key, value);
    const action = params.get('Action') ?? '';
    if (!SQS_QUERY_ACTIONS.has(action)) {
      sendXml(response, 400, queryErrorXml('UnknownOperationException', `The local hub does not serve the query-protocol action "${action}"`));
      return;
    }
    const origin = `http://${header(request.headers, 'host') ?? `${host}:${port()}`}`;
    const input = queryToJsonInput(action, params, origin, url.pathname);
    let answer: Response;
    try {
      answer = await fetch(new URL('/', sqs), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `AmazonSQS.${action}`,
          'x-amzn-query-mode': 'true',
          ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }),
        },
        body: JSON.stringify(input),
      });
    } catch (error) {
      sendXml(response, 503, queryErrorXml('ServiceUnavailable', `SQS (fauxqs at ${sqs.origin}) is not reachable: ${causeOf(error)}`, 'Receiver'));
      return;
    }
    const text = await answer.text();
    let json: Record<string, unknown> = {};
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = { __type: 'InternalError', message: text };
    }
    if (!answer.ok) {
      sendXml(response, answer.status, jsonErrorToXml(json, answer.headers.get('x-amzn-query-error') ?? undefined));
      return;
    }
    sendXml(response, 200, jsonOutputToXml(action, json));
  }

  function proxy(request: IncomingMessage, response: ServerResponse, base: URL, path: string, name: string): void {
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(key)) headers[key] = value;
    }
    const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(
      { protocol: base.protocol, hostname: base.hostname, port: base.port, method: request.method, path, headers },
      (answer) => {
        const answerHeaders: Record<string, string | string[]> = {};
        for (const [key, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(key)) answerHeaders[key] = value;
        }
        response.writeHead(answer.statusCode ?? 502, answerHeaders);
        answer.pipe(response);
        answer.on('error', (error) => response.destroy(error));
      },
    );
    upstream.on('error', (error) => {
      if (response.headersSent) {
        response.destroy(error);
        return;
      }
      request.resume();
      sendJsonError(response, new AwsServiceError('ServiceUnavailable', `${name} at ${base.origin} is not reachable: ${causeOf(error)}`, 503));
    });
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  }

  const port = (): number => (server.address() as AddressInfo).port;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new EndpointPortInUseError(host, options.port, { cause: error }) : error);
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const listening = port();
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${listening}`,
    port: listening,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

/** Runs one JSON-protocol operation and writes its answer as AWS does. */
async function jsonService(service: JsonProtocolService, operation: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readBody(request, JSON_SERVICE_MAX_BODY_BYTES);
  if (body === undefined) {
    sendJsonError(response, new AwsServiceError('RequestEntityTooLargeException', 'The request is larger than the local hub accepts', 413), service.contentType);
    return;
  }
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch (error) {
    sendJsonError(response, new AwsServiceError('SerializationException', `The request body is not JSON: ${(error as Error).message}`), service.contentType);
    return;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    sendJsonError(response, new AwsServiceError('SerializationException', 'The request body must be a JSON object'), service.contentType);
    return;
  }
  let output: unknown;
  try {
    output = await service.handle(operation, input as Record<string, unknown>);
  } catch (error) {
    const failure =
      error instanceof AwsServiceError
        ? error
        : new AwsServiceError('InternalFailure', `${service.targetPrefix}.${operation} failed on the local hub: ${(error as Error).message}`, 500);
    sendJsonError(response, failure, service.contentType);
    return;
  }
  const text = JSON.stringify(output ?? {});
  response.writeHead(200, {
    'content-type': service.contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
}

function unknownRequest(what: string): AwsServiceError {
  return new AwsServiceError('UnknownOperationException', `The local hub's AWS endpoint does not serve ${what}`);
}

function sendJsonError(response: ServerResponse, error: AwsServiceError, contentType = JSON_CONTENT_TYPE): void {
  const rendered = renderJsonError(error, contentType);
  response.writeHead(rendered.statusCode, { ...rendered.headers, 'x-amzn-requestid': randomUUID() });
  response.end(rendered.body);
}

function sendXml(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { 'content-type': XML_CONTENT_TYPE, 'x-amzn-requestid': randomUUID() });
  response.end(xml);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Hands `request`'s body to `observer` once it has all passed, without taking it from the proxy. */
function observeBody(request: IncomingMessage, observer: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => observer(Buffer.concat(chunks)));
}

/** The body, or undefined when it is larger than `limit` bytes (the rest is drained). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

function causeOf(error: unknown): string {
  const failure = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return failure.code ?? failure.cause?.code ?? failure.cause?.message ?? failure.message ?? String(error);
}
