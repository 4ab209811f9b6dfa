import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_BY_CORRELATION_ID_INDEX, AUDIT_BY_ORDER_REF_INDEX } from '../../lib/constructs/stores.ts';
import { type CfnResourceJson, type HarmonySynth, synthHarmony } from '../support/synth.ts';

/** Resources of one type, by logical id. */
function resourcesOf(synth: HarmonySynth, type: string): [string, CfnResourceJson][] {
  return Object.entries(synth.json.Resources).filter(([, resource]) => resource.Type === type);
}

/** The CloudWatch Logs actions Step Functions logging requires on "*" (AWS's documented policy for vended logs). */
const VENDED_LOG_DELIVERY_ACTIONS = new Set([
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
]);

function onlyResource(synth: HarmonySynth, type: string): [string, CfnResourceJson] {
  const found = resourcesOf(synth, type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}

function asArray<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** The acknowledgements cdk-nag wrote on a resource (`writeSuppressionsToCloudFormation`). */
function acknowledgements(resource: CfnResourceJson): { id: string; reason: string }[] {
  return resource.Metadata?.cdk_nag?.rules_to_suppress ?? [];
}

describe('Harmony stack with default context', () => {
  let synth: HarmonySynth;
  beforeAll(() => {
    synth = synthHarmony();
  });

  it('has the hub bus and an archive of its events kept 30 days', () => {
    const [busId] = onlyResource(synth, 'AWS::Events::EventBus');
    synth.template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      RetentionDays: 30,
      EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
    });
  });

  it('encrypts with one customer managed key that rotates and lets CloudWatch Logs in only for log groups', () => {
    const [, key] = onlyResource(synth, 'AWS::KMS::Key');
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    const statements = key.Properties?.KeyPolicy.Statement as any[];
    const logs = statements.find((statement) => statement.Sid === 'CloudWatchLogsEncryptsThisAccountsLogGroups');
    expect(logs?.Condition?.ArnLike).toHaveProperty(['kms:EncryptionContext:aws:logs:arn']);
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'sns.amazonaws.com']) {
      expect(statements.some((statement) => statement.Principal?.Service === service), service).toBe(true);
    }
    expect(
      statements.filter((statement) => statement.Principal?.Service !== undefined && statement.Action === 'kms:*'),
    ).toEqual([]);
  });

  it('has the idempotency table: id key, expiration TTL, on demand, PITR, KMS, deletion protection', () => {
    const [keyId] = onlyResource(synth, 'AWS::KMS::Key');
    synth.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('has the audit table: businessKey/at keys, both indexes, expiresAt TTL, on demand, PITR, KMS', () => {
    const [keyId] = onlyResource(synth, 'AWS::KMS::Key');
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'businessKey', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: AUDIT_BY_CORRELATION_ID_INDEX,
          KeySchema: [
            { AttributeName: 'correlationId', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: AUDIT_BY_ORDER_REF_INDEX,
          KeySchema: [
            { AttributeName: 'erpOrderRef', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
        }),
      ]),
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'businessKey', AttributeType: 'S' },
        { AttributeName: 'at', AttributeType: 'S' },
        { AttributeName: 'correlationId', AttributeType: 'S' },
        { AttributeName: 'erpOrderRef', AttributeType: 'S' },
      ]),
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      DeletionProtectionEnabled: true,
    });
  });

  it('routes POST /webhooks/{source} to the ingest Lambda through a regional, traced, throttled, access-logged stage', () => {
    const [apiId, api] = onlyResource(synth, 'AWS::ApiGateway::RestApi');
    expect(api.Properties?.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    const [webhooksId] = resourcesOf(synth, 'AWS::ApiGateway::Resource').find(
      ([, resource]) => resource.Properties?.PathPart === 'webhooks',
    )!;
    const [sourceId] = resourcesOf(synth, 'AWS::ApiGateway::Resource').find(
      ([, resource]) =>
        resource.Properties?.PathPart === '{source}' && resource.Properties?.ParentId?.Ref === webhooksId,
    )!;
    const [ingestId] = resourcesOf(synth, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Metadata?.['harmony:entry'] === 'functions/handlers/ingest.ts',
    )!;
    synth.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ResourceId: { Ref: sourceId },
      RestApiId: { Ref: apiId },
      RequestValidatorId: Match.anyValue(),
      RequestParameters: { 'method.request.path.source': true },
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    const [, method] = onlyResource(synth, 'AWS::ApiGateway::Method');
    expect(JSON.stringify(method.Properties?.Integration?.Uri)).toContain(ingestId);
    synth.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestParameters: true,
      ValidateRequestBody: true,
    });

    const [, stage] = onlyResource(synth, 'AWS::ApiGateway::Stage');
    expect(stage.Properties?.TracingEnabled).toBe(true);
    expect(stage.Properties?.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
    ]);
    const destination = JSON.stringify(stage.Properties?.AccessLogSetting?.DestinationArn);
    const accessLogGroup = resourcesOf(synth, 'AWS::Logs::LogGroup').find(([id]) => destination.includes(`"${id}"`));
    expect(accessLogGroup, 'access log destination is a log group of this stack').toBeDefined();
    expect(accessLogGroup![1].Properties?.KmsKeyId).toBeDefined();
    expect(accessLogGroup![1].Properties?.RetentionInDays).toBeGreaterThan(0);
    expect(JSON.parse(stage.Properties?.AccessLogSetting?.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
    });
  });

  it('puts a WAF web ACL with a per-IP rate limit and the AWS common rule set in front of the stage', () => {
    const [aclId, acl] = onlyResource(synth, 'AWS::WAFv2::WebACL');
    const [stageId] = onlyResource(synth, 'AWS::ApiGateway::Stage');
    expect(acl.Properties?.Scope).toBe('REGIONAL');
    const rules = acl.Properties?.Rules as any[];
    expect(rules).toContainEqual(
      expect.objectContaining({
        Action: { Block: {} },
        Statement: { RateBasedStatement: expect.objectContaining({ Limit: 1000, AggregateKeyType: 'IP' }) },
      }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({
        Statement: {
          ManagedRuleGroupStatement: expect.objectContaining({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }),
        },
      }),
    );
    const [, association] = onlyResource(synth, 'AWS::WAFv2::WebACLAssociation');
    expect(association.Properties?.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(JSON.stringify(association.Properties?.ResourceArn)).toContain(`{"Ref":"${stageId}"}`);
  });

  it('encrypts the alarm topic, refuses plain HTTP, and subscribes no email without alarmEmail', () => {
    const [topicId, topic] = onlyResource(synth, 'AWS::SNS::Topic');
    expect(topic.Properties?.KmsMasterKeyId).toBeDefined();
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    synth.template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'email' }, 0);
  });

  it('without Chatbot ids, posts alarms to Slack through the notifier Lambda, its secret and an encrypted DLQ', () => {
    synth.template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    const [notifierId, notifier] = resourcesOf(synth, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Metadata?.['harmony:entry'] === 'functions/handlers/notify-slack.ts',
    )!;
    const secretRef = notifier.Properties?.Environment?.Variables?.SLACK_WEBHOOK_SECRET_ARN;
    expect(secretRef?.Ref, 'SLACK_WEBHOOK_SECRET_ARN names a secret of this stack').toBeDefined();
    expect(synth.json.Resources[secretRef.Ref]?.Type).toBe('AWS::SecretsManager::Secret');
    const [topicId] = onlyResource(synth, 'AWS::SNS::Topic');
    const subscription = resourcesOf(synth, 'AWS::SNS::Subscription').find(
      ([, resource]) => resource.Properties?.Protocol === 'lambda',
    )!;
    const dlqId: string = subscription[1].Properties?.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0];
    const dlq = synth.json.Resources[dlqId]!;
    expect(dlq.Type).toBe('AWS::SQS::Queue');
    expect(dlq.Properties?.KmsMasterKeyId).toBeDefined();
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [notifierId, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    });
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: notifierId },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
  });

  it('runs every Lambda on nodejs24.x arm64 with a retained-for-a-while log group and its harmony:entry', () => {
    const functions = resourcesOf(synth, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(2);
    for (const [id, fn] of functions) {
      expect(fn.Properties?.Runtime, id).toBe('nodejs24.x');
      expect(fn.Properties?.Architectures, id).toEqual(['arm64']);
      expect(fn.Metadata?.['harmony:entry'], id).toMatch(/^functions\/handlers\/[a-z0-9-]+\.ts$/);
      const logGroupRef = fn.Properties?.LoggingConfig?.LogGroup?.Ref as string | undefined;
      expect(logGroupRef, `${id} has its own log group`).toBeDefined();
      const logGroup = synth.json.Resources[logGroupRef!];
      expect(logGroup?.Type, id).toBe('AWS::Logs::LogGroup');
      expect(logGroup?.Properties?.RetentionInDays, id).toBeGreaterThan(0);
      expect(logGroup?.Properties?.KmsKeyId, `${id} logs are encrypted`).toBeDefined();
    }
  });

  it('sends every alarm and its return to OK to the alarm topic, treating missing data as fine', () => {
    const [topicId] = onlyResource(synth, 'AWS::SNS::Topic');
    const alarms = resourcesOf(synth, 'AWS::CloudWatch::Alarm');
    const names = alarms.map(([, alarm]) => alarm.Properties?.AlarmName);
    expect(names).toEqual(
      expect.arrayContaining([
        'Harmony-webhook-api-5xx',
        'Harmony-ingest-errors',
        'Harmony-ingest-throttles',
        'Harmony-slack-notifier-dlq-messages',
        'Harmony-slack-notifier-errors',
      ]),
    );
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties?.OKActions, id).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties?.TreatMissingData, id).toBe('notBreaching');
    }
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Harmony-slack-notifier-dlq-messages',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('has a dashboard with orders, webhook-to-order latency p50/p99, errors and queue depths', () => {
    const [, dashboard] = onlyResource(synth, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);
    for (const expected of [
      'OrdersConfirmed',
      'WebhookToOrderLatency',
      "'p50'",
      "'p99'",
      'StepAttemptsFailed',
      '5XXError',
      'ApproximateNumberOfMessagesVisible',
    ]) {
      expect(body, expected).toContain(expected);
    }
  });

  it('grants no IAM action "*", and Resource "*" only to X-Ray and Step Functions log delivery, each acknowledged with a reason', () => {
    const policies = [...resourcesOf(synth, 'AWS::IAM::Policy'), ...resourcesOf(synth, 'AWS::IAM::ManagedPolicy')];
    const roles = resourcesOf(synth, 'AWS::IAM::Role');
    expect(policies.length).toBeGreaterThan(0);
    const documents: [string, CfnResourceJson, any][] = [
      ...policies.map(([id, policy]): [string, CfnResourceJson, any] => [id, policy, policy.Properties?.PolicyDocument]),
      ...roles.flatMap(([id, role]) =>
        asArray<any>(role.Properties?.Policies).map((inline): [string, CfnResourceJson, any] => [id, role, inline.PolicyDocument]),
      ),
    ];
    for (const [id, resource, document] of documents) {
      for (const statement of asArray<any>(document?.Statement)) {
        if (statement.Effect !== 'Allow') continue;
        const actions = asArray<string>(statement.Action);
        expect(actions, `${id} allows every action`).not.toContain('*');
        if (!asArray<unknown>(statement.Resource).includes('*')) continue;
        // Neither X-Ray nor CloudWatch Logs' vended log delivery (which Step Functions logging
        // needs) supports resource-level permissions; nothing else may have Resource "*".
        expect(
          actions.every((action) => action.startsWith('xray:') || VENDED_LOG_DELIVERY_ACTIONS.has(action)),
          `${id}: Resource "*" on ${actions.join(', ')}`,
        ).toBe(true);
        const acknowledged = acknowledgements(resource).find((ack) => ack.id === 'AwsSolutions-IAM5[Resource::*]');
        expect(acknowledged?.reason ?? '', `${id}: Resource "*" without an acknowledged reason`).toMatch(/X-Ray/);
        if (actions.some((action) => action.startsWith('logs:'))) {
          expect(acknowledged?.reason ?? '', `${id}: log delivery on "*" without its reason`).toMatch(/deliver/i);
        }
      }
    }
  });

  it('leaves no cdk-nag finding unacknowledged, and every acknowledgement gives a reason', () => {
    expect(synth.nagErrors).toEqual([]);
    expect(synth.nagWarnings).toEqual([]);
    for (const [id, resource] of Object.entries(synth.json.Resources)) {
      for (const ack of acknowledgements(resource)) {
        expect(ack.reason.length, `${id} ${ack.id}`).toBeGreaterThan(40);
      }
    }
  });

  it('wires an order-to-cash pipeline: won-deal rule → queue with DLQ → starter → saga, each failure path alarmed', () => {
    const rules = resourcesOf(synth, 'AWS::Events::Rule');
    const rule = rules.find(([, resource]) => JSON.stringify(resource.Properties?.EventPattern ?? {}).includes('Deal Stage Changed'));
    expect(rule, 'a rule on Deal Stage Changed').toBeDefined();
    expect(rule![1].Properties?.EventPattern?.detail?.stage).toEqual(['closedwon']);
    const queueId: string = rule![1].Properties?.Targets?.[0]?.Arn?.['Fn::GetAtt']?.[0];
    const queue = synth.json.Resources[queueId]!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    const dlqId: string = queue.Properties?.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0];
    expect(synth.json.Resources[dlqId]?.Type).toBe('AWS::SQS::Queue');
    const mapping = resourcesOf(synth, 'AWS::Lambda::EventSourceMapping').find(
      ([, resource]) => resource.Properties?.EventSourceArn?.['Fn::GetAtt']?.[0] === queueId,
    );
    expect(mapping?.[1].Properties?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const starter = synth.json.Resources[mapping![1].Properties?.FunctionName?.Ref]!;
    expect(starter.Metadata?.['harmony:entry']).toBe('functions/handlers/start-execution.ts');
    const [machineId, machine] = onlyResource(synth, 'AWS::StepFunctions::StateMachine');
    expect(machine.Properties?.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    const definition = JSON.stringify(machine.Properties?.DefinitionString);
    for (const state of ['LoadDeal', 'UpsertCustomer', 'CreateSalesOrder', 'ConfirmSalesOrder', 'UpdateDealWithOrder', 'CancelSalesOrder', 'MarkDealSyncFailed']) {
      expect(definition, `state ${state}`).toContain(`\\"${state}\\"`);
    }
    expect(definition).toContain('Catch');
    const alarmed = (id: string) =>
      resourcesOf(synth, 'AWS::CloudWatch::Alarm').some(([, alarm]) => JSON.stringify(alarm.Properties?.Dimensions ?? alarm.Properties?.Metrics ?? []).includes(id));
    expect(alarmed(dlqId), 'the pipeline DLQ has an alarm').toBe(true);
    expect(alarmed(machineId), 'the state machine has an alarm').toBe(true);
  });

  it('exposes what flow pipelines need', () => {
    const { stack } = synth;
    expect(stack.triggerSettings).toEqual({ wonDealStages: ['closedwon'], crm: 'hubspot' });
    expect(Object.keys(stack.connectorEnvironment).sort()).toEqual(
      ['CRM_SYSTEM', 'ERP_SYSTEM', 'HUBSPOT_SECRET_ARN', 'ODOO_SECRET_ARN'].sort(),
    );
    expect(stack.connectorEnvironment.CRM_SYSTEM).toBe('hubspot');
    expect(stack.connectorEnvironment.ERP_SYSTEM).toBe('odoo');
    expect(stack.hubBus.bus).toBeDefined();
    expect(stack.stores.idempotencyTable).toBeDefined();
    expect(stack.stores.auditTable).toBeDefined();
    expect(stack.secrets.hubspot.secretArn).toBe(stack.connectorEnvironment.HUBSPOT_SECRET_ARN);
    expect(stack.secrets.odoo?.secretArn).toBe(stack.connectorEnvironment.ODOO_SECRET_ARN);
    expect(stack.connectorSecrets).toEqual([stack.secrets.hubspot, stack.secrets.odoo]);
  });
});

