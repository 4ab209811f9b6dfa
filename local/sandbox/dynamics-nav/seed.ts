/**
 * The reference data a Dynamics NAV sandbox company has from the start: the items demos
 * and tests sell (the SKUs and prices the Odoo sandbox seeds), EUR as the local
 * currency with USD as a foreign currency, a few countries, and one VAT rate
 * (CRONUS' VAT25). Reference data is fixed; customers and orders live in the store.
 */

/** An item of the Item table, as the sandbox's sales lines see it. */
export interface SeedItem {
  readonly no: string;
  readonly description: string;
  /** Unit Price in local currency. */
  readonly unitPrice: number;
  readonly unitOfMeasure: string;
  readonly blocked: boolean;
}

/** SKUs (Item No.) every sandbox sells. */
export const SEEDED_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;

/** The Item table. `LEGACY-0` is blocked, as a discontinued item is. */
export const SEED_ITEMS: ReadonlyMap<string, SeedItem> = new Map(
  [
    { no: 'WIDGET-1', description: 'Widget', unitPrice: 25, unitOfMeasure: 'PCS', blocked: false },
    { no: 'GADGET-2', description: 'Gadget', unitPrice: 120, unitOfMeasure: 'PCS', blocked: false },
    { no: 'SERVICE-HOUR', description: 'Consulting Hour', unitPrice: 95, unitOfMeasure: 'HOUR', blocked: false },
    { no: 'CABLE-3', description: 'USB-C Cable', unitPrice: 4.5, unitOfMeasure: 'PCS', blocked: false },
    { no: 'DOCK-4', description: 'Docking Station', unitPrice: 189, unitOfMeasure: 'PCS', blocked: false },
    { no: 'LEGACY-0', description: 'Legacy Widget', unitPrice: 10, unitOfMeasure: 'PCS', blocked: true },
  ].map((item) => [item.no, item]),
);

/** Foreign currencies of the Currency table and units of that currency per unit of local currency. */
export const SEED_EXCHANGE_RATES: ReadonlyMap<string, number> = new Map([['USD', 1.085]]);

/** Country/Region codes the sandbox knows. */
export const SEED_COUNTRIES: ReadonlySet<string> = new Set(['DE', 'FR', 'US', 'GB', 'NL', 'BE', 'AT', 'CH', 'ES', 'IT', 'DK']);

/** VAT % of every item line (VAT Prod. Posting Group VAT25). */
export const SANDBOX_VAT_PERCENT = 25;
