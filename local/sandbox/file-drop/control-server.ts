/**
 * The file-drop sandbox's HTTP control server (the ERP itself speaks only FTP and SFTP):
 *
 * - `POST /__sandbox/process` runs the legacy ERP once (the contract's `settle`) and answers its report;
 * - `POST /__sandbox/faults` adds a FaultRequest: `malformed` goes to the ERP (its next status
 *   file carries a broken line), every other kind to the FTP/SFTP servers; `DELETE` clears both;
 * - `POST /__sandbox/orders/<orderNo>/status` with `{"status":"SHIPPED"|"INVOICED"|"PAID"}`
 *   makes the ERP report a later status, as its warehouse and accounting would;
 * - `GET /__sandbox/health`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as z from 'zod';
import { FaultRequest, type FaultInjector } from '../faults.ts';
import type { LegacyErp } from './legacy-erp.ts';
import { listen } from './listen.ts';

/** What the control server drives. */
export interface ControlServerOptions {
  readonly host: string;
  readonly port: number;
  readonly erp: LegacyErp;
  /** Faults of the FTP and SFTP servers. */
  readonly transportFaults: FaultInjector;
  /** Faults of the files the ERP writes. */
  readonly erpFaults: FaultInjector;
}

const StatusReport = z.object({ status: z.enum(['SHIPPED', 'INVOICED', 'PAID']) });
const MAX_BODY_BYTES = 64 * 1024;

async function readJson(request: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Starts the control server; resolves with its port once it listens. */
export async function startControlServer(options: ControlServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
      const route = `${request.method ?? 'GET'} ${path}`;
      try {
        if (route === 'GET /__sandbox/health') return answer(response, 200, { ok: true });
        if (route === 'POST /__sandbox/process') return answer(response, 200, await options.erp.run());
        if (route === 'POST /__sandbox/faults') {
          const parsed = FaultRequest.safeParse(await readJson(request));
          if (!parsed.success) return answer(response, 400, { error: z.prettifyError(parsed.error) });
          (parsed.data.kind === 'malformed' ? options.erpFaults : options.transportFaults).add(parsed.data);
          return answer(response, 201, { pending: options.transportFaults.remaining() + options.erpFaults.remaining() });
        }
        if (route === 'DELETE /__sandbox/faults') {
          options.transportFaults.clear();
          options.erpFaults.clear();
          return answer(response, 200, { pending: 0 });
        }
        const orderStatus = /^POST \/__sandbox\/orders\/([^/]+)\/status$/.exec(route);
        if (orderStatus !== null) {
          const parsed = StatusReport.safeParse(await readJson(request));
          if (!parsed.success) return answer(response, 400, { error: z.prettifyError(parsed.error) });
          return answer(response, 200, await options.erp.report(decodeURIComponent(orderStatus[1]!), parsed.data.status));
        }
        return answer(response, 404, { error: `no route ${route}` });
      } catch (error) {
        return answer(response, error instanceof SyntaxError ? 400 : 500, { error: (error as Error).message });
      }
    })();
  });
  const port = await listen(server, options.port, options.host);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
