/**
 * Executes the order-to-cash state machine exactly as synthesized (rendered back from
 * the template by local/template) in aws-local-stepfunctions. The step runner is played
 * by a script of outcomes per state: what is under test is the ASL's wiring — order of
 * states, retries, compensations newest first, dead letters, the final error — read from
 * the execution's event log and from the compensation DLQ (a real fauxqs queue).
 */
import { DeleteMessageCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failureReason, orderToCash } from '../../flows/order-to-cash.ts';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { type TemplateStateMachine, stateMachinesOf } from '../../local/template/state-machines.ts';
import { logicalIdOf, synthFlowTestApp } from '../support/flow-test-stack.ts';
import { type LocalService, startSqs } from '../support/local-aws.ts';
import { type LocalFunction, type SagaRun, runSaga } from '../support/run-saga.ts';

type Json = Record<string, any>;
/** What the played step runner does on one attempt of a state. */
type Outcome = { readonly returns: unknown } | { readonly throws: Error };

const STEPS = ['LoadDeal', 'UpsertCustomer', 'CreateSalesOrder', 'ConfirmSalesOrder', 'UpdateDealWithOrder'];
const EXECUTION_NAME = 'hubspot-4711-9001-evt-1';

const sagaInput = (): Json => ({
  trigger: {
    crm: 'hubspot',
    accountId: '4711',
    dealId: '9001',
    stage: 'closedwon',
    occurredAt: '2026-03-01T10:00:00.000Z',
    eventId: 'evt-1',
  },
  businessKey: 'deal:hubspot:4711:9001',
  correlationId: 'corr-1',
  receivedAt: '2026-03-01T10:00:01.000Z',
  results: {},
  compensations: {},
});

const permanent = (message: string): Outcome => ({ throws: new PermanentError(message) });
const retryable = (message: string): Outcome => ({ throws: new RetryableError(message) });

