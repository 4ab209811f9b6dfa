import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import {
  Dashboard,
  GraphWidget,
  type GraphWidgetProps,
  type IMetric,
  MathExpression,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, MetricName } from '../../functions/core/metric-names.ts';

/** Props of the operations dashboard. */
export interface HarmonyDashboardProps {
  /** @default the stack name */
  readonly dashboardName?: string;
}

/**
 * A graph that starts empty and is filled by `add…` calls (flow pipelines are added after the
 * dashboard exists); while empty it renders nothing, since CloudWatch rejects a graph without metrics.
 */
class GrowingGraph extends GraphWidget {
  private metricCount = 0;

  override addLeftMetric(metric: IMetric): void {
    this.metricCount += 1;
    super.addLeftMetric(metric);
  }

  override toJson(): any[] {
    return this.metricCount === 0 ? [] : super.toJson();
  }
}

/**
 * The one CloudWatch dashboard an operator opens: orders confirmed per minute, webhook-to-order
 * latency (p50/p99), webhook outcomes, errors (failed steps, Lambda errors, API 5xx), queue
 * depths and saga execution outcomes. Harmony's own metrics are found with SEARCH over the
 * `Harmony` namespace, so every service (Powertools `service` dimension) is included.
 */
export class HarmonyDashboard extends Construct {
  /** The CloudWatch dashboard. */
  readonly dashboard: Dashboard;

  private readonly errors: GraphWidget;
  private readonly queueDepths: GrowingGraph;
  private readonly executions: GrowingGraph;

  constructor(scope: Construct, id: string, props: HarmonyDashboardProps = {}) {
    super(scope, id);
    const dashboardName = props.dashboardName ?? Stack.of(this).stackName;
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(dashboardName)) {
      throw new Error(`HarmonyDashboard ${id}: dashboardName "${dashboardName}" must be 1–255 of A-Za-z0-9_-`);
    }
    const minute = Duration.minutes(1);
    const graph = (title: string, extra: Partial<GraphWidgetProps> = {}): GraphWidgetProps => ({
      title,
      width: 8,
      height: 6,
      period: minute,
      ...extra,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName, defaultInterval: Duration.hours(3) });
    this.errors = new GraphWidget(
      graph('Errors', {
        left: [harmonyTotal(MetricName.StepAttemptsFailed, ['service', 'step'], 'Step attempts failed')],
        right: [harmonyTotal(MetricName.CompensationsRun, ['service'], 'Compensations run')],
      }),
    );
    this.queueDepths = new GrowingGraph(graph('Queue depth (messages visible)'));
    this.executions = new GrowingGraph(graph('Saga executions'));

    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '## Harmony\nCRM deal won → ERP order. Orders and latency come from the `Harmony` metrics the flows emit; ' +
          'alarms go to the alarm topic.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget(
        graph('Orders confirmed per minute', {
          left: [harmonyTotal(MetricName.OrdersConfirmed, ['service'], 'Orders confirmed')],
          leftYAxis: { min: 0 },
        }),
      ),
      new GraphWidget(
        graph('Webhook → order latency (ms)', {
          left: [
            harmonySearch(MetricName.WebhookToOrderLatency, ['service'], 'p50', 'p50'),
            harmonySearch(MetricName.WebhookToOrderLatency, ['service'], 'p99', 'p99'),
          ],
          leftYAxis: { min: 0 },
        }),
      ),
      new GraphWidget(
        graph('Webhooks', {
          left: [
            harmonyTotal(MetricName.WebhookEventsAccepted, ['service'], 'Accepted'),
            harmonyTotal(MetricName.WebhookEventsDuplicate, ['service'], 'Duplicates'),
            harmonyTotal(MetricName.WebhookRequestsRejected, ['service', 'reason'], 'Rejected'),
          ],
        }),
      ),
    );
    this.dashboard.addWidgets(this.errors, this.queueDepths, this.executions);
  }

  /** Adds a queue's visible messages to "Queue depth". */
  addQueue(queue: IQueue, label: string): void {
    this.queueDepths.addLeftMetric(
      queue.metricApproximateNumberOfMessagesVisible({ label, period: Duration.minutes(1), statistic: 'Maximum' }),
    );
  }

  /** Adds a state machine's succeeded, failed, timed-out and aborted executions to "Saga executions". */
  addStateMachine(stateMachine: IStateMachine, label: string): void {
    const props = { period: Duration.minutes(1), statistic: 'Sum' };
    this.executions.addLeftMetric(stateMachine.metricSucceeded({ ...props, label: `${label} succeeded` }));
    this.executions.addLeftMetric(stateMachine.metricFailed({ ...props, label: `${label} failed` }));
    this.executions.addLeftMetric(stateMachine.metricTimedOut({ ...props, label: `${label} timed out` }));
    this.executions.addLeftMetric(stateMachine.metricAborted({ ...props, label: `${label} aborted` }));
  }

  /** Adds a Lambda function's errors to "Errors". */
  addFunction(fn: IFunction, label: string): void {
    this.errors.addLeftMetric(fn.metricErrors({ label: `${label} errors`, period: Duration.minutes(1), statistic: 'Sum' }));
  }

  /** Adds a REST API's 5xx responses to "Errors". */
  addApi(api: RestApiBase, label: string): void {
    this.errors.addLeftMetric(api.metricServerError({ label: `${label} 5xx`, period: Duration.minutes(1), statistic: 'Sum' }));
  }
}

/** One series per dimension set, e.g. per service, of a Harmony metric. */
function harmonySearch(metricName: string, dimensions: readonly string[], statistic: string, label: string): MathExpression {
  return new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${dimensions.join(',')}} MetricName="${metricName}"', '${statistic}', 60)`,
    usingMetrics: {},
    label,
    period: Duration.minutes(1),
  });
}

/** A Harmony count metric summed over every service (and other dimensions). */
function harmonyTotal(metricName: string, dimensions: readonly string[], label: string): MathExpression {
  return new MathExpression({
    expression: `SUM(SEARCH('{${METRICS_NAMESPACE},${dimensions.join(',')}} MetricName="${metricName}"', 'Sum', 60))`,
    usingMetrics: {},
    label,
    period: Duration.minutes(1),
  });
}
