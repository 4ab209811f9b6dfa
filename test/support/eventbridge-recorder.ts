/**
 * An EventBridge PutEvents endpoint for handler tests, speaking the real JSON 1.1
 * protocol the SDK uses, that records accepted entries and can be told to fail
 * the next N entries (as EventBridge does with FailedEntryCount). It stands in
 * for the bus only until the local hub's EventBridge API exists.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One PutEvents entry as received. */
export interface RecordedEntry {
  readonly EventBusName?: string;
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly Time?: number;
  readonly EventId: string;
}

/** A running recorder. */
export interface EventBridgeRecorder {
  readonly endpoint: string;
  readonly entries: RecordedEntry[];
  failNext(count: number): void;
  /** Holds the answer to the next PutEvents call for `ms` milliseconds (a slow bus). */
  delayNext(ms: number): void;
  stop(): Promise<void>;
}

/** Starts the recorder on a free loopback port. */
export async function startEventBridgeRecorder(): Promise<EventBridgeRecorder> {
  const entries: RecordedEntry[] = [];
  let failures = 0;
  let delayMs = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = request.headers['x-amz-target'];
      if (target !== 'AWSEvents.PutEvents') {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: 'UnknownOperationException', message: `unsupported ${String(target)}` }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: Omit<RecordedEntry, 'EventId'>[] };
      let failed = 0;
      const results = body.Entries.map((entry) => {
        if (failures > 0) {
          failures -= 1;
          failed += 1;
          return { ErrorCode: 'InternalFailure', ErrorMessage: 'injected failure' };
        }
        const EventId = randomUUID();
        entries.push({ ...entry, EventId });
        return { EventId };
      });
      const answer = () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ FailedEntryCount: failed, Entries: results }));
      };
      const wait = delayMs;
      delayMs = 0;
      if (wait > 0) setTimeout(answer, wait);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    entries,
    failNext: (count) => {
      failures = count;
    },
    delayNext: (ms) => {
      delayMs = ms;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
