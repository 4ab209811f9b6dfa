/**
 * The CRMs (and other senders) that may deliver webhooks, one entry per
 * `{source}` path segment: how to check a delivery is genuine, and how its body
 * becomes canonical hub events.
 */
import {
  HubspotWebhookBatch,
  toHubEvents,
  verifyHubspotSignatureV3,
} from '../../connectors/crm/hubspot/webhook.ts';
import { businessKeyForDeal } from '../events.ts';
import { readSecret } from '../secrets.ts';
import { parseOrThrow } from '../validation.ts';
import type { HubEvent } from './publish-events.ts';
import type { WebhookRequest } from './webhook-request.ts';

/** One sender of webhooks. */
export interface WebhookSource {
  /** Why the delivery is not genuine, or undefined when it is. */
  verify(request: WebhookRequest, now: Date): Promise<string | undefined>;
  /** Validates the parsed JSON body and maps it to hub events; throws PermanentError naming the path. */
  toEvents(body: unknown): HubEvent[];
}

/** Settings the webhook sources read (from the ingest function's environment). */
export interface WebhookSourceSettings {
  readonly HUBSPOT_CLIENT_SECRET?: string | undefined;
  readonly HUBSPOT_SECRET_ARN?: string | undefined;
}

function businessKeyOf(detailType: string, detail: Readonly<Record<string, unknown>>): string {
  const text = (key: string): string => String(detail[key] ?? '');
  if (typeof detail.dealId === 'string') return businessKeyForDeal(text('crm'), text('accountId'), text('dealId'));
  return `object:${text('crm')}:${text('accountId')}:${text('objectType') || detailType}:${text('objectId')}`;
}

/** The webhook sources of this deployment, keyed by path segment. */
export function webhookSources(settings: WebhookSourceSettings): ReadonlyMap<string, WebhookSource> {
  const hubspot: WebhookSource = {
    async verify(request, now) {
      const clientSecret = await readSecret({
        value: settings.HUBSPOT_CLIENT_SECRET,
        secretArn: settings.HUBSPOT_SECRET_ARN,
        field: 'clientSecret',
        variable: 'HUBSPOT_CLIENT_SECRET',
      });
      const result = verifyHubspotSignatureV3({
        method: request.method,
        uri: request.url,
        body: request.body,
        timestamp: request.headers['x-hubspot-request-timestamp'],
        signature: request.headers['x-hubspot-signature-v3'],
        clientSecret,
        now,
      });
      return result.valid ? undefined : result.reason;
    },
    toEvents(body) {
      const batch = parseOrThrow(HubspotWebhookBatch, body, 'body');
      return toHubEvents(batch).map((event) => ({
        ...event,
        businessKey: businessKeyOf(event.detailType, event.detail),
      }));
    },
  };
  return new Map([['hubspot', hubspot]]);
}
