/**
 * Runs one execution of a state machine rendered from a synthesized template
 * (local/template) through the local hub's Step Functions service (in-memory sqlite,
 * retry waits cut to zero), with the template's Lambda functions played by local
 * functions: their errors reach the state machine as Lambda reports them, and SQS
 * SendMessage Tasks go to a real SQS endpoint (fauxqs). Returns what the execution
 * did, read from its AWS-shaped history.
 */
import { type InvokeOutcome, LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import type { TemplateStateMachine } from '../../local/template/state-machines.ts';

/** A Lambda function as the test plays it: receives the Task's payload, returns a result or throws. */
export type LocalFunction = (payload: Record<string, unknown>, call: { readonly stateName: string; readonly attempt: number }) => unknown;

/** One event of the execution's history, as GetExecutionHistory returns it. */
export interface ExecutionEvent {
  readonly type: string;
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
  readonly [details: string]: unknown;
}

/** What one execution did. */
export interface SagaRun {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output: unknown;
  /** Error and cause of a failed execution (from its ExecutionFailed event). */
  readonly error: string | undefined;
  readonly cause: string | undefined;
  /** Names of the states entered, in order (a retried state is entered once). */
  readonly statesEntered: readonly string[];
  /** How many times each state was retried. */
  readonly retries: Readonly<Record<string, number>>;
  /** The input each state was entered with, by state name (last entry wins). */
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly events: readonly ExecutionEvent[];
}

/** How to run one execution. */
export interface RunSagaOptions {
  readonly executionName: string;
  /** Local stand-ins for the template's Lambda functions, by logical id. */
  readonly functions: Readonly<Record<string, LocalFunction>>;
  /** Endpoint of the SQS service the SendMessage Tasks use (fauxqs). */
  readonly sqsEndpoint: string;
}

const SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled']);

/** Runs `machine` once with `input`. */
export async function runSaga(machine: TemplateStateMachine, input: unknown, options: RunSagaOptions): Promise<SagaRun> {
  for (const [stateName, target] of Object.entries(machine.tasks)) {
    if (target.kind === 'lambda' && options.functions[target.functionLogicalId] === undefined) {
      throw new Error(`no local function for ${target.functionLogicalId} (Task ${stateName})`);
    }
  }
  const [, , , region = 'us-east-1', accountId = '000000000000'] = machine.arn.split(':');
  const attempts = new Map<string, number>();
  const service = new LocalStepFunctions({
    machines: [machine],
    sqsEndpoint: options.sqsEndpoint,
    region,
    accountId,
    retryIntervalScale: 0,
    invoke: async (functionLogicalId, payload, call): Promise<InvokeOutcome> => {
      const fn = options.functions[functionLogicalId];
      if (fn === undefined) throw new Error(`no local function for ${functionLogicalId}`);
      const attempt = attempts.get(call.stateName) ?? 0;
      attempts.set(call.stateName, attempt + 1);
      try {
        const result = await fn(payload as Record<string, unknown>, { stateName: call.stateName, attempt });
        return { status: 'ok', result: result ?? null, durationMs: 0 };
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        return { status: 'error', errorType: error.name, errorMessage: error.message, trace: [], durationMs: 0 };
      }
    },
  });
  try {
    const { executionArn } = (await service.handle('StartExecution', {
      stateMachineArn: machine.arn,
      name: options.executionName,
      input: JSON.stringify(input),
    })) as { executionArn: string };
    await service.whenSettled(executionArn);
    const described = (await service.handle('DescribeExecution', { executionArn })) as {
      status: string;
      output?: string;
      error?: string;
      cause?: string;
    };
    const events = (await service.handle('GetExecutionHistory', { executionArn, maxResults: 1000 })) as { events: ExecutionEvent[] };
    return summarize(described, events.events);
  } finally {
    await service.close();
  }
}

function summarize(
  described: { status: string; output?: string; error?: string; cause?: string },
  events: readonly ExecutionEvent[],
): SagaRun {
  if (described.status !== 'SUCCEEDED' && described.status !== 'FAILED') {
    throw new Error(`execution ended ${described.status}`);
  }
  const statesEntered: string[] = [];
  const inputs: Record<string, unknown> = {};
  const retries: Record<string, number> = {};
  let current: string | undefined;
  let scheduled = 0;
  for (const event of events) {
    const entered = event.stateEnteredEventDetails as { name: string; input: string } | undefined;
    if (entered !== undefined) {
      statesEntered.push(entered.name);
      inputs[entered.name] = JSON.parse(entered.input);
      current = entered.name;
      scheduled = 0;
    }
    if (SCHEDULED.has(event.type) && current !== undefined) {
      scheduled += 1;
      // Every scheduling of a Task after the first within one entry is a retry.
      if (scheduled > 1) retries[current] = (retries[current] ?? 0) + 1;
    }
  }
  return {
    status: described.status,
    output: described.output === undefined ? undefined : JSON.parse(described.output),
    error: described.error,
    cause: described.cause,
    statesEntered,
    retries,
    inputs,
    events,
  };
}
