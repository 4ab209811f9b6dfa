/**
 * Names what in the template the local hub does not emulate, and why, so that
 * nothing is ignored silently: the start-up report prints these lines.
 */
import type { CloudFormationTemplate } from './template/load-template.ts';

/** Resource types the hub runs or serves itself. */
const EMULATED = new Set([
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::SQS::Queue',
  'AWS::DynamoDB::Table',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::Events::Archive',
  'AWS::StepFunctions::StateMachine',
  'AWS::CloudWatch::Alarm',
  'AWS::CDK::Metadata',
]);

/** What stands in for a cloud-only resource locally. */
const STAND_INS: Readonly<Record<string, string>> = {
  'AWS::ApiGateway::RestApi': 'the local ingress serves its routes (POST /webhooks/{source}) with the same handler',
  'AWS::ApiGateway::Resource': 'the local ingress serves its routes',
  'AWS::ApiGateway::Method': 'the local ingress serves its routes',
  'AWS::ApiGateway::Deployment': 'no deployments locally',
  'AWS::ApiGateway::Model': 'the ingest handler validates bodies itself (zod), as in the cloud',
  'AWS::ApiGateway::RequestValidator': 'the ingest handler validates bodies itself (zod), as in the cloud',
  'AWS::ApiGateway::Stage': 'no stage throttling locally',
  'AWS::ApiGateway::Account': 'no API Gateway account settings locally',
  'AWS::WAFv2::WebACL': 'no WAF rate limiting locally',
  'AWS::WAFv2::WebACLAssociation': 'no WAF rate limiting locally',
  'AWS::KMS::Key': 'no encryption at rest locally; state is plain files under the data directory',
  'AWS::KMS::Alias': 'no KMS locally',
  'AWS::IAM::Role': 'no IAM locally: every function runs with your permissions',
  'AWS::IAM::Policy': 'no IAM locally',
  'AWS::Logs::LogGroup': 'function logs go to the console',
  'AWS::SNS::Topic': 'alarm notifications go to the console and, with SLACK_WEBHOOK_URL, to Slack',
  'AWS::SNS::Subscription': 'alarm notifications go to the console and, with SLACK_WEBHOOK_URL, to Slack',
  'AWS::SNS::TopicPolicy': 'no resource policies locally',
  'AWS::SQS::QueuePolicy': 'no resource policies locally',
  'AWS::SecretsManager::Secret': 'connector secrets come from environment variables (HUBSPOT_ACCESS_TOKEN, ODOO_API_KEY…)',
  'AWS::CloudWatch::Dashboard': 'no dashboard locally',
  'AWS::Chatbot::SlackChannelConfiguration': 'set SLACK_WEBHOOK_URL for Slack alarms locally',
  'AWS::Lambda::Permission': 'no resource policies locally',
  'AWS::EventSchemas::Registry': 'the bus event schemas are in docs/events/ (npm run docs:api)',
  'AWS::EventSchemas::Schema': 'the bus event schemas are in docs/events/ (npm run docs:api)',
  'AWS::Lambda::EventInvokeConfig': 'asynchronous invocation settings are not emulated (alarms reach Slack directly)',
};

/** One line per resource type the hub does not emulate: type, count, what stands in for it. */
export function describeUnemulated(template: CloudFormationTemplate): string[] {
  const counts = new Map<string, number>();
  for (const resource of Object.values(template.Resources)) {
    if (EMULATED.has(resource.Type)) continue;
    counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, count]) => `${type} ×${count}: ${STAND_INS[type] ?? 'not emulated locally'}`);
}
