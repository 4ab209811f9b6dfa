/**
 * Figures of one phase of end-to-end load, joined from what the load process sent
 * (epoch ms per webhook) and what the hub's audit log holds (epoch ms per step): completed
 * sagas per second, webhook-sent → ERP-order-confirmed latency percentiles, and where the
 * time between the two goes, stage by stage.
 */
import type { SentWebhook } from './load-spec.ts';
import type { SagaTimeline } from './observations.ts';

/** The saga's steps in order, as flows/order-to-cash.ts names them. */
export const SAGA_STEPS = ['LoadDeal', 'UpsertCustomer', 'CreateSalesOrder', 'ConfirmSalesOrder', 'UpdateDealWithOrder'] as const;
/** The step whose end is "ERP order confirmed". */
export const CONFIRM_STEP = 'ConfirmSalesOrder';

/** p50/p95/p99/max of a set of numbers. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentiles (NaN when empty). */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * fraction) - 1))] ?? Number.NaN;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** One stage of a saga's path and its median and p99, ms. */
export interface StageFigure {
  readonly stage: string;
  readonly p50: number;
  readonly p99: number;
}

/** What one phase measured. */
export interface PhaseFigures {
  /** Offered: webhooks sent / span of sending. */
  readonly offeredPerSecond: number;
  readonly sent: number;
  /** Webhooks the ingress answered 2xx. */
  readonly accepted: number;
  /** Deals of the phase whose ERP order the audit shows confirmed. */
  readonly confirmed: number;
  /** Completions over the span from the first to the last confirmation of the phase. */
  readonly completedPerSecond: number;
  /**
   * How fast the backlog (webhooks sent, orders not yet confirmed) grew while load was
   * offered, per second: least squares over the last three quarters of the sending span.
   * Near 0 when the hub keeps up; offered − completed when it does not.
   */
  readonly backlogGrowthPerSecond: number;
  /** Webhook sent → ERP order confirmed, ms. */
  readonly latency: Percentiles;
  /** Webhook sent → ingress answer, ms. */
  readonly answer: Percentiles;
  /** Medians and p99 of each stage of the path, ms. */
  readonly stages: readonly StageFigure[];
  readonly failedStepAttempts: number;
  readonly compensations: number;
}

/** Joins a phase's webhooks with the audit timelines. */
export function phaseFigures(sent: readonly SentWebhook[], timelines: ReadonlyMap<string, SagaTimeline>): PhaseFigures {
  const sentTimes = sent.map((webhook) => webhook.sentAt);
  const sendingSpan = (Math.max(...sentTimes) - Math.min(...sentTimes)) / 1000;
  const latencies: number[] = [];
  const confirmations: number[] = [];
  const stageValues = new Map<string, number[]>();
  const addStage = (stage: string, value: number | undefined) => {
    if (value === undefined || !Number.isFinite(value)) return;
    stageValues.set(stage, [...(stageValues.get(stage) ?? []), value]);
  };
  let failedStepAttempts = 0;
  let compensations = 0;
  for (const webhook of sent) {
    const timeline = timelines.get(webhook.dealId);
    if (timeline === undefined) continue;
    failedStepAttempts += timeline.failedAttempts;
    compensations += timeline.compensations;
    const confirmed = timeline.steps[CONFIRM_STEP]?.end;
    if (confirmed === undefined) continue;
    latencies.push(confirmed - webhook.sentAt);
    confirmations.push(confirmed);
    addStage('webhook sent → ingest handler took it', timeline.accepted === undefined ? undefined : timeline.accepted - webhook.sentAt);
    addStage('→ saga started (bus, queue, starter, StartExecution)', timeline.started !== undefined && timeline.accepted !== undefined ? timeline.started - timeline.accepted : undefined);
    let previousEnd = timeline.started;
    for (const step of SAGA_STEPS) {
      const span = timeline.steps[step];
      if (span === undefined) break;
      addStage(`→ ${step} began (audit write, state transition, worker hop, wait for an instance)`, previousEnd === undefined ? undefined : span.begin - previousEnd);
      addStage(`${step} ran (its connector calls)`, span.end - span.begin);
      previousEnd = span.end;
      if (step === CONFIRM_STEP) break;
    }
  }
  const completionSpan = (Math.max(...confirmations) - Math.min(...confirmations)) / 1000;
  const firstSent = Math.min(...sentTimes);
  const lastSent = Math.max(...sentTimes);
  return {
    offeredPerSecond: sent.length > 1 ? (sent.length - 1) / Math.max(sendingSpan, 1e-9) : 0,
    sent: sent.length,
    accepted: sent.filter((webhook) => webhook.status >= 200 && webhook.status < 300).length,
    confirmed: confirmations.length,
    completedPerSecond: confirmations.length > 1 ? (confirmations.length - 1) / Math.max(completionSpan, 1e-9) : 0,
    backlogGrowthPerSecond: backlogSlope(sentTimes, confirmations, firstSent + 0.25 * (lastSent - firstSent), lastSent),
    latency: percentiles(latencies),
    answer: percentiles(sent.map((webhook) => webhook.answerMs)),
    stages: [...stageValues].map(([stage, values]) => {
      const figures = percentiles(values);
      return { stage, p50: figures.p50, p99: figures.p99 };
    }),
    failedStepAttempts,
    compensations,
  };
}

/** Least-squares slope (per second) of backlog(t) = sent by t − confirmed by t, sampled 40 times over [from, to]. */
function backlogSlope(sent: readonly number[], confirmed: readonly number[], from: number, to: number): number {
  if (!(to > from)) return 0;
  const sortedSent = [...sent].sort((a, b) => a - b);
  const sortedConfirmed = [...confirmed].sort((a, b) => a - b);
  const countUpTo = (sorted: readonly number[], time: number) => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (sorted[middle]! <= time) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const points = Array.from({ length: 40 }, (_, index) => {
    const time = from + ((to - from) * index) / 39;
    return { x: (time - from) / 1000, y: countUpTo(sortedSent, time) - countUpTo(sortedConfirmed, time) };
  });
  const meanX = points.reduce((sum, point) => sum + point.x, 0) / points.length;
  const meanY = points.reduce((sum, point) => sum + point.y, 0) / points.length;
  const covariance = points.reduce((sum, point) => sum + (point.x - meanX) * (point.y - meanY), 0);
  const variance = points.reduce((sum, point) => sum + (point.x - meanX) ** 2, 0);
  return variance === 0 ? 0 : covariance / variance;
}
