/**
 * The business key each webhook event is audited under: the deal's key for a deal event (so a
 * deal's webhooks, saga steps and compensations read as one story), the object's otherwise.
 */
import { businessKeyForDeal } from '../events.ts';
import type { HubEvent } from './publish-events.ts';

function businessKeyOf(detailType: string, detail: Readonly<Record<string, unknown>>): string {
  const text = (key: string): string => String(detail[key] ?? '');
  if (typeof detail.dealId === 'string') return businessKeyForDeal(text('crm'), text('accountId'), text('dealId'));
  return `object:${text('crm')}:${text('accountId')}:${text('objectType') || detailType}:${text('objectId')}`;
}

/** The events with their business keys. */
export function withBusinessKeys(events: readonly Omit<HubEvent, 'businessKey'>[]): HubEvent[] {
  return events.map((event) => ({ ...event, businessKey: businessKeyOf(event.detailType, event.detail) }));
}
