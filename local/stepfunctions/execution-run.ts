/**
 * Runs one execution (or the rest of one, after a crash, a stop or a failure) on
 * aws-local-stepfunctions and writes what happens as AWS history events.
 *
 * The library's event log is an async generator: read that way, a state could run
 * before the transition into it is on disk. So the run wraps the library's own
 * event dispatch and records each transition synchronously, as it is dispatched,
 * before the library takes its next step (sqlite writes are synchronous). A state's
 * exit is committed together with the next state's entry, so the database always
 * names one state in flight and its input: where a resume or redrive continues.
 * The same hook keeps `$$.State` (Name, EnteredTime, RetryCount) true on each
 * attempt, and the retry waits follow AWS's formula scaled by `retryIntervalScale`.
 */
import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from '@aws-sdk/client-sqs';
import { StateMachine } from 'aws-local-stepfunctions';
import type { TaskTarget } from '../template/state-machines.ts';
import type { ExecutionMetricName, ExecutionRecord, ExecutionStatus, ExecutionStore, ExecutionUpdate } from './execution-store.ts';
import {
  type EventDraft,
  executionAborted,
  executionFailed,
  executionSucceeded,
  executionTimedOut,
  jsonText,
  lambdaFunctionCalled,
  lambdaFunctionFailed,
  lambdaFunctionSucceeded,
  lambdaFunctionTimedOut,
  mapIteration,
  numberEvents,
  stateEntered,
  stateExited,
  taskCalled,
  taskFailed,
  type TaskResource,
  taskSucceeded,
  taskTimedOut,
} from './history-event.ts';
import { EXECUTION_CONTEXT_KEY, MAX_TIMER_SECONDS, type PreparedStateMachine } from './prepared-state-machine.ts';

/** What invoking a Lambda function gave: its result, or its error as Lambda reports it. */
export type InvokeOutcome =
  | { readonly status: 'ok'; readonly result: unknown; readonly durationMs: number }
  | {
      readonly status: 'error';
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace: readonly string[];
      readonly durationMs: number;
    };

/** Which Task attempt an invocation serves (for logs and test doubles; a Lambda itself sees only the payload). */
export interface InvokeCall {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateName: string;
  /** `$$.State.RetryCount` of this attempt. */
  readonly retryCount: number;
}

/** Invokes a template Lambda function by logical id, like `LocalLambdaRuntime.invoke`. */
export type InvokeFunction = (functionLogicalId: string, payload: unknown, call: InvokeCall) => Promise<InvokeOutcome>;

/** What a run needs from the service around it. */
export interface RunEnvironment {
  readonly store: ExecutionStore;
  readonly invoke: InvokeFunction;
  readonly sqs: SQSClient;
  readonly region: string;
  /** The role Step Functions would run the state machine as (`$$.Execution.RoleArn`). */
  readonly roleArn: string;
  /** Multiplies every Retry wait: 1 waits as AWS does, 0 not at all. */
  readonly retryIntervalScale: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** One event of aws-local-stepfunctions' log (its EventLog type is not exported). */
interface LibraryEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string; readonly type: string; readonly input: unknown; readonly output?: unknown };
  readonly index?: number;
  readonly parentState?: { readonly name: string };
  readonly retry?: { readonly retrier: unknown };
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly output?: unknown;
}

/** The parts of aws-local-stepfunctions the run hooks into (see `observeTransitions`). */
interface LibraryInternals {
  execute?: (
    this: unknown,
    input: unknown,
    options: { eventLogger?: { dispatch?: (event: LibraryEvent) => void } },
    cleanup: () => void,
  ) => Promise<unknown>;
}

const LIBRARY_CHANGED =
  'aws-local-stepfunctions no longer has StateMachine#execute(input, { eventLogger }) with eventLogger.dispatch(event); ' +
  'the local Step Functions service records transitions through them — update local/stepfunctions/execution-run.ts';