describe('Harmony stack with alarm email, Chatbot, Odoo and no deletion protection', () => {
  let synth: HarmonySynth;
  beforeAll(() => {
    synth = synthHarmony({
      alarmEmail: 'ops@example.com',
      slackWorkspaceId: 'T0123ABCD',
      slackChannelId: 'C0123ABCD',
      wonDealStages: 'closedwon, 123456',
      odooUrl: 'https://erp.example.com/',
      odooDb: 'production',
      odooUsername: 'harmony@example.com',
      hubspotBaseUrl: 'https://api.hubapi.com',
      deletionProtection: 'false',
      stackName: 'HarmonyStaging',
    });
  });

  it('subscribes the alarm email to the topic', () => {
    const [topicId] = onlyResource(synth, 'AWS::SNS::Topic');
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
  });

  it('sends alarms to Slack through AWS Chatbot, with no notifier Lambda', () => {
    const [topicId] = onlyResource(synth, 'AWS::SNS::Topic');
    synth.template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123ABCD',
      SlackChannelId: 'C0123ABCD',
      SnsTopicArns: [{ Ref: topicId }],
    });
    const [, chatbot] = onlyResource(synth, 'AWS::Chatbot::SlackChannelConfiguration');
    expect(JSON.stringify(chatbot.Properties?.GuardrailPolicies)).toContain('CloudWatchReadOnlyAccess');
    const entries = resourcesOf(synth, 'AWS::Lambda::Function').map(([, fn]) => fn.Metadata?.['harmony:entry']);
    expect(entries).not.toContain('functions/handlers/notify-slack.ts');
    expect(synth.nagErrors).toEqual([]);
    expect(synth.nagWarnings).toEqual([]);
  });

  it('reads deal stages from a comma string and Odoo settings into the connector environment', () => {
    const { stack } = synth;
    expect(stack.stackName).toBe('HarmonyStaging');
    expect(stack.triggerSettings.wonDealStages).toEqual(['closedwon', '123456']);
    expect(stack.connectorEnvironment).toMatchObject({
      ODOO_URL: 'https://erp.example.com',
      ODOO_DB: 'production',
      ODOO_USERNAME: 'harmony@example.com',
      HUBSPOT_BASE_URL: 'https://api.hubapi.com',
    });
  });

  it('lets throwaway stacks delete their tables', () => {
    const tables = resourcesOf(synth, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(2);
    for (const [id, table] of tables) {
      expect(table.Properties?.DeletionProtectionEnabled, id).toBe(false);
      expect(table.DeletionPolicy, id).toBe('Delete');
    }
  });
});

