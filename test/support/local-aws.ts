/**
 * Real local stand-ins for AWS services in tests: dynalite (DynamoDB) and fauxqs
 * (SQS), each on a free port, plus CreateTable from a synthesized
 * AWS::DynamoDB::Table so tests use the very tables the stack declares.
 */
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { startFauxqs } from 'fauxqs';

const require = createRequire(import.meta.url);

/** A running local service. */
export interface LocalService {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Credentials and region the SDK needs even when talking to local services. */
export const LOCAL_AWS_ENVIRONMENT = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

/** Starts dynalite in memory on a free loopback port. */
export async function startDynalite(): Promise<LocalService> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts fauxqs in memory on a free loopback port. */
export async function startSqs(): Promise<LocalService & { createQueue(name: string): { queueUrl: string; queueArn: string } }> {
  const server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
  return {
    endpoint: server.address,
    stop: () => server.stop(),
    createQueue: (name) => server.createQueue(name),
  };
}

/** The CloudFormation properties of a table that CreateTable needs. */
interface CfnTableProperties {
  readonly KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  readonly GlobalSecondaryIndexes?: {
    IndexName: string;
    KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
    Projection: { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
  }[];
  readonly TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
}

/** Creates `tableName` in dynalite with the key schema, indexes and TTL of a synthesized table resource. */
export async function createTableFromTemplate(
  endpoint: string,
  tableName: string,
  properties: CfnTableProperties,
): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_AWS_ENVIRONMENT.AWS_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: properties.KeySchema,
      AttributeDefinitions: properties.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      ...(properties.GlobalSecondaryIndexes === undefined
        ? {}
        : { GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes.map((index) => ({ ...index, Projection: { ProjectionType: 'ALL' as const, ...index.Projection } })) }),
    }),
  );
  if (properties.TimeToLiveSpecification !== undefined) {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: properties.TimeToLiveSpecification }),
    ).catch(() => undefined); // dynalite does not implement TTL; the attribute is still written by Harmony
  }
  client.destroy();
}
