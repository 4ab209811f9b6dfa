/**
 * Scaling: how end-to-end throughput, latency, CPU per order and memory behave as one hub
 * takes 1k → 100k orders — does anything grow with history (audit scans, queue scans,
 * execution lists, sqlite or LevelDB files)?
 *
 * `npm run bench:scaling -- --orders 1000,10000,100000 [--rate 8] [--window 1000]`: one hub (its own
 * process, fresh temp data directory) and the sandboxes (their own process, on sqlite)
 * take open-loop webhook load at a fixed rate, one load process per window of `--window`
 * orders, back to back, through the largest size asked for; the other sizes are checkpoints
 * on the way. All deals are created won in the sandbox CRM before the load starts. Per window:
 * completions per second, webhook-sent → ERP-confirmed latency, hub and sandbox CPU per
 * order (/proc), hub RSS (VmRSS at the window's end and its peak so far), data-directory
 * sizes. Growth is judged against the second window (the first pays for cold starts).
 * Results go to bench/results/scaling.json and a table to stdout. The default sizes fit in
 * about five minutes on the 2-core development machine; larger ones on request.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { auditTimelines, ordersByDeal } from './e2e/observations.ts';
import { CONFIRM_STEP, percentiles, type Percentiles } from './e2e/phase-figures.ts';
import { cpuTime, residentMemory } from './e2e/processes.ts';
import { EndToEndRig } from './e2e/rig.ts';

/** One window of orders. */
interface WindowFigures {
  /** Orders sent before and in this window. */
  readonly ordersThrough: number;
  readonly offeredPerSecond: number;
  readonly completedPerSecond: number;
  readonly confirmed: number;
  readonly latency: Percentiles;
  readonly ingressAnswerP99: number;
  readonly hubCpuMsPerOrder: number;
  readonly sandboxCpuMsPerOrder: number;
  readonly hubRssMb: number;
  readonly hubPeakRssMb: number;
  readonly dataDirMb: Readonly<Record<string, number>>;
}

/** Bytes under `directory`: per sqlite database (with its -wal/-shm), otherwise per top-level folder. */
function dataDirSizes(directory: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        continue; // removed between listing and stat (LevelDB compaction, sqlite checkpoint)
      }
      const relativePath = relative(directory, path);
      const database = /^(.*\.(?:sqlite|sqlite3|db))(?:-wal|-shm|-journal)?$/.exec(relativePath)?.[1];
      const key = database ?? `${relativePath.split('/')[0]}/`;
      sizes[key] = (sizes[key] ?? 0) + size;
    }
  };
  walk(directory);
  return sizes;
}

const Arguments = z.object({
  orders: z
    .string()
    .default('1000,2000')
    .transform((text) => text.split(',').map((part) => Number(part.trim())))
    .pipe(z.array(z.number().int().positive()).min(1)),
  rate: z.coerce.number().positive().default(8),
  /** @default 1000, or 500 below 10,000 orders so the default run has windows to compare */
  window: z.coerce.number().int().positive().optional(),
});

