/**
 * Renders a flow definition (`flows/<flow>.ts`) as a Step Functions saga: one Task
 * per step, each retried on transient errors and caught into the compensation chain,
 * which runs the compensations registered so far newest first, best effort.
 */
import { CfnElement, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  CustomerManagedEncryptionConfiguration,
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  type INextable,
  JitterType,
  JsonPath,
  LogLevel,
  QueryLanguage,
  type RetryProps,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, SqsSendMessage } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { acknowledgeKeyGrantActions } from '../nag-acknowledgements.ts';
import { Construct } from 'constructs';
import { RetryableError } from '../../functions/core/errors.ts';
import type { FlowDefinition, RetryPolicy, StepDefinition } from '../../functions/core/flow.ts';

/** The retry policy a step gets for what its definition leaves out (the defaults documented on `RetryPolicy`). */
export const DEFAULT_RETRY_POLICY: Readonly<Required<RetryPolicy>> = {
  maxAttempts: 6,
  intervalSeconds: 2,
  backoffRate: 2,
  maxDelaySeconds: 60,
};

/** The error a step throws to be retried: `RetryableError`'s name, which Lambda reports as the error type. */
export const RETRYABLE_ERROR: string = new RetryableError('').name;

/**
 * Transient errors of the Lambda service itself (not of the step): retried like a `RetryableError`,
 * as the Step Functions documentation recommends for Lambda tasks.
 */
export const LAMBDA_SERVICE_ERRORS: readonly string[] = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** What the step runner receives for a step or a compensation (the Task's Parameters). */
export interface StepRunnerRequest {
  /** The flow's name, e.g. `order-to-cash`. */
  readonly flow: string;
  /** The step's or the compensation's name, e.g. `CreateSalesOrder` or `CancelSalesOrder`. */
  readonly step: string;
  readonly kind: 'step' | 'compensation';
  /** The whole saga state (`SagaState`): trigger, keys, `results`, and `failure` once compensating. */
  readonly state: unknown;
  /** `$$.Execution.Name`. */
  readonly executionName: string;
  /** `$$.State.RetryCount`: 0 on the first attempt. */
  readonly retryCount: number;
}

/** The body the saga sends to the compensation dead-letter queue when a compensation fails for good. */
export interface CompensationDeadLetter {
  readonly flow: string;
  readonly executionName: string;
  readonly businessKey: string;
  readonly correlationId: string;
  /** The compensation that failed, e.g. `CancelSalesOrder`. */
  readonly compensation: string;
  /** Why the compensation failed: `{ Error, Cause }` from its Catch. */
  readonly error: { readonly Error: string; readonly Cause: string };
  /** The step failure that started compensating: `{ Error, Cause }`. */
  readonly failure: { readonly Error: string; readonly Cause: string };
}

/** The names of a saga's states, so tests, alarms and the local runtime can refer to them. */
export interface SagaStateNames {
  /** The step Tasks, in run order (the step names). */
  readonly steps: readonly string[];
  /** The compensation Tasks, newest first: the order they run in when the last step fails. */
  readonly compensations: readonly string[];
  /** For each compensation, the Task that sends its failure to the compensation dead-letter queue. */
  readonly deadLetters: Readonly<Record<string, string>>;
  /** The Succeed state, e.g. `OrderToCashSucceeded`. */
  readonly succeeded: string;
  /** The Fail state that ends every compensated run, e.g. `OrderToCashFailed`. */
  readonly failed: string;
}

/** `order-to-cash` → `OrderToCash`. */
function pascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * The state names the saga of `flow` uses; throws when two would collide.
 * Pure, so it can be called without synthesizing anything.
 */
export function sagaStateNames(flow: FlowDefinition<any>): SagaStateNames {
  const prefix = pascalCase(flow.name);
  const compensations = flow.steps
    .map((step) => step.compensation?.name)
    .filter((name): name is string => name !== undefined)
    .reverse();
  const names: SagaStateNames = {
    steps: flow.steps.map((step) => step.name),
    compensations,
    deadLetters: Object.fromEntries(compensations.map((name) => [name, `DeadLetter${name}`])),
    succeeded: `${prefix}Succeeded`,
    failed: `${prefix}Failed`,
  };
  const all = [...names.steps, ...names.compensations, ...Object.values(names.deadLetters), names.succeeded, names.failed];
  const seen = new Set<string>();
  for (const name of all) {
    if (seen.has(name)) throw new Error(`flow ${flow.name}: state name "${name}" is used twice in the saga`);
    if (name.length > 80) throw new Error(`flow ${flow.name}: state name "${name}" is longer than 80 characters`);
    seen.add(name);
  }
  return names;
}

/** A step's retry policy with the defaults filled in, checked against what Step Functions accepts. */
export function resolveRetryPolicy(flowName: string, step: StepDefinition<any>): Required<RetryPolicy> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...step.retry };
  const where = `flow ${flowName}, step ${step.name}: retry`;
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 0 || policy.maxAttempts > 99) {
    throw new Error(`${where}.maxAttempts must be an integer from 0 to 99, got ${policy.maxAttempts}`);
  }
  if (!Number.isInteger(policy.intervalSeconds) || policy.intervalSeconds < 1) {
    throw new Error(`${where}.intervalSeconds must be a whole number of seconds ≥ 1, got ${policy.intervalSeconds}`);
  }
  if (!(policy.backoffRate >= 1)) {
    throw new Error(`${where}.backoffRate must be ≥ 1, got ${policy.backoffRate}`);
  }
  if (!Number.isInteger(policy.maxDelaySeconds) || policy.maxDelaySeconds < policy.intervalSeconds) {
    throw new Error(
      `${where}.maxDelaySeconds must be a whole number of seconds ≥ intervalSeconds (${policy.intervalSeconds}), got ${policy.maxDelaySeconds}`,
    );
  }
  return policy;
}

