/**
 * The history events of the local Step Functions service, in the shapes AWS's
 * GetExecutionHistory returns (`HistoryEvent` of the API reference), built before they
 * get their ids. Lambda Tasks whose Resource is the function's ARN produce
 * LambdaFunction* events, service integrations (`arn:aws:states:::lambda:invoke`,
 * `sqs:sendMessage`) Task* events, as in AWS.
 */
import type { StoredHistoryEvent } from './execution-store.ts';

/** A history event before it has an id and a previous event. */
export interface EventDraft {
  readonly type: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** The event's details member, e.g. `{ stateEnteredEventDetails: { name, input } }`. */
  readonly details: Readonly<Record<string, unknown>>;
  /** Events nothing in the history caused (stop, timeout, redrive) have previousEventId 0, as in AWS. */
  readonly uncaused?: boolean;
}

/** A Task's service integration, as Task* events name it. */
export interface TaskResource {
  /** e.g. `lambda`, `sqs`. */
  readonly resourceType: string;
  /** e.g. `invoke`, `sendMessage`. */
  readonly resource: string;
}

const NOT_TRUNCATED = { truncated: false } as const;

/** JSON text of an execution data value (`null` for nothing). */
export const jsonText = (value: unknown): string => JSON.stringify(value ?? null);

/** `error` and `cause` members, leaving out the ones that are not there. */
const failure = (error: string | undefined, cause: string | undefined) => ({
  ...(error === undefined ? {} : { error }),
  ...(cause === undefined ? {} : { cause }),
});

/** `TaskStateEntered`, `PassStateEntered`, … */
export function stateEntered(stateType: string, name: string, input: unknown, timestamp: number): EventDraft {
  return {
    type: `${stateType}StateEntered`,
    timestamp,
    details: { stateEnteredEventDetails: { name, input: jsonText(input), inputDetails: NOT_TRUNCATED } },
  };
}

/** `TaskStateExited`, `PassStateExited`, … */
export function stateExited(stateType: string, name: string, output: unknown, timestamp: number): EventDraft {
  return {
    type: `${stateType}StateExited`,
    timestamp,
    details: { stateExitedEventDetails: { name, output: jsonText(output), outputDetails: NOT_TRUNCATED } },
  };
}

/** `LambdaFunctionScheduled` and `LambdaFunctionStarted`: a function-ARN Task calls its function. */
export function lambdaFunctionCalled(resource: string, payload: unknown, timeoutInSeconds: number | undefined, timestamp: number): EventDraft[] {
  const timeout = timeoutInSeconds === undefined ? {} : { timeoutInSeconds };
  return [
    {
      type: 'LambdaFunctionScheduled',
      timestamp,
      details: { lambdaFunctionScheduledEventDetails: { resource, input: jsonText(payload), inputDetails: NOT_TRUNCATED, ...timeout } },
    },
    { type: 'LambdaFunctionStarted', timestamp, details: {} },
  ];
}

/** `LambdaFunctionSucceeded`. */
export function lambdaFunctionSucceeded(output: unknown, timestamp: number): EventDraft {
  return {
    type: 'LambdaFunctionSucceeded',
    timestamp,
    details: { lambdaFunctionSucceededEventDetails: { output: jsonText(output), outputDetails: NOT_TRUNCATED } },
  };
}

/** `LambdaFunctionFailed`. */
export function lambdaFunctionFailed(error: string, cause: string, timestamp: number): EventDraft {
  return { type: 'LambdaFunctionFailed', timestamp, details: { lambdaFunctionFailedEventDetails: { error, cause } } };
}

