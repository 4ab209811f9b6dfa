/**
 * Open-loop webhook load for the end-to-end benchmarks, in its own process so it shares
 * no event loop with the hub: sends one signed HubSpot `deal.propertyChange` (`dealstage`
 * → won) webhook per deal at a fixed mean rate, Poisson arrivals (seeded) or evenly
 * spaced, whether or not earlier requests have been answered, and writes the moment each
 * webhook went out (epoch ms, sub-millisecond) to a JSON file for the benchmark to join
 * with the ERP confirmations.
 *
 * Usage: `node bench/e2e/load-process.ts <spec.json>` (a `LoadSpec`); prints one
 * JSON summary line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LoadSpec, type LoadSummary, type SentWebhook } from './load-spec.ts';
import { seededRandom } from '../chaos/seeded-random.ts';
import { hubspotSignatureV3 } from '../../functions/connectors/crm/hubspot/webhook.ts';

/** Epoch milliseconds with sub-millisecond precision (monotonic within the process). */
const epochNow = () => performance.timeOrigin + performance.now();

async function run(spec: LoadSpec): Promise<LoadSummary> {
  const target = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const random = seededRandom(spec.seed);
  const requests = Math.ceil(spec.dealIds.length / spec.eventsPerRequest);
  const requestRate = spec.rate / spec.eventsPerRequest;
  // Schedule (ms after start) of each request.
  const schedule: number[] = [];
  let offset = 0;
  for (let index = 0; index < requests; index += 1) {
    schedule.push(offset);
    offset += spec.arrivals === 'uniform' ? 1000 / requestRate : (-Math.log(1 - random.next()) * 1000) / requestRate;
  }
  const sent: SentWebhook[] = [];
  const statuses = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let maxLagMs = 0;
  const answers: Promise<void>[] = [];

  let retries = 0;
  /** One POST; resolves with the HTTP status, or -1 when the connection failed. */
  const post = (body: string, signature: string, timestamp: string) =>
    new Promise<number>((resolve) => {
      const outgoing = request(
        {
          host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
          headers: {
            'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
            'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      outgoing.on('error', () => resolve(-1));
      outgoing.end(body);
    });

  const send = (index: number, scheduledAt: number) => {
    const deals = spec.dealIds.slice(index * spec.eventsPerRequest, (index + 1) * spec.eventsPerRequest);
    const sentAt = epochNow();
    const lagMs = Math.max(0, sentAt - scheduledAt);
    maxLagMs = Math.max(maxLagMs, lagMs);
    const body = JSON.stringify(
      deals.map((dealId, position) => ({
        eventId: spec.firstEventId + index * spec.eventsPerRequest + position,
        subscriptionId: 1001,
        portalId: spec.portalId,
        appId: 1_160_452,
        occurredAt: Math.floor(sentAt),
        subscriptionType: 'deal.propertyChange',
        attemptNumber: 0,
        objectId: Number(dealId),
        changeSource: 'CRM_UI',
        propertyName: 'dealstage',
        propertyValue: spec.stage,
      })),
    );
    const timestamp = String(Math.floor(sentAt));
    const signature = hubspotSignatureV3({ method: 'POST', uri: spec.url, body, timestamp, clientSecret: spec.clientSecret });
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    answers.push(
      (async () => {
        // A keep-alive connection the server closed just as it was reused fails before any answer:
        // send again at once, as HubSpot redelivers (the hub deduplicates by event id).
        let status = await post(body, signature, timestamp);
        for (let retry = 0; status === -1 && retry < 3; retry += 1) {
          retries += 1;
          status = await post(body, signature, timestamp);
        }
        inFlight -= 1;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const answerMs = epochNow() - sentAt;
        for (const dealId of deals) sent.push({ dealId, sentAt, lagMs, status, answerMs });
      })(),
    );
  };

  const started = epochNow();
  let next = 0;
  while (next < requests) {
    const elapsed = epochNow() - started;
    while (next < requests && schedule[next]! <= elapsed) {
      send(next, started + schedule[next]!);
      next += 1;
    }
    if (next < requests) {
      const wait = schedule[next]! - (epochNow() - started);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(wait))));
    }
  }
  const seconds = (epochNow() - started) / 1000;
  await Promise.all(answers);
  agent.destroy();
  writeFileSync(spec.outFile, JSON.stringify(sent));
  return {
    sent: spec.dealIds.length,
    requests,
    ok: [...statuses].filter(([status]) => status >= 200 && status < 300).reduce((sum, [, count]) => sum + count, 0),
    statuses: Object.fromEntries([...statuses].map(([status, count]) => [String(status), count])),
    seconds,
    offeredPerSecond: spec.dealIds.length / Math.max(seconds, 1e-9),
    maxLagMs,
    maxInFlight,
    retries,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  };
}

const specFile = process.argv[2];
if (specFile === undefined) throw new Error('usage: load-process.ts <spec.json>');
const summary = await run(LoadSpec.parse(JSON.parse(readFileSync(specFile, 'utf8'))));
console.log(JSON.stringify(summary));
