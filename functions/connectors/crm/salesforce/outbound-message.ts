/**
 * Salesforce Outbound Messages as the listener receives them: the SOAP 1.1 `notifications`
 * request read (hostile XML refused) and validated, and the two answers a listener gives —
 * the `notificationsResponse` Ack and a SOAP Fault.
 *
 * Sources (developer.salesforce.com, SOAP API Developer Guide): "Understanding the Outbound
 * Messaging WSDL" (`notifications` holds OrganizationId, ActionId, a nillable SessionId,
 * EnterpriseUrl, PartnerUrl and up to 100 `Notification`s, each an `Id` and an `sObject`
 * typed `xsi:type="sf:<Object>"` with its fields in `urn:sobject.enterprise.soap.sforce.com`;
 * the answer is `notificationsResponse` with one boolean `Ack`), "Understanding
 * Notifications" (a message is redelivered until acknowledged, so the notification id is the
 * dedup key; a record deleted before delivery arrives without data) and "Considerations for
 * Security" (check the OrganizationId of every message).
 */
import * as z from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { parseOrThrow } from '../../../core/validation.ts';
import { readEnvelope, SOAP_ENVELOPE_NAMESPACE, writeEnvelope, writeFault } from '../../soap/envelope.ts';
import { readXml, XmlReadError, type XmlElement } from '../../soap/xml-reader.ts';
import { toEighteenCharacterId } from './record-id.ts';

/** Namespace of `notifications`, its children and `notificationsResponse`. */
export const OUTBOUND_MESSAGE_NAMESPACE = 'http://soap.sforce.com/2005/09/outbound';

/** Namespace of the sObject fields (the enterprise WSDL's sObject namespace). */
export const SOBJECT_NAMESPACE = 'urn:sobject.enterprise.soap.sforce.com';

/** Key of an sObject's type (its `xsi:type` without prefix) in the parsed value; no field can be named so. */
export const SOBJECT_TYPE_KEY = 'xsi:type';

/** Where errors point: the element path of `notifications` in the envelope. */
const ROOT = 'Envelope.Body.notifications';

/** Element nesting a message needs (Envelope, Body, notifications, Notification, sObject, field) and some room. */
const MAX_DEPTH = 32;

/** Key prefixes of the ids a message carries. */
const PREFIX = { organization: '00D', notification: '04l', action: '04k' } as const;

/** A 15- or 18-character Salesforce id (valid suffix), as its 18-character form. */
export const SalesforceId = z
  .string()
  .transform((id, context) => {
    const normalized = toEighteenCharacterId(id);
    if (normalized === undefined) {
      context.addIssue({ code: 'custom', message: `expected a 15- or 18-character Salesforce id, got ${JSON.stringify(id.slice(0, 40))}` });
      return z.NEVER;
    }
    return normalized;
  });

/** A Salesforce id whose key prefix names one kind of record, e.g. `00D` for an organization. */
export function idWithPrefix(prefix: string, kind: string) {
  return SalesforceId.refine((id) => id.startsWith(prefix), { message: `expected ${kind} id (${prefix}…)` });
}

/** The sObject API name in `xsi:type`, e.g. `Opportunity` or `Design_Registration__c`. */
const SObjectType = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, { error: 'expected xsi:type="sf:<sObject API name>"' });

/** One field value: text, null for `xsi:nil="true"`, or nested elements. */
export type SObjectFieldValue = string | null | { readonly [name: string]: unknown };

/** An sObject as sent: its type and the fields the outbound message was set up with. */
export const OutboundSObject = z.looseObject({
  [SOBJECT_TYPE_KEY]: SObjectType,
  /** Absent only when the record was deleted before the message went out (it then carries no data). */
  Id: SalesforceId.optional(),
});
export type OutboundSObject = z.infer<typeof OutboundSObject>;

/** One notification: its own id (the same on every redelivery) and the record. */
export const OutboundNotification = z.object({
  Id: idWithPrefix(PREFIX.notification, 'a notification'),
  sObject: OutboundSObject,
});

/** The `notifications` element of an outbound message. */
export const OutboundMessage = z.object({
  OrganizationId: idWithPrefix(PREFIX.organization, 'an organization'),
  ActionId: idWithPrefix(PREFIX.action, 'a workflow action'),
  /** Sent only when the outbound message is set up to send a session id; nil otherwise. */
  SessionId: z.string().nullable().optional(),
  EnterpriseUrl: z.string(),
  PartnerUrl: z.string(),
  Notification: z
    .array(OutboundNotification, { error: 'expected 1 to 100 Notification elements' })
    .min(1, { error: 'expected 1 to 100 Notification elements' })
    .max(100, { error: 'expected at most 100 Notification elements (Salesforce sends up to 100 a message)' }),
});
export type OutboundMessage = z.infer<typeof OutboundMessage>;

