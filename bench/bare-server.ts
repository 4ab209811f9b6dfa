/**
 * The baseline of the ingress and end-to-end benchmarks: a bare Node `http` server
 * answering every webhook with 200 and the JSON an accepting ingress would send.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running baseline server. */
export interface BareServer {
  /** Its webhook URL, e.g. `http://127.0.0.1:41234/webhooks/hubspot`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the baseline on a free port of 127.0.0.1. */
export async function startBareServer(): Promise<BareServer> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hubspot`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
