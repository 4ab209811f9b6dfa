/**
 * Webhook delivery as HubSpot does it: events wait in a persisted outbox and go out
 * in batches of up to 100 as one signed `POST` (v1 and v3 signatures), each event
 * carrying its own `attemptNumber`.
 *
 * HubSpot's documented policy (developers.hubspot.com/docs/api/webhooks, "Retries"):
 * a delivery fails when the connection fails, when the receiver takes longer than
 * five seconds, or when it answers 4xx or 5xx; failed notifications are retried up to
 * 10 times, spread over the next 24 hours with randomised delays. The sandbox keeps
 * that shape — same failure rules, one delay per retry — with delays the caller picks
 * (short by default, so tests finish), and without the randomisation, so tests are
 * repeatable. Each request carries the (up to 100) events that have been due longest,
 * in event id order; the outbox is an indexed table, so picking them does not read
 * the events that are not due.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { OutboxTimer, type OutboxDelivery } from '../outbox-timer.ts';
import type { OutboxEntry, PortalStore, WebhookEventBody } from './portal-store.ts';

export type { DeliveryLogEntry, OutboxEntry, WebhookEventBody } from './portal-store.ts';

/** Ten retries, doubling from 100 ms (≈ 100 s in all): HubSpot's count, a test's patience. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200];

/** Ten retries spread over about 24 hours, for a sandbox that should behave like the real portal. */
export const HUBSPOT_LIKE_RETRY_DELAYS_MS: readonly number[] = [
  60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 14_400_000, 21_600_000, 25_200_000,
];

/** HubSpot gives a receiver five seconds to answer. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000;

/** Most events HubSpot puts in one request. */
const MAX_BATCH = 100;

/** How the outbox delivers. */
export interface WebhookOutboxOptions {
  readonly store: PortalStore;
  readonly webhookUrl: string;
  readonly clientSecret: string;
  readonly retryDelaysMs: readonly number[];
  readonly timeoutMs: number;
}

/** The characters HubSpot's validation guide lists as decoded in the signed URI. */
const SIGNED_URI_DECODED = new Set(['%3A', '%2F', '%3F', '%40', '%21', '%24', '%27', '%28', '%29', '%2A', '%2C', '%3B']);

function signedUri(url: string): string {
  return url.replace(/%[0-9A-Fa-f]{2}/g, (escape) =>
    SIGNED_URI_DECODED.has(escape.toUpperCase()) ? decodeURIComponent(escape) : escape,
  );
}

/** The headers HubSpot sends with a webhook request whose body is `body`. */
export function signedWebhookHeaders(
  url: string,
  body: string,
  clientSecret: string,
  timestamp: number,
  timeoutMs: number,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor (harmony sandbox)',
    'x-hubspot-signature': createHash('sha256').update(clientSecret + body, 'utf8').digest('hex'),
    'x-hubspot-signature-version': 'v1',
    'x-hubspot-signature-v3': createHmac('sha256', clientSecret)
      .update(`POST${signedUri(url)}${body}${timestamp}`, 'utf8')
      .digest('base64'),
    'x-hubspot-request-timestamp': String(timestamp),
    'x-hubspot-timeout-millis': String(timeoutMs),
  };
}

/** What one delivery attempt came to: the receiver's status, or why there was none. */
type AttemptResult = { readonly status?: number; readonly error?: string };

/** Delivers the persisted outbox: one request in flight at a time, retries on the configured delays. */
export class WebhookOutbox {
  private readonly options: WebhookOutboxOptions;
  private readonly timer: OutboxTimer<AttemptResult>;

  constructor(options: WebhookOutboxOptions) {
    this.options = options;
    this.timer = new OutboxTimer({ nextDueAt: () => options.store.nextDueAt(), deliverDue: (now) => this.deliverDue(now) });
  }

  /** Looks at the outbox again (call after enqueueing, and once at start). */
  wake(): void {
    this.timer.wake();
  }

  /** Stops delivering: clears the timer, aborts a request in flight (it is retried after a restart). */
  close(): Promise<void> {
    return this.timer.close();
  }

  /** Sends the (up to 100) events due longest as one signed request. */
  private deliverDue(now: number): OutboxDelivery<AttemptResult> | undefined {
    const batch = this.options.store.due(now, MAX_BATCH);
    if (batch.length === 0) return undefined;
    const { webhookUrl, clientSecret, timeoutMs } = this.options;
    const body = JSON.stringify(batch.map((entry) => withAttemptNumber(entry.event, entry.attempts)));
    const headers = signedWebhookHeaders(webhookUrl, body, clientSecret, Date.now(), timeoutMs);
    const request = post(webhookUrl, headers, body, timeoutMs);
    return { outcome: request.result, abort: request.abort, record: (result) => this.record(batch, result, headers, body) };
  }

  private record(
    batch: readonly OutboxEntry[],
    result: AttemptResult,
    headers: Readonly<Record<string, string>>,
    body: string,
  ): void {
    const { retryDelaysMs, webhookUrl, store } = this.options;
    const delivered = result.status !== undefined && result.status >= 200 && result.status < 300;
    store.transaction(() => {
      let abandoned = false;
      for (const entry of batch) {
        const attempts = entry.attempts + 1;
        const delay = retryDelaysMs[attempts - 1];
        if (delivered || delay === undefined) {
          abandoned ||= !delivered;
          store.settle(entry.event.eventId);
        } else {
          store.reschedule(entry.event.eventId, attempts, Date.now() + delay);
        }
      }
      store.logDelivery({
        at: new Date().toISOString(),
        url: webhookUrl,
        eventIds: batch.map((entry) => entry.event.eventId),
        attemptNumbers: batch.map((entry) => entry.attempts),
        outcome: delivered ? 'delivered' : abandoned ? 'abandoned' : 'retrying',
        ...(result.status === undefined ? {} : { status: result.status }),
        ...(result.error === undefined ? {} : { error: result.error }),
        headers,
        body,
      });
    });
  }
}

/** HubSpot's field order, with `attemptNumber` where HubSpot puts it. */
function withAttemptNumber(event: WebhookEventBody, attemptNumber: number): Record<string, unknown> {
  const { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, objectId, ...rest } = event;
  return { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, attemptNumber, objectId, ...rest };
}

/** One POST with a total deadline; never rejects. */
function post(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  timeoutMs: number,
): { readonly result: Promise<AttemptResult>; abort(): void } {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  let request: http.ClientRequest | undefined;
  const result = new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (outcome: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(outcome);
    };
    const deadline = setTimeout(() => {
      request?.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    request = transport.request(
      target,
      { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        // The status line decides the outcome; the body is drained and ignored, as HubSpot does.
        response.resume();
        finish({ status: response.statusCode ?? 0 });
      },
    );
    request.on('error', (error) => finish({ error: error.message }));
    request.on('close', () => finish({ error: 'connection closed before an answer' }));
    request.end(body);
  });
  return {
    result,
    abort: () => request?.destroy(new Error('sandbox closed')),
  };
}
