/**
 * Which connectors Harmony has, and how a function loads the one its deployment chose.
 *
 * Loading is lazy and guarded so a Lambda bundle carries only the deployment's own CRM
 * and ERP: the CDK bundling defines `process.env.HARMONY_BUNDLED_CRM` and
 * `process.env.HARMONY_BUNDLED_ERP` as string literals, each guard below then folds to a
 * constant, and esbuild drops the other vendors' imports (jsforce, exceljs, ssh2…).
 * Unbundled (tests, the local hub) the guards are open and each import runs on first use.
 */
import type { CrmConnectorDefinition, ErpConnectorDefinition } from './definition.ts';

/** CRMs Harmony has a connector for. */
export const CRM_SYSTEMS = ['hubspot', 'salesforce', 'pipedrive'] as const;
export type CrmSystem = (typeof CRM_SYSTEMS)[number];

/** ERPs Harmony has a connector for. */
export const ERP_SYSTEMS = ['odoo', 'netsuite', 'sap', 'business-central', 'dynamics-nav', 'file-drop'] as const;
export type ErpSystem = (typeof ERP_SYSTEMS)[number];

/** Loads the declaration of a CRM connector; throws naming the known ones for any other name. */
export async function loadCrmConnector(system: string): Promise<CrmConnectorDefinition> {
  // Each guard names the define itself: esbuild folds `"odoo" === "hubspot"` only when the literal is inline.
  if (system === 'hubspot' && (process.env.HARMONY_BUNDLED_CRM === undefined || process.env.HARMONY_BUNDLED_CRM === 'hubspot')) {
    return (await import('./crm/hubspot/connector.ts')).hubspotConnector;
  }
  if (system === 'salesforce' && (process.env.HARMONY_BUNDLED_CRM === undefined || process.env.HARMONY_BUNDLED_CRM === 'salesforce')) {
    return (await import('./crm/salesforce/connector.ts')).salesforceConnector;
  }
  if (system === 'pipedrive' && (process.env.HARMONY_BUNDLED_CRM === undefined || process.env.HARMONY_BUNDLED_CRM === 'pipedrive')) {
    return (await import('./crm/pipedrive/connector.ts')).pipedriveConnector;
  }
  throw new Error(`Invalid configuration — CRM_SYSTEM: no CRM connector "${system}" in this build (known: ${CRM_SYSTEMS.join(', ')})`);
}

/** Loads the declaration of an ERP connector; throws naming the known ones for any other name. */
export async function loadErpConnector(system: string): Promise<ErpConnectorDefinition> {
  if (system === 'odoo' && (process.env.HARMONY_BUNDLED_ERP === undefined || process.env.HARMONY_BUNDLED_ERP === 'odoo')) {
    return (await import('./erp/odoo/connector.ts')).odooConnector;
  }
  if (system === 'netsuite' && (process.env.HARMONY_BUNDLED_ERP === undefined || process.env.HARMONY_BUNDLED_ERP === 'netsuite')) {
    return (await import('./erp/netsuite/connector.ts')).netsuiteConnector;
  }
  if (system === 'sap' && (process.env.HARMONY_BUNDLED_ERP === undefined || process.env.HARMONY_BUNDLED_ERP === 'sap')) {
    return (await import('./erp/sap/connector.ts')).sapConnector;
  }
  if (system === 'business-central' && (process.env.HARMONY_BUNDLED_ERP === undefined || process.env.HARMONY_BUNDLED_ERP === 'business-central')) {
    return (await import('./erp/business-central/connector.ts')).businessCentralConnector;
  }
  if (system === 'dynamics-nav' && (process.env.HARMONY_BUNDLED_ERP === undefined || process.env.HARMONY_BUNDLED_ERP === 'dynamics-nav')) {
    return (await import('./erp/dynamics-nav/connector.ts')).dynamicsNavConnector;
  }
  if (system === 'file-drop' && (process.env.HARMONY_BUNDLED_ERP === undefined || process.env.HARMONY_BUNDLED_ERP === 'file-drop')) {
    return (await import('./erp/file-drop/connector.ts')).fileDropConnector;
  }
  throw new Error(`Invalid configuration — ERP_SYSTEM: no ERP connector "${system}" in this build (known: ${ERP_SYSTEMS.join(', ')})`);
}
