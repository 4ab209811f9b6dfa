/** Polls until a probe has an answer: the demo, benchmarks and end-to-end tests wait on outside systems with it. */

/** How long and how often to poll. */
export interface WaitOptions {
  readonly timeoutMs: number;
  /** @default 100 */
  readonly intervalMs?: number;
  /**
   * Treat a probe that throws as "not yet" (e.g. while a hub restarts and refuses connections).
   * @default false — a throwing probe ends the wait with its error
   */
  readonly ignoreErrors?: boolean;
}

/** Resolves with the first value the probe gives that is not undefined; throws naming `what` on timeout. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = options.ignoreErrors === true ? await probe().catch(() => undefined) : await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
