/**
 * Scheduled rules of the template that target a Lambda function (`rate(10 minutes)`),
 * run locally by a timer that invokes the function with the event EventBridge would send
 * (`detail-type: Scheduled Event`). Cron expressions and other targets are named, not run.
 */
import { randomUUID } from 'node:crypto';
import type { LocalFunction } from '../lambda/functions.ts';
import type { TemplateResolver } from '../template/resolve-intrinsics.ts';

/** A scheduled invocation the hub runs. */
export interface LocalSchedule {
  readonly ruleLogicalId: string;
  readonly functionLogicalId: string;
  readonly intervalMs: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** Milliseconds of a `rate(N unit)` expression; undefined for anything else (cron). */
export function rateMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  return match === null ? undefined : Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** The template's scheduled rules with Lambda targets, and one line for each it cannot run. */
export function schedulesOf(resolver: TemplateResolver, functions: readonly LocalFunction[]): { schedules: LocalSchedule[]; unsupported: string[] } {
  const schedules: LocalSchedule[] = [];
  const unsupported: string[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.template.Resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const properties = (resource.Properties ?? {}) as { ScheduleExpression?: unknown; State?: unknown; Targets?: { Arn?: unknown }[] };
    if (properties.ScheduleExpression === undefined || properties.State === 'DISABLED') continue;
    const expression = resolver.resolveString(properties.ScheduleExpression, `${logicalId}.ScheduleExpression`);
    const intervalMs = rateMs(expression);
    for (const target of properties.Targets ?? []) {
      const arn = resolver.resolveString(target.Arn, `${logicalId}.Targets.Arn`);
      const fn = functions.find((candidate) => candidate.arn === arn);
      if (fn === undefined || intervalMs === undefined) {
        unsupported.push(`${logicalId}: ${expression} → ${arn} (only rate() schedules of Lambda targets run locally)`);
        continue;
      }
      schedules.push({ ruleLogicalId: logicalId, functionLogicalId: fn.logicalId, intervalMs });
    }
  }
  return { schedules, unsupported };
}

/** Starts a timer per schedule; returns the function that stops them all. */
export function runSchedules(
  schedules: readonly LocalSchedule[],
  options: {
    readonly invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>;
    readonly region: string;
    readonly accountId: string;
    readonly ruleArn: (ruleLogicalId: string) => string;
    /** Every schedule at this interval instead of its own (HARMONY_SCHEDULE_INTERVAL_SECONDS). */
    readonly intervalMs?: number;
    readonly log: (line: string) => void;
  },
): () => void {
  const timers = schedules.map((schedule) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return; // A slow run is not overlapped by the next tick, as reserved concurrency 1 would prevent.
      running = true;
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: options.accountId,
        time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: options.region,
        resources: [options.ruleArn(schedule.ruleLogicalId)],
        detail: {},
      };
      options
        .invoke(schedule.functionLogicalId, event)
        .catch((error: Error) => options.log(`scheduled ${schedule.functionLogicalId} failed: ${error.message}`))
        .finally(() => {
          running = false;
        });
    }, options.intervalMs ?? schedule.intervalMs);
    timer.unref();
    return timer;
  });
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
