/**
 * The configuration and master data a fresh SAP sandbox starts with: one sales area
 * (1710 / 10 / 00, as in SAP's US demo company), the SKUs demos and tests use as materials
 * (names and prices as in the Odoo sandbox), EUR and USD, the reasons for rejection and
 * delivery blocks SD accepts, and two business partners — a customer, and a supplier
 * without the customer role. Configuration lives in code; master data in the store.
 */
import { keyOf, mustEntitySet } from './entity-model.ts';
import type { SapStore } from './store.ts';

/** The sales area the sandbox sells in. */
export const SALES_AREA = { salesOrganization: '1710', distributionChannel: '10', division: '00' } as const;

/** Sales document types the sandbox accepts. */
export const SALES_ORDER_TYPES = new Set(['OR']);

/** Currencies the sandbox knows. */
export const CURRENCIES = new Set(['EUR', 'USD']);

/** Price condition types of the pricing procedure (`PR00` on premise, `PPR0` in S/4HANA Cloud). */
export const PRICE_CONDITION_TYPES = new Set(['PR00', 'PPR0']);

/** Output tax (`MWST`) the sandbox charges on every item, in percent. */
export const SANDBOX_VAT_PERCENT = 19;

/** Reasons for rejection (table TVAG in SD customizing); the sandbox's own choice of codes. */
export const REJECTION_REASONS = new Map([
  ['00', 'Assigned by the System (Internal)'],
  ['01', 'Delivery date too late'],
  ['02', 'Poor quality'],
  ['03', 'Too expensive'],
  ['04', 'Competitor better'],
  ['10', 'Unreasonable request'],
  ['Z1', 'Deal lost in CRM'],
]);

/** Delivery blocks (table TVLS); `Z1` is the one the local hub's Harmony sets until it confirms. */
export const DELIVERY_BLOCKS = new Map([
  ['01', 'Credit limit'],
  ['02', 'Export papers missing'],
  ['Z1', 'Awaiting confirmation (Harmony)'],
]);

/** A material the sandbox sells. */
export interface SandboxMaterial {
  readonly name: string;
  /** Price per unit in EUR (the price list in USD is 1.1 times it). */
  readonly price: number;
  /** Services are billed with the order (order-related billing) and not delivered. */
  readonly service: boolean;
}

/** Materials by number (SKU), sold in the sandbox's sales area. */
export const MATERIALS: ReadonlyMap<string, SandboxMaterial> = new Map([
  ['WIDGET-1', { name: 'Widget', price: 25, service: false }],
  ['GADGET-2', { name: 'Gadget', price: 120, service: false }],
  ['SERVICE-HOUR', { name: 'Consulting Hour', price: 95, service: true }],
  ['CABLE-3', { name: 'USB-C Cable', price: 4.5, service: false }],
  ['DOCK-4', { name: 'Docking Station', price: 189, service: false }],
]);

/** SKUs of the seeded, saleable materials. */
export const SEEDED_SKUS = [...MATERIALS.keys()];

/** The list price of a material in a currency. */
export function listPrice(material: SandboxMaterial, currency: string): number {
  return currency === 'USD' ? Math.round(material.price * 110) / 100 : material.price;
}

/** The seeded customer, with its VAT number and email, for demos. */
export const SEEDED_CUSTOMER = { businessPartner: '10100001', name: 'Harmony Sandbox Kunde GmbH', vatNumber: 'DE811907980', email: 'einkauf@sandbox-kunde.example' } as const;
/** A business partner that is a supplier only: matching it must not make it a sold-to party. */
export const SEEDED_SUPPLIER = { businessPartner: '10300001', name: 'Lieferant ohne Kundenrolle AG', vatNumber: 'DE999999999' } as const;

/** Fills an empty store with the two business partners. */
export function seedStore(store: SapStore): void {
  const put = (set: string, row: Record<string, string | number | boolean | null>) => store.put(set, keyOf(mustEntitySet(set), row), row);
  const created = Date.UTC(2024, 0, 2);
  store.transaction(() => {
    const customer = SEEDED_CUSTOMER;
    put('A_BusinessPartner', {
      BusinessPartner: customer.businessPartner,
      Customer: customer.businessPartner,
      BusinessPartnerCategory: '2',
      BusinessPartnerFullName: customer.name,
      BusinessPartnerName: customer.name,
      OrganizationBPName1: customer.name,
      SearchTerm1: 'SANDBOX KUNDE',
      BusinessPartnerIDByExtSystem: '',
      CreationDate: created,
    });
    put('A_BusinessPartnerRole', { BusinessPartner: customer.businessPartner, BusinessPartnerRole: 'FLCU01', ValidFrom: created, ValidTo: Date.UTC(9999, 11, 31) });
    put('A_BusinessPartnerAddress', { BusinessPartner: customer.businessPartner, AddressID: '30001', Country: 'DE', CityName: 'Berlin', PostalCode: '10115', StreetName: 'Invalidenstraße 1' });
    put('A_AddressEmailAddress', { AddressID: '30001', Person: '', OrdinalNumber: '1', IsDefaultEmailAddress: true, EmailAddress: customer.email, SearchEmailAddress: customer.email.toUpperCase().slice(0, 20) });
    put('A_BusinessPartnerTaxNumber', { BusinessPartner: customer.businessPartner, BPTaxType: 'DE0', BPTaxNumber: customer.vatNumber });
    put('A_Customer', { Customer: customer.businessPartner, CustomerName: customer.name, CustomerFullName: customer.name.toUpperCase(), DeletionIndicator: false, OrderIsBlockedForCustomer: '' });
    put('A_CustomerSalesArea', { Customer: customer.businessPartner, ...salesAreaKey(), Currency: 'EUR', CustomerPaymentTerms: '0001', OrderIsBlockedForCustomer: '' });

    const supplier = SEEDED_SUPPLIER;
    put('A_BusinessPartner', {
      BusinessPartner: supplier.businessPartner,
      Customer: '',
      BusinessPartnerCategory: '2',
      BusinessPartnerFullName: supplier.name,
      BusinessPartnerName: supplier.name,
      OrganizationBPName1: supplier.name,
      SearchTerm1: 'LIEFERANT',
      BusinessPartnerIDByExtSystem: '',
      CreationDate: created,
    });
    put('A_BusinessPartnerRole', { BusinessPartner: supplier.businessPartner, BusinessPartnerRole: 'FLVN01', ValidFrom: created, ValidTo: Date.UTC(9999, 11, 31) });
    put('A_BusinessPartnerTaxNumber', { BusinessPartner: supplier.businessPartner, BPTaxType: 'DE0', BPTaxNumber: supplier.vatNumber });
  });
}

function salesAreaKey() {
  return { SalesOrganization: SALES_AREA.salesOrganization, DistributionChannel: SALES_AREA.distributionChannel, Division: SALES_AREA.division };
}
