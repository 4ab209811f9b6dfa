/**
 * Webhooks v2 delivery as Pipedrive does it: each event is its own `POST` with a JSON body,
 * HTTP basic auth from the webhook's `http_auth_user`/`http_auth_password`, and `meta.attempt`
 * counting the attempts. Any 2xx is a success; another status, a failed connection or no
 * answer within 10 seconds is a failure, retried after 3, 30 and 150 seconds (the guide for
 * webhooks v2), then given up. Events wait in the store's outbox, so a restart delivers
 * what was queued; one delivery is in flight at a time, those due longest first.
 */
import http from 'node:http';
import https from 'node:https';
import { OutboxTimer, type OutboxDelivery } from '../outbox-timer.ts';
import type { DeliveryLogEntry, OutboxEntry, PipedriveStore } from './store.ts';

/** Pipedrive's retries: 3, 30 and 150 seconds after a failed attempt. */
export const PIPEDRIVE_RETRY_DELAYS_MS: readonly number[] = [3_000, 30_000, 150_000];

/** Pipedrive gives a receiver 10 seconds to answer. */
export const PIPEDRIVE_DELIVERY_TIMEOUT_MS = 10_000;

/** Delivery attempts the log keeps. */
const LOG_LIMIT = 10_000;

/** Where and how the outbox delivers. */
export interface WebhookTarget {
  readonly url: string;
  /** `http_auth_user` of the webhook. */
  readonly user: string;
  /** `http_auth_password` of the webhook. */
  readonly password: string;
}

/** How the outbox delivers. */
export interface WebhookOutboxOptions {
  readonly store: PipedriveStore;
  readonly target: WebhookTarget;
  readonly retryDelaysMs: readonly number[];
  readonly timeoutMs: number;
}

type AttemptResult = { readonly status?: number; readonly error?: string };

/** Delivers the persisted outbox. */
export class WebhookOutbox {
  readonly #options: WebhookOutboxOptions;
  readonly #timer: OutboxTimer<AttemptResult>;

  constructor(options: WebhookOutboxOptions) {
    this.#options = options;
    this.#timer = new OutboxTimer({ nextDueAt: () => options.store.nextDueAt(), deliverDue: (now) => this.#deliverDue(now) });
  }

  /** Looks at the outbox again (call after enqueueing, and once at start). */
  wake(): void {
    this.#timer.wake();
  }

  /** Stops delivering; a request in flight is aborted and does not count (it goes out again after a restart). */
  close(): Promise<void> {
    return this.#timer.close();
  }

  /** Sends the event due longest, with its attempt number. */
  #deliverDue(now: number): OutboxDelivery<AttemptResult> | undefined {
    const entry = this.#options.store.due(now);
    if (entry === undefined) return undefined;
    const body = JSON.stringify({ ...entry.body, meta: { ...entry.body.meta, attempt: entry.attempts + 1 } });
    const attempt = deliver(this.#options.target, body, this.#options.timeoutMs);
    return { outcome: attempt.result, abort: attempt.abort, record: (result) => this.#record(entry, result, body) };
  }

  #record(entry: OutboxEntry, result: AttemptResult, body: string): void {
    const { store, retryDelaysMs, target } = this.#options;
    const delivered = result.status !== undefined && result.status >= 200 && result.status < 300;
    const attempts = entry.attempts + 1;
    const delay = retryDelaysMs[attempts - 1];
    const outcome: DeliveryLogEntry['outcome'] = delivered ? 'delivered' : delay === undefined ? 'abandoned' : 'retrying';
    store.transaction(() => {
      if (outcome === 'retrying') store.reschedule(entry.seq, attempts, Date.now() + delay!);
      else store.settle(entry.seq);
      store.logDelivery({ at: new Date().toISOString(), url: target.url, eventId: entry.body.meta.id, attempt: attempts, outcome, ...result, body }, LOG_LIMIT);
    });
  }
}

/** One POST with basic auth and a total deadline; never rejects. */
function deliver(target: WebhookTarget, body: string, timeoutMs: number): { readonly result: Promise<AttemptResult>; abort(): void } {
  const url = new URL(target.url);
  let request: http.ClientRequest | undefined;
  const result = new Promise<AttemptResult>((resolve) => {
    const deadline = setTimeout(() => request?.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (outcome: AttemptResult) => {
      clearTimeout(deadline);
      resolve(outcome);
    };
    request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Pipedrive Webhooks (harmony sandbox)',
        authorization: `Basic ${Buffer.from(`${target.user}:${target.password}`, 'utf8').toString('base64')}`,
      },
    }, (response) => {
      // The status decides; the body is drained and ignored.
      response.resume();
      finish({ status: response.statusCode ?? 0 });
    });
    request.on('error', (error) => finish({ error: error.message }));
    request.on('close', () => finish({ error: 'connection closed before an answer' }));
    request.end(body);
  });
  return { result, abort: () => request?.destroy(new Error('sandbox closed')) };
}
