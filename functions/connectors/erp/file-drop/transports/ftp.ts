/**
 * FTP and FTPS (explicit TLS, `AUTH TLS`) through basic-ftp, passive mode. Replies are
 * classified as RFC 959 defines them: 4xx (421 service not available / too many
 * connections, 425, 426, 450, 451 local error, 452) are transient — RetryableError; 530
 * (not logged in) is a PermanentError naming the credentials; 550 (file unavailable) on a
 * file Harmony expects is a PermanentError `file-not-found` naming the path; other 5xx
 * replies are permanent. Connection errors and timeouts are retryable.
 */
import { posix } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { PermanentError, RetryableError } from '../../../../core/errors.ts';
import type { RateLimiter } from '../../../../core/rate-limit.ts';
import { SharedConnection } from './connection.ts';
import { FILE_DROP_SYSTEM, fileNotFound, isNetworkError, resolveUnder, temporaryPath, type FileTransport, type RemoteFile } from './transport.ts';

/** How to reach an FTP server. */
export interface FtpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** The folder the exchange lives in, e.g. `/exchange`. */
  readonly basePath: string;
  readonly username: string;
  readonly password: string;
  /** Explicit FTPS (AUTH TLS) for control and data connections. */
  readonly secure: boolean;
  /** Per-call timeout (connection, each command, each transfer). */
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
}

/** RetryableError or PermanentError for what basic-ftp threw. */
export function classifyFtpError(error: unknown, operation: string): RetryableError | PermanentError {
  const message = `${FILE_DROP_SYSTEM} FTP ${operation}`;
  if (error instanceof FTPError) {
    const reply = `${error.code} ${error.message.replace(/^\d{3}[ -]/, '')}`.trim();
    if (error.code === 530) {
      return new PermanentError(`${message}: login refused (${reply}) — check the username and password (secret fields username, password)`, { system: FILE_DROP_SYSTEM, code: 'auth' });
    }
    if (error.code >= 400 && error.code < 500) return new RetryableError(`${message}: ${reply}`, { system: FILE_DROP_SYSTEM, code: `ftp-${error.code}`, cause: error });
    return new PermanentError(`${message}: ${reply}`, { system: FILE_DROP_SYSTEM, code: `ftp-${error.code}`, cause: error });
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /CERT|TLS|SSL/.test(code)) {
    return new PermanentError(`${message}: TLS certificate refused (${code})`, { system: FILE_DROP_SYSTEM, code: 'tls', cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new RetryableError(`${message}: ${isNetworkError(error) ? 'connection failed' : 'connection lost'} (${detail})`, { system: FILE_DROP_SYSTEM, code: 'network', cause: error });
}

function isReply(error: unknown, code: number): boolean {
  return error instanceof FTPError && error.code === code;
}

/** Files in and out of a folder on an FTP server. */
export class FtpTransport implements FileTransport {
  readonly location: string;
  readonly #options: FtpTransportOptions;
  readonly #connection: SharedConnection<Client>;
  /** Folders known to exist on the current connection. */
  #ensured = new Set<string>();

  constructor(options: FtpTransportOptions) {
    this.#options = options;
    this.location = `${options.secure ? 'ftps' : 'ftp'}://${options.host}:${options.port}${options.basePath}`;
    this.#connection = new SharedConnection<Client>({
      open: async () => {
        this.#ensured = new Set();
        const client = new Client(options.timeoutMs);
        try {
          await client.access({
            host: options.host,
            port: options.port,
            user: options.username,
            password: options.password,
            secure: options.secure,
          });
        } catch (error) {
          client.close();
          throw error;
        }
        return client;
      },
      isOpen: (client) => !client.closed,
      destroy: (client) => client.close(),
      classify: classifyFtpError,
      closesConnection: (error) => isReply(error, 421),
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: `${FILE_DROP_SYSTEM}:${options.host}`,
    });
  }

  list(folder: string): Promise<RemoteFile[]> {
    const path = this.#path(folder);
    return this.#connection.run(`LIST ${path}`, async (client) => {
      try {
        const entries = await client.list(path);
        return entries
          .filter((entry) => entry.isFile)
          .map((entry) => ({ name: entry.name, size: entry.size, modifiedAt: entry.modifiedAt?.getTime() }));
      } catch (error) {
        if (isReply(error, 550) || isReply(error, 450)) return [];
        throw error;
      }
    });
  }

  read(file: string): Promise<Uint8Array> {
    const path = this.#path(file);
    return this.#connection.run(`RETR ${path}`, async (client) => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      });
      try {
        await client.downloadTo(sink, path);
      } catch (error) {
        if (isReply(error, 550)) throw fileNotFound(this.location, file, (error as FTPError).message);
        throw error;
      }
      return new Uint8Array(Buffer.concat(chunks));
    });
  }

  write(file: string, content: Uint8Array): Promise<void> {
    const path = this.#path(file);
    const temporary = temporaryPath(path);
    return this.#connection.run(`STOR ${path}`, async (client) => {
      await this.#ensureFolder(client, posix.dirname(path));
      await client.uploadFrom(Readable.from([Buffer.from(content)]), temporary);
      await this.#rename(client, temporary, path);
    });
  }

  move(from: string, to: string): Promise<void> {
    const source = this.#path(from);
    const target = this.#path(to);
    return this.#connection.run(`RNFR ${source}`, async (client) => {
      await this.#ensureFolder(client, posix.dirname(target));
      try {
        await this.#rename(client, source, target);
      } catch (error) {
        if (isReply(error, 550)) throw fileNotFound(this.location, from, (error as FTPError).message);
        throw error;
      }
    });
  }

  delete(file: string): Promise<void> {
    const path = this.#path(file);
    return this.#connection.run(`DELE ${path}`, async (client) => {
      try {
        await client.remove(path);
      } catch (error) {
        if (!isReply(error, 550)) throw error;
      }
    });
  }

  async close(): Promise<void> {
    this.#connection.close();
  }

  #path(relative: string): string {
    return resolveUnder(this.#options.basePath, relative);
  }

  /** RNFR/RNTO; servers that refuse to replace an existing file (550) get it deleted first. */
  async #rename(client: Client, from: string, to: string): Promise<void> {
    try {
      await client.rename(from, to);
    } catch (error) {
      if (!isReply(error, 550) || !(await this.#exists(client, to))) throw error;
      await client.remove(to);
      await client.rename(from, to);
    }
  }

  async #exists(client: Client, path: string): Promise<boolean> {
    const entries = await client.list(posix.dirname(path)).catch(() => []);
    return entries.some((entry) => entry.name === posix.basename(path));
  }

  async #ensureFolder(client: Client, folder: string): Promise<void> {
    if (this.#ensured.has(folder)) return;
    await client.ensureDir(folder);
    this.#ensured.add(folder);
  }
}
