/**
 * The timer that drives a sandbox's durable outbox (HubSpot and Pipedrive webhooks,
 * Salesforce Outbound Messages): it sleeps until the next entry is due, makes one delivery
 * at a time, has the outcome recorded, and looks again. The entries and what a delivery is
 * belong to the vendor's outbox; this only schedules. Closing clears the timer and aborts
 * the delivery in flight, whose outcome is not recorded (it goes out again after a restart).
 */

/** One delivery under way. */
export interface OutboxDelivery<Outcome> {
  /** Settles, never rejects, when the attempt ended. */
  readonly outcome: Promise<Outcome>;
  /** Ends the attempt early (the outbox is closing). */
  abort(): void;
  /** Persists the outcome (settle, reschedule, log); not called for an attempt close() aborted. */
  record(outcome: Outcome): void;
}

/** What the timer asks of the outbox. */
export interface OutboxSchedule<Outcome> {
  /** When the next entry is due (epoch ms), or undefined when the outbox is empty. */
  nextDueAt(): number | undefined;
  /** Starts delivering what is due at `now`; undefined when nothing is after all. */
  deliverDue(now: number): OutboxDelivery<Outcome> | undefined;
}

/** Delivers a persisted outbox on its schedule, one delivery in flight at a time. */
export class OutboxTimer<Outcome> {
  readonly #schedule: OutboxSchedule<Outcome>;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: { readonly done: Promise<void>; abort(): void } | undefined;
  #closed = false;

  constructor(schedule: OutboxSchedule<Outcome>) {
    this.#schedule = schedule;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Looks at the outbox again (call after enqueueing, and once at start); a delivery in flight looks when it ends. */
  wake(): void {
    if (this.#closed || this.#inFlight !== undefined) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#schedule.nextDueAt();
    if (due === undefined) return;
    this.#timer = setTimeout(() => this.#deliverDue(), Math.max(0, due - Date.now()));
  }

  /** Stops delivering: clears the timer, aborts the delivery in flight and waits for it to end. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const inFlight = this.#inFlight;
    inFlight?.abort();
    await inFlight?.done;
  }

  #deliverDue(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const delivery = this.#schedule.deliverDue(Date.now());
    if (delivery === undefined) return this.wake();
    const done = delivery.outcome.then((outcome) => {
      this.#inFlight = undefined;
      // Aborted by close(): the attempt does not count, and the outbox belongs to whoever opens it next.
      if (this.#closed) return;
      delivery.record(outcome);
      this.wake();
    });
    this.#inFlight = { done, abort: () => delivery.abort() };
  }
}