describe('Harmony stack with every opt-in inbound route switched on by context', () => {
  it('adds the Pipedrive and Standard Webhooks secrets, their routes and the callback route, and gives the ingest function their settings', () => {
    const synth = synthHarmony({
      pipedriveWebhooks: 'true',
      standardWebhooks: true,
      callbackJwksUrl: 'https://issuer.example.com/.well-known/jwks.json',
      callbackJwtIssuer: 'https://issuer.example.com/',
      callbackJwtAudience: 'harmony',
    });
    const resources = Object.values((synth.json as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }).Resources);
    const paths = resources.filter((resource) => resource.Type === 'AWS::ApiGateway::Resource').map((resource) => resource.Properties?.PathPart);
    expect(paths).toEqual(expect.arrayContaining(['webhooks', '{source}', 'standard', '{mapping}', 'callbacks', '{system}']));
    const secrets = (of: typeof resources) => of.filter((resource) => resource.Type === 'AWS::SecretsManager::Secret').length;
    const plain = Object.values((synthHarmony().json as { Resources: Record<string, { Type: string }> }).Resources);
    expect(secrets(resources)).toBe(secrets(plain as typeof resources) + 2);
    const variables = resources
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {})
      .find((candidate) => 'HUB_BUS_NAME' in candidate && 'HUBSPOT_SECRET_ARN' in candidate);
    expect(variables).toMatchObject({ CALLBACK_JWKS_URL: 'https://issuer.example.com/.well-known/jwks.json', CALLBACK_JWT_ISSUER: 'https://issuer.example.com/', CALLBACK_JWT_AUDIENCE: 'harmony' });
    expect(variables).toHaveProperty('PIPEDRIVE_SECRET_ARN');
    expect(variables).toHaveProperty('STANDARD_WEBHOOKS_SECRET_ARN');
  });

  it('switches on nothing new without those keys', () => {
    const resources = Object.values((synthHarmony().json as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }).Resources);
    expect(resources.filter((resource) => resource.Type === 'AWS::ApiGateway::Resource').map((resource) => resource.Properties?.PathPart).sort()).toEqual(['webhooks', '{source}'].sort());
  });
});

