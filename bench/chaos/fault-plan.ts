/**
 * The fault rates of a chaos run, as the reliability issue states them, and which calls
 * they apply to. Rates are chances per call the hub makes (drawn call by call at the
 * fault taps), except the permanent rejections, which are a share of orders.
 */
import type { FaultMix, FaultPlan } from './fault-tap.ts';

/** Chances per call of each injected failure. */
export interface FaultRates {
  /** Per ERP call (every JSON-RPC request the hub sends to Odoo, reads included). */
  readonly erp: { readonly '500': number; readonly '429': number; readonly timeout: number };
  /** Per ERP write (`ERP_WRITES`): the ERP commits, then the connection drops before the answer. */
  readonly erpCommitThenDrop: number;
  /** Per CRM write-back (`PATCH` of a deal: the order number, or `sync_failed` from a compensation). */
  readonly crmWrite: { readonly '500': number; readonly '429': number; readonly timeout: number; readonly 'commit-then-drop': number };
}

/**
 * The rates: ERP calls fail 10 % with a 500, 5 % with a 429 (Retry-After: 1 s), 2 % by
 * never answering (the hub's 10 s connector timeout ends them); 1 % of ERP writes commit and then
 * lose their answer. The issue gives no CRM rates; CRM write-backs get the ERP's mix.
 * Permanent rejections are `unknownSkuFraction` of orders (1 %), in the run's options.
 */
export const DEFAULT_FAULT_RATES: FaultRates = {
  erp: { '500': 0.1, '429': 0.05, timeout: 0.02 },
  erpCommitThenDrop: 0.01,
  crmWrite: { '500': 0.1, '429': 0.05, timeout: 0.02, 'commit-then-drop': 0.01 },
};

/** Odoo operations that change data (what commit-then-drop applies to). */
export const ERP_WRITES: ReadonlySet<string> = new Set([
  'res.partner.create',
  'res.partner.write',
  'sale.order.create',
  'sale.order.action_confirm',
  'sale.order.action_cancel',
  'sale.order.cancel.create',
  'sale.order.cancel.action_cancel',
]);

/** The CRM operation Harmony writes back with (the sandbox's name for it). */
export const CRM_WRITE_BACK = 'PATCH /crm/v3/objects/deals';

/** Faults for the ERP tap. */
export function erpFaultPlan(rates: FaultRates): FaultPlan {
  const reads: FaultMix = { ...rates.erp };
  const writes: FaultMix = { ...rates.erp, 'commit-then-drop': rates.erpCommitThenDrop };
  return { mix: (operation) => (ERP_WRITES.has(operation) ? writes : reads) };
}

/** Faults for the CRM tap: write-backs only; reads (LoadDeal) pass. */
export function crmFaultPlan(rates: FaultRates): FaultPlan {
  const writes: FaultMix = { ...rates.crmWrite };
  return { mix: (operation) => (operation === CRM_WRITE_BACK ? writes : {}) };
}
