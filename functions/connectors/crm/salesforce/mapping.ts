/**
 * Pure functions between Salesforce's REST shapes and Harmony's port shapes. Every record is
 * validated here; one that does not fit becomes a PermanentError naming the object, its id
 * and the field (`Opportunity 006….Amount: expected number, received string`).
 *
 * What is read (field names from the Object Reference for the Salesforce Platform):
 * - Opportunity: Name, StageName, IsWon, IsClosed, Amount, CloseDate, AccountId and, in orgs
 *   with multiple currencies, CurrencyIsoCode (the field exists only there);
 * - Account: Name, Phone, BillingStreet/City/PostalCode, BillingCountryCode (orgs with state
 *   and country picklists) or BillingCountry, the VAT field, and for person accounts
 *   IsPersonAccount and PersonEmail (fields that exist only where person accounts are on);
 * - the primary OpportunityContactRole's Contact: Name, Email, Phone;
 * - OpportunityLineItem: Quantity, UnitPrice, Discount (a percent), Name and Product2's
 *   ProductCode (the SKU) and Name.
 */
import * as z from 'zod';
import { countryCode } from '../../../core/country-code.ts';
import { PermanentError } from '../../../core/errors.ts';
import { WON_DEAL_STAGE } from '../../../core/events.ts';
import { describeIssues } from '../../../core/validation.ts';
import type { Address, Deal, DealLine, DealSyncUpdate, Party } from '../port.ts';
import { SYSTEM } from './vendor-errors.ts';

/** Harmony's stage for a closed opportunity that was not won. */
export const LOST_DEAL_STAGE = 'closedlost';

/** Default API name of the Account field holding the VAT number (a custom field). */
export const DEFAULT_VAT_FIELD = 'VAT_Number__c';

/** Where Harmony writes back on the Opportunity: custom fields an admin creates. */
export interface SyncFieldNames {
  /** Text(255). @default Harmony_ERP_Order_Ref__c */
  readonly orderRef: string;
  /** Text(255) or a picklist of the ErpSyncStatus values. @default Harmony_ERP_Status__c */
  readonly status: string;
  /** Long Text Area(32768). @default Harmony_Sync_Error__c */
  readonly syncError: string;
}

/** The default write-back fields. */
export const DEFAULT_SYNC_FIELDS: SyncFieldNames = {
  orderRef: 'Harmony_ERP_Order_Ref__c',
  status: 'Harmony_ERP_Status__c',
  syncError: 'Harmony_Sync_Error__c',
};

/** The longest sync error written: the default length of a Long Text Area field. */
export const SYNC_ERROR_MAX_LENGTH = 32_768;

const Text = z.string().nullable().optional();
const Id = z.string().regex(/^[a-zA-Z0-9]{18}$/, 'expected an 18-character Salesforce id');

/** `GET /sobjects/Opportunity/{id}`. */
const OpportunityRecord = z.looseObject({
  Id,
  Name: z.string(),
  StageName: z.string(),
  IsWon: z.boolean(),
  IsClosed: z.boolean(),
  Amount: z.number().nullable().optional(),
  CloseDate: z.iso.date().nullable().optional(),
  AccountId: Id.nullable().optional(),
  CurrencyIsoCode: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code').optional(),
});
export type OpportunityRecord = z.infer<typeof OpportunityRecord>;

/** `GET /sobjects/Account/{id}`. */
const AccountRecord = z.looseObject({
  Id,
  Name: Text,
  IsPersonAccount: z.boolean().optional(),
  PersonEmail: Text,
  Phone: Text,
  BillingStreet: Text,
  BillingCity: Text,
  BillingPostalCode: Text,
  BillingCountryCode: Text,
  BillingCountry: Text,
});
export type AccountRecord = z.infer<typeof AccountRecord>;

/** A record of `SELECT ContactId, Contact.Name, Contact.Email, Contact.Phone FROM OpportunityContactRole …`. */
const ContactRoleRecord = z.looseObject({
  ContactId: Id,
  Contact: z.looseObject({ Name: Text, Email: Text, Phone: Text }).nullable(),
});
export type ContactRoleRecord = z.infer<typeof ContactRoleRecord>;

/** A record of `SELECT Id, Name, Quantity, UnitPrice, Discount, Product2.ProductCode, Product2.Name FROM OpportunityLineItem …`. */
const LineItemRecord = z.looseObject({
  Id,
  Name: Text,
  Quantity: z.number(),
  UnitPrice: z.number(),
  Discount: z.number().nullable().optional(),
  Product2: z.looseObject({ ProductCode: Text, Name: Text }).nullable(),
});
export type LineItemRecord = z.infer<typeof LineItemRecord>;

