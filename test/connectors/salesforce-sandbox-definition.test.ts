/**
 * The Salesforce sandbox as the hub starts it: the environment it returns is all the connector
 * needs (the connector is built from it exactly as the registry would), and a won Opportunity
 * goes out to the hub's ingress at `/webhooks/salesforce` with the org's id.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { salesforceConnector } from '../../functions/connectors/crm/salesforce/connector.ts';
import { readConnectorSecrets } from '../../functions/connectors/registry.ts';
import { SandboxControl } from '../../local/sandbox/salesforce/control-client.ts';
import { salesforceSandbox } from '../../local/sandbox/salesforce/sandbox.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'salesforce-definition-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('gives the connector everything it needs and sends won Opportunities to the ingress', async () => {
  let received: (request: { path: string; body: string }) => void = () => undefined;
  const firstDelivery = new Promise<{ path: string; body: string }>((resolve) => {
    received = resolve;
  });
  const ingress = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(503).end();
    });
  });
  await new Promise<void>((resolve) => ingress.listen(0, '127.0.0.1', resolve));
  const sandbox = await salesforceSandbox.start({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    ingressUrl: `http://127.0.0.1:${(ingress.address() as AddressInfo).port}`,
  });
  try {
    const environment = sandbox.environment;
    const crm = salesforceConnector.create(salesforceConnector.settings.parse(environment), await readConnectorSecrets(salesforceConnector, environment), { timeoutMs: 2000 });
    const seeded = await new SandboxControl(sandbox.url).seedOpportunity({ name: 'Hub deal', account: { name: 'Hub GmbH' }, lines: [{ productCode: 'SERVICE-HOUR', quantity: 8 }] });

    const deal = await crm.getDeal(seeded.opportunityId);
    const delivery = await firstDelivery;

    expect(Object.keys(environment).sort()).toEqual(['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_LOGIN_URL', 'SALESFORCE_ORG_ID']);
    expect(deal).toMatchObject({ stage: 'closedwon', amount: 760, currency: 'EUR', customer: { name: 'Hub GmbH' } });
    expect(delivery.path).toBe('/webhooks/salesforce');
    expect(delivery.body).toContain(environment.SALESFORCE_ORG_ID);
    expect(delivery.body).toContain(seeded.opportunityId);
  } finally {
    await sandbox.close();
    ingress.closeAllConnections();
    await new Promise<void>((resolve) => ingress.close(() => resolve()));
  }
}, 20_000);
