/**
 * Reads what the hub and the sandbox ERP hold after (or during) a chaos run, through
 * clients Harmony did not write: `odoo-xmlrpc` for sale orders and customers, the AWS
 * SDK on the hub's endpoint for dead-letter queues (the compensation DLQ's reports
 * parsed), running executions and the audit table.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createRequire } from 'node:module';
import * as z from 'zod';

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

/** What the ERP holds for Harmony: its sale orders and the refs of active customers made from CRM records. */
export interface ErpContents {
  /** Every sale order whose client reference starts with `hubspot:`, cancelled ones included. */
  readonly orders: readonly HarmonyOrder[];
  /** Every active partner with a `ref` (Harmony sets it to the CRM record id, e.g. `hubspot:company:42`). */
  readonly partners: readonly { readonly id: number; readonly ref: string }[];
}

/** Reads the sale orders and partners Harmony made, with the community XML-RPC client. */
export async function readErp(odooUrl: string): Promise<ErpContents> {
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
  const partners = await call<{ id: number; ref: string | false }[]>((callback) =>
    client.execute_kw('res.partner', 'search_read', [[[['ref', '!=', false], ['active', '=', true]], ['id', 'ref']]], callback as never),
  );
  return {
    orders: rows.map((row) => ({ name: row.name, state: row.state, dealId: String(row.client_order_ref).slice('hubspot:'.length) })),
    partners: partners.flatMap((partner) => (partner.ref === false ? [] : [{ id: partner.id, ref: partner.ref }])),
  };
}

/** A message found in a dead-letter queue. */
export interface DeadLetter {
  readonly queue: string;
  /** The deal it is about, when its body names one. */
  readonly dealId: string | undefined;
  readonly reason: string;
  /** For a compensation dead letter: the compensation that failed for good (e.g. `CancelSalesOrder`). */
  readonly compensation?: string;
}

/** The body the saga sends to the compensation DLQ (`CompensationDeadLetter` in lib/constructs/saga-state-machine.ts). */
const CompensationLetter = z.object({
  businessKey: z.string(),
  compensation: z.string(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).nullish(),
});

function errorText(error: { Error?: string | undefined; Cause?: string | undefined } | null | undefined): string {
  const cause = error?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Plain text.
  }
  return cause || error?.Error || 'no reason given';
}

/** Reads one dead letter: the compensation report's fields when it is one, else the deal and reason found in the body. */
function toDeadLetter(queue: string, body: string): DeadLetter {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const compensation = CompensationLetter.safeParse(json);
  if (compensation.success) {
    return {
      queue,
      dealId: /deal:hubspot:\d+:(\d+)/.exec(compensation.data.businessKey)?.[1],
      reason: errorText(compensation.data.error).slice(0, 200),
      compensation: compensation.data.compensation,
    };
  }
  const dealId = /"dealId"\s*:\s*"?(\d+)/.exec(body)?.[1] ?? /deal:hubspot:\d+:(\d+)/.exec(body)?.[1];
  const reason = /"(?:reason|errorMessage|error|Cause|cause)"\s*:\s*"((?:[^"\\]|\\.){0,160})/.exec(body)?.[1] ?? body.slice(0, 160);
  return { queue, dealId, reason };
}

/** How many messages one work queue holds. */
export interface QueueDepth {
  readonly queue: string;
  readonly waiting: number;
  /** Received and neither deleted nor returned yet. */
  readonly inFlight: number;
  readonly delayed: number;
  readonly visibilityTimeoutSeconds: number;
}

/** One audit record, the fields the harness reads. */
export interface AuditRow {
  readonly businessKey: string;
  readonly kind: string;
  readonly action: string;
  readonly outcome: string;
  readonly executionName?: string;
  readonly erpOrderRef?: string;
  readonly error?: string;
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
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
          letters.push(toDeadLetter(queue, message.Body ?? ''));
        }
      }
      if (seen.size < total) letters.push({ queue, dealId: undefined, reason: `${total - seen.size} more message(s) not received` });
    }
    return letters;
  }

  /** Names of the saga executions still running. */
  async runningExecutions(): Promise<string[]> {
    const running: string[] = [];
    for (const machine of (await this.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []) {
      let nextToken: string | undefined;
      do {
        const page = await this.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn, statusFilter: 'RUNNING', nextToken }));
        running.push(...(page.executions ?? []).map((execution) => execution.name ?? '?'));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
    }
    return running;
  }

  /**
   * Messages in the work queues (every queue but the dead-letter ones): waiting, delayed and in
   * flight. A message in flight whose consumer failed, or whose receiver was killed and not yet
   * released, comes back only after the queue's visibility timeout, so that is reported too.
   */
  async workQueues(): Promise<QueueDepth[]> {
    const urls = (await this.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    const depths: QueueDepth[] = [];
    for (const url of urls.filter((candidate) => !/dlq|dead/i.test(candidate.split('/').pop() ?? ''))) {
      const { Attributes: attributes = {} } = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed', 'VisibilityTimeout'],
        }),
      );
      depths.push({
        queue: url.split('/').pop()!,
        waiting: Number(attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
        visibilityTimeoutSeconds: Number(attributes.VisibilityTimeout ?? 30),
      });
    }
    return depths;
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
