/**
 * The data a fresh NetSuite sandbox account starts with: one subsidiary, USD and EUR (GBP
 * inactive), the items demos and tests sell (the same SKUs, names and prices as the Odoo
 * sandbox, plus an inactive one), and two customers with VAT numbers.
 */
import type { NetsuiteStore } from './store.ts';

/** SKUs (`itemId`) of the seeded, active items. */
export const SEEDED_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;

/** The one subsidiary; new customers and orders may name it. */
export const SANDBOX_SUBSIDIARY_ID = 1;

/** Internal id of the first record the API creates (every type shares one sequence, as ids never collide in the tests). */
export const FIRST_CREATED_ID = 1001;

/** Fills an empty store. */
export function seedAccount(store: NetsuiteStore): void {
  store.put('subsidiary', { id: SANDBOX_SUBSIDIARY_ID, name: 'Harmony Sandbox Inc.', isInactive: false });
  store.put('currency', { id: 1, name: 'US Dollar', symbol: 'USD', displaySymbol: '$', isInactive: false });
  store.put('currency', { id: 2, name: 'Euro', symbol: 'EUR', displaySymbol: '€', isInactive: false });
  store.put('currency', { id: 3, name: 'British pound', symbol: 'GBP', displaySymbol: '£', isInactive: true });
  const items = [
    { id: 10, itemId: 'WIDGET-1', displayName: 'Widget', basePrice: 25, itemType: 'InvtPart' },
    { id: 11, itemId: 'GADGET-2', displayName: 'Gadget', basePrice: 120, itemType: 'InvtPart' },
    { id: 12, itemId: 'SERVICE-HOUR', displayName: 'Consulting Hour', basePrice: 95, itemType: 'Service' },
    { id: 13, itemId: 'CABLE-3', displayName: 'USB-C Cable', basePrice: 4.5, itemType: 'InvtPart' },
    { id: 14, itemId: 'DOCK-4', displayName: 'Docking Station', basePrice: 189, itemType: 'InvtPart' },
  ];
  for (const item of items) store.put('item', { ...item, isInactive: false });
  store.put('item', { id: 15, itemId: 'LEGACY-0', displayName: 'Legacy Widget', basePrice: 10, itemType: 'InvtPart', isInactive: true });
  const created = '2024-01-02T09:00:00Z';
  store.put('customer', {
    id: 20,
    entityId: 'CUST20',
    isPerson: false,
    companyName: 'Azure Interior',
    email: 'info@azure-interior.example',
    vatRegNumber: 'BE0477472701',
    subsidiary: SANDBOX_SUBSIDIARY_ID,
    isInactive: false,
    addressBook: [{ addr1: 'Rue de la Loi 16', city: 'Brussels', zip: '1000', country: 'BE', defaultBilling: true, defaultShipping: true }],
    dateCreated: created,
  });
  store.put('customer', {
    id: 21,
    entityId: 'CUST21',
    isPerson: false,
    companyName: 'Deco Addict',
    email: 'info@deco-addict.example',
    vatRegNumber: 'NL123456789B01',
    subsidiary: SANDBOX_SUBSIDIARY_ID,
    isInactive: false,
    addressBook: [],
    dateCreated: created,
  });
}
