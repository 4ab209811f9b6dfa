/**
 * API_BUSINESS_PARTNER's deep insert in the sandbox: a business partner with its roles,
 * addresses (emails, phone numbers), tax numbers and, for the customer roles, the
 * customer with its sales areas — one number for partner and customer, as in an S/4HANA
 * with harmonized number ranges. What SAP checks is checked: category and names, role
 * codes, address country, tax number categories, sales areas and currencies.
 */
import { keyOf, mustEntitySet } from './entity-model.ts';
import { PayloadError, readEntity } from './payload.ts';
import { CURRENCIES, SALES_AREA } from './seed.ts';
import type { Row, SapStore } from './store.ts';

const BUSINESS = '/IWBEP/CX_MGW_BUSI_EXCEPTION';
/** Roles the sandbox knows: customer (FI, sales), supplier (FI, purchasing), general. */
const ROLES = new Set(['FLCU00', 'FLCU01', 'FLVN00', 'FLVN01', '000000']);
const CUSTOMER_ROLES = new Set(['FLCU00', 'FLCU01']);
const END_OF_TIME = Date.UTC(9999, 11, 31);

/** First number of the sandbox's business partner number range. */
const FIRST_PARTNER = 10100100;
const FIRST_ADDRESS = 30100;

/** Creates the partner the body describes; returns its number. Runs inside the caller's transaction. */
export function createBusinessPartner(store: SapStore, body: unknown, now: number): string {
  const partner = readEntity(mustEntitySet('A_BusinessPartner'), body);
  const values = partner.values;
  const category = values.BusinessPartnerCategory;
  if (category !== '1' && category !== '2') throw new PayloadError(BUSINESS, 'Business partner category must be 1 (person) or 2 (organization)');
  const fullName = category === '2'
    ? [values.OrganizationBPName1, values.OrganizationBPName2, values.OrganizationBPName3, values.OrganizationBPName4].filter((part) => typeof part === 'string' && part !== '').join(' ')
    : [values.FirstName, values.LastName].filter((part) => typeof part === 'string' && part !== '').join(' ');
  if (category === '2' && (values.OrganizationBPName1 ?? '') === '') throw new PayloadError(BUSINESS, 'Enter Name 1 for an organization');
  if (category === '1' && (values.LastName ?? '') === '') throw new PayloadError(BUSINESS, 'Enter a last name for a person');

  const roles = (partner.children.to_BusinessPartnerRole ?? []).map((body) => readEntity(mustEntitySet('A_BusinessPartnerRole'), body).values);
  for (const role of roles) {
    if (!ROLES.has(String(role.BusinessPartnerRole ?? ''))) throw new PayloadError(BUSINESS, `Role ${String(role.BusinessPartnerRole)} does not exist`);
  }
  const isCustomer = roles.some((role) => CUSTOMER_ROLES.has(String(role.BusinessPartnerRole)));
  if (partner.children.to_Customer !== undefined && !isCustomer) throw new PayloadError(BUSINESS, 'Customer data needs a customer role (FLCU00 or FLCU01)');

  const number = String(store.next('business-partner', FIRST_PARTNER));
  const bp = mustEntitySet('A_BusinessPartner');
  const row: Row = {
    BusinessPartnerIDByExtSystem: '',
    SearchTerm1: fullName.toUpperCase().slice(0, 20),
    SearchTerm2: '',
    ...values,
    BusinessPartner: number,
    Customer: isCustomer ? number : '',
    BusinessPartnerFullName: fullName,
    BusinessPartnerName: fullName,
    CreationDate: Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate()),
  };
  store.put('A_BusinessPartner', keyOf(bp, row), row);
  for (const role of roles) {
    const roleRow: Row = { ValidFrom: now, ValidTo: END_OF_TIME, ...role, BusinessPartner: number };
    store.put('A_BusinessPartnerRole', keyOf(mustEntitySet('A_BusinessPartnerRole'), roleRow), roleRow);
  }
  for (const addressBody of partner.children.to_BusinessPartnerAddress ?? []) createAddress(store, number, addressBody);
  for (const taxBody of partner.children.to_BusinessPartnerTax ?? []) {
    const tax = readEntity(mustEntitySet('A_BusinessPartnerTaxNumber'), taxBody).values;
    if (!/^[A-Z]{2}\d$/.test(String(tax.BPTaxType ?? ''))) throw new PayloadError(BUSINESS, `Tax number category ${String(tax.BPTaxType)} does not exist`);
    if ((tax.BPTaxNumber ?? '') === '') throw new PayloadError(BUSINESS, `Enter a tax number for category ${String(tax.BPTaxType)}`);
    const taxRow: Row = { ...tax, BusinessPartner: number };
    store.put('A_BusinessPartnerTaxNumber', keyOf(mustEntitySet('A_BusinessPartnerTaxNumber'), taxRow), taxRow);
  }
  if (isCustomer) createCustomer(store, number, fullName, partner.children.to_Customer?.[0]);
  return number;
}

