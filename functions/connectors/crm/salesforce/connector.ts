/** Salesforce as a Harmony CRM connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { CrmConnectorDefinition } from '../../definition.ts';
import { DEFAULT_API_VERSION, SalesforceCrm } from './index.ts';
import { DEFAULT_SYNC_FIELDS } from './mapping.ts';
import type { SalesforceCredentials } from './oauth-token.ts';

/** An API name of a standard or custom field, e.g. `VAT_Number__c`. */
const FieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'expected a field API name such as VAT_Number__c');

const SalesforceSettings = z.object({
  /** Where tokens come from: `https://login.salesforce.com`, `https://test.salesforce.com` (sandboxes) or the My Domain login URL. */
  SALESFORCE_LOGIN_URL: z.string().default('https://login.salesforce.com'),
  /** REST API version. */
  SALESFORCE_API_VERSION: z.string().regex(/^\d{2}\.0$/, 'expected a version such as 62.0').default(DEFAULT_API_VERSION),
  /** The currency of a single-currency org (its records have no CurrencyIsoCode). */
  SALESFORCE_DEFAULT_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR').optional(),
  /** Account field holding the VAT number. @default VAT_Number__c */
  SALESFORCE_VAT_FIELD: FieldName.optional(),
  /** Opportunity field for the ERP order number. @default Harmony_ERP_Order_Ref__c */
  SALESFORCE_ORDER_REF_FIELD: FieldName.default(DEFAULT_SYNC_FIELDS.orderRef),
  /** Opportunity field for the ERP status. @default Harmony_ERP_Status__c */
  SALESFORCE_ERP_STATUS_FIELD: FieldName.default(DEFAULT_SYNC_FIELDS.status),
  /** Opportunity field for the sync error. @default Harmony_Sync_Error__c */
  SALESFORCE_SYNC_ERROR_FIELD: FieldName.default(DEFAULT_SYNC_FIELDS.syncError),
});

/**
 * Which OAuth flow the secret completes: JWT bearer when it has a username and a private key
 * (no shared secret leaves Harmony), else client credentials; throws naming what is missing.
 */
export function salesforceCredentials(secrets: Readonly<Record<string, string | undefined>>): SalesforceCredentials {
  const present = (value: string | undefined): value is string => value !== undefined && value !== '';
  const { clientId, clientSecret, username, privateKey } = secrets;
  if (!present(clientId)) throw new Error('Invalid configuration — SALESFORCE_CLIENT_ID: required (the connected app\'s consumer key) for both OAuth flows');
  if (present(username) || present(privateKey)) {
    if (!present(username)) throw new Error('Invalid configuration — SALESFORCE_USERNAME: required with SALESFORCE_PRIVATE_KEY (JWT bearer flow)');
    if (!present(privateKey)) throw new Error('Invalid configuration — SALESFORCE_PRIVATE_KEY: required with SALESFORCE_USERNAME (JWT bearer flow)');
    return { flow: 'jwt-bearer', clientId, username, privateKey };
  }
  if (present(clientSecret)) return { flow: 'client-credentials', clientId, clientSecret };
  throw new Error(
    'Invalid configuration — salesforce: no OAuth flow is complete; set SALESFORCE_CLIENT_SECRET (client credentials flow) or SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY (JWT bearer flow)',
  );
}

/** Salesforce's declaration: the registry builds SalesforceCrm from it, the stack passes its settings and creates its secret. */
export const salesforceConnector: CrmConnectorDefinition<typeof SalesforceSettings> = {
  system: 'salesforce',
  kind: 'crm',
  label: 'Salesforce',
  settings: SalesforceSettings,
  secrets: {
    clientId: { variable: 'SALESFORCE_CLIENT_ID', required: true, description: 'connected app consumer key (both OAuth flows)' },
    clientSecret: { variable: 'SALESFORCE_CLIENT_SECRET', required: false, description: 'connected app consumer secret (client credentials flow)' },
    username: { variable: 'SALESFORCE_USERNAME', required: false, description: 'user Harmony acts as (JWT bearer flow)' },
    privateKey: { variable: 'SALESFORCE_PRIVATE_KEY', required: false, description: "PEM RSA private key of the connected app's certificate (JWT bearer flow)" },
  },
  capabilities: {
    auth: 'OAuth 2.0 client credentials; OAuth 2.0 JWT bearer (RS256)',
    inbound: 'Outbound Messages (SOAP)',
    read: 'Opportunity + Account (person accounts), primary contact role, line items (REST sObjects, SOQL with paging)',
    write: 'Opportunity custom fields (ERP order number, status, sync error)',
    cancel: '—',
    sandbox: 'local/sandbox/salesforce (OAuth token endpoint, REST sObjects and SOQL subset, Outbound Messages)',
    testedAgainst: 'CRM contract suite on the sandbox with both OAuth flows; jsforce; recorded REST payloads',
  },
  create(settings, secrets, runtime) {
    return new SalesforceCrm({
      loginUrl: checkOutboundUrl('SALESFORCE_LOGIN_URL', settings.SALESFORCE_LOGIN_URL),
      credentials: salesforceCredentials(secrets),
      apiVersion: settings.SALESFORCE_API_VERSION,
      defaultCurrency: settings.SALESFORCE_DEFAULT_CURRENCY,
      vatField: settings.SALESFORCE_VAT_FIELD,
      syncFields: {
        orderRef: settings.SALESFORCE_ORDER_REF_FIELD,
        status: settings.SALESFORCE_ERP_STATUS_FIELD,
        syncError: settings.SALESFORCE_SYNC_ERROR_FIELD,
      },
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
