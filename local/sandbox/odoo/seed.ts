/**
 * The data a fresh Odoo sandbox starts with: a few countries, EUR/USD (GBP
 * archived), a pricelist per active currency, products with the SKUs demos and
 * tests use, and a couple of companies with contacts.
 */
import type { OdooDatabase } from './database.ts';

/** The user id `authenticate` returns (Odoo's admin user is 2). */
export const SANDBOX_UID = 2;

/** SKUs (`default_code`) of the seeded, saleable products. */
export const SEEDED_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;

/** Fills an empty sandbox database through its own ORM, so seeded rows get the same defaults as created ones. */
export function seedDatabase(database: OdooDatabase): void {
  const create = (model: string, values: Record<string, unknown>[]): number[] =>
    database.execute(SANDBOX_UID, model, 'create', [values], {}) as number[];

  const [eur, usd] = create('res.currency', [
    { name: 'EUR', full_name: 'Euro', symbol: '€' },
    { name: 'USD', full_name: 'United States dollar', symbol: '$' },
    { name: 'GBP', full_name: 'Pound sterling', symbol: '£', active: false },
  ]) as [number, number, number];

  const countryIds = create('res.country', [
    { name: 'Germany', code: 'DE', phone_code: 49, currency_id: eur },
    { name: 'France', code: 'FR', phone_code: 33, currency_id: eur },
    { name: 'United States', code: 'US', phone_code: 1, currency_id: usd },
    { name: 'United Kingdom', code: 'GB', phone_code: 44 },
    { name: 'Netherlands', code: 'NL', phone_code: 31, currency_id: eur },
    { name: 'Belgium', code: 'BE', phone_code: 32, currency_id: eur },
    { name: 'Austria', code: 'AT', phone_code: 43, currency_id: eur },
    { name: 'Switzerland', code: 'CH', phone_code: 41 },
    { name: 'Spain', code: 'ES', phone_code: 34, currency_id: eur },
    { name: 'Italy', code: 'IT', phone_code: 39, currency_id: eur },
  ]);
  const [germany, , unitedStates, , netherlands, belgium] = countryIds as [number, number, number, number, number, number];

  create('product.pricelist', [
    { name: 'Public Pricelist', currency_id: eur, sequence: 1 },
    { name: 'USD Pricelist', currency_id: usd, sequence: 2 },
  ]);

  create('product.product', [
    { name: 'Widget', default_code: 'WIDGET-1', list_price: 25, type: 'consu', barcode: '4006381333931' },
    { name: 'Gadget', default_code: 'GADGET-2', list_price: 120, type: 'consu' },
    { name: 'Consulting Hour', default_code: 'SERVICE-HOUR', list_price: 95, type: 'service' },
    { name: 'USB-C Cable', default_code: 'CABLE-3', list_price: 4.5, type: 'consu' },
    { name: 'Docking Station', default_code: 'DOCK-4', list_price: 189, type: 'product' },
    { name: 'Legacy Widget', default_code: 'LEGACY-0', list_price: 10, type: 'consu', active: false },
  ]);

  const [company] = create('res.partner', [
    { name: 'Harmony Sandbox Company', is_company: true, email: 'info@harmony-sandbox.example', city: 'Berlin', zip: '10115', street: 'Invalidenstraße 1', country_id: germany },
  ]) as [number];
  create('res.partner', [
    { name: 'Mitchell Admin', parent_id: company, email: 'admin@harmony-sandbox.example' },
  ]);
  const [azure, deco] = create('res.partner', [
    {
      name: 'Azure Interior',
      is_company: true,
      vat: 'BE0477472701',
      email: 'info@azure-interior.example',
      phone: '+32 2 555 01 01',
      street: 'Rue de la Loi 16',
      city: 'Brussels',
      zip: '1000',
      country_id: belgium,
      customer_rank: 1,
    },
    {
      name: 'Deco Addict',
      is_company: true,
      vat: 'NL123456789B01',
      email: 'info@deco-addict.example',
      street: 'Keizersgracht 100',
      city: 'Amsterdam',
      zip: '1015 CX',
      country_id: netherlands,
      customer_rank: 1,
    },
  ]) as [number, number];
  create('res.partner', [
    { name: 'Brandon Freeman', parent_id: azure, email: 'brandon.freeman@azure-interior.example', phone: '+32 2 555 01 02' },
    { name: 'Addison Olson', parent_id: deco, email: 'addison.olson@deco-addict.example' },
    { name: 'Gemini Furniture', is_company: true, email: 'info@gemini-furniture.example', city: 'Fremont', zip: '94538', country_id: unitedStates },
  ]);
}
