/**
 * The local webhook ingress: what API Gateway does in front of the ingest Lambda,
 * on one port. `POST /webhooks/{source}`, `/webhooks/standard/{mapping}` and
 * `/callbacks/{system}` become the same proxy event and run the same handler; its answer goes back as it is. A handler crash is a 502 and a
 * handler timeout a 504, as API Gateway answers them. `GET /health` answers 200
 * once the whole hub is wired.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { toApiGatewayEvent } from './api-gateway-event.ts';

/** API Gateway's own payload limit; the handler enforces Harmony's smaller one. */
const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** What invoking the ingest function gave. */
export type IngressInvokeOutcome =
  | { readonly status: 'ok'; readonly result: unknown }
  | { readonly status: 'error'; readonly errorType: string; readonly errorMessage: string };

/** Options of the ingress server. */
export interface IngressOptions {
  readonly host: string;
  readonly port: number;
  /** Runs the ingest function with an API Gateway proxy event. */
  readonly invoke: (event: APIGatewayProxyEvent) => Promise<IngressInvokeOutcome>;
  /** Whether the hub is fully wired (for `/health`). */
  readonly ready: () => boolean;
  /** Called for every answered webhook with its status, for the API 5xx alarm. */
  readonly onResponse?: (statusCode: number) => void;
}

/** A running ingress. */
export interface Ingress {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const ProxyResult = (value: unknown): { statusCode: number; headers: Record<string, string>; body: string } | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const result = value as { statusCode?: unknown; headers?: unknown; body?: unknown };
  if (typeof result.statusCode !== 'number') return undefined;
  const headers: Record<string, string> = {};
  if (typeof result.headers === 'object' && result.headers !== null) {
    for (const [name, header] of Object.entries(result.headers)) headers[name] = String(header);
  }
  return { statusCode: result.statusCode, headers, body: typeof result.body === 'string' ? result.body : '' };
};

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > API_GATEWAY_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the ingress; rejects with a message naming HARMONY_INGRESS_PORT when the port is taken. */
export async function startIngress(options: IngressOptions): Promise<Ingress> {
  const server: Server = createServer((request, response) => {
    const send = (statusCode: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
      options.onResponse?.(statusCode);
      response.writeHead(statusCode, headers);
      response.end(body);
    };
    const path = (request.url ?? '/').split('?')[0]!;
    if (request.method === 'GET' && path === '/health') {
      const ready = options.ready();
      response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: ready ? 'ready' : 'starting' }));
      return;
    }
    if (!path.startsWith('/webhooks/') && !path.startsWith('/callbacks/')) {
      send(404, JSON.stringify({ message: 'Not Found' }));
      return;
    }
    void (async () => {
      const body = await readBody(request);
      if (body === undefined) {
        send(413, JSON.stringify({ message: 'Request Too Long' }));
        return;
      }
      const event = toApiGatewayEvent({
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        headers: request.headers,
        body,
        protocol: 'http',
        // The peer as API Gateway reports it (`requestContext.identity.sourceIp`); never a header a
        // client can set. Unknown (the socket is gone) stays empty, so an allow-list refuses it.
        sourceIp: request.socket.remoteAddress ?? '',
      });
      const outcome = await options.invoke(event);
      if (outcome.status === 'error') {
        const timedOut = outcome.errorType === 'Sandbox.Timedout';
        send(timedOut ? 504 : 502, JSON.stringify({ message: timedOut ? 'Endpoint request timed out' : 'Internal server error' }));
        return;
      }
      const result = ProxyResult(outcome.result);
      if (result === undefined) {
        send(502, JSON.stringify({ message: 'Internal server error' }));
        return;
      }
      send(result.statusCode, result.body, result.headers);
    })().catch(() => send(502, JSON.stringify({ message: 'Internal server error' })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${options.port} on ${options.host} is already taken — set HARMONY_INGRESS_PORT to a free port`)
          : error,
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
