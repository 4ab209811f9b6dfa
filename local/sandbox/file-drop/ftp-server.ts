/**
 * The sandbox's FTP server (ftp-srv, passive mode on loopback) over the exchange folder,
 * with one login, answering as common FTP servers do where ftp-srv does not: 550 for a
 * file or folder that is not there (RETR, LIST), 530 for a refused login.
 *
 * Faults (the shared FaultInjector; `operation` an FTP command such as `STOR`, `RETR`,
 * `LIST`, `RNTO`, or `connect`; none matches any): `429` answers `421 Too many
 * connections` and closes the connection (RFC 959: 421 may answer any command);
 * `500` answers `451 Requested action aborted: local error in processing`; `timeout` never
 * answers; `commit-then-drop` on `STOR` keeps the first half of the uploaded bytes under
 * the name being written and drops the connection before the reply — a connection lost
 * mid-upload — and on any other command does it, then drops the connection unanswered.
 */
import type { EventEmitter } from 'node:events';
import { stat, truncate } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { FtpSrv, type FtpConnection } from 'ftp-srv';
import type { FaultInjector } from '../faults.ts';

/** How to start the FTP server. */
export interface SandboxFtpOptions {
  readonly host: string;
  readonly port: number;
  /** The folder a login sees as `/`. */
  readonly root: string;
  readonly username: string;
  readonly password: string;
  readonly faults: FaultInjector;
}

/** A running FTP server. */
export interface SandboxFtpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** ftp-srv chains bluebird methods (`.tap`) on what `reply` returns, so a replaced `reply` must return its promises. */
const Bluebird = createRequire(import.meta.resolve('ftp-srv'))('bluebird') as { resolve<Value>(value: Value | Promise<Value>): Promise<Value> };

/** ftp-srv logs through bunyan unless given a logger; the sandbox keeps quiet. */
const silentLog = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
  child: () => silentLog,
};

/** What ftp-srv keeps on a connection that the fault wrapper uses (not in its typings). */
interface ConnectionInternals {
  commands: { handle(message: string | { directive: string; arg: string | null }): Promise<unknown> };
  commandSocket: import('node:net').Socket;
  connector?: { socket?: import('node:net').Socket | null; end?: () => void };
  fs?: { _resolvePath(path: string): { fsPath: string } };
  reply(options: number | object, ...letters: unknown[]): Promise<unknown>;
}

function parse(message: string): { directive: string; arg: string } {
  const [directive = '', ...rest] = message.replace(/"/g, '').split(' ');
  return { directive: directive.trim().toUpperCase(), arg: rest.join(' ') };
}

async function exists(connection: ConnectionInternals, path: string): Promise<boolean> {
  if (connection.fs === undefined) return true;
  return stat(connection.fs._resolvePath(path || '.').fsPath).then(
    () => true,
    () => false,
  );
}

function drop(connection: ConnectionInternals): void {
  connection.connector?.socket?.destroy();
  connection.commandSocket.destroy();
}

/** Wraps one connection's command handler with faults and the 550 answers. */
function instrument(connection: ConnectionInternals, faults: FaultInjector): void {
  const handle = connection.commands.handle.bind(connection.commands);
  connection.commands.handle = async (message) => {
    if (typeof message !== 'string') return handle(message);
    const { directive, arg } = parse(message);
    const fault = directive === 'USER' || directive === 'PASS' || directive === 'FEAT' || directive === 'OPTS' ? undefined : faults.take(directive);
    if (fault?.kind === '429') return connection.reply(421, 'Too many connections, closing control connection').then(() => connection.commandSocket.destroy());
    if (fault?.kind === '500') {
      connection.connector?.end?.();
      return connection.reply(451, 'Requested action aborted: local error in processing');
    }
    if (fault?.kind === 'timeout') return undefined;
    if ((directive === 'RETR' || directive === 'LIST') && !(await exists(connection, directive === 'LIST' ? arg.replace(/^-\S+\s*/, '') : arg))) {
      connection.connector?.end?.();
      return connection.reply(550, `${arg}: No such file or directory`);
    }
    if (fault?.kind === 'commit-then-drop' || fault?.kind === 'malformed') {
      const reply = connection.reply.bind(connection);
      connection.reply = (options, ...letters) => {
        const code = typeof options === 'number' ? options : (options as { code?: number }).code;
        if (code === undefined || code < 200 || code >= 300) return reply(options, ...letters);
        return Bluebird.resolve(
          (async () => {
            if (directive === 'STOR' && connection.fs !== undefined) {
              const path = connection.fs._resolvePath(arg).fsPath;
              const { size } = await stat(path);
              await truncate(path, Math.floor(size / 2));
            }
            drop(connection);
          })(),
        );
      };
    }
    return handle(message);
  };
}

/** Starts the FTP server and resolves once it listens. */
export async function startSandboxFtpServer(options: SandboxFtpOptions): Promise<SandboxFtpServer> {
  // ftp-srv adds SIGTERM/SIGINT/SIGQUIT handlers that exit the process; the hub owns those.
  const signals = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))] as const));
  const server = new FtpSrv({
    url: `ftp://${options.host}:${options.port}`,
    pasv_url: options.host,
    // 0–0: every passive data connection listens on a free port of the OS's choosing.
    pasv_min: 0,
    pasv_max: 0,
    anonymous: false,
    greeting: 'Harmony file-drop sandbox',
    log: silentLog,
  });
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  server.on('login', ({ username, password }, resolve, reject) => {
    if (username === options.username && password === options.password) resolve({ root: options.root, cwd: '/' });
    else reject(new Error('Login incorrect.'));
  });
  // ftp-srv emits `connect` with each new control connection; its typings do not list the event.
  (server as unknown as EventEmitter).on('connect', (event: { connection: FtpConnection }) => {
    const connection = event.connection as unknown as ConnectionInternals;
    const fault = options.faults.take('connect');
    if (fault?.kind === '429') {
      connection.commandSocket.end('421 Too many connections, try again later\r\n');
      return;
    }
    instrument(connection, options.faults);
  });
  server.on('client-error', () => undefined);
  await server.listen();
  const address = (server as unknown as { server: import('node:net').Server }).server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: async () => {
      await server.close();
    },
  };
}
