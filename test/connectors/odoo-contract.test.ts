/** The Odoo adapter passes the shared ErpPort contract against the Odoo sandbox. */
import { OdooErp } from '../../functions/connectors/erp/odoo/index.ts';
import { startOdooSandbox } from '../../local/sandbox/odoo/index.ts';
import { describeErpPortContract } from '../contracts/erp-port-contract.ts';

const DB = 'harmony';
const USERNAME = 'contract@harmony.example';
const API_KEY = 'contract-key';

describeErpPortContract(
  'Odoo',
  async () => {
    const sandbox = await startOdooSandbox({ db: DB, username: USERNAME, apiKey: API_KEY });
    const control = async (method: string, body?: unknown) => {
      const response = await fetch(`${sandbox.url}/__sandbox/faults`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (!response.ok) throw new Error(`sandbox faults: ${response.status}`);
    };
    const adapter = (apiKey: string) => new OdooErp({ url: sandbox.url, db: DB, username: USERNAME, apiKey, timeoutMs: 1000 });
    return {
      erp: adapter(API_KEY),
      knownSkus: ['WIDGET-1', 'SERVICE-HOUR'],
      missingOrderId: '999999',
      currency: 'EUR',
      injectFault: (fault) => control('POST', { count: 1, ...fault }),
      clearFaults: () => control('DELETE'),
      withBadCredentials: () => adapter('wrong-key'),
      close: () => sandbox.close(),
    };
  },
  { credentials: true, accessTokens: false },
);
