/**
 * The sandboxes of the connectors besides HubSpot and Odoo (which the hub starts itself,
 * with their long-standing settings), by system. `npm start` runs the one the chosen
 * CRM or ERP needs.
 */
import type { SandboxDefinition } from './definition.ts';
import { businessCentralSandbox } from './business-central/sandbox.ts';
import { dynamicsNavSandbox } from './dynamics-nav/sandbox.ts';
import { fileDropSandbox } from './file-drop/sandbox.ts';
import { netsuiteSandbox } from './netsuite/sandbox.ts';
import { pipedriveSandbox } from './pipedrive/sandbox.ts';
import { salesforceSandbox } from './salesforce/sandbox.ts';
import { sapSandbox } from './sap/sandbox.ts';

/** Sandboxes by connector system. */
export const SANDBOXES: ReadonlyMap<string, SandboxDefinition> = new Map<string, SandboxDefinition>([
  ['salesforce', salesforceSandbox],
  ['pipedrive', pipedriveSandbox],
  ['netsuite', netsuiteSandbox],
  ['sap', sapSandbox],
  ['business-central', businessCentralSandbox],
  ['dynamics-nav', dynamicsNavSandbox],
  ['file-drop', fileDropSandbox],
]);
