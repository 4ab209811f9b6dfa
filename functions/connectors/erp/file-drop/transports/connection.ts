/**
 * One protocol connection (FTP control connection, SSH session) shared by a transport's
 * calls: opened on first use, one command at a time (neither protocol multiplexes), every
 * call under a deadline that drops the connection when it passes, a dropped or failed
 * connection reopened on the next call, and an idle connection closed so a frozen Lambda
 * does not keep a dead socket. Each call draws on the shared rate budget first.
 */
import { PermanentError, RetryableError } from '../../../../core/errors.ts';
import type { RateLimiter } from '../../../../core/rate-limit.ts';
import { withDeadline } from './transport.ts';

/** How to open, test and close one kind of connection. */
export interface ConnectionOptions<Client> {
  open(): Promise<Client>;
  isOpen(client: Client): boolean;
  /** Closes without waiting for the server (also used when a deadline passes). */
  destroy(client: Client): void;
  /** Turns whatever a call threw into RetryableError or PermanentError. */
  classify(error: unknown, operation: string): RetryableError | PermanentError;
  /** The server closes the connection after this reply (FTP 421): do not reuse it. */
  closesConnection?(error: unknown): boolean;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
  readonly rateLimitTarget: string;
  /** @default 10000 */
  readonly idleCloseMs?: number;
}

/** A lazily opened, serialised connection. */
export class SharedConnection<Client> {
  readonly #options: ConnectionOptions<Client>;
  #client: Client | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionOptions<Client>) {
    this.#options = options;
  }

  /**
   * Runs `work` on the connection once the calls before it are done. A kept connection
   * that turns out dead (the server closed it while it was idle) is reopened and `work`
   * tried once more: every transport call is safe to repeat.
   */
  run<Result>(operation: string, work: (client: Client) => Promise<Result>): Promise<Result> {
    const next = this.#queue.then(() => this.#runNow(operation, work));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Closes the connection now; the next call opens a new one. */
  close(): void {
    clearTimeout(this.#idleTimer);
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) this.#options.destroy(client);
  }

  async #runNow<Result>(operation: string, work: (client: Client) => Promise<Result>): Promise<Result> {
    const options = this.#options;
    clearTimeout(this.#idleTimer);
    await options.rateLimiter?.acquire(options.rateLimitTarget, { maxWaitMs: options.timeoutMs });
    try {
      const reused = this.#client !== undefined && options.isOpen(this.#client);
      try {
        return await this.#attempt(operation, work);
      } catch (error) {
        const classified = this.#classified(error, operation);
        // Only a kept connection that died under the call earns a second try, on a new one.
        const died = this.#client === undefined && classified instanceof RetryableError && classified.code === 'network';
        if (!reused || !died) throw classified;
        return await this.#attempt(operation, work);
      }
    } catch (error) {
      throw this.#classified(error, operation);
    } finally {
      this.#idleTimer = setTimeout(() => this.close(), options.idleCloseMs ?? 10_000);
      this.#idleTimer.unref();
    }
  }

  /** One try: opens the connection if needed, runs `work` under the deadline, drops a connection that failed. */
  async #attempt<Result>(operation: string, work: (client: Client) => Promise<Result>): Promise<Result> {
    const options = this.#options;
    if (this.#client !== undefined && !options.isOpen(this.#client)) this.close();
    if (this.#client === undefined) {
      const opening = options.open();
      this.#client = await withDeadline(`connect (${operation})`, options.timeoutMs, opening, () => {
        opening.then((client) => options.destroy(client), () => undefined);
      });
    }
    try {
      return await withDeadline(operation, options.timeoutMs, work(this.#client), () => this.close());
    } catch (error) {
      if (this.#client !== undefined && (!options.isOpen(this.#client) || options.closesConnection?.(error) === true)) this.close();
      throw error;
    }
  }

  #classified(error: unknown, operation: string): RetryableError | PermanentError {
    if (error instanceof RetryableError || error instanceof PermanentError) return error;
    return this.#options.classify(error, operation);
  }
}
