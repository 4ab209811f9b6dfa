/**
 * The Salesforce adapter of `CrmPort`: reads an Opportunity with its Account, primary contact
 * and line items through the REST API (jsforce), and writes Harmony's ERP status back to
 * custom fields of the Opportunity.
 */
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import type { CrmPort, Deal, DealSyncUpdate } from '../port.ts';
import { SalesforceClient } from './client.ts';
import {
  contactRoleQuery,
  DEFAULT_SYNC_FIELDS,
  DEFAULT_VAT_FIELD,
  lineItemQuery,
  parseAccount,
  parseContactRoles,
  parseLineItems,
  parseOpportunity,
  toDeal,
  toOpportunityFields,
  type LineItemRecord,
  type SyncFieldNames,
  type VatField,
} from './mapping.ts';
import type { SalesforceCredentials } from './oauth-token.ts';
import { requireRecordId } from './record-id.ts';
import { SYSTEM } from './vendor-errors.ts';

/** The REST API version used unless configured: Winter '25. */
export const DEFAULT_API_VERSION = '62.0';

/** Line items read at most; an opportunity with more fails rather than sync part of itself. */
const MAX_LINE_ITEMS = 2_000;

/** How the adapter reaches one org. */
export interface SalesforceCrmOptions {
  /** e.g. `https://login.salesforce.com` (checked by the connector). */
  readonly loginUrl: URL;
  readonly credentials: SalesforceCredentials;
  /** @default DEFAULT_API_VERSION */
  readonly apiVersion?: string;
  /** ISO 4217 code of a single-currency org (whose records have no CurrencyIsoCode). */
  readonly defaultCurrency?: string | undefined;
  /** Account field holding the VAT number; when given, an Account without it is an error. @default VAT_Number__c */
  readonly vatField?: string | undefined;
  /** Opportunity fields Harmony writes; each defaults to DEFAULT_SYNC_FIELDS. */
  readonly syncFields?: Partial<SyncFieldNames> | undefined;
  readonly timeoutMs: number;
  readonly rateLimiter?: RateLimiter | undefined;
}

/** `CrmPort` for Salesforce, through jsforce with Harmony's transport. */
export class SalesforceCrm implements CrmPort {
  readonly system = SYSTEM;
  readonly #client: SalesforceClient;
  readonly #vatField: VatField;
  readonly #syncFields: SyncFieldNames;
  readonly #defaultCurrency: string | undefined;

  constructor(options: SalesforceCrmOptions) {
    this.#client = new SalesforceClient({
      loginUrl: options.loginUrl,
      apiVersion: options.apiVersion ?? DEFAULT_API_VERSION,
      credentials: options.credentials,
      timeoutMs: options.timeoutMs,
      rateLimiter: options.rateLimiter,
    });
    this.#vatField = { name: options.vatField ?? DEFAULT_VAT_FIELD, configured: options.vatField !== undefined };
    this.#syncFields = { ...DEFAULT_SYNC_FIELDS, ...options.syncFields };
    this.#defaultCurrency = options.defaultCurrency;
  }

  /** Reads the Opportunity, then its Account, primary contact role and line items in parallel. */
  async getDeal(dealId: string): Promise<Deal> {
    const id = requireRecordId(dealId, 'Opportunity');
    const opportunity = parseOpportunity(
      await this.#client.call(`GET Opportunity ${id}`, (connection) => connection.sobject('Opportunity').retrieve(id)),
      id,
    );
    const accountId = opportunity.AccountId ?? undefined;
    const [account, contactRoles, lineItems] = await Promise.all([
      accountId === undefined
        ? undefined
        : this.#client.call(`GET Account ${accountId}`, (connection) => connection.sobject('Account').retrieve(accountId)).then((record) => parseAccount(record, accountId)),
      this.#client.call(`query OpportunityContactRole of ${id}`, (connection) => connection.query(contactRoleQuery(id))).then((result) => parseContactRoles(result.records, id)),
      this.#readLineItems(id),
    ]);
    return toDeal({
      opportunity,
      account,
      contactRole: contactRoles[0],
      lineItems,
      vatField: this.#vatField,
      defaultCurrency: this.#defaultCurrency,
    });
  }

  /** PATCHes the sync fields; writing the same values twice leaves the same Opportunity. */
  async updateDeal(dealId: string, update: DealSyncUpdate): Promise<void> {
    const id = requireRecordId(dealId, 'Opportunity');
    await this.#client.call(`PATCH Opportunity ${id}`, (connection) =>
      connection.sobject('Opportunity').update({ Id: id, ...toOpportunityFields(update, this.#syncFields) }),
    );
  }

  /** Every line item, following `nextRecordsUrl` (jsforce's autoFetch); more than MAX_LINE_ITEMS is an error. */
  async #readLineItems(id: string): Promise<LineItemRecord[]> {
    const result = await this.#client.call(`query OpportunityLineItem of ${id}`, (connection) =>
      connection.query(lineItemQuery(id), { autoFetch: true, maxFetch: MAX_LINE_ITEMS + 1 }),
    );
    const items = parseLineItems(result.records, id);
    if (items.length > MAX_LINE_ITEMS || result.totalSize > items.length) {
      throw new PermanentError(`${SYSTEM}: Opportunity ${id} has ${result.totalSize} line items; Harmony reads at most ${MAX_LINE_ITEMS}`, { system: SYSTEM, code: 'too_many_line_items' });
    }
    return items;
  }
}
