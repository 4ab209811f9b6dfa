/**
 * ShipBob as a Harmony warehouse connector: its settings, secret and matrix row. The
 * shared `ConnectorDefinition` knows only CRM and ERP kinds, so the WMS kind is declared
 * here as an extension of it (the definition file should gain `kind: 'wms'`).
 */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { ConnectorDefinition, ConnectorRuntime } from '../../definition.ts';
import type { WmsPort } from '../port.ts';
import { ShipBobWms } from './index.ts';
import { processStateStore, type StateStore } from './state-store.ts';

/** What the registry hands a WMS connector: the shared runtime plus a durable store for cursors and rotated tokens. */
export interface WmsConnectorRuntime extends ConnectorRuntime {
  /** Durable key → value store (DynamoDB in AWS). @default this process's memory: cursors and rotated refresh tokens are lost on a cold start */
  readonly stateStore?: StateStore;
}

/** A warehouse connector: the shared declaration with `kind: 'wms'`. */
export type WmsConnectorDefinition<Settings extends z.ZodType = z.ZodType> = Omit<ConnectorDefinition<WmsPort, Settings>, 'kind' | 'create'> & {
  readonly kind: 'wms';
  create(settings: z.infer<Settings>, secrets: Readonly<Record<string, string | undefined>>, runtime: WmsConnectorRuntime): WmsPort;
};

const Id = (what: string) => z.coerce.number().int().positive(`expected ${what} (a positive whole number)`);

const ShipBobSettings = z.object({
  /** @default https://api.shipbob.com (ShipBob's sandbox: https://sandbox-api.shipbob.com) */
  SHIPBOB_API_URL: z.string().min(1).default('https://api.shipbob.com'),
  /** OAuth token endpoint's host. @default https://auth.shipbob.com (sandbox: https://authstage.shipbob.com) */
  SHIPBOB_AUTH_URL: z.string().min(1).default('https://auth.shipbob.com'),
  /** `pat` (Personal Access Token, ShipBob's choice for a single-merchant integration) or `oauth` (an installed app). @default pat */
  SHIPBOB_AUTH: z.enum(['pat', 'oauth']).default('pat'),
  /** The channel with write scopes (`GET /2026-01/channel`), sent as `shipbob_channel_id`. */
  SHIPBOB_CHANNEL_ID: Id('the channel id'),
  /** `shipping_method` for standard orders (mapped to a ship option in ShipBob). @default Standard */
  SHIPBOB_SHIPPING_METHOD_STANDARD: z.string().trim().min(1).default('Standard'),
  /** `shipping_method` for priority orders. @default Expedited */
  SHIPBOB_SHIPPING_METHOD_PRIORITY: z.string().trim().min(1).default('Expedited'),
  /** Fulfillment center that receives customer returns (`GET /2026-01/fulfillment-center`). Returns are refused without it. */
  SHIPBOB_RETURN_FULFILLMENT_CENTER_ID: Id('the fulfillment center id').optional(),
  /** The OAuth app's registered redirect URI, sent with token requests. */
  SHIPBOB_OAUTH_REDIRECT_URI: z.string().min(1).optional(),
  /** How far back the first status poll reads. @default 24 */
  SHIPBOB_STATUS_LOOKBACK_HOURS: z.coerce.number().positive().max(24 * 90).default(24),
});

function required(secrets: Readonly<Record<string, string | undefined>>, field: string, variable: string, mode: string): string {
  const value = secrets[field];
  if (value === undefined || value === '') throw new Error(`shipbob: secret field ${field} (${variable}) is missing (SHIPBOB_AUTH=${mode})`);
  return value;
}

export const shipbobConnector: WmsConnectorDefinition<typeof ShipBobSettings> = {
  system: 'shipbob',
  kind: 'wms',
  label: 'ShipBob',
  settings: ShipBobSettings,
  secrets: {
    personalAccessToken: { variable: 'SHIPBOB_PERSONAL_ACCESS_TOKEN', required: false, description: 'Personal Access Token (Integrations > API Tokens); with SHIPBOB_AUTH=pat' },
    clientId: { variable: 'SHIPBOB_CLIENT_ID', required: false, description: 'OAuth app client id; with SHIPBOB_AUTH=oauth' },
    clientSecret: { variable: 'SHIPBOB_CLIENT_SECRET', required: false, description: 'OAuth app client secret; with SHIPBOB_AUTH=oauth' },
    refreshToken: { variable: 'SHIPBOB_REFRESH_TOKEN', required: false, description: 'refresh token from the app install (scope offline_access); rotated on use, the current one kept in the state store' },
  },
  capabilities: {
    auth: 'Personal Access Token; OAuth 2.0 refresh token (rotating)',
    inbound: 'polling (GET /order by LastUpdate window)',
    read: 'orders with shipments (status details, tracking), inventory levels (cursor pages), inventory history (stock deltas), returns',
    write: 'orders (ReferenceId model, unique reference_id), returns (inventory ids from the SKU catalogue)',
    cancel: 'POST /order/{id}:cancel before shipping; refused with already-shipped after',
    sandbox: 'local/sandbox/wms (ShipBob 2026-01 subset, token endpoint, warehouse clock)',
    testedAgainst: 'WMS contract suite on the sandbox (PAT and OAuth); recorded payloads from ShipBob\'s OpenAPI document',
  },
  pollsStatuses: true,
  create(settings, secrets, runtime) {
    const store = runtime.stateStore ?? processStateStore;
    const auth =
      settings.SHIPBOB_AUTH === 'pat'
        ? { kind: 'pat' as const, token: required(secrets, 'personalAccessToken', 'SHIPBOB_PERSONAL_ACCESS_TOKEN', 'pat') }
        : {
            kind: 'oauth' as const,
            store,
            client: {
              authUrl: checkOutboundUrl('SHIPBOB_AUTH_URL', settings.SHIPBOB_AUTH_URL),
              clientId: required(secrets, 'clientId', 'SHIPBOB_CLIENT_ID', 'oauth'),
              clientSecret: required(secrets, 'clientSecret', 'SHIPBOB_CLIENT_SECRET', 'oauth'),
              refreshToken: required(secrets, 'refreshToken', 'SHIPBOB_REFRESH_TOKEN', 'oauth'),
              ...(settings.SHIPBOB_OAUTH_REDIRECT_URI === undefined ? {} : { redirectUri: settings.SHIPBOB_OAUTH_REDIRECT_URI }),
            },
          };
    return new ShipBobWms({
      apiUrl: checkOutboundUrl('SHIPBOB_API_URL', settings.SHIPBOB_API_URL),
      channelId: settings.SHIPBOB_CHANNEL_ID,
      auth,
      shippingMethods: { standard: settings.SHIPBOB_SHIPPING_METHOD_STANDARD, priority: settings.SHIPBOB_SHIPPING_METHOD_PRIORITY },
      ...(settings.SHIPBOB_RETURN_FULFILLMENT_CENTER_ID === undefined ? {} : { returnFulfillmentCenterId: settings.SHIPBOB_RETURN_FULFILLMENT_CENTER_ID }),
      stateStore: store,
      statusLookbackMs: settings.SHIPBOB_STATUS_LOOKBACK_HOURS * 3600 * 1000,
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