const LAMBDA_INVOKE: TaskResource = { resourceType: 'lambda', resource: 'invoke' };
const SQS_SEND_MESSAGE: TaskResource = { resourceType: 'sqs', resource: 'sendMessage' };
const MAX_TIMER_MS = MAX_TIMER_SECONDS * 1000;
/** AWS fails an execution whose history reaches 25,000 events (a runaway loop, for one). */
const MAX_HISTORY_EVENTS = 25_000;

/** Throws unless the installed aws-local-stepfunctions has the internals `ExecutionRun` hooks into. */
export function assertLibraryHookable(): void {
  const probe = new StateMachine({ StartAt: 'Probe', States: { Probe: { Type: 'Pass', End: true } } });
  if (typeof (probe as unknown as LibraryInternals).execute !== 'function') throw new Error(LIBRARY_CHANGED);
}

/**
 * Calls `observer` with every event the state machine dispatches, synchronously, before the
 * library goes on. Relies on two internals of aws-local-stepfunctions 3.x (checked, with a
 * clear error when they change): `execute(input, { eventLogger })` and `eventLogger.dispatch`.
 */
function observeTransitions(machine: StateMachine, observer: (event: LibraryEvent) => void): void {
  const internals = machine as unknown as LibraryInternals;
  const execute = internals.execute;
  if (typeof execute !== 'function') throw new Error(LIBRARY_CHANGED);
  internals.execute = function (input, options, cleanup) {
    const logger = options.eventLogger;
    const dispatch = logger?.dispatch;
    if (logger === undefined || typeof dispatch !== 'function') throw new Error(LIBRARY_CHANGED);
    logger.dispatch = (event) => {
      observer(event);
      dispatch.call(logger, event);
    };
    return execute.call(this, input, options, cleanup);
  };
}

/** An error as Step Functions sees it from a Task: `Error` is the name, `Cause` the message. */
function taskError(error: string, cause: string, retryable = true): Error {
  const thrown = new Error(cause);
  thrown.name = error;
  if (!retryable) Object.assign(thrown, { isRetryable: false });
  return thrown;
}

