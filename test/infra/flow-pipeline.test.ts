import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { orderToCash } from '../../flows/order-to-cash.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { type TemplateStateMachine, stateMachinesOf } from '../../local/template/state-machines.ts';
import { type FlowTestApp, TEST_TRIGGER_SETTINGS, logicalIdOf, synthFlowTestApp } from '../support/flow-test-stack.ts';

type Json = Record<string, any>;

describe('FlowPipeline (order-to-cash)', () => {
  let app: FlowTestApp;
  let template: Template;
  let resources: Record<string, Json>;
  let saga: TemplateStateMachine;

  const logicalId = logicalIdOf;
  const ofType = (type: string): [string, Json][] => Object.entries(resources).filter(([, resource]) => resource.Type === type);

  beforeAll(() => {
    app = synthFlowTestApp();
    template = Template.fromJSON(app.template);
    resources = app.template.Resources as Record<string, Json>;
    const machines = stateMachinesOf(new TemplateResolver(app.template, { region: 'eu-west-1', accountId: '111111111111' }));
    const [machine] = machines;
    if (machine === undefined || machines.length !== 1) throw new Error('expected one state machine');
    saga = machine;
  });

  it('matches exactly the flow trigger on the hub bus and delivers to the queue, with a DLQ for failed deliveries', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0] as [string, Json];
    expect(rule.Properties.EventPattern).toEqual(orderToCash.trigger(TEST_TRIGGER_SETTINGS));
    expect(rule.Properties.EventBusName).toEqual({ Ref: logicalId(app.stack.node.findChild('Bus')) });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [logicalId(app.pipeline.queue), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(app.pipeline.ruleDeadLetterQueue), 'Arn'] } },
      }),
    ]);
  });

  it('encrypts every queue with the given key and refuses plain HTTP to each', () => {
    const keyArn = { 'Fn::GetAtt': [logicalId(app.stack.node.findChild('Key')), 'Arn'] };
    const queues = ofType('AWS::SQS::Queue');
    expect(queues).toHaveLength(4);
    for (const [id, queue] of queues) {
      expect(queue.Properties.KmsMasterKeyId, id).toEqual(keyArn);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('moves a message to the DLQ after five receives and keeps dead letters 14 days', () => {
    const queue = resources[logicalId(app.pipeline.queue)] as Json;
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(app.pipeline.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 5,
    });
    for (const dlq of [app.pipeline.deadLetterQueue, app.pipeline.ruleDeadLetterQueue, app.pipeline.compensationDeadLetterQueue]) {
      expect((resources[logicalId(dlq)] as Json).Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
  });

  it('keeps messages invisible for at least six times the starter timeout', () => {
    const starter = resources[logicalId(app.pipeline.starter)] as Json;
    const queue = resources[logicalId(app.pipeline.queue)] as Json;
    expect(starter.Properties.Timeout).toBeGreaterThan(0);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * starter.Properties.Timeout);
  });

  it('feeds the starter from the queue in batches that report item failures, with bounded concurrency', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(app.pipeline.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(app.pipeline.starter) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('configures the starter and the step runner through their environment', () => {
    const environment = (construct: typeof app.pipeline.starter): Json =>
      (resources[logicalId(construct)] as Json).Properties.Environment.Variables;
    expect(environment(app.pipeline.starter)).toMatchObject({
      FLOW_NAME: 'order-to-cash',
      STATE_MACHINE_ARN: { Ref: logicalId(app.pipeline.stateMachine) },
      AUDIT_TABLE: { Ref: logicalId(app.stack.node.findChild('Audit')) },
      DEAD_LETTER_QUEUE_URL: { Ref: logicalId(app.pipeline.deadLetterQueue) },
    });
    expect(environment(app.pipeline.stepRunner)).toMatchObject({
      FLOW_NAME: 'order-to-cash',
      AUDIT_TABLE: { Ref: logicalId(app.stack.node.findChild('Audit')) },
      IDEMPOTENCY_TABLE: { Ref: logicalId(app.stack.node.findChild('Idempotency')) },
      ERP_KIND: 'odoo',
    });
    expect(resources[logicalId(app.pipeline.starter)]?.Metadata?.['harmony:entry']).toBe('functions/handlers/start-execution.ts');
    expect(resources[logicalId(app.pipeline.stepRunner)]?.Metadata?.['harmony:entry']).toBe('functions/handlers/run-step.ts');
  });

  it('is a STANDARD state machine with tracing, logging without execution data to an encrypted log group, and a timeout', () => {
    const machine = resources[logicalId(app.pipeline.stateMachine)] as Json;
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(['ALL', 'ERROR']).toContain(machine.Properties.LoggingConfiguration.Level);
    expect(machine.Properties.LoggingConfiguration.IncludeExecutionData).toBe(false);
    const logGroupId = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect((resources[logGroupId] as Json).Properties.KmsKeyId).toBeDefined();
    expect(machine.Properties.EncryptionConfiguration.Type).toBe('CUSTOMER_MANAGED_KMS_KEY');
    expect(saga.definition.TimeoutSeconds).toBe(3600);
    expect((saga.definition as Json).QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  it('runs every step as a Task on the step runner with the step payload and its result under $.results', () => {
    const runner = logicalId(app.pipeline.stepRunner);
    for (const step of orderToCash.steps) {
      const state = saga.definition.States[step.name] as Json;
      expect(saga.tasks[step.name]).toEqual({ kind: 'lambda', functionLogicalId: runner, integration: 'function-arn' });
      expect(state.ResultPath).toBe(`$.results.${step.name}`);
      expect(state.Parameters).toEqual({
        flow: 'order-to-cash',
        step: step.name,
        kind: 'step',
        'state.$': '$',
        'executionName.$': '$$.Execution.Name',
        'retryCount.$': '$$.State.RetryCount',
      });
    }
  });

  it('retries steps and compensations only on RetryableError and Lambda service errors, with backoff, a cap and full jitter', () => {
    const names = [...orderToCash.steps.map((step) => step.name), ...app.pipeline.stateNames.compensations];
    expect(names).toHaveLength(7);
    for (const name of names) {
      const retriers = (saga.definition.States[name] as Json).Retry as Json[];
      expect(retriers.flatMap((retrier) => retrier.ErrorEquals).sort(), name).toEqual(
        [
          'RetryableError',
          'Lambda.ClientExecutionTimeoutException',
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.TooManyRequestsException',
        ].sort(),
      );
      // The step's own policy where it has one (UpsertCustomer waits longer for another run's claim), else the default.
      const policy = orderToCash.steps.find((step) => step.name === name)?.retry ?? {};
      for (const retrier of retriers) {
        expect(retrier, name).toMatchObject({
          MaxAttempts: policy.maxAttempts ?? 6,
          IntervalSeconds: policy.intervalSeconds ?? 2,
          BackoffRate: policy.backoffRate ?? 2,
          MaxDelaySeconds: policy.maxDelaySeconds ?? 60,
          JitterStrategy: 'FULL',
        });
      }
    }
    expect((saga.definition.States.UpsertCustomer as Json).Retry).toEqual(
      expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['RetryableError'], MaxAttempts: 12, MaxDelaySeconds: 30 })]),
    );
  });

  it('catches every error of every step into $.failure', () => {
    for (const step of orderToCash.steps) {
      expect((saga.definition.States[step.name] as Json).Catch, step.name).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], ResultPath: '$.failure' }),
      ]);
    }
  });

  it('reports failed compensations to the compensation DLQ', () => {
    const queue = logicalId(app.pipeline.compensationDeadLetterQueue);
    for (const [compensation, deadLetter] of Object.entries(app.pipeline.stateNames.deadLetters)) {
      expect((saga.definition.States[compensation] as Json).Catch).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: deadLetter }),
      ]);
      expect(saga.tasks[deadLetter]).toMatchObject({ kind: 'sqs:sendMessage', queueLogicalId: queue });
    }
  });

  it('grants by intent: specific actions on specific resources', () => {
    const statements = ofType('AWS::IAM::Policy').flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Json[]);
    const actions = statements.flatMap((statement) => [statement.Action].flat() as string[]);
    expect(actions.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
    const withResource = (action: string): unknown[] =>
      statements.filter((statement) => [statement.Action].flat().includes(action)).flatMap((statement) => [statement.Resource].flat());
    expect(withResource('states:StartExecution')).toEqual([{ Ref: logicalId(app.pipeline.stateMachine) }]);
    const runnerArn = { 'Fn::GetAtt': [logicalId(app.pipeline.stepRunner), 'Arn'] };
    expect(withResource('lambda:InvokeFunction')).toEqual([runnerArn, { 'Fn::Join': ['', [runnerArn, ':*']] }]);
    expect(withResource('sqs:SendMessage').sort()).toEqual(
      [app.pipeline.compensationDeadLetterQueue, app.pipeline.deadLetterQueue]
        .map((queue) => ({ 'Fn::GetAtt': [logicalId(queue), 'Arn'] }))
        .sort(),
    );
    expect(withResource('secretsmanager:GetSecretValue')).toEqual([{ Ref: logicalId(app.stack.node.findChild('ErpSecret')) }]);
    // Only the step runner writes claims; nobody reads the audit log here.
    expect(withResource('dynamodb:GetItem')).toEqual([{ 'Fn::GetAtt': [logicalId(app.stack.node.findChild('Idempotency')), 'Arn'] }]);
  });

  it('passes the AwsSolutions checks of cdk-nag', () => {
    expect(() => synthFlowTestApp({ nag: true })).not.toThrow();
  });
});

