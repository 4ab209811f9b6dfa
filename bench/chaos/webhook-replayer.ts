/**
 * Duplicate webhook deliveries: reads the signed requests the sandbox CRM delivered,
 * picks about 30 % of them and POSTs them to the ingress again later, in shuffled
 * order, so the hub sees duplicates and events older than ones it already took.
 */
import * as z from 'zod';
import type { SeededRandom } from './seeded-random.ts';

const Delivery = z.object({
  at: z.string(),
  eventIds: z.array(z.number()),
  outcome: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
});
type Delivery = z.infer<typeof Delivery>;
const WonEvent = z.object({ objectId: z.number(), propertyValue: z.string().optional() });

/** What the replayer did. */
export interface ReplayCounts {
  /** Delivered requests seen in the CRM's delivery log. */
  seen: number;
  /** Re-POSTs the ingress answered 200. */
  replayed: number;
  /** Events in those re-POSTs the ingress called duplicates. */
  duplicateEvents: number;
  /** Events in those re-POSTs the ingress accepted as new (should be 0 once delivered). */
  acceptedAgain: number;
  /** Re-POSTs answered with anything but 200 (the hub restarting, say), retried later. */
  refused: number;
}

/** Picks deliveries to repeat and repeats them when due. */
export class WebhookReplayer {
  private readonly random: SeededRandom;
  private readonly fraction: number;
  private readonly seen = new Set<string>();
  private pool: { readonly delivery: Delivery; readonly due: number }[] = [];
  /** Deals whose won event was delivered (the ingress answered 2xx). */
  readonly wonDelivered = new Set<string>();
  readonly counts: ReplayCounts = { seen: 0, replayed: 0, duplicateEvents: 0, acceptedAgain: 0, refused: 0 };

  constructor(random: SeededRandom, fraction: number) {
    this.random = random;
    this.fraction = fraction;
  }

  /** Reads the delivery log and schedules a share of the new deliveries for a repeat 0–3 s from now. */
  async collect(hubspotUrl: string): Promise<void> {
    const response = await fetch(`${hubspotUrl}/__sandbox/webhook-deliveries`, { signal: AbortSignal.timeout(5_000) });
    const deliveries = z.array(Delivery).parse(await response.json());
    for (const delivery of deliveries) {
      const key = `${delivery.at}/${delivery.eventIds.join(',')}`;
      if (delivery.outcome !== 'delivered' || this.seen.has(key)) continue;
      this.seen.add(key);
      this.counts.seen += 1;
      for (const event of z.array(WonEvent).parse(JSON.parse(delivery.body))) {
        if (event.propertyValue === 'closedwon') this.wonDelivered.add(String(event.objectId));
      }
      // At least one repeat per run, so a small run still sees a duplicate.
      if (this.random.chance(this.fraction) || this.counts.seen === 1) this.pool.push({ delivery, due: Date.now() + this.random.integer(0, 3_000) });
    }
  }

  /** Re-POSTs every due delivery, in shuffled order; `all` repeats the whole pool now. */
  async replayDue(ingressUrl: string, all = false): Promise<void> {
    const now = Date.now();
    const due = this.random.shuffled(this.pool.filter((entry) => all || entry.due <= now));
    this.pool = this.pool.filter((entry) => !due.includes(entry));
    for (const entry of due) {
      try {
        const response = await fetch(`${ingressUrl}/webhooks/hubspot`, {
          method: 'POST',
          headers: entry.delivery.headers,
          body: entry.delivery.body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        const answer = JSON.parse(text) as { accepted?: number; duplicates?: number };
        this.counts.replayed += 1;
        this.counts.duplicateEvents += answer.duplicates ?? 0;
        this.counts.acceptedAgain += answer.accepted ?? 0;
      } catch {
        this.counts.refused += 1;
        this.pool.push({ delivery: entry.delivery, due: Date.now() + 1_000 });
      }
    }
  }

  /** Deliveries still waiting for their repeat. */
  pending(): number {
    return this.pool.length;
  }
}
