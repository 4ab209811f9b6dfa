/**
 * The sandbox's SFTP server: an ssh2 `Server` with an ed25519 host key (generated on first
 * start and kept with the state, so its fingerprint survives restarts), password or
 * public-key login for one user, and the SFTP v3 requests file clients use, over the
 * exchange folder as `/`. It answers as OpenSSH's sftp-server does where clients notice:
 * RENAME fails when the target exists (draft-ietf-secsh-filexfer-02 §6.5), listings carry
 * `ls -l` long names, a missing path is NO_SUCH_FILE.
 *
 * Faults (operation `sftp:<REQUEST>`, e.g. `sftp:OPEN`, `sftp:RENAME`; none matches any):
 * `500` answers FAILURE, `timeout` never answers, `429` closes the connection.
 */
import { timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
// @ts-expect-error -- the package ships no type declarations (no @types/ssh2 installed); the parts used are typed below.
import ssh2 from 'ssh2';
import { sshFingerprint } from '../../../functions/connectors/erp/file-drop/transports/sftp.ts';
import type { FaultInjector } from '../faults.ts';
import { listen } from './listen.ts';

/** The parts of ssh2's API this server uses (its README's server example). */
interface ParsedKey {
  readonly type: string;
  getPublicSSH(): Buffer;
  verify(data: Buffer, signature: Buffer, hashAlgo?: string): boolean;
}
interface AuthContext {
  readonly method: string;
  readonly username: string;
  readonly password?: string;
  readonly key?: { algo: string; data: Buffer };
  readonly signature?: Buffer;
  readonly blob?: Buffer;
  readonly hashAlgo?: string;
  accept(): void;
  reject(methods?: string[]): void;
}
interface SftpStream {
  on(event: string, listener: (...args: never[]) => void): SftpStream;
  handle(id: number, handle: Buffer): void;
  status(id: number, code: number, message?: string): void;
  data(id: number, data: Buffer): void;
  name(id: number, names: { filename: string; longname: string; attrs: object }[]): void;
  attrs(id: number, attrs: object): void;
}
const { Server, utils } = ssh2 as {
  Server: new (config: { hostKeys: string[] }, listener: (client: import('node:events').EventEmitter & { end(): void; setNoDelay(noDelay: boolean): void }) => void) => import('node:net').Server;
  utils: {
    generateKeyPairSync(type: 'ed25519'): { private: string; public: string };
    parseKey(key: string): ParsedKey | Error;
    sftp: { STATUS_CODE: Record<'OK' | 'EOF' | 'NO_SUCH_FILE' | 'PERMISSION_DENIED' | 'FAILURE' | 'OP_UNSUPPORTED', number>; OPEN_MODE: Record<'READ' | 'WRITE' | 'APPEND' | 'CREAT' | 'TRUNC' | 'EXCL', number> };
  };
};
const { STATUS_CODE, OPEN_MODE } = utils.sftp;

/** How to start the SFTP server. */
export interface SandboxSftpOptions {
  readonly host: string;
  readonly port: number;
  readonly root: string;
  /** Where the host key is kept (`ssh_host_ed25519_key`); undefined generates one per start. */
  readonly keyDirectory: string | undefined;
  readonly username: string;
  readonly password: string;
  /** An OpenSSH public key (`ssh-ed25519 AAAA…`) that may log in instead of the password. */
  readonly authorizedKey?: string | undefined;
  readonly faults: FaultInjector;
}

/** A running SFTP server. */
export interface SandboxSftpServer {
  readonly port: number;
  /** `SHA256:…` of the host key, as clients pin it. */
  readonly hostKeyFingerprint: string;
  close(): Promise<void>;
}

/** A key pair for SFTP logins by key (tests and the hub's local environment). */
export function generateSshKeyPair(): { privateKey: string; publicKey: string } {
  const pair = utils.generateKeyPairSync('ed25519');
  return { privateKey: pair.private, publicKey: pair.public };
}

function parse(key: string, what: string): ParsedKey {
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) throw new Error(`${what}: ${parsed.message}`);
  return parsed;
}

