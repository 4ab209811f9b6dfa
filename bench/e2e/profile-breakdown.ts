/**
 * Where the hub's CPU goes, from V8 CPU profiles (`.cpuprofile`, Chrome DevTools format):
 * each sample is charged to the component of the innermost stack frame that belongs to a
 * known component — Node internals and native frames are looked through, so a sqlite call
 * made by the queue counts as queue and a `JSON.parse` in dynalite as dynalite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

const CpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.looseObject({ functionName: z.string(), url: z.string() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
  startTime: z.number(),
  endTime: z.number(),
});
type CpuProfile = z.infer<typeof CpuProfile>;

/** Components, tried in order against a frame's URL; the first match names the component. */
const COMPONENTS: readonly (readonly [string, RegExp])[] = [
  ['ingress (HTTP server, API Gateway event)', /\/local\/ingress\//],
  ['ingest handler (verify, validate, dedup, publish)', /\/functions\/(core\/ingress\/|handlers\/ingest)/],
  ['saga starter handler', /\/functions\/(core\/saga-starter|handlers\/start-execution)/],
  ['step runner + flow + connectors', /\/functions\/(core\/step-runner|core\/flow|core\/claims|core\/audit|handlers\/run-step|connectors\/)|\/flows\//],
  ['Harmony function core (env, errors, clients, logging)', /\/functions\//],
  ['queue (local SQS on sqlite)', /\/local\/sqs\//],
  ['event bus (local EventBridge)', /\/local\/eventbridge\//],
  ['state transitions (local Step Functions)', /\/local\/stepfunctions\/|aws-local-stepfunctions/],
  ['Lambda runtime (worker hop)', /\/local\/lambda\//],
  ['AWS endpoint routing', /\/local\/endpoint\//],
  ['DynamoDB (dynalite)', /\/local\/dynamodb\/|node_modules\/(dynalite|levelup|leveldown|memdown|abstract-leveldown|classic-level|level-|encoding-down|deferred-leveldown|lazy|once|big\.js)/],
  ['sandboxes (CRM/ERP)', /\/local\/sandbox\//],
  ['other local hub code', /\/local\//],
  ['AWS SDK clients', /node_modules\/(@aws-sdk|@smithy|@aws-crypto)\//],
  ['Powertools + middy', /node_modules\/(@aws-lambda-powertools|@middy)\//],
  ['HubSpot client', /node_modules\/@hubspot\//],
  ['zod validation', /node_modules\/zod\//],
  ['other npm modules', /node_modules\//],
];

/** Frames looked through like Node's own: shared plumbing whose time belongs to its caller. */
const TRANSPARENT = /\/local\/sqlite\//;

/** What no component frame claims: classified by the leaf frame itself. */
function fallback(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle';
  if (/node:internal\/(per_context\/domexception|abort_controller|event_target)/.test(url)) return 'AbortSignal.timeout expiring (DOMException, abort event)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8/native (program)';
  if (/node:(_http|http|net|stream|internal\/(http|streams|webstreams|net|stream_base|deps\/undici))/.test(url) || /^(writev|writeUtf8String|writeLatin1String|writeBuffer|parse|execute)$/.test(functionName)) return 'Node HTTP/net (http, fetch, sockets)';
  if (/node:internal\/(worker|per_context\/messageport)/.test(url)) return 'Node worker messaging';
  if (/node:internal\/modules|node:internal\/(vm|process\/esm)/.test(url) || functionName === 'compileFunction') return 'module loading';
  return 'Node internals (timers, promises, other)';
}

/** CPU milliseconds per component. */
export type Breakdown = Record<string, number>;

/** A span of V8's monotonic clock (µs), the same clock in every thread of a process. */
export interface ProfileWindow {
  readonly from: number;
  readonly to: number;
}

/** Self time of each sample (within `window`, when given), in ms, charged to the sample's component. */
export function breakdownOf(profile: CpuProfile, window?: ProfileWindow): Breakdown {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const componentOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = componentOf.get(id);
    if (known !== undefined) return known;
    let cursor: number | undefined = id;
    let found: string | undefined;
    while (cursor !== undefined && found === undefined) {
      const url = byId.get(cursor)!.callFrame.url;
      found = url === '' || url.startsWith('node:') || TRANSPARENT.test(url) ? undefined : COMPONENTS.find(([, pattern]) => pattern.test(url))?.[0];
      cursor = parent.get(cursor);
    }
    const leaf = byId.get(id)!.callFrame;
    const component = found ?? fallback(leaf.functionName, leaf.url);
    componentOf.set(id, component);
    return component;
  };
  const totals: Breakdown = {};
  const { samples, timeDeltas } = profile;
  let clock = profile.startTime;
  for (let index = 0; index < samples.length; index += 1) {
    clock += timeDeltas[index] ?? 0;
    if (window !== undefined && (clock < window.from || clock > window.to)) continue;
    // timeDeltas[i] is the gap before sample i: the sample's own time is the gap after it.
    const micros = timeDeltas[index + 1] ?? (profile.endTime - profile.startTime) / Math.max(samples.length, 1);
    const component = resolve(samples[index]!);
    totals[component] = (totals[component] ?? 0) + Math.max(0, micros) / 1000;
  }
  return totals;
}

/** One thread's profile, summed over its files. */
export interface ThreadBreakdown {
  /** `main`, or the Lambda function a worker ran. */
  readonly thread: string;
  readonly files: number;
  readonly breakdown: Breakdown;
}

/**
 * Reads the main thread's profile (`mainFile`) and every worker profile in `directory`
 * (the hub's are named `<function>.<pid>.<thread>.<part>.cpuprofile`), keeping only the
 * worker samples taken while the main thread was being profiled.
 */
export function readProfiles(mainFile: string, directory: string): ThreadBreakdown[] {
  const main = CpuProfile.parse(JSON.parse(readFileSync(mainFile, 'utf8')));
  const window = { from: main.startTime, to: main.endTime };
  const threads = new Map<string, { files: number; breakdown: Breakdown }>([['main', { files: 1, breakdown: breakdownOf(main) }]]);
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.cpuprofile') && join(directory, name) !== mainFile)) {
    const thread = file.split('.')[0]!;
    const profile = CpuProfile.parse(JSON.parse(readFileSync(join(directory, file), 'utf8')));
    if (profile.endTime < window.from || profile.startTime > window.to) continue;
    const entry = threads.get(thread) ?? { files: 0, breakdown: {} };
    entry.files += 1;
    for (const [component, ms] of Object.entries(breakdownOf(profile, window))) entry.breakdown[component] = (entry.breakdown[component] ?? 0) + ms;
    threads.set(thread, entry);
  }
  return [...threads].map(([thread, entry]) => ({ thread, ...entry }));
}

/** The breakdowns of many threads added up, idle left out. */
export function combined(threads: readonly ThreadBreakdown[]): Breakdown {
  const total: Breakdown = {};
  for (const { breakdown } of threads) {
    for (const [component, ms] of Object.entries(breakdown)) if (component !== 'idle') total[component] = (total[component] ?? 0) + ms;
  }
  return total;
}
