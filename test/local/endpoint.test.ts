/**
 * The local hub's one AWS endpoint in front of real services: dynalite (DynamoDB),
 * fauxqs (SQS, JSON and query protocols) and the local EventBridge, reached with SDK v3
 * clients given only `endpoint`, as handlers are with AWS_ENDPOINT_URL. What it does
 * with what it does not serve, with a backend that is down, and with a port in use.
 * When the AWS CLI is installed, the same endpoint through `aws --endpoint-url`.
 */
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, ListEventBusesCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, EndpointPortInUseError, startAwsEndpoint } from '../../local/endpoint/server.ts';
import { LocalEventBridge } from '../../local/eventbridge/service.ts';
import { parseTemplate } from '../../local/template/load-template.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { type LocalService, startDynalite } from '../support/local-aws.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const run = promisify(execFile);

let dynalite: LocalService;
let sqsServer: FauxqsServer;
let eventBridge: LocalEventBridge;
let endpoint: AwsEndpoint;

beforeAll(async () => {
  dynalite = await startDynalite();
  sqsServer = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const template = parseTemplate({ Resources: { Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'hub' } } } });
  eventBridge = new LocalEventBridge({
    resolver: new TemplateResolver(template, { region: REGION, accountId: ACCOUNT }),
    sqsEndpoint: sqsServer.address,
    region: REGION,
    accountId: ACCOUNT,
  });
  endpoint = await startAwsEndpoint({
    port: 0,
    jsonServices: [eventBridge],
    proxies: { dynamodb: dynalite.endpoint, sqs: sqsServer.address },
  });
});

afterAll(async () => {
  await endpoint?.close();
  await eventBridge?.close();
  await sqsServer?.stop();
  await dynalite?.stop();
});

const client = <T>(Client: new (config: Record<string, unknown>) => T, overrides: Record<string, unknown> = {}): T =>
  new Client({ endpoint: endpoint.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1, ...overrides });

