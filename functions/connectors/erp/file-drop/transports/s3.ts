/**
 * An S3 bucket and key prefix (`s3://bucket/prefix`) as the exchange folder, for ERPs
 * that read and drop files through S3 (or an S3-compatible store at `endpoint`). Folders
 * are key prefixes ending in `/`. A PutObject is already all-or-nothing ("Amazon S3 never
 * adds partial objects"), so a write needs no temporary name; a move is CopyObject then
 * DeleteObject. Credentials are the Lambda role's unless an access key is given.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { classifyError, PermanentError, RetryableError } from '../../../../core/errors.ts';
import type { RateLimiter } from '../../../../core/rate-limit.ts';
import { FILE_DROP_SYSTEM, fileNotFound, resolveUnder, type FileTransport, type RemoteFile } from './transport.ts';

/** Where the files are in S3. */
export interface S3TransportOptions {
  readonly bucket: string;
  /** Key prefix of the exchange folder, without leading or trailing `/` (empty for the bucket root). */
  readonly prefix: string;
  /** An S3-compatible endpoint (path-style addressing); absent for AWS S3. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  /** An access key (secret fields username / password); absent to use the Lambda role. */
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
}

const AUTH_ERRORS = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);

function classifyS3Error(error: unknown, operation: string): RetryableError | PermanentError {
  const message = `${FILE_DROP_SYSTEM} S3 ${operation}`;
  const name = (error as Error).name;
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new RetryableError(`${message}: no answer in time`, { system: FILE_DROP_SYSTEM, code: 'timeout', cause: error });
  }
  if (AUTH_ERRORS.has(name)) {
    return new PermanentError(`${message}: ${name} — check the Lambda role or the access key (secret fields username, password)`, { system: FILE_DROP_SYSTEM, code: 'auth' });
  }
  if (name === 'NoSuchBucket') return new PermanentError(`${message}: the bucket does not exist (FILE_DROP_URL)`, { system: FILE_DROP_SYSTEM, code: 'no-such-bucket' });
  const classified = classifyError(error);
  if (classified instanceof RetryableError || classified instanceof PermanentError) return classified;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === undefined) return new RetryableError(`${message}: ${(error as Error).message}`, { system: FILE_DROP_SYSTEM, code: 'network', cause: error });
  return new PermanentError(`${message}: ${name} (HTTP ${status})`, { system: FILE_DROP_SYSTEM, code: name });
}

/** Files in and out of a key prefix of an S3 bucket. */
export class S3Transport implements FileTransport {
  readonly location: string;
  readonly #options: S3TransportOptions;
  readonly #client: S3Client;

  constructor(options: S3TransportOptions) {
    this.#options = options;
    this.location = `s3://${options.bucket}/${options.prefix}`;
    this.#client = new S3Client({
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
      ...(options.accessKeyId === undefined || options.secretAccessKey === undefined
        ? {}
        : { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }),
      maxAttempts: 1,
    });
  }

  async list(folder: string): Promise<RemoteFile[]> {
    const prefix = `${this.#key(folder)}/`.replace(/^\//, '');
    const files: RemoteFile[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.#send(
        `ListObjectsV2 ${prefix}`,
        new ListObjectsV2Command({ Bucket: this.#options.bucket, Prefix: prefix, Delimiter: '/', ...(token === undefined ? {} : { ContinuationToken: token }) }),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(prefix.length);
        if (name === undefined || name === '' || name.includes('/')) continue;
        files.push({ name, size: object.Size ?? 0, modifiedAt: object.LastModified?.getTime() });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return files;
  }

  async read(path: string): Promise<Uint8Array> {
    try {
      const object = await this.#send<GetObjectCommandOutput>(`GetObject ${path}`, new GetObjectCommand({ Bucket: this.#options.bucket, Key: this.#key(path) }));
      if (object.Body === undefined) return new Uint8Array();
      return await object.Body.transformToByteArray();
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey' || (error as PermanentError).code === 'NoSuchKey') throw fileNotFound(this.location, path, 'NoSuchKey');
      throw error;
    }
  }

  async write(path: string, content: Uint8Array): Promise<void> {
    await this.#send(`PutObject ${path}`, new PutObjectCommand({ Bucket: this.#options.bucket, Key: this.#key(path), Body: content }));
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.#key(from);
    try {
      await this.#send(
        `CopyObject ${from}`,
        new CopyObjectCommand({ Bucket: this.#options.bucket, Key: this.#key(to), CopySource: `${this.#options.bucket}/${source.split('/').map(encodeURIComponent).join('/')}` }),
      );
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey' || (error as PermanentError).code === 'NoSuchKey') throw fileNotFound(this.location, from, 'NoSuchKey');
      throw error;
    }
    await this.delete(from);
  }

  async delete(path: string): Promise<void> {
    await this.#send(`DeleteObject ${path}`, new DeleteObjectCommand({ Bucket: this.#options.bucket, Key: this.#key(path) }));
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #key(relative: string): string {
    return resolveUnder(`/${this.#options.prefix}`, relative).replace(/^\//, '');
  }

  async #send<Output>(operation: string, command: { readonly input: unknown }): Promise<Output> {
    const { rateLimiter, timeoutMs, bucket } = this.#options;
    await rateLimiter?.acquire(`${FILE_DROP_SYSTEM}:s3:${bucket}`, { maxWaitMs: timeoutMs });
    try {
      return (await this.#client.send(command as never, { abortSignal: AbortSignal.timeout(timeoutMs) })) as Output;
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') throw error;
      throw classifyS3Error(error, operation);
    }
  }
}
