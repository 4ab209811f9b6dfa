/**
 * What a salesperson does in the CRM, through the official HubSpot client: create a
 * company and a deal with line items in an open stage, and move it to won. The demo,
 * the end-to-end tests and the benchmarks drive the sandbox CRM with it.
 */
import type { Client } from '@hubspot/api-client';

/** HubSpot's default association type ids (HUBSPOT_DEFINED). */
const DEAL_TO_COMPANY = 5;
const LINE_ITEM_TO_DEAL = 20;

/** One line of a new deal. */
export interface NewDealLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly price: number;
}

/** What a new deal is made of. */
export interface NewDeal {
  readonly dealName: string;
  readonly companyName: string;
  readonly lines: readonly NewDealLine[];
  /** @default 'Germany' */
  readonly country?: string;
  /** @default 'EUR' */
  readonly currency?: string;
}

/** The line a deal gets when the caller does not care: two widgets at 10 EUR. */
export const ONE_WIDGET_LINE: readonly NewDealLine[] = [{ sku: 'WIDGET-1', name: 'Widget', quantity: 2, price: 10 }];

/** Creates the company, the deal (stage `appointmentscheduled`) and its line items; returns the deal id. */
export async function createDeal(crm: Client, deal: NewDeal): Promise<string> {
  const association = (id: string, typeId: number) => ({
    to: { id },
    types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: typeId }],
  });
  const company = await crm.crm.companies.basicApi.create({
    properties: { name: deal.companyName, country: deal.country ?? 'Germany' },
    associations: [],
  });
  const created = await crm.crm.deals.basicApi.create({
    properties: { dealname: deal.dealName, dealstage: 'appointmentscheduled', deal_currency_code: deal.currency ?? 'EUR', pipeline: 'default' },
    associations: [association(company.id, DEAL_TO_COMPANY)],
  });
  await crm.crm.lineItems.batchApi.create({
    inputs: deal.lines.map((line) => ({
      properties: { hs_sku: line.sku, name: line.name, quantity: String(line.quantity), price: String(line.price) },
      associations: [association(created.id, LINE_ITEM_TO_DEAL)],
    })),
  });
  return created.id;
}

/** Moves a deal to the won stage, which makes the CRM send its signed webhook. */
export async function winDeal(crm: Client, dealId: string, stage = 'closedwon'): Promise<void> {
  await crm.crm.deals.basicApi.update(dealId, { properties: { dealstage: stage } });
}
