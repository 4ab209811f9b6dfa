/**
 * The legacy ERP's item master and currencies on first start: the SKUs every sandbox
 * sells, with the Odoo sandbox's names and list prices, and EUR and USD.
 */

/** Items the sandbox ERP sells. */
export const SEEDED_ITEMS: readonly { readonly sku: string; readonly name: string; readonly unitPrice: number }[] = [
  { sku: 'WIDGET-1', name: 'Widget', unitPrice: 25 },
  { sku: 'GADGET-2', name: 'Gadget', unitPrice: 120 },
  { sku: 'SERVICE-HOUR', name: 'Consulting Hour', unitPrice: 95 },
  { sku: 'CABLE-3', name: 'USB-C Cable', unitPrice: 4.5 },
  { sku: 'DOCK-4', name: 'Docking Station', unitPrice: 189 },
];

/** Currencies the sandbox ERP books orders in; EUR is its home currency. */
export const SEEDED_CURRENCIES: readonly string[] = ['EUR', 'USD'];

/** VAT the sandbox ERP adds to every order's net total. */
export const SANDBOX_VAT_RATE = 0.19;
