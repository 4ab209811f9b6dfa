/**
 * LocalSqs over HTTP on its own: SQS's JSON protocol (`POST` with `X-Amz-Target:
 * AmazonSQS.<Operation>`, on `/` or on a queue URL's path), answered as SQS does, errors
 * with `x-amzn-query-error` so SDK v3 maps them to its exception classes. It listens on
 * loopback unless told otherwise. The hub's AWS endpoint can use it as its SQS backend
 * (`proxies.sqs`) exactly as it used fauxqs; tests and `standalone.ts` use it directly.
 * A caller that hangs up ends its long poll, so the poll takes no message for nobody.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsServiceError, renderJsonError } from '../endpoint/aws-service.ts';
import { SqsError } from './errors.ts';
import type { LocalSqs } from './service.ts';

/** Options of the server. */
export interface SqsHttpServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Creates the service once the server's URL (the base of queue URLs) is known. */
  readonly service: (url: string) => LocalSqs;
}

/** A running server. */
export interface SqsHttpServer {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly service: LocalSqs;
  /** Stops listening, drops connections and closes the service. */
  close(): Promise<void>;
}

/** A batch of ten 1 MiB messages with room for the JSON around them. */
const MAX_BODY_BYTES = 12 * 1024 * 1024;
const TARGET_PREFIX = 'AmazonSQS.';

/** Starts the server on `host:port` and the service behind it. */
export async function startSqsHttpServer(options: SqsHttpServerOptions): Promise<SqsHttpServer> {
  const host = options.host ?? '127.0.0.1';
  let service: LocalSqs | undefined;
  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, new AwsServiceError('InternalFailure', `SQS failed: ${(error as Error).message}`, 500));
      else response.destroy(error as Error);
    });
  });
  // Long polls take up to 20 seconds.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.headers['x-amz-target'];
    if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const body = await readBody(request);
    if (service === undefined) throw new Error('the service is not ready');
    if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
      send(response, new AwsServiceError('UnknownOperationException', `This server speaks SQS's JSON protocol only (X-Amz-Target: ${TARGET_PREFIX}<Operation>)`));
      return;
    }
    if (body === undefined) {
      send(response, new AwsServiceError('RequestEntityTooLarge', 'The request is larger than the server accepts', 413));
      return;
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (error) {
      send(response, new AwsServiceError('SerializationException', `The request body is not JSON: ${(error as Error).message}`));
      return;
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      send(response, new AwsServiceError('SerializationException', 'The request body must be a JSON object'));
      return;
    }
    const hangUp = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) hangUp.abort();
    });
    let output: unknown;
    try {
      output = await service.handle(target.slice(TARGET_PREFIX.length), input as Record<string, unknown>, { signal: hangUp.signal });
    } catch (error) {
      send(response, error instanceof AwsServiceError ? error : new AwsServiceError('InternalFailure', (error as Error).message, 500));
      return;
    }
    if (response.destroyed) return;
    const text = JSON.stringify(output ?? {});
    response.writeHead(200, { 'content-type': service.contentType, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
    response.end(text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const created = options.service(url);
  service = created;
  return {
    url,
    service: created,
    close: async () => {
      created.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function send(response: ServerResponse, error: AwsServiceError): void {
  if (response.destroyed) return;
  const rendered = renderJsonError(error, 'application/x-amz-json-1.0');
  response.writeHead(rendered.statusCode, {
    ...rendered.headers,
    ...(error instanceof SqsError ? { 'x-amzn-query-error': error.queryErrorHeader } : {}),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(rendered.body);
}

/** The body, or undefined when it is larger than the server accepts (the rest is drained). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks);
}
