/**
 * One flow's path through the hub: bus rule → encrypted queue (+ DLQ) → starter Lambda →
 * saga state machine → step runner Lambda, plus the queue where failed compensations land.
 */
import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type EventPattern, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FlowDefinition, TriggerSettings } from '../../functions/core/flow.ts';
import {
  acknowledgeHarmonyFunctionBaseline,
  acknowledgeKeyGrantActions,
  acknowledgeTableIndexGrant,
} from '../nag-acknowledgements.ts';
import { HarmonyFunction } from './harmony-function.ts';
import { SagaStateMachine, type SagaStateNames } from './saga-state-machine.ts';

/** Handler module of the starter Lambda. */
export const STARTER_ENTRY = 'functions/handlers/start-execution.ts';
/** Handler module of the step runner Lambda. */
export const STEP_RUNNER_ENTRY = 'functions/handlers/run-step.ts';

/** Environment variables the pipeline sets itself; `connectorEnvironment` may not use them. */
const RESERVED_ENVIRONMENT = new Set([
  'FLOW_NAME',
  'STATE_MACHINE_ARN',
  'AUDIT_TABLE',
  'IDEMPOTENCY_TABLE',
  'DEAD_LETTER_QUEUE_URL',
  'NODE_OPTIONS',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
]);
const ENVIRONMENT_NAME = /^[A-Z][A-Z0-9_]*$/;
/** Lambda's limit on the total size of a function's environment. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Props of a flow pipeline. */
export interface FlowPipelineProps {
  /** The flow to run, from `flows/`. */
  readonly flow: FlowDefinition<any>;
  /** The hub bus the flow's trigger listens on. */
  readonly bus: IEventBus;
  /** Deployment settings the flow's trigger pattern depends on (e.g. which deal stages mean won). */
  readonly triggerSettings: TriggerSettings;
  /** Idempotency keys and claims; the step runner reads and writes it. */
  readonly idempotencyTable: ITable;
  /** Audit log; the starter and the step runner append to it. */
  readonly auditTable: ITable;
  /**
   * Customer managed key for the queues, the execution data and the log groups. Its key policy
   * must let CloudWatch Logs use it for this account's log groups (as `DataKey` does); the grants
   * EventBridge and Step Functions log delivery need are added by CDK when the key is in this app.
   */
  readonly encryptionKey: IKey;
  /** Connector configuration for the step runner (e.g. `ERP_KIND`, `ODOO_URL`, secret ARNs). No secrets in values. */
  readonly connectorEnvironment: Readonly<Record<string, string>>;
  /** Secrets the connectors read (API keys, OAuth clients); the step runner gets read access to each. */
  readonly connectorSecrets: readonly ISecret[];
  /** Messages the starter takes from the queue at once (1–10). @default 10 */
  readonly batchSize?: number;
  /** Deliveries of a message before it moves to the dead-letter queue (1–1000). @default 5 */
  readonly maxReceiveCount?: number;
  /** Most starter instances the queue drives at once (2–1000). @default 10 */
  readonly maxConcurrency?: number;
  /** Longest a saga execution may run. @default Duration.hours(1) */
  readonly executionTimeout?: Duration;
  /** Timeout of the starter Lambda; the queue's visibility timeout is six times it. @default Duration.seconds(30) */
  readonly starterTimeout?: Duration;
  /** Timeout of one step or compensation attempt. @default Duration.seconds(60) */
  readonly stepTimeout?: Duration;
  /** Retention of the pipeline's log groups. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * Everything one flow needs between the bus and the connectors.
 *
 * The bus rule delivers matching events to the flow's queue (failed deliveries go to a DLQ of
 * the rule's own); the starter Lambda takes them in batches, reports failed items one by one,
 * and starts one saga execution per event; after `maxReceiveCount` deliveries a message moves to
 * the dead-letter queue. All queues are KMS-encrypted and refuse plain HTTP.
 */
export class FlowPipeline extends Construct {
  /** The rule on the hub bus matching the flow's trigger. */
  readonly rule: Rule;
  /** The flow's work queue, fed by the rule. */
  readonly queue: Queue;
  /** Messages the starter failed on `maxReceiveCount` times, or found invalid. */
  readonly deadLetterQueue: Queue;
  /** Events EventBridge could not deliver to the queue. */
  readonly ruleDeadLetterQueue: Queue;
  /** Reports of compensations that failed for good (see `CompensationDeadLetter`). */
  readonly compensationDeadLetterQueue: Queue;
  /** Starts a saga execution per queued event. */
  readonly starter: HarmonyFunction;
  /** Runs the flow's steps and compensations. */
  readonly stepRunner: HarmonyFunction;
  /** The saga. */
  readonly stateMachine: StateMachine;
  /** Names of the saga's states. */
  readonly stateNames: SagaStateNames;

