/** The HubSpot adapter passes the shared CrmPort contract against the HubSpot sandbox. */
import { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/deals/models/AssociationSpec.js';
import { HubspotCrm } from '../../functions/connectors/crm/hubspot/index.ts';
import { startHubspotSandbox } from '../../local/sandbox/hubspot/server.ts';
import { describeCrmPortContract, type SeededDeal } from '../contracts/crm-port-contract.ts';

const TOKEN = 'pat-na1-contract-token';
const association = (id: string, typeId: number) => ({ to: { id }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: typeId }] });

describeCrmPortContract(
  'HubSpot',
  async () => {
    const sandbox = await startHubspotSandbox({ accessToken: TOKEN, clientSecret: 'contract-secret' });
    const client = new Client({ accessToken: TOKEN, basePath: sandbox.url });
    const control = async (method: string, body?: unknown) => {
      const response = await fetch(`${sandbox.url}/__sandbox/faults`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (!response.ok) throw new Error(`sandbox faults: ${response.status}`);
    };
    let sequence = 0;

    async function seed(withCompany: boolean): Promise<SeededDeal> {
      sequence += 1;
      const email = `buyer-${sequence}@contract.example`;
      const contact = await client.crm.contacts.basicApi.create({ properties: { firstname: 'Ada', lastname: `Lovelace ${sequence}`, email }, associations: [] });
      const company = withCompany
        ? await client.crm.companies.basicApi.create({ properties: { name: `Nordwind ${sequence} GmbH`, vat_number: `DE${100_000_000 + sequence}` }, associations: [] })
        : undefined;
      const deal = await client.crm.deals.basicApi.create({
        properties: { dealname: `Contract deal ${sequence}`, dealstage: 'closedwon', amount: '270', deal_currency_code: 'EUR' },
        associations: [association(contact.id, 3), ...(company === undefined ? [] : [association(company.id, 5)])],
      });
      const lines = [
        { sku: 'WIDGET-1', quantity: 4, unitPrice: 22.5 },
        { sku: 'SERVICE-HOUR', quantity: 2, unitPrice: 90 },
      ];
      for (const line of lines) {
        await client.crm.lineItems.basicApi.create({
          properties: { hs_sku: line.sku, name: line.sku, quantity: String(line.quantity), price: String(line.unitPrice) },
          associations: [association(deal.id, 20)],
        });
      }
      return {
        dealId: deal.id,
        name: `Contract deal ${sequence}`,
        amount: 270,
        currency: 'EUR',
        stage: 'closedwon',
        customer: company === undefined ? { kind: 'person', name: `Ada Lovelace ${sequence}` } : { kind: 'company', name: `Nordwind ${sequence} GmbH` },
        contactEmail: email,
        lines,
      };
    }

    return {
      crm: new HubspotCrm({ accessToken: TOKEN, basePath: sandbox.url, timeoutMs: 1000 }),
      seedWonDeal: () => seed(true),
      seedPersonDeal: () => seed(false),
      async readSyncFields(dealId) {
        const deal = await client.crm.deals.basicApi.getById(dealId, ['erp_order_ref', 'erp_status', 'erp_sync_error']);
        return { erpOrderRef: deal.properties.erp_order_ref ?? undefined, erpStatus: deal.properties.erp_status ?? undefined, syncError: deal.properties.erp_sync_error ?? undefined };
      },
      missingDealId: '999999999',
      injectFault: (fault) => control('POST', { count: 1, ...fault }),
      clearFaults: () => control('DELETE'),
      withBadCredentials: () => new HubspotCrm({ accessToken: 'pat-na1-wrong', basePath: sandbox.url, timeoutMs: 1000 }),
      close: () => sandbox.close(),
    };
  },
  { accessTokens: false },
);
