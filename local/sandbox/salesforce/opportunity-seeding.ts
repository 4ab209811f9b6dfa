/**
 * `POST /__sandbox/opportunities`: creates an Opportunity the way a sales rep does — the
 * account (a business account, a person account, or an existing one), a contact as the
 * primary contact role, the products by Product Code — and only then sets the requested stage,
 * so an Opportunity that ends won reaches the Outbound Message sender with its full Amount.
 * Everything goes through the org's record rules, in the caller's transaction.
 */
import * as z from 'zod';
import type { StoredRecord } from './org-store.ts';
import { createRecord, sobjectDefinition, updateRecord, type Org } from './records.ts';
import { SalesforceApiError } from './responses.ts';

const Person = z.object({
  firstName: z.string().min(1).optional(),
  lastName: z.string().min(1),
  email: z.string().min(3).optional(),
  phone: z.string().min(1).optional(),
});

/** Body of `POST /__sandbox/opportunities`. */
export const OpportunityRequest = z.object({
  name: z.string().min(1).max(120),
  /** @default Closed Won */
  stageName: z.string().min(1).default('Closed Won'),
  /** @default today */
  closeDate: z.iso.date().optional(),
  /** Multi-currency orgs only. @default the corporate currency */
  currencyIsoCode: z.string().regex(/^[A-Z]{3}$/).optional(),
  account: z
    .union([
      z.object({ id: z.string().min(15).max(18) }),
      z.object({ person: Person.extend({ billingCity: z.string().optional(), billingCountryCode: z.string().length(2).optional() }) }),
      z.object({
        name: z.string().min(1),
        phone: z.string().optional(),
        billingStreet: z.string().optional(),
        billingCity: z.string().optional(),
        billingPostalCode: z.string().optional(),
        billingCountryCode: z.string().length(2).optional(),
        vatNumber: z.string().optional(),
      }),
    ])
    .optional(),
  /** The primary contact; a person account's own contact is primary when this is absent. */
  contact: Person.optional(),
  lines: z
    .array(
      z.object({
        productCode: z.string().min(1),
        quantity: z.number().positive(),
        /** @default the product's list price in the opportunity's currency */
        unitPrice: z.number().nonnegative().optional(),
        /** Percent. */
        discount: z.number().min(0).max(100).optional(),
      }),
    )
    .default([]),
});
export type OpportunityRequest = z.infer<typeof OpportunityRequest>;

/** What was created. */
export interface SeededOpportunity {
  readonly opportunityId: string;
  readonly accountId?: string;
  readonly contactId?: string;
  readonly lineItemIds: readonly string[];
  /** The Opportunity as stored at the end. */
  readonly opportunity: StoredRecord;
  /** Whether setting the stage made it won (the caller hands it to the Outbound Message sender). */
  readonly won: boolean;
}

/** Creates the Opportunity with its account, contact role and lines; throws SalesforceApiError as the API would. */
export function seedOpportunity(org: Org, request: OpportunityRequest, userId: string): SeededOpportunity {
  const create = (object: string, body: Record<string, unknown>): StoredRecord => createRecord(org, sobjectDefinition(org, object), body, userId).record;
  const withoutUndefined = (body: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));

  let accountId: string | undefined;
  let personContactId: string | undefined;
  const account = request.account;
  if (account !== undefined && 'id' in account) {
    accountId = account.id;
  } else if (account !== undefined && 'person' in account) {
    const { firstName, lastName, email, phone, billingCity, billingCountryCode } = account.person;
    accountId = create('Account', withoutUndefined({ FirstName: firstName, LastName: lastName, PersonEmail: email, Phone: phone, BillingCity: billingCity, BillingCountryCode: billingCountryCode })).Id;
    personContactId = String(org.store.find(accountId)?.record.PersonContactId ?? '') || undefined;
  } else if (account !== undefined) {
    accountId = create(
      'Account',
      withoutUndefined({
        Name: account.name,
        Phone: account.phone,
        BillingStreet: account.billingStreet,
        BillingCity: account.billingCity,
        BillingPostalCode: account.billingPostalCode,
        BillingCountryCode: account.billingCountryCode,
        VAT_Number__c: account.vatNumber,
      }),
    ).Id;
  }
  const contactId =
    request.contact === undefined
      ? personContactId
      : create(
          'Contact',
          withoutUndefined({ AccountId: accountId, FirstName: request.contact.firstName, LastName: request.contact.lastName, Email: request.contact.email, Phone: request.contact.phone }),
        ).Id;
  const opportunityId = create(
    'Opportunity',
    withoutUndefined({
      Name: request.name,
      StageName: 'Prospecting',
      CloseDate: request.closeDate ?? new Date(org.now()).toISOString().slice(0, 10),
      AccountId: accountId,
      CurrencyIsoCode: request.currencyIsoCode,
    }),
  ).Id;
  if (contactId !== undefined) create('OpportunityContactRole', { OpportunityId: opportunityId, ContactId: contactId, IsPrimary: true, Role: 'Decision Maker' });
  const lineItemIds = request.lines.map((line) => {
    const product = org.store.findBy('Product2', 'ProductCode', line.productCode)[0];
    if (product === undefined) throw new SalesforceApiError(400, 'INVALID_CROSS_REFERENCE_KEY', `no Product2 with ProductCode ${line.productCode}`, ['Product2Id']);
    return create('OpportunityLineItem', withoutUndefined({ OpportunityId: opportunityId, Product2Id: product.Id, Quantity: line.quantity, UnitPrice: line.unitPrice, Discount: line.discount })).Id;
  });
  const staged = updateRecord(org, sobjectDefinition(org, 'Opportunity'), opportunityId, { StageName: request.stageName }, userId);
  return {
    opportunityId,
    ...(accountId === undefined ? {} : { accountId }),
    ...(contactId === undefined ? {} : { contactId }),
    lineItemIds,
    opportunity: org.store.find(opportunityId)!.record,
    won: staged.won.length > 0,
  };
}
