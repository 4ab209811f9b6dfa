/**
 * Creates the template's DynamoDB tables and SQS queues in the local services
 * (dynalite, fauxqs) before anything runs, the way `cdk deploy` would create them
 * in AWS: same names, keys, indexes and queue attributes. Idempotent, so a restart
 * finds what the previous run created (and converges queue attributes to the template).
 *
 * Queue URLs. The resolver's `Ref` of a queue is `<sqsEndpoint>/<account>/<name>`, and
 * that is what handlers get in their environment (DEAD_LETTER_QUEUE_URL). The SDK sends
 * a request for a QueueUrl to the URL's own origin unless the client has an explicit
 * `endpoint` (`useQueueUrlAsEndpoint`, on by default; AWS_ENDPOINT_URL does not count),
 * so that origin must be the local endpoint: provisioning refuses a resolver whose queue
 * URLs point at AWS. fauxqs finds a queue by the URL's last path segment when the host is
 * not `sqs.<region>.…`, so `<sqsEndpoint>/<any account>/<name>` reaches the right queue;
 * each queue is checked through its resolver URL after provisioning.
 *
 * Account ids. fauxqs names every queue `arn:aws:sqs:<region>:000000000000:<name>`
 * whatever the template's account, and moves messages to a dead-letter queue only when a
 * RedrivePolicy names that exact ARN. So a RedrivePolicy is written with the ARN the
 * service reports for the dead-letter queue, found through the template (not the
 * resolver's ARN), and each queue's `serviceArn` is returned beside its template `arn`.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { deployedResourcesOfType } from './lambda/deployed-resources.ts';
import type { TemplateResolver } from './template/resolve-intrinsics.ts';

/** What provisioning did: resources it created, resources that were already there, and what it could not honour. */
export interface ProvisionReport<Resource> {
  readonly created: Resource[];
  readonly existing: Resource[];
  /** Template settings that have no local effect (encryption, TTL…), one line each. */
  readonly notes: string[];
}

/** One table of the template, as it exists locally. */
export interface ProvisionedTable {
  readonly logicalId: string;
  readonly tableName: string;
  /** The resolver's ARN of the table. */
  readonly arn: string;
}

/** One queue of the template, as it exists locally. */
export interface ProvisionedQueue {
  readonly logicalId: string;
  readonly queueName: string;
  /** The resolver's `Ref` of the queue: the URL handlers are given, which reaches this queue. */
  readonly queueUrl: string;
  /** The resolver's ARN (template account). */
  readonly arn: string;
  /** The ARN the local SQS service gives the queue (fauxqs: account 000000000000). */
  readonly serviceArn: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

const KeySchema = z.array(z.object({ AttributeName: z.string().min(1), KeyType: z.enum(['HASH', 'RANGE']) })).min(1).max(2);
const Projection = z.object({
  ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']).optional(),
  NonKeyAttributes: z.array(z.string()).optional(),
});
const Throughput = z.object({ ReadCapacityUnits: z.coerce.number().int().min(1), WriteCapacityUnits: z.coerce.number().int().min(1) });
const TableProperties = z.looseObject({
  KeySchema,
  AttributeDefinitions: z.array(z.object({ AttributeName: z.string().min(1), AttributeType: z.enum(['S', 'N', 'B']) })).min(1),
  BillingMode: z.enum(['PAY_PER_REQUEST', 'PROVISIONED']).optional(),
  ProvisionedThroughput: Throughput.optional(),
  GlobalSecondaryIndexes: z
    .array(z.object({ IndexName: z.string().min(1), KeySchema, Projection, ProvisionedThroughput: Throughput.optional() }))
    .optional(),
  LocalSecondaryIndexes: z.array(z.object({ IndexName: z.string().min(1), KeySchema, Projection })).optional(),
  TimeToLiveSpecification: z.object({ AttributeName: z.string().min(1), Enabled: z.boolean() }).optional(),
  SSESpecification: z.looseObject({ SSEEnabled: z.boolean().optional() }).optional(),
  StreamSpecification: z.looseObject({ StreamViewType: z.string() }).optional(),
});

/** Queue properties of AWS::SQS::Queue that are queue attributes locally, as strings. */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;
/** Accepted and ignored locally: the local queue does not encrypt. */
const KMS_ATTRIBUTES = ['KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled'] as const;
/** What AWS gives a queue for an attribute the template leaves out, so a restart converges to it. */
const QUEUE_DEFAULTS: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
};
/** Attributes SetQueueAttributes may not change. */
const CREATE_ONLY_ATTRIBUTES = new Set(['FifoQueue']);

const AttributeValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const RedrivePolicy = z.object({
  deadLetterTargetArn: z.string().min(1),
  maxReceiveCount: z.coerce.number().int().min(1).max(1000),
});

/**
 * Creates every AWS::DynamoDB::Table of the template in the DynamoDB service at `dynamodbEndpoint`
 * (keys, attribute definitions, billing mode, global and local secondary indexes) unless a table
 * of that name exists, and waits until each is ACTIVE. An existing table with other keys is an
 * error (its data no longer fits the template); a missing index is a note.
 */
export async function provisionTables(resolver: TemplateResolver, dynamodbEndpoint: string): Promise<ProvisionReport<ProvisionedTable>> {
  const client = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: resolver.region, credentials: LOCAL_CREDENTIALS });
  const report: ProvisionReport<ProvisionedTable> = { created: [], existing: [], notes: [] };
  try {
    for (const [logicalId, resource] of deployedResourcesOfType(resolver, 'AWS::DynamoDB::Table')) {
      const tableName = resolver.physicalName(logicalId);
      const parsed = TableProperties.safeParse(resolver.resolve(resource.Properties ?? {}));
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
        throw new Error(`table ${logicalId}: ${problems.join('; ')}`);
      }
      const properties = parsed.data;
      const table: ProvisionedTable = { logicalId, tableName, arn: resolver.getAtt(logicalId, 'Arn') };
      const found = await describeTable(client, tableName);
      if (found === undefined) {
        await client.send(new CreateTableCommand(createTableInput(tableName, properties)));
        report.created.push(table);
      } else {
        const want = JSON.stringify(properties.KeySchema);
        const have = JSON.stringify(found.KeySchema?.map(({ AttributeName, KeyType }) => ({ AttributeName, KeyType })));
        if (want !== have) {
          throw new Error(`table ${tableName} exists with key schema ${have}, the template wants ${want}; delete it (or the data directory) to recreate it`);
        }
        const indexes = new Set((found.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
        const missing = (properties.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).filter((name) => !indexes.has(name));
        if (missing.length > 0) report.notes.push(`table ${tableName} exists without the index(es) ${missing.join(', ')} the template declares`);
        report.existing.push(table);
      }
      await waitUntilActive(client, tableName);
      report.notes.push(...(await applyTimeToLive(client, tableName, properties.TimeToLiveSpecification)));
      if (properties.SSESpecification?.SSEEnabled === true) {
        report.notes.push(`table ${tableName}: SSESpecification ignored locally; its items are stored unencrypted`);
      }
      if (properties.StreamSpecification !== undefined) {
        report.notes.push(`table ${tableName}: StreamSpecification ignored locally; nothing consumes its stream`);
      }
    }
  } finally {
    client.destroy();
  }
  return report;
}

/**
 * Creates every AWS::SQS::Queue of the template in the SQS service at `sqsEndpoint` with its name
 * and attributes (VisibilityTimeout, MessageRetentionPeriod, RedrivePolicy with the service's ARN
 * of the dead-letter queue, FIFO attributes); a queue that exists gets the template's attributes
 * set again. KMS attributes are accepted and ignored: local queues are not encrypted.
 */
