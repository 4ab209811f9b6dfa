/**
 * SFTP (SSH File Transfer Protocol, version 3 as OpenSSH speaks it) through
 * ssh2-sftp-client, with password or private-key login and the server's host key pinned
 * by its SHA-256 fingerprint (as `ssh-keygen -lf` prints it): a server that shows another
 * key is refused before any credential is sent. SFTP v3 RENAME fails when the target
 * exists (draft-ietf-secsh-filexfer-02 §6.5), so replacing a file deletes the old one
 * just before the rename. Status codes: NO_SUCH_FILE is `file-not-found`, PERMISSION_DENIED
 * permanent, FAILURE and lost connections retryable; failed authentication is permanent.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
// @ts-expect-error -- the package ships no type declarations (no @types/ssh2-sftp-client installed); typed below.
import SftpClientModule from 'ssh2-sftp-client';
import { PermanentError, RetryableError } from '../../../../core/errors.ts';
import type { RateLimiter } from '../../../../core/rate-limit.ts';
import { SharedConnection } from './connection.ts';
import { FILE_DROP_SYSTEM, fileNotFound, isNetworkError, resolveUnder, temporaryPath, type FileTransport, type RemoteFile } from './transport.ts';

/** How to reach an SFTP server. */
export interface SftpTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly basePath: string;
  readonly username: string;
  readonly password?: string | undefined;
  /** OpenSSH or PEM private key; used instead of the password when set. */
  readonly privateKey?: string | undefined;
  /** The server's host key fingerprint, `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly hostKeyFingerprint: string;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
}

/** A public host key's fingerprint in OpenSSH's form: `SHA256:` and the unpadded base64 digest. */
export function sshFingerprint(publicKey: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(publicKey).digest('base64').replace(/=+$/, '')}`;
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02 §7). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

function statusCode(error: unknown): number | string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' || typeof code === 'string' ? code : undefined;
}

function isMissing(error: unknown): boolean {
  const code = statusCode(error);
  return code === NO_SUCH_FILE || code === 'ENOENT' || /no such file/i.test((error as Error).message ?? '');
}

/** RetryableError or PermanentError for what ssh2 / ssh2-sftp-client threw. */
export function classifySftpError(error: unknown, operation: string): RetryableError | PermanentError {
  const detail = error instanceof Error ? error.message : String(error);
  const message = `${FILE_DROP_SYSTEM} SFTP ${operation}`;
  if (/authentication methods failed|authentication failed/i.test(detail)) {
    return new PermanentError(`${message}: login refused (${detail}) — check the username and the password or private key (secret fields username, password, privateKey)`, {
      system: FILE_DROP_SYSTEM,
      code: 'auth',
    });
  }
  if (/host denied|verification failed/i.test(detail)) {
    return new PermanentError(`${message}: the server's host key does not match FILE_DROP_SFTP_HOST_KEY (${detail})`, { system: FILE_DROP_SYSTEM, code: 'host-key' });
  }
  if (/cannot parse privatekey|unsupported key format|encrypted private key/i.test(detail)) {
    return new PermanentError(`${message}: the private key cannot be used (${detail})`, { system: FILE_DROP_SYSTEM, code: 'auth' });
  }
  const code = statusCode(error);
  if (code === PERMISSION_DENIED || code === 'EACCES') {
    return new PermanentError(`${message}: permission denied (${detail})`, { system: FILE_DROP_SYSTEM, code: 'permission-denied' });
  }
  return new RetryableError(`${message}: ${isNetworkError(error) ? 'connection failed' : 'failed'} (${detail})`, { system: FILE_DROP_SYSTEM, code: 'network', cause: error });
}

/** The part of ssh2-sftp-client's API this transport uses (its README's method list). */
interface SftpClient {
  connect(config: Record<string, unknown>): Promise<unknown>;
  list(path: string): Promise<{ type: string; name: string; size: number; modifyTime: number }[]>;
  get(path: string): Promise<Buffer>;
  put(content: Buffer, path: string): Promise<string>;
  rename(from: string, to: string): Promise<string>;
  delete(path: string, notFoundOk: boolean): Promise<string>;
  exists(path: string): Promise<false | 'd' | '-' | 'l'>;
  mkdir(path: string, recursive: boolean): Promise<string>;
  end(): Promise<boolean>;
  /** Set while connected. */
  readonly sftp: unknown;
  /** The ssh2 Client underneath. */
  readonly client: { destroy(): void; setNoDelay(noDelay: boolean): void };
}
const SftpClientClass = SftpClientModule as new (name: string, listeners: Record<string, () => void>) => SftpClient;

