import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import { SlackChannelConfiguration } from 'aws-cdk-lib/aws-chatbot';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ManagedPolicy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import type { SlackChannel } from '../harmony-context.ts';
import {
  acknowledgeHarmonyFunctionBaseline,
  acknowledgeKeyGrantActions,
  acknowledgeVendorIssuedSecret,
} from '../nag-acknowledgements.ts';
import { HarmonyFunction } from './harmony-function.ts';

/** Handler module of the Slack notifier Lambda. */
export const NOTIFY_SLACK_ENTRY = 'functions/handlers/notify-slack.ts';

/** Props of Harmony's alarms. */
export interface HarmonyAlarmsProps {
  /** Customer managed key for the topic, the notifier's dead-letter queue and its logs. */
  readonly key: IKey;
  /** Address subscribed to the topic by email (AWS sends a confirmation link first). @default - no email */
  readonly alarmEmail?: string;
  /**
   * Slack channel AWS Chatbot posts alarms to. Without it, the notifier Lambda posts them to
   * the Slack incoming webhook in `slackWebhookSecret`.
   * @default - the notifier Lambda
   */
  readonly slackChannel?: SlackChannel;
  /**
   * JSON secret `{"webhookUrl": "https://hooks.slack.com/services/…"}` the notifier reads; the
   * operator puts the URL in after deploying. Unused with `slackChannel`.
   * @default - a new secret
   */
  readonly slackWebhookSecret?: ISecret;
  /** Prefix of every alarm name. @default the stack name */
  readonly alarmNamePrefix?: string;
}

/** Options every `watch…` method takes. */
export interface WatchOptions {
  /**
   * Readable name of the watched thing in alarm names, e.g. `order-to-cash-dlq`.
   * @default - its construct path inside the stack, e.g. `OrderToCash-DeadLetterQueue`
   */
  readonly name?: string;
}

/** Options of `watchQueue`. */
export interface WatchQueueOptions extends WatchOptions {
  /**
   * A dead-letter queue: any message in it is an alarm, and so is one close to expiring.
   * Otherwise a work queue: an old oldest message (a stuck consumer) is the alarm.
   * @default false
   */
  readonly isDeadLetter?: boolean;
  /** Work queue: the oldest message age that means the consumer is stuck. @default Duration.minutes(5) */
  readonly maxMessageAge?: Duration;
  /** Dead-letter queue: its retention; an alarm fires when a message reaches 75% of it. @default Duration.days(14) */
  readonly retentionPeriod?: Duration;
}

/** Options of `watchFunction`. */
export interface WatchFunctionOptions extends WatchOptions {
  /** Errors in 5 minutes that raise the alarm; raise it for functions that throw to be retried. @default 1 */
  readonly errorThreshold?: number;
  /** Throttled invocations in 5 minutes that raise the alarm. @default 1 */
  readonly throttleThreshold?: number;
}

/** Options of `watchApi`. */
export interface WatchApiOptions extends WatchOptions {
  /** 5xx responses in 5 minutes that raise the alarm. @default 1 */
  readonly serverErrorThreshold?: number;
}

/**
 * Where everything that fails is seen by a person: an encrypted SNS topic with email and
 * Slack (AWS Chatbot, or a notifier Lambda with its own dead-letter queue), and `watch…`
 * methods that create named alarms with both alarm and OK actions on the topic.
 */
export class HarmonyAlarms extends Construct {
  /** The alarm topic (KMS-encrypted, TLS only). */
  readonly topic: Topic;
  /** The AWS Chatbot channel, when `slackChannel` was given. */
  readonly slackChannelConfiguration?: SlackChannelConfiguration;
  /** The Lambda that posts alarms to the Slack webhook, when no `slackChannel` was given. */
  readonly notifier?: HarmonyFunction;
  /** Alarm notifications the notifier could not deliver (SNS delivery failures and failed invocations). */
  readonly notifierDeadLetterQueue?: Queue;
  /** The secret the notifier reads the Slack webhook URL from, when it exists. */
  readonly slackWebhookSecret?: ISecret;

  private readonly alarmNamePrefix: string;
  private readonly created: Alarm[] = [];
  private readonly watchedNames = new Set<string>();

