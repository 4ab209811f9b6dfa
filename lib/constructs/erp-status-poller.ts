import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeHarmonyFunctionBaseline, acknowledgeKeyGrantActions, acknowledgeTableIndexGrant } from '../nag-acknowledgements.ts';
import { HarmonyFunction } from './harmony-function.ts';

/** Props of the ERP status poller. */
export interface ErpStatusPollerProps {
  readonly bus: IEventBus;
  readonly idempotencyTable: ITable;
  readonly auditTable: ITable;
  readonly key: IKey;
  /** The connector settings the step runners get (CRM_SYSTEM, ERP_SYSTEM, settings, secret ARNs). */
  readonly connectorEnvironment: Readonly<Record<string, string>>;
  readonly erpSecret: ISecret;
  /** @default Duration.minutes(10) */
  readonly interval?: Duration;
}

/**
 * For ERPs that tell of status changes only when asked (the file-drop ERP's status files):
 * a Lambda on a schedule that puts each change on the hub bus once, and a queue of the
 * records it could not read, each with its source, line number and reason, for a person.
 */
export class ErpStatusPoller extends Construct {
  readonly poller: HarmonyFunction;
  /** Records the ERP sent that Harmony could not read (a DLQ: an alarm fires on its first message). */
  readonly rejectedQueue: Queue;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: ErpStatusPollerProps) {
    super(scope, id);
    const interval = props.interval ?? Duration.minutes(10);
    this.rejectedQueue = new Queue(this, 'RejectedRecords', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.poller = new HarmonyFunction(this, 'Poller', {
      entry: 'functions/handlers/poll-erp-statuses.ts',
      description: 'Polls the ERP for order status changes and puts them on the hub bus',
      timeout: Duration.seconds(Math.min(300, Math.max(30, interval.toSeconds() / 2))),
      logKey: props.key,
      environment: {
        ...props.connectorEnvironment,
        HUB_BUS_NAME: props.bus.eventBusName,
        IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
        AUDIT_TABLE: props.auditTable.tableName,
        REJECTED_QUEUE_URL: this.rejectedQueue.queueUrl,
      },
    });
    // One poll at a time: two would read the same files before either acknowledges.
    (this.poller.node.defaultChild as CfnFunction).reservedConcurrentExecutions = 1;
    props.bus.grantPutEventsTo(this.poller);
    props.idempotencyTable.grantReadWriteData(this.poller);
    props.auditTable.grantWriteData(this.poller);
    props.erpSecret.grantRead(this.poller);
    this.rejectedQueue.grantSendMessages(this.poller);
    Validations.of(this.rejectedQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue (records the ERP sent that Harmony could not read); alarm on its depth.',
    });
    acknowledgeHarmonyFunctionBaseline(this.poller);
    acknowledgeKeyGrantActions(this.poller);
    const auditTableResource = props.auditTable.node.defaultChild;
    if (auditTableResource !== undefined) acknowledgeTableIndexGrant(this.poller, Stack.of(this).getLogicalId(auditTableResource as CfnElement));
    this.schedule = new Rule(this, 'Schedule', {
      description: `Polls the ERP for order status changes every ${interval.toHumanString()}`,
      schedule: Schedule.rate(interval),
      targets: [new LambdaFunction(this.poller, { retryAttempts: 2 })],
    });
  }
}
