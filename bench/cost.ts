/**
 * Cost per 1M orders on AWS (us-east-1): drives orders through a local run of the real hub
 * (won deal in the sandbox CRM → confirmed sandbox ERP order → status back on the deal),
 * counts every billed unit each order causes, and prices them with the dated price list in
 * bench/prices/aws-us-east-1.json. Also prices the same counts as an Express workflow, a
 * what-if: Harmony deploys a Standard state machine.
 */
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { Client } from '@hubspot/api-client';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { readEnv } from '../functions/core/env.ts';
import { readHubEnvironment } from '../local/config.ts';
import { startHub, type RunningHub } from '../local/hub.ts';
import type { SqsRequestCount } from '../local/sqs/service.ts';
import { ONE_WIDGET_LINE, createDeal, winDeal } from '../local/sandbox/hubspot/salesperson.ts';
import { waitFor } from '../local/wait-for.ts';
import type { BenchResult } from './run.ts';

// ---------------------------------------------------------------------------------------
// Billing arithmetic (pure; test/unit/cost-model.test.ts)
// ---------------------------------------------------------------------------------------

/** SQS and EventBridge bill each started 64 KB (65,536 bytes) of a payload as one unit. */
export const PAYLOAD_CHUNK_BYTES = 64 * 1024;

/** Lambda duration as billed: rounded up to the next whole millisecond, at least 1 ms. */
export function lambdaBilledMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

/** GB-seconds of one Lambda invocation: configured memory (MB / 1024) × billed seconds. */
export function lambdaGbSeconds(memoryMb: number, durationMs: number): number {
  return (memoryMb / 1024) * (lambdaBilledMs(durationMs) / 1000);
}

/** Billed units of a payload charged per started chunk (SQS requests, EventBridge events). */
export function payloadChunks(bytes: number, chunkBytes: number = PAYLOAD_CHUNK_BYTES): number {
  return Math.max(1, Math.ceil(bytes / chunkBytes));
}

/** DynamoDB write request units of writing an item of `itemBytes`: one per started KB. */
export function dynamoWriteUnits(itemBytes: number): number {
  return Math.max(1, Math.ceil(itemBytes / 1024));
}

/** DynamoDB read request units of reading `bytes`: one per started 4 KB strongly consistent, half that eventually consistent. */
export function dynamoReadUnits(bytes: number, stronglyConsistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return stronglyConsistent ? units : units / 2;
}