export async function provisionQueues(resolver: TemplateResolver, sqsEndpoint: string): Promise<ProvisionReport<ProvisionedQueue>> {
  const awsHost = `.${resolver.urlSuffix}`;
  if (new URL(resolver.sqsEndpoint).hostname.endsWith(awsHost)) {
    throw new Error(
      `the resolver's queue URLs point at AWS (${resolver.sqsEndpoint}); give it the local endpoint as sqsEndpoint, ` +
        'or SDK clients would send messages for these URLs to AWS (useQueueUrlAsEndpoint)',
    );
  }
  const client = new SQSClient({ endpoint: sqsEndpoint, region: resolver.region, credentials: LOCAL_CREDENTIALS });
  const report: ProvisionReport<ProvisionedQueue> = { created: [], existing: [], notes: [] };
  const provisioned = new Map<string, ProvisionedQueue>();
  const queues = deployedResourcesOfType(resolver, 'AWS::SQS::Queue');
  const encrypted: string[] = [];

  const provision = async (logicalId: string, path: readonly string[]): Promise<ProvisionedQueue> => {
    const done = provisioned.get(logicalId);
    if (done !== undefined) return done;
    if (path.includes(logicalId)) throw new Error(`queues ${[...path, logicalId].join(' → ')} name each other as dead-letter queues`);
    const properties = resolver.resource(logicalId).Properties ?? {};
    const queueName = resolver.physicalName(logicalId);
    const attributes: Record<string, string> = { ...QUEUE_DEFAULTS };
    for (const name of QUEUE_ATTRIBUTES) {
      if (properties[name] === undefined) continue;
      const value = AttributeValue.safeParse(resolver.resolve(properties[name]));
      if (!value.success) throw new Error(`queue ${logicalId}.${name}: expected a string, number or boolean`);
      attributes[name] = value.data;
    }
    if (attributes.FifoQueue === 'true' && !queueName.endsWith('.fifo')) {
      throw new Error(`queue ${logicalId}: a FIFO queue's name must end in .fifo, got ${queueName}`);
    }
    if (KMS_ATTRIBUTES.some((name) => properties[name] !== undefined)) encrypted.push(queueName);
    if (properties.RedrivePolicy !== undefined) {
      const policy = redrivePolicyOf(logicalId, resolver.resolve(properties.RedrivePolicy));
      const target = resolver.logicalIdOf(policy.deadLetterTargetArn);
      let deadLetterTargetArn = policy.deadLetterTargetArn;
      if (target !== undefined && queues.some(([id]) => id === target)) {
        deadLetterTargetArn = (await provision(target, [...path, logicalId])).serviceArn;
      } else {
        report.notes.push(`queue ${queueName}: dead-letter target ${policy.deadLetterTargetArn} is not a queue of the template; passed through unchanged`);
      }
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn, maxReceiveCount: policy.maxReceiveCount });
    }
    if (properties.RedriveAllowPolicy !== undefined) {
      const allow = resolver.resolve(properties.RedriveAllowPolicy);
      attributes.RedriveAllowPolicy = typeof allow === 'string' ? allow : JSON.stringify(allow);
    }

    let serviceUrl = await queueUrlOf(client, queueName);
    let created = false;
    if (serviceUrl === undefined) {
      serviceUrl = (await client.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }))).QueueUrl;
      created = true;
    } else {
      const current = (await client.send(new GetQueueAttributesCommand({ QueueUrl: serviceUrl, AttributeNames: ['All'] }))).Attributes ?? {};
      const update = Object.fromEntries(Object.entries(attributes).filter(([name]) => !CREATE_ONLY_ATTRIBUTES.has(name)));
      if (current.RedrivePolicy !== undefined && attributes.RedrivePolicy === undefined) update.RedrivePolicy = '';
      if (current.FifoQueue !== attributes.FifoQueue && (current.FifoQueue === 'true' || attributes.FifoQueue === 'true')) {
        throw new Error(`queue ${queueName} exists with FifoQueue=${current.FifoQueue ?? 'false'}; the template wants ${attributes.FifoQueue ?? 'false'}`);
      }
      await client.send(new SetQueueAttributesCommand({ QueueUrl: serviceUrl, Attributes: update }));
    }
    if (serviceUrl === undefined) throw new Error(`queue ${queueName}: the SQS service returned no QueueUrl`);

    // The URL handlers are given must reach this very queue.
    const queueUrl = resolver.ref(logicalId);
    if (typeof queueUrl !== 'string') throw new Error(`queue ${logicalId}: Ref did not resolve to a URL`);
    const check = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const serviceArn = check.Attributes?.QueueArn;
    if (serviceArn === undefined || !serviceArn.endsWith(`:${queueName}`)) {
      throw new Error(`queue ${queueName}: its URL ${queueUrl} does not reach it at ${sqsEndpoint} (got ${serviceArn ?? 'no ARN'})`);
    }
    const queue: ProvisionedQueue = { logicalId, queueName, queueUrl, arn: resolver.getAtt(logicalId, 'Arn'), serviceArn };
    provisioned.set(logicalId, queue);
    (created ? report.created : report.existing).push(queue);
    return queue;
  };

  try {
    for (const [logicalId] of queues) await provision(logicalId, []);
  } finally {
    client.destroy();
  }
  if (encrypted.length > 0) {
    report.notes.push(
      `KMS attributes of ${encrypted.length} queue(s) ignored locally (${encrypted.join(', ')}): their messages are stored unencrypted`,
    );
  }
  return report;
}

