/**
 * Deals for the end-to-end benchmarks, created in the sandbox CRM before the measured
 * window: already in the won stage, each with a company and one line item of a SKU the
 * ERP knows, through the official HubSpot client in batches of 100.
 */
import { Client } from '@hubspot/api-client';

/** The token the sandbox CRM accepts. */
const HUBSPOT_TOKEN = 'pat-local-harmony';
const BATCH = 100;
const COMPANIES = 20;
const DEAL_TO_COMPANY = 5;
const LINE_ITEM_TO_DEAL = 20;
const SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;
/** The stage the hub's order-to-cash trigger listens for (the default `wonDealStages`). */
export const WON_STAGE = 'closedwon';

const hubspotDefined = (associationTypeId: number) => ({ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId });

/** Creates `count` won deals (spread over a few companies) and returns their ids in creation order. */
export async function createWonDeals(hubspotUrl: string, count: number, label: string): Promise<string[]> {
  const crm = new Client({ accessToken: HUBSPOT_TOKEN, basePath: hubspotUrl, numberOfApiCallRetries: 3 });
  const companyIds: string[] = [];
  for (let index = 0; index < Math.min(COMPANIES, count); index += 1) {
    const company = await crm.crm.companies.basicApi.create({ properties: { name: `Bench ${label} ${index} GmbH`, country: 'Germany' }, associations: [] });
    companyIds.push(company.id);
  }
  const dealIds: string[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const indexes = Array.from({ length: Math.min(BATCH, count - start) }, (_, offset) => start + offset);
    const created = await crm.crm.deals.batchApi.create({
      inputs: indexes.map((index) => ({
        properties: { dealname: `Bench ${label} deal ${index}`, dealstage: WON_STAGE, deal_currency_code: 'EUR', pipeline: 'default' },
        associations: [{ to: { id: companyIds[index % companyIds.length]! }, types: [hubspotDefined(DEAL_TO_COMPANY)] }],
      })),
    });
    const ids = created.results.map((deal) => deal.id);
    await crm.crm.lineItems.batchApi.create({
      inputs: ids.map((id, offset) => {
        const sku = SKUS[(start + offset) % SKUS.length]!;
        return {
          properties: { hs_sku: sku, name: `Item ${sku}`, quantity: '2', price: '10' },
          associations: [{ to: { id }, types: [hubspotDefined(LINE_ITEM_TO_DEAL)] }],
        };
      }),
    });
    dealIds.push(...ids);
  }
  return dealIds;
}