/** Size of a UTF-8 string in bytes. */
const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** DynamoDB's size of one attribute value in its wire form (`{ S: … }`, `{ N: … }`, …). */
export function dynamoValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) {
    const digits = value.N.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  // The wire form carries binary as base64 text; the SDK's type says Uint8Array.
  if (value.B !== undefined) return typeof (value.B as unknown) === 'string' ? Buffer.from(value.B as unknown as string, 'base64').length : value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((total, item) => total + utf8(item), 0);
  if (value.NS !== undefined) return value.NS.reduce((total, item) => total + dynamoValueBytes({ N: item }), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((total, item) => total + 1 + dynamoValueBytes(item), 0);
  if (value.M !== undefined) return 3 + dynamoItemBytes(value.M) + Object.keys(value.M).length;
  return 0;
}

/** DynamoDB's size of an item: attribute names plus values, as request units are computed from. */
export function dynamoItemBytes(item: Readonly<Record<string, AttributeValue>>): number {
  return Object.entries(item).reduce((total, [name, value]) => total + utf8(name) + dynamoValueBytes(value), 0);
}

/** Express workflow GB-seconds: duration up to the next 100 ms, memory up to the next 64 MB chunk. */
export function expressGbSeconds(durationMs: number, memoryMb: number): number {
  const billedMs = Math.max(100, Math.ceil(durationMs / 100) * 100);
  const billedMb = Math.max(64, Math.ceil(memoryMb / 64) * 64);
  return (billedMb / 1024) * (billedMs / 1000);
}

/** EventBridge's size of one PutEvents entry: 14 bytes of Time plus Source, DetailType, Detail and Resources. */
export function eventBridgeEntryBytes(entry: { Source?: string; DetailType?: string; Detail?: string; Resources?: readonly string[] }): number {
  return 14 + utf8(entry.Source ?? '') + utf8(entry.DetailType ?? '') + utf8(entry.Detail ?? '') + (entry.Resources ?? []).reduce((total, arn) => total + utf8(arn), 0);
}

/** US dollars that `perOrder` units cost over one million orders at `usd` per `per` units. */
export function costPerMillionOrders(perOrder: number, price: { readonly usd: number; readonly per: number }): number {
  return (perOrder * 1_000_000 * price.usd) / price.per;
}

// ---------------------------------------------------------------------------------------
// Price list
// ---------------------------------------------------------------------------------------

const Price = z.object({
  usd: z.number().positive(),
  per: z.number().positive(),
  unit: z.string().min(1),
  source: z.url(),
  figureFrom: z.string().min(1),
  pageDate: z.string().min(1),
  rule: z.string().optional(),
});

/** The dated price list kept in bench/prices/. */
export const PriceList = z.object({
  region: z.literal('us-east-1'),
  currency: z.literal('USD'),
  read: z.iso.date(),
  freeTiers: z.string(),
  howRead: z.string(),
  prices: z.object({
    lambdaRequest: Price,
    lambdaArmGbSecond: Price,
    apiGatewayRestRequest: Price,
    wafRequest: Price,
    stepFunctionsStandardTransition: Price,
    stepFunctionsExpressRequest: Price,
    stepFunctionsExpressGbSecond: Price,
    sqsStandardRequest: Price,
    eventBridgeCustomEvent: Price,
    dynamoWriteRequestUnit: Price,
    dynamoReadRequestUnit: Price,
    cloudWatchLogsIngestedGb: Price,
    xrayTraceRecorded: Price,
    secretsManagerApiCall: Price,
  }),
});
export type PriceList = z.infer<typeof PriceList>;
type PriceName = keyof PriceList['prices'];

/** Reads and checks the price list. */
export function readPriceList(file: URL = new URL('./prices/aws-us-east-1.json', import.meta.url)): PriceList {
  const parsed = PriceList.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file.pathname}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------
// Assumptions that are not measured locally
// ---------------------------------------------------------------------------------------

/** The monthly volume that time-driven units (idle polls, secret refreshes) are spread over. */
const ORDERS_PER_MONTH = 1_000_000;
const SECONDS_PER_MONTH = 30 * 86_400;
/** Lambda's SQS event source keeps 5 long-polling pollers per queue while idle, each a 20 s ReceiveMessage. */
const AWS_IDLE_POLLERS_PER_QUEUE = 5;
const AWS_LONG_POLL_SECONDS = 20;
/** Secrets are cached 5 minutes per warm instance (functions/core/secrets.ts); one warm instance each at this volume. */
const SECRET_CACHE_SECONDS = 300;
/** Secrets each function reads per refresh: ingest the HubSpot client secret; steps the HubSpot and Odoo credentials. */
const SECRETS_READ_BY_ENTRY: Readonly<Record<string, number>> = {
  'functions/handlers/ingest.ts': 1,
  'functions/handlers/run-step.ts': 2,
};
/** Lambda platform records per invocation in JSON log format (start, report with X-Ray ids) and one EMF metrics blob. */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 1_000;
/** One Step Functions log event per history event (level ALL, execution data excluded). */
const STEP_FUNCTIONS_LOG_BYTES_PER_EVENT = 350;
/** One API Gateway access-log line (the stage's 17-field JSON format). */
const ACCESS_LOG_BYTES_PER_REQUEST = 600;
/** CloudWatch Logs counts 26 bytes of metadata per log event on top of the message. */
const LOG_EVENT_OVERHEAD_BYTES = 26;
/** Express what-if: the saga's definition and payloads are far below 64 MB, so one chunk. */
const EXPRESS_MEMORY_MB = 64;

const Settings = z.object({
  /** Orders measured. */
  HARMONY_COST_ORDERS: z.coerce.number().int().positive().default(50),
  /** Orders run before measuring, so first-use JIT and cold starts are out of the durations. */
  HARMONY_COST_WARMUP_ORDERS: z.coerce.number().int().min(0).default(3),
  /** Deals moved to won at once. */
  HARMONY_COST_CONCURRENCY: z.coerce.number().int().positive().default(4),
});

// ---------------------------------------------------------------------------------------
// Counting
// ---------------------------------------------------------------------------------------

interface DynamoRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

interface Invocation {
  readonly functionName: string;
  readonly durationMs: number;
  readonly initDurationMs: number | undefined;
}

interface Execution {
  readonly executionArn: string;
  readonly startMs: number;
  readonly stopMs: number;
  readonly status: string;
}

/** Everything the hub did while recording. */
interface Recording {
  recording: boolean;
  readonly invocations: Invocation[];
  readonly dynamo: DynamoRequest[];
  readonly putEventsEntries: { Source?: string; DetailType?: string; Detail?: string; Resources?: string[] }[];
  logBytes: number;
  logLines: number;
  /** CRM events inside the webhook requests the ingest function received. */
  webhookEvents: number;
}

const HUBSPOT_TOKEN = 'pat-local-harmony';

/** Waits for an order; a deal that failed ends the wait with its reason instead of running into the timeout. */
const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 120_000 });