/**
 * Reads and validates a delivery's body. Throws PermanentError naming what is wrong and
 * where, e.g. `invalid Envelope.Body.notifications — Envelope.Body.notifications.Notification[3].Id: expected a notification id (04l…)`.
 */
export function parseOutboundMessage(body: string, maxLength: number): OutboundMessage {
  let root: XmlElement;
  try {
    root = readXml(body, { maxLength, maxDepth: MAX_DEPTH });
  } catch (error) {
    if (error instanceof XmlReadError) throw invalid(`body: ${error.message}`, error);
    throw error;
  }
  let payload: XmlElement | undefined;
  try {
    const envelope = readEnvelope(root);
    if (envelope.version !== '1.1') throw new XmlReadError(`the envelope is SOAP ${envelope.version}; Salesforce sends SOAP 1.1 (${SOAP_ENVELOPE_NAMESPACE['1.1']})`);
    payload = envelope.payload;
  } catch (error) {
    if (error instanceof XmlReadError) throw invalid(`Envelope: ${error.message}`, error);
    throw error;
  }
  if (payload === undefined || payload.name !== 'notifications' || payload.namespace !== OUTBOUND_MESSAGE_NAMESPACE) {
    const found = payload === undefined ? 'nothing' : `<${payload.name}>${payload.namespace === '' ? '' : ` in ${payload.namespace}`}`;
    throw invalid(`Envelope.Body: expected <notifications> in ${OUTBOUND_MESSAGE_NAMESPACE}, found ${found}`);
  }
  return parseOrThrow(OutboundMessage, notificationsValue(payload), ROOT);
}

/** The `notificationsResponse` a listener answers once it has taken every notification of the message. */
export function outboundMessageAck(): string {
  return writeEnvelope('1.1', { name: 'notificationsResponse', namespace: OUTBOUND_MESSAGE_NAMESPACE, content: { Ack: true } });
}

/**
 * A SOAP 1.1 Fault: `soap:Client` when the message itself is wrong (redelivering it will not
 * help), `soap:Server` when the listener could not take it now (Salesforce redelivers).
 */
export function outboundMessageFault(code: 'Client' | 'Server', reason: string): string {
  return writeFault('1.1', { code: `soap:${code}`, reason: xmlSafe(reason) });
}

function invalid(message: string, cause?: unknown): PermanentError {
  return new PermanentError(`invalid ${ROOT} — ${message}`, { code: 'validation', cause });
}

/** Characters XML 1.0 cannot carry become U+FFFD, so a reason quoting hostile input can still be written. */
function xmlSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** An element's value for validation: null when `xsi:nil="true"`, its text, or its child elements by name. */
function leafValue(element: XmlElement): SObjectFieldValue {
  if (element.attributes.nil === 'true' || element.attributes.nil === '1') return null;
  if (element.children.length === 0) return element.text;
  return childrenByName(element.children, () => true, leafValue);
}

/**
 * The children that pass `include`, by local name; a repeated name becomes an array (which the
 * schema then refuses where one is expected). Built with `fromEntries`, so a child named
 * `__proto__` is an own key, never a prototype.
 */
function childrenByName<Value>(
  children: readonly XmlElement[],
  include: (child: XmlElement) => boolean,
  valueOf: (child: XmlElement) => Value,
): Record<string, Value | Value[]> {
  const byName = new Map<string, Value[]>();
  for (const child of children.filter(include)) {
    const values = byName.get(child.name) ?? [];
    values.push(valueOf(child));
    byName.set(child.name, values);
  }
  return Object.fromEntries([...byName].map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
}

function notificationsValue(notifications: XmlElement): Record<string, unknown> {
  const inOutbound = (child: XmlElement) => child.namespace === OUTBOUND_MESSAGE_NAMESPACE;
  const value: Record<string, unknown> = childrenByName(notifications.children, (child) => inOutbound(child) && child.name !== 'Notification', leafValue);
  const list = notifications.children.filter((child) => inOutbound(child) && child.name === 'Notification');
  if (list.length > 0) {
    value.Notification = list.map((notification) => {
      const entry: Record<string, unknown> = childrenByName(notification.children, (child) => inOutbound(child) && child.name !== 'sObject', leafValue);
      const sObjects = notification.children.filter((child) => inOutbound(child) && child.name === 'sObject');
      if (sObjects.length > 0) entry.sObject = sObjects.length === 1 ? sObjectValue(sObjects[0]!) : sObjects.map(sObjectValue);
      return entry;
    });
  }
  return value;
}

function sObjectValue(sObject: XmlElement): Record<string, unknown> {
  const fields = childrenByName(sObject.children, (child) => child.namespace === SOBJECT_NAMESPACE, leafValue);
  const type = sObject.attributes.type;
  // `xsi:type` is a QName (`sf:Opportunity`): its local part names the sObject.
  return { ...fields, [SOBJECT_TYPE_KEY]: type === undefined ? undefined : type.slice(type.indexOf(':') + 1) };
}