/** The longest a task with `policy` waits between attempts in total when every attempt fails (no jitter). */
export function worstCaseRetryWaitSeconds(policy: Required<RetryPolicy>): number {
  let total = 0;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
    total += Math.min(policy.intervalSeconds * policy.backoffRate ** attempt, policy.maxDelaySeconds);
  }
  return total;
}

/** Props of a saga state machine. */
export interface SagaStateMachineProps {
  /** The flow whose steps and compensations become the saga. */
  readonly flow: FlowDefinition<any>;
  /** The Lambda that runs every step and compensation of the flow (`functions/handlers/run-step.ts`). */
  readonly stepRunner: IFunction;
  /** Where a compensation that fails for good is reported, so a person can finish the undo. */
  readonly compensationDeadLetterQueue: IQueue;
  /**
   * Longest a whole execution may run. A timed-out execution fails without compensating, so this
   * must exceed the retry budget (checked at synth: the waits of every step and compensation
   * exhausting its retries, twice — once for step errors, once for Lambda service errors).
   * @default Duration.hours(1)
   */
  readonly executionTimeout?: Duration;
  /**
   * Customer managed key that encrypts execution data (inputs, outputs, history) and the
   * execution log group. Its key policy must let CloudWatch Logs use it for this account's log
   * groups (as `DataKey` does).
   * @default AWS-owned keys
   */
  readonly encryptionKey?: IKey;
  /** Retention of the execution log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * A STANDARD Step Functions state machine (JSONPath) running a flow as a saga.
 *
 * Each step is a Task invoking the step runner (plain Lambda ARN resource, so the payload
 * is the Task's Parameters: see {@link StepRunnerRequest}); its result lands in
 * `$.results.<Step>`. Only `RetryableError` and Lambda service errors are retried, with the
 * step's policy, exponential backoff, a maximum delay and full jitter; anything else (or
 * retries exhausted) is caught into `$.failure`. A step's compensation counts as registered
 * before the step runs, so when step k fails, the compensations of steps k, k-1, …, 1 that
 * exist run newest first (results in `$.compensations.<Name>`). A compensation that fails
 * for good is sent to the compensation dead-letter queue and the next older one still runs.
 * The run then ends in a Fail state carrying the original error and cause.
 *
 * The execution input is the `SagaState`; `results` and `compensations` need not be
 * present, since ResultPath creates missing parent fields (States Language semantics,
 * which aws-local-stepfunctions follows too), but the starter sends `results: {}` so steps
 * see the shape `SagaState` promises.
 */
export class SagaStateMachine extends Construct {
  /** The state machine; its ARN is what the starter starts. */
  readonly stateMachine: StateMachine;
  /** Execution log group (state transitions without execution data, so no personal data). */
  readonly logGroup: LogGroup;
  /** Names of every state, for tests, alarms and the local runtime. */
  readonly stateNames: SagaStateNames;

