/**
 * The status files the ERP drops in its outbox, read two ways: by the status poller
 * (`readStatusFiles`: each new file once, bad lines reported with file and line number,
 * then acknowledged) and by the adapter's order look-ups (`allStatusLines`: every status
 * the ERP ever reported, processed or not).
 *
 * A status file is identified by name AND SHA-256 checksum: the same file seen again, or
 * a copy re-uploaded under another name, is not applied twice. Acknowledging moves a file
 * to the processed folder as `<stem>.<sha256><ext>` (or, when the ERP owns its outbox,
 * writes an empty marker of that name there), so the processed folder's listing alone
 * tells which checksums were applied.
 */
import { posix } from 'node:path';
import { PermanentError } from '../../../core/errors.ts';
import type { FileDropClient, ReadFile } from './client.ts';
import type { BadLine } from './formats/table.ts';
import { FILE_PREFIX, STATUS_FILE } from './file-kinds.ts';
import { StatusRow, validateRows } from './mapping.ts';
import type { RemoteFile } from './transports/transport.ts';

/** One status the ERP reported. */
export interface StatusLine {
  /** The status file's name as the ERP wrote it. */
  readonly file: string;
  readonly line: number;
  /** SHA-256 of the file: with the line, the change's stable id. */
  readonly checksum: string;
  readonly row: StatusRow;
}

/** A status line that could not be read, and the file it is in: for the rejected-records queue. */
export interface BadStatusLine extends BadLine {
  readonly file: string;
}

/** What one read of the outbox found. */
export interface StatusFileBatch {
  readonly statuses: readonly StatusLine[];
  readonly badLines: readonly BadStatusLine[];
  /** Files read (new or duplicate), with their checksums. */
  readonly files: readonly { readonly name: string; readonly checksum: string; readonly duplicate: boolean }[];
  /** Marks every file of the batch processed (moves it, or writes its marker). Idempotent. */
  acknowledge(): Promise<void>;
}

const PROCESSED_NAME = /^(.*)\.([0-9a-f]{64})(\.[^.]+)$/;

/** `STATUS_1.csv` with checksum `ab…` → `STATUS_1.ab….csv`. */
export function processedName(name: string, checksum: string): string {
  const extension = posix.extname(name);
  return `${name.slice(0, name.length - extension.length)}.${checksum}${extension}`;
}

/** The original name and checksum of a processed file (or marker); undefined for other names. */
export function parseProcessedName(name: string): { name: string; checksum: string } | undefined {
  const match = PROCESSED_NAME.exec(name);
  return match === null ? undefined : { name: `${match[1]}${match[3]}`, checksum: match[2]! };
}

function isStatusFile(name: string): boolean {
  return name.startsWith(FILE_PREFIX.status);
}

/** Reads a file that may vanish between listing and reading (another poller moved it): undefined then. */
async function readIfStillThere(client: FileDropClient, folder: string, file: RemoteFile): Promise<ReadFile | undefined> {
  try {
    // Processed files carry their checksum in the name: their content never changes.
    return await client.read(folder, file, STATUS_FILE, folder === client.folders.processed);
  } catch (error) {
    if (error instanceof PermanentError && error.code === 'file-not-found') return undefined;
    throw error;
  }
}

function toLines(file: ReadFile): { statuses: StatusLine[]; badLines: BadStatusLine[] } {
  const { rows, badLines } = validateRows(StatusRow, file.table.records);
  return {
    statuses: rows.map(({ line, row }) => ({ file: file.name, line, checksum: file.checksum, row })),
    badLines: [...file.table.badLines, ...badLines]
      .sort((first, second) => first.line - second.line)
      .map((bad) => ({ file: file.name, line: bad.line, raw: bad.raw, reason: bad.reason })),
  };
}

/**
 * The status files in the outbox not yet processed: their statuses and bad lines, each file
 * once (by checksum). Nothing is marked processed until `acknowledge()`; a crash before it
 * means the next read returns the same lines (whose ids, checksum and line, are the same).
 */
