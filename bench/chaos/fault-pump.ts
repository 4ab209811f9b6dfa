/**
 * Tops up fault rules on both sandboxes every tick, so injected failures are spread
 * over the run instead of arriving as one burst: ERP calls fail with 500s, 429s
 * (Retry-After 1) and timeouts, CRM deal write-backs (`PATCH` deals) with the same.
 * Sandbox fault rules live in the hub's memory, so a kill drops the pending ones; the
 * pump counts rules it added, not failures suffered (the audit log tells those).
 */
import type { SeededRandom } from './seeded-random.ts';

/** Fault kinds the sandboxes know. */
export type FaultKind = '500' | '429' | 'timeout';

/** Rates of injected failures, as fractions of calls. */
export interface FaultRates {
  readonly erp: Readonly<Record<FaultKind, number>>;
  readonly crmWrite: Readonly<Record<FaultKind, number>>;
}

/** The rates the brief asks for: ERP 10 % 500, 5 % 429, 2 % timeout; CRM write-backs 10 % in all. */
export const DEFAULT_FAULT_RATES: FaultRates = {
  erp: { '500': 0.1, '429': 0.05, timeout: 0.02 },
  crmWrite: { '500': 0.05, '429': 0.03, timeout: 0.02 },
};

/** Odoo calls one order makes (partner lookup, order lookup, create, confirm, reads), roughly. */
const ERP_CALLS_PER_ORDER = 6;
/** ERP operations a rule may be aimed at; undefined hits whatever ERP call comes next. */
const ERP_OPERATIONS = [undefined, undefined, 'sale.order.create', 'sale.order.action_confirm'] as const;
/** Pending rules above this are not topped up, so faults do not pile up while the hub is slow. */
const MAX_PENDING = 10;

/** Where the pump injects, and how fast calls happen. */
export interface FaultPumpOptions {
  readonly random: SeededRandom;
  readonly rates: FaultRates;
  /** Deals moved to won per second: the pace ERP calls and write-backs follow. */
  readonly ordersPerSecond: number;
  readonly hubspotUrl: () => string;
  readonly odooUrl: () => string;
}

/** Counts of rules added, by target and kind. */
export interface FaultCounts {
  readonly erp: Record<FaultKind, number>;
  readonly crmWrite: Record<FaultKind, number>;
  /** Top-ups that failed because the hub was down at that moment. */
  skippedHubDown: number;
}

async function addRule(url: string, rule: Record<string, unknown>): Promise<number | undefined> {
  const response = await fetch(`${url}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule),
    signal: AbortSignal.timeout(2_000),
  });
  const body = (await response.json()) as { remaining?: number; pending?: number };
  if (!response.ok) throw new Error(`fault rule refused: ${response.status} ${JSON.stringify(body)}`);
  return body.remaining ?? body.pending;
}

/** Draws how many of `calls` calls fail with the given probability. */
function draws(random: SeededRandom, calls: number, probability: number): number {
  let hits = 0;
  const whole = Math.floor(calls);
  for (let call = 0; call < whole; call += 1) if (random.chance(probability)) hits += 1;
  if (random.chance(calls - whole) && random.chance(probability)) hits += 1;
  return hits;
}

/** Adds one tick's worth of faults (`seconds` long) to both sandboxes. */
export async function pumpFaults(options: FaultPumpOptions, seconds: number, counts: FaultCounts): Promise<void> {
  const { random, rates } = options;
  const erpCalls = options.ordersPerSecond * seconds * ERP_CALLS_PER_ORDER;
  const crmCalls = options.ordersPerSecond * seconds;
  try {
    let pending = 0;
    for (const kind of ['500', '429', 'timeout'] as const) {
      for (let hit = draws(random, erpCalls, rates.erp[kind]); hit > 0 && pending < MAX_PENDING; hit -= 1) {
        const operation = ERP_OPERATIONS[random.integer(0, ERP_OPERATIONS.length - 1)];
        pending =
          (await addRule(options.odooUrl(), { count: 1, kind, retryAfterSeconds: 1, ...(operation === undefined ? {} : { operation }) })) ?? 0;
        counts.erp[kind] += 1;
      }
    }
    pending = 0;
    for (const kind of ['500', '429', 'timeout'] as const) {
      for (let hit = draws(random, crmCalls, rates.crmWrite[kind]); hit > 0 && pending < MAX_PENDING; hit -= 1) {
        pending = (await addRule(options.hubspotUrl(), { count: 1, kind, retryAfterSeconds: 1, operation: 'PATCH /crm/v3/objects/deals' })) ?? 0;
        counts.crmWrite[kind] += 1;
      }
    }
  } catch (error) {
    if ((error as Error).message.startsWith('fault rule refused')) throw error;
    counts.skippedHubDown += 1;
  }
}

/**
 * Faults a sandbox still holds (not yet suffered by anyone). Asks by adding a rule for an
 * operation no call has, which stays pending; `probesBefore` is how many such rules this
 * sandbox process already holds.
 */
export async function pendingFaults(url: string, probesBefore: number): Promise<number | undefined> {
  try {
    const remaining = await addRule(url, { count: 1, kind: '500', operation: '__chaos.probe' });
    return remaining === undefined ? undefined : remaining - probesBefore - 1;
  } catch {
    return undefined;
  }
}

/** Removes every pending fault from both sandboxes (the end of injection); false when the hub was down. */
export async function clearFaults(hubspotUrl: string, odooUrl: string): Promise<boolean> {
  try {
    for (const url of [hubspotUrl, odooUrl]) {
      await fetch(`${url}/__sandbox/faults`, { method: 'DELETE', signal: AbortSignal.timeout(2_000) });
    }
    return true;
  } catch {
    return false;
  }
}