/** The SOQL of the primary contact role; `opportunityId` must be a checked id. */
export function contactRoleQuery(opportunityId: string): string {
  return `SELECT ContactId, Contact.Name, Contact.Email, Contact.Phone FROM OpportunityContactRole WHERE OpportunityId = '${opportunityId}' AND IsPrimary = true LIMIT 1`;
}

/** The SOQL of the line items; `opportunityId` must be a checked id. */
export function lineItemQuery(opportunityId: string): string {
  return `SELECT Id, Name, Quantity, UnitPrice, Discount, Product2.ProductCode, Product2.Name FROM OpportunityLineItem WHERE OpportunityId = '${opportunityId}'`;
}

/** Validates a record against `schema`; a mismatch is a PermanentError naming `label` and the field. */
function parseRecord<Schema extends z.ZodType>(schema: Schema, data: unknown, label: string): z.output<Schema> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new PermanentError(`${SYSTEM}: unexpected ${describeIssues(parsed.error.issues.slice(0, 3), label)}`, { system: SYSTEM, code: 'malformed-response', cause: parsed.error });
}

/** Validates an Opportunity record. */
export function parseOpportunity(data: unknown, id: string): OpportunityRecord {
  return parseRecord(OpportunityRecord, data, `Opportunity ${id}`);
}

/** Validates an Account record. */
export function parseAccount(data: unknown, id: string): AccountRecord {
  return parseRecord(AccountRecord, data, `Account ${id}`);
}

/** Validates the contact role query's records. */
export function parseContactRoles(data: unknown, opportunityId: string): ContactRoleRecord[] {
  return parseRecord(z.array(ContactRoleRecord), data, `OpportunityContactRole of ${opportunityId}`);
}

/** Validates the line item query's records. */
export function parseLineItems(data: unknown, opportunityId: string): LineItemRecord[] {
  return parseRecord(z.array(LineItemRecord), data, `OpportunityLineItem of ${opportunityId}`);
}

/** Harmony's stage: IsWon decides a win whatever the stage is called; a closed loss is `closedlost`. */
export function dealStage(opportunity: Pick<OpportunityRecord, 'IsWon' | 'IsClosed' | 'StageName'>): string {
  if (opportunity.IsWon) return WON_DEAL_STAGE;
  if (opportunity.IsClosed) return LOST_DEAL_STAGE;
  return opportunity.StageName;
}

/** `salesforce:account:<id>` / `salesforce:contact:<id>`. */
export function partyExternalId(kind: 'account' | 'contact', id: string): string {
  return `${SYSTEM}:${kind}:${id}`;
}

/** How the Account's VAT number is found. */
export interface VatField {
  readonly name: string;
  /** Set explicitly (SALESFORCE_VAT_FIELD): a record without the field is then a configuration error, not "no VAT number". */
  readonly configured: boolean;
}

/** An Account as the customer: a company, or the person of a person account. */
export function accountToParty(account: AccountRecord, vatField: VatField): Party {
  const label = `Account ${account.Id}`;
  const name = text(account.Name);
  if (name === undefined) throw vendorDataError(`${label}.Name: the account has no name`);
  const vatValue: unknown = account[vatField.name];
  if (vatValue === undefined && vatField.configured) {
    throw new PermanentError(`${label}: has no field ${vatField.name} (SALESFORCE_VAT_FIELD), or field-level security hides it from the integration user; name the Account field that holds the VAT number`, {
      system: SYSTEM,
      code: 'configuration',
    });
  }
  if (vatValue !== undefined && vatValue !== null && typeof vatValue !== 'string') {
    throw new PermanentError(`${SYSTEM}: unexpected ${label}.${vatField.name}: expected text, got ${typeof vatValue}`, { system: SYSTEM, code: 'malformed-response' });
  }
  const person = account.IsPersonAccount === true;
  return compact({
    externalId: partyExternalId('account', account.Id),
    kind: person ? ('person' as const) : ('company' as const),
    name,
    email: person ? text(account.PersonEmail) : undefined,
    phone: text(account.Phone),
    vatNumber: text(vatValue as string | null | undefined),
    address: billingAddress(account),
  });
}

/** The primary contact role's Contact as a person. */
export function contactToParty(role: ContactRoleRecord): Party | undefined {
  const contact = role.Contact;
  if (contact === null) return undefined;
  const name = text(contact.Name) ?? text(contact.Email);
  if (name === undefined) throw vendorDataError(`Contact ${role.ContactId}: the contact has no name and no email`);
  return compact({
    externalId: partyExternalId('contact', role.ContactId),
    kind: 'person' as const,
    name,
    email: text(contact.Email),
    phone: text(contact.Phone),
  });
}