/** ssh2-sftp-client prints to the console from its global listeners unless given these. */
const QUIET_LISTENERS = { error: () => undefined, end: () => undefined, close: () => undefined };

/** Files in and out of a folder on an SFTP server. */
export class SftpTransport implements FileTransport {
  readonly location: string;
  readonly #options: SftpTransportOptions;
  readonly #connection: SharedConnection<SftpClient>;
  #ensured = new Set<string>();

  constructor(options: SftpTransportOptions) {
    this.#options = options;
    this.location = `sftp://${options.host}:${options.port}${options.basePath}`;
    this.#connection = new SharedConnection<SftpClient>({
      open: async () => {
        this.#ensured = new Set();
        const client = new SftpClientClass('harmony-file-drop', QUIET_LISTENERS);
        try {
          await client.connect({
            host: options.host,
            port: options.port,
            username: options.username,
            ...(options.privateKey === undefined || options.privateKey === '' ? { password: options.password } : { privateKey: options.privateKey }),
            readyTimeout: options.timeoutMs,
            hostVerifier: (key: Buffer) => sshFingerprint(key) === options.hostKeyFingerprint,
          });
        } catch (error) {
          await client.end().catch(() => undefined);
          throw error;
        }
        // Each SFTP request waits for its reply: Nagle's algorithm would hold every small one back.
        client.client.setNoDelay(true);
        return client;
      },
      isOpen: (client) => client.sftp !== undefined,
      destroy: (client) => client.client.destroy(),
      classify: classifySftpError,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
      rateLimitTarget: `${FILE_DROP_SYSTEM}:${options.host}`,
    });
  }

  list(folder: string): Promise<RemoteFile[]> {
    const path = this.#path(folder);
    return this.#connection.run(`readdir ${path}`, async (client) => {
      try {
        const entries = await client.list(path);
        return entries.filter((entry) => entry.type === '-').map((entry) => ({ name: entry.name, size: entry.size, modifiedAt: entry.modifyTime }));
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
    });
  }

  read(file: string): Promise<Uint8Array> {
    const path = this.#path(file);
    return this.#connection.run(`read ${path}`, async (client) => {
      try {
        return new Uint8Array(await client.get(path));
      } catch (error) {
        if (isMissing(error)) throw fileNotFound(this.location, file, (error as Error).message);
        throw error;
      }
    });
  }

  write(file: string, content: Uint8Array): Promise<void> {
    const path = this.#path(file);
    const temporary = temporaryPath(path);
    return this.#connection.run(`write ${path}`, async (client) => {
      await this.#ensureFolder(client, posix.dirname(path));
      await client.put(Buffer.from(content), temporary);
      await this.#replace(client, temporary, path);
    });
  }

  move(from: string, to: string): Promise<void> {
    const source = this.#path(from);
    const target = this.#path(to);
    return this.#connection.run(`rename ${source}`, async (client) => {
      await this.#ensureFolder(client, posix.dirname(target));
      if ((await client.exists(source)) === false) throw fileNotFound(this.location, from, 'no such file');
      await this.#replace(client, source, target);
    });
  }

  delete(file: string): Promise<void> {
    const path = this.#path(file);
    return this.#connection.run(`remove ${path}`, async (client) => {
      await client.delete(path, true);
    });
  }

  async close(): Promise<void> {
    this.#connection.close();
  }

  #path(relative: string): string {
    return resolveUnder(this.#options.basePath, relative);
  }

  async #replace(client: SftpClient, from: string, to: string): Promise<void> {
    try {
      await client.rename(from, to);
    } catch (error) {
      if ((await client.exists(to)) === false) throw error;
      await client.delete(to, true);
      await client.rename(from, to);
    }
  }

  async #ensureFolder(client: SftpClient, folder: string): Promise<void> {
    if (this.#ensured.has(folder)) return;
    if ((await client.exists(folder)) !== 'd') await client.mkdir(folder, true);
    this.#ensured.add(folder);
  }
}
