import { describe, expect, it } from 'vitest';
import type { CloudFormationTemplate } from '../../local/template/load-template.ts';
import { parseTemplate } from '../../local/template/load-template.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { stateMachinesOf } from '../../local/template/state-machines.ts';

const ENVIRONMENT = { region: 'us-east-1', accountId: '000000000000' } as const;

const template: CloudFormationTemplate = {
  Parameters: {
    BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' },
    Stage: { Type: 'String', Default: 'dev' },
    NoDefault: { Type: 'String' },
  },
  Conditions: {
    IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    IsNotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
  },
  Resources: {
    Runner1234: { Type: 'AWS::Lambda::Function', Properties: {} },
    Named: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: { 'Fn::Sub': 'harmony-${AWS::Region}-named' } } },
    Queue1: { Type: 'AWS::SQS::Queue', Properties: {} },
    Table1: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'audit' } },
    Bus1: { Type: 'AWS::Events::EventBus', Properties: { Name: 'harmony-hub' } },
    Rule1: { Type: 'AWS::Events::Rule', Properties: { EventBusName: { Ref: 'Bus1' } } },
    Machine1: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'order-to-cash' } },
    Secret1: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    Key1: { Type: 'AWS::KMS::Key', Properties: {} },
    Role1: { Type: 'AWS::IAM::Role', Properties: {} },
    Selfish: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::GetAtt': ['Selfish', 'QueueName'] } } },
  },
};

describe('TemplateResolver', () => {
  const resolver = new TemplateResolver(template, ENVIRONMENT);

  it('resolves pseudo parameters to the local environment', () => {
    expect(
      resolver.resolve({
        region: { Ref: 'AWS::Region' },
        account: { Ref: 'AWS::AccountId' },
        partition: { Ref: 'AWS::Partition' },
        suffix: { Ref: 'AWS::URLSuffix' },
        stack: { Ref: 'AWS::StackName' },
      }),
    ).toEqual({ region: 'us-east-1', account: '000000000000', partition: 'aws', suffix: 'amazonaws.com', stack: 'harmony-local' });
  });

  it('drops AWS::NoValue from objects and arrays', () => {
    expect(resolver.resolve({ keep: 1, drop: { Ref: 'AWS::NoValue' }, list: ['a', { Ref: 'AWS::NoValue' }, 'b'] })).toEqual({
      keep: 1,
      list: ['a', 'b'],
    });
  });

  it('names a resource by its logical id unless the template names it', () => {
    expect(resolver.resolve({ Ref: 'Runner1234' })).toBe('Runner1234');
    expect(resolver.resolve({ Ref: 'Named' })).toBe('harmony-us-east-1-named');
    expect(resolver.resolve({ Ref: 'Table1' })).toBe('audit');
  });

  it('gives each type the Ref and attributes AWS documents, from the local name', () => {
    expect(resolver.resolve({ 'Fn::GetAtt': ['Runner1234', 'Arn'] })).toBe('arn:aws:lambda:us-east-1:000000000000:function:Runner1234');
    expect(resolver.resolve({ 'Fn::GetAtt': 'Named.Arn' })).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:harmony-us-east-1-named',
    );
    expect(resolver.resolve({ Ref: 'Queue1' })).toBe('https://sqs.us-east-1.amazonaws.com/000000000000/Queue1');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Queue1', 'Arn'] })).toBe('arn:aws:sqs:us-east-1:000000000000:Queue1');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Queue1', 'QueueName'] })).toBe('Queue1');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Table1', 'Arn'] })).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/audit');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Bus1', 'Arn'] })).toBe('arn:aws:events:us-east-1:000000000000:event-bus/harmony-hub');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Rule1', 'Arn'] })).toBe('arn:aws:events:us-east-1:000000000000:rule/harmony-hub/Rule1');
    expect(resolver.resolve({ Ref: 'Machine1' })).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:order-to-cash');
    expect(resolver.resolve({ Ref: 'Secret1' })).toBe('arn:aws:secretsmanager:us-east-1:000000000000:secret:Secret1');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Key1', 'Arn'] })).toBe('arn:aws:kms:us-east-1:000000000000:key/Key1');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Role1', 'Arn'] })).toBe('arn:aws:iam::000000000000:role/Role1');
  });

  it('builds queue URLs on the configured SQS endpoint', () => {
    const local = new TemplateResolver(template, { ...ENVIRONMENT, sqsEndpoint: 'http://127.0.0.1:4566/' });
    expect(local.resolve({ Ref: 'Queue1' })).toBe('http://127.0.0.1:4566/000000000000/Queue1');
  });

  it('joins, substitutes, selects and splits', () => {
    expect(resolver.resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::bucket']] })).toBe('arn:aws:s3:::bucket');
    const sub = {
      'Fn::Sub': [
        'queue ${Queue1} in ${AWS::Region}, fn ${Runner1234.Arn}, literal ${!Kept}, var ${Greeting}',
        { Greeting: { Ref: 'Stage' } },
      ],
    };
    expect(resolver.resolve(sub)).toBe(
      'queue https://sqs.us-east-1.amazonaws.com/000000000000/Queue1 in us-east-1, ' +
        'fn arn:aws:lambda:us-east-1:000000000000:function:Runner1234, literal ${Kept}, var dev',
    );
    expect(
      resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['|', { 'Fn::Join': ['|', ['a', { Ref: 'Table1' }, 'c']] }] }] }),
    ).toBe('audit');
  });

  it('takes parameters from the environment, else their Default, and refuses a parameter with neither', () => {
    expect(resolver.resolve({ Ref: 'Stage' })).toBe('dev');
    expect(new TemplateResolver(template, { ...ENVIRONMENT, parameters: { Stage: 'prod' } }).resolve({ Ref: 'Stage' })).toBe('prod');
    expect(() => resolver.resolve({ Ref: 'NoDefault' })).toThrow(/NoDefault: no value given and no Default/);
  });

  it('evaluates conditions for Fn::If', () => {
    const choose = { 'Fn::If': ['IsNotProd', 'small', 'large'] };
    expect(resolver.resolve(choose)).toBe('small');
    expect(new TemplateResolver(template, { ...ENVIRONMENT, parameters: { Stage: 'prod' } }).resolve(choose)).toBe('large');
  });

  it('names what it cannot resolve', () => {
    expect(() => resolver.resolve({ Ref: 'Missing' })).toThrow(/Ref Missing: no such resource/);
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Runner1234', 'SnapStartResponse'] })).toThrow(
      /Runner1234.SnapStartResponse: attribute of AWS::Lambda::Function not supported locally/,
    );
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'shared-bus' })).toThrow(/Fn::ImportValue is not supported locally/);
    expect(() => resolver.resolve({ Ref: 'Selfish' })).toThrow(/Selfish: its name depends on itself/);
  });

  it('leaves objects that only look like intrinsics alone', () => {
    const statement = { Effect: 'Allow', Condition: { StringEquals: { 'aws:SourceAccount': '1' } } };
    expect(resolver.resolve(statement)).toEqual(statement);
  });

  it('finds the resource behind an ARN, URL or name, with or without a Lambda qualifier', () => {
    expect(resolver.logicalIdOf('arn:aws:lambda:us-east-1:000000000000:function:Runner1234')).toBe('Runner1234');
    expect(resolver.logicalIdOf('arn:aws:lambda:us-east-1:000000000000:function:Runner1234:$LATEST')).toBe('Runner1234');
    expect(resolver.logicalIdOf('https://sqs.us-east-1.amazonaws.com/000000000000/Queue1')).toBe('Queue1');
    expect(resolver.logicalIdOf('arn:aws:states:us-east-1:000000000000:stateMachine:order-to-cash')).toBe('Machine1');
    expect(resolver.logicalIdOf('arn:aws:lambda:us-east-1:000000000000:function:Elsewhere')).toBeUndefined();
  });

  it('refuses an environment that is not one', () => {
    expect(() => new TemplateResolver(template, { region: 'us-east-1', accountId: '42' })).toThrow(/twelve digits/);
    expect(() => new TemplateResolver(template, { region: 'local', accountId: '000000000000' })).toThrow(/region "local"/);
  });
});

