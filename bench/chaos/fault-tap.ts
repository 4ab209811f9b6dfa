/**
 * A transparent HTTP tap between the hub and one sandbox. For every call the hub makes
 * it draws, with the seeded random source, whether the call fails and how; if so it asks
 * the sandbox (`POST /__sandbox/faults`, `count: 1`, scoped to the call's operation) to
 * fail exactly that call, then forwards it unchanged. So fault rates are per call, not
 * per guessed call rate, and the tap sees what the hub really met: answers with 500 or
 * 429, connections the sandbox dropped after committing (`commit-then-drop`), and calls
 * the hub gave up on (held timeouts, or in flight at a `kill -9`).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SeededRandom } from './seeded-random.ts';

/** Fault kinds the sandboxes know. */
export type FaultKind = '500' | '429' | 'timeout' | 'commit-then-drop';

/** Chance of each fault kind for one call; they add up to the call's chance of failing. */
export type FaultMix = Readonly<Partial<Record<FaultKind, number>>>;

/** Which calls fail how: `mix(operation)` gives the mix for a call (empty for none). */
export interface FaultPlan {
  readonly mix: (operation: string) => FaultMix;
}

/** What the hub met at this tap, by operation. */
export interface TapCounts {
  /** Calls the hub made. */
  readonly calls: Record<string, number>;
  /** Faults drawn (rules added to the sandbox), by kind. */
  readonly drawn: Record<FaultKind, number>;
  /** What came back: `500`, `429` (any 5xx counts as 500), `dropped` (the sandbox closed the connection without answering), `abandoned` (the hub hung up first). */
  readonly met: Record<'500' | '429' | 'dropped' | 'abandoned', number>;
  /** Fault rules the sandbox refused or could not be asked for (the call then went through unfaulted). */
  tapErrors: number;
}

/** Options of a tap. */
export interface FaultTapOptions {
  /** The sandbox's base URL. */
  readonly upstream: string;
  /** Names the operation of a call the way the sandbox's fault rules do. */
  readonly operationOf: (method: string, path: string, body: Buffer) => string;
  readonly random: SeededRandom;
  readonly host?: string;
}

const ZERO_DRAWN: Record<FaultKind, number> = { '500': 0, '429': 0, timeout: 0, 'commit-then-drop': 0 };

/** The operation of an Odoo JSON-RPC call: `<model>.<method>` for `object.execute_kw`, else `<service>.<method>`. */
export function odooOperation(_method: string, _path: string, body: Buffer): string {
  try {
    const call = JSON.parse(body.toString('utf8')) as { params?: { service?: unknown; method?: unknown; args?: unknown[] } };
    const { service, method, args } = call.params ?? {};
    if (service === 'object' && Array.isArray(args) && typeof args[3] === 'string' && typeof args[4] === 'string') return `${args[3]}.${args[4]}`;
    return `${String(service)}.${String(method)}`;
  } catch {
    return 'unparsable';
  }
}

/** The operation of a HubSpot call: method and path without the record id, e.g. `PATCH /crm/v3/objects/deals`. */
export function hubspotOperation(method: string, path: string): string {
  const pathname = path.split('?')[0] ?? path;
  return `${method} ${pathname.replace(/\/\d+(?=\/|$)/g, '')}`;
}

/** A running tap. */
export class FaultTap {
  private readonly options: FaultTapOptions;
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private plan: FaultPlan = { mix: () => ({}) };
  readonly counts: TapCounts = { calls: {}, drawn: { ...ZERO_DRAWN }, met: { '500': 0, '429': 0, dropped: 0, abandoned: 0 }, tapErrors: 0 };
  /** Faults drawn per operation, for the report. */
  readonly drawnByOperation: Record<string, Partial<Record<FaultKind, number>>> = {};
  private url = '';

  private constructor(options: FaultTapOptions) {
    this.options = options;
    this.server = http.createServer((request, response) => {
      // A hub killed mid-request leaves nothing to answer.
      this.pass(request, response).catch(() => response.destroy());
    });
    this.server.keepAliveTimeout = 60_000;
  }

  /** Starts a tap in front of `options.upstream`. */
  static async start(options: FaultTapOptions): Promise<FaultTap> {
    const tap = new FaultTap(options);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      tap.server.once('error', reject);
      tap.server.listen(0, host, resolve);
    });
    tap.url = `http://${host}:${(tap.server.address() as AddressInfo).port}`;
    return tap;
  }

  /** Where the hub should send its calls. */
  get baseUrl(): string {
    return this.url;
  }

  /** Starts (or changes) fault injection. */
  inject(plan: FaultPlan): void {
    this.plan = plan;
  }

  /** Stops drawing faults and removes any rule the sandbox still holds. */
  async stop(): Promise<void> {
    this.plan = { mix: () => ({}) };
    await fetch(`${this.options.upstream}/__sandbox/faults`, { method: 'DELETE', signal: AbortSignal.timeout(5_000) });
  }

  /** Closes the tap (connections included). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private draw(operation: string): FaultKind | undefined {
    const mix = this.plan.mix(operation);
    const roll = this.options.random.next();
    let edge = 0;
    for (const kind of ['500', '429', 'timeout', 'commit-then-drop'] as const) {
      edge += mix[kind] ?? 0;
      if (roll < edge) return kind;
    }
    return undefined;
  }

  private async pass(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const operation = this.options.operationOf(method, path, body);
    this.counts.calls[operation] = (this.counts.calls[operation] ?? 0) + 1;
    const kind = this.draw(operation);
    if (kind !== undefined) {
      try {
        const added = await fetch(`${this.options.upstream}/__sandbox/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ count: 1, kind, operation, retryAfterSeconds: 1 }),
          signal: AbortSignal.timeout(5_000),
        });
        await added.arrayBuffer();
        if (!added.ok) throw new Error(`HTTP ${added.status}`);
        this.counts.drawn[kind] += 1;
        const byKind = (this.drawnByOperation[operation] ??= {});
        byKind[kind] = (byKind[kind] ?? 0) + 1;
      } catch {
        this.counts.tapErrors += 1;
      }
    }
    const headers = { ...request.headers };
    delete headers.host;
    headers['content-length'] = String(body.length);
    const upstream = new URL(path, this.options.upstream);
    let answered = false;
    const outgoing = http.request(upstream, { method, headers, agent: this.agent }, (incoming) => {
      answered = true;
      const status = incoming.statusCode ?? 502;
      if (status === 429) this.counts.met['429'] += 1;
      else if (status >= 500) this.counts.met['500'] += 1;
      response.writeHead(status, incoming.headers);
      incoming.pipe(response);
      incoming.once('error', () => response.destroy());
    });
    outgoing.once('error', () => {
      if (response.destroyed || response.writableEnded) return;
      if (!answered) this.counts.met.dropped += 1;
      response.destroy();
    });
    response.once('close', () => {
      if (!answered && !outgoing.destroyed) {
        this.counts.met.abandoned += 1;
        outgoing.destroy();
      }
    });
    outgoing.end(body);
  }
}
