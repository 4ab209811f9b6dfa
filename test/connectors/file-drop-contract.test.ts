/**
 * The shared ERP contract for the file-drop adapter against the file-drop sandbox: over FTP
 * with CSV files (`;` and a decimal comma, as German ERPs write them), and over SFTP with
 * fixed-width files. The ERP answers later — it imports on its next run — so `settle` runs
 * the sandbox's legacy ERP once, through its HTTP control server as the hub would.
 */
import { fileDropConnector } from '../../functions/connectors/erp/file-drop/connector.ts';
import type { ErpPort } from '../../functions/connectors/erp/port.ts';
import { startFileDropSandbox } from '../../local/sandbox/file-drop/server.ts';
import { describeErpPortContract, type ErpContractSubject } from '../contracts/erp-port-contract.ts';

const CREDENTIALS = { username: 'harmony', password: 'contract-password' };

async function control(baseUrl: string, method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
}

async function subject(protocol: 'ftp' | 'sftp'): Promise<ErpContractSubject> {
  const format = protocol === 'ftp' ? 'csv' : 'fixed-width';
  const sandbox = await startFileDropSandbox({ ...CREDENTIALS, format, csvSeparator: ';', decimalSeparator: ',' });
  const settings = fileDropConnector.settings.parse({
    FILE_DROP_URL: protocol === 'ftp' ? sandbox.ftpUrl : sandbox.sftpUrl,
    FILE_DROP_ALLOWED_HOSTS: '127.0.0.1',
    FILE_DROP_FORMAT: format,
    FILE_DROP_CSV_SEPARATOR: ';',
    FILE_DROP_DECIMAL_SEPARATOR: ',',
    FILE_DROP_SFTP_HOST_KEY: sandbox.hostKeyFingerprint,
  });
  const adapter = (password: string): ErpPort => fileDropConnector.create(settings, { ...CREDENTIALS, password }, { timeoutMs: 2_000 });
  return {
    erp: adapter(CREDENTIALS.password),
    knownSkus: ['WIDGET-1', 'SERVICE-HOUR'],
    missingOrderId: 'HO-0000000000000000',
    currency: 'EUR',
    settle: () => control(sandbox.controlUrl, 'POST', '/__sandbox/process'),
    injectFault: (fault) => control(sandbox.controlUrl, 'POST', '/__sandbox/faults', { count: 1, ...fault }),
    clearFaults: () => control(sandbox.controlUrl, 'DELETE', '/__sandbox/faults'),
    withBadCredentials: () => adapter('not-the-password'),
    close: () => sandbox.close(),
  };
}

describeErpPortContract('file-drop ERP over FTP (CSV)', () => subject('ftp'), { credentials: true, accessTokens: false, httpFaults: false });

describeErpPortContract('file-drop ERP over SFTP (fixed-width)', () => subject('sftp'), { credentials: true, accessTokens: false, httpFaults: false });
