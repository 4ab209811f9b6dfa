/**
 * Builds the transport `FILE_DROP_URL` names, after checking it as every outbound URL is
 * checked: never a link-local or metadata address, no credentials in the URL (they come
 * from the secret), and FTP/SFTP only to the hosts `FILE_DROP_ALLOWED_HOSTS` lists, so a
 * tampered setting cannot send orders (or credentials) to a host of someone else's choosing.
 */
import { checkOutboundUrl } from '../../../../core/outbound-url.ts';
import type { RateLimiter } from '../../../../core/rate-limit.ts';
import { FtpTransport } from './ftp.ts';
import { LocalFolderTransport } from './local-folder.ts';
import { S3Transport } from './s3.ts';
import { SftpTransport } from './sftp.ts';
import type { FileTransport } from './transport.ts';

/** Where and how to reach the exchange folder. */
export interface TransportSettings {
  /** `ftp://host:port/path`, `ftps://…`, `sftp://host:port/path`, `s3://bucket/prefix` or `file:///path`. */
  readonly url: string;
  /** Hosts FTP and SFTP may connect to (lower case). */
  readonly allowedHosts: readonly string[];
  /** SFTP: the server's host key fingerprint (`SHA256:…`). */
  readonly sftpHostKey?: string | undefined;
  /** S3: an S3-compatible endpoint instead of AWS S3. */
  readonly s3Endpoint?: string | undefined;
}

/** The secret's fields. */
export interface TransportCredentials {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly privateKey?: string | undefined;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'ftp:': 21, 'ftps:': 21, 'sftp:': 22 };

/** Parses and checks FILE_DROP_URL; throws naming the setting and what is wrong. */
export function checkFileDropUrl(setting: string, raw: string, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${setting}: "${raw}" is not a URL`);
  }
  if (url.username !== '' || url.password !== '') throw new Error(`${setting}: credentials do not belong in the URL; put them in the secret`);
  switch (url.protocol) {
    case 'ftp:':
    case 'ftps:':
    case 'sftp:': {
      // The shared check refuses link-local and metadata hosts; the scheme is ours to judge.
      checkOutboundUrl(setting, `https://${url.host}/`);
      const host = url.hostname.toLowerCase();
      if (!allowedHosts.includes(host)) {
        throw new Error(`${setting}: ${host} is not in FILE_DROP_ALLOWED_HOSTS (${allowedHosts.join(', ') || 'empty'})`);
      }
      return url;
    }
    case 's3:':
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname)) throw new Error(`${setting}: "${url.hostname}" is not an S3 bucket name`);
      return url;
    case 'file:':
      if (url.hostname !== '' && url.hostname !== 'localhost') throw new Error(`${setting}: a file URL names a local folder (file:///path), got host ${url.hostname}`);
      return url;
    default:
      throw new Error(`${setting}: expected ftp://, ftps://, sftp://, s3:// or file://, got ${url.protocol}//`);
  }
}

/** The transport for a checked URL. */
export function openTransport(
  settings: TransportSettings,
  credentials: TransportCredentials,
  runtime: { readonly timeoutMs: number; readonly rateLimiter?: RateLimiter | undefined },
): FileTransport {
  const url = checkFileDropUrl('FILE_DROP_URL', settings.url, settings.allowedHosts);
  const basePath = decodeURIComponent(url.pathname === '' ? '/' : url.pathname);
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol]! : Number(url.port);
  const need = (value: string | undefined, field: string): string => {
    if (value === undefined || value === '') throw new Error(`file-drop secret: ${field} is required for ${url.protocol}// (FILE_DROP_URL)`);
    return value;
  };
  switch (url.protocol) {
    case 'ftp:':
    case 'ftps:':
      return new FtpTransport({
        host: url.hostname,
        port,
        basePath,
        username: need(credentials.username, 'username'),
        password: need(credentials.password, 'password'),
        secure: url.protocol === 'ftps:',
        timeoutMs: runtime.timeoutMs,
        rateLimiter: runtime.rateLimiter,
      });
    case 'sftp:': {
      if (credentials.privateKey === undefined || credentials.privateKey === '') need(credentials.password, 'password (or privateKey)');
      const hostKey = settings.sftpHostKey;
      if (hostKey === undefined || !/^SHA256:[A-Za-z0-9+/]{43}$/.test(hostKey)) {
        throw new Error('FILE_DROP_SFTP_HOST_KEY: an sftp:// URL needs the server host key fingerprint, e.g. SHA256:… as `ssh-keygen -lf` prints it');
      }
      return new SftpTransport({
        host: url.hostname,
        port,
        basePath,
        username: need(credentials.username, 'username'),
        password: credentials.password,
        privateKey: credentials.privateKey,
        hostKeyFingerprint: hostKey,
        timeoutMs: runtime.timeoutMs,
        rateLimiter: runtime.rateLimiter,
      });
    }
    case 's3:':
      return new S3Transport({
        bucket: url.hostname,
        prefix: basePath.replace(/^\/+|\/+$/g, ''),
        endpoint: settings.s3Endpoint === undefined ? undefined : checkOutboundUrl('FILE_DROP_S3_ENDPOINT', settings.s3Endpoint).toString().replace(/\/$/, ''),
        accessKeyId: credentials.username === '' ? undefined : credentials.username,
        secretAccessKey: credentials.password === '' ? undefined : credentials.password,
        timeoutMs: runtime.timeoutMs,
        rateLimiter: runtime.rateLimiter,
      });
    default:
      return new LocalFolderTransport(basePath, runtime.timeoutMs);
  }
}
