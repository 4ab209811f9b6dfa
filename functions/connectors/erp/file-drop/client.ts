/**
 * The file-drop ERP's transport concerns in one place: the folder layout, naming files,
 * encoding and decoding them in the chosen format, and caches that outlive one invocation
 * (module level, keyed by where the files are): decoded files by name, size and time (a
 * file whose listing did not change is not read again; processed status files carry their
 * checksum in the name and never change), and the item master for a TTL.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { PermanentError } from '../../../core/errors.ts';
import { FormatError, type DecodedTable, type TableFormat, type TableRecord } from './formats/table.ts';
import { isTemporaryName, type FileKind } from './file-kinds.ts';
import { FILE_DROP_SYSTEM, type FileTransport, type RemoteFile } from './transports/transport.ts';

/** Where the ERP imports from and exports to, relative to FILE_DROP_URL. */
export interface FileDropFolders {
  /** The ERP's import folder. @default 'inbox' */
  readonly inbox: string;
  /** The ERP's export folder (status files, master data). @default 'outbox' */
  readonly outbox: string;
  /**
   * `move`: status files read are moved here (named with their checksum); `remember`: the
   * ERP owns the outbox, status files stay, and an empty marker named like the moved file
   * is written here instead. @default 'outbox/processed'
   */
  readonly processed: string;
  readonly processedMode: 'move' | 'remember';
}

/** A decoded file and its SHA-256. */
export interface ReadFile {
  readonly name: string;
  /** Hex SHA-256 of the bytes. */
  readonly checksum: string;
  readonly table: DecodedTable;
}

/** Bounded cache shared by every client in this process (a Lambda container's lifetime). */
const decodedFiles = new Map<string, ReadFile>();
const DECODED_FILES_LIMIT = 5_000;
const itemMasters = new Map<string, { skus: ReadonlySet<string> | undefined; expiresAt: number }>();

/** Options of {@link FileDropClient}. */
export interface FileDropClientOptions {
  readonly transport: FileTransport;
  readonly format: TableFormat;
  readonly folders: FileDropFolders;
  /** Base name of the ERP's item master export in the outbox; undefined when it exports none. */
  readonly itemMaster: string | undefined;
  /** @default 300000 */
  readonly referenceDataTtlMs?: number;
}

/** Reads and writes the exchange folders. */
export class FileDropClient {
  readonly transport: FileTransport;
  readonly format: TableFormat;
  readonly folders: FileDropFolders;
  readonly #options: FileDropClientOptions;

  constructor(options: FileDropClientOptions) {
    this.transport = options.transport;
    this.format = options.format;
    this.folders = options.folders;
    this.#options = options;
  }

  /** `ORDER_HO-…` + `.csv`: a file name in the chosen format. */
  fileName(baseName: string): string {
    return `${baseName}${this.format.extension}`;
  }

  /** Files of the chosen format in a folder, without files still being uploaded, by name. */
  async list(folder: string): Promise<RemoteFile[]> {
    const files = await this.transport.list(folder);
    return files
      .filter((file) => !isTemporaryName(file.name) && file.name.toLowerCase().endsWith(this.format.extension))
      .sort((first, second) => (first.name < second.name ? -1 : first.name > second.name ? 1 : 0));
  }

  /** Writes records as a file of the given kind; a value the format cannot hold is a PermanentError naming the column. */
  async write(folder: string, name: string, kind: FileKind, records: readonly TableRecord[]): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await this.format.encode(kind.columns, records);
    } catch (error) {
      if (error instanceof FormatError) {
        throw new PermanentError(`${FILE_DROP_SYSTEM}: cannot write ${name} — ${error.message}`, { system: FILE_DROP_SYSTEM, code: 'invalid-input' });
      }
      throw error;
    }
    await this.transport.write(posix.join(folder, name), bytes);
  }

  /**
   * Reads and decodes a listed file, from the cache when its listing is unchanged. Without a
   * modification time (FTP LIST gives none basic-ftp can read) only an `immutable` file (one
   * named by its checksum) is cached.
   */
  async read(folder: string, file: RemoteFile, kind: FileKind, immutable = false): Promise<ReadFile> {
    const key = `${this.transport.location}\u0000${folder}\u0000${file.name}\u0000${file.size}\u0000${file.modifiedAt ?? ''}\u0000${kind.name}`;
    const cached = decodedFiles.get(key);
    if (cached !== undefined) return cached;
    const bytes = await this.transport.read(posix.join(folder, file.name));
    const read: ReadFile = {
      name: file.name,
      checksum: createHash('sha256').update(bytes).digest('hex'),
      table: await this.format.decode(kind.columns, bytes),
    };
    if (file.modifiedAt !== undefined || immutable) {
      if (decodedFiles.size >= DECODED_FILES_LIMIT) decodedFiles.delete(decodedFiles.keys().next().value!);
      decodedFiles.set(key, read);
    }
    return read;
  }

  /** The ERP's master export of this kind, if it has written one. */
  async readMaster(baseName: string, kind: FileKind): Promise<ReadFile | undefined> {
    const name = this.fileName(baseName);
    const file = (await this.list(this.folders.outbox)).find((candidate) => candidate.name === name);
    return file === undefined ? undefined : this.read(this.folders.outbox, file, kind);
  }

  /**
   * The SKUs the ERP's item master lists, cached for the TTL; undefined when the ERP
   * exports no item master (then only its status files tell of unknown SKUs).
   */
  async knownSkus(kind: FileKind, toSkus: (file: ReadFile) => ReadonlySet<string>): Promise<ReadonlySet<string> | undefined> {
    const baseName = this.#options.itemMaster;
    if (baseName === undefined) return undefined;
    const key = `${this.transport.location}\u0000${this.folders.outbox}\u0000${baseName}`;
    const cached = itemMasters.get(key);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.skus;
    const file = await this.readMaster(baseName, kind);
    const skus = file === undefined ? undefined : toSkus(file);
    itemMasters.set(key, { skus, expiresAt: Date.now() + (this.#options.referenceDataTtlMs ?? 300_000) });
    return skus;
  }

  /** Forgets the cached item master (after the ERP rejected an order for a SKU the cache knew). */
  forgetItemMaster(): void {
    itemMasters.delete(`${this.transport.location}\u0000${this.folders.outbox}\u0000${this.#options.itemMaster}`);
  }
}
