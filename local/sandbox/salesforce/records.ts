/**
 * Creating and updating records in the sandbox org with the behaviour Salesforce adds on top
 * of the stored fields:
 *
 * - audit fields (CreatedDate, LastModifiedDate, SystemModstamp, the acting user), OwnerId and
 *   CurrencyIsoCode defaults (the corporate currency);
 * - Contact.Name from FirstName and LastName; a person account (an Account created with
 *   LastName instead of Name, where person accounts are on) gets its Name and a person
 *   contact (PersonContactId) that follows its name, email and phone;
 * - Opportunity.IsWon, IsClosed and Probability follow the StageName (OpportunityStage);
 * - OpportunityLineItem: the price book entry of the product in the opportunity's currency
 *   (from PricebookEntryId, or Product2Id as the API allows since version 38.0), UnitPrice
 *   defaulting to its list price, ProductCode and Name, Subtotal = Quantity × UnitPrice,
 *   TotalPrice after Discount, both rounded to cents; the opportunity's Amount becomes the sum
 *   of its lines' TotalPrice;
 * - OpportunityContactRole: one primary per opportunity.
 *
 * Each returns the opportunities the write made won (IsWon false → true, or created won), for
 * the caller to hand to the Outbound Message sender once the transaction has committed.
 */
import type { FieldValue, OrgStore, StoredRecord } from './org-store.ts';
import { checkFieldValue, roundTo, salesforceDateTime } from './field-values.ts';
import { SalesforceApiError } from './responses.ts';
import { OPPORTUNITY_STAGES, type OrgFeatures, type SObjectDefinition } from './schema.ts';

/** The org a write happens in. */
export interface Org {
  readonly store: OrgStore;
  readonly schema: ReadonlyMap<string, SObjectDefinition>;
  readonly features: OrgFeatures;
  /** The currency of records that name none (and the only one of a single-currency org). */
  readonly corporateCurrency: string;
  /** The standard price book. */
  readonly standardPricebookId: string;
  readonly now: () => number;
}

/** What a write did. */
export interface WriteOutcome {
  readonly record: StoredRecord;
  /** Opportunities this write made won. */
  readonly won: readonly StoredRecord[];
}

type MutableRecord = Record<string, FieldValue>;

/** The sObject definition, or INVALID_TYPE / NOT_FOUND as the REST API answers an unknown object. */
export function sobjectDefinition(org: Org, name: string): SObjectDefinition {
  const object = org.schema.get(name) ?? [...org.schema.values()].find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (object === undefined) throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  return object;
}

/** Creates a record from a REST body (field → value). */
export function createRecord(org: Org, object: SObjectDefinition, body: Readonly<Record<string, unknown>>, actingUserId: string): WriteOutcome {
  const input = checkedValues(org, object, body, 'create');
  const now = salesforceDateTime(org.now());
  const record: MutableRecord = {};
  for (const [name, field] of Object.entries(object.fields)) record[name] = field.type === 'boolean' ? false : null;
  Object.assign(record, {
    Id: org.store.allocateId(object.keyPrefix),
    CreatedDate: now,
    CreatedById: actingUserId,
    LastModifiedDate: now,
    LastModifiedById: actingUserId,
    SystemModstamp: now,
  });
  if ('OwnerId' in object.fields) record.OwnerId = actingUserId;
  if ('CurrencyIsoCode' in object.fields) record.CurrencyIsoCode = org.corporateCurrency;
  if (object.name === 'Product2' || object.name === 'Pricebook2' || object.name === 'PricebookEntry') record.IsActive = true;
  Object.assign(record, input);
  return applyRules(org, object, record, undefined, input, actingUserId);
}

/** Updates a record from a REST body; NOT_FOUND when `id` is no record of `object`. */
export function updateRecord(org: Org, object: SObjectDefinition, id: string, body: Readonly<Record<string, unknown>>, actingUserId: string): WriteOutcome {
  const found = org.store.find(id);
  if (found === undefined || found.sobject !== object.name) throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  const input = checkedValues(org, object, body, 'update');
  const now = salesforceDateTime(org.now());
  const record: MutableRecord = { ...found.record, ...input, LastModifiedDate: now, LastModifiedById: actingUserId, SystemModstamp: now };
  return applyRules(org, object, record, found.record, input, actingUserId);
}

