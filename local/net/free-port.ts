/** Finds a TCP port free on `host` right now (listen on 0, read it, close). */
import { createServer } from 'node:net';

/**
 * A port free on `host` at the time of the call. Another process may take it before
 * it is used; callers that must keep a port across restarts choose it once and reuse it.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
