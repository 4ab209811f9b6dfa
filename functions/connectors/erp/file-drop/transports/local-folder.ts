/**
 * A folder on this machine (`file:///path`): for an ERP on a shared drive mounted where
 * Harmony runs, and for tests. Writes go to a temporary name in the same folder and are
 * renamed into place, which POSIX makes atomic.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PermanentError, RetryableError } from '../../../../core/errors.ts';
import { FILE_DROP_SYSTEM, fileNotFound, resolveUnder, temporaryPath, withDeadline, type FileTransport, type RemoteFile } from './transport.ts';

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function classify(error: unknown, operation: string): RetryableError | PermanentError {
  const code = (error as NodeJS.ErrnoException).code;
  const message = `${FILE_DROP_SYSTEM} ${operation}: ${(error as Error).message}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new PermanentError(message, { system: FILE_DROP_SYSTEM, code: 'permission-denied' });
  return new RetryableError(message, { system: FILE_DROP_SYSTEM, code: code ?? 'io', cause: error });
}

/** Files in and out of a local folder. */
export class LocalFolderTransport implements FileTransport {
  readonly location: string;
  readonly #root: string;
  readonly #timeoutMs: number;

  constructor(root: string, timeoutMs: number) {
    this.#root = root;
    this.#timeoutMs = timeoutMs;
    this.location = `file://${root}`;
  }

  list(folder: string): Promise<RemoteFile[]> {
    return this.#run(`list ${folder}`, async () => {
      const path = this.#path(folder);
      let names: string[];
      try {
        names = (await readdir(path, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
      const files: RemoteFile[] = [];
      for (const name of names) {
        // A file moved away between readdir and stat is simply not listed.
        const info = await stat(join(path, name)).catch(() => undefined);
        if (info !== undefined) files.push({ name, size: info.size, modifiedAt: info.mtimeMs });
      }
      return files;
    });
  }

  read(file: string): Promise<Uint8Array> {
    return this.#run(`read ${file}`, async () => {
      try {
        return new Uint8Array(await readFile(this.#path(file)));
      } catch (error) {
        if (isMissing(error)) throw fileNotFound(this.location, file, 'no such file');
        throw error;
      }
    });
  }

  write(file: string, content: Uint8Array): Promise<void> {
    return this.#run(`write ${file}`, async () => {
      const path = this.#path(file);
      const temporary = temporaryPath(path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temporary, content);
      await rename(temporary, path);
    });
  }

  move(from: string, to: string): Promise<void> {
    return this.#run(`move ${from}`, async () => {
      const target = this.#path(to);
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(this.#path(from), target);
      } catch (error) {
        if (isMissing(error)) throw fileNotFound(this.location, from, 'no such file');
        throw error;
      }
    });
  }

  delete(file: string): Promise<void> {
    return this.#run(`delete ${file}`, () => rm(this.#path(file), { force: true }));
  }

  async close(): Promise<void> {}

  #path(relative: string): string {
    return resolveUnder(this.#root, relative);
  }

  async #run<Result>(operation: string, work: () => Promise<Result>): Promise<Result> {
    try {
      return await withDeadline(operation, this.#timeoutMs, work(), () => undefined);
    } catch (error) {
      if (error instanceof RetryableError || error instanceof PermanentError) throw error;
      throw classify(error, operation);
    }
  }
}
