/**
 * Works the local EventBridge's outbox: every row is attempted at its target, retried
 * with exponential backoff and jitter while its RetryPolicy allows and the failure is
 * one EventBridge retries, then sent to the target's dead-letter queue with the
 * attributes EventBridge sets (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
 * EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS). A row leaves the outbox only once its
 * target or its dead-letter queue has the message, so a crash at any point means the
 * row is attempted again after the restart (at least once).
 *
 * Where EventBridge drops an event (no dead-letter queue, or the dead-letter queue
 * failing too), the row stays: as `undeliverable`, or retried at the dead-letter queue
 * until it takes the event. Both are counted and reported through `warn`.
 */
import { createHash } from 'node:crypto';
import type { EventStore, OutboxEntry } from './event-store.ts';
import { type SqsSender, TargetDeliveryError } from './target-delivery.ts';

/** Delivers to a target that is not an SQS queue (Lambda, Step Functions…), for the hub to wire. */
export type TargetInvoker = (request: {
  readonly targetArn: string;
  readonly ruleArn: string;
  readonly eventId: string;
  /** What the target receives (the event, or the target's transformed input). */
  readonly input: string;
}) => Promise<void>;

/** Counters of one rule, named after the AWS/Events metrics, since this process started. */
export interface RuleCounters {
  /** Events that matched the rule (`MatchedEvents`), replays included. */
  matchedEvents: number;
  /** Target invocations that ended, delivered or failed for good (`Invocations`). */
  invocations: number;
  /** Invocations the target took. */
  delivered: number;
  /** Invocations that failed for good: retries exhausted or not retryable (`FailedInvocations`). */
  failedInvocations: number;
  /** Attempts that failed and were retried (`RetryInvocationAttempts`). */
  retryInvocationAttempts: number;
  /** Failed invocations sent to the dead-letter queue (`InvocationsSentToDlq`). */
  invocationsSentToDlq: number;
  /** Attempts to send to the dead-letter queue that failed (`InvocationsFailedToBeSentToDlq`); they are retried. */
  invocationsFailedToBeSentToDlq: number;
}

/** Options of the outbox worker. */
export interface OutboxDeliveryOptions {
  readonly store: EventStore;
  readonly sender: SqsSender;
  /** Backoff between attempts: doubles from `initialMs` up to `maxMs`, with jitter. */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly invokeTarget?: TargetInvoker;
  /** Awaited before every attempt (tests hold deliveries in flight with it). */
  readonly deliveryGate?: () => Promise<void>;
  readonly warn: (message: string) => void;
  /** Called on every pass over the outbox (the service expires archives then). */
  readonly onPass?: () => void;
}

/** How many due rows one pass over the outbox starts. */
const ROWS_PER_PASS = 64;

/** Delivers outbox rows: at once when asked, and on a timer for retries and rows from before a restart. */
export class OutboxDelivery {
  readonly #options: OutboxDeliveryOptions;
  readonly #store: EventStore;
  readonly #busy = new Set<number>();
  readonly #counters = new Map<string, RuleCounters>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closed = false;
  /** After an internal error (SQLite failing), delivery pauses until then instead of spinning. */
  #pausedUntilMs = 0;

  constructor(options: OutboxDeliveryOptions) {
    this.#options = options;
    this.#store = options.store;
  }

