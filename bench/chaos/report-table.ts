/**
 * The chaos report as a plain-text table for the terminal and CI logs, findings
 * (lost, duplicated, inconsistent, unaudited deals; failed compensations) listed under it.
 */
import type { TapCounts } from './fault-tap.ts';
import type { ChaosReport, DealFinding } from './run-chaos.ts';

const seconds = (value: number) => `${value.toFixed(1)} s`;
const megabytes = (value: number | undefined) => (value === undefined ? '?' : `${Math.round(value)} MB`);
const byKey = (record: Readonly<Record<string, number>>) =>
  Object.entries(record).map(([key, count]) => `${key} ${count}`).join(', ') || '-';
const percent = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)} %`);

function describe(finding: DealFinding): string {
  const sync = finding.sync === undefined ? 'deal unreadable' : `erp_order_ref=${finding.sync.erpOrderRef ?? '-'} erp_status=${finding.sync.erpStatus ?? '-'}`;
  return `  deal ${finding.dealId} (${finding.sku}): ${sync}; live orders [${finding.liveOrders.join(', ')}]; cancelled [${finding.cancelledOrders.join(', ')}]${finding.inDeadLetterQueue ? '; in a DLQ' : ''}`;
}

/** Calls the hub made at a tap, all operations. */
export function callsAt(tap: TapCounts, operations?: ReadonlySet<string>): number {
  return Object.entries(tap.calls).reduce((sum, [operation, count]) => sum + (operations === undefined || operations.has(operation) ? count : 0), 0);
}

/** Faults the hub really met at both taps: error answers, dropped connections and calls it gave up on. */
export function hubSuffered(report: ChaosReport): number {
  const met = (tap: TapCounts) => tap.met['500'] + tap.met['429'] + tap.met.dropped + tap.met.abandoned;
  return met(report.faults.erp) + met(report.faults.crm);
}

function tapRows(name: string, tap: TapCounts, calls: number): [string, string][] {
  const { drawn, met } = tap;
  return [
    [`${name} calls by the hub`, String(calls)],
    [
      `  faults drawn (500/429/timeout/commit-drop)`,
      `${drawn['500']}/${drawn['429']}/${drawn.timeout}/${drawn['commit-then-drop']} = ${percent(drawn['500'], calls)} / ${percent(drawn['429'], calls)} / ${percent(drawn.timeout, calls)} / ${percent(drawn['commit-then-drop'], calls)} of calls`,
    ],
    [`  met (500/429/dropped/hub hung up)`, `${met['500']}/${met['429']}/${met.dropped}/${met.abandoned}${tap.tapErrors > 0 ? `; tap errors ${tap.tapErrors}` : ''}`],
  ];
}

/** Formats the report. */
export function formatChaosReport(report: ChaosReport): string {
  const { outcome, audit, faults, replays, timings } = report;
  const deadLetterQueues: Record<string, number> = {};
  for (const letter of report.deadLetters) deadLetterQueues[letter.queue] = (deadLetterQueues[letter.queue] ?? 0) + 1;
  const failedForGood = audit.failedCompensations;
  const whereTheyWent: Record<string, number> = {};
  for (const failure of failedForGood) {
    const where = failure.deadLetterQueue ?? 'NOWHERE';
    whereTheyWent[where] = (whereTheyWent[where] ?? 0) + 1;
  }
  const duplicatedCustomers = Object.keys(outcome.duplicatedCustomers).length;
  const rows: [string, string][] = [
    ['orders (deals moved to won)', String(outcome.moved)],
    ['seed / kills / Lambda concurrency', `${report.options.seed} / ${faults.kills} / ${report.options.lambdaConcurrency}`],
    ['accepted (won webhook 2xx)', String(outcome.accepted)],
    ['completed (ref + 1 confirmed order)', String(outcome.completed)],
    ['compensated, unknown SKU (expected)', String(outcome.compensatedExpected)],
    ['compensated, other reasons', `${outcome.compensatedOther}${outcome.compensatedOther > 0 ? ` (${byKey(outcome.compensationReasons)})` : ''}`],
    ['in a DLQ', String(outcome.inDeadLetterQueue)],
    ['LOST', `${outcome.lost.length}${outcome.neverDelivered > 0 ? ` (${outcome.neverDelivered} never delivered: the CRM gave up)` : ''}`],
    ['STUCK (no outcome yet, work still queued)', String(outcome.stuck.length)],
    ['inconsistent (order/deal disagree)', String(outcome.inconsistent.length)],
    ['DUPLICATED orders in ERP', String(outcome.duplicated.length)],
    ['DUPLICATED customers in ERP', String(duplicatedCustomers)],
    ['audit coverage of ERP writes', `${audit.covered}/${audit.erpWrites} (${percent(audit.covered, audit.erpWrites)})`],
    ['DLQ messages', byKey(deadLetterQueues)],
    ['failed compensation attempts', byKey(audit.failedCompensationAttempts)],
    ['compensations failed for good → where', failedForGood.length === 0 ? '0' : `${failedForGood.length} → ${byKey(whereTheyWent)}`],
    ...tapRows('ERP', faults.erp, callsAt(faults.erp)),
    ...tapRows('CRM write-back', faults.crm, faults.crm.calls['PATCH /crm/v3/objects/deals'] ?? 0),
    ['faults met by the hub', String(hubSuffered(report))],
    ['faults met by the driver (must be 0)', String(faults.driverFaults)],
    ['failed step attempts in audit', byKey(audit.failedAttempts)],
    [
      'webhook events repeated (share) / hub: dup, new',
      `${replays.eventsRepeated} of ${replays.eventsDelivered} (${percent(replays.eventsRepeated, replays.eventsDelivered)}) in ${replays.replayed} requests / ${replays.duplicateEvents}, ${replays.acceptedAgain}; refused ${replays.refused}`,
    ],
    ['webhooks answered 5xx (all but 503 must be 0)', byKey(replays.serverErrors)],
    ['hub restarts', timings.restartSeconds.map(seconds).join(', ') || '-'],
    ['queue messages released at restarts', timings.releasedAtRestart.join(', ') || '-'],
    ['peak memory hub / sandboxes / harness', `${megabytes(report.memory.hubMegabytes)} / ${megabytes(report.memory.sandboxesMegabytes)} / ${megabytes(report.memory.harnessMegabytes)}`],
    ['sandboxes / create / inject / total', `${seconds(timings.sandboxSeconds)} / ${seconds(timings.createSeconds)} / ${seconds(timings.injectionSeconds)} / ${seconds(timings.totalSeconds)}`],
    ['time to drain after last fault', `${seconds(timings.drainSeconds)}${timings.drainTimedOut ? ` (GAVE UP: no progress for ${timings.stallLimitSeconds} s)` : ''}`],
    ['result', report.ok ? 'OK' : 'FAILED'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)} | ${value}`);
  const sections: [string, readonly string[]][] = [
    ['LOST', outcome.lost.map(describe)],
    ['DUPLICATED orders', outcome.duplicated.map(describe)],
    ['DUPLICATED customers (ref: active partners)', Object.entries(outcome.duplicatedCustomers).map(([ref, count]) => `  ${ref}: ${count}`)],
    ['INCONSISTENT', outcome.inconsistent.map(describe)],
    ['UNAUDITED ERP writes', audit.uncovered.map((line) => `  ${line}`)],
    [
      'Compensations failed for good',
      failedForGood.map((failure) => `  deal ${failure.dealId} ${failure.compensation} → ${failure.deadLetterQueue ?? 'NOWHERE'}: ${failure.lastError}`),
    ],
    ['STUCK (where the work still is)', outcome.stuck.map((deal) => `  deal ${deal.dealId}: ${deal.where}`)],
    ['DLQ reasons', report.deadLetters.slice(0, 20).map((letter) => `  ${letter.queue}: deal ${letter.dealId ?? '?'}${letter.compensation === undefined ? '' : ` ${letter.compensation}`} — ${letter.reason}`)],
  ];
  for (const [title, items] of sections) if (items.length > 0) lines.push('', `${title}:`, ...items.slice(0, 50));
  return lines.join('\n');
}