describe('stateMachinesOf', () => {
  const definitionParts = [
    '{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"',
    { 'Fn::GetAtt': ['Runner1234', 'Arn'] },
    '","Next":"Invoke"},"Invoke":{"Type":"Task","Resource":"arn:',
    { Ref: 'AWS::Partition' },
    ':states:::lambda:invoke","Parameters":{"FunctionName":"',
    { 'Fn::GetAtt': ['Named', 'Arn'] },
    '","Payload.$":"$"},"Next":"Fan"},"Fan":{"Type":"Parallel","Branches":[{"StartAt":"Report","States":{"Report":',
    '{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"',
    { Ref: 'Queue1' },
    '","MessageBody.$":"$"},"End":true}}}],"Next":"Other"},"Other":{"Type":"Task",',
    '"Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"${TableName}"},"End":true}},',
    '"TimeoutSeconds":60}',
  ];
  const { Machine1: _withoutDefinition, ...resources } = template.Resources;
  const withMachine: CloudFormationTemplate = {
    ...template,
    Resources: {
      ...resources,
      Saga: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: { 'Fn::Join': ['', definitionParts] },
          DefinitionSubstitutions: { TableName: { Ref: 'Table1' } },
        },
      },
    },
  };

  it('renders the ASL with intrinsics and substitutions resolved and maps each Task to its resource', () => {
    const machines = stateMachinesOf(new TemplateResolver(withMachine, ENVIRONMENT));
    const saga = machines.find((machine) => machine.logicalId === 'Saga');
    expect(saga?.arn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:Saga');
    expect(saga?.definition.StartAt).toBe('Call');
    expect(saga?.definition.States.Call).toMatchObject({
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Runner1234',
    });
    expect(saga?.definition.States.Other).toMatchObject({ Parameters: { TableName: 'audit' } });
    expect(saga?.tasks).toEqual({
      Call: { kind: 'lambda', functionLogicalId: 'Runner1234', integration: 'function-arn' },
      Invoke: { kind: 'lambda', functionLogicalId: 'Named', integration: 'lambda:invoke' },
      Report: {
        kind: 'sqs:sendMessage',
        queueLogicalId: 'Queue1',
        queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/Queue1',
      },
      Other: { kind: 'unmapped', resource: 'arn:aws:states:::dynamodb:putItem' },
    });
  });

  it('lists only state machines', () => {
    expect(stateMachinesOf(new TemplateResolver(withMachine, ENVIRONMENT)).map((machine) => machine.logicalId)).toEqual(['Saga']);
  });

  it('says which definition it could not read', () => {
    expect(() => stateMachinesOf(new TemplateResolver(template, ENVIRONMENT))).toThrow(
      /Machine1: has neither DefinitionString nor Definition/,
    );
    const broken: CloudFormationTemplate = {
      Resources: { Bad: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: '{"StartAt":' } } },
    };
    expect(() => stateMachinesOf(new TemplateResolver(broken, ENVIRONMENT))).toThrow(/Bad: definition is not JSON/);
  });
});

describe('parseTemplate', () => {
  it('names where a file stops being a template', () => {
    expect(() => parseTemplate({ Resources: { Fn: { Properties: {} } } }, 'cdk.out/Harmony.template.json')).toThrow(
      /cdk.out\/Harmony.template.json.Resources.Fn.Type/,
    );
  });
});
