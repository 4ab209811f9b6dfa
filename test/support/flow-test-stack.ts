/**
 * A small CDK app holding one FlowPipeline with the stores it needs, so construct and
 * ASL tests do not depend on the full Harmony stack. Bundling is skipped.
 */
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import cdkNag from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { FlowDefinition, TriggerSettings } from '../../functions/core/flow.ts';
import { orderToCash } from '../../flows/order-to-cash.ts';
import { FlowPipeline, type FlowPipelineProps } from '../../lib/constructs/flow-pipeline.ts';
import type { CloudFormationTemplate } from '../../local/template/load-template.ts';

/** Trigger settings the test app deploys with. */
export const TEST_TRIGGER_SETTINGS: TriggerSettings = { wonDealStages: ['closedwon', 'contractsigned'], crm: 'hubspot' };

/** What the test app gives back. */
export interface FlowTestApp {
  readonly stack: Stack;
  readonly pipeline: FlowPipeline;
  /** The synthesized template as JSON. */
  readonly template: CloudFormationTemplate;
}

/** Options of the test app. */
export interface FlowTestAppOptions {
  /** @default orderToCash */
  readonly flow?: FlowDefinition<any>;
  /** Extra pipeline props (tuning) on top of the defaults here. */
  readonly pipeline?: Partial<Omit<FlowPipelineProps, 'flow' | 'bus' | 'idempotencyTable' | 'auditTable' | 'encryptionKey'>>;
  /** Runs cdk-nag's AwsSolutions pack during synth; findings become stack annotations. @default false */
  readonly nag?: boolean;
}

/** Synthesizes a stack with a bus, two tables, a key, a secret and one FlowPipeline. */
export function synthFlowTestApp(options: FlowTestAppOptions = {}): FlowTestApp {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  if (options.nag === true) Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app));
  const stack = new Stack(app, 'FlowTest', { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new Key(stack, 'Key', { enableKeyRotation: true, description: 'Harmony test key' });
  // What the pipeline expects of the key policy (Harmony's DataKey has the same): CloudWatch Logs may
  // encrypt this account's log groups with it.
  key.addToResourcePolicy(
    new PolicyStatement({
      principals: [new ServicePrincipal('logs.eu-west-1.amazonaws.com')],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:111111111111:log-group:*' } },
    }),
  );
  const bus = new EventBus(stack, 'Bus', { eventBusName: 'harmony-test' });
  const table = (id: string): Table =>
    new Table(stack, id, {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
  const secret = new Secret(stack, 'ErpSecret', { encryptionKey: key, description: 'ERP API key (test)' });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: 'Test stand-in for a vendor API key, which the vendor rotates, not Secrets Manager.',
  });
  const pipeline = new FlowPipeline(stack, 'OrderToCash', {
    flow: options.flow ?? orderToCash,
    bus,
    triggerSettings: TEST_TRIGGER_SETTINGS,
    idempotencyTable: table('Idempotency'),
    auditTable: table('Audit'),
    encryptionKey: key,
    connectorEnvironment: { ERP_KIND: 'odoo', ERP_SECRET_ARN: secret.secretArn },
    connectorSecrets: [secret],
    ...options.pipeline,
  });
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as CloudFormationTemplate;
  return { stack, pipeline, template };
}

/** The template logical id of a construct's CloudFormation resource (its default child, or itself). */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  if (!CfnElement.isCfnElement(resource)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  const id: unknown = Stack.of(resource).resolve(resource.logicalId);
  if (typeof id !== 'string') throw new Error(`${construct.node.path}: logical id did not resolve`);
  return id;
}
