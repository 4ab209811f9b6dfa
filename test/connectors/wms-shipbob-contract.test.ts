/**
 * The ShipBob adapter against the ShipBob sandbox: the shared WMS contract, once with OAuth
 * (rotating refresh token, expiring access tokens) and once with a Personal Access Token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { ShipBobWms, type ShipBobWmsOptions } from '../../functions/connectors/wms/shipbob/index.ts';
import { memoryStateStore } from '../../functions/connectors/wms/shipbob/state-store.ts';
import { startShipBobSandbox, type ShipBobSandbox } from '../../local/sandbox/wms/sandbox.ts';
import { describeWmsPortContract, type WmsContractSubject } from '../contracts/wms-port-contract.ts';

const PAT = 'contract-personal-access-token';
const APP = { clientId: 'harmony-contract-app', clientSecret: 'contract-client-secret', refreshToken: 'contract-install-refresh-token' };

async function control(sandbox: ShipBobSandbox, path: string, body?: unknown, method = 'POST'): Promise<void> {
  const response = await fetch(`${sandbox.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(response.status, `${method} ${path}`).toBeLessThan(300);
}

function adapter(sandbox: ShipBobSandbox, auth: ShipBobWmsOptions['auth']): ShipBobWms {
  return new ShipBobWms({
    apiUrl: new URL(sandbox.url),
    channelId: sandbox.channelId,
    auth,
    shippingMethods: { standard: 'Standard', priority: 'Expedited' },
    returnFulfillmentCenterId: sandbox.fulfillmentCenterId,
    stateStore: memoryStateStore(),
    timeoutMs: 1500,
  });
}

function subject(sandbox: ShipBobSandbox, wms: ShipBobWms, badCredentials: () => ShipBobWms): WmsContractSubject {
  return {
    wms,
    knownSkus: ['WIDGET-1', 'GADGET-2'],
    missingOrderId: '999999999',
    missingReceiptId: '999999999',
    advance: (id) => control(sandbox, '/__sandbox/advance', { orderId: Number(id) }),
    receiveReturn: (id, lines) =>
      control(sandbox, `/__sandbox/returns/${id}/receive`, { lines: lines.map((line) => ({ sku: line.sku, restock: line.sellable, quarantine: line.damaged })) }),
    injectFault: (fault) => control(sandbox, '/__sandbox/faults', { count: 1, ...fault }),
    clearFaults: () => control(sandbox, '/__sandbox/faults', undefined, 'DELETE'),
    withBadCredentials: badCredentials,
    expireTokens: () => control(sandbox, '/__sandbox/expire-tokens'),
    close: () => sandbox.close(),
  };
}

describe('ShipBob', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shipbob-contract-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const contract = { readOperation: 'GET /order/{orderId}', createOperation: 'POST /order', credentials: true, pollsStatuses: true } as const;

  describeWmsPortContract(
    'ShipBob (OAuth 2.0)',
    async () => {
      const sandbox = await startShipBobSandbox({ dataDir: join(dataDir, 'oauth'), personalAccessTokens: [], oauthApp: APP });
      const oauth = (clientSecret: string): ShipBobWmsOptions['auth'] => ({ kind: 'oauth', store: memoryStateStore(), client: { authUrl: new URL(sandbox.url), ...APP, clientSecret } });
      return subject(sandbox, adapter(sandbox, oauth(APP.clientSecret)), () => adapter(sandbox, oauth('not-the-secret')));
    },
    { ...contract, accessTokens: true },
  );

  describeWmsPortContract(
    'ShipBob (Personal Access Token)',
    async () => {
      const sandbox = await startShipBobSandbox({ dataDir: join(dataDir, 'pat'), personalAccessTokens: [PAT] });
      return subject(sandbox, adapter(sandbox, { kind: 'pat', token: PAT }), () => adapter(sandbox, { kind: 'pat', token: 'revoked-token' }));
    },
    { ...contract, accessTokens: false },
  );
});
