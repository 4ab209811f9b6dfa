/**
 * What the end-to-end benchmarks read back, outside any measured window except the one
 * cheap count: the sandbox ERP's sale orders (Odoo's JSON-RPC, which the sandbox speaks),
 * and the hub's audit log (DynamoDB Scan on the hub's AWS endpoint), whose records carry
 * millisecond times for the webhook's acceptance, the saga's start and every step.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';

const ODOO = { db: 'harmony', uid: 2, apiKey: 'local-odoo-api-key' } as const;

const JsonRpcAnswer = z.union([
  z.object({ result: z.unknown() }),
  z.object({ error: z.looseObject({ message: z.string(), data: z.looseObject({ message: z.string().optional() }).optional() }) }),
]);

/** One `execute_kw` on the ERP through JSON-RPC. */
async function odooCall(odooUrl: string, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
  const response = await fetch(`${odooUrl}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      id: 1,
      params: { service: 'object', method: 'execute_kw', args: [ODOO.db, ODOO.uid, ODOO.apiKey, model, method, args, kwargs] },
    }),
  });
  const answer = JsonRpcAnswer.parse(await response.json());
  if ('error' in answer) throw new Error(`odoo ${model}.${method}: ${answer.error.data?.message ?? answer.error.message}`);
  return answer.result;
}

/**
 * How many sale orders the ERP holds confirmed (state `sale`) — of the given deals only, when
 * given: found through the sandbox's index on `client_order_ref`, so following a phase live
 * costs the same whatever the history.
 */
export async function countConfirmedOrders(odooUrl: string, dealIds?: readonly string[]): Promise<number> {
  const domain = dealIds === undefined ? [['state', '=', 'sale']] : [['client_order_ref', 'in', dealIds.map((id) => `hubspot:${id}`)], ['state', '=', 'sale']];
  return z.number().int().parse(await odooCall(odooUrl, 'sale.order', 'search_count', [domain]));
}

const OrderRow = z.object({ client_order_ref: z.union([z.string(), z.literal(false)]), state: z.string() });

/** Per deal (from `client_order_ref` `hubspot:<deal>`): how many orders the ERP holds, and how many are confirmed. */
export async function ordersByDeal(odooUrl: string): Promise<Map<string, { orders: number; confirmed: number }>> {
  const rows = z.array(OrderRow).parse(
    await odooCall(odooUrl, 'sale.order', 'search_read', [[['client_order_ref', '=like', 'hubspot:%']]], { fields: ['client_order_ref', 'state'] }),
  );
  const byDeal = new Map<string, { orders: number; confirmed: number }>();
  for (const row of rows) {
    const dealId = String(row.client_order_ref).slice('hubspot:'.length);
    const entry = byDeal.get(dealId) ?? { orders: 0, confirmed: 0 };
    entry.orders += 1;
    if (row.state === 'sale') entry.confirmed += 1;
    byDeal.set(dealId, entry);
  }
  return byDeal;
}

/** The audit trail of one saga, as epoch milliseconds. */
export interface SagaTimeline {
  /** The ingress took the webhook (`WebhookAccepted`). */
  accepted?: number;
  /** The starter's StartExecution returned (`SagaStarted`). */
  started?: number;
  /** Each succeeded step: when its attempt began and ended. */
  readonly steps: Record<string, { readonly begin: number; readonly end: number }>;
  /** Failed step attempts (retried or compensated). */
  failedAttempts: number;
  compensations: number;
}

const AuditItem = z.looseObject({
  businessKey: z.string(),
  at: z.string(),
  kind: z.string(),
  action: z.string(),
  outcome: z.string(),
  durationMs: z.number().optional(),
});

/**
 * Reads the audit table and groups it into one timeline per deal (`deal:hubspot:<portal>:<deal>`);
 * with `actions`, only records of those actions (DynamoDB still reads every item, but sends fewer).
 */
export async function auditTimelines(awsEndpoint: string, actions?: readonly string[]): Promise<Map<string, SagaTimeline>> {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  try {
    const table = (await dynamo.send(new ListTablesCommand({}))).TableNames?.find((name) => /audit/i.test(name));
    if (table === undefined) throw new Error('the hub has no audit table');
    const timelines = new Map<string, SagaTimeline>();
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: table,
          ExclusiveStartKey: cursor,
          ProjectionExpression: 'businessKey, #at, kind, #action, outcome, durationMs',
          ExpressionAttributeNames: { '#at': 'at', '#action': 'action' },
          ...(actions === undefined
            ? {}
            : {
                FilterExpression: `#action IN (${actions.map((_, index) => `:action${index}`).join(', ')})`,
                ExpressionAttributeValues: Object.fromEntries(actions.map((action, index) => [`:action${index}`, action])),
              }),
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = AuditItem.parse(raw);
        const dealId = /^deal:hubspot:\d+:(\d+)$/.exec(item.businessKey)?.[1];
        if (dealId === undefined) continue;
        const timeline = timelines.get(dealId) ?? { steps: {}, failedAttempts: 0, compensations: 0 };
        timelines.set(dealId, timeline);
        const at = Date.parse(item.at.slice(0, item.at.indexOf('#') < 0 ? undefined : item.at.indexOf('#')));
        if (item.kind === 'webhook' && item.outcome === 'succeeded') timeline.accepted = at;
        else if (item.kind === 'start' && item.outcome === 'succeeded') timeline.started = at;
        else if (item.kind === 'step' && item.outcome === 'succeeded') timeline.steps[item.action] = { begin: at, end: at + (item.durationMs ?? 0) };
        else if (item.kind === 'step') timeline.failedAttempts += 1;
        else if (item.kind === 'compensation') timeline.compensations += 1;
      }
      cursor = page.LastEvaluatedKey;
    } while (cursor !== undefined);
    return timelines;
  } finally {
    dynamo.destroy();
  }
}
