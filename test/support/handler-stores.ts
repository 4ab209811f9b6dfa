/**
 * The DynamoDB side of handler tests: dynalite with Harmony's idempotency and
 * audit tables created from the synthesized stack's own table definitions, and
 * the environment that points the SDK (and so the handlers) at it.
 */
import { synthHarmony } from './synth.ts';
import { createTableFromTemplate, LOCAL_AWS_ENVIRONMENT, startDynalite, type LocalService } from './local-aws.ts';

/** A dynalite with both tables. */
export interface HandlerStores {
  readonly dynamo: LocalService;
  readonly idempotencyTable: string;
  readonly auditTable: string;
  /** Environment for the SDK and handlers: region, dummy credentials, DynamoDB endpoint, table names. */
  readonly environment: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

type TableResource = { Type: string; Properties: Parameters<typeof createTableFromTemplate>[2] };

/** Finds the stack's table whose partition key is `partitionKey`. */
function tableWithKey(resources: Record<string, TableResource>, partitionKey: string) {
  const table = Object.values(resources).find(
    (resource) =>
      resource.Type === 'AWS::DynamoDB::Table' &&
      resource.Properties.KeySchema.some((key) => key.KeyType === 'HASH' && key.AttributeName === partitionKey),
  );
  if (table === undefined) throw new Error(`the stack has no table with partition key ${partitionKey}`);
  return table.Properties;
}

let cachedTables: { idempotency: TableResource['Properties']; audit: TableResource['Properties'] } | undefined;

/** Starts dynalite and creates the stack's tables in it. */
export async function startHandlerStores(): Promise<HandlerStores> {
  if (cachedTables === undefined) {
    const { json } = synthHarmony();
    const resources = (json as { Resources: Record<string, TableResource> }).Resources;
    cachedTables = { idempotency: tableWithKey(resources, 'id'), audit: tableWithKey(resources, 'businessKey') };
  }
  const dynamo = await startDynalite();
  const idempotencyTable = 'harmony-idempotency';
  const auditTable = 'harmony-audit';
  await createTableFromTemplate(dynamo.endpoint, idempotencyTable, cachedTables.idempotency);
  await createTableFromTemplate(dynamo.endpoint, auditTable, cachedTables.audit);
  return {
    dynamo,
    idempotencyTable,
    auditTable,
    environment: {
      ...LOCAL_AWS_ENVIRONMENT,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      IDEMPOTENCY_TABLE: idempotencyTable,
      AUDIT_TABLE: auditTable,
    },
    stop: () => dynamo.stop(),
  };
}
