/** Microsoft Dynamics NAV (SOAP page web services) as a Harmony ERP connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { ErpConnectorDefinition } from '../../definition.ts';
import { DynamicsNavErp } from './index.ts';

/** A page, codeunit or field name as NAV publishes it: letters, digits and `_`. */
const NavName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'expected a NAV web service or field name such as "SalesOrder"');

const DynamicsNavSettings = z.object({
  /** The company's SOAP base, e.g. `https://nav.example.com:7047/DynamicsNAV110/WS/CRONUS%20International%20Ltd.` */
  DYNAMICS_NAV_URL: z.string().min(1),
  /** The company's local currency (LCY), which NAV writes as a blank Currency Code, e.g. `EUR`. */
  DYNAMICS_NAV_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"'),
  /** Service name of the published Customer card page. @default Customer */
  DYNAMICS_NAV_CUSTOMER_SERVICE: NavName.default('Customer'),
  /** Service name of the published Sales Order page. @default SalesOrder */
  DYNAMICS_NAV_SALES_ORDER_SERVICE: NavName.default('SalesOrder'),
  /** Service name of the published codeunit with ReleaseSalesOrder (HarmonySalesOrder.Codeunit.al). @default HarmonySalesOrder */
  DYNAMICS_NAV_RELEASE_CODEUNIT: NavName.default('HarmonySalesOrder'),
  /** Customer card field that holds the CRM id (Search Name, or a field an extension adds). @default Search_Name */
  DYNAMICS_NAV_CUSTOMER_REF_FIELD: NavName.default('Search_Name'),
});

/** The connector declaration the registry, the CDK stack and the README read. */
export const dynamicsNavConnector: ErpConnectorDefinition<typeof DynamicsNavSettings> = {
  system: 'dynamics-nav',
  kind: 'erp',
  label: 'Microsoft Dynamics NAV (SOAP)',
  settings: DynamicsNavSettings,
  secrets: {
    username: { variable: 'DYNAMICS_NAV_USERNAME', required: true, description: 'NAV user (NavUserPassword credential type) the web services run as' },
    password: { variable: 'DYNAMICS_NAV_PASSWORD', required: true, description: 'password (or web service access key) of DYNAMICS_NAV_USERNAME' },
  },
  capabilities: {
    auth: 'HTTP Basic (NavUserPassword / web service access key)',
    inbound: '—',
    read: 'Customer and SalesOrder page services (Read, ReadMultiple with filters)',
    write: 'Customer and SalesOrder (with SalesLines) Create; release through a published codeunit',
    cancel: 'SalesOrder Delete with the record Key (NAV has no cancelled status)',
    sandbox: 'local/sandbox/dynamics-nav (SOAP 1.1 page and codeunit services, NAV Faults, Keys)',
    testedAgainst: 'ERP contract suite on the sandbox; recorded NAV envelopes and Faults',
  },
  create(settings, secrets, runtime) {
    const username = secrets.username;
    const password = secrets.password;
    if (username === undefined || username === '') throw new Error('Invalid configuration — DYNAMICS_NAV_USERNAME: required');
    if (password === undefined || password === '') throw new Error('Invalid configuration — DYNAMICS_NAV_PASSWORD: required');
    return new DynamicsNavErp({
      baseUrl: checkOutboundUrl('DYNAMICS_NAV_URL', settings.DYNAMICS_NAV_URL),
      username,
      password,
      localCurrency: settings.DYNAMICS_NAV_CURRENCY,
      customerService: settings.DYNAMICS_NAV_CUSTOMER_SERVICE,
      salesOrderService: settings.DYNAMICS_NAV_SALES_ORDER_SERVICE,
      releaseCodeunit: settings.DYNAMICS_NAV_RELEASE_CODEUNIT,
      customerRefField: settings.DYNAMICS_NAV_CUSTOMER_REF_FIELD,
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
