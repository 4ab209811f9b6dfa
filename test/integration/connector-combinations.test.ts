/**
 * Order-to-cash end to end on the local hub with other vendors than HubSpot and Odoo,
 * each chosen by configuration alone (CRM_SYSTEM / ERP_SYSTEM): the CRM sandbox announces
 * a won deal the way the vendor does (a Salesforce Outbound Message, a Pipedrive webhook),
 * the saga creates and confirms the order in the ERP sandbox, and the order number and
 * status land on the deal in the CRM.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../functions/core/audit.ts';
import { readHubEnvironment } from '../../local/config.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';
import { SANDBOXES } from '../../local/sandbox/catalog.ts';
import { SandboxControl as SalesforceControl } from '../../local/sandbox/salesforce/control-client.ts';
import { DEFAULT_ORGANIZATION_ID } from '../../local/sandbox/salesforce/server.ts';
import { waitFor } from '../../local/wait-for.ts';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;

/** Starts a hub for one CRM/ERP pair on free ports in a fresh data directory. */
async function startPair(crm: string, erp: string): Promise<{ hub: RunningHub; stop(): Promise<void>; audit(businessKey: string): Promise<AuditRecord[]> }> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const dataDir = mkdtempSync(join(tmpdir(), `harmony-${crm}-${erp}-`));
  const ports = Object.fromEntries([crm, erp].map((system) => [SANDBOXES.get(system)!.portVariable, '0']));
  const hub = await startHub({
    environment: readHubEnvironment({
      CRM_SYSTEM: crm,
      ERP_SYSTEM: erp,
      HARMONY_DATA_DIR: dataDir,
      HARMONY_AWS_PORT: '0',
      HARMONY_INGRESS_PORT: '0',
      ...ports,
    }),
    log: () => undefined,
    onAlarm: () => undefined,
  });
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...AWS, endpoint: hub.awsEndpoint }));
  let table: string | undefined;
  return {
    hub,
    async audit(businessKey) {
      table ??= (await dynamo.send(new ListTablesCommand({}))).TableNames?.find((name) => /audit/i.test(name));
      const page = await dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'businessKey = :key', ExpressionAttributeValues: { ':key': businessKey } }));
      return ((page.Items ?? []) as AuditRecord[]).sort((left, right) => left.at.localeCompare(right.at));
    },
    async stop() {
      dynamo.destroy();
      await hub.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('Salesforce → NetSuite', () => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  let salesforce: SalesforceControl;
  let netsuiteUrl: string;

  beforeAll(async () => {
    pair = await startPair('salesforce', 'netsuite');
    salesforce = new SalesforceControl(pair.hub.sandboxes.get('salesforce')!.url);
    netsuiteUrl = pair.hub.sandboxes.get('netsuite')!.url;
  }, 120_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('a won Opportunity becomes one approved NetSuite sales order whose number is on the Opportunity', async () => {
    const seeded = await salesforce.seedOpportunity({
      name: 'Nordwind — docking stations',
      account: { name: `Nordwind ${process.pid} GmbH`, billingCity: 'Hamburg', billingCountryCode: 'DE', vatNumber: `DE${process.pid}1` },
      contact: { firstName: 'Greta', lastName: 'Lind', email: `greta.${process.pid}@nordwind.example` },
      lines: [
        { productCode: 'DOCK-4', quantity: 2 },
        { productCode: 'CABLE-3', quantity: 10 },
      ],
    });
    const opportunityId = (seeded as { opportunityId: string }).opportunityId;

    const synced = await waitFor(
      'the Opportunity to show the ERP order',
      async () => {
        const record = await salesforce.record(opportunityId);
        return record.Harmony_ERP_Status__c === 'confirmed' || record.Harmony_ERP_Status__c === 'sync_failed' ? record : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(synced.Harmony_Sync_Error__c ?? null).toBeNull();
    expect(synced.Harmony_ERP_Status__c).toBe('confirmed');
    const orderNumber = String(synced.Harmony_ERP_Order_Ref__c);
    expect(orderNumber).toMatch(/^SO\d+$/);

    // NetSuite holds exactly one sales order for the Opportunity, approved, under that number.
    const orders = (await (await fetch(`${netsuiteUrl}/__sandbox/records/salesOrder`, { headers: { 'x-sandbox-faults': 'bypass' } })).json()) as Record<string, unknown>[];
    const ours = orders.filter((order) => JSON.stringify(order).includes(opportunityId));
    expect(ours).toHaveLength(1);
    expect(JSON.stringify(ours[0])).toContain(orderNumber);

    // The audit tells the whole story under the deal's business key, from webhook to write-back.
    const audit = await pair.audit(`deal:salesforce:${DEFAULT_ORGANIZATION_ID}:${opportunityId}`);
    const actions = audit.map((record) => `${record.action}:${record.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['WebhookAccepted:succeeded', 'SagaStarted:succeeded', 'CreateSalesOrder:succeeded', 'ConfirmSalesOrder:succeeded', 'UpdateDealWithOrder:succeeded']));
    expect(audit.filter((record) => record.outcome === 'failed')).toEqual([]);
  }, 120_000);
});

describe('Pipedrive → file-drop ERP (FTP, CSV)', () => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  let pipedriveUrl: string;
  let erpControl: string;
  const token = 'harmony-local-pipedrive-api-token';

  const pipedrive = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${pipedriveUrl}${path}`, {
      method,
      headers: { 'x-api-token': token, 'x-sandbox-faults': 'bypass', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`pipedrive sandbox ${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };

  /** The deal's Harmony fields by their names (custom field keys are 40-character hashes). */
  const harmonyFields = async (dealId: number): Promise<Record<string, string | null>> => {
    const fields = ((await pipedrive('GET', '/api/v1/dealFields')) as { data: { key: string; name: string }[] }).data;
    const deal = ((await pipedrive('GET', `/api/v2/deals/${dealId}`)) as { data: { custom_fields: Record<string, string | null> } }).data;
    return Object.fromEntries(fields.filter((field) => field.name.startsWith('Harmony')).map((field) => [field.name, deal.custom_fields[field.key] ?? null]));
  };

  const pollerLogicalId = () => {
    const fn = pair.hub.runtime.stats().find((stats) => /ErpStatusPoller/.test(stats.functionName));
    expect(fn, 'the template has the ERP status poller (file-drop polls statuses)').toBeDefined();
    return fn!.functionName;
  };

  beforeAll(async () => {
    pair = await startPair('pipedrive', 'file-drop');
    pipedriveUrl = pair.hub.sandboxes.get('pipedrive')!.url;
    erpControl = pair.hub.sandboxes.get('file-drop')!.controlUrl!;
  }, 120_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('a deal marked won becomes an order the legacy ERP imports and confirms; its number lands on the deal; shipping comes back through the status poller', async () => {
    const created = (await pipedrive('POST', '/__sandbox/deals', {
      title: 'Hafenkontor — widgets',
      organization: { name: `Hafenkontor ${process.pid} GmbH`, vat_number: `DE${process.pid}7` },
      person: { name: 'Jens Ohm', email: `jens.${process.pid}@hafenkontor.example` },
      products: [
        { code: 'WIDGET-1', quantity: 12 },
        { code: 'GADGET-2', quantity: 1 },
      ],
    })) as { data?: { id: number }; id?: number };
    const dealId = created.data?.id ?? created.id!;
    await pipedrive('PATCH', `/api/v2/deals/${dealId}`, { status: 'won' });

    const synced = await waitFor(
      'the deal to show the ERP order',
      async () => {
        const fields = await harmonyFields(dealId);
        return fields['Harmony ERP status'] === 'confirmed' || fields['Harmony ERP status'] === 'sync_failed' ? fields : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(synced['Harmony sync error'] ?? null).toBeNull();
    expect(synced['Harmony ERP status']).toBe('confirmed');
    const orderNumber = String(synced['Harmony ERP order']);
    expect(orderNumber).toMatch(/^AB-\d{6}$/);

    // The warehouse ships it: the ERP drops a SHIPPED status file; the poller puts it on the bus once.
    const shipped = await fetch(`${erpControl}/__sandbox/orders/${encodeURIComponent(orderNumber)}/status`, { method: 'POST', body: JSON.stringify({ status: 'SHIPPED' }) });
    expect(shipped.status).toBe(200);
    const poller = pollerLogicalId();
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
    const poll = async () => {
      const outcome = await pair.hub.runtime.invoke(poller, scheduled);
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'ok' });
      return (outcome as { result: { published: number; rejected: number } }).result;
    };
    const first = await poll();
    const again = await poll();
    expect(first.published).toBeGreaterThanOrEqual(1);
    expect(again.published).toBe(0);
    const statusRecords = (await pair.audit(`order:file-drop:${orderNumber}`)).filter((record) => record.action === 'StatusPolled');
    expect(statusRecords.map((record) => record.facts?.detailType)).toContain('Order Status Changed');
    expect(first.rejected).toBe(0);

    // A status file with a line the ERP garbled: the rest of the file still counts, the bad line
    // goes to the rejected-records DLQ with its file and line number, and to the audit.
    const fault = await fetch(`${erpControl}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ kind: 'malformed', count: 1 }) });
    expect(fault.status).toBe(201);
    expect((await fetch(`${erpControl}/__sandbox/orders/${encodeURIComponent(orderNumber)}/status`, { method: 'POST', body: JSON.stringify({ status: 'INVOICED' }) })).status).toBe(200);
    const third = await poll();
    expect(third.rejected).toBeGreaterThanOrEqual(1);
    expect(third.published).toBeGreaterThanOrEqual(1);
    const sqs = new SQSClient({ ...AWS, endpoint: pair.hub.awsEndpoint });
    try {
      const queueUrl = (await sqs.send(new ListQueuesCommand({}))).QueueUrls?.find((url) => /RejectedRecords/.test(url));
      expect(queueUrl, 'the rejected-records queue').toBeDefined();
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
      const rejected = (received.Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}') as { system: string; source: string; line: number; reason: string });
      expect(rejected.length).toBeGreaterThanOrEqual(1);
      expect(rejected[0]).toMatchObject({ system: 'file-drop', line: expect.any(Number), reason: expect.any(String) });
      expect(rejected[0]!.line).toBeGreaterThan(0);
      expect(received.Messages![0]!.MessageAttributes?.line?.StringValue).toBe(String(rejected[0]!.line));
      const audited = await pair.audit(`erp-feed:file-drop:${rejected[0]!.source}`);
      expect(audited.map((record) => `${record.action}:${record.outcome}`)).toContain('StatusRecordRejected:rejected');
    } finally {
      sqs.destroy();
    }
  }, 150_000);
});