  constructor(scope: Construct, id: string, props: FlowPipelineProps) {
    super(scope, id);
    const { flow, encryptionKey: key } = props;
    const batchSize = checkedInteger(flow.name, 'batchSize', props.batchSize ?? 10, 1, 10);
    const maxReceiveCount = checkedInteger(flow.name, 'maxReceiveCount', props.maxReceiveCount ?? 5, 1, 1000);
    const maxConcurrency = checkedInteger(flow.name, 'maxConcurrency', props.maxConcurrency ?? 10, 2, 1000);
    const starterTimeout = props.starterTimeout ?? Duration.seconds(30);
    const stepTimeout = props.stepTimeout ?? Duration.seconds(60);
    checkedInteger(flow.name, 'starterTimeout (seconds)', starterTimeout.toSeconds(), 1, 900);
    checkedInteger(flow.name, 'stepTimeout (seconds)', stepTimeout.toSeconds(), 1, 900);
    validateConnectorEnvironment(flow.name, props.connectorEnvironment);
    const pattern = flow.trigger(props.triggerSettings);
    if (Object.keys(pattern).length === 0) throw new Error(`flow ${flow.name}: trigger pattern is empty`);

    const encryptedQueue = (queueId: string, extra: QueueProps = {}): Queue =>
      new Queue(this, queueId, {
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        ...extra,
      });

    this.deadLetterQueue = encryptedQueue('DeadLetterQueue', { retentionPeriod: Duration.days(14) });
    this.ruleDeadLetterQueue = encryptedQueue('RuleDeadLetterQueue', { retentionPeriod: Duration.days(14) });
    this.compensationDeadLetterQueue = encryptedQueue('CompensationDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
    });
    this.queue = encryptedQueue('Queue', {
      // AWS: at least six times the function timeout, so retries of a throttled batch do not redeliver.
      visibilityTimeout: Duration.seconds(6 * starterTimeout.toSeconds()),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    this.rule = new Rule(this, 'Trigger', {
      eventBus: props.bus,
      description: `Starts ${flow.name}: ${flow.description}`.slice(0, 512),
      // Passed through as AWS spells it ('detail-type', …): CDK renders unknown keys unchanged.
      eventPattern: pattern as EventPattern,
      targets: [new SqsQueue(this.queue, { deadLetterQueue: this.ruleDeadLetterQueue })],
    });

    this.stepRunner = new HarmonyFunction(this, 'StepRunner', {
      entry: STEP_RUNNER_ENTRY,
      description: `Runs the steps and compensations of ${flow.name}`,
      timeout: stepTimeout,
      logKey: key,
      logRetention: props.logRetention,
      environment: {
        ...props.connectorEnvironment,
        FLOW_NAME: flow.name,
        AUDIT_TABLE: props.auditTable.tableName,
        IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
      },
    });
    props.idempotencyTable.grantReadWriteData(this.stepRunner);
    props.auditTable.grantWriteData(this.stepRunner);
    for (const secret of props.connectorSecrets) secret.grantRead(this.stepRunner);

    const saga = new SagaStateMachine(this, 'Saga', {
      flow,
      stepRunner: this.stepRunner,
      compensationDeadLetterQueue: this.compensationDeadLetterQueue,
      executionTimeout: props.executionTimeout,
      encryptionKey: key,
      logRetention: props.logRetention,
    });
    this.stateMachine = saga.stateMachine;
    this.stateNames = saga.stateNames;

    this.starter = new HarmonyFunction(this, 'Starter', {
      entry: STARTER_ENTRY,
      description: `Starts a ${flow.name} saga for each queued trigger event`,
      timeout: starterTimeout,
      logKey: key,
      logRetention: props.logRetention,
      environment: {
        FLOW_NAME: flow.name,
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        AUDIT_TABLE: props.auditTable.tableName,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
      },
    });
    this.starter.addEventSource(
      new SqsEventSource(this.queue, { batchSize, reportBatchItemFailures: true, maxConcurrency }),
    );
    this.stateMachine.grantStartExecution(this.starter);
    // Starting an execution of a state machine encrypted with a customer managed key needs a data key.
    this.starter.addToRolePolicy(
      new PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': this.stateMachine.stateMachineArn },
        },
      }),
    );
    this.deadLetterQueue.grantSendMessages(this.starter);
    props.auditTable.grantWriteData(this.starter);

    for (const queue of [this.ruleDeadLetterQueue, this.compensationDeadLetterQueue]) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself a dead-letter queue (of the rule target, or of the compensations); alarm on its depth.',
      });
    }
    const auditTableResource = props.auditTable.node.defaultChild;
    for (const fn of [this.starter, this.stepRunner]) {
      acknowledgeHarmonyFunctionBaseline(fn);
      acknowledgeKeyGrantActions(fn);
      if (auditTableResource !== undefined) {
        acknowledgeTableIndexGrant(fn, Stack.of(this).getLogicalId(auditTableResource as CfnElement));
      }
    }
  }
}

function checkedInteger(flowName: string, name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`FlowPipeline ${flowName}: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function validateConnectorEnvironment(flowName: string, environment: Readonly<Record<string, string>>): void {
  let size = 0;
  for (const [name, value] of Object.entries(environment)) {
    if (!ENVIRONMENT_NAME.test(name)) {
      throw new Error(`FlowPipeline ${flowName}: connectorEnvironment name "${name}" must match ${ENVIRONMENT_NAME}`);
    }
    if (RESERVED_ENVIRONMENT.has(name) || name.startsWith('AWS_')) {
      throw new Error(`FlowPipeline ${flowName}: connectorEnvironment may not set ${name}; the pipeline sets it`);
    }
    size += name.length + value.length;
  }
  // Leave room for what the pipeline and HarmonyFunction add (table names, ARNs, Powertools settings).
  if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES - 1024) {
    throw new Error(
      `FlowPipeline ${flowName}: connectorEnvironment takes ${size} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} in all`,
    );
  }
}
