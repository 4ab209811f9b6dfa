/**
 * What a fresh Business Central sandbox company holds: the items demos and tests sell
 * (the SKUs and prices of the Odoo sandbox), EUR and USD, and two customers.
 */
import { randomUUID } from 'node:crypto';
import { nextRowVersion } from './company.ts';
import type { StoredCurrency, StoredCustomer, StoredItem } from './entities.ts';
import type { BusinessCentralStore } from './store.ts';

/** Item numbers (SKUs) of the seeded items. */
export const SEEDED_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;

/** VAT % of every seeded item (one VAT posting setup: domestic, standard rate). */
export const SANDBOX_VAT_PERCENT = 19;

/** Fills an empty store. */
export function seedCompany(store: BusinessCentralStore): void {
  const now = new Date().toISOString();
  const version = () => nextRowVersion({ store });
  store.transaction(() => {
    const items: Omit<StoredItem, 'id' | 'rowVersion' | 'lastModifiedDateTime'>[] = [
      { number: 'WIDGET-1', displayName: 'Widget', type: 'Inventory', blocked: false, gtin: '4006381333931', inventory: 120, unitPrice: 25, unitCost: 12.5, taxGroupCode: 'VAT19', baseUnitOfMeasureCode: 'PCS', vatPercent: SANDBOX_VAT_PERCENT },
      { number: 'GADGET-2', displayName: 'Gadget', type: 'Inventory', blocked: false, gtin: '', inventory: 40, unitPrice: 120, unitCost: 70, taxGroupCode: 'VAT19', baseUnitOfMeasureCode: 'PCS', vatPercent: SANDBOX_VAT_PERCENT },
      { number: 'SERVICE-HOUR', displayName: 'Consulting Hour', type: 'Service', blocked: false, gtin: '', inventory: 0, unitPrice: 95, unitCost: 0, taxGroupCode: 'VAT19', baseUnitOfMeasureCode: 'HOUR', vatPercent: SANDBOX_VAT_PERCENT },
      { number: 'CABLE-3', displayName: 'USB-C Cable', type: 'Inventory', blocked: false, gtin: '', inventory: 500, unitPrice: 4.5, unitCost: 1.2, taxGroupCode: 'VAT19', baseUnitOfMeasureCode: 'PCS', vatPercent: SANDBOX_VAT_PERCENT },
      { number: 'DOCK-4', displayName: 'Docking Station', type: 'Inventory', blocked: false, gtin: '', inventory: 15, unitPrice: 189, unitCost: 110, taxGroupCode: 'VAT19', baseUnitOfMeasureCode: 'PCS', vatPercent: SANDBOX_VAT_PERCENT },
      { number: 'LEGACY-0', displayName: 'Legacy Widget', type: 'Inventory', blocked: true, gtin: '', inventory: 0, unitPrice: 10, unitCost: 5, taxGroupCode: 'VAT19', baseUnitOfMeasureCode: 'PCS', vatPercent: SANDBOX_VAT_PERCENT },
    ];
    for (const item of items) {
      const id = randomUUID();
      store.put('items', id, { id, ...item, rowVersion: version(), lastModifiedDateTime: now } satisfies StoredItem);
    }
    const currencies: Omit<StoredCurrency, 'id' | 'rowVersion' | 'lastModifiedDateTime'>[] = [
      { code: 'EUR', displayName: 'Euro', symbol: '€' },
      { code: 'USD', displayName: 'US dollar', symbol: '$' },
    ];
    for (const currency of currencies) {
      const id = randomUUID();
      store.put('currencies', id, { id, ...currency, rowVersion: version(), lastModifiedDateTime: now } satisfies StoredCurrency);
    }
    const blank = { addressLine2: '', state: '', website: '', taxLiable: true, currencyCode: '', blocked: ' ' as const };
    const customers: Omit<StoredCustomer, 'id' | 'rowVersion' | 'lastModifiedDateTime'>[] = [
      { ...blank, number: '10000', displayName: 'Adatum Corporation', type: 'Company', addressLine1: 'Station Road, 21', city: 'Cambridge', country: 'GB', postalCode: 'CB1 2FB', phoneNumber: '', email: 'robert.townes@contoso.com', taxRegistrationNumber: 'GB789456278' },
      { ...blank, number: '20000', displayName: 'Trey Research', type: 'Company', addressLine1: 'Hafenstraße 7', city: 'Hamburg', country: 'DE', postalCode: '20457', phoneNumber: '+49 40 555 0101', email: 'info@trey-research.example', taxRegistrationNumber: 'DE813519911' },
    ];
    for (const customer of customers) {
      const id = randomUUID();
      store.put('customers', id, { id, ...customer, rowVersion: version(), lastModifiedDateTime: now } satisfies StoredCustomer);
    }
  });
}
