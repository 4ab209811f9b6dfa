import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { HarmonyAlarms } from '../../lib/constructs/alarms.ts';

function alarmsStack(): { stack: Stack; alarms: HarmonyAlarms } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'AlarmsTest');
  const alarms = new HarmonyAlarms(stack, 'Alarms', {
    key: new Key(stack, 'Key', { enableKeyRotation: true }),
    slackChannel: { workspaceId: 'T0123ABCD', channelId: 'C0123ABCD' },
  });
  return { stack, alarms };
}

describe('HarmonyAlarms.watch…', () => {
  it('alarms on any message in a dead-letter queue, and on one at 75% of its retention', () => {
    const { stack, alarms } = alarmsStack();
    const created = alarms.watchQueue(new Queue(stack, 'Dlq'), { isDeadLetter: true, name: 'order-to-cash-dlq' });
    const template = Template.fromStack(stack);

    expect(created).toHaveLength(2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AlarmsTest-order-to-cash-dlq-messages',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AlarmsTest-order-to-cash-dlq-expiring',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 14 * 24 * 3600 * 0.75,
    });
  });

  it('alarms when a work queue’s oldest message is older than the limit in 3 of 5 minutes', () => {
    const { stack, alarms } = alarmsStack();
    alarms.watchQueue(new Queue(stack, 'Work'), { maxMessageAge: Duration.minutes(2) });
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AlarmsTest-Work-oldest-message',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 120,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      AlarmActions: [Match.anyValue()],
      OKActions: [Match.anyValue()],
    });
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { MetricName: 'ApproximateNumberOfMessagesVisible' },
      0,
    );
  });

  it('alarms on failed, timed-out and aborted executions of a state machine', () => {
    const { stack, alarms } = alarmsStack();
    const stateMachine = new StateMachine(stack, 'Saga', { definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Noop')) });
    alarms.watchStateMachine(stateMachine, { name: 'order-to-cash' });
    const template = Template.fromStack(stack);

    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metricName,
        Statistic: 'Sum',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on a function’s errors and throttles with the thresholds given', () => {
    const { stack, alarms } = alarmsStack();
    const fn = LambdaFunction.fromFunctionName(stack, 'StepRunner', 'step-runner');
    alarms.watchFunction(fn, { name: 'step-runner', errorThreshold: 5 });
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AlarmsTest-step-runner-errors',
      MetricName: 'Errors',
      Threshold: 5,
      Period: 300,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AlarmsTest-step-runner-throttles',
      MetricName: 'Throttles',
      Threshold: 1,
    });
  });

  it('refuses to watch two things under one name, and thresholds below 1', () => {
    const { stack, alarms } = alarmsStack();
    alarms.watchQueue(new Queue(stack, 'A'), { name: 'same' });
    expect(() => alarms.watchQueue(new Queue(stack, 'B'), { name: 'same' })).toThrow(/"same" is already watched/);
    const fn = LambdaFunction.fromFunctionName(stack, 'Fn', 'fn');
    expect(() => alarms.watchFunction(fn, { errorThreshold: 0 })).toThrow(/errorThreshold must be a positive integer/);
  });
});
