/**
 * DynamoDB for the local hub: dynalite, run in its own worker thread so its
 * LevelDB reads and writes and its expression parsing (a third of the main
 * thread's time per webhook when it shared the main event loop, measured with
 * the ingress benchmark) do not queue behind the hub's other servers.
 *
 * `startDynaliteThread` resolves once dynalite listens; the thread ends with the
 * process (a `kill -9` loses nothing LevelDB had written) or on `close()`.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startWorkerProfiler } from '../lambda/worker-profiler.ts';

/** A running dynalite. */
export interface DynaliteThread {
  /** e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
}

interface ThreadOptions {
  readonly path: string;
  readonly host: string;
}

type ThreadMessage = { readonly kind: 'listening'; readonly port: number } | { readonly kind: 'failed'; readonly message: string } | { readonly kind: 'closed' };

/** Starts dynalite on a free port of `host`, keeping its tables under `path`. */
export function startDynaliteThread(path: string, host: string): Promise<DynaliteThread> {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { path, host } satisfies ThreadOptions,
    execArgv: [],
    name: 'dynalite',
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`dynalite thread exited (${code}) before it listened`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: ThreadMessage) => {
      worker.off('exit', onExit);
      worker.off('error', reject);
      if (message.kind !== 'listening') {
        void worker.terminate();
        reject(new Error(`dynalite did not start: ${message.kind === 'failed' ? message.message : message.kind}`));
        return;
      }
      resolve({
        url: `http://${host}:${message.port}`,
        close: () =>
          new Promise<void>((done) => {
            if (worker.threadId === -1) return done();
            worker.once('exit', () => done());
            worker.postMessage('close');
          }),
      });
    });
  });
}

async function runThread(port: NonNullable<typeof parentPort>, options: ThreadOptions): Promise<void> {
  await startWorkerProfiler('dynalite');
  const post = (message: ThreadMessage) => port.postMessage(message);
  const dynalite = createRequire(import.meta.url)('dynalite') as (settings: Record<string, unknown>) => Server;
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.once('error', (error) => {
    post({ kind: 'failed', message: error.message });
    process.exit(1);
  });
  server.listen(0, options.host, () => post({ kind: 'listening', port: (server.address() as AddressInfo).port }));
  port.on('message', (message) => {
    if (message !== 'close') return;
    server.closeAllConnections();
    server.close(() => {
      post({ kind: 'closed' });
      port.close();
    });
  });
}

if (!isMainThread && parentPort !== null && (workerData as Partial<ThreadOptions> | undefined)?.path !== undefined) {
  await runThread(parentPort, workerData as ThreadOptions);
}
