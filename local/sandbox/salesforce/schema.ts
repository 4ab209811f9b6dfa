/**
 * The sObjects the Salesforce sandbox knows, with the fields of each as the Object Reference
 * for the Salesforce Platform describes them (API name, type, whether the API may create or
 * update it, length) plus the custom fields Harmony uses. Two org features change the
 * schema as they do in a real org: multiple currencies add `CurrencyIsoCode` to every
 * currency-bearing object; person accounts add `IsPersonAccount`, `FirstName`, `LastName`,
 * `PersonEmail` and `PersonContactId` to Account.
 */

/** Field types, as `describe` names them. */
export type FieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'picklist'
  | 'boolean'
  | 'currency'
  | 'double'
  | 'percent'
  | 'date'
  | 'datetime';

/** One field of an sObject. */
export interface FieldDefinition {
  readonly type: FieldType;
  /** The label errors use, e.g. `Opportunity Name`. */
  readonly label: string;
  readonly createable: boolean;
  readonly updateable: boolean;
  /** Must be given on create. */
  readonly required?: boolean;
  /** Longest text value. */
  readonly length?: number;
  /** Decimal places a number is rounded to. */
  readonly scale?: number;
  /** The sObject a reference points at. */
  readonly referenceTo?: string;
  /** The relationship name SOQL traverses, e.g. `Account` for `AccountId`. */
  readonly relationshipName?: string;
  /** The store keeps an index on it, so a SOQL equality on it does not scan the object. */
  readonly indexed?: boolean;
  /** Allowed values of a restricted picklist. */
  readonly values?: readonly string[];
}

/** One sObject type. */
export interface SObjectDefinition {
  readonly name: string;
  readonly keyPrefix: string;
  readonly fields: Readonly<Record<string, FieldDefinition>>;
}

/** What the org has switched on. */
export interface OrgFeatures {
  /** Multiple currencies: records carry CurrencyIsoCode. */
  readonly multiCurrency: boolean;
  readonly personAccounts: boolean;
  /** ISO codes of the active currencies. */
  readonly currencies: readonly string[];
}

/** An OpportunityStage: what choosing it sets on the Opportunity. */
export interface StageDefinition {
  readonly probability: number;
  readonly isClosed: boolean;
  readonly isWon: boolean;
}

/** The stages of a new org's sales process ("Opportunity Stage" picklist defaults). */
export const OPPORTUNITY_STAGES: ReadonlyMap<string, StageDefinition> = new Map([
  ['Prospecting', { probability: 10, isClosed: false, isWon: false }],
  ['Qualification', { probability: 10, isClosed: false, isWon: false }],
  ['Needs Analysis', { probability: 20, isClosed: false, isWon: false }],
  ['Value Proposition', { probability: 50, isClosed: false, isWon: false }],
  ['Id. Decision Makers', { probability: 60, isClosed: false, isWon: false }],
  ['Perception Analysis', { probability: 70, isClosed: false, isWon: false }],
  ['Proposal/Price Quote', { probability: 75, isClosed: false, isWon: false }],
  ['Negotiation/Review', { probability: 90, isClosed: false, isWon: false }],
  ['Closed Won', { probability: 100, isClosed: true, isWon: true }],
  ['Closed Lost', { probability: 0, isClosed: true, isWon: false }],
]);

const readOnly = (type: FieldType, label: string, extra: Partial<FieldDefinition> = {}): FieldDefinition => ({ type, label, createable: false, updateable: false, ...extra });
const writable = (type: FieldType, label: string, extra: Partial<FieldDefinition> = {}): FieldDefinition => ({ type, label, createable: true, updateable: true, ...extra });
const text = (label: string, length: number, extra: Partial<FieldDefinition> = {}): FieldDefinition => writable('string', label, { length, ...extra });
const reference = (label: string, referenceTo: string, relationshipName: string, extra: Partial<FieldDefinition> = {}): FieldDefinition =>
  writable('reference', label, { referenceTo, relationshipName, indexed: true, ...extra });

