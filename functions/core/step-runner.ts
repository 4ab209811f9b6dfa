/**
 * Runs one step or compensation of a flow for Step Functions, and writes its
 * audit record whatever the outcome. Errors keep their family so the state
 * machine retries `RetryableError`s and compensates on everything else.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import type { AuditLog } from './audit.ts';
import { classifyError, describeError } from './errors.ts';
import type { AuditFacts, FlowDefinition, JsonValue, SagaState, StepServices } from './flow.ts';
import { MetricName } from './metric-names.ts';
import { logger, metrics } from './observability.ts';
import { parseOrThrow } from './validation.ts';

/** The payload the saga's Task states send to the step runner. */
export const StepRequest = z.object({
  flow: z.string().min(1),
  step: z.string().min(1),
  kind: z.enum(['step', 'compensation']),
  executionName: z.string().min(1),
  retryCount: z.number().int().nonnegative().default(0),
  state: z.looseObject({
    trigger: z.unknown(),
    businessKey: z.string().min(1),
    correlationId: z.string().min(1),
    receivedAt: z.string().min(1),
    results: z.record(z.string(), z.unknown()).default({}),
    failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  }),
});
export type StepRequest = z.infer<typeof StepRequest>;

/** What the step runner needs besides the request. */
export interface StepRunnerDependencies {
  readonly services: StepServices;
  readonly audit: AuditLog;
  readonly now?: () => Date;
  /** When the invocation running this attempt times out. @default 60 s from now */
  readonly deadline?: Date;
}

/** Finds the step or compensation `name` in `flow`, or throws naming what exists. */
function actionOf(flow: FlowDefinition<unknown>, request: StepRequest) {
  for (const [index, step] of flow.steps.entries()) {
    if (request.kind === 'step' && step.name === request.step) return { run: step.run, isLast: index === flow.steps.length - 1 };
    if (request.kind === 'compensation' && step.compensation?.name === request.step) {
      return { run: step.compensation.run, isLast: false };
    }
  }
  const known = flow.steps.flatMap((step) => [step.name, step.compensation?.name ?? []]).flat();
  throw new Error(`flow ${flow.name}: no ${request.kind} named ${request.step} (known: ${known.join(', ')})`);
}

/** Runs the requested step, audits the attempt, emits metrics, and returns the step's result. */
export async function runStep(
  flow: FlowDefinition<unknown>,
  input: unknown,
  dependencies: StepRunnerDependencies,
): Promise<JsonValue> {
  const request = parseOrThrow(StepRequest, input, 'stepRequest');
  if (request.flow !== flow.name) throw new Error(`step runner of ${flow.name} received a request for ${request.flow}`);
  const action = actionOf(flow, request);
  const now = dependencies.now ?? (() => new Date());
  const trigger = parseOrThrow(flow.triggerSchema, request.state.trigger, 'state.trigger');
  const state = { ...request.state, trigger } as SagaState<unknown>;
  const facts: Record<string, string | number | boolean | undefined> = {};
  const started = now();
  const auditBase = {
    businessKey: state.businessKey,
    correlationId: state.correlationId,
    kind: request.kind,
    flow: flow.name,
    action: request.step,
    executionName: request.executionName,
    attempt: request.retryCount,
    at: started,
  } as const;
  logger.appendKeys({ businessKey: state.businessKey, correlationId: state.correlationId, step: request.step });
  try {
    const result = await action.run(state, {
      services: dependencies.services,
      executionName: request.executionName,
      retryCount: request.retryCount,
      deadline: dependencies.deadline ?? new Date(started.getTime() + 60_000),
      note: (more: AuditFacts) => Object.assign(facts, more),
    });
    const erpOrderRef = typeof facts.erpOrderRef === 'string' ? facts.erpOrderRef : undefined;
    await dependencies.audit.record({
      ...auditBase,
      outcome: 'succeeded',
      durationMs: now().getTime() - started.getTime(),
      ...(erpOrderRef === undefined ? {} : { erpOrderRef }),
      facts,
    });
    if (request.kind === 'compensation') metrics.addMetric(MetricName.CompensationsRun, MetricUnit.Count, 1);
    if (action.isLast && flow.completionMetrics !== undefined) {
      metrics.addMetric(flow.completionMetrics.count, MetricUnit.Count, 1);
      const latency = now().getTime() - Date.parse(state.receivedAt);
      if (Number.isFinite(latency)) {
        metrics.addMetric(flow.completionMetrics.latencyFromWebhook, MetricUnit.Milliseconds, latency);
      }
    }
    return result;
  } catch (thrown) {
    const error = classifyError(thrown);
    logger.warn('step attempt failed', { error: describeError(error), attempt: request.retryCount });
    metrics.addMetric(MetricName.StepAttemptsFailed, MetricUnit.Count, 1);
    await dependencies.audit.record({
      ...auditBase,
      outcome: 'failed',
      durationMs: now().getTime() - started.getTime(),
      error: describeError(error).slice(0, 1000),
      facts,
    });
    throw error;
  } finally {
    logger.removeKeys(['businessKey', 'correlationId', 'step']);
  }
}
