/** Pipedrive as a Harmony CRM connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { CrmConnectorDefinition } from '../../definition.ts';
import type { PipedriveAuth } from './client.ts';
import { DEFAULT_SYNC_FIELDS, PipedriveCrm } from './index.ts';

const FieldName = z.string().trim().min(1).max(255);

const PipedriveSettings = z.object({
  /** The company domain, e.g. `https://acme.pipedrive.com`. With OAuth the token's `api_domain` takes over. @default https://api.pipedrive.com */
  PIPEDRIVE_API_URL: z.string().min(1).default('https://api.pipedrive.com'),
  /** Pipedrive's OAuth server. @default https://oauth.pipedrive.com */
  PIPEDRIVE_OAUTH_URL: z.string().min(1).default('https://oauth.pipedrive.com'),
  /** Deal text field (name or 40-character key) for the ERP order number. @default Harmony ERP order */
  PIPEDRIVE_ORDER_REF_FIELD: FieldName.default(DEFAULT_SYNC_FIELDS.orderRef),
  /** Deal text field (name or key) for the ERP status. @default Harmony ERP status */
  PIPEDRIVE_STATUS_FIELD: FieldName.default(DEFAULT_SYNC_FIELDS.status),
  /** Deal text field (name or key) for the reason a sync failed. @default Harmony sync error */
  PIPEDRIVE_SYNC_ERROR_FIELD: FieldName.default(DEFAULT_SYNC_FIELDS.syncError),
  /** Organization custom field (name or key) holding the VAT number. @default none (no VAT number read) */
  PIPEDRIVE_VAT_FIELD: FieldName.optional(),
});

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** API token, or all three OAuth fields: never both, never a part. */
function authFrom(secrets: Readonly<Record<string, string | undefined>>, oauthUrl: URL): PipedriveAuth {
  const { apiToken, clientId, clientSecret, refreshToken } = secrets;
  const oauthFields = { clientId, clientSecret, refreshToken };
  const oauthSet = Object.values(oauthFields).filter(isSet).length;
  if (isSet(apiToken) && oauthSet > 0) {
    throw new Error('pipedrive: set either apiToken (PIPEDRIVE_API_TOKEN) or clientId, clientSecret and refreshToken (OAuth), not both');
  }
  if (isSet(apiToken)) return { apiToken };
  if (oauthSet === 3) return { oauth: { oauthUrl, clientId: clientId!, clientSecret: clientSecret!, refreshToken: refreshToken! } };
  if (oauthSet > 0) {
    const missing = Object.entries(oauthFields).filter(([, value]) => !isSet(value)).map(([name]) => name);
    throw new Error(`pipedrive: OAuth needs clientId, clientSecret and refreshToken; missing ${missing.join(', ')}`);
  }
  throw new Error('pipedrive: secret field apiToken (PIPEDRIVE_API_TOKEN), or clientId, clientSecret and refreshToken, is missing');
}

export const pipedriveConnector: CrmConnectorDefinition<typeof PipedriveSettings> = {
  system: 'pipedrive',
  kind: 'crm',
  label: 'Pipedrive',
  settings: PipedriveSettings,
  secrets: {
    apiToken: { variable: 'PIPEDRIVE_API_TOKEN', required: false, description: 'personal API token (or use the three OAuth fields)' },
    clientId: { variable: 'PIPEDRIVE_CLIENT_ID', required: false, description: 'OAuth app client id' },
    clientSecret: { variable: 'PIPEDRIVE_CLIENT_SECRET', required: false, description: 'OAuth app client secret' },
    refreshToken: { variable: 'PIPEDRIVE_REFRESH_TOKEN', required: false, description: "OAuth refresh token from the app's installation" },
    // The webhook's basic auth is the ingest route's, in its own secret (ConnectorSecrets.pipedrive), not the adapter's.
  },
  // Burst limit per token on the lowest plan: 20 requests per 2 s (higher plans allow more).
  rateBudget: { perSecond: 10, burst: 20 },
  capabilities: {
    auth: 'API token (x-api-token) or OAuth 2.0 refresh token; webhooks by HTTP basic auth',
    inbound: 'webhooks v2 (basic auth; deal won → Deal Stage Changed)',
    read: 'deal + products (code = SKU), organization (VAT custom field), person (API v2)',
    write: 'deal custom fields (ERP order number, status, sync error; keys resolved via v1 dealFields)',
    cancel: '—',
    sandbox: 'local/sandbox/pipedrive (API v2/v1 subset, OAuth token endpoint, webhooks v2 with retries)',
    testedAgainst: 'CRM contract suite on the sandbox (OAuth); API token flow; recorded payloads from the v2 OpenAPI document',
  },
  create(settings, secrets, runtime) {
    const apiUrl = checkOutboundUrl('PIPEDRIVE_API_URL', settings.PIPEDRIVE_API_URL);
    const oauthUrl = checkOutboundUrl('PIPEDRIVE_OAUTH_URL', settings.PIPEDRIVE_OAUTH_URL);
    return new PipedriveCrm({
      apiUrl,
      auth: authFrom(secrets, oauthUrl),
      syncFields: {
        orderRef: settings.PIPEDRIVE_ORDER_REF_FIELD,
        status: settings.PIPEDRIVE_STATUS_FIELD,
        syncError: settings.PIPEDRIVE_SYNC_ERROR_FIELD,
      },
      vatField: settings.PIPEDRIVE_VAT_FIELD,
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
