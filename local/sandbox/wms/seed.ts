/**
 * What a fresh ShipBob sandbox warehouse holds: the SKUs demos and tests use (names as in
 * the Odoo sandbox), with stock on hand. `SERVICE-HOUR` is a digital item (no stock, never
 * held for stock), as a consulting hour would be in ShipBob.
 */
import type { WarehouseStore } from './store.ts';

/** SKUs of the seeded inventory items. */
export const SEEDED_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;

/** Fills an empty store. */
export function seedWarehouse(store: WarehouseStore): void {
  const items = [
    { id: 20_000_001, sku: 'WIDGET-1', name: 'Widget', onHand: 500, digital: false },
    { id: 20_000_002, sku: 'GADGET-2', name: 'Gadget', onHand: 200, digital: false },
    { id: 20_000_003, sku: 'SERVICE-HOUR', name: 'Consulting Hour', onHand: 0, digital: true },
    { id: 20_000_004, sku: 'CABLE-3', name: 'USB-C Cable', onHand: 1000, digital: false },
    { id: 20_000_005, sku: 'DOCK-4', name: 'Docking Station', onHand: 15, digital: false },
  ];
  store.transaction(() => {
    for (const item of items) store.putInventory({ ...item, committed: 0, quarantined: 0 });
  });
}
