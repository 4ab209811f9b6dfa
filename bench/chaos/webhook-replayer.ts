/**
 * Duplicate and out-of-order webhook deliveries: reads the requests the sandbox CRM
 * delivered, picks about 30 % of the events in them and delivers those again 0–3 s
 * later, in shuffled order, as HubSpot does when it redelivers: a signed request
 * (v1 and v3, fresh timestamp) whose body holds the repeated events, so the hub sees
 * duplicates and events older than ones it already took. Picking events, not requests,
 * keeps the share at 30 % however the CRM batched them. Also follows each won event
 * at the sender: delivered, still being retried, or given up.
 */
import * as z from 'zod';
import { signedWebhookHeaders } from '../../local/sandbox/hubspot/webhook-outbox.ts';
import type { SeededRandom } from './seeded-random.ts';

const Delivery = z.object({
  seq: z.number().int(),
  url: z.string(),
  eventIds: z.array(z.number()),
  outcome: z.enum(['delivered', 'retrying', 'abandoned']),
  status: z.number().optional(),
  body: z.string(),
});
type Delivery = z.infer<typeof Delivery>;
/** Delivery attempts read per request (the sandbox's most). */
const PAGE = 1000;
/** What the replayer reads of an event; the rest is sent back as it came. */
const WebhookEvent = z.looseObject({ objectId: z.number(), propertyValue: z.string().optional() });
type WebhookEvent = z.infer<typeof WebhookEvent>;
/** How long a receiver may take, as the sandbox tells it (HubSpot's five seconds). */
const TIMEOUT_MS = 5_000;

/** What the replayer did. */
export interface ReplayCounts {
  /** Events in the requests the CRM delivered. */
  eventsDelivered: number;
  /** Events picked for a second delivery. */
  eventsRepeated: number;
  /** Repeat requests the ingress answered 200. */
  replayed: number;
  /** Events in those requests the ingress called duplicates. */
  duplicateEvents: number;
  /** Events in those requests the ingress accepted as new (should be 0: each was delivered before). */
  acceptedAgain: number;
  /** Repeat requests answered with anything but 200 or not at all (the hub restarting, say), retried later. */
  refused: number;
  /** Webhook requests (the CRM's deliveries and the repeats) the ingress answered with a 5xx, by status. */
  readonly serverErrors: Record<number, number>;
}

interface Repeat {
  readonly url: string;
  readonly events: readonly WebhookEvent[];
  readonly due: number;
}

/** Picks events to deliver again and delivers them when due. */
export class WebhookReplayer {
  private readonly random: SeededRandom;
  private readonly fraction: number;
  private readonly clientSecret: string;
  /** The newest delivery-log position read. */
  private lastSeq = 0;
  private pool: Repeat[] = [];
  /** Deals whose won event was delivered (the ingress answered 2xx). */
  readonly wonDelivered = new Set<string>();
  /** Deals whose won event the ingress has not taken yet and the CRM will send again. */
  readonly wonRetrying = new Set<string>();
  /** Deals whose won event the CRM gave up on (its retries ran out before the hub took it). */
  readonly wonAbandoned = new Set<string>();
  readonly counts: ReplayCounts = { eventsDelivered: 0, eventsRepeated: 0, replayed: 0, duplicateEvents: 0, acceptedAgain: 0, refused: 0, serverErrors: {} };

  /** `clientSecret` signs the repeats, as the CRM signs its deliveries. */
  constructor(random: SeededRandom, fraction: number, clientSecret: string) {
    this.random = random;
    this.fraction = fraction;
    this.clientSecret = clientSecret;
  }

  /** Reads the delivery log from where it left off and schedules a share of the newly delivered events for a repeat 0–3 s from now. */
  async collect(hubspotUrl: string): Promise<void> {
    for (;;) {
      const response = await fetch(`${hubspotUrl}/__sandbox/webhook-deliveries?after=${this.lastSeq}&limit=${PAGE}`, { signal: AbortSignal.timeout(5_000) });
      const deliveries = z.array(Delivery).parse(await response.json());
      for (const delivery of deliveries) this.take(delivery);
      if (deliveries.length < PAGE) return;
    }
  }

  private take(delivery: Delivery): void {
    this.lastSeq = Math.max(this.lastSeq, delivery.seq);
    const events = z.array(WebhookEvent).parse(JSON.parse(delivery.body));
    const won = events.filter((event) => event.propertyValue === 'closedwon').map((event) => String(event.objectId));
    if (delivery.outcome !== 'delivered') {
      const status = delivery.status ?? 0;
      if (status >= 500) this.counts.serverErrors[status] = (this.counts.serverErrors[status] ?? 0) + 1;
      for (const dealId of won) {
        if (this.wonDelivered.has(dealId)) continue;
        if (delivery.outcome === 'abandoned') {
          this.wonRetrying.delete(dealId);
          this.wonAbandoned.add(dealId);
        } else this.wonRetrying.add(dealId);
      }
      return;
    }
    for (const dealId of won) {
      this.wonDelivered.add(dealId);
      this.wonRetrying.delete(dealId);
    }
    // At least one repeat per run, so a small run still sees a duplicate.
    const first = this.counts.eventsDelivered === 0;
    this.counts.eventsDelivered += events.length;
    const picked = events.filter((_, index) => this.random.chance(this.fraction) || (first && index === 0));
    if (picked.length === 0) return;
    this.counts.eventsRepeated += picked.length;
    this.pool.push({ url: delivery.url, events: picked, due: Date.now() + this.random.integer(0, 3_000) });
  }

  /** Delivers every due repeat, in shuffled order; `all` delivers the whole pool now. */
  async replayDue(all = false): Promise<void> {
    const now = Date.now();
    const due = this.random.shuffled(this.pool.filter((entry) => all || entry.due <= now));
    this.pool = this.pool.filter((entry) => !due.includes(entry));
    for (const entry of due) {
      try {
        const body = JSON.stringify(entry.events);
        const response = await fetch(entry.url, {
          method: 'POST',
          headers: signedWebhookHeaders(entry.url, body, this.clientSecret, Date.now(), TIMEOUT_MS),
          body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (response.status >= 500) this.counts.serverErrors[response.status] = (this.counts.serverErrors[response.status] ?? 0) + 1;
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        const answer = JSON.parse(text) as { accepted?: number; duplicates?: number };
        this.counts.replayed += 1;
        this.counts.duplicateEvents += answer.duplicates ?? 0;
        this.counts.acceptedAgain += answer.accepted ?? 0;
      } catch {
        this.counts.refused += 1;
        this.pool.push({ ...entry, due: Date.now() + 1_000 });
      }
    }
  }

  /** Repeats still waiting to be delivered. */
  pending(): number {
    return this.pool.length;
  }
}
