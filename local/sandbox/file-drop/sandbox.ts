/**
 * The file-drop sandbox as the hub starts it: FTP on port 4024 (`HARMONY_FILE_DROP_PORT`),
 * SFTP on the next port (4025), the HTTP control server three above it (4027; with port 0
 * all three pick free ports), state under the given data directory, the legacy ERP
 * processing its inbox every two seconds, fixed local credentials. The environment points
 * the connector at the FTP server with CSV files; switching FILE_DROP_URL to the SFTP URL
 * the log line prints works too (the host key fingerprint is in the environment).
 */
import type { SandboxDefinition } from '../definition.ts';
import { startFileDropSandbox, type FileDropSandbox, type FileDropSandboxOptions } from './server.ts';

export { startFileDropSandbox, type FileDropSandbox, type FileDropSandboxOptions };

/** The login the local sandbox accepts on FTP and SFTP. */
export const LOCAL_FILE_DROP_CREDENTIALS = { username: 'harmony', password: 'local-file-drop-password' } as const;

/** How often the local legacy ERP processes its inbox. */
const PROCESS_EVERY_MS = 2_000;

/** Declares the file-drop sandbox to the hub. */
export const fileDropSandbox: SandboxDefinition = {
  system: 'file-drop',
  defaultPort: 4024,
  portVariable: 'HARMONY_FILE_DROP_PORT',
  async start(options) {
    const next = (offset: number): number => (options.port === 0 ? 0 : options.port + offset);
    const sandbox = await startFileDropSandbox({
      host: options.host,
      ftpPort: options.port,
      sftpPort: next(1),
      controlPort: next(3),
      dataDir: options.dataDir,
      ...LOCAL_FILE_DROP_CREDENTIALS,
      processEveryMs: PROCESS_EVERY_MS,
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    options.log?.(`[file-drop] legacy ERP folder ${sandbox.root}: FTP ${sandbox.ftpUrl}, SFTP ${sandbox.sftpUrl} (host key ${sandbox.hostKeyFingerprint}), control ${sandbox.controlUrl}`);
    return {
      url: sandbox.ftpUrl,
      controlUrl: sandbox.controlUrl,
      environment: {
        FILE_DROP_URL: sandbox.ftpUrl,
        FILE_DROP_ALLOWED_HOSTS: options.host,
        FILE_DROP_FORMAT: 'csv',
        FILE_DROP_SFTP_HOST_KEY: sandbox.hostKeyFingerprint,
        FILE_DROP_USERNAME: LOCAL_FILE_DROP_CREDENTIALS.username,
        FILE_DROP_PASSWORD: LOCAL_FILE_DROP_CREDENTIALS.password,
      },
      close: () => sandbox.close(),
    };
  },
};
