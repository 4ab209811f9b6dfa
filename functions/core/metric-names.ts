/**
 * Names of Harmony's CloudWatch metrics (namespace `Harmony`), shared by the
 * handlers that emit them and the dashboard and alarms that read them.
 */
export const METRICS_NAMESPACE = 'Harmony';

/** Metric names, each emitted with dimension `service` (the Powertools service name). */
export const MetricName = {
  /** Count of webhook events accepted and put on the bus. */
  WebhookEventsAccepted: 'WebhookEventsAccepted',
  /** Count of webhook requests rejected (4xx), with dimension `reason`. */
  WebhookRequestsRejected: 'WebhookRequestsRejected',
  /** Count of webhook events dropped as duplicates of an event already accepted. */
  WebhookEventsDuplicate: 'WebhookEventsDuplicate',
  /** Count of sagas started. */
  SagasStarted: 'SagasStarted',
  /** Count of ERP orders confirmed by order-to-cash. */
  OrdersConfirmed: 'OrdersConfirmed',
  /** Milliseconds from webhook accepted to ERP order confirmed. */
  WebhookToOrderLatency: 'WebhookToOrderLatency',
  /** Count of step attempts that failed, with dimension `step`. */
  StepAttemptsFailed: 'StepAttemptsFailed',
  /** Count of compensations run. */
  CompensationsRun: 'CompensationsRun',
} as const;