/** One order as a salesperson makes it: a company, a deal with one line, then the deal moved to won; resolves when confirmed. */
async function placeOrder(crm: Client, name: string): Promise<string> {
  const dealId = await createDeal(crm, { dealName: name, companyName: name, lines: ONE_WIDGET_LINE });
  await winDeal(crm, dealId);
  await until(`deal ${dealId} to be confirmed`, async () => {
    const properties = (await crm.crm.deals.basicApi.getById(dealId, ['erp_status', 'erp_sync_error'])).properties;
    if (properties.erp_status === 'sync_failed') throw new Error(`deal ${dealId} failed: ${properties.erp_sync_error}`);
    return properties.erp_status === 'confirmed' ? true : undefined;
  });
  return dealId;
}

async function placeOrders(crm: Client, count: number, concurrency: number, prefix: string): Promise<void> {
  let next = 0;
  const failures: Error[] = [];
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await placeOrder(crm, `${prefix} ${index} GmbH`).catch((error: Error) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failures.length > 0) throw new Error(`${failures.length} of ${count} orders did not confirm: ${failures[0]!.message}`);
}

/** Executions of every state machine that started at or after `sinceMs`, once none of them is running. */
async function executionsSince(hub: RunningHub, sinceMs: number): Promise<Execution[]> {
  const machines = (await hub.stepFunctions.handle('ListStateMachines', {})) as { stateMachines: { stateMachineArn: string }[] };
  const executions: Execution[] = [];
  for (const machine of machines.stateMachines) {
    let nextToken: string | undefined;
    do {
      const page = (await hub.stepFunctions.handle('ListExecutions', { stateMachineArn: machine.stateMachineArn, maxResults: 1000, ...(nextToken === undefined ? {} : { nextToken }) })) as {
        executions: { executionArn: string; startDate: number; stopDate?: number; status: string }[];
        nextToken?: string;
      };
      for (const execution of page.executions) {
        const startMs = execution.startDate * 1000;
        if (startMs < sinceMs) continue;
        executions.push({ executionArn: execution.executionArn, startMs, stopMs: (execution.stopDate ?? Number.NaN) * 1000, status: execution.status });
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }
  return executions;
}

/** History event types of one execution, oldest first. */
async function historyOf(hub: RunningHub, executionArn: string): Promise<string[]> {
  const types: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = (await hub.stepFunctions.handle('GetExecutionHistory', { executionArn, maxResults: 1000, ...(nextToken === undefined ? {} : { nextToken }) })) as {
      events: { type: string }[];
      nextToken?: string;
    };
    types.push(...page.events.map((event) => event.type));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return types;
}

/** Sizes of every stored item by table, keyed by its primary key, and each table's partition key name. */
async function storedItems(awsEndpoint: string): Promise<Map<string, { partitionKey: string; keyNames: string[]; items: Map<string, number>; byPartition: Map<string, number> }>> {
  const client = new DynamoDBClient({ endpoint: awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const tables = new Map<string, { partitionKey: string; keyNames: string[]; items: Map<string, number>; byPartition: Map<string, number> }>();
  try {
    const names = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
    for (const name of names) {
      const schema = (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.KeySchema ?? [];
      const keyNames = schema.map((key) => key.AttributeName!);
      const partitionKey = schema.find((key) => key.KeyType === 'HASH')!.AttributeName!;
      const items = new Map<string, number>();
      const byPartition = new Map<string, number>();
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: name, ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }) }));
        for (const item of page.Items ?? []) {
          const bytes = dynamoItemBytes(item);
          items.set(keyOf(item, keyNames), bytes);
          const partition = JSON.stringify(item[partitionKey]);
          byPartition.set(partition, (byPartition.get(partition) ?? 0) + bytes);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      tables.set(name, { partitionKey, keyNames, items, byPartition });
    }
  } finally {
    client.destroy();
  }
  return tables;
}

/** Events in one API Gateway webhook request (HubSpot posts a JSON array of up to 100). */
function webhookEventCount(event: unknown): number {
  const body = (event as { body?: unknown } | null)?.body;
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : undefined;
    return Array.isArray(parsed) ? parsed.length : 1;
  } catch {
    return 1;
  }
}