const { values } = parseArgs({ options: { orders: { type: 'string' }, rate: { type: 'string' }, window: { type: 'string' } } });
const parsed = Arguments.safeParse(values);
if (!parsed.success) {
  console.error(`bench:scaling: ${parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  process.exit(2);
}
const { rate } = parsed.data;
const sizes = [...new Set(parsed.data.orders)].sort((a, b) => a - b);
const total = sizes.at(-1)!;
const windowSize = parsed.data.window ?? (total >= 10_000 ? 1000 : 500);
const began = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - began) / 1000).toFixed(0).padStart(5)} s] ${line}`);

const rig = await EndToEndRig.start();
const hubDataDir = join(rig.dataDir, 'hub');
log(`hub pid ${rig.hub.pid}, sandboxes pid ${rig.sandboxes.pid}; ${total} orders at ${rate}/s in windows of ${windowSize}`);
const windows: WindowFigures[] = [];
let verification: { deals: number; exactlyOneConfirmed: number } | undefined;
try {
  const deals: string[] = [];
  for (let start = 0; start < total; start += 10_000) deals.push(...(await rig.createDeals(Math.min(10_000, total - start))));
  log(`${deals.length} won deals created`);

  const runs: { sent: readonly { dealId: string; sentAt: number; answerMs: number }[]; hubCpuMs: number; sandboxCpuMs: number; rss: number; peak: number; dataDir: Record<string, number> }[] = [];
  let peakRss = 0;
  for (let start = 0; start < total; start += windowSize) {
    const dealIds = deals.slice(start, start + windowSize);
    const hubBefore = cpuTime(rig.hub.pid).totalMs;
    const sandboxBefore = cpuTime(rig.sandboxes.pid).totalMs;
    const run = await rig.offer({
      dealIds,
      rate,
      seed: start + 1,
      drain: start + windowSize >= total,
      drainTimeoutSeconds: 600,
      stallSeconds: 60,
      onSample: (sample) => {
        peakRss = Math.max(peakRss, sample.hubRss);
      },
    });
    const memory = residentMemory(rig.hub.pid);
    runs.push({
      sent: run.sent,
      hubCpuMs: cpuTime(rig.hub.pid).totalMs - hubBefore,
      sandboxCpuMs: cpuTime(rig.sandboxes.pid).totalMs - sandboxBefore,
      rss: memory.rss,
      peak: Math.max(peakRss, memory.peak),
      dataDir: dataDirSizes(hubDataDir),
    });
    const backlog = dealIds.length - (run.samples.at(-1)?.confirmed ?? 0);
    log(`orders through ${start + dealIds.length}: offered ${run.summary.offeredPerSecond.toFixed(1)}/s, ${backlog} of the window's orders not yet confirmed, hub RSS ${(memory.rss / 2 ** 20).toFixed(0)} MB`);
  }

  log('reading confirmation times from the audit log');
  const timelines = await auditTimelines(rig.urls.awsEndpoint, [CONFIRM_STEP]);
  const orders = await ordersByDeal(rig.urls.odooUrl);
  verification = {
    deals: deals.length,
    exactlyOneConfirmed: deals.filter((deal) => orders.get(deal)?.orders === 1 && orders.get(deal)?.confirmed === 1).length,
  };
  runs.forEach((run, index) => {
    const confirmations: number[] = [];
    const latencies: number[] = [];
    for (const webhook of run.sent) {
      const end = timelines.get(webhook.dealId)?.steps[CONFIRM_STEP]?.end;
      if (end === undefined) continue;
      confirmations.push(end);
      latencies.push(end - webhook.sentAt);
    }
    const sentTimes = run.sent.map((webhook) => webhook.sentAt);
    const span = (values: number[]) => (Math.max(...values) - Math.min(...values)) / 1000;
    // CPU between window starts is charged to the window; the last one also carries the drain.
    const orderCount = Math.max(1, run.sent.length);
    windows.push({
      ordersThrough: index * windowSize + run.sent.length,
      offeredPerSecond: (run.sent.length - 1) / Math.max(span(sentTimes), 1e-9),
      completedPerSecond: confirmations.length > 1 ? (confirmations.length - 1) / Math.max(span(confirmations), 1e-9) : 0,
      confirmed: confirmations.length,
      latency: percentiles(latencies),
      ingressAnswerP99: percentiles(run.sent.map((webhook) => webhook.answerMs)).p99,
      hubCpuMsPerOrder: run.hubCpuMs / orderCount,
      sandboxCpuMsPerOrder: run.sandboxCpuMs / orderCount,
      hubRssMb: run.rss / 2 ** 20,
      hubPeakRssMb: run.peak / 2 ** 20,
      dataDirMb: Object.fromEntries(Object.entries(run.dataDir).map(([key, bytes]) => [key, bytes / 2 ** 20])),
    });
  });
} finally {
  await rig.stop();
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const dataKeys = [...new Set(windows.flatMap((window) => Object.keys(window.dataDirMb)))].filter((key) => windows.some((window) => (window.dataDirMb[key] ?? 0) >= 0.1)).sort();
const table = [
  `| orders through | offered /s | completed /s | confirmed | p50 ms | p99 ms | ingress answer p99 ms | hub CPU ms/order | sandbox CPU ms/order | hub RSS MB (peak) | ${dataKeys.map((key) => `${key} MB`).join(' | ')} |`,
  `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ${dataKeys.map(() => '---:').join(' | ')} |`,
  ...windows.map(
    (window) =>
      `| ${window.ordersThrough} | ${fixed(window.offeredPerSecond)} | ${fixed(window.completedPerSecond)} | ${window.confirmed} | ${fixed(window.latency.p50, 0)} | ${fixed(window.latency.p99, 0)} | ` +
      `${fixed(window.ingressAnswerP99, 0)} | ${fixed(window.hubCpuMsPerOrder)} | ${fixed(window.sandboxCpuMsPerOrder)} | ${fixed(window.hubRssMb, 0)} (${fixed(window.hubPeakRssMb, 0)}) | ` +
      `${dataKeys.map((key) => fixed(window.dataDirMb[key] ?? 0)).join(' | ')} |`,
  ),
];

/** The window growth is judged against: the second (the first pays for cold starts). */
const reference = windows[Math.min(1, windows.length - 1)]!;
/** The window it is judged at: the last before the one that carries the drain, unless that is the reference. */
const latest = windows.length > 3 ? windows.at(-2)! : windows.at(-1)!;
function growth(name: string, pick: (window: WindowFigures) => number): { name: string; first: number; last: number; ratio: number } {
  return { name, first: pick(reference), last: pick(latest), ratio: pick(latest) / pick(reference) };
}
const trends = [
  growth('hub CPU per order', (window) => window.hubCpuMsPerOrder),
  growth('sandbox CPU per order', (window) => window.sandboxCpuMsPerOrder),
  growth('p50 latency', (window) => window.latency.p50),
  growth('p99 latency', (window) => window.latency.p99),
  growth('completed per second', (window) => window.completedPerSecond),
  growth('hub RSS', (window) => window.hubRssMb),
];
const checkpoints = sizes.map((size) => windows.find((window) => window.ordersThrough >= size)).filter((window) => window !== undefined);
const notes = [
  `One hub through ${total} orders at ${rate} webhooks/s (open loop, Poisson), windows of ${windowSize}; the run took ${((Date.now() - began) / 1000).toFixed(0)} s. ` +
    `Checked: ${verification?.exactlyOneConfirmed ?? 0} of ${verification?.deals ?? 0} deals with exactly one confirmed ERP order.`,
  `Growth from the window through ${reference.ordersThrough} orders to the one through ${latest.ordersThrough}${latest === windows.at(-1) ? ' (the last, which also carries the drain)' : ''}: ${trends
    .map((trend) => `${trend.name} ${fixed(trend.first)} → ${fixed(trend.last)} (×${fixed(trend.ratio, 2)}${trend.ratio > 1.25 ? ', grows' : ''})`)
    .join('; ')}.`,
  `Checkpoints: ${checkpoints.map((window) => `${window.ordersThrough} orders — ${fixed(window.completedPerSecond)} completed/s, p99 ${fixed(window.latency.p99, 0)} ms, hub CPU ${fixed(window.hubCpuMsPerOrder)} ms/order, RSS ${fixed(window.hubRssMb, 0)} MB`).join('; ')}.`,
];
console.log(`\nScaling\n${table.join('\n')}\n\n${notes.join('\n\n')}`);
writeFileSync(
  new URL('./results/scaling.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), rate, windowSize, sizes, windows, trends, verification, table, notes }, null, 2)}\n`,
);