describe('routing by X-Amz-Target', () => {
  it('proxies DynamoDB to dynalite: CreateTable, PutItem, GetItem, and a multi-megabyte BatchWriteItem', async () => {
    const dynamo = client(DynamoDBClient);
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'endpoint-items',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await dynamo.send(new PutItemCommand({ TableName: 'endpoint-items', Item: { pk: { S: 'order#1' }, total: { N: '99.5' } } }));
    const blob = 'x'.repeat(200 * 1024);
    const batch = await dynamo.send(
      new BatchWriteItemCommand({
        RequestItems: {
          'endpoint-items': Array.from({ length: 25 }, (_, index) => ({ PutRequest: { Item: { pk: { S: `blob#${index}` }, blob: { S: blob } } } })),
        },
      }),
    );

    const item = await dynamo.send(new GetItemCommand({ TableName: 'endpoint-items', Key: { pk: { S: 'order#1' } } }));
    const lastBlob = await dynamo.send(new GetItemCommand({ TableName: 'endpoint-items', Key: { pk: { S: 'blob#24' } } }));
    expect(item.Item).toEqual({ pk: { S: 'order#1' }, total: { N: '99.5' } });
    expect(batch.UnprocessedItems).toEqual({});
    expect(lastBlob.Item?.blob?.S).toHaveLength(blob.length);
    dynamo.destroy();
  });

  it('proxies SQS to fauxqs, with a queue URL on the endpoint itself', async () => {
    const sqs = client(SQSClient);
    await sqs.send(new CreateQueueCommand({ QueueName: 'endpoint-queue' }));
    const queueUrl = `${endpoint.url}/${ACCOUNT}/endpoint-queue`;

    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"hello":"queue"}', MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } } }));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));

    expect(Messages.map((message) => [message.Body, message.MessageAttributes?.kind?.StringValue])).toEqual([['{"hello":"queue"}', 'test']]);
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: `${endpoint.url}/${ACCOUNT}/no-such-queue`, MessageBody: 'x' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
    sqs.destroy();
  });

  it('serves a JSON protocol service by its target prefix', async () => {
    const events = client(EventBridgeClient);
    const { EventBuses = [] } = await events.send(new ListEventBusesCommand({}));
    expect(EventBuses.map((bus) => bus.Name)).toEqual(['default', 'hub']);
    events.destroy();
  });

  it('answers a service it does not serve with UnknownOperationException, which the SDK surfaces as such', async () => {
    const stepFunctions = client(SFNClient);
    await expect(stepFunctions.send(new StartExecutionCommand({ stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:x` }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      message: "The local hub's AWS endpoint does not serve X-Amz-Target AWSStepFunctions.StartExecution",
      $metadata: { httpStatusCode: 400 },
    });
    stepFunctions.destroy();

    const raw = await fetch(`${endpoint.url}/some/path`, { method: 'PUT', body: 'hello' });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await raw.json()).toEqual({
      __type: 'UnknownOperationException',
      message: "The local hub's AWS endpoint does not serve PUT /some/path without an X-Amz-Target header",
    });
  });

  it('answers a body that is not JSON with SerializationException', async () => {
    const answer = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.ListEventBuses' },
      body: '{not json',
    });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { __type: string }).__type).toBe('SerializationException');
  });

  it('answers GET /health with 200', async () => {
    const answer = await fetch(`${endpoint.url}/health`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ status: 'ok' });
  });
});

describe('SQS query protocol', () => {
  const form = (params: Record<string, string>) =>
    fetch(`${endpoint.url}/${ACCOUNT}/query-queue`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
    });

  it('translates form-encoded SendMessage and ReceiveMessage to fauxqs and answers in XML', async () => {
    sqsServer.createQueue('query-queue');

    const sent = await form({
      Action: 'SendMessage',
      QueueUrl: `${endpoint.url}/${ACCOUNT}/query-queue`,
      MessageBody: 'order <42> & more',
      'MessageAttribute.1.Name': 'kind',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'query',
    });
    const sentXml = await sent.text();
    const received = await form({ Action: 'ReceiveMessage', 'MessageAttributeName.1': 'All', 'AttributeName.1': 'All', MaxNumberOfMessages: '5' });
    const receivedXml = await received.text();

    expect(sent.status).toBe(200);
    expect(sentXml).toMatch(/<SendMessageResponse xmlns="http:\/\/queue\.amazonaws\.com\/doc\/2012-11-05\/"><SendMessageResult><MessageId>[^<]+<\/MessageId>/);
    expect(received.status).toBe(200);
    expect(receivedXml).toContain('<Body>order &#60;42&#62; &#38; more</Body>');
    expect(receivedXml).toMatch(
      /<MessageAttribute><Name>kind<\/Name><Value>(<StringValue>query<\/StringValue><DataType>String<\/DataType>|<DataType>String<\/DataType><StringValue>query<\/StringValue>)<\/Value><\/MessageAttribute>/,
    );
    expect(receivedXml).toMatch(/<Attribute><Name>ApproximateReceiveCount<\/Name><Value>1<\/Value><\/Attribute>/);
  });

  it('answers a missing queue with the XML error SQS gives, and an unknown action with UnknownOperationException', async () => {
    const missing = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'GetQueueUrl', QueueName: 'never-created', Version: '2012-11-05' }).toString(),
    });
    const unknown = await form({ Action: 'Publish', TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Message: 'x' });

    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/<Error><Type>Sender<\/Type><Code>AWS\.SimpleQueueService\.NonExistentQueue<\/Code><Message>[^<]+<\/Message>/);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('<Code>UnknownOperationException</Code>');
  });
});

describe('failures of the endpoint itself', () => {
  it('answers 503 naming the backend when it is down, instead of hanging', async () => {
    const orphan = await startAwsEndpoint({ port: 0, jsonServices: [], proxies: { dynamodb: 'http://127.0.0.1:9', sqs: 'http://127.0.0.1:9' } });
    try {
      const dynamo = new DynamoDBClient({ endpoint: orphan.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
      await expect(dynamo.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: '1' } } }))).rejects.toMatchObject({
        name: 'ServiceUnavailable',
        message: expect.stringContaining('DynamoDB (dynalite) at http://127.0.0.1:9 is not reachable'),
        $metadata: { httpStatusCode: 503 },
      });
      dynamo.destroy();
    } finally {
      await orphan.close();
    }
  });

  it('refuses a port in use with an error naming it', async () => {
    const attempt = startAwsEndpoint({ port: endpoint.port, jsonServices: [], proxies: { dynamodb: dynalite.endpoint, sqs: sqsServer.address } });
    await expect(attempt).rejects.toBeInstanceOf(EndpointPortInUseError);
    await expect(attempt).rejects.toMatchObject({ code: 'EADDRINUSE', port: endpoint.port, message: expect.stringContaining(`127.0.0.1:${endpoint.port}`) });
  });
});

const awsCli = await run('aws', ['--version']).then(
  () => true,
  () => false,
);

describe.skipIf(!awsCli)('the AWS CLI (installed on this machine)', () => {
  const aws = async (...args: string[]) => {
    const { stdout } = await run('aws', ['--endpoint-url', endpoint.url, '--region', REGION, '--output', 'json', ...args], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' },
    });
    return JSON.parse(stdout || '{}') as Record<string, unknown>;
  };

  it('reaches EventBridge, SQS and DynamoDB through --endpoint-url', async () => {
    const buses = await aws('events', 'list-event-buses');
    await aws('sqs', 'create-queue', '--queue-name', 'cli-queue');
    await aws('sqs', 'send-message', '--queue-url', `${endpoint.url}/${ACCOUNT}/cli-queue`, '--message-body', 'from the cli');
    const received = await aws('sqs', 'receive-message', '--queue-url', `${endpoint.url}/${ACCOUNT}/cli-queue`);
    const tables = await aws('dynamodb', 'list-tables');

    expect((buses.EventBuses as { Name: string }[]).map((bus) => bus.Name)).toEqual(['default', 'hub']);
    expect((received.Messages as { Body: string }[]).map((message) => message.Body)).toEqual(['from the cli']);
    expect(tables.TableNames).toEqual(expect.any(Array));
  });
});
