/**
 * Order-to-cash end to end on the local hub with other vendors than HubSpot and Odoo,
 * each chosen by configuration alone (CRM_SYSTEM / ERP_SYSTEM): the CRM sandbox announces
 * a won deal the way the vendor does (a Salesforce Outbound Message, a Pipedrive webhook),
 * the saga creates and confirms the order in the ERP sandbox, and the order number and
 * status land on the deal in the CRM.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
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
