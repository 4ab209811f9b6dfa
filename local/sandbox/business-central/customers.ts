/**
 * `POST customers` as BC's "APIV2 - Customers" page does it: `number` from the body
 * (upper-cased, as BC stores Code fields; a number that exists is refused) or the next
 * from the customer number series, field lengths of the Customer table, the email
 * address checked.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { nextRowVersion, type Company } from './company.ts';
import { customerJson, type StoredCustomer } from './entities.ts';
import { parseBody, text } from './request-body.ts';
import { bcError, dialogError, type SandboxAnswer } from './responses.ts';

const CustomerCreate = z.strictObject({
  number: text(20).optional(),
  displayName: text(100).optional(),
  type: z.enum(['Company', 'Person']).optional(),
  addressLine1: text(100).optional(),
  addressLine2: text(50).optional(),
  city: text(30).optional(),
  state: text(30).optional(),
  country: text(10).optional(),
  postalCode: text(20).optional(),
  phoneNumber: text(30).optional(),
  email: text(80).optional(),
  website: text(80).optional(),
  taxLiable: z.boolean().optional(),
  taxRegistrationNumber: text(20).optional(),
  currencyCode: text(10).optional(),
  blocked: z.enum([' ', 'Ship', 'Invoice', 'All']).optional(),
});

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Creates a customer; 201 with its JSON. */
export function createCustomer(company: Company, body: unknown): SandboxAnswer {
  const parsed = parseBody(CustomerCreate, body, 'customer');
  if (!parsed.ok) return parsed.answer;
  const input = parsed.data;
  const { store } = company;
  if (input.email !== undefined && input.email !== '' && !EMAIL.test(input.email)) {
    return dialogError(`The email address "${input.email}" is not valid.`);
  }
  const number = input.number === undefined || input.number === '' ? `C${String(store.next('customer-number', 1) * 10).padStart(5, '0')}` : input.number.toUpperCase();
  if (store.all<StoredCustomer>('customers').some((customer) => customer.number === number)) {
    return bcError(400, 'Internal_EntityWithSameKeyExists', `The record in table Customer already exists. Identification fields and values: No.='${number}'`);
  }
  const currencyCode = input.currencyCode === company.localCurrency ? '' : (input.currencyCode ?? '');
  const id = randomUUID();
  const customer: StoredCustomer = {
    id,
    number,
    displayName: input.displayName ?? '',
    type: input.type ?? 'Company',
    addressLine1: input.addressLine1 ?? '',
    addressLine2: input.addressLine2 ?? '',
    city: input.city ?? '',
    state: input.state ?? '',
    country: (input.country ?? '').toUpperCase(),
    postalCode: (input.postalCode ?? '').toUpperCase(),
    phoneNumber: input.phoneNumber ?? '',
    email: input.email ?? '',
    website: input.website ?? '',
    taxLiable: input.taxLiable ?? false,
    taxRegistrationNumber: input.taxRegistrationNumber ?? '',
    currencyCode,
    blocked: input.blocked ?? ' ',
    rowVersion: nextRowVersion(company),
    lastModifiedDateTime: new Date().toISOString(),
  };
  store.put('customers', id, customer);
  return { status: 201, body: customerJson(customer) };
}
