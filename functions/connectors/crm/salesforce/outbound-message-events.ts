/**
 * What each notification of an outbound message becomes on the hub bus: a won Opportunity the
 * same canonical deal event HubSpot's and Pipedrive's routes produce, anything else the generic
 * object change. The dedup key is the notification id, which Salesforce keeps on every
 * redelivery of the notification ("Understanding Notifications": check the notification ids
 * before processing, since a message may be delivered more than once).
 */
import * as z from 'zod';
import {
  CRM_OBJECT_CHANGED,
  DEAL_STAGE_CHANGED,
  WON_DEAL_STAGE,
  type CrmObjectChangedDetail,
  type DealStageChangedDetail,
  type HubEvent,
} from '../../../core/events.ts';
import { parseOrThrow } from '../../../core/validation.ts';
import { idWithPrefix, SalesforceId, SOBJECT_TYPE_KEY, type OutboundMessage, type OutboundSObject } from './outbound-message.ts';

/** `changeType` of a notification that is not a won Opportunity: Salesforce does not say what changed, only that the rule fired. */
export const OUTBOUND_MESSAGE_CHANGE = 'outboundMessage';

/** xsd:boolean as Salesforce writes it (`true`/`false`; `1`/`0` are the same values). */
const XsdBoolean = z.enum(['true', 'false', '1', '0'], { error: 'expected an xsd:boolean (true or false)' }).transform((text) => text === 'true' || text === '1');

/** xsd:dateTime with a zone, as Salesforce writes it (`2026-05-15T18:00:00.000Z`). */
const Instant = z.iso.datetime({ offset: true, error: 'expected an xsd:dateTime with a zone, e.g. 2026-05-15T18:00:00.000Z' });

/** The fields of any record the mapping reads: its id, and when it last changed (when the message carries it). */
const RecordFields = z.looseObject({
  Id: SalesforceId,
  LastModifiedDate: Instant.nullable().optional(),
  SystemModstamp: Instant.nullable().optional(),
});

/**
 * The Opportunity fields the mapping reads. Which fields a message carries is chosen when the
 * outbound message is set up: a won deal is recognised from `IsWon` or `StageName`, so at least
 * one of them must be among them.
 */
const OpportunityFields = RecordFields.extend({
  Id: idWithPrefix('006', 'an Opportunity'),
  IsWon: XsdBoolean.nullable().optional(),
  StageName: z.string().nullable().optional(),
});

/** How a deployment reads won deals. */
export interface OutboundMessageMapping {
  /** StageName values that mean won even where `IsWon` is not sent or false: the deployment's won stages. */
  readonly wonStages: ReadonlySet<string>;
}

/** The events of one message, and the notifications that carried no record (deleted before delivery). */
export interface OutboundMessageEvents {
  readonly events: HubEvent[];
  readonly withoutRecord: readonly string[];
}

/**
 * Maps every notification of a validated message. Throws PermanentError naming the element
 * path when an Opportunity's fields are not what Salesforce sends.
 */
export function outboundMessageEvents(message: OutboundMessage, mapping: OutboundMessageMapping, receivedAt: Date): OutboundMessageEvents {
  const events: HubEvent[] = [];
  const withoutRecord: string[] = [];
  message.Notification.forEach((notification, index) => {
    const where = `Envelope.Body.notifications.Notification[${index}].sObject`;
    const sObject: OutboundSObject = notification.sObject;
    if (sObject.Id === undefined && Object.keys(sObject).every((key) => key === SOBJECT_TYPE_KEY)) {
      withoutRecord.push(notification.Id);
      return;
    }
    const common = { crm: 'salesforce', accountId: message.OrganizationId, eventId: notification.Id };
    const eventId = `salesforce:${notification.Id}`;
    const type = sObject[SOBJECT_TYPE_KEY];
    if (type === 'Opportunity') {
      const opportunity = parseOrThrow(OpportunityFields, sObject, where);
      const occurredAt = lastChange(opportunity, receivedAt);
      const stage = opportunity.IsWon === true ? WON_DEAL_STAGE : typeof opportunity.StageName === 'string' && mapping.wonStages.has(opportunity.StageName) ? opportunity.StageName : undefined;
      if (stage !== undefined) {
        const detail: DealStageChangedDetail = { ...common, dealId: opportunity.Id, stage, occurredAt };
        events.push({ eventId, detailType: DEAL_STAGE_CHANGED, detail });
        return;
      }
      events.push(objectChanged(eventId, common, 'Opportunity', opportunity.Id, occurredAt));
      return;
    }
    const record = parseOrThrow(RecordFields, sObject, where);
    events.push(objectChanged(eventId, common, type, record.Id, lastChange(record, receivedAt)));
  });
  return { events, withoutRecord };
}

/** When the record last changed, as the message says (the notification itself carries no time), else when it arrived. */
function lastChange(record: z.infer<typeof RecordFields>, receivedAt: Date): string {
  return new Date(record.LastModifiedDate ?? record.SystemModstamp ?? receivedAt).toISOString();
}

function objectChanged(
  eventId: string,
  common: { crm: string; accountId: string; eventId: string },
  objectType: string,
  objectId: string,
  occurredAt: string,
): HubEvent {
  const detail: CrmObjectChangedDetail = { ...common, objectType, objectId, changeType: OUTBOUND_MESSAGE_CHANGE, occurredAt };
  return { eventId, detailType: CRM_OBJECT_CHANGED, detail };
}
