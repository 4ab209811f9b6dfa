/**
 * Every connector declaration, loaded eagerly: for the CDK app (which validates a
 * deployment's settings at synth and creates its secrets), the local hub and the README's
 * connector matrix. Lambda handlers never import this file; they load one connector
 * each through `catalog.ts`.
 */
import { CRM_SYSTEMS, ERP_SYSTEMS, type CrmSystem, type ErpSystem } from './catalog.ts';
import { hubspotConnector } from './crm/hubspot/connector.ts';
import { pipedriveConnector } from './crm/pipedrive/connector.ts';
import { salesforceConnector } from './crm/salesforce/connector.ts';
import type { CrmConnectorDefinition, ErpConnectorDefinition } from './definition.ts';
import { businessCentralConnector } from './erp/business-central/connector.ts';
import { dynamicsNavConnector } from './erp/dynamics-nav/connector.ts';
import { fileDropConnector } from './erp/file-drop/connector.ts';
import { netsuiteConnector } from './erp/netsuite/connector.ts';
import { odooConnector } from './erp/odoo/connector.ts';
import { sapConnector } from './erp/sap/connector.ts';

/** CRM connectors by system. */
export const CRM_CONNECTORS: ReadonlyMap<CrmSystem, CrmConnectorDefinition> = new Map<CrmSystem, CrmConnectorDefinition>([
  ['hubspot', hubspotConnector],
  ['salesforce', salesforceConnector],
  ['pipedrive', pipedriveConnector],
]);

/** ERP connectors by system. */
export const ERP_CONNECTORS: ReadonlyMap<ErpSystem, ErpConnectorDefinition> = new Map<ErpSystem, ErpConnectorDefinition>([
  ['odoo', odooConnector],
  ['netsuite', netsuiteConnector],
  ['sap', sapConnector],
  ['business-central', businessCentralConnector],
  ['dynamics-nav', dynamicsNavConnector],
  ['file-drop', fileDropConnector],
]);

for (const system of CRM_SYSTEMS) if (!CRM_CONNECTORS.has(system)) throw new Error(`all-connectors: CRM ${system} is in the catalog but not here`);
for (const system of ERP_SYSTEMS) if (!ERP_CONNECTORS.has(system)) throw new Error(`all-connectors: ERP ${system} is in the catalog but not here`);
