/**
 * A file-drop sandbox with adapters configured against it, for tests: the connector built
 * from its settings exactly as the registry builds it, over FTP or SFTP, with any setting
 * overridden.
 */
import { fileDropConnector } from '../../../functions/connectors/erp/file-drop/connector.ts';
import type { FileDropErp } from '../../../functions/connectors/erp/file-drop/index.ts';
import { createServer } from 'node:net';
import { listen } from './listen.ts';
import { startFileDropSandbox, type FileDropSandbox, type FileDropSandboxOptions } from './server.ts';

/** The login test sandboxes accept. */
export const TEST_CREDENTIALS = { username: 'harmony', password: 'test-password' } as const;

/** A sandbox and a way to build adapters against it. */
export interface FileDropTestExchange {
  readonly sandbox: FileDropSandbox;
  /** The connector's settings for this sandbox, before parsing. */
  settings(protocol: 'ftp' | 'sftp', overrides?: Readonly<Record<string, string>>): Record<string, string>;
  /** An adapter as the registry would build it. */
  adapter(protocol: 'ftp' | 'sftp', overrides?: Readonly<Record<string, string>>, secrets?: Readonly<Record<string, string>>): FileDropErp;
}

/** Starts a sandbox (its ERP writes `format`, CSV by default). */
export async function startFileDropTestExchange(options: Partial<FileDropSandboxOptions> = {}): Promise<FileDropTestExchange> {
  const sandbox = await startFileDropSandbox({ ...TEST_CREDENTIALS, ...options });
  const settings = (protocol: 'ftp' | 'sftp', overrides: Readonly<Record<string, string>> = {}): Record<string, string> => ({
    FILE_DROP_URL: protocol === 'ftp' ? sandbox.ftpUrl : sandbox.sftpUrl,
    FILE_DROP_ALLOWED_HOSTS: '127.0.0.1',
    FILE_DROP_FORMAT: options.format ?? 'csv',
    ...(options.csvSeparator === undefined ? {} : { FILE_DROP_CSV_SEPARATOR: options.csvSeparator }),
    ...(options.decimalSeparator === undefined ? {} : { FILE_DROP_DECIMAL_SEPARATOR: options.decimalSeparator }),
    FILE_DROP_SFTP_HOST_KEY: sandbox.hostKeyFingerprint,
    ...overrides,
  });
  return {
    sandbox,
    settings,
    adapter: (protocol, overrides = {}, secrets = TEST_CREDENTIALS) =>
      fileDropConnector.create(fileDropConnector.settings.parse(settings(protocol, overrides)), secrets, { timeoutMs: 2_000 }) as FileDropErp,
  };
}

/** The error a promise rejects with; fails when it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as Error;
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server, 0, '127.0.0.1');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
