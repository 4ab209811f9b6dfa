/**
 * Load generator for the n8n peer benchmark, run as its own process so it shares no
 * event loop with what it measures: `concurrency` keep-alive loops POST a JSON body
 * (the template plus a fresh `reference` each) to a webhook for `seconds`, then print
 * one JSON line with counts and latency percentiles.
 *
 * Usage: `node bench/n8n/webhook-load.ts '<LoadPlan as JSON>'`.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';

/** What the generator is told to do. */
export const LoadPlan = z.object({
  url: z.url(),
  concurrency: z.int().positive(),
  seconds: z.number().positive(),
  /** Sent with every request, with `reference` set to `<runId>-<sequence>`. */
  body: z.record(z.string(), z.unknown()),
  runId: z.string().min(1),
  /** A 2xx answer counts as confirmed when its JSON body has a number at this key. */
  confirmKey: z.string().min(1),
  /** Per-request limit; an answer later than this counts as status -1. @default 30000 */
  timeoutMs: z.int().positive().default(30_000),
});
export type LoadPlan = z.input<typeof LoadPlan>;

/** What the generator prints. */
export interface LoadOutcome {
  readonly requests: number;
  /** 2xx answers. */
  readonly ok: number;
  /** 2xx answers whose body carries a number at `confirmKey`. */
  readonly confirmed: number;
  /** Count per HTTP status; -1 for connection errors and timeouts. */
  readonly statuses: Record<string, number>;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** The first few answers that were not 2xx and the last one: when (seconds into the run), status, start of the body. */
  readonly failures: readonly { readonly atSeconds: number; readonly status: number; readonly body: string }[];
}

function parsePlan(argument: string | undefined): z.output<typeof LoadPlan> {
  if (argument === undefined) throw new Error("usage: webhook-load.ts '<LoadPlan as JSON>'");
  const result = LoadPlan.safeParse(JSON.parse(argument));
  if (!result.success) throw new Error(`load plan: ${z.prettifyError(result.error)}`);
  return result.data;
}

async function generate(plan: z.output<typeof LoadPlan>): Promise<LoadOutcome> {
  const target = new URL(plan.url);
  const agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let confirmed = 0;
  const failures: { atSeconds: number; status: number; body: string }[] = [];
  let lastFailure: { atSeconds: number; status: number; body: string } | undefined;
  const noteFailure = (status: number, body: string) => {
    lastFailure = { atSeconds: (performance.now() - began) / 1000, status, body: body.slice(0, 160) };
    if (failures.length < 3) failures.push(lastFailure);
  };
  let sequence = 0;
  const began = performance.now();
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

  const post = (): Promise<void> => {
    sequence += 1;
    const payload = JSON.stringify({ ...plan.body, reference: `${plan.runId}-${sequence}` });
    const started = performance.now();
    return new Promise((resolve) => {
      const outgoing = request(
        { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: 'POST', agent, timeout: plan.timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            latencies.push(performance.now() - started);
            count(status);
            if (status < 200 || status >= 300) noteFailure(status, Buffer.concat(chunks).toString('utf8'));
            else {
              try {
                const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
                if (typeof answer[plan.confirmKey] === 'number') confirmed += 1;
              } catch {
                // Not JSON: a 2xx, but not a confirmed creation.
              }
            }
            resolve();
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
      outgoing.on('error', (error) => {
        count(-1);
        noteFailure(-1, error.message);
        resolve();
      });
      outgoing.end(payload);
    });
  };

  const deadline = began + plan.seconds * 1000;
  await Promise.all(Array.from({ length: plan.concurrency }, async () => {
    while (performance.now() < deadline) await post();
  }));
  const elapsed = (performance.now() - began) / 1000;
  if (lastFailure !== undefined && !failures.includes(lastFailure)) failures.push(lastFailure);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (fraction: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * fraction))] ?? 0;
  return {
    requests: latencies.length,
    ok: [...statuses].filter(([status]) => status >= 200 && status < 300).reduce((sum, [, n]) => sum + n, 0),
    confirmed,
    statuses: Object.fromEntries(statuses),
    perSecond: latencies.length / elapsed,
    p50: at(0.5), p95: at(0.95), p99: at(0.99),
    failures,
  };
}

if (import.meta.main) console.log(JSON.stringify(await generate(parsePlan(process.argv[2]))));