describe('order-to-cash state machine', () => {
  let machine: TemplateStateMachine;
  let stepRunnerId: string;
  let dlqUrl: string;
  let dlqId: string;
  let sqsService: LocalService & { createQueue(name: string): { queueUrl: string } };
  let sqs: SQSClient;

  /** Plays the step runner: `script[state]` gives the outcome of attempt n (the last one repeats). */
  const play = (script: Readonly<Record<string, readonly Outcome[]>>) => {
    const calls: { stateName: string; attempt: number; payload: Json }[] = [];
    const fn: LocalFunction = (payload, { stateName, attempt }) => {
      calls.push({ stateName, attempt, payload });
      const outcomes = script[stateName];
      const outcome = outcomes?.[Math.min(attempt, outcomes.length - 1)] ?? { returns: { doneBy: stateName } };
      if ('throws' in outcome) throw outcome.throws;
      return outcome.returns;
    };
    return { fn, calls };
  };

  const run = (script: Readonly<Record<string, readonly Outcome[]>>, input: Json = sagaInput()) => {
    const played = play(script);
    return runSaga(machine, input, {
      executionName: EXECUTION_NAME,
      functions: { [stepRunnerId]: played.fn },
      sqsEndpoint: sqsService.endpoint,
    }).then((result) => ({ ...result, calls: played.calls }));
  };

  const drainDeadLetters = async (): Promise<Json[]> => {
    const bodies: Json[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return bodies;
      for (const message of Messages) {
        bodies.push(JSON.parse(message.Body ?? 'null') as Json);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
  };

  const stepsUpTo = (step: string): string[] => STEPS.slice(0, STEPS.indexOf(step) + 1);
  const causeOf = (run: SagaRun): Json => JSON.parse(run.cause ?? 'null') as Json;

  beforeAll(async () => {
    sqsService = await startSqs();
    sqs = new SQSClient({
      endpoint: sqsService.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const app = synthFlowTestApp();
    const resolver = new TemplateResolver(app.template, {
      region: 'eu-west-1',
      accountId: '111111111111',
      sqsEndpoint: sqsService.endpoint,
    });
    const [only] = stateMachinesOf(resolver);
    if (only === undefined) throw new Error('no state machine in the template');
    machine = only;
    stepRunnerId = logicalIdOf(app.pipeline.stepRunner);
    dlqId = logicalIdOf(app.pipeline.compensationDeadLetterQueue);
    dlqUrl = sqsService.createQueue(dlqId).queueUrl;
  });

  afterAll(async () => {
    sqs?.destroy();
    await sqsService?.stop();
  });

  beforeEach(async () => {
    await drainDeadLetters();
  });

  it('maps every Task to the step runner or the compensation DLQ', () => {
    const targets = Object.values(machine.tasks);
    expect(targets.filter((target) => target.kind === 'lambda')).toHaveLength(7);
    expect(targets.filter((target) => target.kind === 'sqs:sendMessage')).toHaveLength(2);
    expect(targets.filter((target) => target.kind === 'unmapped')).toEqual([]);
  });

  describe('when every step succeeds', () => {
    it('runs the five steps in order and succeeds, carrying each result to the later steps', async () => {
      const results = Object.fromEntries(STEPS.map((step, index) => [step, { step, n: index }]));
      const saga = await run(Object.fromEntries(STEPS.map((step) => [step, [{ returns: results[step] }]])));

      expect(saga.status).toBe('SUCCEEDED');
      expect(saga.statesEntered).toEqual([...STEPS, 'OrderToCashSucceeded']);
      expect((saga.output as Json).results).toEqual(results);
      // Each step was entered with the results of exactly the steps before it.
      STEPS.forEach((step, index) => {
        expect((saga.inputs[step] as Json).results, step).toEqual(Object.fromEntries(STEPS.slice(0, index).map((s) => [s, results[s]])));
      });
      expect(await drainDeadLetters()).toEqual([]);
    });

    it('sends the step runner its request: flow, step, kind, the whole state, execution name and attempt', async () => {
      const saga = await run({});
      const last = saga.calls.find((call) => call.stateName === 'UpdateDealWithOrder');
      expect(last?.payload).toEqual({
        flow: 'order-to-cash',
        step: 'UpdateDealWithOrder',
        kind: 'step',
        executionName: EXECUTION_NAME,
        retryCount: 0,
        state: { ...sagaInput(), results: Object.fromEntries(STEPS.slice(0, 4).map((step) => [step, { doneBy: step }])) },
      });
    });

    it('needs no results or compensations in its input', async () => {
      const { results: _results, compensations: _compensations, ...bare } = sagaInput();
      const saga = await run({}, bare);
      expect(saga.status).toBe('SUCCEEDED');
      expect(Object.keys((saga.output as Json).results)).toEqual(STEPS);
    });
  });

  describe('when a step fails for good', () => {
    it.each([
      ['LoadDeal', ['MarkDealSyncFailed']],
      ['UpsertCustomer', ['MarkDealSyncFailed']],
      ['CreateSalesOrder', ['CancelSalesOrder', 'MarkDealSyncFailed']],
      ['ConfirmSalesOrder', ['CancelSalesOrder', 'MarkDealSyncFailed']],
      ['UpdateDealWithOrder', ['CancelSalesOrder', 'MarkDealSyncFailed']],
    ])('%s failing runs %j, newest first, and fails with the original error', async (failing, compensations) => {
      const saga = await run({ [failing]: [permanent(`${failing} was refused by the ERP`)] });

      expect(saga.statesEntered).toEqual([...stepsUpTo(failing), ...compensations, 'OrderToCashFailed']);
      expect(saga.status).toBe('FAILED');
      expect(saga.error).toBe('PermanentError');
      expect(causeOf(saga)).toMatchObject({ errorType: 'PermanentError', errorMessage: `${failing} was refused by the ERP` });
      expect(await drainDeadLetters()).toEqual([]);
    });

    it('does not retry a PermanentError', async () => {
      const saga = await run({ CreateSalesOrder: [permanent('customer is blocked')] });
      expect(saga.retries).toEqual({});
      expect(saga.calls.filter((call) => call.stateName === 'CreateSalesOrder')).toHaveLength(1);
    });

    it('does not retry an unclassified error either, and compensates', async () => {
      const saga = await run({ ConfirmSalesOrder: [{ throws: new TypeError("Cannot read properties of undefined (reading 'id')") }] });
      expect(saga.retries).toEqual({});
      expect(saga.statesEntered.slice(-3)).toEqual(['CancelSalesOrder', 'MarkDealSyncFailed', 'OrderToCashFailed']);
      expect(saga.error).toBe('TypeError');
    });

    it('hands every compensation the original failure in $.failure', async () => {
      const saga = await run({ ConfirmSalesOrder: [permanent('product P-1 is out of stock')] });
      for (const compensation of ['CancelSalesOrder', 'MarkDealSyncFailed']) {
        const request = saga.calls.find((call) => call.stateName === compensation)?.payload;
        expect(request?.kind, compensation).toBe('compensation');
        expect(request?.step, compensation).toBe(compensation);
        expect(request?.state.failure, compensation).toEqual({
          Error: 'PermanentError',
          Cause: JSON.stringify({ errorType: 'PermanentError', errorMessage: 'product P-1 is out of stock', trace: [] }),
        });
        // The flow turns it into the sentence the sales team reads on the deal.
        expect(failureReason(request?.state.failure)).toBe('product P-1 is out of stock');
      }
      // The newer compensation's result is there for the older one, and in the final state.
      expect((saga.inputs.MarkDealSyncFailed as Json).compensations).toEqual({ CancelSalesOrder: { doneBy: 'CancelSalesOrder' } });
    });
  });

  describe('when a step fails transiently', () => {
    it('retries a RetryableError and goes on without compensating once it succeeds', async () => {
      const saga = await run({
        CreateSalesOrder: [retryable('Odoo answered 503'), retryable('Odoo answered 503'), { returns: { id: 42 } }],
      });
      expect(saga.status).toBe('SUCCEEDED');
      expect(saga.retries).toEqual({ CreateSalesOrder: 2 });
      expect(saga.calls.filter((call) => call.stateName === 'CreateSalesOrder').map((call) => call.payload.retryCount)).toEqual([0, 1, 2]);
      expect(saga.statesEntered).toEqual([...STEPS, 'OrderToCashSucceeded']);
      expect((saga.output as Json).results.CreateSalesOrder).toEqual({ id: 42 });
    });

    it('retries Lambda service errors too', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
      const saga = await run({ LoadDeal: [{ throws: throttled }, { returns: { id: '9001' } }] });
      expect(saga.status).toBe('SUCCEEDED');
      expect(saga.retries).toEqual({ LoadDeal: 1 });
    });

    it('compensates once the retries are exhausted (six retries after the first attempt)', async () => {
      const saga = await run({ ConfirmSalesOrder: [retryable('stock service timed out')] });
      expect(saga.calls.filter((call) => call.stateName === 'ConfirmSalesOrder')).toHaveLength(7);
      expect(saga.statesEntered).toEqual([...stepsUpTo('ConfirmSalesOrder'), 'CancelSalesOrder', 'MarkDealSyncFailed', 'OrderToCashFailed']);
      expect(saga.error).toBe('RetryableError');
      expect(causeOf(saga).errorMessage).toBe('stock service timed out');
    });
  });

  describe('when a compensation fails', () => {
    it('reports it to the compensation DLQ and still runs the older compensations', async () => {
      const saga = await run({
        ConfirmSalesOrder: [permanent('order S00042 is locked')],
        CancelSalesOrder: [permanent('order S00042 is already delivered')],
      });

      expect(saga.statesEntered).toEqual([
        ...stepsUpTo('ConfirmSalesOrder'),
        'CancelSalesOrder',
        'DeadLetterCancelSalesOrder',
        'MarkDealSyncFailed',
        'OrderToCashFailed',
      ]);
      expect(saga.status).toBe('FAILED');
      expect(saga.error).toBe('PermanentError');
      expect(causeOf(saga).errorMessage).toBe('order S00042 is locked');

      const deadLetters = await drainDeadLetters();
      expect(deadLetters).toEqual([
        {
          flow: 'order-to-cash',
          executionName: EXECUTION_NAME,
          businessKey: 'deal:hubspot:4711:9001',
          correlationId: 'corr-1',
          compensation: 'CancelSalesOrder',
          error: {
            Error: 'PermanentError',
            Cause: JSON.stringify({ errorType: 'PermanentError', errorMessage: 'order S00042 is already delivered', trace: [] }),
          },
          failure: {
            Error: 'PermanentError',
            Cause: JSON.stringify({ errorType: 'PermanentError', errorMessage: 'order S00042 is locked', trace: [] }),
          },
        },
      ]);
      // The older compensation still sees the step's failure, not the compensation's.
      expect(saga.calls.find((call) => call.stateName === 'MarkDealSyncFailed')?.payload.state.failure.Cause).toContain(
        'order S00042 is locked',
      );
    });

    it('reports every failed compensation, newest first, and ends with the original error', async () => {
      const saga = await run({
        UpdateDealWithOrder: [permanent('deal 9001 was deleted')],
        CancelSalesOrder: [permanent('cancel refused')],
        MarkDealSyncFailed: [permanent('deal 9001 was deleted')],
      });
      expect(saga.statesEntered.slice(STEPS.length)).toEqual([
        'CancelSalesOrder',
        'DeadLetterCancelSalesOrder',
        'MarkDealSyncFailed',
        'DeadLetterMarkDealSyncFailed',
        'OrderToCashFailed',
      ]);
      expect((await drainDeadLetters()).map((body) => body.compensation)).toEqual(['CancelSalesOrder', 'MarkDealSyncFailed']);
      expect(causeOf(saga).errorMessage).toBe('deal 9001 was deleted');
    });

    it('still runs the older compensations when even the report cannot be sent', async () => {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl }));
      try {
        const saga = await run({
          CreateSalesOrder: [permanent('currency not enabled')],
          CancelSalesOrder: [permanent('cancel refused')],
        });
        expect(saga.retries).toEqual({ DeadLetterCancelSalesOrder: 3 });
        expect(saga.statesEntered.slice(-4)).toEqual([
          'CancelSalesOrder',
          'DeadLetterCancelSalesOrder',
          'MarkDealSyncFailed',
          'OrderToCashFailed',
        ]);
        expect(causeOf(saga).errorMessage).toBe('currency not enabled');
      } finally {
        dlqUrl = sqsService.createQueue(dlqId).queueUrl;
      }
    });

    it('retries a compensation that fails transiently, and reports nothing when it then succeeds', async () => {
      const saga = await run({
        CreateSalesOrder: [permanent('price list missing')],
        CancelSalesOrder: [retryable('Odoo answered 502'), { returns: { cancelled: true } }],
      });
      expect(saga.retries).toEqual({ CancelSalesOrder: 1 });
      expect(saga.statesEntered.slice(-3)).toEqual(['CancelSalesOrder', 'MarkDealSyncFailed', 'OrderToCashFailed']);
      expect(await drainDeadLetters()).toEqual([]);
    });
  });

  it('registers each compensation before its step: the flow and the rendered ASL agree', () => {
    // A step's compensation is what a failure of that very step goes to.
    for (const step of orderToCash.steps) {
      if (step.compensation === undefined) continue;
      expect((machine.definition.States[step.name] as Json).Catch[0].Next, step.name).toBe(step.compensation.name);
    }
  });
});
