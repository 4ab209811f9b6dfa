/**
 * Mapping rules the seeded sandbox does not exercise: association quirks, country
 * names, write-back properties.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../functions/core/errors.ts';
import { parseDealResponse, toDeal, toDealProperties } from '../../functions/connectors/crm/hubspot/mapping.ts';
import { countryCode } from '../../functions/core/country-code.ts';

const DEAL_PROPERTIES = { dealname: 'Deal', dealstage: 'closedwon', amount: null, deal_currency_code: null, closedate: null };

describe('parseDealResponse', () => {
  it('puts the primary company first even when HubSpot lists it second', () => {
    // act
    const deal = parseDealResponse({
      id: '1',
      properties: DEAL_PROPERTIES,
      associations: {
        companies: {
          results: [
            { id: '20', type: 'deal_to_company_unlabeled' },
            { id: '10', type: 'deal_to_company_unlabeled' },
            { id: '10', type: 'deal_to_company' },
          ],
        },
      },
    });

    // assess
    expect(deal.companyIds).toStrictEqual(['10', '20']);
  });

  it('accepts line items under `line_items` as well as HubSpot\'s `line items`', () => {
    const deal = parseDealResponse({
      id: '1',
      properties: DEAL_PROPERTIES,
      associations: { line_items: { results: [{ id: '7', type: 'deal_to_line_item' }] } },
    });
    expect(deal.lineItemIds).toStrictEqual(['7']);
  });

  it('refuses a deal whose line items HubSpot pages, rather than dropping lines', () => {
    const parse = (): unknown =>
      parseDealResponse({
        id: '1',
        properties: DEAL_PROPERTIES,
        associations: { 'line items': { results: [{ id: '7', type: 'deal_to_line_item' }], paging: { next: { after: '7' } } } },
      });
    expect(parse).toThrow(PermanentError);
  });

  it('names the path of a non-numeric association id', () => {
    const parse = (): unknown =>
      parseDealResponse({ id: '1', properties: DEAL_PROPERTIES, associations: { contacts: { results: [{ id: 'abc', type: 'x' }] } } });
    expect(parse).toThrow('deal.associations.contacts.results[0].id');
  });
});

describe('toDeal', () => {
  it('sums the lines when the deal has no amount and takes the default currency when it has none', () => {
    // act
    const deal = toDeal({
      deal: { id: '1', properties: DEAL_PROPERTIES, companyIds: [], contactIds: ['3'], lineItemIds: ['7'] },
      contact: { id: '3', properties: { email: 'buyer@example.com' } },
      lineItems: [{ id: '7', properties: { name: 'Widget', hs_sku: 'W', quantity: '3', price: '10.10', hs_discount_percentage: '10' } }],
      defaultCurrency: 'chf',
    });

    // assess
    expect(deal.amount).toBe(27.27);
    expect(deal.currency).toBe('CHF');
    expect(deal.customer).toStrictEqual({ externalId: 'hubspot:contact:3', kind: 'person', name: 'buyer@example.com', email: 'buyer@example.com' });
  });

  it('refuses a deal without currency when no default is configured', () => {
    const build = (): unknown =>
      toDeal({
        deal: { id: '1', properties: DEAL_PROPERTIES, companyIds: [], contactIds: ['3'], lineItemIds: [] },
        contact: { id: '3', properties: { email: 'buyer@example.com' } },
        lineItems: [],
      });
    expect(build).toThrow('deal.properties.deal_currency_code');
  });
});

describe('countryCode', () => {
  it('maps codes and English names, and leaves unknown text out', () => {
    expect(countryCode('de')).toBe('DE');
    expect(countryCode('UK')).toBe('GB');
    expect(countryCode(' United Kingdom ')).toBe('GB');
    expect(countryCode('Atlantis')).toBeUndefined();
  });
});

describe('toDealProperties', () => {
  it('always writes status and error, and the order reference only when known', () => {
    expect(toDealProperties({ erpStatus: 'sync_failed', syncError: 'credit limit' })).toStrictEqual({
      erp_status: 'sync_failed',
      erp_sync_error: 'credit limit',
    });
    expect(toDealProperties({ erpStatus: 'confirmed', erpOrderRef: 'S1' })).toStrictEqual({
      erp_status: 'confirmed',
      erp_sync_error: '',
      erp_order_ref: 'S1',
    });
  });
});