describe('FlowPipeline props', () => {
  it('applies the tuning it is given', () => {
    const { template, pipeline } = synthFlowTestApp({
      pipeline: { batchSize: 5, maxReceiveCount: 3, maxConcurrency: 4, starterTimeout: Duration.seconds(20) },
    });
    const id = logicalIdOf;
    const assertions = Template.fromJSON(template);
    assertions.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5, ScalingConfig: { MaximumConcurrency: 4 } });
    expect((template.Resources[id(pipeline.queue)]?.Properties as Json).RedrivePolicy.maxReceiveCount).toBe(3);
    expect((template.Resources[id(pipeline.queue)]?.Properties as Json).VisibilityTimeout).toBe(120);
  });

  it.each([
    [{ batchSize: 0 }, /batchSize must be an integer from 1 to 10, got 0/],
    [{ batchSize: 11 }, /batchSize must be an integer from 1 to 10, got 11/],
    [{ maxReceiveCount: 0 }, /maxReceiveCount must be an integer from 1 to 1000/],
    [{ maxConcurrency: 1 }, /maxConcurrency must be an integer from 2 to 1000/],
    [{ connectorEnvironment: { FLOW_NAME: 'x' } }, /connectorEnvironment may not set FLOW_NAME/],
    [{ connectorEnvironment: { 'erp-url': 'x' } }, /connectorEnvironment name "erp-url"/],
    [{ executionTimeout: Duration.minutes(10) }, /executionTimeout 10 minutes is within the retry budget/],
  ])('refuses %o at synth', (pipeline, message) => {
    expect(() => synthFlowTestApp({ pipeline })).toThrow(message);
  });
});
