/**
 * What a fresh Salesforce sandbox org holds: the integration user, the standard price book,
 * the products demos and tests use (Product Code = the SKUs the Odoo sandbox sells, same
 * names and list prices) with a standard price in every active currency, and two business
 * accounts with a contact each. Written through the org's own record rules, so seeded
 * records look like created ones.
 */
import { createRecord, sobjectDefinition, type Org } from './records.ts';
import { salesforceDateTime } from './field-values.ts';

/** SKUs of the seeded products. */
export const SEEDED_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;

/** Products by SKU: name and list price in EUR, as the Odoo sandbox seeds them. */
const PRODUCTS: readonly { readonly code: (typeof SEEDED_SKUS)[number]; readonly name: string; readonly family: string; readonly eur: number; readonly usd: number }[] = [
  { code: 'WIDGET-1', name: 'Widget', family: 'Hardware', eur: 25, usd: 27 },
  { code: 'GADGET-2', name: 'Gadget', family: 'Hardware', eur: 120, usd: 130 },
  { code: 'SERVICE-HOUR', name: 'Consulting Hour', family: 'Services', eur: 95, usd: 105 },
  { code: 'CABLE-3', name: 'USB-C Cable', family: 'Accessories', eur: 4.5, usd: 4.9 },
  { code: 'DOCK-4', name: 'Docking Station', family: 'Hardware', eur: 189, usd: 205 },
];

/** The seeded ids a sandbox start needs back. */
export interface SeededOrg {
  readonly userId: string;
  readonly standardPricebookId: string;
}

/**
 * Seeds an empty org. The user and the standard price book are stored directly (the API
 * cannot create either); everything else goes through createRecord.
 * @param org the org, with `standardPricebookId` not yet known (it is returned)
 */
export function seedOrg(org: Omit<Org, 'standardPricebookId'>, username: string): SeededOrg {
  const now = salesforceDateTime(org.now());
  const userId = org.store.allocateId('005');
  const audit = { IsDeleted: false, CreatedDate: now, CreatedById: userId, LastModifiedDate: now, LastModifiedById: userId, SystemModstamp: now };
  org.store.put('User', { Id: userId, ...audit, Username: username, Name: 'Harmony Integration', Email: username });
  const standardPricebookId = org.store.allocateId('01s');
  org.store.put('Pricebook2', { Id: standardPricebookId, ...audit, Name: 'Standard Price Book', IsActive: true, IsStandard: true });

  const full: Org = { ...org, standardPricebookId };
  const create = (object: string, body: Record<string, unknown>): string => createRecord(full, sobjectDefinition(full, object), body, userId).record.Id;
  for (const product of PRODUCTS) {
    const productId = create('Product2', { Name: product.name, ProductCode: product.code, Family: product.family, IsActive: true });
    const prices = org.features.multiCurrency ? org.features.currencies.map((code) => [code, code === 'USD' ? product.usd : product.eur] as const) : [[org.corporateCurrency, product.eur] as const];
    for (const [code, price] of prices) {
      create('PricebookEntry', {
        Pricebook2Id: standardPricebookId,
        Product2Id: productId,
        UnitPrice: price,
        IsActive: true,
        ...(org.features.multiCurrency ? { CurrencyIsoCode: code } : {}),
      });
    }
  }
  const azure = create('Account', {
    Name: 'Azure Interior',
    Phone: '+32 2 555 01 01',
    BillingStreet: 'Rue de la Loi 16',
    BillingCity: 'Brussels',
    BillingPostalCode: '1000',
    BillingCountry: 'Belgium',
    BillingCountryCode: 'BE',
    VAT_Number__c: 'BE0477472701',
  });
  create('Contact', { AccountId: azure, FirstName: 'Brandon', LastName: 'Freeman', Email: 'brandon.freeman@azure-interior.example', Phone: '+32 2 555 01 02' });
  const deco = create('Account', {
    Name: 'Deco Addict',
    BillingStreet: 'Keizersgracht 100',
    BillingCity: 'Amsterdam',
    BillingPostalCode: '1015 CX',
    BillingCountry: 'Netherlands',
    BillingCountryCode: 'NL',
    VAT_Number__c: 'NL123456789B01',
  });
  create('Contact', { AccountId: deco, FirstName: 'Douglas', LastName: 'Fletcher', Email: 'douglas.fletcher@deco-addict.example' });
  return { userId, standardPricebookId };
}
