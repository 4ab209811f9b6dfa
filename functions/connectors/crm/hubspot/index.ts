/**
 * The HubSpot adapter of `CrmPort`: reads a deal with its company, contact and line
 * items through the CRM v3 objects API, and writes Harmony's ERP status back to it.
 */
import { PermanentError } from '../../../core/errors.ts';
import type { RateLimiter } from '../../../core/rate-limit.ts';
import type { CrmPort, Deal, DealSyncUpdate } from '../port.ts';
import { createHubspotTransport, type HubspotTransport } from './client.ts';
import {
  CONTACT_PROPERTIES,
  DEAL_ASSOCIATIONS,
  DEAL_PROPERTIES,
  DEFAULT_VAT_PROPERTY,
  LINE_ITEM_PROPERTIES,
  companyProperties,
  parseBatchReadResponse,
  parseDealResponse,
  parseObjectResponse,
  toDeal,
  toDealProperties,
  type HubspotObject,
} from './mapping.ts';

/** How the adapter reaches one HubSpot portal. */
export interface HubspotCrmOptions {
  /** Private app token (scopes: `crm.objects.deals.read/write`, `crm.objects.companies.read`, `crm.objects.contacts.read`, `crm.objects.line_items.read`). */
  readonly accessToken: string;
  /** @default https://api.hubapi.com */
  readonly basePath?: string;
  /** Company property holding the VAT number. @default vat_number */
  readonly vatProperty?: string;
  /** Socket silence before a call fails as retryable. @default 10000 */
  readonly timeoutMs?: number;
  /** The portal's request budget, shared by every instance. @default none */
  readonly rateLimiter?: RateLimiter | undefined;
  /** ISO 4217 code for deals without `deal_currency_code` (the portal's company currency). */
  readonly defaultCurrency?: string;
}

/** HubSpot's batch read accepts at most 100 ids per call. */
const BATCH_READ_LIMIT = 100;

/** `CrmPort` for HubSpot, through the official `@hubspot/api-client`. */
export class HubspotCrm implements CrmPort {
  readonly system = 'hubspot';
  private readonly transport: HubspotTransport;
  private readonly vatProperty: string;
  private readonly defaultCurrency: string | undefined;

  constructor(options: HubspotCrmOptions) {
    this.transport = createHubspotTransport(options);
    this.vatProperty = options.vatProperty ?? DEFAULT_VAT_PROPERTY;
    this.defaultCurrency = options.defaultCurrency;
  }

  /** Reads the deal with its associations, then its company, contact and line items in parallel. */
  async getDeal(dealId: string): Promise<Deal> {
    assertHubspotId(dealId);
    const deal = parseDealResponse(
      await this.transport.call(`GET deal ${dealId}`, (client) =>
        client.crm.deals.basicApi.getById(dealId, [...DEAL_PROPERTIES], undefined, [...DEAL_ASSOCIATIONS], false),
      ),
    );
    const companyId = deal.companyIds[0];
    const contactId = deal.contactIds[0];
    const [company, contact, lineItems] = await Promise.all([
      companyId === undefined ? undefined : this.getCompany(companyId),
      contactId === undefined ? undefined : this.getContact(contactId),
      this.getLineItems(deal.lineItemIds),
    ]);
    return toDeal({
      deal,
      lineItems,
      vatProperty: this.vatProperty,
      ...(company === undefined ? {} : { company }),
      ...(contact === undefined ? {} : { contact }),
      ...(this.defaultCurrency === undefined ? {} : { defaultCurrency: this.defaultCurrency }),
    });
  }

  /** PATCHes `erp_status`, `erp_sync_error` and, when known, `erp_order_ref`; the same values twice change nothing. */
  async updateDeal(dealId: string, update: DealSyncUpdate): Promise<void> {
    assertHubspotId(dealId);
    const answer = await this.transport.call(`PATCH deal ${dealId}`, (client) =>
      client.crm.deals.basicApi.update(dealId, { properties: toDealProperties(update) }),
    );
    parseObjectResponse(answer, 'deal');
  }

  private async getCompany(companyId: string): Promise<HubspotObject> {
    const answer = await this.transport.call(`GET company ${companyId}`, (client) =>
      client.crm.companies.basicApi.getById(companyId, companyProperties(this.vatProperty), undefined, undefined, false),
    );
    return parseObjectResponse(answer, 'company');
  }

  private async getContact(contactId: string): Promise<HubspotObject> {
    const answer = await this.transport.call(`GET contact ${contactId}`, (client) =>
      client.crm.contacts.basicApi.getById(contactId, [...CONTACT_PROPERTIES], undefined, undefined, false),
    );
    return parseObjectResponse(answer, 'contact');
  }

  private async getLineItems(ids: readonly string[]): Promise<HubspotObject[]> {
    const chunks: string[][] = [];
    for (let start = 0; start < ids.length; start += BATCH_READ_LIMIT) {
      chunks.push(ids.slice(start, start + BATCH_READ_LIMIT));
    }
    const pages = await Promise.all(
      chunks.map(async (chunk) => {
        const answer = await this.transport.call(`POST line_items/batch/read`, (client) =>
          client.crm.lineItems.batchApi.read(
            {
              inputs: chunk.map((id) => ({ id })),
              properties: [...LINE_ITEM_PROPERTIES],
              propertiesWithHistory: [],
            },
            false,
          ),
        );
        return parseBatchReadResponse(answer, chunk, 'line_items');
      }),
    );
    return pages.flat();
  }
}

/** HubSpot record ids are numeric; anything else can only be a caller's mistake. */
function assertHubspotId(id: string): void {
  if (!/^\d{1,20}$/.test(id)) {
    throw new PermanentError(`HubSpot deal id must be numeric, got ${JSON.stringify(id)}`, {
      system: 'hubspot',
      code: 'invalid_id',
    });
  }
}