function createAddress(store: SapStore, partner: string, body: Record<string, unknown>): void {
  const address = readEntity(mustEntitySet('A_BusinessPartnerAddress'), body);
  if (!/^[A-Z]{2}$/.test(String(address.values.Country ?? ''))) throw new PayloadError(BUSINESS, 'Enter a country for the address');
  const addressId = String(store.next('address', FIRST_ADDRESS));
  const row: Row = { ...address.values, BusinessPartner: partner, AddressID: addressId };
  store.put('A_BusinessPartnerAddress', keyOf(mustEntitySet('A_BusinessPartnerAddress'), row), row);
  (address.children.to_EmailAddress ?? []).forEach((emailBody, index) => {
    const email = readEntity(mustEntitySet('A_AddressEmailAddress'), emailBody).values;
    const text = String(email.EmailAddress ?? '');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) throw new PayloadError(BUSINESS, `E-mail address ${text} is invalid`);
    const emailRow: Row = { IsDefaultEmailAddress: index === 0, SearchEmailAddress: text.toUpperCase().slice(0, 20), ...email, AddressID: addressId, Person: '', OrdinalNumber: String(index + 1) };
    store.put('A_AddressEmailAddress', keyOf(mustEntitySet('A_AddressEmailAddress'), emailRow), emailRow);
  });
  (address.children.to_PhoneNumber ?? []).forEach((phoneBody, index) => {
    const phone = readEntity(mustEntitySet('A_AddressPhoneNumber'), phoneBody).values;
    const phoneRow: Row = { DestinationLocationCountry: row.Country ?? '', IsDefaultPhoneNumber: index === 0, ...phone, AddressID: addressId, Person: '', OrdinalNumber: String(index + 1) };
    store.put('A_AddressPhoneNumber', keyOf(mustEntitySet('A_AddressPhoneNumber'), phoneRow), phoneRow);
  });
}

function createCustomer(store: SapStore, number: string, name: string, body: Record<string, unknown> | undefined): void {
  const customer = body === undefined ? { values: {}, children: {} } : readEntity(mustEntitySet('A_Customer'), body);
  const row: Row = { DeletionIndicator: false, OrderIsBlockedForCustomer: '', ...customer.values, Customer: number, CustomerName: name, CustomerFullName: name.toUpperCase() };
  store.put('A_Customer', keyOf(mustEntitySet('A_Customer'), row), row);
  for (const areaBody of customer.children.to_CustomerSalesArea ?? []) {
    const area = readEntity(mustEntitySet('A_CustomerSalesArea'), areaBody).values;
    if (area.SalesOrganization !== SALES_AREA.salesOrganization || area.DistributionChannel !== SALES_AREA.distributionChannel || area.Division !== SALES_AREA.division) {
      throw new PayloadError(BUSINESS, `Sales area ${String(area.SalesOrganization)}/${String(area.DistributionChannel)}/${String(area.Division)} is not defined`);
    }
    if (!CURRENCIES.has(String(area.Currency ?? ''))) throw new PayloadError(BUSINESS, `Currency ${String(area.Currency ?? '')} is not defined`);
    const areaRow: Row = { CustomerPaymentTerms: '0001', OrderIsBlockedForCustomer: '', ...area, Customer: number };
    store.put('A_CustomerSalesArea', keyOf(mustEntitySet('A_CustomerSalesArea'), areaRow), areaRow);
  }
}
