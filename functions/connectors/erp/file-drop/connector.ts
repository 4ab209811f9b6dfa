/** A legacy file-drop ERP as a Harmony ERP connector: its settings, secret and matrix row. */
import * as z from 'zod';
import type { ErpConnectorDefinition } from '../../definition.ts';
import { FILE_FORMATS, tableFormat } from './formats/index.ts';
import { FileDropErp } from './index.ts';
import { checkFileDropUrl, openTransport } from './transports/open-transport.ts';

const Folder = z
  .string()
  .trim()
  .min(1)
  .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'expected a relative folder such as "inbox" or "exchange/in"')
  .transform((folder) => folder.replace(/\/+$/, ''));

const FileDropSettings = z
  .object({
    /** `ftp://host:port/path`, `ftps://…`, `sftp://host:port/path`, `s3://bucket/prefix` or `file:///path`. */
    FILE_DROP_URL: z.string().min(1),
    /** Comma-separated hosts FTP/SFTP may reach; FILE_DROP_URL's host must be one of them. */
    FILE_DROP_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((list) => list.split(',').map((host) => host.trim().toLowerCase()).filter((host) => host !== '')),
    FILE_DROP_FORMAT: z.enum(FILE_FORMATS).default('csv'),
    FILE_DROP_CSV_SEPARATOR: z.string().length(1, 'expected one character such as "," or ";"').default(','),
    FILE_DROP_DECIMAL_SEPARATOR: z.enum(['.', ',']).default('.'),
    /** The ERP's home currency (ISO 4217): amounts its files carry without a currency are in it. */
    FILE_DROP_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR').default('EUR'),
    /** The ERP's import folder, relative to FILE_DROP_URL. */
    FILE_DROP_INBOX_DIR: Folder.default('inbox'),
    /** The ERP's export folder. */
    FILE_DROP_OUTBOX_DIR: Folder.default('outbox'),
    /** Where processed status files go (`move`) or their markers (`remember`). */
    FILE_DROP_PROCESSED_DIR: Folder.default('outbox/processed'),
    /** `move` status files once read, or `remember` them (when the ERP owns its export folder). */
    FILE_DROP_STATUS_FILES: z.enum(['move', 'remember']).default('move'),
    /** Base name of the ERP's item master export; empty when it exports none. */
    FILE_DROP_ITEM_MASTER: z.string().trim().default('ITEMS'),
    /** Base name of the ERP's customer master export. */
    FILE_DROP_CUSTOMER_MASTER: z.string().trim().min(1).default('CUSTOMERS'),
    /** SFTP: the server's host key fingerprint, `SHA256:…` as `ssh-keygen -lf` prints it. */
    FILE_DROP_SFTP_HOST_KEY: z.string().trim().optional(),
    /** S3: an S3-compatible endpoint instead of AWS S3. */
    FILE_DROP_S3_ENDPOINT: z.string().trim().optional(),
  })
  .superRefine((settings, context) => {
    try {
      checkFileDropUrl('FILE_DROP_URL', settings.FILE_DROP_URL, settings.FILE_DROP_ALLOWED_HOSTS);
    } catch (error) {
      context.addIssue({ code: 'custom', path: ['FILE_DROP_URL'], message: (error as Error).message });
    }
    if (settings.FILE_DROP_FORMAT === 'csv' && settings.FILE_DROP_CSV_SEPARATOR === settings.FILE_DROP_DECIMAL_SEPARATOR) {
      context.addIssue({ code: 'custom', path: ['FILE_DROP_CSV_SEPARATOR'], message: 'must differ from FILE_DROP_DECIMAL_SEPARATOR (use ";" with a decimal comma)' });
    }
  });

/** The file-drop connector's declaration. */
export const fileDropConnector: ErpConnectorDefinition<typeof FileDropSettings> = {
  system: 'file-drop',
  kind: 'erp',
  label: 'Legacy ERP (file drop: FTP/FTPS, SFTP, S3, folder)',
  settings: FileDropSettings,
  secrets: {
    username: { variable: 'FILE_DROP_USERNAME', required: false, description: 'FTP/SFTP login (S3: access key id, empty for the Lambda role)' },
    password: { variable: 'FILE_DROP_PASSWORD', required: false, description: 'FTP/SFTP password (S3: secret access key)' },
    privateKey: { variable: 'FILE_DROP_PRIVATE_KEY', required: false, description: 'SFTP private key (OpenSSH or PEM), used instead of the password' },
  },
  capabilities: {
    auth: 'FTP/FTPS login; SFTP password or private key (host key pinned); S3 IAM role or access key',
    inbound: 'polling (status files in the ERP export folder)',
    read: 'status files, customer and item master exports (CSV, fixed-width, XLSX)',
    write: 'customer, order and cancellation files (atomic upload + rename)',
    cancel: 'cancellation file; done when the ERP reports CANCELLED',
    sandbox: 'local/sandbox/file-drop (FTP + SFTP over one folder, a legacy ERP processing it)',
    testedAgainst: 'ERP contract suite over FTP (CSV) and SFTP (fixed-width); format round-trip properties; fixtures',
  },
  pollsStatuses: true,
  create(settings, secrets, runtime) {
    const transport = openTransport(
      {
        url: settings.FILE_DROP_URL,
        allowedHosts: settings.FILE_DROP_ALLOWED_HOSTS,
        sftpHostKey: settings.FILE_DROP_SFTP_HOST_KEY,
        s3Endpoint: settings.FILE_DROP_S3_ENDPOINT,
      },
      { username: secrets.username, password: secrets.password, privateKey: secrets.privateKey },
      runtime,
    );
    return new FileDropErp({
      transport,
      format: tableFormat(settings.FILE_DROP_FORMAT, { csvSeparator: settings.FILE_DROP_CSV_SEPARATOR, decimalSeparator: settings.FILE_DROP_DECIMAL_SEPARATOR }),
      folders: {
        inbox: settings.FILE_DROP_INBOX_DIR,
        outbox: settings.FILE_DROP_OUTBOX_DIR,
        processed: settings.FILE_DROP_PROCESSED_DIR,
        processedMode: settings.FILE_DROP_STATUS_FILES,
      },
      currency: settings.FILE_DROP_CURRENCY,
      itemMaster: settings.FILE_DROP_ITEM_MASTER,
      customerMaster: settings.FILE_DROP_CUSTOMER_MASTER,
    });
  },
};
