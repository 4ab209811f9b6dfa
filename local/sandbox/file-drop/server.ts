/**
 * The file-drop sandbox: one exchange folder under the data directory (`files/`, with
 * `inbox/`, `outbox/`, `outbox/processed/`, `archive/`), served by an FTP server and an SFTP
 * server, processed by the legacy ERP (every `processEveryMs` and on
 * `POST /__sandbox/process`), with its state in `file-drop-erp.sqlite` beside the folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileFormatName } from '../../../functions/connectors/erp/file-drop/formats/index.ts';
import { FaultInjector, type FaultRequest } from '../faults.ts';
import { startControlServer } from './control-server.ts';
import { ErpStore } from './erp-store.ts';
import { startSandboxFtpServer } from './ftp-server.ts';
import { LegacyErp, type RunReport } from './legacy-erp.ts';
import { startSandboxSftpServer } from './sftp-server.ts';

/** How to start a file-drop sandbox. */
export interface FileDropSandboxOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** FTP port; 0 (the default) picks a free one. */
  readonly ftpPort?: number;
  readonly sftpPort?: number;
  readonly controlPort?: number;
  /** Where the folder and state live; undefined uses a temporary directory removed on close. */
  readonly dataDir?: string;
  /** The format the ERP writes its files in. @default 'csv' */
  readonly format?: FileFormatName;
  readonly csvSeparator?: string;
  readonly decimalSeparator?: '.' | ',';
  readonly username: string;
  readonly password: string;
  /** An OpenSSH public key that may log in to SFTP instead of the password. */
  readonly authorizedKey?: string;
  /** Runs the ERP on this interval; undefined runs it only when asked. */
  readonly processEveryMs?: number;
  readonly log?: (line: string) => void;
}

/** A running file-drop sandbox. */
export interface FileDropSandbox {
  /** `ftp://host:port/` */
  readonly ftpUrl: string;
  /** `sftp://host:port/` */
  readonly sftpUrl: string;
  /** Base URL of the HTTP control server. */
  readonly controlUrl: string;
  /** The exchange folder on disk. */
  readonly root: string;
  /** `SHA256:…` of the SFTP host key. */
  readonly hostKeyFingerprint: string;
  readonly store: ErpStore;
  /** Runs the legacy ERP once. */
  process(): Promise<RunReport>;
  /** Makes the ERP report a later status of an order. */
  report(orderNo: string, status: 'SHIPPED' | 'INVOICED' | 'PAID'): Promise<RunReport>;
  injectFault(fault: Partial<FaultRequest> & Pick<FaultRequest, 'kind'>): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/** Starts the sandbox and resolves once every server listens. */
export async function startFileDropSandbox(options: FileDropSandboxOptions): Promise<FileDropSandbox> {
  const host = options.host ?? '127.0.0.1';
  const temporary = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'harmony-file-drop-')) : undefined;
  const dataDir = options.dataDir ?? temporary!;
  const root = join(dataDir, 'files');
  const store = new ErpStore(dataDir);
  const transportFaults = new FaultInjector();
  const erpFaults = new FaultInjector();
  const erp = new LegacyErp({
    root,
    store,
    format: options.format ?? 'csv',
    formatOptions: {
      ...(options.csvSeparator === undefined ? {} : { csvSeparator: options.csvSeparator }),
      ...(options.decimalSeparator === undefined ? {} : { decimalSeparator: options.decimalSeparator }),
    },
    faults: erpFaults,
    log: options.log,
  });
  await erp.prepare();
  const ftp = await startSandboxFtpServer({ host, port: options.ftpPort ?? 0, root, username: options.username, password: options.password, faults: transportFaults });
  const sftp = await startSandboxSftpServer({
    host,
    port: options.sftpPort ?? 0,
    root,
    keyDirectory: dataDir,
    username: options.username,
    password: options.password,
    authorizedKey: options.authorizedKey,
    faults: transportFaults,
  });
  const control = await startControlServer({ host, port: options.controlPort ?? 0, erp, transportFaults, erpFaults });
  const timer =
    options.processEveryMs === undefined
      ? undefined
      : setInterval(() => {
          erp.run().catch((error: unknown) => options.log?.(`[file-drop] processing failed: ${(error as Error).message}`));
        }, options.processEveryMs);
  timer?.unref();
  return {
    ftpUrl: `ftp://${host}:${ftp.port}/`,
    sftpUrl: `sftp://${host}:${sftp.port}/`,
    controlUrl: `http://${host}:${control.port}`,
    root,
    hostKeyFingerprint: sftp.hostKeyFingerprint,
    store,
    process: () => erp.run(),
    report: (orderNo, status) => erp.report(orderNo, status),
    injectFault: (fault) => (fault.kind === 'malformed' ? erpFaults : transportFaults).add({ count: 1, retryAfterSeconds: 1, ...fault }),
    clearFaults: () => {
      transportFaults.clear();
      erpFaults.clear();
    },
    close: async () => {
      clearInterval(timer);
      await Promise.all([ftp.close(), sftp.close(), control.close()]);
      await erp.idle();
      store.close();
      if (temporary !== undefined) await rm(temporary, { recursive: true, force: true });
    },
  };
}
