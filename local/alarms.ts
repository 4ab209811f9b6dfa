/**
 * Evaluates the template's CloudWatch alarms on the local hub, against what the
 * local services count (queue depths, Lambda errors and throttles, failed
 * executions, API 5xx), and tells a person on a state change: on the console
 * and, when SLACK_WEBHOOK_URL is set, in Slack in the cloud notifier's format.
 * Alarms on metrics nothing local produces are named at start, not ignored.
 */
import type { AlarmNotification } from '../functions/core/alarm-message.ts';
import type { TemplateResolver } from './template/resolve-intrinsics.ts';

/** A metric value as a local service reports it: a level now, or a running total. */
export type LocalMetricValue = { readonly kind: 'gauge' | 'counter'; readonly value: number };

/** Reads one metric (namespace, name, resolved dimensions); undefined when it has no local source. */
export type LocalMetricReader = (
  namespace: string,
  metricName: string,
  dimensions: Readonly<Record<string, string>>,
) => Promise<LocalMetricValue | undefined>;

/** The part of an AWS::CloudWatch::Alarm the evaluator uses. */
interface AlarmDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly threshold: number;
  readonly comparison: string;
}

type AlarmState = AlarmNotification['NewStateValue'];

const COMPARE: Readonly<Record<string, (value: number, threshold: number) => boolean>> = {
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  GreaterThanThreshold: (value, threshold) => value > threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/** Evaluates alarms; call `evaluate()` on a timer. */
export class LocalAlarms {
  /** Alarms evaluated locally. */
  readonly alarms: readonly AlarmDefinition[];
  /** Alarms that cannot be evaluated locally, each with why. */
  readonly unsupported: readonly string[];
  private readonly read: LocalMetricReader;
  private readonly notify: (notification: AlarmNotification) => Promise<void>;
  private readonly now: () => Date;
  private readonly states = new Map<string, AlarmState>();
  private readonly breachingSince = new Map<string, number>();
  private readonly samples = new Map<string, { at: number; value: number }[]>();

  constructor(options: {
    readonly resolver: TemplateResolver;
    readonly read: LocalMetricReader;
    readonly notify: (notification: AlarmNotification) => Promise<void>;
    readonly now?: () => Date;
  }) {
    this.read = options.read;
    this.notify = options.notify;
    this.now = options.now ?? (() => new Date());
    const alarms: AlarmDefinition[] = [];
    const unsupported: string[] = [];
    for (const [logicalId, resource] of Object.entries(options.resolver.template.Resources)) {
      if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
      const properties = options.resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>;
      const name = typeof properties.AlarmName === 'string' ? properties.AlarmName : logicalId;
      const comparison = String(properties.ComparisonOperator);
      if (properties.Metrics !== undefined || typeof properties.MetricName !== 'string' || COMPARE[comparison] === undefined) {
        unsupported.push(`${name}: metric math or comparison ${comparison} is not evaluated locally`);
        continue;
      }
      const dimensions: Record<string, string> = {};
      for (const dimension of (properties.Dimensions ?? []) as { Name: string; Value: unknown }[]) {
        dimensions[dimension.Name] = String(dimension.Value);
      }
      alarms.push({
        logicalId,
        name,
        description: typeof properties.AlarmDescription === 'string' ? properties.AlarmDescription : undefined,
        namespace: String(properties.Namespace),
        metricName: properties.MetricName,
        dimensions,
        periodSeconds: Number(properties.Period ?? 60),
        evaluationPeriods: Number(properties.EvaluationPeriods ?? 1),
        threshold: Number(properties.Threshold),
        comparison,
      });
    }
    this.alarms = alarms;
    this.unsupported = unsupported;
  }

  /** The current state of each alarm, by name. */
  current(): ReadonlyMap<string, AlarmState> {
    return new Map(this.alarms.map((alarm) => [alarm.name, this.states.get(alarm.name) ?? 'INSUFFICIENT_DATA']));
  }

  /** Reads every alarm's metric once and notifies each state change (but not the first settle into OK). */
  async evaluate(): Promise<void> {
    const now = this.now().getTime();
    for (const alarm of this.alarms) {
      const reading = await this.read(alarm.namespace, alarm.metricName, alarm.dimensions);
      const value = reading === undefined ? undefined : this.valueOver(alarm, reading, now);
      // Missing data is treated as not breaching (every Harmony alarm says so).
      const breaching = value !== undefined && COMPARE[alarm.comparison]!(value, alarm.threshold);
      if (breaching) {
        if (!this.breachingSince.has(alarm.name)) this.breachingSince.set(alarm.name, now);
      } else {
        this.breachingSince.delete(alarm.name);
      }
      const sustainedMs = (alarm.evaluationPeriods - 1) * alarm.periodSeconds * 1000;
      const next: AlarmState = breaching && now - this.breachingSince.get(alarm.name)! >= sustainedMs ? 'ALARM' : breaching ? (this.states.get(alarm.name) ?? 'INSUFFICIENT_DATA') : 'OK';
      const previous = this.states.get(alarm.name) ?? 'INSUFFICIENT_DATA';
      if (next === previous) continue;
      this.states.set(alarm.name, next);
      if (previous === 'INSUFFICIENT_DATA' && next === 'OK') continue;
      await this.notify({
        AlarmName: alarm.name,
        AlarmDescription: alarm.description ?? null,
        NewStateValue: next,
        OldStateValue: previous,
        NewStateReason:
          next === 'ALARM'
            ? `${alarm.namespace} ${alarm.metricName} was ${value} (threshold ${alarm.comparison} ${alarm.threshold}) over the last ${alarm.periodSeconds} s`
            : `${alarm.namespace} ${alarm.metricName} back to ${value ?? 'no data'} (threshold ${alarm.threshold})`,
        StateChangeTime: new Date(now).toISOString(),
      });
    }
  }

  /** A gauge as it is now; a counter's increase over the alarm's period. */
  private valueOver(alarm: AlarmDefinition, reading: LocalMetricValue, now: number): number {
    if (reading.kind === 'gauge') return reading.value;
    const key = `${alarm.namespace}|${alarm.metricName}|${JSON.stringify(alarm.dimensions)}|${alarm.periodSeconds}`;
    const samples = this.samples.get(key) ?? [];
    samples.push({ at: now, value: reading.value });
    const windowStart = now - alarm.periodSeconds * 1000;
    while (samples.length > 1 && samples[1]!.at <= windowStart) samples.shift();
    this.samples.set(key, samples);
    return reading.value - samples[0]!.value;
  }
}
