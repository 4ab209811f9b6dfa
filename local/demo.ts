/**
 * `npm run demo`: shows Harmony at work on the sandboxes. Starts the hub if it
 * is not running, then (1) a deal moved to won becomes a confirmed Odoo order
 * whose number comes back to the deal, and (2) a deal the ERP rejects is rolled
 * back and the deal says why — narrated step by step with timings, from what
 * the CRM, the ERP, Step Functions and the audit log show.
 */
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Client } from '@hubspot/api-client';
import { performance } from 'node:perf_hooks';
import { readHubEnvironment } from './config.ts';
import { waitFor } from './wait-for.ts';
import { startHub, type RunningHub } from './hub.ts';
import { createDeal, type NewDealLine, winDeal } from './sandbox/hubspot/salesperson.ts';
import { connectOdooReader } from './sandbox/odoo/community-client.ts';

const env = readHubEnvironment();
const host = env.HARMONY_HOST;
const ingressUrl = `http://${host}:${env.HARMONY_INGRESS_PORT}`;
let ownHub: RunningHub | undefined;

async function hubIsRunning(): Promise<boolean> {
  try {
    return (await fetch(`${ingressUrl}/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

if (!(await hubIsRunning())) {
  console.log('The hub is not running; starting it for this demo…');
  // Narration only: the functions' own warnings would interleave with it.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  ownHub = await startHub({ environment: env, log: () => undefined, onAlarm: (alarm) => console.log(`  🔔 alarm ${alarm.NewStateValue}: ${alarm.AlarmName}`) });
  console.log(`Hub ready in ${(ownHub.startupMs / 1000).toFixed(2)} s.\n`);
}
const awsEndpoint = ownHub?.awsEndpoint ?? `http://${host}:${env.HARMONY_AWS_PORT}`;
const hubspotUrl = ownHub?.hubspotUrl ?? `http://${host}:${env.HARMONY_HUBSPOT_PORT}`;
const odooUrl = ownHub?.odooUrl ?? `http://${host}:${env.HARMONY_ODOO_PORT}`;
const aws = { endpoint: awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

const crm = new Client({ accessToken: env.HUBSPOT_ACCESS_TOKEN, basePath: hubspotUrl });
const erp = await connectOdooReader({ url: odooUrl, db: env.ODOO_DB, username: env.ODOO_USERNAME, password: env.ODOO_API_KEY });
const sfn = new SFNClient(aws);
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(aws));
const auditTable = (await dynamo.send(new ListTablesCommand({}))).TableNames?.find((name) => /audit/i.test(name));

let clock = 0;
const say = (text: string) => console.log(`  ${`+${((performance.now() - clock) / 1000).toFixed(2)}s`.padStart(8)}  ${text}`);

/** Waits for the demo's outside systems, half a minute at most. */
const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 30_000 });

async function dealSync(dealId: string) {
  return (await crm.crm.deals.basicApi.getById(dealId, ['erp_order_ref', 'erp_status', 'erp_sync_error'])).properties;
}

async function executionOf(dealId: string) {
  const list = await sfn.send(new ListStateMachinesCommand({}));
  for (const machine of list.stateMachines ?? []) {
    const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn }));
    const found = executions.executions?.find((execution) => execution.name?.includes(`-${dealId}-`));
    if (found !== undefined) return found;
  }
  return undefined;
}

async function auditTrail(dealId: string) {
  if (auditTable === undefined) return [];
  const portalId = '62515';
  const answer = await dynamo.send(
    new QueryCommand({ TableName: auditTable, KeyConditionExpression: 'businessKey = :key', ExpressionAttributeValues: { ':key': `deal:hubspot:${portalId}:${dealId}` } }),
  );
  return answer.Items ?? [];
}

async function scenario(title: string, customer: string, lines: readonly NewDealLine[], expectFailure: boolean) {
  console.log(`\n${title}`);
  const dealId = await createDeal(crm, {
    dealName: title.replace(/^\d\.\s*/, ''),
    companyName: `${customer} ${Date.now().toString(36).slice(-4)}`,
    lines,
  });
  clock = performance.now();
  await winDeal(crm, dealId);
  say(`deal ${dealId} moved to won in the CRM; the CRM sends a signed webhook`);
  const execution = await until('the saga to start', () => executionOf(dealId));
  say(`saga started: execution ${execution.name}`);
  if (!expectFailure) {
    const order = await until('the ERP order', async () => (await erp.ordersWithRef(`hubspot:${dealId}`))[0]);
    say(`ERP order ${order.name} created for ${order.partner_id[1]}, ${order.amount_total.toFixed(2)} EUR incl. tax`);
    await until('the order to be confirmed', async () => ((await erp.ordersWithRef(`hubspot:${dealId}`))[0]?.state === 'sale' ? true : undefined));
    say(`ERP order ${order.name} confirmed`);
    const sync = await until('the deal to show the order', async () => {
      const current = await dealSync(dealId);
      return current.erp_order_ref ? current : undefined;
    });
    say(`the deal now shows ERP order ${sync.erp_order_ref}, status ${sync.erp_status}`);
  } else {
    const sync = await until('the deal to show the failure', async () => {
      const current = await dealSync(dealId);
      return current.erp_status === 'sync_failed' ? current : undefined;
    });
    say(`rolled back: the deal shows "${sync.erp_status}": ${sync.erp_sync_error}`);
    const live = (await erp.ordersWithRef(`hubspot:${dealId}`)).filter((order) => order.state !== 'cancel');
    say(`ERP orders left open for this deal: ${live.length}`);
  }
  const finished = await until('the execution to finish', async () => {
    const found = await executionOf(dealId);
    return found?.status === 'RUNNING' ? undefined : found;
  });
  say(`execution ${finished.status}`);
  console.log('  audit trail:');
  for (const record of await auditTrail(dealId)) {
    console.log(`    ${String(record.at).slice(11, 23)}  ${String(record.action).padEnd(20)} ${record.outcome}${record.error ? ` — ${String(record.error).slice(0, 90)}` : ''}`);
  }
}

try {
  await scenario('1. A won deal becomes a confirmed ERP order', 'Demo Widgets GmbH', [
    { sku: 'WIDGET-1', name: 'Widget', quantity: 3, price: 49.5 },
    { sku: 'SERVICE-HOUR', name: 'Installation hour', quantity: 2, price: 95 },
  ], false);
  await scenario('2. The ERP rejects a deal (unknown product) and Harmony rolls back', 'Demo Parts AG', [
    { sku: 'NO-SUCH-SKU', name: 'A product the ERP does not know', quantity: 1, price: 10 },
  ], true);
  console.log('\nDone. Look around: AWS_ENDPOINT_URL=' + awsEndpoint + ' aws stepfunctions list-state-machines');
} finally {
  sfn.destroy();
  dynamo.destroy();
  await ownHub?.stop();
}