export async function readStatusFiles(client: FileDropClient): Promise<StatusFileBatch> {
  const { outbox, processed, processedMode } = client.folders;
  const [candidates, done] = await Promise.all([client.list(outbox), client.transport.list(processed)]);
  const applied = new Set(done.flatMap((file) => parseProcessedName(file.name)?.checksum ?? []));
  const statuses: StatusLine[] = [];
  const badLines: BadStatusLine[] = [];
  const files: { name: string; checksum: string; duplicate: boolean }[] = [];
  for (const candidate of candidates.filter((file) => isStatusFile(file.name))) {
    const file = await readIfStillThere(client, outbox, candidate);
    if (file === undefined) continue;
    const duplicate = applied.has(file.checksum);
    files.push({ name: file.name, checksum: file.checksum, duplicate });
    if (duplicate) continue;
    applied.add(file.checksum);
    const lines = toLines(file);
    statuses.push(...lines.statuses);
    badLines.push(...lines.badLines);
  }
  const doneNames = new Set(done.map((file) => file.name));
  return {
    statuses,
    badLines,
    files,
    async acknowledge() {
      for (const file of files) {
        const target = processedName(file.name, file.checksum);
        if (processedMode === 'remember') {
          if (!doneNames.has(target)) await client.transport.write(posix.join(processed, target), new Uint8Array());
          continue;
        }
        try {
          if (doneNames.has(target)) await client.transport.delete(posix.join(outbox, file.name));
          else await client.transport.move(posix.join(outbox, file.name), posix.join(processed, target));
        } catch (error) {
          // Another poller acknowledged it first.
          if (!(error instanceof PermanentError && error.code === 'file-not-found')) throw error;
        }
        doneNames.add(target);
      }
    },
  };
}

/**
 * Every status the ERP reported, processed or not, each file's content once, oldest first
 * (by OCCURRED_AT, then file name, then line). Bad lines are left to the poller.
 */
export async function allStatusLines(client: FileDropClient): Promise<StatusLine[]> {
  const { outbox, processed, processedMode } = client.folders;
  const processedSources = async (): Promise<{ folder: string; file: RemoteFile; name: string }[]> => {
    if (processedMode !== 'move') return [];
    return (await client.list(processed)).flatMap((file) => {
      const original = parseProcessedName(file.name);
      return original !== undefined && isStatusFile(original.name) ? [{ folder: processed, file, name: original.name }] : [];
    });
  };
  // The outbox first: a file a poller moves meanwhile then shows up in the processed listing.
  const outboxSources = (await client.list(outbox)).filter((file) => isStatusFile(file.name)).map((file) => ({ folder: outbox, file, name: file.name }));
  let sources = [...outboxSources, ...(await processedSources())];
  const seenChecksums = new Set<string>();
  const seenSources = new Set<string>();
  const lines: StatusLine[] = [];
  for (let pass = 0; pass < 2 && sources.length > 0; pass += 1) {
    let vanished = false;
    for (const source of sources) {
      seenSources.add(`${source.folder}/${source.file.name}`);
      const file = await readIfStillThere(client, source.folder, source.file);
      if (file === undefined) {
        vanished = true;
        continue;
      }
      if (seenChecksums.has(file.checksum)) continue;
      seenChecksums.add(file.checksum);
      lines.push(...toLines({ ...file, name: source.name }).statuses);
    }
    // A file moved to processed after the listings: read the processed folder once more.
    sources = vanished ? (await processedSources()).filter((source) => !seenSources.has(`${source.folder}/${source.file.name}`)) : [];
  }
  return lines.sort(
    (first, second) =>
      Date.parse(first.row.OCCURRED_AT) - Date.parse(second.row.OCCURRED_AT) ||
      (first.file < second.file ? -1 : first.file > second.file ? 1 : 0) ||
      first.line - second.line,
  );
}