describe('connector settings from context', () => {
  it("passes crmSettings and erpSettings (object or JSON string) to the step runners, and only to them", () => {
    const synth = synthHarmony({
      crmSettings: '{"HUBSPOT_VAT_PROPERTY": "ust_id"}',
      erpSettings: { ODOO_URL: 'https://erp.example.com', ODOO_DB: 'prod', ODOO_USERNAME: 'api@example.com' },
    });
    expect(synth.stack.connectorEnvironment).toMatchObject({
      HUBSPOT_VAT_PROPERTY: 'ust_id',
      ODOO_URL: 'https://erp.example.com',
      ODOO_DB: 'prod',
      ODOO_USERNAME: 'api@example.com',
    });
    const environments = resourcesOf(synth, 'AWS::Lambda::Function').map(
      ([, fn]) => (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
    );
    const withSettings = environments.filter((variables) => variables.HUBSPOT_VAT_PROPERTY === 'ust_id');
    expect(withSettings.length).toBeGreaterThan(0);
    expect(withSettings.every((variables) => typeof variables.FLOW_NAME === 'string' && 'AUDIT_TABLE' in variables)).toBe(true);
    expect(environments.filter((variables) => 'HUB_BUS_NAME' in variables).every((variables) => !('ODOO_URL' in variables))).toBe(true);
  });
});

describe('another CRM and ERP by context alone', () => {
  let synth: HarmonySynth;
  beforeAll(() => {
    synth = synthHarmony({ crm: 'pipedrive', erp: 'netsuite', erpSettings: { NETSUITE_ACCOUNT_ID: '1234567_SB1', NETSUITE_AUTH: 'tba' } });
  });

  it("gives the step runners the chosen connectors, their settings and their own secrets' ARNs", () => {
    expect(synth.stack.connectorEnvironment).toMatchObject({ CRM_SYSTEM: 'pipedrive', ERP_SYSTEM: 'netsuite', NETSUITE_ACCOUNT_ID: '1234567_SB1', NETSUITE_AUTH: 'tba' });
    expect(Object.keys(synth.stack.connectorEnvironment)).toEqual(expect.arrayContaining(['PIPEDRIVE_SECRET_ARN', 'NETSUITE_SECRET_ARN']));
    expect(Object.keys(synth.stack.connectorEnvironment)).not.toContain('ODOO_SECRET_ARN');
    expect(synth.stack.secrets.odoo).toBeUndefined();
    expect(synth.stack.connectorSecrets).toEqual([synth.stack.secrets.crm, synth.stack.secrets.erp]);
    expect(Object.keys(synth.json.Outputs ?? {})).toEqual(expect.arrayContaining(['PipedriveSecretArn', 'OracleNetSuiteSecretArn']));
  });

  it('starts orders only from Pipedrive events, and opens the Pipedrive webhook route with its own secret', () => {
    expect(synth.stack.triggerSettings.crm).toBe('pipedrive');
    const secrets = resourcesOf(synth, 'AWS::SecretsManager::Secret').map(([, secret]) => String(secret.Properties?.Description));
    expect(secrets.some((description) => description.includes('Pipedrive webhooks'))).toBe(true);
    expect(secrets.some((description) => description.includes('Oracle NetSuite connector') && description.includes('"consumerKey"'))).toBe(true);
    expect(synth.nagErrors).toEqual([]);
  });

  it('names the setting a connector does not have', () => {
    expect(() => synthHarmony({ erp: 'netsuite', erpSettings: { NETSUITE_ACCOUNT: '1' } })).toThrow(/erpSettings\.NETSUITE_ACCOUNT: netsuite has no setting NETSUITE_ACCOUNT \(it has: NETSUITE_ACCOUNT_ID/);
  });
});

describe('an ERP that only answers when asked (file-drop)', () => {
  let synth: HarmonySynth;
  beforeAll(() => {
    synth = synthHarmony({ erp: 'file-drop', erpSettings: { FILE_DROP_URL: 'sftp://erp.example.com:22/harmony', FILE_DROP_ALLOWED_HOSTS: 'erp.example.com' } });
  });

  it('polls its statuses on a schedule, one poll at a time, with a rejected-records DLQ that alarms', () => {
    const pollers = resourcesOf(synth, 'AWS::Lambda::Function').filter(([, fn]) => fn.Metadata?.['harmony:entry'] === 'functions/handlers/poll-erp-statuses.ts');
    expect(pollers).toHaveLength(1);
    const [pollerId, poller] = pollers[0]!;
    expect(poller.Properties?.ReservedConcurrentExecutions).toBe(1);
    const variables = (poller.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({ ERP_SYSTEM: 'file-drop', FILE_DROP_URL: 'sftp://erp.example.com:22/harmony' });
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['REJECTED_QUEUE_URL', 'HUB_BUS_NAME', 'FILE_DROP_SECRET_ARN']));
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [pollerId, 'Arn'] } })]),
    });
    const rejectedQueueRef = (variables.REJECTED_QUEUE_URL as { Ref: string }).Ref;
    expect(synth.json.Resources[rejectedQueueRef]?.Properties?.KmsMasterKeyId).toBeDefined();
    const alarmedQueues = JSON.stringify(resourcesOf(synth, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties?.Dimensions));
    expect(alarmedQueues).toContain(rejectedQueueRef);
    expect(synth.nagErrors).toEqual([]);
    expect(synth.nagWarnings).toEqual([]);
  });

  it('is absent for ERPs that push their statuses', () => {
    const plain = synthHarmony();
    expect(resourcesOf(plain, 'AWS::Lambda::Function').filter(([, fn]) => fn.Metadata?.['harmony:entry'] === 'functions/handlers/poll-erp-statuses.ts')).toEqual([]);
  });
});

