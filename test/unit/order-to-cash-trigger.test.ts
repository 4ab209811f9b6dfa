/**
 * Which bus events start order-to-cash: a won deal of the deployment's own CRM, whatever
 * sender shaped it — and never another CRM's, whose deal ids mean nothing to it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { orderToCash } from '../../flows/order-to-cash.ts';
import { PipedriveWebhook, toHubEvent } from '../../functions/connectors/crm/pipedrive/webhook.ts';
import { CRM_EVENT_SOURCE } from '../../functions/core/events.ts';
import { matchesEventPattern } from '../../local/eventbridge/event-pattern.ts';

const pipedriveWon = toHubEvent(
  PipedriveWebhook.parse(JSON.parse(readFileSync(new URL('../fixtures/pipedrive/webhook-v2-deal-won.json', import.meta.url), 'utf8'))),
);
const envelope = (detailType: string, detail: unknown) => ({
  version: '0', id: 'e-1', 'detail-type': detailType, source: CRM_EVENT_SOURCE, account: '000000000000',
  time: '2026-11-23T00:00:00Z', region: 'us-east-1', resources: [], detail,
});

describe('the order-to-cash trigger', () => {
  it('matches a Pipedrive won deal in a Pipedrive deployment, and not in a HubSpot one', () => {
    const event = envelope(pipedriveWon.detailType, pipedriveWon.detail);
    expect(matchesEventPattern(orderToCash.trigger({ crm: 'pipedrive', wonDealStages: ['closedwon'] }), event)).toBe(true);
    expect(matchesEventPattern(orderToCash.trigger({ crm: 'hubspot', wonDealStages: ['closedwon'] }), event)).toBe(false);
  });

  it('matches only the stages the deployment calls won', () => {
    const event = envelope(pipedriveWon.detailType, { ...pipedriveWon.detail, crm: 'hubspot', stage: 'contractsigned' });
    expect(matchesEventPattern(orderToCash.trigger({ crm: 'hubspot', wonDealStages: ['closedwon'] }), event)).toBe(false);
    expect(matchesEventPattern(orderToCash.trigger({ crm: 'hubspot', wonDealStages: ['closedwon', 'contractsigned'] }), event)).toBe(true);
  });
});
