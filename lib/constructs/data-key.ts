import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Props of Harmony's data key. */
export interface DataKeyProps {
  /** Alias, without the `alias/` prefix. @default `<stack name>/data` */
  readonly aliasName?: string;
}

/**
 * The customer managed KMS key that encrypts Harmony's data at rest: tables, queues,
 * the alarm topic, secrets and log groups. Rotation is on and the key is retained when
 * the stack is deleted (data encrypted with a deleted key is lost for good).
 *
 * Besides the account (whose IAM policies grant callers by intent), the key policy lets in
 * only the AWS services that encrypt on Harmony's behalf and cannot use IAM grants:
 * CloudWatch Logs (this account's log groups), CloudWatch alarms publishing to the topic,
 * EventBridge delivering to queues, and SNS moving failed deliveries to a queue.
 */
export class DataKey extends Construct {
  /** The key. */
  readonly key: Key;

  constructor(scope: Construct, id: string, props: DataKeyProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const aliasName = props.aliasName ?? `${stack.stackName}/data`;
    if (!/^[A-Za-z0-9/_-]{1,250}$/.test(aliasName) || aliasName.startsWith('aws/')) {
      throw new Error(`DataKey ${id}: aliasName "${aliasName}" must be 1–250 of A-Za-z0-9/_- and not start with aws/`);
    }
    this.key = new Key(this, 'Key', {
      description: `Harmony (${stack.stackName}): encrypts tables, queues, alarm topic, secrets and logs`,
      enableKeyRotation: true,
      alias: aliasName,
    });
    const sameAccount = { StringEquals: { 'aws:SourceAccount': stack.account } };

    // CloudWatch Logs encrypts log groups itself; the encryption context names the log group.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsEncryptsThisAccountsLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the encrypted alarm topic.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    // EventBridge rules deliver to the encrypted flow queues and their dead-letter queues.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeDeliversToEncryptedQueues',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: sameAccount,
      }),
    );
    // SNS moves notifications it could not deliver to an encrypted dead-letter queue.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'SnsDeliversToEncryptedDeadLetterQueues',
        principals: [new ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: sameAccount,
      }),
    );
  }
}
