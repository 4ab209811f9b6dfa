/**
 * The chaos report as a plain-text table for the terminal and CI logs, findings
 * (lost, duplicated, inconsistent, unaudited deals) listed under it.
 */
import type { ChaosReport, DealFinding } from './run-chaos.ts';

const seconds = (value: number) => `${value.toFixed(1)} s`;
const byKey = (record: Readonly<Record<string, number>>) =>
  Object.entries(record).map(([key, count]) => `${key} ${count}`).join(', ') || '-';

function describe(finding: DealFinding): string {
  const sync = finding.sync === undefined ? 'deal unreadable' : `erp_order_ref=${finding.sync.erpOrderRef ?? '-'} erp_status=${finding.sync.erpStatus ?? '-'}`;
  return `  deal ${finding.dealId} (${finding.sku}): ${sync}; live orders [${finding.liveOrders.join(', ')}]; cancelled [${finding.cancelledOrders.join(', ')}]${finding.inDeadLetterQueue ? '; in a DLQ' : ''}`;
}

/** Fault rules added minus those nobody met and those the driver's own PATCHes met. */
export function hubSuffered(report: ChaosReport): number {
  const { erp, crmWrite, unsuffered, driverPatchFaults } = report.faults;
  const added = erp['500'] + erp['429'] + erp.timeout + crmWrite['500'] + crmWrite['429'] + crmWrite.timeout;
  return added - unsuffered - driverPatchFaults;
}

/** Formats the report. */
export function formatChaosReport(report: ChaosReport): string {
  const { outcome, audit, faults, replays, timings } = report;
  const coverage = audit.liveOrders === 0 ? 100 : (100 * audit.covered) / audit.liveOrders;
  const deadLetterQueues: Record<string, number> = {};
  for (const letter of report.deadLetters) deadLetterQueues[letter.queue] = (deadLetterQueues[letter.queue] ?? 0) + 1;
  const compensationLetters = report.deadLetters.filter((letter) => /compensation/i.test(letter.queue));
  const rows: [string, string][] = [
    ['orders (deals moved to won)', String(outcome.moved)],
    ['seed / kills', `${report.options.seed} / ${faults.kills}`],
    ['accepted (won webhook 2xx)', String(outcome.accepted)],
    ['completed (ref + 1 confirmed order)', String(outcome.completed)],
    ['compensated, unknown SKU (expected)', String(outcome.compensatedExpected)],
    ['compensated, other reasons', `${outcome.compensatedOther}${outcome.compensatedOther > 0 ? ` (${byKey(outcome.compensationReasons)})` : ''}`],
    ['in a DLQ (no order)', String(outcome.inDeadLetterQueue)],
    ['LOST', String(outcome.lost.length)],
    ['inconsistent (order/deal disagree)', String(outcome.inconsistent.length)],
    ['DUPLICATED in ERP', String(outcome.duplicated.length)],
    ['audit coverage of live orders', `${audit.covered}/${audit.liveOrders} (${coverage.toFixed(1)} %)`],
    ['DLQ messages', byKey(deadLetterQueues)],
    ['failed compensations (audit / comp. DLQ)', `${audit.failedCompensations} / ${compensationLetters.length}`],
    ['ERP fault rules added (500/429/timeout)', `${faults.erp['500']}/${faults.erp['429']}/${faults.erp.timeout}`],
    ['CRM PATCH fault rules (500/429/timeout)', `${faults.crmWrite['500']}/${faults.crmWrite['429']}/${faults.crmWrite.timeout}`],
    ['  of those hit the driver, not the hub', String(faults.driverPatchFaults)],
    ['fault rules never suffered (dropped by kill / left)', String(faults.unsuffered)],
    ['faults suffered by the hub (≈)', String(hubSuffered(report))],
    ['failed step attempts in audit', byKey(audit.failedAttempts)],
    ['webhook re-POSTs (dup events / re-accepted)', `${replays.replayed} (${replays.duplicateEvents} / ${replays.acceptedAgain}); refused ${replays.refused}`],
    ['hub restarts', timings.restartSeconds.map(seconds).join(', ') || '-'],
    ['create / inject / total', `${seconds(timings.createSeconds)} / ${seconds(timings.injectionSeconds)} / ${seconds(timings.totalSeconds)}`],
    ['time to drain after last fault', `${seconds(timings.drainSeconds)}${timings.drainTimedOut ? ' (TIMED OUT)' : ''}`],
    ['result', report.ok ? 'OK' : 'FAILED'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)} | ${value}`);
  const sections: [string, readonly string[]][] = [
    ['LOST', outcome.lost.map(describe)],
    ['DUPLICATED', outcome.duplicated.map(describe)],
    ['INCONSISTENT', outcome.inconsistent.map(describe)],
    ['UNAUDITED live orders', audit.uncovered.map((line) => `  ${line}`)],
    ['STUCK at drain timeout', report.timings.drainTimedOut ? report.stuck.map((id) => `  deal ${id}`) : []],
    ['DLQ reasons', report.deadLetters.slice(0, 20).map((letter) => `  ${letter.queue}: deal ${letter.dealId ?? '?'} — ${letter.reason}`)],
  ];
  for (const [title, items] of sections) if (items.length > 0) lines.push('', `${title}:`, ...items.slice(0, 50));
  return lines.join('\n');
}
