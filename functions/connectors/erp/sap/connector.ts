/** SAP S/4HANA as a Harmony ERP connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { ErpConnectorDefinition } from '../../definition.ts';
import type { SapCredentials } from './auth.ts';
import { SapErp } from './index.ts';

const code = (length: number, example: string) =>
  z.string().trim().regex(new RegExp(`^[A-Za-z0-9]{1,${length}}$`), `expected an SAP code of up to ${length} letters or digits such as "${example}"`);

const SapSettings = z.object({
  /** The system's API host (with any proxy path in front of SAP), e.g. `https://my123456-api.s4hana.cloud.sap`; the OData services live under `<it>/sap/opu/odata/sap/`. */
  SAP_BASE_URL: z.string().min(1),
  /** The `sap-client` (three digits) of on-premise and private-cloud systems. @default the system's default client */
  SAP_CLIENT: z.string().regex(/^\d{3}$/, 'expected a three-digit client such as "100"').optional(),
  /** `oauth2` (client credentials; S/4HANA Cloud's recommendation) or `basic` (communication user and password). @default oauth2 */
  SAP_AUTH: z.enum(['oauth2', 'basic']).default('oauth2'),
  /** The OAuth token endpoint, e.g. `https://my123456-api.s4hana.cloud.sap/sap/bc/sec/oauth2/token` (required with `SAP_AUTH=oauth2`). */
  SAP_TOKEN_URL: z.string().min(1).optional(),
  /** Scopes to ask the OAuth server for, space-separated, where it wants them. @default none sent */
  SAP_OAUTH_SCOPE: z.string().optional(),
  /** Sales document type of new orders. @default OR */
  SAP_SALES_ORDER_TYPE: code(4, 'OR').default('OR'),
  /** Sales organization orders are created in and customers extended to, e.g. `1710`. */
  SAP_SALES_ORGANIZATION: code(4, '1710'),
  /** Distribution channel, e.g. `10`. */
  SAP_DISTRIBUTION_CHANNEL: code(2, '10'),
  /** Division, e.g. `00`. */
  SAP_DIVISION: code(2, '00'),
  /** Reason for rejection set on every item of a cancelled order (configured in SD), e.g. `10`. */
  SAP_REJECTION_REASON: code(2, '10'),
  /** Delivery block new orders get until Harmony confirms them, e.g. `01`; empty creates orders confirmed. @default empty */
  SAP_DELIVERY_BLOCK: z.union([z.literal(''), code(2, '01')]).default(''),
  /** `crm`: the CRM's net unit price as a manual price condition; `sap`: SAP's own condition records. @default crm */
  SAP_PRICING: z.enum(['crm', 'sap']).default('crm'),
  /** Price condition type for `SAP_PRICING=crm`: `PR00` on premise, `PPR0` in S/4HANA Cloud. @default PR00 */
  SAP_PRICE_CONDITION_TYPE: code(4, 'PR00').default('PR00'),
  /** Currency of new customers' sales area data. @default EUR */
  SAP_CUSTOMER_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"').default('EUR'),
  /** Country of a new customer's address when the CRM has none, e.g. `DE`. @default none: such a party is an error */
  SAP_DEFAULT_COUNTRY: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 code such as "DE"').optional(),
  /** Business partner grouping (number range) of new customers. @default SAP's default grouping */
  SAP_BP_GROUPING: code(4, 'BP02').optional(),
});
type SapSettings = z.infer<typeof SapSettings>;

const SECRETS = {
  username: { variable: 'SAP_USERNAME', required: false, description: 'basic auth: the communication user (SAP_AUTH=basic)' },
  password: { variable: 'SAP_PASSWORD', required: false, description: 'basic auth: its password (SAP_AUTH=basic)' },
  clientId: { variable: 'SAP_CLIENT_ID', required: false, description: 'OAuth 2.0: client id of the communication arrangement (SAP_AUTH=oauth2)' },
  clientSecret: { variable: 'SAP_CLIENT_SECRET', required: false, description: 'OAuth 2.0: its client secret (SAP_AUTH=oauth2)' },
} as const;

