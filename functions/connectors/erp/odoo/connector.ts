/** Odoo as a Harmony ERP connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { ErpConnectorDefinition } from '../../definition.ts';
import { OdooErp } from './index.ts';

const OdooSettings = z.object({
  /** Base URL of the Odoo server, e.g. `https://acme.odoo.com`. */
  ODOO_URL: z.string().min(1),
  ODOO_DB: z.string().min(1),
  /** Login the API key belongs to. */
  ODOO_USERNAME: z.string().min(1),
});

export const odooConnector: ErpConnectorDefinition<typeof OdooSettings> = {
  system: 'odoo',
  kind: 'erp',
  label: 'Odoo',
  settings: OdooSettings,
  secrets: {
    apiKey: { variable: 'ODOO_API_KEY', required: true, description: 'API key of the ODOO_USERNAME login' },
  },
  capabilities: {
    auth: 'API key (external API)',
    inbound: '— (statuses by JWT callback from a middleware: `POST /callbacks/{system}`)',
    read: 'sale.order, res.partner, product.product (JSON-RPC execute_kw)',
    write: 'res.partner create, sale.order create / action_confirm',
    cancel: 'sale.order action_cancel (forced past the wizard)',
    sandbox: 'local/sandbox/odoo (JSON-RPC and XML-RPC, ORM semantics)',
    testedAgainst: 'ERP contract suite on the sandbox; official-protocol XML-RPC client (odoo-xmlrpc); recorded payloads',
  },
  create(settings, secrets, runtime) {
    return new OdooErp({
      url: checkOutboundUrl('ODOO_URL', settings.ODOO_URL).toString().replace(/\/$/, ''),
      db: settings.ODOO_DB,
      username: settings.ODOO_USERNAME,
      apiKey: secrets.apiKey!,
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