  constructor(scope: Construct, id: string, props: SagaStateMachineProps) {
    super(scope, id);
    const { flow, stepRunner } = props;
    const names = sagaStateNames(flow);
    this.stateNames = names;

    const policies = new Map(flow.steps.map((step) => [step.name, resolveRetryPolicy(flow.name, step)]));
    const executionTimeout = props.executionTimeout ?? Duration.hours(1);
    validateExecutionTimeout(flow, [...policies.values()], executionTimeout);

    const retriesFor = (policy: Required<RetryPolicy>): RetryProps[] => {
      const base: RetryProps = {
        maxAttempts: policy.maxAttempts,
        interval: Duration.seconds(policy.intervalSeconds),
        backoffRate: policy.backoffRate,
        maxDelay: Duration.seconds(policy.maxDelaySeconds),
        jitterStrategy: JitterType.FULL,
      };
      return [
        { ...base, errors: [RETRYABLE_ERROR] },
        { ...base, errors: [...LAMBDA_SERVICE_ERRORS] },
      ];
    };

    const invoke = (name: string, kind: StepRunnerRequest['kind'], resultPath: string): LambdaInvoke =>
      new LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: stepRunner,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: TaskInput.fromObject({
          flow: flow.name,
          step: name,
          kind,
          state: JsonPath.entirePayload,
          executionName: JsonPath.stringAt('$$.Execution.Name'),
          retryCount: JsonPath.numberAt('$$.State.RetryCount'),
        }),
        resultPath,
      });

    const failed = new Fail(this, names.failed, {
      stateName: names.failed,
      comment: 'Compensated: ends with the error and cause of the step that failed',
      errorPath: JsonPath.stringAt('$.failure.Error'),
      causePath: JsonPath.stringAt('$.failure.Cause'),
    });

    // Build the compensation chain oldest first, so each compensation knows the older one that follows it.
    // entryAfter[k] is where a failure of step k goes: its own compensation, else the newest older one.
    const entryAfter: IChainable[] = [];
    let newest: IChainable = failed;
    for (const step of flow.steps) {
      const compensation = step.compensation;
      if (compensation !== undefined) {
        const policy = policies.get(step.name) ?? DEFAULT_RETRY_POLICY;
        const olderOrEnd = newest;
        const task = invoke(compensation.name, 'compensation', `$.compensations.${compensation.name}`);
        for (const retry of retriesFor(policy)) task.addRetry(retry);
        const deadLetterName = names.deadLetters[compensation.name] ?? `DeadLetter${compensation.name}`;
        const deadLetter = this.deadLetterTask(props, deadLetterName, compensation.name, olderOrEnd);
        task.addCatch(deadLetter, { errors: [Errors.ALL], resultPath: `$.compensationFailures.${compensation.name}` });
        task.next(olderOrEnd);
        newest = task;
      }
      entryAfter.push(newest);
    }

    const succeeded = new Succeed(this, names.succeeded, { stateName: names.succeeded });
    const stepTasks = flow.steps.map((step, index) => {
      const task = invoke(step.name, 'step', `$.results.${step.name}`);
      for (const retry of retriesFor(policies.get(step.name) ?? DEFAULT_RETRY_POLICY)) task.addRetry(retry);
      const onFailure = entryAfter[index];
      if (onFailure === undefined) throw new Error(`flow ${flow.name}: no compensation entry for step ${step.name}`);
      task.addCatch(onFailure, { errors: [Errors.ALL], resultPath: '$.failure' });
      return task;
    });
    const [first, ...rest] = stepTasks;
    if (first === undefined) throw new Error(`flow ${flow.name}: has no steps`);
    let last: INextable = first;
    for (const task of rest) {
      last.next(task);
      last = task;
    }
    last.next(succeeded);

