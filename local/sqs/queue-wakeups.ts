/**
 * Wakes the long polls (ReceiveMessage with WaitTimeSeconds) waiting on a queue when a
 * message may have become receivable there: at once after a send, a visibility change to
 * 0 or a delete that frees a FIFO group, and by a timer at the moment the next hidden
 * message (in flight or delayed) becomes visible. A woken poll tries to receive again and
 * waits anew if another took the message, so nothing polls on a timer of its own.
 */

/** The long polls waiting on each queue, and one timer per queue for its next visibility. */
export class QueueWakeups {
  readonly #waiters = new Map<number, Set<() => void>>();
  readonly #timers = new Map<number, { readonly at: number; readonly timer: NodeJS.Timeout }>();

  /** Resolves when `queueId` is woken, after `timeoutMs`, or when `signal` aborts. */
  wait(queueId: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(queueId);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(queueId, waiters);
      }
      const queueWaiters = waiters;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        queueWaiters.delete(done);
        if (queueWaiters.size === 0 && this.#waiters.get(queueId) === queueWaiters) {
          this.#waiters.delete(queueId);
          this.#clearTimer(queueId);
        }
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      queueWaiters.add(done);
      if (signal?.aborted === true) done();
      else signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Whether a long poll is waiting on the queue. */
  hasWaiters(queueId: number): boolean {
    return (this.#waiters.get(queueId)?.size ?? 0) > 0;
  }

  /** Wakes every long poll waiting on the queue. */
  wake(queueId: number): void {
    const waiters = this.#waiters.get(queueId);
    if (waiters === undefined) return;
    for (const done of [...waiters]) done();
  }

  /**
   * Wakes the queue's long polls in `delayMs` (when a hidden message becomes visible),
   * unless a timer already wakes them sooner. Nothing is scheduled when none wait.
   */
  wakeIn(queueId: number, delayMs: number, now: number): void {
    if (!this.hasWaiters(queueId)) return;
    const at = now + Math.max(0, delayMs);
    const current = this.#timers.get(queueId);
    if (current !== undefined && current.at <= at) return;
    this.#clearTimer(queueId);
    const timer = setTimeout(() => {
      this.#timers.delete(queueId);
      this.wake(queueId);
    }, Math.max(0, delayMs));
    timer.unref();
    this.#timers.set(queueId, { at, timer });
  }

  /** Wakes every long poll of every queue and clears the timers (the service is closing). */
  wakeAll(): void {
    for (const queueId of [...this.#waiters.keys()]) this.wake(queueId);
    for (const queueId of [...this.#timers.keys()]) this.#clearTimer(queueId);
  }

  #clearTimer(queueId: number): void {
    const current = this.#timers.get(queueId);
    if (current === undefined) return;
    clearTimeout(current.timer);
    this.#timers.delete(queueId);
  }
}
