/**
 * The local Step Functions service through the AWS SDK v3 SFNClient, behind the hub's
 * AWS endpoint (local/endpoint/server.ts): the order-to-cash state machine exactly as synthesized,
 * run by aws-local-stepfunctions, its dead-letter Tasks sending to a real fauxqs. The
 * step runner is played by a script per execution; what is under test is what the API
 * answers (shapes, errors, history) and what the executions do (stop, redrive, timeout).
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../local/endpoint/server.ts';
import { type InvokeFunction, type InvokeOutcome, LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import type { TemplateStateMachine } from '../../local/template/state-machines.ts';
import { startSqs } from '../support/local-aws.ts';
import { orderToCashMachine, sagaInputFor } from '../support/order-to-cash-machine.ts';

type Json = Record<string, any>;
const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';
const STEPS = ['LoadDeal', 'UpsertCustomer', 'CreateSalesOrder', 'ConfirmSalesOrder', 'UpdateDealWithOrder'];

/** What the played step runner does on one attempt. */
type Outcome = { readonly returns: unknown } | { readonly throws: string; readonly message: string };

/** One invocation the played step runner received. */
interface Call {
  readonly executionName: string;
  readonly stateName: string;
  readonly payload: Json;
}

/** The step runner, played per execution: scripted outcomes, and gates that hold a step until released. */
class PlayedStepRunner {
  readonly calls: Call[] = [];
  readonly #scripts = new Map<string, Readonly<Record<string, readonly Outcome[]>>>();
  readonly #gates = new Map<string, { arrived: () => void; released: Promise<void> }>();

  readonly invoke: InvokeFunction = async (_functionLogicalId, payload, call): Promise<InvokeOutcome> => {
    this.calls.push({ executionName: call.executionName, stateName: call.stateName, payload: payload as Json });
    const gate = this.#gates.get(`${call.executionName}/${call.stateName}`);
    if (gate !== undefined) {
      this.#gates.delete(`${call.executionName}/${call.stateName}`);
      gate.arrived();
      await gate.released;
    }
    const attempt = this.callsOf(call.executionName, call.stateName).length - 1;
    const outcomes = this.#scripts.get(call.executionName)?.[call.stateName];
    const outcome = outcomes?.[Math.min(attempt, outcomes.length - 1)] ?? { returns: { doneBy: call.stateName } };
    if ('throws' in outcome) {
      return { status: 'error', errorType: outcome.throws, errorMessage: outcome.message, trace: ['at played step'], durationMs: 1 };
    }
    return { status: 'ok', result: outcome.returns, durationMs: 1 };
  };

  script(executionName: string, script: Readonly<Record<string, readonly Outcome[]>>): void {
    this.#scripts.set(executionName, script);
  }

  /** Holds the next invocation of `stateName` in `executionName` until `release` is called. */
  hold(executionName: string, stateName: string): { reached: Promise<void>; release: () => void } {
    let arrived = (): void => undefined;
    let release = (): void => undefined;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#gates.set(`${executionName}/${stateName}`, { arrived, released });
    return { reached, release };
  }

  callsOf(executionName: string, stateName?: string): Call[] {
    return this.calls.filter((call) => call.executionName === executionName && (stateName === undefined || call.stateName === stateName));
  }
}

const sagaInput = (dealId: string): Json => sagaInputFor(dealId);