    const stack = Stack.of(this);
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-${flow.name}-${Names.uniqueId(this).slice(-8)}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new StateMachine(this, 'Resource', {
      // Named, because the execution-data key grant CDK writes is conditioned on the state machine's ARN.
      stateMachineName: Names.uniqueResourceName(this, { maxLength: 80, separator: '-' }),
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      comment: flow.description,
      definitionBody: DefinitionBody.fromChainable(first),
      timeout: executionTimeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      ...(props.encryptionKey === undefined
        ? {}
        : { encryptionConfiguration: new CustomerManagedEncryptionConfiguration(props.encryptionKey) }),
    });

    const runnerResource = stepRunner.node.defaultChild;
    const runnerLogicalId = CfnElement.isCfnElement(runnerResource) ? stack.resolve(runnerResource.logicalId) : undefined;
    acknowledgeKeyGrantActions(this.stateMachine);
    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Generated by CDK: X-Ray segment writes and the CloudWatch Logs vended-delivery actions Step Functions logging ' +
          'needs (logs:CreateLogDelivery, …) support no resource-level permissions.',
      },
      ...(typeof runnerLogicalId === 'string'
        ? [
            {
              id: `AwsSolutions-IAM5[Resource::<${runnerLogicalId}.Arn>:*]`,
              reason: 'Generated by CDK for Lambda tasks: the step runner ARN with `:*` covers its versions and aliases.',
            },
          ]
        : []),
    );
  }

  /** The Task that reports a failed compensation to the dead-letter queue (retried, and never fatal). */
  private deadLetterTask(
    props: SagaStateMachineProps,
    stateName: string,
    compensation: string,
    next: IChainable,
  ): SqsSendMessage {
    const task = new SqsSendMessage(this, stateName, {
      stateName,
      queue: props.compensationDeadLetterQueue,
      messageBody: TaskInput.fromObject({
        flow: props.flow.name,
        executionName: JsonPath.stringAt('$$.Execution.Name'),
        businessKey: JsonPath.stringAt('$.businessKey'),
        correlationId: JsonPath.stringAt('$.correlationId'),
        compensation,
        error: JsonPath.objectAt(`$.compensationFailures.${compensation}`),
        failure: JsonPath.objectAt('$.failure'),
      }),
      resultPath: JsonPath.DISCARD,
    });
    task.addRetry({
      errors: [Errors.ALL],
      maxAttempts: 3,
      interval: Duration.seconds(1),
      backoffRate: 2,
      jitterStrategy: JitterType.FULL,
    });
    // Best effort: if even the report cannot be sent, the older compensations still run; the
    // execution ends Failed (alarmed) and its history keeps the compensation's error.
    task.addCatch(next, { errors: [Errors.ALL], resultPath: `$.deadLetterFailures.${compensation}` });
    task.next(next);
    return task;
  }
}

function validateExecutionTimeout(
  flow: FlowDefinition<any>,
  policies: readonly Required<RetryPolicy>[],
  timeout: Duration,
): void {
  const seconds = timeout.toSeconds();
  const standardMaximum = 365 * 24 * 3600;
  if (seconds < 60 || seconds > standardMaximum) {
    throw new Error(`flow ${flow.name}: executionTimeout must be from 1 minute to 1 year, got ${timeout.toHumanString()}`);
  }
  let budget = 0;
  flow.steps.forEach((step, index) => {
    const wait = 2 * worstCaseRetryWaitSeconds(policies[index] ?? DEFAULT_RETRY_POLICY);
    budget += step.compensation === undefined ? wait : 2 * wait;
  });
  if (seconds <= budget) {
    throw new Error(
      `flow ${flow.name}: executionTimeout ${timeout.toHumanString()} is within the retry budget of ${budget} s; ` +
        'a run that timed out would not compensate, so give it more time or fewer retries',
    );
  }
}
