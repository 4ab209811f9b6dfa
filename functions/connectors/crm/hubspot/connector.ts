/** HubSpot as a Harmony CRM connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { CrmConnectorDefinition } from '../../definition.ts';
import { HubspotCrm } from './index.ts';

const HubspotSettings = z.object({
  /** API base URL. @default https://api.hubapi.com */
  HUBSPOT_BASE_URL: z.string().optional(),
  /** Company property holding the VAT number. @default vat_number */
  HUBSPOT_VAT_PROPERTY: z.string().min(1).optional(),
});

export const hubspotConnector: CrmConnectorDefinition<typeof HubspotSettings> = {
  system: 'hubspot',
  kind: 'crm',
  label: 'HubSpot',
  settings: HubspotSettings,
  secrets: {
    accessToken: { variable: 'HUBSPOT_ACCESS_TOKEN', required: true, description: 'private app access token' },
    clientSecret: { variable: 'HUBSPOT_CLIENT_SECRET', required: false, description: 'app client secret (verifies webhook signatures v3)' },
  },
  // Private apps on Free/Starter: 100 requests per 10 s (Professional/Enterprise: 190; raise with CONNECTOR_RATE_LIMITS).
  rateBudget: { perSecond: 10, burst: 100 },
  capabilities: {
    auth: 'private app token; webhook signature v3 (HMAC-SHA256)',
    inbound: 'webhooks (signature v3, batched)',
    read: 'deal + company, contact, line items (CRM v3 objects, batch read)',
    write: 'deal properties (ERP order number, status, sync error)',
    cancel: '—',
    sandbox: 'local/sandbox/hubspot (CRM v3 objects, webhooks with retries)',
    testedAgainst: 'CRM contract suite on the sandbox; official @hubspot/api-client; recorded payloads',
  },
  create(settings, secrets, runtime) {
    return new HubspotCrm({
      accessToken: secrets.accessToken!,
      ...(settings.HUBSPOT_BASE_URL === undefined
        ? {}
        : { basePath: checkOutboundUrl('HUBSPOT_BASE_URL', settings.HUBSPOT_BASE_URL).toString().replace(/\/$/, '') }),
      ...(settings.HUBSPOT_VAT_PROPERTY === undefined ? {} : { vatProperty: settings.HUBSPOT_VAT_PROPERTY }),
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