/** An OpportunityLineItem as a deal line: Product2.ProductCode is the SKU. */
export function lineItemToDealLine(item: LineItemRecord): DealLine {
  const productName = text(item.Product2?.Name);
  const label = `OpportunityLineItem ${item.Id}${productName === undefined ? '' : ` ("${productName}")`}`;
  const sku = text(item.Product2?.ProductCode);
  if (sku === undefined) {
    throw new PermanentError(`${label}.Product2.ProductCode: the product has no Product Code, so no ERP product can be matched`, { system: SYSTEM, code: 'missing_sku' });
  }
  const discount = item.Discount ?? undefined;
  if (discount !== undefined && (discount < 0 || discount > 100)) throw vendorDataError(`${label}.Discount: ${discount}% is outside 0–100`);
  return compact({
    sku,
    name: productName ?? text(item.Name) ?? sku,
    quantity: item.Quantity,
    unitPrice: item.UnitPrice,
    discountPercent: discount === 0 ? undefined : discount,
  });
}

/** Everything a {@link Deal} is built from, already read and validated. */
export interface DealParts {
  readonly opportunity: OpportunityRecord;
  readonly account?: AccountRecord | undefined;
  readonly contactRole?: ContactRoleRecord | undefined;
  readonly lineItems: readonly LineItemRecord[];
  readonly vatField: VatField;
  /** The org's currency when it has only one (no CurrencyIsoCode field): SALESFORCE_DEFAULT_CURRENCY. */
  readonly defaultCurrency?: string | undefined;
}

/**
 * Assembles the port's {@link Deal}: the customer is the Account, else the primary contact;
 * an empty Amount is the sum of the lines after discount.
 */
export function toDeal(parts: DealParts): Deal {
  const { opportunity } = parts;
  const label = `Opportunity ${opportunity.Id}`;
  const currency = opportunity.CurrencyIsoCode ?? parts.defaultCurrency?.toUpperCase();
  if (currency === undefined) {
    throw new PermanentError(`${label}: the org has a single currency (no CurrencyIsoCode field) and SALESFORCE_DEFAULT_CURRENCY is not set`, { system: SYSTEM, code: 'configuration' });
  }
  const lines = parts.lineItems.map(lineItemToDealLine);
  const amount =
    opportunity.Amount ??
    round(lines.reduce((sum, line) => sum + line.quantity * line.unitPrice * (1 - (line.discountPercent ?? 0) / 100), 0));
  const contact = parts.contactRole === undefined ? undefined : contactToParty(parts.contactRole);
  const customer = parts.account === undefined ? contact : accountToParty(parts.account, parts.vatField);
  if (customer === undefined) throw vendorDataError(`${label}: the opportunity has neither an account nor a primary contact`);
  return compact({
    id: opportunity.Id,
    name: opportunity.Name,
    stage: dealStage(opportunity),
    amount,
    currency,
    closeDate: opportunity.CloseDate ?? undefined,
    customer,
    contact,
    lines,
  });
}

/**
 * The Opportunity fields to PATCH for a sync update. Status and error are always written
 * (null clears the error), so a retried sync leaves no stale error; the order reference only
 * when known, so a later failure keeps it.
 */
export function toOpportunityFields(update: DealSyncUpdate, fields: SyncFieldNames): Record<string, string | null> {
  const values: Record<string, string | null> = {
    [fields.status]: update.erpStatus,
    [fields.syncError]: update.syncError === undefined || update.syncError === '' ? null : update.syncError.slice(0, SYNC_ERROR_MAX_LENGTH),
  };
  if (update.erpOrderRef !== undefined) values[fields.orderRef] = update.erpOrderRef;
  return values;
}

function billingAddress(account: AccountRecord): Address | undefined {
  const address = compact({
    street: text(account.BillingStreet),
    city: text(account.BillingCity),
    postalCode: text(account.BillingPostalCode),
    countryCode: text(account.BillingCountryCode)?.toUpperCase() ?? countryCode(text(account.BillingCountry)),
  });
  return Object.keys(address).length === 0 ? undefined : address;
}

function vendorDataError(message: string): PermanentError {
  return new PermanentError(`${SYSTEM}: ${message}`, { system: SYSTEM, code: 'invalid_vendor_data' });
}

/** Text with surrounding space removed; empty and null are "not set". */
function text(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Drops keys whose value is undefined, so port objects carry no `key: undefined`. */
function compact<Shape extends object>(shape: Shape): Shape {
  return Object.fromEntries(Object.entries(shape).filter(([, value]) => value !== undefined)) as Shape;
}