/** Ends the library's run of a closed execution: neither retried nor caught. */
function closedError(): Error {
  return Object.assign(new Error('the execution is no longer running'), {
    name: 'States.Runtime',
    isRetryable: false,
    isCatchable: false,
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A Task attempt whose outcome is still awaited. */
interface Attempt {
  abandoned: boolean;
}

/**
 * One execution being run. Create it from the stored record, then `start` it at a state
 * with that state's input; `done` settles once the library has let go of it.
 */
export class ExecutionRun {
  readonly executionArn: string;
  readonly done: Promise<void>;
  readonly #machine: PreparedStateMachine;
  readonly #record: ExecutionRecord;
  readonly #environment: RunEnvironment;
  readonly #contextState = { Name: '', EnteredTime: '', RetryCount: 0 };
  readonly #retrierAttempts = new Map<string, number[]>();
  readonly #inFlight = new Map<string, Attempt>();
  #resolveDone: () => void = () => undefined;
  #lastEventId: number;
  #lastEventType = '';
  #pendingExit: EventDraft | undefined;
  #currentStateName: string | undefined;
  #started = false;
  #closed = false;
  #abortLibrary: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(machine: PreparedStateMachine, record: ExecutionRecord, environment: RunEnvironment) {
    this.#machine = machine;
    this.#record = record;
    this.#environment = environment;
    this.executionArn = record.executionArn;
    this.#lastEventId = record.lastEventId;
    // Event 1 is always ExecutionStarted: the first state entered after it has previousEventId 0.
    this.#lastEventType = record.lastEventId === 1 ? 'ExecutionStarted' : '';
    this.#currentStateName = record.currentState;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** True once the execution has ended (or been let go); nothing more is recorded. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs the execution from `stateName` with `input` on the next turn of the event loop, so
   * the caller (StartExecution, RedriveExecution) answers before any state runs. An execution
   * already past its deadline times out at once.
   */
  start(stateName: string, input: unknown): void {
    if (this.#started) throw new Error(`${this.executionArn}: already started`);
    this.#started = true;
    this.#armTimeout();
    setImmediate(() => this.#begin(stateName, input));
  }

  /** Stops the execution as StopExecution does: ABORTED, with the caller's error and cause. Returns the stop date. */
  stop(error: string | undefined, cause: string | undefined): number {
    const now = this.#environment.now();
    this.#terminate('ABORTED', executionAborted(error, cause, now), { stopDate: now, error, cause, metric: 'ExecutionsAborted' });
    return now;
  }

  /** Lets go of the execution without recording anything: it stays RUNNING and resumes on the next start. */
  detach(): void {
    this.#close();
  }

  #begin(stateName: string, input: unknown): void {
    if (this.#closed) return this.#settle();
    if (!this.#machine.isTopLevel(stateName)) {
      this.#failOutside('States.Runtime', `state ${stateName} is not a top-level state of the definition`);
      return this.#settle();
    }
    try {
      const library = new StateMachine(this.#machine.definitionStartingAt(stateName), { validationOptions: { noValidate: true } });
      observeTransitions(library, (event) => this.#observe(event));
      const execution = library.run(input as never, {
        overrides: { taskResourceLocalHandlers: this.#taskHandlers(), retryIntervalOverrides: this.#retryWaits() },
        context: this.#context(),
        noThrowOnAbort: true,
      });
      this.#abortLibrary = execution.abort;
      // The library queues every event for its async log; reading it lets them go (they are on disk already).
      void (async () => {
        for await (const _event of execution.eventLogs);
      })();
      execution.result.then(
        () => this.#settle(),
        (error: unknown) => {
          if (!this.#closed) this.#failOutside('States.Runtime', (error as Error).message);
          this.#settle();
        },
      );
    } catch (error) {
      this.#failOutside('States.Runtime', (error as Error).message);
      this.#settle();
    }
  }

  /** The context object; `State` is shared with the library's copy and kept current by `#observe`. */
  #context(): Record<string, unknown> {
    const record = this.#record;
    const execution = {
      Id: record.executionArn,
      Input: JSON.parse(record.input) as unknown,
      Name: record.name,
      RoleArn: this.#environment.roleArn,
      StartTime: new Date(record.startDate).toISOString(),
      RedriveCount: record.redriveCount,
      ...(record.redriveDate === undefined ? {} : { RedriveTime: new Date(record.redriveDate).toISOString() }),
    };
    return {
      Execution: execution,
      [EXECUTION_CONTEXT_KEY]: execution,
      StateMachine: { Id: this.#machine.machine.arn, Name: this.#machine.machine.name },
      State: this.#contextState,
    };
  }

  /** Per state with a Retry field, the wait before its next retry, computed when the library asks. */
  #retryWaits(): Record<string, number[]> {
    const waits: Record<string, number[]> = {};
    for (const stateName of this.#machine.stateNames()) {
      const retriers = this.#machine.runnableState(stateName)?.Retry;
      if (retriers === undefined || retriers.length === 0) continue;
      Object.defineProperty(waits, stateName, {
        enumerable: true,
        get: () => {
          const attempts = this.#retrierAttempts.get(stateName) ?? [];
          return retriers.map((retrier, index) => {
            let seconds = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (attempts[index] ?? 0);
            if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
            if (retrier.JitterStrategy === 'FULL') seconds *= Math.random();
            return Math.min(Math.round(seconds * 1000 * this.#environment.retryIntervalScale), MAX_TIMER_MS);
          });
        },
      });
    }
    return waits;
  }

  #taskHandlers(): Record<string, (input: unknown) => Promise<never>> {
    const handlers: Record<string, (input: unknown) => Promise<never>> = {};
    for (const stateName of this.#machine.stateNames()) {
      const state = this.#machine.state(stateName);
      if (state?.Type !== 'Task') continue;
      const target: TaskTarget = this.#machine.machine.tasks[stateName] ?? { kind: 'unmapped', resource: state.Resource ?? '' };
      handlers[stateName] = async (input) => (await this.#runTask(stateName, target, input)) as never;
    }
    return handlers;
  }

  async #runTask(stateName: string, target: TaskTarget, input: unknown): Promise<unknown> {
    if (this.#closed) throw closedError();
    const attempt: Attempt = { abandoned: false };
    this.#inFlight.set(stateName, attempt);
    try {
      switch (target.kind) {
        case 'lambda':
          return await this.#invokeLambda(stateName, target, input, attempt);
        case 'sqs:sendMessage':
          return await this.#sendMessage(stateName, input, attempt);
        default:
          throw taskError('States.TaskFailed', `Task ${stateName} calls ${target.resource}, which the local hub does not serve`, false);
      }
    } finally {
      if (this.#inFlight.get(stateName) === attempt) this.#inFlight.delete(stateName);
    }
  }

  async #invokeLambda(stateName: string, target: TaskTarget & { kind: 'lambda' }, input: unknown, attempt: Attempt): Promise<unknown> {
    const state = this.#machine.state(stateName);
    const integration = target.integration === 'lambda:invoke';
    // The optimized integration invokes with its Parameters' Payload; a function-ARN Task with its whole input.
    const payload = integration ? ((isObject(input) ? input.Payload : undefined) ?? {}) : input;
    const now = this.#environment.now();
    this.#write(
      integration
        ? taskCalled(LAMBDA_INVOKE, this.#environment.region, input, state?.TimeoutSeconds, now)
        : lambdaFunctionCalled(state?.Resource ?? '', payload, state?.TimeoutSeconds, now),
    );
    let outcome: InvokeOutcome;
    try {
      outcome = await this.#environment.invoke(target.functionLogicalId, payload, {
        executionArn: this.executionArn,
        executionName: this.#record.name,
        stateName,
        retryCount: this.#contextState.RetryCount,
      });
    } catch (error) {
      outcome = { status: 'error', errorType: 'Lambda.ServiceException', errorMessage: (error as Error).message, trace: [], durationMs: 0 };
    }
    if (this.#closed || attempt.abandoned) throw closedError();
    const at = this.#environment.now();
    if (outcome.status === 'ok') {
      const result = outcome.result ?? null;
      const output = integration ? { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } : result;
      this.#write([integration ? taskSucceeded(LAMBDA_INVOKE, output, at) : lambdaFunctionSucceeded(output, at)]);
      return output;
    }
    // As Lambda reports a function error to Step Functions: Error = errorType, Cause = the error JSON.
    const cause = JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: outcome.trace });
    this.#write([integration ? taskFailed(LAMBDA_INVOKE, outcome.errorType, cause, at) : lambdaFunctionFailed(outcome.errorType, cause, at)]);
    throw taskError(outcome.errorType, cause);
  }

  async #sendMessage(stateName: string, input: unknown, attempt: Attempt): Promise<unknown> {
    const parameters = isObject(input) ? input : {};
    this.#write(taskCalled(SQS_SEND_MESSAGE, this.#environment.region, parameters, this.#machine.state(stateName)?.TimeoutSeconds, this.#environment.now()));
    const body = parameters.MessageBody;
    let output: Record<string, unknown> | undefined;
    let failure: { error: string; cause: string } | undefined;
    try {
      const sent = await this.#environment.sqs.send(
        new SendMessageCommand({
          ...(parameters as Partial<SendMessageCommandInput>),
          QueueUrl: String(parameters.QueueUrl),
          MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      );
      output = {
        MD5OfMessageBody: sent.MD5OfMessageBody,
        MessageId: sent.MessageId,
        ...(sent.SequenceNumber === undefined ? {} : { SequenceNumber: sent.SequenceNumber }),
      };
    } catch (error) {
      // Service integrations name errors `<Service>.<Exception>`.
      const name = (error as Error).name || 'AmazonSQSException';
      failure = { error: `SQS.${name}`, cause: `${(error as Error).message} (Service: Sqs, Error Code: ${name})` };
    }
    if (this.#closed || attempt.abandoned) throw closedError();
    const at = this.#environment.now();
    if (failure !== undefined) {
      this.#write([taskFailed(SQS_SEND_MESSAGE, failure.error, failure.cause, at)]);
      throw taskError(failure.error, failure.cause);
    }
    this.#write([taskSucceeded(SQS_SEND_MESSAGE, output, at)]);
    return output;
  }

  /** Records one library event; a failure to persist lets go of the run (it resumes on the next start). */
  #observe(event: LibraryEvent): void {
    if (this.#closed) return;
    try {
      // Checked where a loop goes round (each entry or retry), with room for the events of one attempt.
      if ((event.type === 'StateEntered' || event.type === 'StateRetried') && this.#lastEventId >= MAX_HISTORY_EVENTS - 10) {
        this.#failOutside('States.Runtime', `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`);
        return;
      }
      this.#recordEvent(event);
    } catch (error) {
      process.emitWarning(
        `Step Functions execution ${this.executionArn}: could not persist a transition (${(error as Error).message}); ` +
          'it stays RUNNING and resumes when the hub starts again',
      );
      this.#close();
    }
  }

  #recordEvent(event: LibraryEvent): void {
    const state = event.state;
    const topLevel = state !== undefined && event.index === undefined && this.#machine.isTopLevel(state.name);
    switch (event.type) {
      case 'StateEntered': {
        if (state === undefined) return;
        const entered = stateEntered(state.type, state.name, state.input, event.timestamp);
        if (!topLevel) return this.#write([entered]);
        this.#contextState.Name = state.name;
        this.#contextState.EnteredTime = new Date(event.timestamp).toISOString();
        this.#contextState.RetryCount = 0;
        this.#retrierAttempts.set(state.name, (this.#machine.runnableState(state.name)?.Retry ?? []).map(() => 0));
        this.#currentStateName = state.name;
        return this.#write([...this.#takePendingExit(), entered], {
          update: { currentState: state.name, currentInput: jsonText(state.input) },
        });
      }
      case 'StateExited': {
        if (state === undefined) return;
        const exited = stateExited(state.type, state.name, state.output, event.timestamp);
        // Committed with whatever comes next (the next state's entry or the execution's end), never alone.
        if (topLevel) this.#pendingExit = exited;
        else this.#write([exited]);
        return;
      }
      case 'StateRetried': {
        if (!topLevel || state === undefined) return;
        const retriers = this.#machine.runnableState(state.name)?.Retry ?? [];
        const index = retriers.indexOf(event.retry?.retrier as never);
        const attempts = this.#retrierAttempts.get(state.name);
        if (attempts !== undefined && index >= 0) attempts[index] = (attempts[index] ?? 0) + 1;
        this.#contextState.RetryCount += 1;
        return;
      }
      case 'StateFailed':
        if (state?.type === 'Task' && event.Error === 'States.Timeout') this.#recordTaskTimeout(state.name, event.timestamp);
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        return this.#write([mapIteration(event.type, event.parentState?.name, event.index, event.timestamp)]);
      case 'ExecutionSucceeded': {
        this.#closed = true;
        const output = jsonText(event.output);
        this.#write([...this.#takePendingExit(), executionSucceeded(output, event.timestamp)], {
          update: { status: 'SUCCEEDED', stopDate: event.timestamp, output },
          metric: 'ExecutionsSucceeded',
        });
        return this.#clearTimer();
      }
      case 'ExecutionFailed': {
        this.#closed = true;
        const { error, cause } = this.#failureOf(event);
        this.#write([...this.#takePendingExit(), executionFailed(error, cause, event.timestamp)], {
          update: { status: 'FAILED', stopDate: event.timestamp, error, cause },
          metric: 'ExecutionsFailed',
        });
        return this.#clearTimer();
      }
      default:
        // ExecutionStarted (recorded by StartExecution), StateCaught (AWS has no event for it),
        // ExecutionAborted/ExecutionTimeout (recorded by stop and timeout), Parallel branch events.
        return;
    }
  }

  /** The error and cause of a failed execution; a Fail state without Error or Cause gives none, as in AWS. */
  #failureOf(event: LibraryEvent): { error: string | undefined; cause: string | undefined } {
    const failing = this.#currentStateName === undefined ? undefined : this.#machine.state(this.#currentStateName);
    const fail = failing?.Type === 'Fail' ? (failing as { Error?: string; ErrorPath?: string; Cause?: string; CausePath?: string }) : undefined;
    const cause = typeof event.Cause === 'string' ? event.Cause : event.Cause === undefined ? undefined : jsonText(event.Cause);
    return {
      error: fail !== undefined && fail.Error === undefined && fail.ErrorPath === undefined ? undefined : event.Error,
      cause: fail !== undefined && fail.Cause === undefined && fail.CausePath === undefined ? undefined : cause,
    };
  }

  #recordTaskTimeout(stateName: string, timestamp: number): void {
    const attempt = this.#inFlight.get(stateName);
    if (attempt === undefined) return;
    attempt.abandoned = true;
    this.#inFlight.delete(stateName);
    const target = this.#machine.machine.tasks[stateName];
    if (target?.kind === 'lambda' && target.integration === 'function-arn') {
      this.#write([lambdaFunctionTimedOut(timestamp)]);
    } else {
      this.#write([taskTimedOut(target?.kind === 'sqs:sendMessage' ? SQS_SEND_MESSAGE : LAMBDA_INVOKE, timestamp)]);
    }
  }

  #takePendingExit(): EventDraft[] {
    const pending = this.#pendingExit;
    this.#pendingExit = undefined;
    return pending === undefined ? [] : [pending];
  }

  /** Fails the execution for a reason the library never saw (it could not run, or broke). */
  #failOutside(error: string, cause: string): void {
    if (this.#closed) return;
    const now = this.#environment.now();
    this.#terminate('FAILED', executionFailed(error, cause, now), { stopDate: now, error, cause, metric: 'ExecutionsFailed' });
  }

  #terminate(
    status: ExecutionStatus,
    draft: EventDraft,
    end: { stopDate: number; error: string | undefined; cause: string | undefined; metric: ExecutionMetricName },
  ): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#write([...this.#takePendingExit(), draft], { update: { status, stopDate: end.stopDate, error: end.error, cause: end.cause }, metric: end.metric });
    } finally {
      this.#close();
    }
  }

  #armTimeout(): void {
    const deadline = this.#record.deadline;
    if (deadline === undefined) return;
    const remaining = deadline - this.#environment.now();
    if (remaining <= 0) {
      this.#terminate('TIMED_OUT', executionTimedOut(this.#environment.now()), {
        stopDate: deadline,
        error: 'States.Timeout',
        cause: undefined,
        metric: 'ExecutionsTimedOut',
      });
      return;
    }
    this.#timer = setTimeout(() => this.#armTimeout(), Math.min(remaining, MAX_TIMER_MS));
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops recording, and stops the library's run (an invocation in flight still finishes; its result is dropped). */
  #close(): void {
    this.#closed = true;
    this.#clearTimer();
    const abort = this.#abortLibrary;
    this.#abortLibrary = undefined;
    abort?.();
    if (!this.#started || abort === undefined) this.#settle();
  }

  #settle(): void {
    this.#clearTimer();
    this.#resolveDone();
  }

  /** Numbers the drafts and commits them, with the execution's new fields, in one transaction. */
  #write(drafts: readonly EventDraft[], extra: { update?: ExecutionUpdate; metric?: ExecutionMetricName } = {}): void {
    const events = numberEvents(drafts, { id: this.#lastEventId, type: this.#lastEventType });
    this.#environment.store.transition(this.executionArn, this.#record.stateMachineArn, { events, ...extra });
    const last = events.at(-1);
    if (last === undefined) return;
    this.#lastEventId = last.id;
    this.#lastEventType = last.type;
  }
}
