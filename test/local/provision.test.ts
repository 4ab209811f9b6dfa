/**
 * Provisioning the template's tables (dynalite) and queues (fauxqs): what the synthesized
 * Harmony stack declares exists locally under the resolver's names, a second run finds it
 * instead of failing, queue URLs handlers are given reach their queues, and redrive points at
 * the dead-letter queue as the SQS service names it.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App, CfnCondition, CfnParameter, type CfnResource, Duration, Fn, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ListQueuesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { provisionQueues, provisionTables } from '../../local/provision.ts';
import { type CloudFormationTemplate, parseTemplate } from '../../local/template/load-template.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { startDynalite, type LocalService } from '../support/local-aws.ts';
import { synthHarmony } from '../support/synth.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

type Fauxqs = Awaited<ReturnType<typeof startFauxqs>>;

let harmonyTemplate: CloudFormationTemplate;
let sqs: Fauxqs;
let dynamo: LocalService;
let sqsClient: SQSClient;
let dynamoClient: DynamoDBClient;

beforeAll(() => {
  harmonyTemplate = parseTemplate(synthHarmony().json);
});

afterEach(async () => {
  sqsClient?.destroy();
  dynamoClient?.destroy();
  await sqs?.stop();
  await dynamo?.stop();
});

async function startServices(): Promise<void> {
  sqs = await startFauxqs({ port: 0, logger: false });
  dynamo = await startDynalite();
  sqsClient = new SQSClient({ endpoint: sqs.address, region: REGION, credentials: CREDENTIALS });
  dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS });
}

function resolverFor(template: CloudFormationTemplate): TemplateResolver {
  return new TemplateResolver(template, { region: REGION, accountId: ACCOUNT, sqsEndpoint: sqs.address });
}

function idsOfType(template: CloudFormationTemplate, type: string): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
}

describe('provisionTables', () => {
  it("creates every table of the Harmony stack with its keys and indexes, then finds them on a restart", async () => {
    await startServices();
    const resolver = resolverFor(harmonyTemplate);
    const tableIds = idsOfType(harmonyTemplate, 'AWS::DynamoDB::Table');

    const first = await provisionTables(resolver, dynamo.endpoint);
    const second = await provisionTables(resolver, dynamo.endpoint);

    expect(first.created.map((table) => table.tableName).sort()).toEqual(tableIds.map((id) => resolver.physicalName(id)).sort());
    expect(first.existing).toEqual([]);
    expect(second.created).toEqual([]);
    expect(second.existing).toEqual(first.created);
    const auditId = tableIds.find((id) => id.includes('Audit')) ?? '';
    const audit = (await dynamoClient.send(new DescribeTableCommand({ TableName: resolver.physicalName(auditId) }))).Table;
    expect(audit?.KeySchema).toEqual(harmonyTemplate.Resources[auditId]?.Properties?.KeySchema);
    expect(audit?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual(['byCorrelationId', 'byOrderRef']);
    expect(first.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/TTL on expiration not enforced locally/),
        expect.stringMatching(/SSESpecification ignored locally/),
      ]),
    );
  });

  it('refuses a table that exists with other keys than the template gives it', async () => {
    await startServices();
    const resolver = resolverFor(harmonyTemplate);
    const auditName = resolver.physicalName(idsOfType(harmonyTemplate, 'AWS::DynamoDB::Table').find((id) => id.includes('Audit')) ?? '');
    await dynamoClient.send(
      new CreateTableCommand({
        TableName: auditName,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

    await expect(provisionTables(resolver, dynamo.endpoint)).rejects.toThrow(`table ${auditName} exists with key schema`);
  });
});

describe('provisionQueues', () => {
  it('creates every queue of the Harmony stack under its resolver name and URL, then finds them on a restart', async () => {
    await startServices();
    const resolver = resolverFor(harmonyTemplate);
    const queueIds = idsOfType(harmonyTemplate, 'AWS::SQS::Queue');

    const first = await provisionQueues(resolver, sqs.address);
    const second = await provisionQueues(resolver, sqs.address);

    expect(first.created.map((queue) => queue.logicalId).sort()).toEqual([...queueIds].sort());
    for (const queue of first.created) {
      expect(queue).toEqual({
        logicalId: queue.logicalId,
        queueName: resolver.physicalName(queue.logicalId),
        queueUrl: resolver.ref(queue.logicalId),
        arn: resolver.getAtt(queue.logicalId, 'Arn'),
        serviceArn: `arn:aws:sqs:${REGION}:000000000000:${resolver.physicalName(queue.logicalId)}`,
      });
      expect(queue.queueUrl).toBe(`${sqs.address}/${ACCOUNT}/${queue.queueName}`);
    }
    expect(second.created).toEqual([]);
    expect(second.existing.map((queue) => queue.logicalId).sort()).toEqual([...queueIds].sort());
    expect((await sqsClient.send(new ListQueuesCommand({}))).QueueUrls).toHaveLength(queueIds.length);
    expect(first.notes).toEqual([expect.stringMatching(new RegExp(`^KMS attributes of ${queueIds.length} queue\\(s\\) ignored locally`))]);
  });

  it("gives the flow queue the template's visibility timeout and a redrive policy naming its DLQ as the service knows it", async () => {
    await startServices();
    const resolver = resolverFor(harmonyTemplate);
    const { created } = await provisionQueues(resolver, sqs.address);
    const flowQueue = created.find((queue) => queue.logicalId.startsWith('OrderToCashPipelineQueue'));
    const deadLetterQueue = created.find((queue) => queue.logicalId.startsWith('OrderToCashPipelineDeadLetterQueue'));

    const attributes = (await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: flowQueue?.queueUrl, AttributeNames: ['All'] }))).Attributes;
    const deadLetterAttributes = (await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueue?.queueUrl, AttributeNames: ['All'] }))).Attributes;

    expect(attributes?.VisibilityTimeout).toBe('180');
    expect(JSON.parse(attributes?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: deadLetterQueue?.serviceArn, maxReceiveCount: 5 });
    expect(deadLetterAttributes?.MessageRetentionPeriod).toBe('1209600');
  });

  it('hands out queue URLs that an SDK client with no endpoint of its own sends to the local service (useQueueUrlAsEndpoint)', async () => {
    await startServices();
    const resolver = resolverFor(harmonyTemplate);
    const { created } = await provisionQueues(resolver, sqs.address);
    const queueUrl = created[0]?.queueUrl ?? '';
    // What a handler's client looks like: no endpoint in its config, the URL from its environment.
    const handlerClient = new SQSClient({ region: REGION, credentials: CREDENTIALS, logger: { debug() {}, info() {}, warn() {}, error() {} } });

    await handlerClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'through the template URL' }));
    const received = await sqsClient.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    handlerClient.destroy();

    expect(received.Messages?.map((message) => message.Body)).toEqual(['through the template URL']);
  });

  it("converges an existing queue to the template's attributes on a restart", async () => {
    await startServices();
    const app = new App();
    const stack = new Stack(app, 'Converge', { env: { account: ACCOUNT, region: REGION } });
    new Queue(stack, 'Work', { queueName: 'converge-work', visibilityTimeout: Duration.seconds(45) });
    const before = app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate;
    const queueId = Object.keys(before.Resources).find((id) => id.startsWith('Work')) ?? '';
    const after: CloudFormationTemplate = {
      ...before,
      Resources: { ...before.Resources, [queueId]: { ...before.Resources[queueId], Type: 'AWS::SQS::Queue', Properties: { QueueName: 'converge-work', VisibilityTimeout: 90 } } },
    };

    await provisionQueues(resolverFor(before), sqs.address);
    const again = await provisionQueues(resolverFor(after), sqs.address);

    const attributes = (await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: again.existing[0]?.queueUrl, AttributeNames: ['VisibilityTimeout'] }))).Attributes;
    expect(again.existing.map((found) => found.queueName)).toEqual(['converge-work']);
    expect(attributes?.VisibilityTimeout).toBe('90');
  });

  it('creates FIFO queues with their DLQ, and skips resources whose condition is false', async () => {
    await startServices();
    const app = new App();
    const stack = new Stack(app, 'Fifo', { env: { account: ACCOUNT, region: REGION } });
    const deadLetters = new Queue(stack, 'Dlq', { queueName: 'orders-dlq.fifo', fifo: true });
    new Queue(stack, 'Orders', {
      queueName: 'orders.fifo',
      fifo: true,
      contentBasedDeduplication: true,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 3 },
    });
    const stage = new CfnParameter(stack, 'Stage', { default: 'dev' });
    const production = new CfnCondition(stack, 'IsProduction', { expression: Fn.conditionEquals(stage.valueAsString, 'prod') });
    (new Queue(stack, 'ProdOnly', { queueName: 'prod-only' }).node.defaultChild as CfnResource).cfnOptions.condition = production;
    new Table(stack, 'Provisioned', {
      tableName: 'provisioned-table',
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.NUMBER },
      billingMode: BillingMode.PROVISIONED,
      readCapacity: 2,
      writeCapacity: 2,
    }).addLocalSecondaryIndex({ indexName: 'byOther', sortKey: { name: 'other', type: AttributeType.STRING } });
    const resolver = resolverFor(app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate);

    const queues = await provisionQueues(resolver, sqs.address);
    const tables = await provisionTables(resolver, dynamo.endpoint);

    expect(queues.created.map((queue) => queue.queueName)).toEqual(['orders-dlq.fifo', 'orders.fifo']);
    const attributes = (await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: queues.created[1]?.queueUrl, AttributeNames: ['All'] }))).Attributes;
    expect(attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    expect(JSON.parse(attributes?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: queues.created[0]?.serviceArn, maxReceiveCount: 3 });
    const table = (await dynamoClient.send(new DescribeTableCommand({ TableName: tables.created[0]?.tableName }))).Table;
    expect(table?.LocalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byOther']);
    expect(table?.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 2, WriteCapacityUnits: 2 });
  });

  it('refuses a resolver whose queue URLs point at AWS, where SDK clients would send them', async () => {
    await startServices();
    const resolver = new TemplateResolver(harmonyTemplate, { region: REGION, accountId: ACCOUNT });

    await expect(provisionQueues(resolver, sqs.address)).rejects.toThrow(/queue URLs point at AWS \(https:\/\/sqs\.eu-west-1\.amazonaws\.com\)/);
  });
});