/** The credentials SAP_AUTH needs; throws naming every missing variable. */
function credentialsFor(settings: SapSettings, secrets: Readonly<Record<string, string | undefined>>): SapCredentials {
  const needed = settings.SAP_AUTH === 'basic' ? (['username', 'password'] as const) : (['clientId', 'clientSecret'] as const);
  const missing: string[] = needed.filter((field) => (secrets[field] ?? '') === '').map((field) => SECRETS[field].variable);
  if (settings.SAP_AUTH === 'oauth2' && (settings.SAP_TOKEN_URL ?? '') === '') missing.unshift('SAP_TOKEN_URL');
  if (missing.length > 0) throw new Error(`Invalid configuration — ${missing.join(', ')}: required with SAP_AUTH=${settings.SAP_AUTH}`);
  return settings.SAP_AUTH === 'basic'
    ? { scheme: 'basic', username: secrets.username!, password: secrets.password! }
    : { scheme: 'oauth2', tokenUrl: checkOutboundUrl('SAP_TOKEN_URL', settings.SAP_TOKEN_URL!), clientId: secrets.clientId!, clientSecret: secrets.clientSecret!, scope: settings.SAP_OAUTH_SCOPE };
}

/** SAP S/4HANA (Cloud, private cloud or on premise) through its A2X OData v2 APIs. */
export const sapConnector: ErpConnectorDefinition<typeof SapSettings> = {
  system: 'sap',
  kind: 'erp',
  label: 'SAP S/4HANA',
  settings: SapSettings,
  secrets: SECRETS,
  capabilities: {
    auth: 'OAuth 2.0 client credentials or basic auth; CSRF token with session cookies',
    inbound: '—',
    read: 'A_SalesOrder with to_Item, A_BusinessPartner, A_BusinessPartnerTaxNumber, A_AddressEmailAddress (OData v2, $filter, $top/$skip)',
    write: 'A_BusinessPartner deep insert (FLCU01, sales area); A_SalesOrder deep insert with to_Item; delivery block removed on confirm (If-Match)',
    cancel: 'A_SalesOrderItem: reason for rejection on every item (order fully rejected)',
    sandbox: 'local/sandbox/sap (API_SALES_ORDER_SRV and API_BUSINESS_PARTNER subset, CSRF sessions, basic auth and OAuth)',
    testedAgainst: 'ERP contract suite on the sandbox (OAuth); basic auth and CSRF expiry cases; EDMX and recorded payloads from SAP',
  },
  create(settings, secrets, runtime) {
    // A proxy path in front of SAP (API Management, a BTP route) stays; a service path pasted by mistake goes.
    const base = new URL(checkOutboundUrl('SAP_BASE_URL', settings.SAP_BASE_URL).href.replace(/\/sap\/opu\/odata(\/.*)?$/i, '').replace(/[?#].*$/, ''));
    const salesArea = {
      salesOrganization: settings.SAP_SALES_ORGANIZATION.toUpperCase(),
      distributionChannel: settings.SAP_DISTRIBUTION_CHANNEL.toUpperCase(),
      division: settings.SAP_DIVISION.toUpperCase(),
    };
    return new SapErp({
      baseUrl: base,
      sapClient: settings.SAP_CLIENT,
      credentials: credentialsFor(settings, secrets),
      customers: { salesArea, currency: settings.SAP_CUSTOMER_CURRENCY, country: settings.SAP_DEFAULT_COUNTRY, grouping: settings.SAP_BP_GROUPING },
      orders: {
        salesOrderType: settings.SAP_SALES_ORDER_TYPE.toUpperCase(),
        salesArea,
        deliveryBlock: settings.SAP_DELIVERY_BLOCK.toUpperCase(),
        pricing: settings.SAP_PRICING,
        priceConditionType: settings.SAP_PRICE_CONDITION_TYPE.toUpperCase(),
      },
      rejectionReason: settings.SAP_REJECTION_REASON.toUpperCase(),
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