/** `LambdaFunctionTimedOut`: the Task's TimeoutSeconds passed first. */
export function lambdaFunctionTimedOut(timestamp: number): EventDraft {
  return { type: 'LambdaFunctionTimedOut', timestamp, details: { lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout' } } };
}

/** `TaskScheduled` and `TaskStarted`: a service-integration Task calls its service. */
export function taskCalled(
  task: TaskResource,
  region: string,
  parameters: unknown,
  timeoutInSeconds: number | undefined,
  timestamp: number,
): EventDraft[] {
  const timeout = timeoutInSeconds === undefined ? {} : { timeoutInSeconds };
  return [
    { type: 'TaskScheduled', timestamp, details: { taskScheduledEventDetails: { ...task, region, parameters: jsonText(parameters), ...timeout } } },
    { type: 'TaskStarted', timestamp, details: { taskStartedEventDetails: { ...task } } },
  ];
}

/** `TaskSucceeded`. */
export function taskSucceeded(task: TaskResource, output: unknown, timestamp: number): EventDraft {
  return {
    type: 'TaskSucceeded',
    timestamp,
    details: { taskSucceededEventDetails: { ...task, output: jsonText(output), outputDetails: NOT_TRUNCATED } },
  };
}

/** `TaskFailed`. */
export function taskFailed(task: TaskResource, error: string, cause: string, timestamp: number): EventDraft {
  return { type: 'TaskFailed', timestamp, details: { taskFailedEventDetails: { ...task, error, cause } } };
}

/** `TaskTimedOut`. */
export function taskTimedOut(task: TaskResource, timestamp: number): EventDraft {
  return { type: 'TaskTimedOut', timestamp, details: { taskTimedOutEventDetails: { ...task, error: 'States.Timeout' } } };
}

/** `MapIterationStarted`, `MapIterationSucceeded`, `MapIterationFailed`. */
export function mapIteration(type: string, mapStateName: string | undefined, index: number | undefined, timestamp: number): EventDraft {
  const detailsKey = `mapIteration${type.slice('MapIteration'.length)}EventDetails`;
  return { type, timestamp, details: { [detailsKey]: { name: mapStateName, index } } };
}

/** `ExecutionStarted`. */
export function executionStarted(input: string, roleArn: string, timestamp: number): EventDraft {
  return { type: 'ExecutionStarted', timestamp, details: { executionStartedEventDetails: { input, inputDetails: NOT_TRUNCATED, roleArn } } };
}

/** `ExecutionSucceeded`, with the output as JSON text. */
export function executionSucceeded(output: string, timestamp: number): EventDraft {
  return { type: 'ExecutionSucceeded', timestamp, details: { executionSucceededEventDetails: { output, outputDetails: NOT_TRUNCATED } } };
}

/** `ExecutionFailed`. */
export function executionFailed(error: string | undefined, cause: string | undefined, timestamp: number): EventDraft {
  return { type: 'ExecutionFailed', timestamp, details: { executionFailedEventDetails: failure(error, cause) } };
}

/** `ExecutionAborted` (StopExecution), with the caller's error and cause when given. */
export function executionAborted(error: string | undefined, cause: string | undefined, timestamp: number): EventDraft {
  return { type: 'ExecutionAborted', timestamp, details: { executionAbortedEventDetails: failure(error, cause) }, uncaused: true };
}

/** `ExecutionTimedOut`: error `States.Timeout`, no cause (as AWS records it). */
export function executionTimedOut(timestamp: number): EventDraft {
  return { type: 'ExecutionTimedOut', timestamp, details: { executionTimedOutEventDetails: { error: 'States.Timeout' } }, uncaused: true };
}

/** `ExecutionRedriven`. */
export function executionRedriven(redriveCount: number, timestamp: number): EventDraft {
  return { type: 'ExecutionRedriven', timestamp, details: { executionRedrivenEventDetails: { redriveCount } }, uncaused: true };
}

/** A history event's details without input, output and parameters (GetExecutionHistory with `includeExecutionData: false`). */
export function withoutExecutionData(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const data = new Set(['input', 'inputDetails', 'output', 'outputDetails', 'parameters']);
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => [
      key,
      typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).filter(([field]) => !data.has(field))) : value,
    ]),
  );
}

/**
 * Gives drafts their ids and previous events, continuing after the event `after`: each event
 * follows the one before it, except uncaused events and the first state entered after
 * ExecutionStarted, which have previousEventId 0 as in AWS histories.
 */
export function numberEvents(drafts: readonly EventDraft[], after: { readonly id: number; readonly type: string }): StoredHistoryEvent[] {
  let last = after;
  return drafts.map((draft) => {
    const uncaused = draft.uncaused === true || (draft.type.endsWith('StateEntered') && last.type === 'ExecutionStarted');
    const event = { id: last.id + 1, type: draft.type, timestamp: draft.timestamp, previousEventId: uncaused ? 0 : last.id, details: draft.details };
    last = event;
    return event;
  });
}