  /** Starts working the outbox: rows left from before a restart first. */
  start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#schedule();
  }

  /** The counters of a rule (created at zero). */
  counters(ruleArn: string): RuleCounters {
    let counters = this.#counters.get(ruleArn);
    if (counters === undefined) {
      counters = {
        matchedEvents: 0,
        invocations: 0,
        delivered: 0,
        failedInvocations: 0,
        retryInvocationAttempts: 0,
        invocationsSentToDlq: 0,
        invocationsFailedToBeSentToDlq: 0,
      };
      this.#counters.set(ruleArn, counters);
    }
    return counters;
  }

  /** Rule ARNs that have counters. */
  countedRules(): string[] {
    return [...this.#counters.keys()];
  }

  /** Attempts fresh rows at once (when started) and waits for them up to `waitMs`. */
  async deliverSoon(rows: readonly OutboxEntry[], waitMs: number): Promise<void> {
    if (!this.#running || rows.length === 0) return;
    const attempts = Promise.allSettled(rows.map((row) => this.#attempt(row)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([attempts, timeout]);
    clearTimeout(timer);
  }

  /** Stops. Attempts in flight finish without touching the store; their rows are attempted again after a restart. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /** Arms the timer for the next due row. */
  #schedule(): void {
    if (!this.#running || this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#store.nextDueMs(this.#busy);
    if (due === undefined) return;
    const next = Math.max(due, this.#pausedUntilMs);
    this.#timer = setTimeout(() => this.#pass(), Math.min(Math.max(0, next - Date.now()), 2 ** 31 - 1));
    this.#timer.unref();
  }

  #pass(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    this.#options.onPass?.();
    const due = this.#store.due(Date.now(), this.#busy, ROWS_PER_PASS);
    for (const row of due) void this.#attempt(row);
    if (due.length === 0) this.#schedule();
  }

  async #attempt(row: OutboxEntry): Promise<void> {
    if (this.#busy.has(row.seq) || this.#closed) return;
    this.#busy.add(row.seq);
    try {
      await this.#options.deliveryGate?.();
      if (this.#closed) return;
      if (row.phase === 'target') await this.#attemptTarget(row);
      else await this.#attemptDeadLetter(row);
    } catch (error) {
      if (!this.#closed) {
        this.#pausedUntilMs = Date.now() + 1000;
        this.#options.warn(`EventBridge (local): delivery of event ${row.eventId} hit an internal error, pausing 1 s: ${(error as Error).stack ?? error}`);
      }
    } finally {
      this.#busy.delete(row.seq);
      this.#schedule();
    }
  }

  async #attemptTarget(row: OutboxEntry): Promise<void> {
    const counters = this.counters(row.ruleArn);
    let failure: TargetDeliveryError | undefined;
    try {
      await this.#sendToTarget(row);
    } catch (error) {
      failure =
        error instanceof TargetDeliveryError ? error : new TargetDeliveryError('ERROR_FROM_TARGET', (error as Error).message ?? String(error), true);
    }
    if (this.#closed) return; // Still in the outbox: attempted again after a restart.
    if (failure === undefined) {
      this.#store.remove(row.seq);
      counters.invocations += 1;
      counters.delivered += 1;
      return;
    }
    const attempts = row.attempts + 1;
    const nowMs = Date.now();
    const exhausted = !failure.retryable
      ? undefined
      : attempts - 1 >= row.route.maximumRetryAttempts
        ? 'MaximumRetryAttempts'
        : nowMs - row.acceptedMs >= row.route.maximumEventAgeInSeconds * 1000
          ? 'MaximumEventAgeInSeconds'
          : undefined;
    const change = { attempts, errorCode: failure.code, errorMessage: failure.message, exhaustedCondition: exhausted };
    if (failure.retryable && exhausted === undefined) {
      counters.retryInvocationAttempts += 1;
      this.#store.reschedule(row.seq, { ...change, phase: 'target', nextAttemptMs: nowMs + this.#backoff(attempts) });
      return;
    }
    counters.invocations += 1;
    counters.failedInvocations += 1;
    if (row.route.deadLetterQueueUrl !== undefined) {
      this.#store.reschedule(row.seq, { ...change, phase: 'dead-letter', nextAttemptMs: nowMs });
      return;
    }
    this.#store.reschedule(row.seq, { ...change, phase: 'undeliverable', nextAttemptMs: nowMs });
    this.#options.warn(
      `EventBridge (local): event ${row.eventId} could not be delivered to ${row.targetArn} (rule ${row.ruleArn}): ` +
        `${failure.code} ${failure.message}. The target has no dead-letter queue; the event is kept in the outbox (EventBridge would drop it).`,
    );
  }

  async #sendToTarget(row: OutboxEntry): Promise<void> {
    const { route } = row;
    if (route.queueUrl !== undefined) {
      const fifo = route.queueUrl.endsWith('.fifo');
      await this.#options.sender.send({
        queueUrl: route.queueUrl,
        body: row.payload,
        messageGroupId: route.messageGroupId,
        // Stable across redeliveries, so a FIFO queue drops the copy an at-least-once redelivery makes.
        deduplicationId: fifo ? createHash('sha256').update(`${row.ruleArn}\n${row.targetId}\n${row.eventId}`).digest('hex') : undefined,
      });
      return;
    }
    if (this.#options.invokeTarget === undefined) {
      throw new TargetDeliveryError('NO_RESOURCE', `The local hub cannot deliver to ${row.targetArn}: no invoker for this kind of target`, false);
    }
    await this.#options.invokeTarget({ targetArn: row.targetArn, ruleArn: row.ruleArn, eventId: row.eventId, input: row.payload });
  }

  async #attemptDeadLetter(row: OutboxEntry): Promise<void> {
    const counters = this.counters(row.ruleArn);
    const queueUrl = row.route.deadLetterQueueUrl;
    if (queueUrl === undefined) return;
    const attributes: Record<string, string> = {
      RULE_ARN: row.ruleArn,
      TARGET_ARN: row.targetArn,
      ERROR_CODE: row.errorCode ?? 'UNKNOWN',
      ERROR_MESSAGE: row.errorMessage || (row.errorCode ?? 'UNKNOWN'),
      RETRY_ATTEMPTS: String(Math.max(0, row.attempts - 1)),
    };
    if (row.exhaustedCondition !== undefined) attributes.EXHAUSTED_RETRY_CONDITION = row.exhaustedCondition;
    try {
      await this.#options.sender.send({ queueUrl, body: row.event, attributes });
    } catch (error) {
      if (this.#closed) return;
      const failure = error as Partial<TargetDeliveryError>;
      const deadLetterAttempts = row.deadLetterAttempts + 1;
      counters.invocationsFailedToBeSentToDlq += 1;
      this.#store.reschedule(row.seq, {
        phase: 'dead-letter',
        attempts: row.attempts,
        deadLetterAttempts,
        nextAttemptMs: Date.now() + this.#backoff(deadLetterAttempts),
        errorCode: row.errorCode ?? 'UNKNOWN',
        errorMessage: row.errorMessage ?? '',
      });
      if (deadLetterAttempts === 1) {
        this.#options.warn(
          `EventBridge (local): event ${row.eventId} failed at ${row.targetArn} and could not be sent to its dead-letter queue ` +
            `${row.route.deadLetterArn} either (${failure.code ?? 'UNKNOWN'} ${failure.message}); retrying, it stays in the outbox until then.`,
        );
      }
      return;
    }
    if (this.#closed) return;
    this.#store.remove(row.seq);
    counters.invocationsSentToDlq += 1;
  }

  /** Exponential backoff with jitter: half to all of the doubled delay. */
  #backoff(attempts: number): number {
    const { initialMs, maxMs } = this.#options.backoff;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
