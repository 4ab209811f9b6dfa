/**
 * The Standard Webhooks mappings Harmony knows, by the `{mapping}` path segment of
 * `POST /webhooks/standard/{mapping}`. Each is plain data checked by the mapping schema
 * when this module loads, so a malformed entry fails every test and every cold start.
 */
import { StandardWebhookMapping } from './mapping.ts';

const MAPPINGS: Readonly<Record<string, unknown>> = {
  /**
   * Harmony's reference shape, for a CRM or middleware that can be told what to send: the
   * payload structure the Standard Webhooks specification recommends (`type`, `timestamp`,
   * `data`), with the deal's CRM, account and id in `data`. Won is `deal.won`, or a
   * `deal.updated` whose status became `won`.
   */
  'deal-events': {
    description:
      'Standard Webhooks payload structure {type, timestamp, data}: data.crm, data.account_id, data.deal_id; ' +
      'won on type deal.won, or type deal.updated with data.status won and data.previous_status not won',
    crm: { path: 'data.crm' },
    accountId: { path: 'data.account_id' },
    dealId: { path: 'data.deal_id' },
    occurredAt: { path: 'timestamp' },
    won: {
      any: [
        { path: 'type', equals: 'deal.won' },
        {
          all: [
            { path: 'type', equals: 'deal.updated' },
            { path: 'data.status', equals: 'won' },
            { not: { path: 'data.previous_status', equals: 'won' } },
          ],
        },
      ],
    },
  },
};

/** Every mapping, validated. */
export const STANDARD_WEBHOOK_MAPPINGS: ReadonlyMap<string, StandardWebhookMapping> = new Map(
  Object.entries(MAPPINGS).map(([name, mapping]) => {
    const parsed = StandardWebhookMapping.safeParse(mapping);
    if (!parsed.success) throw new Error(`Standard Webhooks mapping "${name}": ${parsed.error.message}`);
    return [name, parsed.data];
  }),
);
