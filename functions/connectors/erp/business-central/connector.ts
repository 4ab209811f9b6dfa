/** Microsoft Dynamics 365 Business Central as a Harmony ERP connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { ErpConnectorDefinition } from '../../definition.ts';
import { BusinessCentralErp } from './index.ts';

const BusinessCentralSettings = z.object({
  /** Microsoft Entra directory (tenant) id or domain, e.g. `contoso.onmicrosoft.com`. */
  BUSINESS_CENTRAL_TENANT_ID: z.string().trim().min(1),
  /** The BC environment's name. @default production */
  BUSINESS_CENTRAL_ENVIRONMENT: z.string().trim().min(1).default('production'),
  /** The company's id (`GET …/api/v2.0/companies`), a GUID. */
  BUSINESS_CENTRAL_COMPANY_ID: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected the company id (a GUID)'),
  /** @default https://api.businesscentral.dynamics.com */
  BUSINESS_CENTRAL_API_URL: z.string().min(1).default('https://api.businesscentral.dynamics.com'),
  /** @default https://login.microsoftonline.com */
  BUSINESS_CENTRAL_LOGIN_URL: z.string().min(1).default('https://login.microsoftonline.com'),
  /** The company's local currency (LCY), which BC leaves blank on documents. @default EUR */
  BUSINESS_CENTRAL_LOCAL_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"').default('EUR'),
});

export const businessCentralConnector: ErpConnectorDefinition<typeof BusinessCentralSettings> = {
  system: 'business-central',
  kind: 'erp',
  label: 'Microsoft Dynamics 365 Business Central',
  settings: BusinessCentralSettings,
  secrets: {
    clientId: { variable: 'BUSINESS_CENTRAL_CLIENT_ID', required: true, description: 'application (client) id of the Entra app registration BC trusts' },
    clientSecret: { variable: 'BUSINESS_CENTRAL_CLIENT_SECRET', required: true, description: 'client secret value of that app registration' },
  },
  // Business Central online: 6,000 requests per user per 5 minutes.
  rateBudget: { perSecond: 20, burst: 100 },
  capabilities: {
    auth: 'OAuth 2.0 client credentials (Microsoft Entra ID)',
    inbound: '—',
    read: 'salesOrders, salesInvoices (by orderId), customers, items, currencies (API v2.0, $filter, nextLink paging)',
    write: 'customers create (number from the CRM id); salesOrders deep insert with salesOrderLines',
    cancel: 'salesOrders DELETE with If-Match (BC has no cancelled state)',
    sandbox: 'local/sandbox/business-central (Entra token endpoint and API v2.0 subset, OData)',
    testedAgainst: 'ERP contract suite on the sandbox; stale-etag case; recorded payloads from Microsoft Learn',
  },
  create(settings, secrets, runtime) {
    const clientId = secrets.clientId;
    const clientSecret = secrets.clientSecret;
    if (clientId === undefined || clientId === '') throw new Error('business-central: secret field clientId (BUSINESS_CENTRAL_CLIENT_ID) is missing');
    if (clientSecret === undefined || clientSecret === '') throw new Error('business-central: secret field clientSecret (BUSINESS_CENTRAL_CLIENT_SECRET) is missing');
    return new BusinessCentralErp({
      apiUrl: checkOutboundUrl('BUSINESS_CENTRAL_API_URL', settings.BUSINESS_CENTRAL_API_URL),
      loginUrl: checkOutboundUrl('BUSINESS_CENTRAL_LOGIN_URL', settings.BUSINESS_CENTRAL_LOGIN_URL),
      tenantId: settings.BUSINESS_CENTRAL_TENANT_ID,
      environment: settings.BUSINESS_CENTRAL_ENVIRONMENT,
      companyId: settings.BUSINESS_CENTRAL_COMPANY_ID,
      localCurrency: settings.BUSINESS_CENTRAL_LOCAL_CURRENCY,
      clientId,
      clientSecret,
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