  constructor(scope: Construct, id: string, props: HarmonyAlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.alarmNamePrefix = props.alarmNamePrefix ?? stack.stackName;
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(this.alarmNamePrefix)) {
      throw new Error(`HarmonyAlarms ${id}: alarmNamePrefix "${this.alarmNamePrefix}" must be 1–100 of A-Za-z0-9_-`);
    }

    this.topic = new Topic(this, 'Topic', {
      displayName: `Harmony alarms (${stack.stackName})`,
      masterKey: props.key,
      enforceSSL: true,
    });
    // Only this account's CloudWatch alarms may publish.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccountPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );

    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    if (props.slackChannel !== undefined) {
      this.slackChannelConfiguration = new SlackChannelConfiguration(this, 'SlackChannel', {
        slackChannelConfigurationName: `${stack.stackName}-alarms`.slice(0, 128),
        slackWorkspaceId: props.slackChannel.workspaceId,
        slackChannelId: props.slackChannel.channelId,
        notificationTopics: [this.topic],
        // The channel only receives notifications: whatever a channel member could ever do through
        // Chatbot is capped at reading CloudWatch (the default guardrail would be AdministratorAccess).
        guardrailPolicies: [ManagedPolicy.fromAwsManagedPolicyName('CloudWatchReadOnlyAccess')],
      });
    } else {
      const secret =
        props.slackWebhookSecret ??
        new Secret(this, 'SlackWebhookSecret', {
          description: 'Harmony alarm notifications. Put JSON {"webhookUrl":"https://hooks.slack.com/services/..."}',
          encryptionKey: props.key,
        });
      if (props.slackWebhookSecret === undefined) acknowledgeVendorIssuedSecret(secret);
      this.slackWebhookSecret = secret;

      this.notifierDeadLetterQueue = new Queue(this, 'NotifierDeadLetterQueue', {
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: props.key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(this.notifierDeadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself a dead-letter queue: the SNS subscription redrive policy and the notifier ' +
          "Lambda's on-failure destination send to it (cdk-nag only recognizes queue-to-queue redrive).",
      });

      this.notifier = new HarmonyFunction(this, 'SlackNotifier', {
        entry: NOTIFY_SLACK_ENTRY,
        description: 'Posts Harmony alarm notifications to the Slack incoming webhook',
        timeout: Duration.seconds(15),
        logKey: props.key,
        serviceName: 'notify-slack',
        environment: { SLACK_WEBHOOK_SECRET_ARN: secret.secretArn },
      });
      secret.grantRead(this.notifier);
      this.notifier.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        onFailure: new SqsDestination(this.notifierDeadLetterQueue),
      });
      this.topic.addSubscription(
        new LambdaSubscription(this.notifier, { deadLetterQueue: this.notifierDeadLetterQueue }),
      );
      acknowledgeHarmonyFunctionBaseline(this.notifier);
      acknowledgeKeyGrantActions(this.notifier);

