/**
 * Reads what the hub and the sandbox ERP hold after (or during) a chaos run, through
 * clients Harmony did not write: `odoo-xmlrpc` for sale orders, the AWS SDK on the
 * hub's endpoint for dead-letter queues, running executions and the audit table.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createRequire } from 'node:module';

interface OdooXmlRpc {
  connect(callback: (error: unknown, uid: unknown) => void): void;
  execute_kw(model: string, method: string, params: unknown[], callback: (error: unknown, value: unknown) => void): void;
}
type OdooXmlRpcConstructor = new (options: { url: string; port: number; db: string; username: string; password: string }) => OdooXmlRpc;
const OdooXmlRpcClient = createRequire(import.meta.url)('odoo-xmlrpc') as OdooXmlRpcConstructor;

/** A sale order Harmony made for a CRM deal. */
export interface HarmonyOrder {
  readonly name: string;
  readonly state: string;
  /** The deal id from `client_order_ref` `hubspot:<deal>`. */
  readonly dealId: string;
}

/** Every sale order whose client reference starts with `hubspot:`, cancelled ones included. */
export async function readHarmonyOrders(odooUrl: string): Promise<HarmonyOrder[]> {
  const url = new URL(odooUrl);
  const client = new OdooXmlRpcClient({
    url: `${url.protocol}//${url.hostname}`,
    port: Number(url.port),
    db: 'harmony',
    username: 'harmony@example.com',
    password: 'local-odoo-api-key',
  });
  const call = <Value>(start: (callback: (error: unknown, value: Value) => void) => void) =>
    new Promise<Value>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
  await call((callback) => client.connect(callback));
  const rows = await call<{ name: string; state: string; client_order_ref: string | false }[]>((callback) =>
    client.execute_kw('sale.order', 'search_read', [[[['client_order_ref', '=like', 'hubspot:%']], ['name', 'state', 'client_order_ref']]], callback as never),
  );
  return rows.map((row) => ({ name: row.name, state: row.state, dealId: String(row.client_order_ref).slice('hubspot:'.length) }));
}

/** A message found in a dead-letter queue. */
export interface DeadLetter {
  readonly queue: string;
  /** The deal it is about, when its body names one. */
  readonly dealId: string | undefined;
  readonly reason: string;
}

/** One audit record, the fields the harness reads. */
export interface AuditRow {
  readonly businessKey: string;
  readonly kind: string;
  readonly action: string;
  readonly outcome: string;
  readonly erpOrderRef?: string;
  readonly error?: string;
}

/** Clients on the hub's AWS endpoint. */
export class HubObserver {
  private readonly sqs: SQSClient;
  private readonly sfn: SFNClient;
  private readonly dynamo: DynamoDBDocumentClient;

  constructor(awsEndpoint: string) {
    const aws = { endpoint: awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 2 };
    this.sqs = new SQSClient(aws);
    this.sfn = new SFNClient(aws);
    this.dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(aws));
  }

  /**
   * Every message in the dead-letter queues, with the deal it names and its reason. Messages are
   * received with a 1 s visibility timeout, so they are back in the queue right after.
   */
  async deadLetters(): Promise<DeadLetter[]> {
    const urls = (await this.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    const letters: DeadLetter[] = [];
    for (const url of urls.filter((candidate) => /dlq|dead/i.test(candidate.split('/').pop() ?? ''))) {
      const queue = url.split('/').pop()!;
      const attributes = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      const total = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      if (total === 0) continue;
      const seen = new Set<string>();
      for (let round = 0; round < 1000; round += 1) {
        const page = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 1, WaitTimeSeconds: 0 }));
        const fresh = (page.Messages ?? []).filter((message) => !seen.has(message.MessageId ?? ''));
        if (fresh.length === 0) break;
        for (const message of fresh) {
          seen.add(message.MessageId ?? '');
          const body = message.Body ?? '';
          const dealId = /"dealId"\s*:\s*"?(\d+)/.exec(body)?.[1] ?? /deal:hubspot:\d+:(\d+)/.exec(body)?.[1];
          const reason = /"(?:reason|errorMessage|error|Cause|cause)"\s*:\s*"((?:[^"\\]|\\.){0,160})/.exec(body)?.[1] ?? body.slice(0, 160);
          letters.push({ queue, dealId, reason });
        }
      }
      if (seen.size < total) letters.push({ queue, dealId: undefined, reason: `${total - seen.size} more message(s) not received` });
    }
    return letters;
  }

  /** Number of saga executions still running. */
  async runningExecutions(): Promise<number> {
    let running = 0;
    for (const machine of (await this.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []) {
      let nextToken: string | undefined;
      do {
        const page = await this.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn, statusFilter: 'RUNNING', nextToken }));
        running += page.executions?.length ?? 0;
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
    }
    return running;
  }

  /** Every record of the audit table (the one whose name matches /audit/i). */
  async auditRecords(): Promise<AuditRow[]> {
    const table = (await this.dynamo.send(new ListTablesCommand({}))).TableNames?.find((name) => /audit/i.test(name));
    if (table === undefined) throw new Error('the hub has no audit table');
    const rows: AuditRow[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: cursor }));
      rows.push(...((page.Items ?? []) as AuditRow[]));
      cursor = page.LastEvaluatedKey;
    } while (cursor !== undefined);
    return rows;
  }

  /** Closes the clients. */
  destroy(): void {
    this.sqs.destroy();
    this.sfn.destroy();
    this.dynamo.destroy();
  }
}