function keyOf(item: Readonly<Record<string, unknown>>, keyNames: readonly string[]): string {
  return JSON.stringify(keyNames.map((name) => item[name]));
}

/** Request units of the recorded DynamoDB requests, sized from the request (puts) or the stored item (updates, reads). */
function dynamoUnits(requests: readonly DynamoRequest[], tables: Awaited<ReturnType<typeof storedItems>>) {
  let writeUnits = 0;
  let readUnits = 0;
  const operations: Record<string, number> = {};
  const storedSize = (tableName: unknown, key: unknown): number => {
    const table = tables.get(String(tableName));
    if (table === undefined || typeof key !== 'object' || key === null) return 0;
    return table.items.get(keyOf(key as Record<string, unknown>, table.keyNames)) ?? 0;
  };
  for (const { operation, body } of requests) {
    operations[operation] = (operations[operation] ?? 0) + 1;
    switch (operation) {
      case 'PutItem':
        writeUnits += dynamoWriteUnits(Math.max(dynamoItemBytes(body.Item as Record<string, AttributeValue>), storedSize(body.TableName, body.Item)));
        break;
      case 'UpdateItem':
      case 'DeleteItem':
        writeUnits += dynamoWriteUnits(storedSize(body.TableName, body.Key));
        break;
      case 'GetItem':
        readUnits += dynamoReadUnits(storedSize(body.TableName, body.Key), body.ConsistentRead === true);
        break;
      case 'BatchWriteItem':
        for (const [, entries] of Object.entries(body.RequestItems as Record<string, { PutRequest?: { Item: Record<string, AttributeValue> } }[]>)) {
          for (const entry of entries) writeUnits += dynamoWriteUnits(entry.PutRequest === undefined ? 0 : dynamoItemBytes(entry.PutRequest.Item));
        }
        break;
      case 'Query': {
        const table = tables.get(String(body.TableName));
        const match = /([#\w]+)\s*=\s*(:\w+)/.exec(String(body.KeyConditionExpression ?? ''));
        const values = (body.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
        const bytes = table === undefined || match === null ? 0 : (table.byPartition.get(JSON.stringify(values[match[2]!])) ?? 0);
        readUnits += dynamoReadUnits(bytes, body.ConsistentRead === true);
        break;
      }
      default:
        if (/^(Transact|BatchGet|Scan)/.test(operation)) throw new Error(`the cost model does not price DynamoDB ${operation} yet`);
    }
  }
  return { writeUnits, readUnits, operations };
}

// ---------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------

interface Line {
  readonly unit: string;
  readonly perOrder: number;
  readonly price: PriceName;
}

const diffCounts = (after: Readonly<Record<string, SqsRequestCount>>, before: Readonly<Record<string, SqsRequestCount>>) =>
  Object.fromEntries(
    Object.entries(after).map(([operation, counts]) => {
      const base = before[operation] ?? { requests: 0, billed: 0, empty: 0 };
      return [operation, { requests: counts.requests - base.requests, billed: counts.billed - base.billed, empty: counts.empty - base.empty }];
    }),
  ) as Record<string, SqsRequestCount>;

/** Runs the benchmark. */
export async function benchCost(): Promise<BenchResult> {
  const settings = readEnv(Settings);
  const prices = readPriceList();
  const dataDir = mkdtempSync(join(tmpdir(), 'harmony-cost-'));
  const recording: Recording = { recording: false, invocations: [], dynamo: [], putEventsEntries: [], logBytes: 0, logLines: 0, webhookEvents: 0 };

  // Deployed functions set no POWERTOOLS_LOG_LEVEL, so Powertools logs at INFO: log what AWS would.
  const previousLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  const hub = await startHub({
    environment: readHubEnvironment({ HARMONY_DATA_DIR: dataDir, HARMONY_AWS_PORT: '0', HARMONY_INGRESS_PORT: '0', HARMONY_HUBSPOT_PORT: '0', HARMONY_ODOO_PORT: '0' }),
    log: () => undefined,
    onAlarm: () => undefined,
    onAwsRequest: (target, body) => {
      if (!recording.recording) return;
      const [prefix, operation = ''] = target.split('.');
      if (prefix === 'DynamoDB_20120810') recording.dynamo.push({ operation, body: JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      if (target === 'AWSEvents.PutEvents') recording.putEventsEntries.push(...((JSON.parse(body.toString('utf8')) as { Entries: Recording['putEventsEntries'] }).Entries));
    },
  });
  if (previousLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = previousLogLevel;

  // Every invocation's duration (the runtime's stats() keep only the last 20 per function).
  const invoke = hub.runtime.invoke.bind(hub.runtime);
  hub.runtime.invoke = async (reference, event) => {
    const outcome = await invoke(reference, event);
    if (recording.recording) {
      const fn = hub.runtime.functions.find((candidate) => [candidate.logicalId, candidate.functionName, candidate.arn].includes(reference));
      recording.invocations.push({ functionName: fn?.functionName ?? reference, durationMs: outcome.durationMs, initDurationMs: outcome.initDurationMs });
      if (fn?.entry === 'functions/handlers/ingest.ts') recording.webhookEvents += webhookEventCount(event);
    }
    return outcome;
  };
  // What the function instances log (worker threads write through this process's streams).
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, index) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (recording.recording) {
        recording.logBytes += typeof chunk === 'string' ? utf8(chunk) : chunk.length;
        recording.logLines += (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')).split('\n').filter((line) => line.trim() !== '').length;
      }
      return (writes[index] as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });

  const crm = new Client({ accessToken: HUBSPOT_TOKEN, basePath: hub.hubspotUrl! });
  try {
    await placeOrders(crm, settings.HARMONY_COST_WARMUP_ORDERS, settings.HARMONY_COST_CONCURRENCY, 'Cost warm-up');
    await until('the warm-up to settle', async () => ((await executionsSince(hub, 0)).every((execution) => execution.status !== 'RUNNING') ? true : undefined));

    const sqsBefore = hub.sqs.requestCounts();
    const eventsBefore = hub.eventBridge.stats().putEvents.accepted;
    const measuredFrom = Date.now();
    const startedAt = performance.now();
    recording.recording = true;
    await placeOrders(crm, settings.HARMONY_COST_ORDERS, settings.HARMONY_COST_CONCURRENCY, 'Cost order');
    const executions = await until('every execution to finish', async () => {
      const found = await executionsSince(hub, measuredFrom);
      return found.length >= settings.HARMONY_COST_ORDERS && found.every((execution) => execution.status !== 'RUNNING') ? found : undefined;
    });
    // Let the pollers delete the last batches and the status write-backs land.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    recording.recording = false;
    const wallMs = performance.now() - startedAt;
    const orders = settings.HARMONY_COST_ORDERS;

    // Lambda
    const memoryOf = new Map(hub.runtime.functions.map((fn) => [fn.functionName, fn] as const));
    const perFunction = [...memoryOf.values()].map((fn) => {
      const calls = recording.invocations.filter((invocation) => invocation.functionName === fn.functionName);
      const billedMs = calls.reduce((total, call) => total + lambdaBilledMs(call.durationMs), 0);
      return {
        functionName: fn.functionName,
        entry: fn.entry,
        memoryMb: fn.memoryMb,
        invocations: calls.length,
        coldStarts: calls.filter((call) => call.initDurationMs !== undefined).length,
        billedMs,
        gbSeconds: calls.reduce((total, call) => total + lambdaGbSeconds(fn.memoryMb, call.durationMs), 0),
        medianMs: calls.length === 0 ? 0 : [...calls].map((call) => call.durationMs).sort((a, b) => a - b)[Math.floor(calls.length / 2)]!,
      };
    });
    const ingest = perFunction.find((fn) => fn.entry === 'functions/handlers/ingest.ts')!;
    const starter = perFunction.find((fn) => fn.entry === 'functions/handlers/start-execution.ts');

    // Step Functions
    let stateEntered = 0;
    let retries = 0;
    let historyEvents = 0;
    for (const execution of executions) {
      const types = await historyOf(hub, execution.executionArn);
      historyEvents += types.length;
      stateEntered += types.filter((type) => type.endsWith('StateEntered')).length;
      const scheduled = types.filter((type) => type === 'LambdaFunctionScheduled' || type === 'TaskScheduled').length;
      const tasksEntered = types.filter((type) => type === 'TaskStateEntered').length;
      retries += Math.max(0, scheduled - tasksEntered);
    }
    const expressGbS = executions.reduce((total, execution) => total + expressGbSeconds(execution.stopMs - execution.startMs, EXPRESS_MEMORY_MB), 0);

    // SQS
    const sqs = diffCounts(hub.sqs.requestCounts(), sqsBefore);
    const sqsMessageRequests = Object.entries(sqs).reduce((total, [operation, counts]) => total + (operation === 'ReceiveMessage' ? counts.billed - counts.empty : counts.billed), 0);
    const localEmptyReceives = sqs.ReceiveMessage?.empty ?? 0;
    const mappedQueues = 1;
    const awsIdleReceivesPerMonth = mappedQueues * AWS_IDLE_POLLERS_PER_QUEUE * (SECONDS_PER_MONTH / AWS_LONG_POLL_SECONDS);

    // EventBridge
    const putEventsAccepted = hub.eventBridge.stats().putEvents.accepted - eventsBefore;
    const eventChunks = recording.putEventsEntries.reduce((total, entry) => total + payloadChunks(eventBridgeEntryBytes(entry)), 0);

    // DynamoDB
    const dynamo = dynamoUnits(recording.dynamo, await storedItems(hub.awsEndpoint));

    // CloudWatch Logs
    const invocationsTotal = perFunction.reduce((total, fn) => total + fn.invocations, 0);
    const logBytes =
      recording.logBytes + recording.logLines * LOG_EVENT_OVERHEAD_BYTES +
      invocationsTotal * (PLATFORM_LOG_BYTES_PER_INVOCATION + 2 * LOG_EVENT_OVERHEAD_BYTES) +
      historyEvents * (STEP_FUNCTIONS_LOG_BYTES_PER_EVENT + LOG_EVENT_OVERHEAD_BYTES) +
      ingest.invocations * (ACCESS_LOG_BYTES_PER_REQUEST + LOG_EVENT_OVERHEAD_BYTES);

    // Secrets Manager: a refresh per secret per cache period per warm instance, over the month's orders.
    const secretReadsPerMonth = perFunction.reduce((total, fn) => total + (SECRETS_READ_BY_ENTRY[fn.entry] ?? 0), 0) * (SECONDS_PER_MONTH / SECRET_CACHE_SECONDS);

    const lines: Line[] = [
      { unit: 'API Gateway REST requests (webhook deliveries)', perOrder: ingest.invocations / orders, price: 'apiGatewayRestRequest' },
      { unit: 'WAF requests inspected (web ACL on the API)', perOrder: ingest.invocations / orders, price: 'wafRequest' },
      ...perFunction.filter((fn) => fn.invocations > 0).flatMap((fn): Line[] => [
        { unit: `Lambda requests — ${fn.entry.replace('functions/handlers/', '')}`, perOrder: fn.invocations / orders, price: 'lambdaRequest' },
        { unit: `Lambda GB-s — ${fn.entry.replace('functions/handlers/', '')} (${fn.memoryMb} MB, median ${fn.medianMs} ms)`, perOrder: fn.gbSeconds / orders, price: 'lambdaArmGbSecond' },
      ]),
      { unit: 'Step Functions Standard state transitions', perOrder: (stateEntered + retries) / orders, price: 'stepFunctionsStandardTransition' },
      { unit: 'SQS requests with messages (send, receive, delete; 64 KB chunks)', perOrder: sqsMessageRequests / orders, price: 'sqsStandardRequest' },
      { unit: 'SQS empty receives (AWS pollers: 5 × 20 s long polls, idle)', perOrder: awsIdleReceivesPerMonth / ORDERS_PER_MONTH, price: 'sqsStandardRequest' },
      { unit: 'EventBridge custom events (64 KB chunks)', perOrder: eventChunks / orders, price: 'eventBridgeCustomEvent' },
      { unit: 'DynamoDB write request units', perOrder: dynamo.writeUnits / orders, price: 'dynamoWriteRequestUnit' },
      { unit: 'DynamoDB read request units', perOrder: dynamo.readUnits / orders, price: 'dynamoReadRequestUnit' },
      { unit: 'CloudWatch Logs ingested (GB)', perOrder: logBytes / 1e9 / orders, price: 'cloudWatchLogsIngestedGb' },
      { unit: 'X-Ray traces recorded (upper bound: one per ingress, starter and execution)', perOrder: (ingest.invocations + (starter?.invocations ?? 0) + executions.length) / orders, price: 'xrayTraceRecorded' },
      { unit: 'Secrets Manager API calls (5 min cache)', perOrder: secretReadsPerMonth / ORDERS_PER_MONTH, price: 'secretsManagerApiCall' },
    ];
    const priced = lines.map((line) => ({ ...line, costPerMillion: costPerMillionOrders(line.perOrder, prices.prices[line.price]) }));
    const total = priced.reduce((sum, line) => sum + line.costPerMillion, 0);
    const standard = priced.find((line) => line.price === 'stepFunctionsStandardTransition')!;
    const express = [
      { unit: 'Step Functions Express requests', perOrder: executions.length / orders, price: 'stepFunctionsExpressRequest' as const },
      { unit: `Step Functions Express GB-s (${EXPRESS_MEMORY_MB} MB, measured durations up to 100 ms)`, perOrder: expressGbS / orders, price: 'stepFunctionsExpressGbSecond' as const },
    ].map((line) => ({ ...line, costPerMillion: costPerMillionOrders(line.perOrder, prices.prices[line.price]) }));
    const expressTotal = total - standard.costPerMillion + express.reduce((sum, line) => sum + line.costPerMillion, 0);

    const unitPrice = (name: PriceName) => {
      const price = prices.prices[name];
      return price.per === 1 ? `$${price.usd} / ${price.unit.split(' (')[0]}` : `$${price.usd} / ${price.per.toLocaleString('en-US')}`;
    };
    const number = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3));
    const row = (line: (typeof priced)[number]) =>
      `| ${line.unit} | ${number(line.perOrder)} | ${number(line.perOrder * 1_000_000)} | ${unitPrice(line.price)} | $${line.costPerMillion.toFixed(2)} |`;
    const table = [
      '| unit | per order | per 1M orders | unit price | cost per 1M orders |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...priced.map(row),
      `| **total (Standard workflow, as deployed)** | | | | **$${total.toFixed(2)}** |`,
      '| _what-if, not deployed: Express workflow instead of Standard_ | | | | |',
      ...express.map(row),
      `| _total with Express (replaces the state-transition row)_ | | | | _$${expressTotal.toFixed(2)}_ |`,
    ];
    const notes = [
      `${orders} orders (after ${settings.HARMONY_COST_WARMUP_ORDERS} warm-up orders, ${settings.HARMONY_COST_CONCURRENCY} at a time) through a local run of the hub, each a won deal → confirmed Odoo order → status on the deal; ${(wallMs / 1000).toFixed(1)} s. Prices: us-east-1, read ${prices.read} (bench/prices/aws-us-east-1.json, each with its source and date); free tiers ignored; fixed monthly charges (KMS key, secrets, web ACL and rules, alarms, dashboard, log storage, DynamoDB storage) are not per order and not counted.`,
      `Lambda durations are this machine's, rounded up to 1 ms per invocation as AWS bills: a proxy for arm64 Lambda, where the vendor calls go over the internet instead of to local sandboxes. Cold-start (INIT) time, billed since August 2025, is left out: it depends on traffic shape, not on the order. Webhooks: ${ingest.invocations} requests carrying ${recording.webhookEvents} CRM events for ${orders} orders. HubSpot batches up to 100 events per request, so the request count depends on traffic: with every event in its own request, the API Gateway, WAF and ingest rows grow by ${(recording.webhookEvents / Math.max(1, ingest.invocations)).toFixed(2)}×.`,
      `SQS: ${Object.entries(sqs).filter(([, counts]) => counts.requests > 0).map(([operation, counts]) => `${operation} ${counts.requests}`).join(', ')} locally. The ${localEmptyReceives} empty receives of the local pollers (2 s polls) are replaced by AWS's: Lambda keeps ${AWS_IDLE_POLLERS_PER_QUEUE} long-polling pollers per queue, ${mappedQueues} queue, ≈ ${Math.round(awsIdleReceivesPerMonth).toLocaleString('en-US')} billed empty receives a month whatever the volume, spread here over ${ORDERS_PER_MONTH.toLocaleString('en-US')} orders a month; Secrets Manager calls are spread the same way (one warm instance per function, cache 5 min).`,
      `DynamoDB: ${Object.entries(dynamo.operations).map(([operation, count]) => `${operation} ${count}`).join(', ')} — sized from the request (puts) or the item stored at the end (updates, reads), 1 KB writes / 4 KB reads. Step Functions: ${stateEntered} states entered + ${retries} retries over ${executions.length} executions. EventBridge: ${putEventsAccepted} events accepted. Logs: ${(recording.logBytes / orders).toFixed(0)} B/order logged by the functions at INFO, plus assumed platform/EMF records (${PLATFORM_LOG_BYTES_PER_INVOCATION} B per invocation), Step Functions ALL-level records (${STEP_FUNCTIONS_LOG_BYTES_PER_EVENT} B per history event) and API access logs (${ACCESS_LOG_BYTES_PER_REQUEST} B per request).`,
    ];
    return {
      name: 'cost',
      title: 'Cost per 1M orders on AWS (us-east-1)',
      table,
      notes,
      data: {
        orders,
        warmupOrders: settings.HARMONY_COST_WARMUP_ORDERS,
        concurrency: settings.HARMONY_COST_CONCURRENCY,
        wallMs,
        pricesRead: prices.read,
        totalPerMillionOrdersUsd: total,
        expressWhatIfTotalPerMillionOrdersUsd: expressTotal,
        lines: priced,
        expressLines: express,
        measured: {
          functions: perFunction,
          stepFunctions: { executions: executions.length, stateEntered, retries, historyEvents },
          sqs,
          eventBridge: { putEventsAccepted, eventChunks },
          dynamo,
          logs: { functionLogBytes: recording.logBytes, functionLogLines: recording.logLines, totalEstimatedBytes: logBytes },
        },
        assumptions: {
          ordersPerMonth: ORDERS_PER_MONTH,
          awsIdlePollersPerQueue: AWS_IDLE_POLLERS_PER_QUEUE,
          awsLongPollSeconds: AWS_LONG_POLL_SECONDS,
          secretCacheSeconds: SECRET_CACHE_SECONDS,
          platformLogBytesPerInvocation: PLATFORM_LOG_BYTES_PER_INVOCATION,
          stepFunctionsLogBytesPerEvent: STEP_FUNCTIONS_LOG_BYTES_PER_EVENT,
          accessLogBytesPerRequest: ACCESS_LOG_BYTES_PER_REQUEST,
          expressMemoryMb: EXPRESS_MEMORY_MB,
        },
      },
    };
  } finally {
    recording.recording = false;
    streams.forEach((stream, index) => {
      stream.write = writes[index] as typeof stream.write;
    });
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// `node bench/cost.ts` runs this benchmark alone and prints its table.
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchCost();
  console.log(`\n${result.title}\n${result.table.join('\n')}\n\n${result.notes.join('\n\n')}`);
}
