/**
 * Runs a state machine rendered from a synthesized template (local/template) in
 * aws-local-stepfunctions, the way the local hub will: Lambda Tasks go to local
 * functions whose errors reach the state machine shaped as Lambda reports them,
 * SQS SendMessage Tasks go to a real SQS endpoint (fauxqs), and retry pauses are
 * cut to zero. Returns what the state machine did, from its event log.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { TemplateStateMachine } from '../../local/template/state-machines.ts';

/** A Lambda function as the test plays it: receives the Task's payload, returns a result or throws. */
export type LocalFunction = (payload: Record<string, unknown>, call: { readonly stateName: string; readonly attempt: number }) => unknown;

/** One event of the execution's log (aws-local-stepfunctions' EventLog, loosely typed). */
export interface ExecutionEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly type: string; readonly input: unknown; readonly output?: unknown };
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly output?: unknown;
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

/** An error as Step Functions sees a Lambda function error: name = errorType, message = the JSON Lambda returns. */
function asLambdaError(thrown: unknown): Error {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  const reported = new Error(JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: [] }));
  reported.name = error.name;
  return reported;
}

/** Runs `machine` once with `input`. */
export async function runSaga(machine: TemplateStateMachine, input: unknown, options: RunSagaOptions): Promise<SagaRun> {
  const sqs = new SQSClient({
    endpoint: options.sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const attempts = new Map<string, number>();
  const handlers: NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']> = {};
  for (const [stateName, target] of Object.entries(machine.tasks)) {
    const state = machine.definition.States[stateName] as { Parameters?: Record<string, unknown> };
    // aws-local-stepfunctions has no $$.State; the context below holds a placeholder RetryCount,
    // and the Task gets the real attempt number here (each state of a saga is entered once).
    const retryCountKeys = Object.entries(state.Parameters ?? {})
      .filter(([key, value]) => key.endsWith('.$') && value === '$$.State.RetryCount')
      .map(([key]) => key.slice(0, -2));
    if (target.kind === 'lambda') {
      const fn = options.functions[target.functionLogicalId];
      if (fn === undefined) throw new Error(`no local function for ${target.functionLogicalId} (Task ${stateName})`);
      handlers[stateName] = async (payload) => {
        const attempt = attempts.get(stateName) ?? 0;
        attempts.set(stateName, attempt + 1);
        const request = { ...(payload as Record<string, unknown>) };
        for (const key of retryCountKeys) request[key] = attempt;
        try {
          return ((await fn(request, { stateName, attempt })) ?? null) as never;
        } catch (error) {
          throw asLambdaError(error);
        }
      };
    } else if (target.kind === 'sqs:sendMessage') {
      handlers[stateName] = async (parameters) => {
        const { QueueUrl, MessageBody } = parameters as { QueueUrl: string; MessageBody: unknown };
        const body = typeof MessageBody === 'string' ? MessageBody : JSON.stringify(MessageBody);
        const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
        return { MessageId: sent.MessageId ?? '', MD5OfMessageBody: sent.MD5OfMessageBody ?? '' };
      };
    } else {
      throw new Error(`Task ${stateName} calls ${target.resource}, which this runner does not serve`);
    }
  }
  const noPause = Object.fromEntries(Object.keys(machine.tasks).map((name) => [name, 0]));
  const stateMachine = new StateMachine(machine.definition);
  const execution = stateMachine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: noPause },
    context: {
      Execution: { Name: options.executionName, Id: `${machine.arn.replace(':stateMachine:', ':execution:')}:${options.executionName}` },
      StateMachine: { Id: machine.arn, Name: machine.name },
      State: { Name: '', EnteredTime: '', RetryCount: 0 },
    },
  });
  let output: unknown;
  let status: SagaRun['status'] = 'SUCCEEDED';
  try {
    output = await execution.result;
  } catch {
    status = 'FAILED';
  }
  const events: ExecutionEvent[] = [];
  for await (const event of execution.eventLogs) events.push(event as ExecutionEvent);
  sqs.destroy();
  const failed = events.find((event) => event.type === 'ExecutionFailed');
  const retries: Record<string, number> = {};
  const inputs: Record<string, unknown> = {};
  const statesEntered: string[] = [];
  for (const event of events) {
    if (event.state === undefined) continue;
    if (event.type === 'StateEntered') {
      statesEntered.push(event.state.name);
      inputs[event.state.name] = event.state.input;
    }
    if (event.type === 'StateRetried') retries[event.state.name] = (retries[event.state.name] ?? 0) + 1;
  }
  return {
    status,
    output,
    error: failed?.Error,
    cause: failed === undefined ? undefined : String(failed.Cause),
    statesEntered,
    retries,
    inputs,
    events,
  };
}
