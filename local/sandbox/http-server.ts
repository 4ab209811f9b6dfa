/**
 * The `node:http` plumbing every sandbox shares, so each vendor's server is only its
 * protocol: listening (a failure to listen releases the store and rejects), answering a
 * handler that threw, bounded request bodies, requests held unanswered for `timeout`
 * faults, and a close that ends every connection, held or idle, exactly once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How to run one sandbox's server. */
export interface SandboxServerOptions {
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Serves one request. */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>;
  /**
   * Answers a request whose handler threw, in the vendor's shape for an internal error.
   * Called only while nothing was sent; a half-sent answer's connection is destroyed instead.
   */
  readonly fail: (response: ServerResponse, error: unknown) => void;
  /** Stops what else works on the sandbox's state (a webhook outbox): in close(), after the connections ended, before `release`. */
  readonly drain?: () => Promise<void>;
  /** Closes what the sandbox opened for the server (its store): once, when listening fails or at the end of close(). */
  readonly release: () => void;
}

/** A listening sandbox server. */
export interface SandboxServer {
  readonly port: number;
  /** `http://<host>:<port>`, an IPv6 host in brackets. */
  readonly url: string;
  /** Leaves `response` unanswered until close() ends it: the `timeout` fault. */
  hold(response: ServerResponse): void;
  /** Stops listening, ends held requests and every connection, drains, releases; one promise however often called. */
  close(): Promise<void>;
}

/** Starts a sandbox server; resolves once it listens. */
export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const held = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    options.handle(request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else options.fail(response, error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      options.release();
      reject(error);
    });
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    hold(response) {
      held.add(response);
      response.on('close', () => held.delete(response));
    },
    close() {
      closing ??= (async () => {
        for (const response of held) response.destroy();
        held.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await options.drain?.();
        options.release();
      })();
      return closing;
    },
  };
}

/**
 * The request body as UTF-8 text, or undefined when it is larger than `limitBytes` (by its
 * Content-Length or as it arrives): the caller answers 413 in the vendor's words.
 */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<string | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > limitBytes) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limitBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs a control route (`/__sandbox/…`) on the request body parsed as JSON (undefined when
 * empty); a body that is not JSON is answered 400 without running it.
 */
export function withJsonBody<Answer>(text: string, serve: (body: unknown) => Answer): Answer | { readonly status: 400; readonly body: { readonly error: string } } {
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch (error) {
    return { status: 400, body: { error: `body is not JSON: ${(error as Error).message}` } };
  }
  return serve(body);
}
