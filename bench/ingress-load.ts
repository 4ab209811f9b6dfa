/**
 * Load generator for the ingress benchmark, run as its own process so it does not
 * share an event loop with the server it measures: `concurrency` keep-alive loops
 * POST signed single-event HubSpot batches (a fresh eventId each) for `seconds`,
 * then print one JSON line with counts and latency percentiles.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { hubspotSignatureV3 } from '../functions/connectors/crm/hubspot/webhook.ts';

const [url, secret, concurrencyText, secondsText, runId] = process.argv.slice(2);
if (url === undefined || secret === undefined) throw new Error('usage: ingress-load.ts <url> <secret> <concurrency> <seconds> <runId>');
const concurrency = Number(concurrencyText ?? 16);
const deadline = performance.now() + Number(secondsText ?? 10) * 1000;
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const latencies: number[] = [];
const statuses = new Map<number, number>();
let sequence = 0;

function body(): string {
  sequence += 1;
  // A contact change: it passes signature, validation, dedup and PutEvents, and no flow rule starts a saga.
  return JSON.stringify([{
    eventId: Number(`${runId ?? 1}${String(sequence).padStart(9, '0')}`),
    subscriptionId: 7, portalId: 62515, appId: 1, occurredAt: Date.now(), subscriptionType: 'contact.creation',
    attemptNumber: 0, objectId: sequence, changeSource: 'CRM_UI',
  }]);
}

function post(): Promise<void> {
  const payload = body();
  const timestamp = String(Date.now());
  const signature = hubspotSignatureV3({ method: 'POST', uri: url!, body: payload, timestamp, clientSecret: secret! });
  const started = performance.now();
  return new Promise((resolve) => {
    const outgoing = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp } },
      (response) => {
        response.resume();
        response.on('end', () => {
          latencies.push(performance.now() - started);
          statuses.set(response.statusCode ?? 0, (statuses.get(response.statusCode ?? 0) ?? 0) + 1);
          resolve();
        });
      },
    );
    outgoing.on('error', () => {
      statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
      resolve();
    });
    outgoing.end(payload);
  });
}

const began = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (performance.now() < deadline) await post();
}));
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const at = (fraction: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * fraction))] ?? 0;
agent.destroy();
console.log(JSON.stringify({
  requests: latencies.length,
  ok: [...statuses].filter(([status]) => status >= 200 && status < 300).reduce((sum, [, count]) => sum + count, 0),
  statuses: Object.fromEntries(statuses),
  perSecond: latencies.length / elapsed,
  p50: at(0.5), p95: at(0.95), p99: at(0.99),
}));