function hostKey(directory: string | undefined): string {
  if (directory === undefined) return utils.generateKeyPairSync('ed25519').private;
  const path = join(directory, 'ssh_host_ed25519_key');
  if (!existsSync(path)) {
    mkdirSync(directory, { recursive: true });
    writeFileSync(path, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
  }
  return readFileSync(path, 'utf8');
}

function sameBytes(first: Buffer, second: Buffer): boolean {
  return first.length === second.length && timingSafeEqual(first, second);
}

function attributes(info: Stats): { mode: number; uid: number; gid: number; size: number; atime: number; mtime: number } {
  return { mode: info.mode, uid: info.uid, gid: info.gid, size: info.size, atime: Math.floor(info.atimeMs / 1000), mtime: Math.floor(info.mtimeMs / 1000) };
}

function longName(name: string, info: Stats): string {
  const type = info.isDirectory() ? 'd' : '-';
  const date = new Date(info.mtimeMs).toUTCString().slice(5, 22);
  return `${type}rw-r--r-- 1 harmony harmony ${String(info.size).padStart(8)} ${date} ${name}`;
}

/** Starts the SFTP server and resolves once it listens. */
export async function startSandboxSftpServer(options: SandboxSftpOptions): Promise<SandboxSftpServer> {
  const privateHostKey = hostKey(options.keyDirectory);
  const hostKeyFingerprint = sshFingerprint(parse(privateHostKey, 'host key').getPublicSSH());
  const authorized = options.authorizedKey === undefined ? undefined : parse(options.authorizedKey, 'authorized key');
  const clients = new Set<{ end(): void }>();

  const local = (path: string): string => join(options.root, posix.normalize(`/${path}`));

  const server = new Server({ hostKeys: [privateHostKey] }, (client) => {
    clients.add(client);
    // Without it Nagle's algorithm and delayed ACKs hold every SFTP reply ~40 ms.
    client.setNoDelay(true);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (context: AuthContext) => {
      if (context.username !== options.username) return context.reject();
      if (context.method === 'password' && context.password === options.password) return context.accept();
      if (context.method === 'publickey' && authorized !== undefined && context.key !== undefined) {
        if (context.key.algo !== authorized.type || !sameBytes(context.key.data, authorized.getPublicSSH())) return context.reject();
        if (context.signature === undefined) return context.accept();
        return authorized.verify(context.blob!, context.signature, context.hashAlgo) ? context.accept() : context.reject();
      }
      return context.reject(authorized === undefined ? ['password'] : ['password', 'publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession: () => import('node:events').EventEmitter) => {
        acceptSession().on('sftp', (acceptSftp: () => SftpStream) => serveSftp(acceptSftp(), client));
      });
    });
  });

  function serveSftp(sftp: SftpStream, client: { end(): void }): void {
    const handles = new Map<number, { fd?: number; entries?: { filename: string; longname: string; attrs: object }[]; path: string }>();
    let nextHandle = 1;
    const newHandle = (value: { fd?: number; entries?: { filename: string; longname: string; attrs: object }[]; path: string }): Buffer => {
      const id = nextHandle++;
      handles.set(id, value);
      const buffer = Buffer.alloc(4);
      buffer.writeUInt32BE(id);
      return buffer;
    };
    const handleOf = (buffer: Buffer) => (buffer.length === 4 ? handles.get(buffer.readUInt32BE(0)) : undefined);
    const fail = (id: number, error: unknown): void => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') sftp.status(id, STATUS_CODE.NO_SUCH_FILE, 'No such file');
      else if (code === 'EACCES' || code === 'EPERM') sftp.status(id, STATUS_CODE.PERMISSION_DENIED, 'Permission denied');
      else sftp.status(id, STATUS_CODE.FAILURE, (error as Error).message);
    };

    /** Registers a request handler behind the fault injector. */
    const on = (request: string, handler: (id: number, ...args: never[]) => Promise<void> | void): void => {
      sftp.on(request, ((id: number, ...args: never[]) => {
        const fault = options.faults.take(`sftp:${request}`);
        if (fault?.kind === 'timeout') return;
        if (fault?.kind === '429') return client.end();
        if (fault?.kind === '500') return sftp.status(id, STATUS_CODE.FAILURE, 'Failure (sandbox fault)');
        Promise.resolve()
          .then(() => handler(id, ...args))
          .catch((error: unknown) => fail(id, error));
      }) as never);
    };

    on('REALPATH', (id, path: string) => {
      const normalized = posix.normalize(`/${path}`);
      sftp.name(id, [{ filename: normalized, longname: normalized, attrs: {} }]);
    });
    const statHandler = async (id: number, path: string): Promise<void> => sftp.attrs(id, attributes(await stat(local(path))));
    on('STAT', statHandler);
    on('LSTAT', statHandler);
    on('OPEN', (id, path: string, flags: number) => {
      let mode = flags & OPEN_MODE.WRITE ? (flags & OPEN_MODE.READ ? 'r+' : 'w') : 'r';
      if (flags & OPEN_MODE.WRITE && !(flags & OPEN_MODE.TRUNC) && !(flags & OPEN_MODE.CREAT)) mode = 'r+';
      if (flags & OPEN_MODE.APPEND) mode = 'a';
      if (flags & OPEN_MODE.EXCL) mode = 'wx';
      const fd = openSync(local(path), mode);
      sftp.handle(id, newHandle({ fd, path }));
    });
    on('READ', (id, handle: Buffer, offset: number, length: number) => {
      const open = handleOf(handle);
      if (open?.fd === undefined) return sftp.status(id, STATUS_CODE.FAILURE, 'invalid handle');
      const buffer = Buffer.alloc(length);
      const read = readSync(open.fd, buffer, 0, length, offset);
      if (read === 0) return sftp.status(id, STATUS_CODE.EOF);
      sftp.data(id, buffer.subarray(0, read));
    });
    on('WRITE', (id, handle: Buffer, offset: number, data: Buffer) => {
      const open = handleOf(handle);
      if (open?.fd === undefined) return sftp.status(id, STATUS_CODE.FAILURE, 'invalid handle');
      writeSync(open.fd, data, 0, data.length, offset);
      sftp.status(id, STATUS_CODE.OK);
    });
    on('FSTAT', (id, handle: Buffer) => {
      const open = handleOf(handle);
      if (open?.fd === undefined) return sftp.status(id, STATUS_CODE.FAILURE, 'invalid handle');
      sftp.attrs(id, attributes(fstatSync(open.fd)));
    });
    on('CLOSE', (id, handle: Buffer) => {
      const open = handleOf(handle);
      if (open === undefined) return sftp.status(id, STATUS_CODE.FAILURE, 'invalid handle');
      if (open.fd !== undefined) closeSync(open.fd);
      handles.delete(handle.readUInt32BE(0));
      sftp.status(id, STATUS_CODE.OK);
    });
    on('OPENDIR', async (id, path: string) => {
      const folder = local(path);
      if (!(await stat(folder)).isDirectory()) return sftp.status(id, STATUS_CODE.FAILURE, 'not a directory');
      const entries = [];
      for (const name of await readdir(folder)) {
        const info = await stat(join(folder, name)).catch(() => undefined);
        if (info !== undefined) entries.push({ filename: name, longname: longName(name, info), attrs: attributes(info) });
      }
      sftp.handle(id, newHandle({ entries, path }));
    });
    on('READDIR', (id, handle: Buffer) => {
      const open = handleOf(handle);
      if (open?.entries === undefined) return sftp.status(id, STATUS_CODE.FAILURE, 'invalid handle');
      if (open.entries.length === 0) return sftp.status(id, STATUS_CODE.EOF);
      sftp.name(id, open.entries.splice(0));
    });
    on('MKDIR', async (id, path: string) => {
      await mkdir(local(path));
      sftp.status(id, STATUS_CODE.OK);
    });
    on('RMDIR', async (id, path: string) => {
      await rmdir(local(path));
      sftp.status(id, STATUS_CODE.OK);
    });
    on('REMOVE', async (id, path: string) => {
      await stat(local(path));
      await rm(local(path));
      sftp.status(id, STATUS_CODE.OK);
    });
    on('RENAME', async (id, from: string, to: string) => {
      await stat(local(from));
      if (await stat(local(to)).then(() => true, () => false)) return sftp.status(id, STATUS_CODE.FAILURE, 'Failure');
      await rename(local(from), local(to));
      sftp.status(id, STATUS_CODE.OK);
    });
    const setStat = (id: number): void => sftp.status(id, STATUS_CODE.OK);
    on('SETSTAT', setStat);
    on('FSETSTAT', setStat);
    sftp.on('end', () => {
      for (const open of handles.values()) if (open.fd !== undefined) closeSync(open.fd);
      handles.clear();
    });
  }

  const port = await listen(server, options.port, options.host);
  return {
    port,
    hostKeyFingerprint,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of clients) client.end();
        server.close(() => resolve());
      }),
  };
}
