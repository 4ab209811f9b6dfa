/**
 * LocalSqs behind the hub's one AWS endpoint, reached the way the endpoint reached fauxqs:
 * its HTTP server on loopback as the endpoint's SQS backend. SDK v3 clients given only the
 * endpoint get SQS's answers and error classes (the endpoint passes `x-amzn-query-error`
 * through), the query protocol's XML carries SQS's error codes, and a long poll whose
 * caller hangs up ends without taking the next message.
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateQueueCommand, GetQueueUrlCommand, QueueDoesNotExist, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../local/endpoint/server.ts';
import { type SqsHttpServer, startSqsHttpServer } from '../../local/sqs/http-server.ts';
import { LocalSqs } from '../../local/sqs/service.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/** A port nothing listens on now (the endpoint's, known before LocalSqs starts, as in the hub). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('LocalSqs behind the AWS endpoint', () => {
  let sqsServer: SqsHttpServer;
  let endpoint: AwsEndpoint;
  let client: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    const endpointUrl = `http://127.0.0.1:${port}`;
    sqsServer = await startSqsHttpServer({ port: 0, service: () => new LocalSqs({ endpoint: endpointUrl, region: REGION, accountId: ACCOUNT }) });
    endpoint = await startAwsEndpoint({ port, jsonServices: [], proxies: { dynamodb: 'http://127.0.0.1:9', sqs: sqsServer.url } });
    client = new SQSClient({ endpoint: endpoint.url, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    queueUrl = (await client.send(new CreateQueueCommand({ QueueName: 'behind-endpoint' }))).QueueUrl ?? '';
  });

  afterAll(async () => {
    client?.destroy();
    await endpoint?.close();
    await sqsServer?.close();
  });

  it('serves SDK clients given only the endpoint, with queue URLs on the endpoint', async () => {
    const sent = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'through the endpoint' }));
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));

    expect(queueUrl).toBe(`${endpoint.url}/${ACCOUNT}/behind-endpoint`);
    expect(Messages.map((message) => [message.MessageId, message.Body])).toEqual([[sent.MessageId, 'through the endpoint']]);
  });

  it("raises the SDK's QueueDoesNotExist with SQS's query code", async () => {
    const refused = await client.send(new GetQueueUrlCommand({ QueueName: 'never-created' })).then(
      () => undefined,
      (error: unknown) => error as QueueDoesNotExist & { Code?: string },
    );

    expect(refused).toBeInstanceOf(QueueDoesNotExist);
    expect(refused?.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });

  it('answers the query protocol in XML, errors with their SQS codes', async () => {
    const form = (params: Record<string, string>) =>
      fetch(`${endpoint.url}/${ACCOUNT}/behind-endpoint`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
      });
    const sent = await form({ Action: 'SendMessage', MessageBody: 'by form' });
    const invalid = await form({ Action: 'ReceiveMessage', MaxNumberOfMessages: '11' });

    expect(sent.status).toBe(200);
    expect(await sent.text()).toMatch(/<SendMessageResult><MessageId>[^<]+<\/MessageId><MD5OfMessageBody>/);
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('<Code>InvalidParameterValue</Code>');
    await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
  });

  it('ends a long poll whose caller hung up, so it does not take the next message', async () => {
    const hangUp = new AbortController();
    const abandoned = client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 20 }), { abortSignal: hangUp.signal }).catch(() => 'aborted');
    await sleep(200);
    hangUp.abort();
    expect(await abandoned).toBe('aborted');
    await sleep(200);
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'after the hang-up' }));
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2 }));

    expect(Messages.map((message) => message.Body)).toEqual(['after the hang-up']);
  });
});
