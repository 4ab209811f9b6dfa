/**
 * Chooses and builds the CRM and ERP adapters a deployment uses, from
 * configuration (CDK context in AWS, the environment locally) — never by code edits.
 */
import * as z from 'zod';
import { checkOutboundUrl } from '../core/outbound-url.ts';
import { readSecret } from '../core/secrets.ts';
import type { CrmPort } from './crm/port.ts';
import type { ErpPort } from './erp/port.ts';
import { HubspotCrm } from './crm/hubspot/index.ts';
import { OdooErp } from './erp/odoo/index.ts';

/** Connector settings, read from the environment by the handlers that talk to CRM or ERP. */
export const ConnectorEnvironment = z.object({
  CRM_SYSTEM: z.enum(['hubspot']).default('hubspot'),
  ERP_SYSTEM: z.enum(['odoo']).default('odoo'),
  HUBSPOT_BASE_URL: z.string().optional(),
  HUBSPOT_ACCESS_TOKEN: z.string().optional(),
  HUBSPOT_SECRET_ARN: z.string().optional(),
  HUBSPOT_VAT_PROPERTY: z.string().optional(),
  ODOO_URL: z.string().optional(),
  ODOO_DB: z.string().optional(),
  ODOO_USERNAME: z.string().optional(),
  ODOO_API_KEY: z.string().optional(),
  ODOO_SECRET_ARN: z.string().optional(),
  CONNECTOR_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(10_000),
});
export type ConnectorEnvironment = z.infer<typeof ConnectorEnvironment>;

/** The adapters of one deployment. */
export interface Connectors {
  readonly crm: CrmPort;
  readonly erp: ErpPort;
}

function required(value: string | undefined, variable: string): string {
  if (value === undefined || value === '') throw new Error(`Invalid configuration — ${variable}: required but not set`);
  return value;
}

let cached: { readonly fingerprint: string; readonly connectors: Connectors } | undefined;

/**
 * Builds the adapters, reusing them across invocations until a secret changes
 * (the adapters keep auth sessions and reference-data caches).
 */
export async function connectorsFor(environment: ConnectorEnvironment): Promise<Connectors> {
  const hubspotToken = await readSecret({
    value: environment.HUBSPOT_ACCESS_TOKEN,
    secretArn: environment.HUBSPOT_SECRET_ARN,
    field: 'accessToken',
    variable: 'HUBSPOT_ACCESS_TOKEN',
  });
  const odooApiKey = await readSecret({
    value: environment.ODOO_API_KEY,
    secretArn: environment.ODOO_SECRET_ARN,
    field: 'apiKey',
    variable: 'ODOO_API_KEY',
  });
  const fingerprint = `${hubspotToken}\u0000${odooApiKey}`;
  if (cached?.fingerprint === fingerprint) return cached.connectors;
  const timeoutMs = environment.CONNECTOR_TIMEOUT_MS;
  const hubspotBase = environment.HUBSPOT_BASE_URL;
  const crm = new HubspotCrm({
    accessToken: hubspotToken,
    ...(hubspotBase === undefined ? {} : { basePath: checkOutboundUrl('HUBSPOT_BASE_URL', hubspotBase).toString().replace(/\/$/, '') }),
    ...(environment.HUBSPOT_VAT_PROPERTY === undefined ? {} : { vatProperty: environment.HUBSPOT_VAT_PROPERTY }),
    timeoutMs,
  });
  const erp = new OdooErp({
    url: checkOutboundUrl('ODOO_URL', required(environment.ODOO_URL, 'ODOO_URL')).toString().replace(/\/$/, ''),
    db: required(environment.ODOO_DB, 'ODOO_DB'),
    username: required(environment.ODOO_USERNAME, 'ODOO_USERNAME'),
    apiKey: odooApiKey,
    timeoutMs,
  });
  cached = { fingerprint, connectors: { crm, erp } };
  return cached.connectors;
}