function redrivePolicyOf(logicalId: string, value: unknown): z.infer<typeof RedrivePolicy> {
  let json = value;
  if (typeof value === 'string') {
    try {
      json = JSON.parse(value);
    } catch {
      throw new Error(`queue ${logicalId}.RedrivePolicy: not JSON`);
    }
  }
  const parsed = RedrivePolicy.safeParse(json);
  if (!parsed.success) throw new Error(`queue ${logicalId}.RedrivePolicy: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}

async function queueUrlOf(client: SQSClient, queueName: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl;
  } catch (error) {
    if (error instanceof QueueDoesNotExist || (error as { name?: string }).name === 'AWS.SimpleQueueService.NonExistentQueue') return undefined;
    throw error;
  }
}

function createTableInput(tableName: string, properties: z.infer<typeof TableProperties>): CreateTableCommandInput {
  const billingMode = properties.BillingMode ?? 'PROVISIONED';
  const throughput = (given: z.infer<typeof Throughput> | undefined, where: string) => {
    if (billingMode === 'PAY_PER_REQUEST') return {};
    if (given === undefined) throw new Error(`table ${tableName}: ${where} needs ProvisionedThroughput (BillingMode PROVISIONED)`);
    return { ProvisionedThroughput: given };
  };
  return {
    TableName: tableName,
    KeySchema: properties.KeySchema,
    AttributeDefinitions: properties.AttributeDefinitions,
    BillingMode: billingMode,
    ...throughput(properties.ProvisionedThroughput, 'the table'),
    ...(properties.GlobalSecondaryIndexes === undefined
      ? {}
      : {
          GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes.map((index) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: { ProjectionType: 'ALL' as const, ...index.Projection },
            ...throughput(index.ProvisionedThroughput, `index ${index.IndexName}`),
          })),
        }),
    ...(properties.LocalSecondaryIndexes === undefined
      ? {}
      : {
          LocalSecondaryIndexes: properties.LocalSecondaryIndexes.map((index) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: { ProjectionType: 'ALL' as const, ...index.Projection },
          })),
        }),
  };
}

async function describeTable(client: DynamoDBClient, tableName: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const table = await describeTable(client, tableName);
    if (table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is still ${table?.TableStatus ?? 'missing'} after 30 s`);
    await sleep(50);
  }
}

/** Sets the table's TTL attribute where the service supports it; dynalite does not, which is a note. */
async function applyTimeToLive(
  client: DynamoDBClient,
  tableName: string,
  specification: z.infer<typeof TableProperties>['TimeToLiveSpecification'],
): Promise<string[]> {
  if (specification === undefined || !specification.Enabled) return [];
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: specification }));
    return [];
  } catch (error) {
    const { name, message } = error as { name?: string; message?: string };
    if (name === 'UnknownOperationException') {
      return [
        `table ${tableName}: TTL on ${specification.AttributeName} not enforced locally (the DynamoDB service has no UpdateTimeToLive); expired items stay until deleted`,
      ];
    }
    // A restart against a service that does support TTL: it is on already.
    if (name === 'ValidationException' && /already enabled/i.test(message ?? '')) return [];
    throw error;
  }
}
