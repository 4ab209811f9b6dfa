/** Starts a server listening and resolves with its port, or rejects with the listen error (port taken…). */
import type { AddressInfo } from 'node:net';

/** Anything that listens like `net.Server` (ssh2's Server too). */
interface Listening {
  once(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  listen(port: number, host: string, callback: () => void): unknown;
  address(): AddressInfo | string | null;
}

/** Listens on `host:port` (0 picks a free port) and resolves with the port. */
export function listen(server: Listening, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