/** A copy of a synthesized state machine under another name (and optionally another definition). */
const renamed = (machine: TemplateStateMachine, name: string, definition: Json = {}): TemplateStateMachine => ({
  ...machine,
  logicalId: name,
  name,
  arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`,
  definition: { ...machine.definition, ...definition } as TemplateStateMachine['definition'],
});

describe('local Step Functions through the SDK', () => {
  const runner = new PlayedStepRunner();
  let sqs: Awaited<ReturnType<typeof startSqs>>;
  let service: LocalStepFunctions;
  let endpoint: AwsEndpoint;
  let sfn: SFNClient;
  let saga: TemplateStateMachine;
  let shortSaga: TemplateStateMachine;
  let pagingSaga: TemplateStateMachine;
  let contextProbe: TemplateStateMachine;
  let stepRunnerArn: string;

  const start = async (machine: TemplateStateMachine, name: string, input: Json = sagaInput(name)) =>
    sfn.send(new StartExecutionCommand({ stateMachineArn: machine.arn, name, input: JSON.stringify(input) }));
  const describeExecution = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));
  const historyOf = async (executionArn: string): Promise<HistoryEvent[]> =>
    (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
  const statesEntered = (events: readonly HistoryEvent[]) =>
    events.flatMap((event) => (event.stateEnteredEventDetails?.name === undefined ? [] : [event.stateEnteredEventDetails.name]));

  beforeAll(async () => {
    sqs = await startSqs();
    const rendered = orderToCashMachine(sqs, { region: REGION, accountId: ACCOUNT });
    saga = rendered.machine;
    shortSaga = renamed(saga, 'short-saga', { TimeoutSeconds: 1 });
    pagingSaga = renamed(saga, 'paging-saga');
    const { stepRunnerId, resolver } = rendered;
    stepRunnerArn = resolver.getAtt(stepRunnerId, 'Arn');
    contextProbe = {
      logicalId: 'ContextProbe',
      name: 'context-probe',
      arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:context-probe`,
      definition: {
        StartAt: 'Probe',
        States: {
          Probe: {
            Type: 'Task',
            Resource: stepRunnerArn,
            Parameters: {
              'executionId.$': '$$.Execution.Id',
              'executionName.$': '$$.Execution.Name',
              'executionInput.$': '$$.Execution.Input',
              'startTime.$': '$$.Execution.StartTime',
              'redriveCount.$': '$$.Execution.RedriveCount',
              'machineName.$': '$$.StateMachine.Name',
              'stateName.$': '$$.State.Name',
              'retryCount.$': '$$.State.RetryCount',
              'greeting.$': "States.Format('hello {}', $$.Execution.Input.who)",
            },
            Retry: [{ ErrorEquals: ['RetryableError'], MaxAttempts: 2 }],
            End: true,
          },
        },
      },
      tasks: { Probe: { kind: 'lambda', functionLogicalId: stepRunnerId, integration: 'function-arn' } },
    };
    service = new LocalStepFunctions({
      machines: [saga, shortSaga, pagingSaga, contextProbe],
      invoke: runner.invoke,
      sqsEndpoint: sqs.endpoint,
      region: REGION,
      accountId: ACCOUNT,
      retryIntervalScale: 0,
    });
    // The hub's own endpoint; DynamoDB is not used here.
    endpoint = await startAwsEndpoint({ port: 0, jsonServices: [service], proxies: { dynamodb: 'http://127.0.0.1:9', sqs: sqs.endpoint } });
    sfn = new SFNClient({ endpoint: endpoint.url, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });

  afterAll(async () => {
    sfn?.destroy();
    await endpoint?.close();
    await service?.close();
    await sqs?.stop();
  });

  describe('state machines', () => {
    it('lists the template state machines and describes one with its definition', async () => {
      const listed = await sfn.send(new ListStateMachinesCommand({}));
      const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: saga.arn }));

      expect(listed.stateMachines?.map((machine) => machine.name)).toEqual([saga.name, 'short-saga', 'paging-saga', 'context-probe']);
      expect(listed.stateMachines?.[0]).toMatchObject({ stateMachineArn: saga.arn, type: 'STANDARD' });
      expect(listed.stateMachines?.[0]?.creationDate).toBeInstanceOf(Date);
      expect(described).toMatchObject({ stateMachineArn: saga.arn, name: saga.name, status: 'ACTIVE', type: 'STANDARD' });
      expect(JSON.parse(described.definition ?? '')).toEqual(saga.definition);
    });

    it('pages the state machine list', async () => {
      const first = await sfn.send(new ListStateMachinesCommand({ maxResults: 3 }));
      const second = await sfn.send(new ListStateMachinesCommand({ maxResults: 3, nextToken: first.nextToken }));

      expect(first.stateMachines).toHaveLength(3);
      expect(second.stateMachines?.map((machine) => machine.name)).toEqual(['context-probe']);
      expect(second.nextToken).toBeUndefined();
    });

    it('refuses an unknown or malformed state machine ARN with AWS errors', async () => {
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${saga.arn}-gone` }))).rejects.toBeInstanceOf(
        StateMachineDoesNotExist,
      );
      await expect(start(renamed(saga, 'never-deployed'), 'x')).rejects.toBeInstanceOf(StateMachineDoesNotExist);
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'not-an-arn' }))).rejects.toBeInstanceOf(InvalidArn);
      await expect(
        sfn.send(new DescribeExecutionCommand({ executionArn: saga.arn })),
        'a state machine ARN where an execution ARN belongs',
      ).rejects.toBeInstanceOf(InvalidArn);
    });

    it('answers an operation it does not serve with UnknownOperationException', async () => {
      const create = sfn.send(new CreateStateMachineCommand({ name: 'x', definition: '{}', roleArn: 'arn:aws:iam::111111111111:role/x' }));
      await expect(create).rejects.toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
    });
  });

  describe('an execution that succeeds', () => {
    it('is started, described and its history read in AWS shapes', async () => {
      const input = sagaInput('1001');
      const before = Date.now();
      const started = await start(saga, 'succeeds-1001', input);
      await service.whenSettled(started.executionArn);

      const described = await describeExecution(started.executionArn ?? '');
      const events = await historyOf(started.executionArn ?? '');

      expect(started.executionArn).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:execution:${saga.name}:succeeds-1001`);
      expect(started.startDate?.getTime()).toBeGreaterThanOrEqual(before - 1);
      expect(described).toMatchObject({
        executionArn: started.executionArn,
        stateMachineArn: saga.arn,
        name: 'succeeds-1001',
        status: 'SUCCEEDED',
        startDate: started.startDate,
        redriveCount: 0,
        redriveStatus: 'NOT_REDRIVABLE',
        redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
      });
      expect(JSON.parse(described.input ?? '')).toEqual(input);
      expect(JSON.parse(described.output ?? '').results).toEqual(Object.fromEntries(STEPS.map((step) => [step, { doneBy: step }])));
      expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());

      const perStep = ['TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited'];
      expect(events.map((event) => event.type)).toEqual([
        'ExecutionStarted',
        ...STEPS.flatMap(() => perStep),
        'SucceedStateEntered',
        'SucceedStateExited',
        'ExecutionSucceeded',
      ]);
      expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
      expect(events.map((event) => event.previousEventId)).toEqual(events.map((event) => (event.id! <= 2 ? 0 : event.id! - 1)));
      expect(statesEntered(events)).toEqual([...STEPS, 'OrderToCashSucceeded']);
      expect(events[0]?.executionStartedEventDetails?.input).toBe(JSON.stringify(input));
      const scheduled = events.find((event) => event.type === 'LambdaFunctionScheduled')?.lambdaFunctionScheduledEventDetails;
      expect(scheduled?.resource).toBe(stepRunnerArn);
      expect(JSON.parse(scheduled?.input ?? '')).toMatchObject({ step: 'LoadDeal', executionName: 'succeeds-1001', retryCount: 0 });
      expect(events.at(-1)?.executionSucceededEventDetails?.output).toBe(described.output);
      const times = events.map((event) => event.timestamp!.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      const withoutData = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn, includeExecutionData: false }));
      expect(withoutData.events?.[1]?.stateEnteredEventDetails).toEqual({ name: 'LoadDeal' });
    });

    it('gives Retry the Lambda error type and the step its real $$.State.RetryCount', async () => {
      const name = 'retries-1002';
      runner.script(name, {
        CreateSalesOrder: [
          { throws: 'RetryableError', message: 'Odoo answered 503' },
          { throws: 'RetryableError', message: 'Odoo answered 503' },
          { returns: { id: 42 } },
        ],
      });
      const { executionArn } = await start(saga, name);
      await service.whenSettled(executionArn);

      const events = await historyOf(executionArn ?? '');
      expect((await describeExecution(executionArn ?? '')).status).toBe('SUCCEEDED');
      expect(runner.callsOf(name, 'CreateSalesOrder').map((call) => call.payload.retryCount)).toEqual([0, 1, 2]);
      expect(statesEntered(events).filter((state) => state === 'CreateSalesOrder')).toHaveLength(1);
      const failures = events.filter((event) => event.type === 'LambdaFunctionFailed');
      expect(failures.map((event) => event.lambdaFunctionFailedEventDetails)).toEqual([
        { error: 'RetryableError', cause: JSON.stringify({ errorType: 'RetryableError', errorMessage: 'Odoo answered 503', trace: ['at played step'] }) },
        { error: 'RetryableError', cause: JSON.stringify({ errorType: 'RetryableError', errorMessage: 'Odoo answered 503', trace: ['at played step'] }) },
      ]);
    });

    it('gives a Task the execution context: $$.Execution, $$.StateMachine and $$.State', async () => {
      const input = { who: 'world' };
      const { executionArn, startDate } = await start(contextProbe, 'context-1003', input);
      await service.whenSettled(executionArn);

      expect(runner.callsOf('context-1003', 'Probe')[0]?.payload).toEqual({
        executionId: executionArn,
        executionName: 'context-1003',
        executionInput: input,
        startTime: startDate?.toISOString(),
        redriveCount: 0,
        machineName: 'context-probe',
        stateName: 'Probe',
        retryCount: 0,
        greeting: 'hello world',
      });
    });
  });

  describe('StartExecution with a name already used', () => {
    it('returns the same execution for the same input while it runs, and ExecutionAlreadyExists otherwise', async () => {
      const name = 'duplicate-2001';
      const held = runner.hold(name, 'LoadDeal');
      const first = await start(saga, name);
      await held.reached;

      const again = await start(saga, name);
      const otherInput = start(saga, name, { ...sagaInput(name), correlationId: 'another' });
      await expect(otherInput).rejects.toBeInstanceOf(ExecutionAlreadyExists);
      held.release();
      await service.whenSettled(first.executionArn);
      const afterwards = start(saga, name);

      expect(again.executionArn).toBe(first.executionArn);
      expect(again.startDate).toEqual(first.startDate);
      await expect(afterwards).rejects.toBeInstanceOf(ExecutionAlreadyExists);
      expect(runner.callsOf(name, 'LoadDeal')).toHaveLength(1);
      const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: saga.arn, maxResults: 1000 }));
      expect(listed.executions?.filter((execution) => execution.name === name)).toHaveLength(1);
    });

    it('names an execution with a UUID when no name is given, and refuses names AWS refuses', async () => {
      const unnamed = await sfn.send(new StartExecutionCommand({ stateMachineArn: saga.arn, input: JSON.stringify(sagaInput('2002')) }));
      await service.whenSettled(unnamed.executionArn);

      expect(unnamed.executionArn?.split(':').pop()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      for (const name of ['with space', 'a:b', 'curly{', 'tab\tname', 'dollar$']) {
        await expect(start(saga, name), name).rejects.toBeInstanceOf(InvalidName);
      }
      await expect(start(saga, 'x'.repeat(81))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(
        sfn.send(new StartExecutionCommand({ stateMachineArn: saga.arn, name: 'not-json', input: '{oops' })),
      ).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
    });
  });

  describe('StopExecution', () => {
    it('aborts a running execution; the step in flight finishing later moves it no further', async () => {
      const name = 'stopped-3001';
      const held = runner.hold(name, 'CreateSalesOrder');
      const { executionArn } = await start(saga, name);
      await held.reached;
      const abortedBefore = service.metric(saga.arn, 'ExecutionsAborted') ?? 0;

      const stopped = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by a test' }));
      held.release();
      await service.whenSettled(executionArn);
      await new Promise((resolve) => setTimeout(resolve, 20));

      const described = await describeExecution(executionArn ?? '');
      const events = await historyOf(executionArn ?? '');
      expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by a test', stopDate: stopped.stopDate });
      expect(described.redriveStatus).toBe('REDRIVABLE');
      expect(events.at(-1)).toMatchObject({
        type: 'ExecutionAborted',
        previousEventId: 0,
        executionAbortedEventDetails: { error: 'Operator', cause: 'stopped by a test' },
      });
      expect(events.filter((event) => event.stateExitedEventDetails?.name === 'CreateSalesOrder')).toEqual([]);
      expect(statesEntered(events).at(-1)).toBe('CreateSalesOrder');
      expect(runner.callsOf(name).map((call) => call.stateName)).toEqual(['LoadDeal', 'UpsertCustomer', 'CreateSalesOrder']);
      expect(service.metric(saga.arn, 'ExecutionsAborted')).toBe(abortedBefore + 1);
    });

    it('leaves an execution that has ended as it was', async () => {
      const { executionArn } = await start(saga, 'ended-3002');
      await service.whenSettled(executionArn);
      const before = await describeExecution(executionArn ?? '');

      const stopped = await sfn.send(new StopExecutionCommand({ executionArn }));

      expect(stopped.stopDate).toEqual(before.stopDate);
      expect((await describeExecution(executionArn ?? '')).status).toBe('SUCCEEDED');
    });
  });

  describe('RedriveExecution', () => {
    it('continues a stopped execution at the step that was in flight, with that step\'s saved input', async () => {
      const name = 'redriven-4001';
      const held = runner.hold(name, 'CreateSalesOrder');
      const { executionArn } = await start(saga, name);
      await held.reached;
      await sfn.send(new StopExecutionCommand({ executionArn }));
      held.release();
      await service.whenSettled(executionArn);

      const redriven = await sfn.send(new RedriveExecutionCommand({ executionArn }));
      await service.whenSettled(executionArn);

      const described = await describeExecution(executionArn ?? '');
      expect(described).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveDate: redriven.redriveDate });
      expect(runner.callsOf(name).map((call) => call.stateName)).toEqual([
        'LoadDeal',
        'UpsertCustomer',
        'CreateSalesOrder',
        'CreateSalesOrder',
        'ConfirmSalesOrder',
        'UpdateDealWithOrder',
      ]);
      const [before, after] = runner.callsOf(name, 'CreateSalesOrder');
      expect(after?.payload.state).toEqual(before?.payload.state);
      const types = (await historyOf(executionArn ?? '')).map((event) => event.type);
      const redrivenAt = types.indexOf('ExecutionRedriven');
      expect(types.slice(redrivenAt - 1, redrivenAt + 2)).toEqual(['ExecutionAborted', 'ExecutionRedriven', 'TaskStateEntered']);
      const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: saga.arn, redriveFilter: 'REDRIVEN' }));
      expect(listed.executions?.map((execution) => execution.name)).toContain(name);
    });

    it('reruns a failed saga from the state that failed, without running its steps or compensations again', async () => {
      const name = 'failed-4002';
      runner.script(name, { CreateSalesOrder: [{ throws: 'PermanentError', message: 'customer is blocked' }] });
      const { executionArn } = await start(saga, name);
      await service.whenSettled(executionArn);
      const firstRun = await describeExecution(executionArn ?? '');
      const callsBefore = runner.callsOf(name).length;

      const redriven = await sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: 'operator-1' }));
      await service.whenSettled(executionArn);
      const repeated = await sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: 'operator-1' }));

      expect(firstRun).toMatchObject({ status: 'FAILED', error: 'PermanentError', redriveStatus: 'REDRIVABLE' });
      const described = await describeExecution(executionArn ?? '');
      expect(described).toMatchObject({ status: 'FAILED', error: firstRun.error, cause: firstRun.cause, redriveCount: 1 });
      expect(repeated.redriveDate).toEqual(redriven.redriveDate);
      expect(runner.callsOf(name)).toHaveLength(callsBefore);
      const events = await historyOf(executionArn ?? '');
      expect(events.filter((event) => event.type === 'ExecutionRedriven')).toHaveLength(1);
      const afterRedrive = events.slice(events.findIndex((event) => event.type === 'ExecutionRedriven'));
      expect(afterRedrive.map((event) => event.type)).toEqual(['ExecutionRedriven', 'FailStateEntered', 'ExecutionFailed']);
      const failEntries = events.filter((event) => event.type === 'FailStateEntered');
      expect(failEntries.map((event) => event.stateEnteredEventDetails?.name)).toEqual(['OrderToCashFailed', 'OrderToCashFailed']);
      expect(failEntries[1]?.stateEnteredEventDetails?.input).toBe(failEntries[0]?.stateEnteredEventDetails?.input);
    });

    it('gives a redriven step the execution\'s own start time and input, not the redrive\'s', async () => {
      const name = 'context-4003';
      const input = { who: 'again' };
      const held = runner.hold(name, 'Probe');
      const { executionArn, startDate } = await start(contextProbe, name, input);
      await held.reached;
      await sfn.send(new StopExecutionCommand({ executionArn }));
      held.release();
      await service.whenSettled(executionArn);
      await new Promise((resolve) => setTimeout(resolve, 5));

      await sfn.send(new RedriveExecutionCommand({ executionArn }));
      await service.whenSettled(executionArn);

      const redriven = runner.callsOf(name, 'Probe')[1]?.payload;
      expect(redriven).toMatchObject({ startTime: startDate?.toISOString(), executionInput: input, redriveCount: 1, greeting: 'hello again' });
    });

    it('refuses an execution that succeeded or is still running with ExecutionNotRedrivable', async () => {
      const { executionArn: succeeded } = await start(saga, 'not-redrivable-4004');
      await service.whenSettled(succeeded);
      const held = runner.hold('not-redrivable-4005', 'LoadDeal');
      const { executionArn: running } = await start(saga, 'not-redrivable-4005');
      await held.reached;

      await expect(sfn.send(new RedriveExecutionCommand({ executionArn: succeeded }))).rejects.toBeInstanceOf(ExecutionNotRedrivable);
      await expect(sfn.send(new RedriveExecutionCommand({ executionArn: running }))).rejects.toBeInstanceOf(ExecutionNotRedrivable);
      held.release();
      await service.whenSettled(running);
    });
  });

  describe('the execution timeout', () => {
    it('ends an execution that runs past TimeoutSeconds as TIMED_OUT', async () => {
      const name = 'times-out-5001';
      const held = runner.hold(name, 'LoadDeal');
      const { executionArn } = await start(shortSaga, name);
      await service.whenSettled(executionArn);
      held.release();

      const described = await describeExecution(executionArn ?? '');
      const events = await historyOf(executionArn ?? '');
      expect(described).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      expect(described.stopDate!.getTime() - described.startDate!.getTime()).toBe(1000);
      expect(events.at(-1)).toMatchObject({ type: 'ExecutionTimedOut', executionTimedOutEventDetails: { error: 'States.Timeout' } });
      expect(service.metric(shortSaga.arn, 'ExecutionsTimedOut')).toBe(1);
    });

    it('gives a redriven execution its whole timeout again', async () => {
      const name = 'times-out-5002';
      const held = runner.hold(name, 'UpsertCustomer');
      const { executionArn } = await start(shortSaga, name);
      await service.whenSettled(executionArn);
      held.release();

      await sfn.send(new RedriveExecutionCommand({ executionArn }));
      await service.whenSettled(executionArn);

      expect(await describeExecution(executionArn ?? '')).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
      expect(runner.callsOf(name).map((call) => call.stateName)).toEqual(['LoadDeal', 'UpsertCustomer', ...STEPS.slice(1)]);
    });
  });

  describe('paging and counting', () => {
    const names = ['page-1', 'page-2', 'page-3', 'page-4', 'page-5'];

    beforeAll(async () => {
      for (const [index, name] of names.entries()) {
        if (index % 2 === 1) runner.script(name, { LoadDeal: [{ throws: 'PermanentError', message: 'no such deal' }] });
        const { executionArn } = await start(pagingSaga, name);
        await service.whenSettled(executionArn);
      }
    });

    it('lists executions newest first, a page at a time', async () => {
      const pages: string[][] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: pagingSaga.arn, maxResults: 2, nextToken }));
        pages.push(page.executions?.map((execution) => execution.name ?? '') ?? []);
        nextToken = page.nextToken;
      } while (nextToken !== undefined);

      expect(pages).toEqual([['page-5', 'page-4'], ['page-3', 'page-2'], ['page-1']]);
    });

    it('filters by status and refuses a token used with other arguments', async () => {
      const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: pagingSaga.arn, statusFilter: 'FAILED', maxResults: 1 }));
      const rest = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: pagingSaga.arn, statusFilter: 'FAILED', nextToken: failed.nextToken }),
      );

      expect([...(failed.executions ?? []), ...(rest.executions ?? [])].map((execution) => [execution.name, execution.status])).toEqual([
        ['page-4', 'FAILED'],
        ['page-2', 'FAILED'],
      ]);
      await expect(
        sfn.send(new ListExecutionsCommand({ stateMachineArn: pagingSaga.arn, statusFilter: 'SUCCEEDED', nextToken: failed.nextToken })),
      ).rejects.toBeInstanceOf(InvalidToken);
    });

    it('pages an execution history forwards and backwards', async () => {
      const executionArn = `${pagingSaga.arn.replace(':stateMachine:', ':execution:')}:page-1`;
      const read = async (reverseOrder: boolean): Promise<number[]> => {
        const ids: number[] = [];
        let nextToken: string | undefined;
        do {
          const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 4, reverseOrder, nextToken }));
          ids.push(...(page.events ?? []).map((event) => event.id ?? -1));
          nextToken = page.nextToken;
        } while (nextToken !== undefined);
        return ids;
      };

      const forwards = await read(false);
      const backwards = await read(true);

      expect(forwards).toEqual(Array.from({ length: forwards.length }, (_, index) => index + 1));
      expect(forwards.length).toBeGreaterThan(8);
      expect(backwards).toEqual([...forwards].reverse());
    });

    it('counts executions per state machine like the AWS/States metrics', () => {
      expect(service.stats().find((stats) => stats.stateMachineArn === pagingSaga.arn)).toEqual({
        stateMachineArn: pagingSaga.arn,
        name: 'paging-saga',
        ExecutionsStarted: 5,
        ExecutionsSucceeded: 3,
        ExecutionsFailed: 2,
        ExecutionsTimedOut: 0,
        ExecutionsAborted: 0,
        ExecutionsRedriven: 0,
      });
      expect(service.metric(pagingSaga.arn, 'ExecutionsFailed')).toBe(2);
      expect(service.metric(pagingSaga.arn, 'NotAMetric')).toBeUndefined();
    });
  });

  describe('Retry waits', () => {
    it('wait IntervalSeconds × BackoffRate^n, at most MaxDelaySeconds, scaled by retryIntervalScale', async () => {
      const attemptTimes: number[] = [];
      const probe: TemplateStateMachine = {
        ...contextProbe,
        definition: {
          StartAt: 'Probe',
          States: {
            Probe: {
              Type: 'Task',
              Resource: stepRunnerArn,
              Retry: [{ ErrorEquals: ['RetryableError'], IntervalSeconds: 10, BackoffRate: 4, MaxDelaySeconds: 20, MaxAttempts: 3, JitterStrategy: 'NONE' }],
              End: true,
            },
          },
        },
      };
      const timed = new LocalStepFunctions({
        machines: [probe],
        sqsEndpoint: sqs.endpoint,
        region: REGION,
        accountId: ACCOUNT,
        retryIntervalScale: 0.01,
        invoke: async () => {
          attemptTimes.push(performance.now());
          return attemptTimes.length <= 3
            ? { status: 'error', errorType: 'RetryableError', errorMessage: 'busy', trace: [], durationMs: 0 }
            : { status: 'ok', result: 'done', durationMs: 0 };
        },
      });
      try {
        const { executionArn } = (await timed.handle('StartExecution', { stateMachineArn: probe.arn })) as { executionArn: string };
        await timed.whenSettled(executionArn);

        const gaps = attemptTimes.slice(1).map((time, index) => time - (attemptTimes[index] ?? time));
        expect(((await timed.handle('DescribeExecution', { executionArn })) as Json).status).toBe('SUCCEEDED');
        // 10 s × 0.01, then 40 s capped at 20 s (× 0.01), then 160 s capped at 20 s.
        expect(gaps).toHaveLength(3);
        expect(gaps[0]).toBeGreaterThanOrEqual(95);
        expect(gaps[1]).toBeGreaterThanOrEqual(195);
        expect(gaps[2]).toBeGreaterThanOrEqual(195);
        expect(gaps[2]).toBeLessThan(1000);
      } finally {
        await timed.close();
      }
    });
  });

  describe('a runaway loop', () => {
    it('fails once its history reaches 25,000 events, as AWS does', async () => {
      const loop: TemplateStateMachine = {
        logicalId: 'Loop',
        name: 'loop',
        arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:loop`,
        definition: {
          StartAt: 'Again',
          States: {
            Again: { Type: 'Choice', Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }], Default: 'Again' },
            Done: { Type: 'Succeed' },
          },
        },
        tasks: {},
      };
      const looping = new LocalStepFunctions({ machines: [loop], invoke: runner.invoke, sqsEndpoint: sqs.endpoint, region: REGION, accountId: ACCOUNT });
      try {
        const { executionArn } = (await looping.handle('StartExecution', { stateMachineArn: loop.arn })) as { executionArn: string };
        await looping.whenSettled(executionArn);

        const described = (await looping.handle('DescribeExecution', { executionArn })) as Json;
        const [last] = ((await looping.handle('GetExecutionHistory', { executionArn, reverseOrder: true, maxResults: 1 })) as Json).events;
        expect(described).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
        expect(last).toMatchObject({ type: 'ExecutionFailed' });
        expect(last.id).toBeGreaterThan(24_900);
        expect(last.id).toBeLessThanOrEqual(25_000);
      } finally {
        await looping.close();
      }
    });
  });
});
