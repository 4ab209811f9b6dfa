/**
 * The sandbox org's Outbound Message sender, behaving as Salesforce documents it
 * ("Understanding Notifications", SOAP API Developer Guide): each notification is queued
 * durably (node:sqlite in the data directory) with its own 18-character id (prefix `04l`),
 * goes out in a SOAP 1.1 `notifications` message of up to 100 notifications, and is
 * redelivered with increasing back-off until the listener answers `<Ack>true</Ack>`; after
 * 24 hours it is dropped. A Fault, any other answer, a non-200 status, a timeout or a dropped
 * connection is a failed delivery. Fields go out in the order recorded messages show: `Id`
 * first, then the rest by name.
 */
import { randomInt } from 'node:crypto';
import * as z from 'zod';
import { toEighteenCharacterId, idSuffix } from '../../../functions/connectors/crm/salesforce/record-id.ts';
import { OUTBOUND_MESSAGE_NAMESPACE, SOBJECT_NAMESPACE } from '../../../functions/connectors/crm/salesforce/outbound-message.ts';
import { readEnvelope } from '../../../functions/connectors/soap/envelope.ts';
import { childElement, readXml } from '../../../functions/connectors/soap/xml-reader.ts';
import { decimalText, writeElement, type XmlElementSpec } from '../../../functions/connectors/soap/xml-writer.ts';
import { HubDatabase } from '../../sqlite/hub-database.ts';
import { OutboxTimer, type OutboxDelivery } from '../outbox-timer.ts';

/** Salesforce's schedule: the wait doubles from 30 seconds up to two hours between attempts, then stays there. */
export const SALESFORCE_RETRY_SCHEDULE_MS: readonly number[] = [
  30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_840_000, 7_200_000,
];

/** Notifications not delivered within 24 hours are dropped. */
export const SALESFORCE_MAX_AGE_MS = 24 * 3_600_000;

/** How long Salesforce waits for a listener's answer. */
export const SALESFORCE_DELIVERY_TIMEOUT_MS = 60_000;

/** Most notifications in one message. */
const MAX_NOTIFICATIONS = 100;

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** How the sender is set up. */
export interface OutboundMessageSenderOptions {
  /** The listener, e.g. `http://127.0.0.1:3000/webhooks/salesforce`. */
  endpointUrl: string;
  /** The org's 18-character id (00D…), sent as OrganizationId. */
  organizationId: string;
  /** The queue lives in `<dataDir>/outbound-messages.sqlite`. */
  dataDir: string;
  log?: (line: string) => void;
  /** Waits after each failed delivery, in milliseconds; the last repeats. @default SALESFORCE_RETRY_SCHEDULE_MS */
  retryScheduleMs?: readonly number[];
  /** Age after which an undelivered notification is dropped. @default SALESFORCE_MAX_AGE_MS */
  maxAgeMs?: number;
  /** How long a delivery may take before it counts as failed. @default SALESFORCE_DELIVERY_TIMEOUT_MS */
  timeoutMs?: number;
  /** Base of the EnterpriseUrl and PartnerUrl a message carries. @default https://harmony-sandbox.my.salesforce.com */
  instanceUrl?: string;
}

/** A field value as the sandbox's records hold it. */
type FieldValue = string | number | boolean | null;

const QueuedRow = z.object({
  id: z.string(),
  sobject_type: z.string(),
  fields: z.string(),
  queued_at: z.number(),
  attempts: z.number(),
});
type QueuedRow = z.infer<typeof QueuedRow>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  sobject_type TEXT NOT NULL,
  fields TEXT NOT NULL,
  queued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_by_due ON notifications (next_attempt_at, seq);