describe('invalid context', () => {
  it.each([
    [{ callbackJwksUrl: 'https://issuer.example.com/jwks' }, /callbackJwtIssuer: required together with callbackJwksUrl/],
    [{ callbackJwksUrl: 'http://issuer.example.com/jwks', callbackJwtIssuer: 'x', callbackJwtAudience: 'y' }, /callbackJwksUrl: expected an https URL/],
    [{ pipedriveWebhooks: 'sometimes' }, /pipedriveWebhooks: /],
    [{ wonDealStages: [] }, /wonDealStages: must name at least one deal stage/],
    [{ wonDealStages: '' }, /wonDealStages: must name at least one deal stage/],
    [{ wonDealStages: 'closedwon,,x' }, /wonDealStages\.1: /],
    [{ alarmEmail: 'not-an-email' }, /alarmEmail: expected an email address/],
    [{ slackWorkspaceId: 'T0123ABCD' }, /slackChannelId: required together with slackWorkspaceId/],
    [{ odooUrl: 'http://erp.example.com', odooDb: 'x', odooUsername: 'y' }, /odooUrl: must use https:\/\//],
    [{ odooUrl: 'https://erp.example.com' }, /odooDb: required together with odooUrl/],
    [{ crm: 'dynamics' }, /crm: expected one of: hubspot/],
    [{ erpSettings: { ODOO_URLL: 'https://erp.example.com' } }, /erpSettings\.ODOO_URLL: odoo has no setting ODOO_URLL \(it has: ODOO_URL, ODOO_DB, ODOO_USERNAME\)/],
    [{ erpSettings: { odoo_url: 'https://erp.example.com' } }, /erpSettings\.odoo_url: odoo has no setting odoo_url/],
    [{ crmSettings: '{"HUBSPOT_VAT_PROPERTY": ""}' }, /crmSettings\.HUBSPOT_VAT_PROPERTY: /],
    [{ erpSettings: 'not json' }, /erpSettings: expected an object of settings/],
    [{ stackName: '1-harmony' }, /stackName: /],
    [{ deletionProtection: 'maybe' }, /deletionProtection: /],
  ])('fails the synth for %j, naming the key', (context, message) => {
    expect(() => synthHarmony(context)).toThrow(message);
  });
});