      this.watchQueue(this.notifierDeadLetterQueue, { isDeadLetter: true, name: 'slack-notifier-dlq' });
      this.watchFunction(this.notifier, { name: 'slack-notifier' });
    }
  }

  /** Every alarm created so far. */
  get alarms(): readonly Alarm[] {
    return [...this.created];
  }

  /**
   * Watches a queue. A dead-letter queue alarms on any visible message and on a message at 75%
   * of its retention (about to be lost); a work queue alarms when its oldest message is older
   * than `maxMessageAge` in 3 of 5 minutes.
   */
  watchQueue(queue: IQueue, options: WatchQueueOptions = {}): Alarm[] {
    const name = this.claimName(queue, options);
    if (options.isDeadLetter === true) {
      const retention = options.retentionPeriod ?? Duration.days(14);
      return [
        this.alarm(`${name}-messages`, {
          description: `Messages in dead-letter queue ${name}: they failed processing and need a person (inspect, fix, redrive).`,
          metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
          threshold: 1,
          evaluationPeriods: 1,
        }),
        this.alarm(`${name}-expiring`, {
          description: `A message in dead-letter queue ${name} is at 75% of its ${retention.toDays()}-day retention and will be lost unless redriven.`,
          metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
          threshold: Math.floor(retention.toSeconds() * 0.75),
          evaluationPeriods: 1,
        }),
      ];
    }
    const maxAge = options.maxMessageAge ?? Duration.minutes(5);
    return [
      this.alarm(`${name}-oldest-message`, {
        description: `The oldest message in queue ${name} is older than ${maxAge.toHumanString()}: its consumer is stuck or too slow.`,
        metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: maxAge.toSeconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      }),
    ];
  }

  /** Watches a state machine: any execution that failed, timed out or was aborted raises an alarm. */
  watchStateMachine(stateMachine: IStateMachine, options: WatchOptions = {}): Alarm[] {
    const name = this.claimName(stateMachine, options);
    const period = Duration.minutes(1);
    return [
      this.alarm(`${name}-executions-failed`, {
        description: `Executions of ${name} failed (after compensating, if the saga could). See the execution history and the audit log.`,
        metric: stateMachine.metricFailed({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
      }),
      this.alarm(`${name}-executions-timed-out`, {
        description: `Executions of ${name} timed out: a step hung past the execution timeout; compensation did not run.`,
        metric: stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
      }),
      this.alarm(`${name}-executions-aborted`, {
        description: `Executions of ${name} were aborted (stopped by hand or by a deployment); compensation did not run.`,
        metric: stateMachine.metricAborted({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
      }),
    ];
  }

  /** Watches a Lambda function's errors and throttles over 5 minutes. */
  watchFunction(fn: IFunction, options: WatchFunctionOptions = {}): Alarm[] {
    const name = this.claimName(fn, options);
    const errors = positiveInteger(this, 'errorThreshold', options.errorThreshold ?? 1);
    const throttles = positiveInteger(this, 'throttleThreshold', options.throttleThreshold ?? 1);
    const period = Duration.minutes(5);
    return [
      this.alarm(`${name}-errors`, {
        description: `Function ${name} failed ${errors} or more times in 5 minutes. See its log group.`,
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        threshold: errors,
        evaluationPeriods: 1,
      }),
      this.alarm(`${name}-throttles`, {
        description: `Function ${name} was throttled ${throttles} or more times in 5 minutes: concurrency is exhausted.`,
        metric: fn.metricThrottles({ period, statistic: 'Sum' }),
        threshold: throttles,
        evaluationPeriods: 1,
      }),
    ];
  }

  /** Watches a REST API's 5xx responses over 5 minutes (vendors retry them, but a person should know). */
  watchApi(api: RestApiBase, options: WatchApiOptions = {}): Alarm[] {
    const name = this.claimName(api, options);
    const threshold = positiveInteger(this, 'serverErrorThreshold', options.serverErrorThreshold ?? 1);
    return [
      this.alarm(`${name}-5xx`, {
        description: `API ${name} answered ${threshold} or more 5xx in 5 minutes: webhooks are not being accepted.`,
        metric: api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold,
        evaluationPeriods: 1,
      }),
    ];
  }

  private alarm(
    name: string,
    spec: {
      readonly description: string;
      readonly metric: IMetric;
      readonly threshold: number;
      readonly evaluationPeriods: number;
      readonly datapointsToAlarm?: number;
    },
  ): Alarm {
    const alarm = new Alarm(this, name, {
      alarmName: `${this.alarmNamePrefix}-${name}`,
      alarmDescription: spec.description,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods,
      // These services publish only when something happens: no data means nothing went wrong.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.created.push(alarm);
    return alarm;
  }

  private claimName(watched: IConstruct, options: WatchOptions): string {
    const name = options.name ?? pathInStack(watched);
    if (!/^[A-Za-z0-9_-]{1,120}$/.test(name)) {
      throw new Error(`HarmonyAlarms: name "${name}" must be 1–120 of A-Za-z0-9_-`);
    }
    if (this.watchedNames.has(name)) {
      throw new Error(`HarmonyAlarms: "${name}" is already watched; give each watched resource its own name`);
    }
    this.watchedNames.add(name);
    return name;
  }
}

/** `Harmony/OrderToCash/DeadLetterQueue` → `OrderToCash-DeadLetterQueue`. */
function pathInStack(construct: IConstruct): string {
  const stackPath = Stack.of(construct).node.path;
  return construct.node.path
    .slice(stackPath.length)
    .split('/')
    .filter((part) => part !== '')
    .map((part) => part.replace(/[^A-Za-z0-9_-]/g, ''))
    .join('-');
}

function positiveInteger(scope: IConstruct, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${scope.node.path}: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