/** Id, audit fields and IsDeleted, which every sObject has. */
function systemFields(): Record<string, FieldDefinition> {
  return {
    Id: readOnly('id', 'Record ID'),
    IsDeleted: readOnly('boolean', 'Deleted'),
    CreatedDate: readOnly('datetime', 'Created Date'),
    CreatedById: readOnly('reference', 'Created By ID', { referenceTo: 'User', relationshipName: 'CreatedBy' }),
    LastModifiedDate: readOnly('datetime', 'Last Modified Date'),
    LastModifiedById: readOnly('reference', 'Last Modified By ID', { referenceTo: 'User', relationshipName: 'LastModifiedBy' }),
    SystemModstamp: readOnly('datetime', 'System Modstamp'),
  };
}

/** The sObjects of an org with `features`, by API name. */
export function orgSchema(features: OrgFeatures): ReadonlyMap<string, SObjectDefinition> {
  const currency = (extra: Partial<FieldDefinition> = {}): Record<string, FieldDefinition> =>
    features.multiCurrency ? { CurrencyIsoCode: writable('picklist', 'Currency ISO Code', { length: 3, values: features.currencies, ...extra }) } : {};
  const personAccount: Record<string, FieldDefinition> = features.personAccounts
    ? {
        IsPersonAccount: readOnly('boolean', 'Is Person Account'),
        FirstName: text('First Name', 40),
        LastName: text('Last Name', 80),
        PersonEmail: writable('email', 'Email', { length: 80 }),
        PersonContactId: readOnly('reference', 'Person Contact ID', { referenceTo: 'Contact', relationshipName: 'PersonContact', indexed: true }),
      }
    : {};
  const objects: SObjectDefinition[] = [
    {
      name: 'User',
      keyPrefix: '005',
      fields: { ...systemFields(), Username: readOnly('string', 'Username', { length: 80 }), Name: readOnly('string', 'Full Name', { length: 121 }), Email: readOnly('email', 'Email', { length: 128 }) },
    },
    {
      name: 'Account',
      keyPrefix: '001',
      fields: {
        ...systemFields(),
        OwnerId: reference('Owner ID', 'User', 'Owner'),
        Name: text('Account Name', 255),
        ...personAccount,
        Phone: writable('phone', 'Account Phone', { length: 40 }),
        BillingStreet: writable('textarea', 'Billing Street', { length: 255 }),
        BillingCity: text('Billing City', 40),
        BillingPostalCode: text('Billing Zip/Postal Code', 20),
        BillingCountry: text('Billing Country', 80),
        BillingCountryCode: writable('picklist', 'Billing Country Code', { length: 10 }),
        VAT_Number__c: text('VAT Number', 30),
        ...currency(),
      },
    },
    {
      name: 'Contact',
      keyPrefix: '003',
      fields: {
        ...systemFields(),
        OwnerId: reference('Owner ID', 'User', 'Owner'),
        AccountId: reference('Account ID', 'Account', 'Account'),
        FirstName: text('First Name', 40),
        LastName: text('Last Name', 80, { required: true }),
        Name: readOnly('string', 'Full Name', { length: 121 }),
        Email: writable('email', 'Email', { length: 80 }),
        Phone: writable('phone', 'Business Phone', { length: 40 }),
        ...currency(),
      },
    },
    {
      name: 'Product2',
      keyPrefix: '01t',
      fields: {
        ...systemFields(),
        Name: text('Product Name', 255, { required: true }),
        ProductCode: text('Product Code', 255, { indexed: true }),
        Description: writable('textarea', 'Product Description', { length: 4000 }),
        Family: writable('picklist', 'Product Family', { length: 40 }),
        IsActive: writable('boolean', 'Active'),
        ...currency(),
      },
    },
    {
      name: 'Pricebook2',
      keyPrefix: '01s',
      fields: { ...systemFields(), Name: text('Price Book Name', 255, { required: true }), IsActive: writable('boolean', 'Active'), IsStandard: readOnly('boolean', 'Is Standard Price Book') },
    },
    {
      name: 'PricebookEntry',
      keyPrefix: '01u',
      fields: {
        ...systemFields(),
        Pricebook2Id: reference('Price Book ID', 'Pricebook2', 'Pricebook2', { required: true, updateable: false }),
        Product2Id: reference('Product ID', 'Product2', 'Product2', { required: true, updateable: false }),
        Name: readOnly('string', 'Product Name', { length: 255 }),
        ProductCode: readOnly('string', 'Product Code', { length: 255 }),
        UnitPrice: writable('currency', 'List Price', { scale: 2, required: true }),
        IsActive: writable('boolean', 'Active'),
        ...currency({ updateable: false }),
      },
    },
    {
      name: 'Opportunity',
      keyPrefix: '006',
      fields: {
        ...systemFields(),
        OwnerId: reference('Owner ID', 'User', 'Owner'),
        AccountId: reference('Account ID', 'Account', 'Account'),
        Name: text('Name', 120, { required: true }),
        Description: writable('textarea', 'Description', { length: 32_000 }),
        StageName: writable('picklist', 'Stage', { length: 255, required: true, values: [...OPPORTUNITY_STAGES.keys()] }),
        Amount: writable('currency', 'Amount', { scale: 2 }),
        Probability: writable('percent', 'Probability (%)', { scale: 0 }),
        CloseDate: writable('date', 'Close Date', { required: true }),
        IsClosed: readOnly('boolean', 'Closed'),
        IsWon: readOnly('boolean', 'Won'),
        HasOpportunityLineItem: readOnly('boolean', 'Has Line Item'),
        Pricebook2Id: reference('Price Book ID', 'Pricebook2', 'Pricebook2'),
        Harmony_ERP_Order_Ref__c: text('Harmony ERP Order Ref', 255),
        Harmony_ERP_Status__c: text('Harmony ERP Status', 255),
        Harmony_Sync_Error__c: writable('textarea', 'Harmony Sync Error', { length: 32_768 }),
        ...currency(),
      },
    },
    {
      name: 'OpportunityContactRole',
      keyPrefix: '00K',
      fields: {
        ...systemFields(),
        OpportunityId: reference('Opportunity ID', 'Opportunity', 'Opportunity', { required: true, updateable: false }),
        ContactId: reference('Contact ID', 'Contact', 'Contact', { required: true }),
        Role: writable('picklist', 'Role', { length: 40 }),
        IsPrimary: writable('boolean', 'Primary'),
      },
    },
    {
      name: 'OpportunityLineItem',
      keyPrefix: '00k',
      fields: {
        ...systemFields(),
        OpportunityId: reference('Opportunity ID', 'Opportunity', 'Opportunity', { required: true, updateable: false }),
        PricebookEntryId: reference('Price Book Entry ID', 'PricebookEntry', 'PricebookEntry', { updateable: false }),
        Product2Id: reference('Product ID', 'Product2', 'Product2', { updateable: false }),
        ProductCode: readOnly('string', 'Product Code', { length: 255 }),
        Name: readOnly('string', 'Opportunity Product Name', { length: 376 }),
        Description: writable('textarea', 'Line Description', { length: 255 }),
        Quantity: writable('double', 'Quantity', { scale: 2, required: true }),
        UnitPrice: writable('currency', 'Sales Price', { scale: 2 }),
        ListPrice: readOnly('currency', 'List Price', { scale: 2 }),
        Discount: writable('percent', 'Discount', { scale: 2 }),
        Subtotal: readOnly('currency', 'Subtotal', { scale: 2 }),
        TotalPrice: readOnly('currency', 'Total Price', { scale: 2 }),
        ...currency({ createable: false, updateable: false }),
      },
    },
  ];
  return new Map(objects.map((object) => [object.name, object]));
}

/** The field of `object` named `name` in any case (SOQL and JSON bodies ignore case), with its API name. */
export function findField(object: SObjectDefinition, name: string): [string, FieldDefinition] | undefined {
  const lower = name.toLowerCase();
  return Object.entries(object.fields).find(([apiName]) => apiName.toLowerCase() === lower);
}

/** The reference field whose relationship is `relationshipName` (any case). */
export function findRelationship(object: SObjectDefinition, relationshipName: string): [string, FieldDefinition] | undefined {
  const lower = relationshipName.toLowerCase();
  return Object.entries(object.fields).find(([, field]) => field.relationshipName?.toLowerCase() === lower);
}
