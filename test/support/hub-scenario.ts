/**
 * One local hub for end-to-end scenarios: HubSpot as the CRM and a chosen ERP, each on its
 * sandbox, started from the synthesized template in a fresh data directory. A scenario drives
 * it from outside as people and vendors would — a salesperson's deal moved to won in the
 * sandbox CRM, faults asked of a sandbox over its control routes — and reads what happened
 * where an operator would: the deal's ERP fields, the saga's execution, the audit table.
 * Every call of the harness to a sandbox carries `x-sandbox-faults: bypass`, so injected
 * faults hit the hub's calls only.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Client } from '@hubspot/api-client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BYPASS_FAULTS, HUBSPOT_TOKEN, moveToWon, readDealSync, type DealSync } from '../../bench/chaos/crm-driver.ts';
import type { AuditRecord } from '../../functions/core/audit.ts';
import { readHubEnvironment } from '../../local/config.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';
import { SANDBOXES } from '../../local/sandbox/catalog.ts';
import type { FaultRequest } from '../../local/sandbox/faults.ts';
import { createDeal, type NewDealLine } from '../../local/sandbox/hubspot/salesperson.ts';
import { waitFor } from '../../local/wait-for.ts';

export type { DealSync };

/** The control routes every sandbox shares, called with the bypass header. */
export interface SandboxControl {
  readonly url: string;
  /** `POST /__sandbox/faults`. */
  injectFault(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind' | 'count'>): Promise<void>;
  /** `DELETE /__sandbox/faults`. */
  clearFaults(): Promise<void>;
  /**
   * Clears the faults and says how many calls were still due to fail (`GET /__sandbox/faults`):
   * 0 proves the system under test made every call a scenario meant to fault.
   */
  drainFaults(): Promise<number>;
  /** Any other control route; resolves with the JSON answer (undefined for an empty one). */
  call(method: string, path: string, body?: unknown): Promise<unknown>;
}

/** How one deal's saga ended, as the execution and the audit tell it. */
export interface SagaRun {
  readonly dealId: string;
  /** `deal:hubspot:<portal>:<deal>`, the audit's partition key. */
  readonly businessKey: string;
  readonly executionName: string;
  /** The id the ingress gives the won webhook's event, `hubspot:<eventId>` (the WebhookAccepted record's `facts.eventId`). */
  readonly wonEventId: string;
  /** How many executions the deal has: one, unless a duplicate start got through. */
  readonly executions: number;
  /** The execution's final status: `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`. */
  readonly status: string;
  /** Every audit record of the deal, oldest first. */
  readonly audit: readonly AuditRecord[];
}

/** A running scenario hub. */
export interface ScenarioHub {
  readonly hub: RunningHub;
  readonly hubspotUrl: string;
  readonly crm: SandboxControl;
  /** The chosen ERP's sandbox. */
  readonly erp: SandboxControl;
  /** Creates a company and a deal with these lines in an open stage; the company name is made unique. */
  createDeal(name: string, lines: readonly NewDealLine[]): Promise<{ dealId: string; companyName: string }>;
  /** Moves the deal to won, which makes the sandbox CRM send its signed webhook. */
  winDeal(dealId: string): Promise<void>;
  /** The deal's ERP fields as the CRM shows them. */
  dealSync(dealId: string): Promise<DealSync>;
  /** Waits until the deal's won webhook was delivered and its saga ended; throws naming what never happened. */
  sagaOf(dealId: string, timeoutMs?: number): Promise<SagaRun>;
  /** Stops the hub and removes its data (kept when KEEP_HUB_DATA is set). */
  stop(): Promise<void>;
}

const AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** Control routes of the sandbox at `url`. */
export function sandboxControl(url: string): SandboxControl {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}${path}`, {
      method,
      // A fresh connection per call: a pooled one may be dead after a scenario restarted the sandbox in place.
      headers: { ...BYPASS_FAULTS, connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sandbox ${method} ${url}${path}: HTTP ${response.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  return {
    url,
    call,
    injectFault: async (fault) => void (await call('POST', '/__sandbox/faults', fault)),
    clearFaults: async () => void (await call('DELETE', '/__sandbox/faults')),
    async drainFaults() {
      const { remaining } = (await call('GET', '/__sandbox/faults')) as { remaining: number };
      await call('DELETE', '/__sandbox/faults');
      return remaining;
    },
  };
}

/** One delivery attempt of the sandbox CRM's webhook outbox. */
interface Delivery {
  readonly outcome: string;
  readonly body: string;
}

/** Starts a hub with HubSpot and `erp`, each on its sandbox (free ports, fresh data directory). */
export async function startScenarioHub(options: { readonly erp: string; readonly log?: (line: string) => void }): Promise<ScenarioHub> {
  const definition = SANDBOXES.get(options.erp);
  if (definition === undefined) throw new Error(`no sandbox for ERP ${options.erp} in local/sandbox/catalog.ts`);
  // The functions' own warnings (every failed attempt logs one) would bury the test report.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const dataDir = mkdtempSync(join(tmpdir(), `harmony-scenario-${options.erp}-`));
  let hub: RunningHub;
  try {
    hub = await startHub({
      environment: readHubEnvironment({
        CRM_SYSTEM: 'hubspot',
        ERP_SYSTEM: options.erp,
        HARMONY_DATA_DIR: dataDir,
        HARMONY_AWS_PORT: '0',
        HARMONY_INGRESS_PORT: '0',
        HARMONY_HUBSPOT_PORT: '0',
        [definition.portVariable]: '0',
      }),
      log: options.log ?? (() => undefined),
      onAlarm: () => undefined,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const hubspotUrl = hub.hubspotUrl;
  const erpSandbox = hub.sandboxes.get(options.erp);
  if (hubspotUrl === undefined || erpSandbox === undefined) {
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`the hub started no ${hubspotUrl === undefined ? 'HubSpot' : options.erp} sandbox`);
  }
  const aws = { endpoint: hub.awsEndpoint, region: 'us-east-1', credentials: AWS_CREDENTIALS };
  const sfn = new SFNClient(aws);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(aws));
  const salesperson = new Client({ accessToken: HUBSPOT_TOKEN, basePath: hubspotUrl, defaultHeaders: { ...BYPASS_FAULTS } });
  const crm = sandboxControl(hubspotUrl);
  let auditTable: string | undefined;
  let machineArn: string | undefined;

  const readAudit = async (businessKey: string): Promise<AuditRecord[]> => {
    auditTable ??= (await dynamo.send(new ListTablesCommand({}))).TableNames?.find((name) => /audit/i.test(name));
    if (auditTable === undefined) throw new Error('the hub has no audit table');
    const records: AuditRecord[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(
        new QueryCommand({ TableName: auditTable, KeyConditionExpression: 'businessKey = :key', ExpressionAttributeValues: { ':key': businessKey }, ExclusiveStartKey: cursor }),
      );
      records.push(...((page.Items ?? []) as AuditRecord[]));
      cursor = page.LastEvaluatedKey;
    } while (cursor !== undefined);
    return records.sort((left, right) => left.at.localeCompare(right.at));
  };

  const executionOf = async (dealId: string) => {
    machineArn ??= (await sfn.send(new ListStateMachinesCommand({}))).stateMachines?.find((machine) => /OrderToCash/.test(machine.name ?? ''))?.stateMachineArn;
    if (machineArn === undefined) throw new Error('the hub has no order-to-cash state machine');
    const executions = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, nextToken }));
      executions.push(...(page.executions ?? []).filter((execution) => execution.name?.includes(`-${dealId}-`)));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return executions;
  };

  const wonWebhookOf = async (dealId: string): Promise<{ portalId: number; eventId: number } | undefined> => {
    const deliveries = (await crm.call('GET', '/__sandbox/webhook-deliveries?limit=1000')) as Delivery[];
    for (const delivery of deliveries) {
      if (delivery.outcome !== 'delivered') continue;
      const events = JSON.parse(delivery.body) as { eventId: number; objectId: number; propertyValue?: string; portalId: number }[];
      const won = events.find((event) => String(event.objectId) === dealId && event.propertyValue === 'closedwon');
      if (won !== undefined) return won;
    }
    return undefined;
  };

  return {
    hub,
    hubspotUrl,
    crm,
    erp: sandboxControl(erpSandbox.url),
    async createDeal(name, lines) {
      const companyName = `${name} ${Date.now().toString(36)}`;
      return { dealId: await createDeal(salesperson, { dealName: name, companyName, lines }), companyName };
    },
    winDeal: async (dealId) => void (await moveToWon(hubspotUrl, dealId)),
    dealSync: async (dealId) => (await readDealSync(hubspotUrl, [dealId])).get(dealId) ?? { erpOrderRef: undefined, erpStatus: undefined, syncError: undefined },
    async sagaOf(dealId, timeoutMs = 75_000) {
      const poll = { timeoutMs, intervalMs: 250 };
      const { portalId, eventId } = await waitFor(`the CRM to deliver deal ${dealId}'s won webhook`, () => wonWebhookOf(dealId), poll);
      const executions = await waitFor(
        `deal ${dealId}'s saga to start and end`,
        async () => {
          const found = await executionOf(dealId);
          return found.length > 0 && found.every((execution) => execution.status !== 'RUNNING') ? found : undefined;
        },
        poll,
      );
      const businessKey = `deal:hubspot:${portalId}:${dealId}`;
      const [execution] = executions;
      return {
        dealId,
        businessKey,
        executionName: execution!.name!,
        wonEventId: `hubspot:${eventId}`,
        executions: executions.length,
        status: execution!.status!,
        audit: await readAudit(businessKey),
      };
    },
    async stop() {
      sfn.destroy();
      dynamo.destroy();
      await hub.stop();
      if (process.env.KEEP_HUB_DATA === undefined) rmSync(dataDir, { recursive: true, force: true });
      else console.log(`hub data kept in ${dataDir}`);
    },
  };
}
