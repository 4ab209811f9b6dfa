/**
 * The SAP adapter against the SAP sandbox with OAuth 2.0 client credentials: the shared ERP
 * contract (orders created with a delivery block that confirming removes; cancelling
 * rejects every item, so cancelled orders stay readable as `cancelled`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { SapErp } from '../../functions/connectors/erp/sap/index.ts';
import { startSapSandbox, type SapSandbox } from '../../local/sandbox/sap/sandbox.ts';
import { describeErpPortContract } from '../contracts/erp-port-contract.ts';
import { SANDBOX_USERS, sapAdapterOptions } from '../fixtures/sap/sandbox-harness.ts';

describe('SAP S/4HANA (OAuth 2.0)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sap-contract-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const oauthAdapter = (sandbox: SapSandbox, clientSecret: string = SANDBOX_USERS.clientSecret): SapErp =>
    new SapErp(sapAdapterOptions(sandbox, { scheme: 'oauth2', tokenUrl: new URL(`${sandbox.url}/sap/bc/sec/oauth2/token?sap-client=100`), clientId: SANDBOX_USERS.clientId, clientSecret }));

  async function control(sandbox: SapSandbox, method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${sandbox.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect(response.status).toBeLessThan(300);
  }

  describeErpPortContract(
    'SAP S/4HANA',
    async () => {
      const sandbox = await startSapSandbox({ ...SANDBOX_USERS, dataDir: join(dataDir, 'contract') });
      return {
        erp: oauthAdapter(sandbox),
        knownSkus: ['WIDGET-1', 'GADGET-2'],
        missingOrderId: '9999999',
        currency: 'EUR',
        injectFault: (fault) => control(sandbox, 'POST', '/__sandbox/faults', { count: 1, ...fault }),
        clearFaults: () => control(sandbox, 'DELETE', '/__sandbox/faults'),
        withBadCredentials: () => oauthAdapter(sandbox, 'not-the-secret'),
        expireTokens: () => control(sandbox, 'POST', '/__sandbox/expire-tokens'),
        close: () => sandbox.close(),
      };
    },
    { credentials: true, accessTokens: true, readOperation: 'GET A_SalesOrder' },
  );
});
