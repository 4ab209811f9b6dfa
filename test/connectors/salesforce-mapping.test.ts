/**
 * The Salesforce adapter's pure parts: record ids (checked against ids printed in the REST API
 * guide), stage and party mapping, the write-back fields, the classification of recorded
 * error bodies, and the connector's choice of OAuth flow.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { salesforceConnector, salesforceCredentials } from '../../functions/connectors/crm/salesforce/connector.ts';
import {
  accountToParty,
  dealStage,
  parseAccount,
  SYNC_ERROR_MAX_LENGTH,
  toDeal,
  toOpportunityFields,
  DEFAULT_SYNC_FIELDS,
} from '../../functions/connectors/crm/salesforce/mapping.ts';
import { idSuffix, requireRecordId, toEighteenCharacterId } from '../../functions/connectors/crm/salesforce/record-id.ts';
import { classifyRestFailure, describeSalesforceFailure, SessionRefused } from '../../functions/connectors/crm/salesforce/vendor-errors.ts';

function fixtureText(name: string): string {
  return readFileSync(new URL(`../fixtures/salesforce/${name}`, import.meta.url), 'utf8');
}

describe('Salesforce record ids', () => {
  it('computes the 18-character suffix of the ids printed in the REST API guide', () => {
    expect(toEighteenCharacterId('001D000000IRFma')).toBe('001D000000IRFmaIAH');
    expect(toEighteenCharacterId('001D000000Iomaz')).toBe('001D000000IomazIAB');
    expect(idSuffix('00D5g0000004Hrm')).toBe('EAE');
  });

  it('accepts an 18-character id whose suffix differs only in case, and refuses a wrong suffix', () => {
    expect(toEighteenCharacterId('001D000000IRFmaiah')).toBe('001D000000IRFmaIAH');
    expect(toEighteenCharacterId('001D000000IRFmaIAA')).toBeUndefined();
    expect(toEighteenCharacterId('001D000000IRFm')).toBeUndefined();
    expect(toEighteenCharacterId('001D000000IRF-aIAH')).toBeUndefined();
  });

  it('requires the key prefix of the object', () => {
    expect(() => requireRecordId('001D000000IRFmaIAH', 'Opportunity')).toThrow(PermanentError);
    expect(requireRecordId('001D000000IRFma', 'Account')).toBe('001D000000IRFmaIAH');
  });
});

describe('Salesforce mapping', () => {
  const opportunity = { Id: '006D000000IRFmaIAH', Name: 'Big deal', StageName: 'Contract Signed', IsWon: true, IsClosed: true, Amount: null, CloseDate: '2026-03-01', AccountId: null };

  it('IsWon, not the stage label, decides closedwon; a closed loss is closedlost', () => {
    expect(dealStage({ IsWon: true, IsClosed: true, StageName: 'Contract Signed' })).toBe('closedwon');
    expect(dealStage({ IsWon: false, IsClosed: true, StageName: 'Closed Won' })).toBe('closedlost');
    expect(dealStage({ IsWon: false, IsClosed: false, StageName: 'Closed Won' })).toBe('Closed Won');
  });

  it('an empty Amount is the sum of the lines after discount', () => {
    const deal = toDeal({
      opportunity,
      contactRole: { ContactId: '003D000000IRFmaIAH', Contact: { Name: 'Ada', Email: 'ada@example.com', Phone: null } },
      lineItems: [
        { Id: '00kD000000IRFmaIAH', Name: null, Quantity: 3, UnitPrice: 4.5, Discount: 12.5, Product2: { ProductCode: 'CABLE-3', Name: 'USB-C Cable' } },
        { Id: '00kD000000IomazIAB', Name: null, Quantity: 1, UnitPrice: 10, Discount: null, Product2: { ProductCode: 'WIDGET-1', Name: null } },
      ],
      vatField: { name: 'VAT_Number__c', configured: false },
      defaultCurrency: 'eur',
    });

    expect(deal).toMatchObject({ amount: 21.81, currency: 'EUR', stage: 'closedwon', customer: { kind: 'person', name: 'Ada', externalId: 'salesforce:contact:003D000000IRFmaIAH' } });
    expect(deal.lines).toEqual([
      { sku: 'CABLE-3', name: 'USB-C Cable', quantity: 3, unitPrice: 4.5, discountPercent: 12.5 },
      { sku: 'WIDGET-1', name: 'WIDGET-1', quantity: 1, unitPrice: 10 },
    ]);
  });

  it('a line whose product has no Product Code is refused, naming the line', () => {
    expect(() =>
      toDeal({
        opportunity: { ...opportunity, AccountId: null },
        contactRole: { ContactId: '003D000000IRFmaIAH', Contact: { Name: 'Ada', Email: null, Phone: null } },
        lineItems: [{ Id: '00kD000000IRFmaIAH', Name: 'Big deal Gadget', Quantity: 1, UnitPrice: 1, Discount: null, Product2: { ProductCode: null, Name: 'Gadget' } }],
        vatField: { name: 'VAT_Number__c', configured: false },
        defaultCurrency: 'EUR',
      }),
    ).toThrow(/OpportunityLineItem 00kD000000IRFmaIAH \("Gadget"\)\.Product2\.ProductCode/);
  });

  it('maps a country name to its code when the org has no country picklists', () => {
    const account = parseAccount({ attributes: { type: 'Account' }, Id: '001D000000IRFmaIAH', Name: 'Acme', BillingCity: 'Lyon', BillingCountry: 'France', VAT_Number__c: null }, '001D000000IRFmaIAH');

    expect(accountToParty(account, { name: 'VAT_Number__c', configured: true })).toEqual({
      externalId: 'salesforce:account:001D000000IRFmaIAH',
      kind: 'company',
      name: 'Acme',
      address: { city: 'Lyon', countryCode: 'FR' },
    });
  });

  it('an Account whose Name is not text is a PermanentError naming the path', () => {
    expect(() => parseAccount({ Id: '001D000000IRFmaIAH', Name: 42 }, '001D000000IRFmaIAH')).toThrow(/Account 001D000000IRFmaIAH\.Name/);
  });

  it('writes status and error always (null clears it), the order reference only when known, the error capped', () => {
    expect(toOpportunityFields({ erpStatus: 'confirmed' }, DEFAULT_SYNC_FIELDS)).toEqual({ Harmony_ERP_Status__c: 'confirmed', Harmony_Sync_Error__c: null });
    const long = toOpportunityFields({ erpStatus: 'sync_failed', syncError: 'x'.repeat(40_000), erpOrderRef: 'S1' }, { orderRef: 'Ref__c', status: 'Status__c', syncError: 'Error__c' });
    expect(long).toMatchObject({ Ref__c: 'S1', Status__c: 'sync_failed' });
    expect(long.Error__c).toHaveLength(SYNC_ERROR_MAX_LENGTH);
  });
});

describe('Salesforce error bodies', () => {
  const headers = (entries: Record<string, string> = {}) => new Headers(entries);

  it('a recorded 401 INVALID_SESSION_ID asks for a new token', () => {
    const failure = classifyRestFailure('GET query', 401, fixtureText('rest-error-invalid-session.json'), headers());

    expect(failure).toBeInstanceOf(SessionRefused);
    expect((failure as SessionRefused).detail).toBe('INVALID_SESSION_ID: Session expired or invalid');
  });

  it('a recorded 403 REQUEST_LIMIT_EXCEEDED is retryable; another 403 is permanent', () => {
    const limited = classifyRestFailure('GET query', 403, fixtureText('rest-error-request-limit-exceeded.json'), headers({ 'retry-after': '120' }));
    const forbidden = classifyRestFailure('GET query', 403, '[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]', headers());

    expect(limited).toBeInstanceOf(RetryableError);
    expect((limited as RetryableError).retryAfterSeconds).toBe(120);
    expect(forbidden).toBeInstanceOf(PermanentError);
    expect((forbidden as PermanentError).code).toBe('API_DISABLED_FOR_ORG');
  });

  it('describes every error of a body with its fields, and a body of another shape by its text', () => {
    expect(describeSalesforceFailure(400, '[{"message":"Required fields are missing: [CloseDate]","errorCode":"REQUIRED_FIELD_MISSING","fields":["CloseDate"]}]')).toBe(
      'REQUIRED_FIELD_MISSING: Required fields are missing: [CloseDate] (fields: CloseDate)',
    );
    expect(describeSalesforceFailure(400, fixtureText('oauth-error-user-not-approved.json'))).toBe("invalid_grant: user hasn't approved this consumer");
    expect(describeSalesforceFailure(502, '<html>Bad gateway</html>')).toBe('<html>Bad gateway</html>');
  });
});

describe('Salesforce connector', () => {
  it('chooses the JWT bearer flow when a username and private key are set, else client credentials', () => {
    expect(salesforceCredentials({ clientId: 'c', clientSecret: 's' })).toEqual({ flow: 'client-credentials', clientId: 'c', clientSecret: 's' });
    expect(salesforceCredentials({ clientId: 'c', clientSecret: 's', username: 'u', privateKey: 'k' })).toMatchObject({ flow: 'jwt-bearer', username: 'u' });
  });

  it('says which flow is incomplete', () => {
    expect(() => salesforceCredentials({ clientId: 'c' })).toThrow(/SALESFORCE_CLIENT_SECRET.*SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY/);
    expect(() => salesforceCredentials({ clientId: 'c', username: 'u' })).toThrow(/SALESFORCE_PRIVATE_KEY: required with SALESFORCE_USERNAME/);
    expect(() => salesforceCredentials({ clientSecret: 's' })).toThrow(/SALESFORCE_CLIENT_ID/);
  });

  it('defaults the login URL, API version and field names, and refuses a plain-http login URL', () => {
    const settings = salesforceConnector.settings.parse({});

    expect(settings).toMatchObject({ SALESFORCE_LOGIN_URL: 'https://login.salesforce.com', SALESFORCE_API_VERSION: '62.0', SALESFORCE_ERP_STATUS_FIELD: 'Harmony_ERP_Status__c' });
    expect(salesforceConnector.settings.safeParse({ SALESFORCE_VAT_FIELD: 'VAT Number' }).success).toBe(false);
    expect(() =>
      salesforceConnector.create({ ...settings, SALESFORCE_LOGIN_URL: 'http://login.example.com' }, { clientId: 'c', clientSecret: 's' }, { timeoutMs: 1000 }),
    ).toThrow(/SALESFORCE_LOGIN_URL: must be https/);
  });
});
