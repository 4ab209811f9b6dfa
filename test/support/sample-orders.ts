/**
 * The party and sales order draft the ERP adapter tests send, unique per call so cases
 * sharing a sandbox never see each other's records: a German company buying four widgets
 * and two discounted service hours of the seeded catalogue.
 */
import type { Party } from '../../functions/connectors/crm/port.ts';
import type { SalesOrderDraft } from '../../functions/connectors/erp/port.ts';
import { uniqueRef } from '../contracts/erp-port-contract.ts';

/** A company party with a unique CRM id; `overrides` win. */
export function sampleParty(overrides: Partial<Party> = {}): Party {
  return { externalId: uniqueRef('hubspot:company'), kind: 'company', name: 'Nordwind Handels GmbH', ...overrides };
}

/** A two-line EUR draft (WIDGET-1 ×4 at 22.50, SERVICE-HOUR ×2 at 90 less 10 %) for `customerId` with a unique reference; `overrides` win. */
export function sampleDraft(customerId: string, overrides: Partial<SalesOrderDraft> = {}): SalesOrderDraft {
  return {
    externalRef: uniqueRef('hubspot:deal'),
    customerId,
    currency: 'EUR',
    lines: [
      { sku: 'WIDGET-1', name: 'Widget', quantity: 4, unitPrice: 22.5 },
      { sku: 'SERVICE-HOUR', name: 'Onboarding', quantity: 2, unitPrice: 90, discountPercent: 10 },
    ],
    ...overrides,
  };
}
