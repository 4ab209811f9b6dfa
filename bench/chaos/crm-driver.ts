/**
 * What a sales team does to the sandbox CRM during a chaos run: create companies,
 * deals and their line items (official HubSpot client, batches of 100), move deals to
 * won one by one, and read the deals' ERP fields back. Every call carries
 * `x-sandbox-faults: bypass`, so injected faults hit the hub's calls only.
 */
import { Client } from '@hubspot/api-client';

/** The token the sandbox CRM accepts. */
export const HUBSPOT_TOKEN = 'pat-local-harmony';
/** The SKU the ERP does not know: its deals must be rolled back, not lost. */
export const UNKNOWN_SKU = 'NO-SUCH-SKU';
const KNOWN_SKUS = ['WIDGET-1', 'GADGET-2', 'SERVICE-HOUR', 'CABLE-3', 'DOCK-4'] as const;
const BATCH = 100;
const DEAL_TO_COMPANY = 5;
const LINE_ITEM_TO_DEAL = 20;
/** Sandbox calls with this header are never faulted and consume no fault rule. */
export const BYPASS_FAULTS = { 'x-sandbox-faults': 'bypass' } as const;

/** One deal the harness created. */
export interface ChaosDeal {
  readonly id: string;
  readonly sku: string;
}

/** The ERP fields of a deal as the CRM shows them. */
export interface DealSync {
  readonly erpOrderRef: string | undefined;
  readonly erpStatus: string | undefined;
  readonly syncError: string | undefined;
}

const hubspotDefined = (associationTypeId: number) => ({ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId });

/** Creates `count` deals in an open stage, each with one line item; `unknownSku(index)` picks the rejected ones. */
export async function createDeals(hubspotUrl: string, count: number, unknownSku: (index: number) => boolean): Promise<ChaosDeal[]> {
  const crm = new Client({ accessToken: HUBSPOT_TOKEN, basePath: hubspotUrl, defaultHeaders: { ...BYPASS_FAULTS } });
  const companyIds: string[] = [];
  const companies = Math.max(1, Math.min(20, Math.ceil(count / 10)));
  for (let index = 0; index < companies; index += 1) {
    const company = await crm.crm.companies.basicApi.create({ properties: { name: `Chaos ${index} GmbH`, country: 'Germany' }, associations: [] });
    companyIds.push(company.id);
  }
  const deals: ChaosDeal[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const indexes = Array.from({ length: Math.min(BATCH, count - start) }, (_, offset) => start + offset);
    const created = await crm.crm.deals.batchApi.create({
      inputs: indexes.map((index) => ({
        properties: { dealname: `Chaos deal ${index}`, dealstage: 'appointmentscheduled', deal_currency_code: 'EUR' },
        associations: [{ to: { id: companyIds[index % companyIds.length]! }, types: [hubspotDefined(DEAL_TO_COMPANY)] }],
      })),
    });
    const ids = created.results.map((deal) => deal.id);
    const skus = indexes.map((index) => (unknownSku(index) ? UNKNOWN_SKU : KNOWN_SKUS[index % KNOWN_SKUS.length]!));
    await crm.crm.lineItems.batchApi.create({
      inputs: ids.map((id, offset) => ({
        properties: { hs_sku: skus[offset]!, name: `Item ${skus[offset]}`, quantity: '2', price: '10' },
        associations: [{ to: { id }, types: [hubspotDefined(LINE_ITEM_TO_DEAL)] }],
      })),
    });
    ids.forEach((id, offset) => deals.push({ id, sku: skus[offset]! }));
  }
  return deals;
}

/** What moving one deal to won took. */
export interface MoveOutcome {
  /** Attempts answered 429/5xx or not at all: 0 unless the bypass header stopped working. */
  readonly faultsSeen: number;
}

/** Moves a deal to won, retrying until the CRM says 200. */
export async function moveToWon(hubspotUrl: string, dealId: string): Promise<MoveOutcome> {
  let faultsSeen = 0;
  for (;;) {
    try {
      const response = await fetch(`${hubspotUrl}/crm/v3/objects/deals/${dealId}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${HUBSPOT_TOKEN}`, 'content-type': 'application/json', ...BYPASS_FAULTS },
        body: JSON.stringify({ properties: { dealstage: 'closedwon' } }),
        signal: AbortSignal.timeout(5_000),
      });
      await response.arrayBuffer();
      if (response.ok) return { faultsSeen };
      if (response.status !== 429 && response.status < 500) throw new Error(`moving deal ${dealId} to won: HTTP ${response.status}`);
    } catch (error) {
      if ((error as Error).message.startsWith('moving deal')) throw error;
    }
    faultsSeen += 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Reads the ERP fields of the deals, 100 per request. */
export async function readDealSync(hubspotUrl: string, dealIds: readonly string[]): Promise<Map<string, DealSync>> {
  const crm = new Client({ accessToken: HUBSPOT_TOKEN, basePath: hubspotUrl, defaultHeaders: { ...BYPASS_FAULTS } });
  const result = new Map<string, DealSync>();
  for (let start = 0; start < dealIds.length; start += BATCH) {
    const page = await crm.crm.deals.batchApi.read({
      inputs: dealIds.slice(start, start + BATCH).map((id) => ({ id })),
      properties: ['erp_order_ref', 'erp_status', 'erp_sync_error'],
      propertiesWithHistory: [],
    });
    for (const deal of page.results) {
      result.set(deal.id, {
        erpOrderRef: deal.properties.erp_order_ref || undefined,
        erpStatus: deal.properties.erp_status || undefined,
        syncError: deal.properties.erp_sync_error || undefined,
      });
    }
  }
  return result;
}
