/**
 * One interface over the places a legacy ERP exchanges files: an FTP/FTPS or SFTP server,
 * an S3 bucket, a local folder. Paths are relative to the folder the URL names, with `/`
 * between parts. Every call has a timeout and fails as RetryableError (connection lost,
 * timeout, a 4xx FTP reply) or PermanentError (refused login, a file that is not there,
 * permission denied), with `system` `file-drop` and a code saying which.
 */
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { PermanentError, RetryableError } from '../../../../core/errors.ts';
import { errorCodeIn } from '../../../../core/vendor-http.ts';

/** The `system` file-drop errors carry. */
export const FILE_DROP_SYSTEM = 'file-drop';

/** A file in a listed folder. */
export interface RemoteFile {
  readonly name: string;
  readonly size: number;
  /** Milliseconds since the epoch, when the server says (FTP listings may round to the minute). */
  readonly modifiedAt: number | undefined;
}

/** A place files are exchanged through. */
export interface FileTransport {
  /** Where it points, without credentials, for messages, e.g. `ftp://erp.example.com:21/exchange`. */
  readonly location: string;
  /** The files (not folders) directly in `folder`; empty when the folder does not exist. */
  list(folder: string): Promise<RemoteFile[]>;
  /** A file's bytes; PermanentError `file-not-found` naming the path when it is not there. */
  read(path: string): Promise<Uint8Array>;
  /**
   * Writes a file so that readers see all of it or none of it: uploaded under a temporary
   * name (`.NAME.<random>.part`, which the ERP ignores) and renamed when complete, replacing
   * a file of that name. Creates missing folders.
   */
  write(path: string, content: Uint8Array): Promise<void>;
  /** Renames or moves a file, replacing the target; PermanentError `file-not-found` when the source is not there. */
  move(from: string, to: string): Promise<void>;
  /** Deletes a file; a file that is not there is not an error. */
  delete(path: string): Promise<void>;
  /** Closes any connection; the transport reconnects on the next call. */
  close(): Promise<void>;
}

/** The temporary name a file is uploaded under before the rename that publishes it. */
export function temporaryPath(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.${randomUUID().slice(0, 8)}.part`);
}

/** The path under a base folder, refusing paths that climb out of it. */
export function resolveUnder(base: string, path: string): string {
  const joined = posix.normalize(posix.join(base, path));
  const root = posix.normalize(base.endsWith('/') ? base : `${base}/`);
  if (joined !== posix.normalize(base) && !joined.startsWith(root)) throw new RangeError(`path ${JSON.stringify(path)} leaves ${base}`);
  return joined;
}

/** The error for a file that is not where it was expected. */
export function fileNotFound(location: string, path: string, detail: string): PermanentError {
  return new PermanentError(`${FILE_DROP_SYSTEM}: ${path} is not on ${location} (${detail})`, { system: FILE_DROP_SYSTEM, code: 'file-not-found' });
}

/** Runs `work` with a deadline; on expiry calls `onTimeout` (to drop the connection) and fails as RetryableError. */
export async function withDeadline<Result>(operation: string, timeoutMs: number, work: Promise<Result>, onTimeout: () => void): Promise<Result> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new RetryableError(`${FILE_DROP_SYSTEM} ${operation}: no answer within ${timeoutMs} ms`, { system: FILE_DROP_SYSTEM, code: 'timeout' }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    // The losing promise may still reject once the connection is dropped; nobody awaits it.
    work.catch(() => undefined);
  }
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** True for errors of the network itself (refused, reset, unreachable), however deep in `cause`. */
export function isNetworkError(error: unknown): boolean {
  return errorCodeIn(error, NETWORK_CODES) !== undefined;
}
