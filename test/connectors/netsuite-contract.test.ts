/**
 * The shared ERP contract for the NetSuite adapter against the NetSuite sandbox, once per
 * auth scheme: OAuth 2.0 client credentials (an RSA certificate, so PS256 assertions; tokens
 * expire and are fetched again) and token-based authentication (a signature per request).
 */
import { netsuiteConnector } from '../../functions/connectors/erp/netsuite/connector.ts';
import type { ErpPort } from '../../functions/connectors/erp/port.ts';
import { startNetsuiteTestAccount } from '../../local/sandbox/netsuite/test-account.ts';
import { describeErpPortContract, type ErpContractSubject } from '../contracts/erp-port-contract.ts';

/** A held call fails within this, as the contract asks (≤ 2 s). */
const TIMEOUT_MS = 1500;

async function subject(auth: 'oauth2' | 'tba'): Promise<ErpContractSubject> {
  const account = await startNetsuiteTestAccount({ keyType: auth === 'oauth2' ? 'rsa' : 'ec' });
  const settings = netsuiteConnector.settings.parse(account.settings(auth));
  const adapter = (secrets: Readonly<Record<string, string>>): ErpPort => netsuiteConnector.create(settings, secrets, { timeoutMs: TIMEOUT_MS });
  return {
    erp: adapter(account.secrets),
    knownSkus: ['WIDGET-1', 'SERVICE-HOUR'],
    missingOrderId: '999999999',
    currency: 'EUR',
    injectFault: account.injectFault,
    clearFaults: account.clearFaults,
    withBadCredentials: () => adapter(account.wrongSecrets),
    ...(auth === 'oauth2' ? { expireTokens: account.expireTokens } : {}),
    close: account.close,
  };
}

describeErpPortContract('NetSuite (OAuth 2.0 M2M)', () => subject('oauth2'), {
  credentials: true,
  accessTokens: true,
  readOperation: 'GET /services/rest/record/v1/salesOrder',
});

describeErpPortContract('NetSuite (TBA)', () => subject('tba'), {
  credentials: true,
  accessTokens: false,
  readOperation: 'GET /services/rest/record/v1/salesOrder',
});