function checkedValues(org: Org, object: SObjectDefinition, body: Readonly<Record<string, unknown>>, operation: 'create' | 'update'): MutableRecord {
  const values: MutableRecord = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === 'attributes') continue;
    const [apiName, checked] = checkFieldValue(org.store, object, name, value, operation);
    values[apiName] = checked;
  }
  return values;
}

/** The object's rules, the required-field check, the store, and what follows from the write. */
function applyRules(org: Org, object: SObjectDefinition, record: MutableRecord, before: StoredRecord | undefined, input: MutableRecord, actingUserId: string): WriteOutcome {
  switch (object.name) {
    case 'Account':
      accountRules(org, record, before, input);
      break;
    case 'Contact':
      record.Name = [record.FirstName, record.LastName].filter((part) => typeof part === 'string' && part !== '').join(' ') || null;
      break;
    case 'Opportunity':
      opportunityRules(org, record, before, input);
      break;
    case 'OpportunityLineItem':
      lineItemRules(org, record, before);
      break;
    case 'PricebookEntry':
      priceBookEntryRules(org, record, before);
      break;
    default:
      break;
  }
  const missing = Object.entries(object.fields)
    .filter(([name, field]) => field.required === true && (record[name] === null || record[name] === ''))
    .map(([name]) => name);
  if (missing.length > 0) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
  const stored = record as StoredRecord;
  org.store.put(object.name, stored);
  const won: StoredRecord[] = [];
  if (object.name === 'Opportunity' && stored.IsWon === true && before?.IsWon !== true) won.push(stored);
  if (object.name === 'Account' && stored.IsPersonAccount === true) syncPersonContact(org, stored, actingUserId);
  if (object.name === 'OpportunityContactRole' && stored.IsPrimary === true) demoteOtherPrimaries(org, stored);
  if (object.name === 'OpportunityLineItem') recomputeOpportunity(org, String(stored.OpportunityId));
  return { record: stored, won };
}

