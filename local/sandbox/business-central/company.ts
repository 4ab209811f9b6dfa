/** What every write handler of the sandbox needs: the store, the company's settings, the clock. */
import type { BusinessCentralStore } from './store.ts';

/** One sandbox company. */
export interface Company {
  readonly store: BusinessCentralStore;
  /** The local currency (LCY): stored blank on documents, shown as its code. */
  readonly localCurrency: string;
}

/** The next row version (BC's rowversion: one counter for every write in the database). */
export function nextRowVersion(company: Pick<Company, 'store'>): number {
  return company.store.next('rowversion', 1000);
}

/** Today as BC writes dates (`2024-05-31`). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
