/**
 * What the end-to-end load process is asked to do and what it reports: its spec file,
 * the record of every webhook it sent, and its summary line.
 */
import * as z from 'zod';

/** What the load process is asked to do. */
export const LoadSpec = z.object({
  /** The ingress URL HubSpot would call, e.g. `http://127.0.0.1:3000/webhooks/hubspot`. */
  url: z.url(),
  clientSecret: z.string().min(1),
  portalId: z.number().int().nonnegative(),
  /** One webhook per deal, in this order. */
  dealIds: z.array(z.string().regex(/^\d+$/)).min(1),
  stage: z.string().min(1),
  /** Mean deals (webhook events) per second. */
  rate: z.number().positive(),
  arrivals: z.enum(['poisson', 'uniform']),
  /** Events per request: 1 is one webhook per deal; HubSpot batches up to 100. */
  eventsPerRequest: z.number().int().min(1).max(100),
  /** First HubSpot event id; each event gets the next. */
  firstEventId: z.number().int().positive(),
  seed: z.number().int(),
  /** Where the per-webhook record goes. */
  outFile: z.string().min(1),
});
export type LoadSpec = z.infer<typeof LoadSpec>;

/** One webhook as sent: the deal, the epoch ms it went out, the answer. */
export const SentWebhook = z.object({
  dealId: z.string(),
  sentAt: z.number(),
  /** How late the send was against its schedule (the generator's own lag), ms. */
  lagMs: z.number(),
  /** HTTP status, or -1 when the connection failed. */
  status: z.number(),
  /** Request → response end, ms. */
  answerMs: z.number(),
});
export type SentWebhook = z.infer<typeof SentWebhook>;

/** The summary line. */
export const LoadSummary = z.object({
  sent: z.number(),
  requests: z.number(),
  ok: z.number(),
  statuses: z.record(z.string(), z.number()),
  seconds: z.number(),
  offeredPerSecond: z.number(),
  maxLagMs: z.number(),
  maxInFlight: z.number(),
  /** Requests sent again after a connection failed before any answer. */
  retries: z.number(),
  /** CPU the load process used (user + system), ms. */
  cpuMs: z.number(),
});
export type LoadSummary = z.infer<typeof LoadSummary>;