`;

/** What one delivery attempt came to. */
interface DeliveryOutcome {
  readonly acknowledged: boolean;
  /** Why not, for the log. */
  readonly problem?: string;
}

/** Queues Outbound Message notifications and delivers them until acknowledged; one message in flight at a time. */
export class OutboundMessageSender {
  readonly #options: Required<Omit<OutboundMessageSenderOptions, 'log'>> & Pick<OutboundMessageSenderOptions, 'log'>;
  readonly #database: HubDatabase;
  /** Three characters that keep this queue's ids apart from another queue's, chosen when the queue is created. */
  readonly #instanceKey: string;
  readonly #actionId: string;
  readonly #timer: OutboxTimer<DeliveryOutcome>;

  constructor(options: OutboundMessageSenderOptions) {
    if (toEighteenCharacterId(options.organizationId) !== options.organizationId || !options.organizationId.startsWith('00D')) {
      throw new Error(`organizationId: expected an 18-character organization id starting 00D, got ${JSON.stringify(options.organizationId)}`);
    }
    if (!URL.canParse(options.endpointUrl) || !/^https?:$/.test(new URL(options.endpointUrl).protocol)) {
      throw new Error(`endpointUrl: expected an http(s) URL, got ${JSON.stringify(options.endpointUrl)}`);
    }
    const schedule = options.retryScheduleMs ?? SALESFORCE_RETRY_SCHEDULE_MS;
    if (schedule.length === 0 || schedule.some((delay) => !Number.isFinite(delay) || delay < 0)) {
      throw new Error('retryScheduleMs: expected at least one delay of 0 ms or more');
    }
    this.#options = {
      ...options,
      retryScheduleMs: schedule,
      maxAgeMs: options.maxAgeMs ?? SALESFORCE_MAX_AGE_MS,
      timeoutMs: options.timeoutMs ?? SALESFORCE_DELIVERY_TIMEOUT_MS,
      instanceUrl: (options.instanceUrl ?? 'https://harmony-sandbox.my.salesforce.com').replace(/\/+$/, ''),
    };
    this.#database = new HubDatabase({ dataDirectory: options.dataDir, fileName: 'outbound-messages.sqlite', synchronous: 'FULL', schema: SCHEMA, schemaVersion: 1 });
    this.#instanceKey = this.#meta('instance', () => Array.from({ length: 3 }, () => BASE62.charAt(randomInt(62))).join(''));
    this.#actionId = this.#id('04k', 1);
    this.#timer = new OutboxTimer({
      nextDueAt: () => {
        const due = this.#database.statement('SELECT MIN(next_attempt_at) AS due FROM notifications').get()?.due;
        return typeof due === 'number' ? due : undefined;
      },
      deliverDue: (now) => this.#deliverDue(now),
    });
    // Notifications a previous run left undelivered go out again.
    this.#timer.wake();
  }

  /** Queues one notification for the Opportunity (its fields as Salesforce would send them) and delivers it, retrying until acknowledged. */
  enqueue(sObjectType: 'Opportunity', fields: Record<string, string | number | boolean | null>): void {
    if (this.#timer.closed) throw new Error('outbound messages: the sender is closed');
    if (typeof fields.Id !== 'string') throw new Error('outbound messages: the record has no Id field');
    const now = Date.now();
    const id = this.#database.transaction(() => {
      const number = Number(this.#meta('next', () => '1'));
      this.#setMeta('next', String(number + 1));
      const notificationId = this.#id('04l', number);
      this.#database
        .statement('INSERT INTO notifications (id, sobject_type, fields, queued_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, 0, ?)')
        .run(notificationId, sObjectType, JSON.stringify(fields), now, now);
      return notificationId;
    });
    this.#options.log?.(`salesforce outbound messages: queued notification ${id} for ${sObjectType} ${fields.Id}`);
    this.#timer.wake();
  }

  /** Stops delivering (a message in flight is abandoned and goes out again after a restart) and closes the queue. */
  async close(): Promise<void> {
    await this.#timer.close();
    this.#database.close();
  }

  /** Drops what is too old, then sends the notifications due longest (of one sObject type) as one message. */
  #deliverDue(now: number): OutboxDelivery<DeliveryOutcome> | undefined {
    this.#dropExpired(now);
    const due = this.#database
      .statement('SELECT id, sobject_type, fields, queued_at, attempts FROM notifications WHERE next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?')
      .all(now, MAX_NOTIFICATIONS)
      .map((row) => QueuedRow.parse(row));
    // One message carries one sObject type (its Notification type is e.g. OpportunityNotification).
    const batch = due.filter((row) => row.sobject_type === due[0]?.sobject_type);
    if (batch.length === 0) return undefined;
    const controller = new AbortController();
    return {
      outcome: this.#send(this.#message(batch), controller.signal),
      abort: () => controller.abort(new Error('the sender closed')),
      record: (outcome) => this.#settle(batch, outcome),
    };
  }

  /** Posts one message; resolves with whether it was acknowledged, never rejects. */
  async #send(body: string, closed: AbortSignal): Promise<DeliveryOutcome> {
    const { endpointUrl, timeoutMs } = this.#options;
    let status: number;
    let text: string;
    try {
      const response = await fetch(endpointUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', 'user-agent': 'Jakarta Commons-HttpClient/3.1 (harmony sandbox)' },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([closed, AbortSignal.timeout(timeoutMs)]),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const name = (error as Error).name;
      return { acknowledged: false, problem: name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${(error as Error).message}${(error as Error).cause instanceof Error ? ` (${((error as Error).cause as Error).message})` : ''}` };
    }
    if (status !== 200) return { acknowledged: false, problem: `HTTP ${status}: ${text.slice(0, 200)}` };
    return isAck(text) ? { acknowledged: true } : { acknowledged: false, problem: `the answer is not <Ack>true</Ack>: ${text.slice(0, 200)}` };
  }

  /** Acknowledged notifications leave the queue; the others wait for their next attempt. */
  #settle(batch: readonly QueuedRow[], outcome: DeliveryOutcome): void {
    const ids = batch.map((row) => row.id);
    if (outcome.acknowledged) {
      this.#database.transaction(() => {
        for (const id of ids) this.#database.statement('DELETE FROM notifications WHERE id = ?').run(id);
      });
      this.#options.log?.(`salesforce outbound messages: ${ids.length} notification(s) delivered and acknowledged (${ids.join(', ')})`);
      return;
    }
    const schedule = this.#options.retryScheduleMs;
    const now = Date.now();
    let latest = 0;
    this.#database.transaction(() => {
      for (const row of batch) {
        const attempts = row.attempts + 1;
        const delay = schedule[Math.min(attempts, schedule.length) - 1]!;
        latest = Math.max(latest, delay);
        this.#database.statement('UPDATE notifications SET attempts = ?, next_attempt_at = ? WHERE id = ?').run(attempts, now + delay, row.id);
      }
    });
    this.#options.log?.(`salesforce outbound messages: ${ids.length} notification(s) not acknowledged (${outcome.problem ?? 'no reason'}); next attempt in ${latest < 10_000 ? `${latest} ms` : `${Math.round(latest / 1000)} s`}`);
  }

  #dropExpired(now: number): void {
    const expired = this.#database.statement('SELECT id FROM notifications WHERE queued_at < ?').all(now - this.#options.maxAgeMs);
    if (expired.length === 0) return;
    this.#database.statement('DELETE FROM notifications WHERE queued_at < ?').run(now - this.#options.maxAgeMs);
    this.#options.log?.(`salesforce outbound messages: dropped ${expired.length} notification(s) undelivered for ${Math.round(this.#options.maxAgeMs / 3_600_000)} h (${expired.map((row) => String(row.id)).join(', ')})`);
  }

  /** The SOAP message for `batch`, shaped as Salesforce writes it. */
  #message(batch: readonly QueuedRow[]): string {
    const { organizationId, instanceUrl } = this.#options;
    const org15 = organizationId.slice(0, 15);
    const notifications: XmlElementSpec = {
      name: 'notifications',
      namespace: OUTBOUND_MESSAGE_NAMESPACE,
      content: [
        { name: 'OrganizationId', content: organizationId },
        { name: 'ActionId', content: this.#actionId },
        { name: 'SessionId', attributes: { 'xsi:nil': 'true' } },
        { name: 'EnterpriseUrl', content: `${instanceUrl}/services/Soap/c/62.0/${org15}` },
        { name: 'PartnerUrl', content: `${instanceUrl}/services/Soap/u/62.0/${org15}` },
        ...batch.map((row): XmlElementSpec => ({
          name: 'Notification',
          content: [
            { name: 'Id', content: row.id },
            {
              name: 'sObject',
              attributes: { 'xsi:type': `sf:${row.sobject_type}`, 'xmlns:sf': SOBJECT_NAMESPACE },
              content: sObjectFields(JSON.parse(row.fields) as Record<string, FieldValue>),
            },
          ],
        })),
      ],
    };
    return (
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI}">` +
      `<soapenv:Body>${writeElement(notifications)}</soapenv:Body></soapenv:Envelope>`
    );
  }

  /** An 18-character id: the key prefix, `5g` for the pod, this queue's key and `number` in base 62. */
  #id(prefix: string, number: number): string {
    let digits = '';
    for (let rest = number; rest > 0; rest = Math.floor(rest / 62)) digits = BASE62.charAt(rest % 62) + digits;
    const id15 = `${prefix}5g${this.#instanceKey}${digits.padStart(7, '0')}`;
    return `${id15}${idSuffix(id15)}`;
  }

  #meta(name: string, initial: () => string): string {
    const row = this.#database.statement('SELECT value FROM meta WHERE name = ?').get(name);
    if (row !== undefined) return String(row.value);
    const value = initial();
    this.#setMeta(name, value);
    return value;
  }

  #setMeta(name: string, value: string): void {
    this.#database.statement('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }
}

/** The record's fields as `sf:` elements: `Id` first, then by name; null as `xsi:nil`. */
function sObjectFields(fields: Readonly<Record<string, FieldValue>>): XmlElementSpec[] {
  const names = Object.keys(fields).filter((name) => name !== 'Id').sort();
  return ['Id', ...names].map((name): XmlElementSpec => {
    const value = fields[name] ?? null;
    if (value === null) return { name, prefix: 'sf', attributes: { 'xsi:nil': 'true' } };
    const text = typeof value === 'number' ? decimalText(value, `sObject.${name}`) : String(value);
    return { name, prefix: 'sf', content: text };
  });
}

/** True when `text` is a SOAP envelope whose body is `notificationsResponse` with `Ack` true. */
function isAck(text: string): boolean {
  try {
    const payload = readEnvelope(readXml(text, { maxLength: 100_000 })).payload;
    if (payload?.name !== 'notificationsResponse' || payload.namespace !== OUTBOUND_MESSAGE_NAMESPACE) return false;
    const ack = childElement(payload, 'Ack', OUTBOUND_MESSAGE_NAMESPACE)?.text.trim();
    return ack === 'true' || ack === '1';
  } catch {
    return false;
  }
}