function accountRules(org: Org, record: MutableRecord, before: StoredRecord | undefined, input: MutableRecord): void {
  if (!org.features.personAccounts) {
    if (record.Name === null) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [Name]', ['Name']);
    return;
  }
  const person = before === undefined ? record.LastName !== null && !('Name' in input) : before.IsPersonAccount === true;
  if (!person) {
    const personFields = ['FirstName', 'LastName', 'PersonEmail'].filter((name) => name in input && input[name] !== null);
    if (personFields.length > 0) {
      throw new SalesforceApiError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Business accounts have no person fields: ${personFields.join(', ')}`, personFields);
    }
    if (record.Name === null) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [Name]', ['Name']);
    return;
  }
  if ('Name' in input && before !== undefined) {
    throw new SalesforceApiError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields: Name. A person account takes its name from FirstName and LastName.', ['Name']);
  }
  if (record.LastName === null) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [LastName]', ['LastName']);
  record.IsPersonAccount = true;
  record.Name = [record.FirstName, record.LastName].filter((part) => typeof part === 'string' && part !== '').join(' ');
}

/** The person contact of a person account, created or brought in line with the account. */
function syncPersonContact(org: Org, account: StoredRecord, actingUserId: string): void {
  const contact = sobjectDefinition(org, 'Contact');
  const values = { FirstName: account.FirstName, LastName: account.LastName, Email: account.PersonEmail, Phone: account.Phone };
  if (account.PersonContactId === null) {
    const created = createRecord(org, contact, { ...values, AccountId: account.Id }, actingUserId);
    org.store.put('Account', { ...account, PersonContactId: created.record.Id });
  } else {
    updateRecord(org, contact, String(account.PersonContactId), values, actingUserId);
  }
}

function opportunityRules(org: Org, record: MutableRecord, before: StoredRecord | undefined, input: MutableRecord): void {
  const stage = OPPORTUNITY_STAGES.get(String(record.StageName));
  if (stage !== undefined && record.StageName !== before?.StageName) {
    record.IsWon = stage.isWon;
    record.IsClosed = stage.isClosed;
    if (!('Probability' in input)) record.Probability = stage.probability;
  }
  if (before !== undefined && 'CurrencyIsoCode' in input && input.CurrencyIsoCode !== before.CurrencyIsoCode && before.HasOpportunityLineItem === true) {
    throw new SalesforceApiError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Currency: cannot be changed on an opportunity that has products', ['CurrencyIsoCode']);
  }
  if (before === undefined) record.Pricebook2Id ??= org.standardPricebookId;
}

function priceBookEntryRules(org: Org, record: MutableRecord, before: StoredRecord | undefined): void {
  if (before !== undefined) return;
  const product = org.store.find(String(record.Product2Id))?.record;
  record.Name = product?.Name ?? null;
  record.ProductCode = product?.ProductCode ?? null;
}

function lineItemRules(org: Org, record: MutableRecord, before: StoredRecord | undefined): void {
  if (before === undefined) {
    const opportunity = org.store.find(String(record.OpportunityId))?.record;
    if (opportunity === undefined) return; // REQUIRED_FIELD_MISSING follows.
    const currency = String(opportunity.CurrencyIsoCode ?? org.corporateCurrency);
    const entry = priceBookEntryFor(org, record, currency);
    const product = org.store.find(String(entry.Product2Id))!.record;
    record.PricebookEntryId = entry.Id;
    record.Product2Id = product.Id;
    record.ProductCode = product.ProductCode ?? null;
    record.Name = `${String(opportunity.Name)} ${String(product.Name)}`;
    record.ListPrice = entry.UnitPrice ?? null;
    record.UnitPrice ??= entry.UnitPrice ?? null;
    if ('CurrencyIsoCode' in record) record.CurrencyIsoCode = currency;
  }
  if (typeof record.Quantity === 'number' && record.Quantity <= 0) {
    throw new SalesforceApiError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Quantity: value must be positive', ['Quantity']);
  }
  const discount = typeof record.Discount === 'number' ? record.Discount : 0;
  if (discount < 0 || discount > 100) throw new SalesforceApiError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Discount: value outside of valid range on numeric field', ['Discount']);
  if (typeof record.Quantity === 'number' && typeof record.UnitPrice === 'number') {
    record.Subtotal = roundTo(record.Quantity * record.UnitPrice, 2);
    record.TotalPrice = roundTo(record.Quantity * record.UnitPrice * (1 - discount / 100), 2);
  }
}

/** The active standard price book entry of the line's product (or the named entry) in `currency`. */
function priceBookEntryFor(org: Org, record: MutableRecord, currency: string): StoredRecord {
  if (record.PricebookEntryId !== null) {
    const entry = org.store.find(String(record.PricebookEntryId))!.record;
    if ((entry.CurrencyIsoCode ?? org.corporateCurrency) !== currency) {
      throw new SalesforceApiError(400, 'FIELD_INTEGRITY_EXCEPTION', 'field integrity exception: PricebookEntryId (pricebook entry currency code does not match opportunity currency code)', ['PricebookEntryId']);
    }
    return entry;
  }
  if (record.Product2Id === null) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [PricebookEntryId]', ['PricebookEntryId']);
  const entry = org.store
    .findBy('PricebookEntry', 'Product2Id', record.Product2Id ?? null)
    .find((candidate) => candidate.Pricebook2Id === org.standardPricebookId && candidate.IsActive === true && (candidate.CurrencyIsoCode ?? org.corporateCurrency) === currency);
  if (entry === undefined) {
    throw new SalesforceApiError(400, 'FIELD_INTEGRITY_EXCEPTION', `field integrity exception: Product2Id (no active standard price book entry in ${currency})`, ['Product2Id']);
  }
  return entry;
}

/** Amount = the sum of the lines' TotalPrice, as Salesforce keeps it for an opportunity with products. */
function recomputeOpportunity(org: Org, opportunityId: string): void {
  const opportunity = org.store.find(opportunityId)?.record;
  if (opportunity === undefined) return;
  const lines = org.store.findBy('OpportunityLineItem', 'OpportunityId', opportunityId);
  const amount = roundTo(lines.reduce((sum, line) => sum + Number(line.TotalPrice ?? 0), 0), 2);
  org.store.put('Opportunity', { ...opportunity, Amount: lines.length === 0 ? (opportunity.Amount ?? null) : amount, HasOpportunityLineItem: lines.length > 0 });
}

function demoteOtherPrimaries(org: Org, role: StoredRecord): void {
  for (const other of org.store.findBy('OpportunityContactRole', 'OpportunityId', role.OpportunityId ?? null)) {
    if (other.Id !== role.Id && other.IsPrimary === true) org.store.put('OpportunityContactRole', { ...other, IsPrimary: false });
  }
}
