/**
 * The sandbox's Outbound Message sender against a small listener on loopback: messages of up
 * to 100 notifications that Harmony's own parser reads, each notification with its own
 * 18-character 04l id, redelivered on every answer but an Ack (a Fault, `Ack` false, a non-200,
 * no answer, a dropped connection) until one comes, and kept across a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outboundMessageAck, outboundMessageFault, parseOutboundMessage, type OutboundMessage } from '../../functions/connectors/crm/salesforce/outbound-message.ts';
import { toEighteenCharacterId } from '../../functions/connectors/crm/salesforce/record-id.ts';
import { OutboundMessageSender, type OutboundMessageSenderOptions } from '../../local/sandbox/salesforce/outbound-messages.ts';

const ORG = '00D5g0000004HrmEAE';

/** What the listener does with one request. */
type Answer = { readonly status: number; readonly body: string } | 'hold' | 'drop';

const ACK: Answer = { status: 200, body: outboundMessageAck() };

interface Listener {
  readonly url: string;
  /** Every message received, parsed as the ingress parses it. */
  readonly messages: OutboundMessage[];
  readonly headers: IncomingMessage['headers'][];
  /** Answers for the next requests, in order; when none are left, Ack. */
  readonly script: Answer[];
  close(): Promise<void>;
}

async function startListener(): Promise<Listener> {
  const messages: OutboundMessage[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const script: Answer[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      messages.push(parseOutboundMessage(Buffer.concat(chunks).toString('utf8'), 1024 * 1024));
      headers.push(request.headers);
      const answer = script.shift() ?? ACK;
      if (answer === 'hold') held.push(response);
      else if (answer === 'drop') request.socket.destroy();
      else response.writeHead(answer.status, { 'content-type': 'text/xml; charset=utf-8' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/salesforce`,
    messages,
    headers,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits until `condition` holds (the machine is shared and slow: no deadline but the test's). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

let dataDir: string;
let listener: Listener;
const senders: OutboundMessageSender[] = [];
const logLines: string[] = [];

function sender(options: Partial<OutboundMessageSenderOptions> = {}): OutboundMessageSender {
  const created = new OutboundMessageSender({
    endpointUrl: listener.url,
    organizationId: ORG,
    dataDir,
    retryScheduleMs: [20, 40, 80],
    log: (line) => logLines.push(line),
    ...options,
  });
  senders.push(created);
  return created;
}

const opportunity = (n: number, extra: Record<string, string | number | boolean | null> = {}) => ({
  Name: `Deal ${n}`,
  Id: toEighteenCharacterId(`0065g00000${String(n).padStart(5, '0')}`)!,
  StageName: 'Closed Won',
  IsWon: true,
  Amount: 1234.5,
  Description: null,
  ...extra,
});

const notificationIds = (message: OutboundMessage) => message.Notification.map((notification) => notification.Id);

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'harmony-outbound-'));
  listener = await startListener();
  logLines.length = 0;
});

afterEach(async () => {
  for (const each of senders.splice(0)) await each.close();
  await listener.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the messages', () => {
  it('batches what is queued together into messages of at most 100, each notification with its own 04l id', async () => {
    const outbox = sender();
    for (let n = 1; n <= 150; n += 1) outbox.enqueue('Opportunity', opportunity(n));
    await until(() => listener.messages.flatMap(notificationIds).length >= 150);
    expect(listener.messages.map((message) => message.Notification.length)).toEqual([100, 50]);
    const ids = listener.messages.flatMap(notificationIds);
    expect(new Set(ids).size).toBe(150);
    for (const id of ids) {
      expect(id).toMatch(/^04l[A-Za-z0-9]{15}$/);
      expect(toEighteenCharacterId(id)).toBe(id);
    }
    const dealIds = listener.messages.flatMap((message) => message.Notification.map((notification) => notification.sObject.Id));
    expect(dealIds).toEqual(Array.from({ length: 150 }, (_, index) => opportunity(index + 1).Id));
  });

  it('sends the org, an 04k action, a nil session id and the fields as Salesforce writes them', async () => {
    sender().enqueue('Opportunity', opportunity(1));
    await until(() => listener.messages.length === 1);
    const [message] = listener.messages;
    expect(message).toMatchObject({ OrganizationId: ORG, SessionId: null });
    expect(message!.ActionId).toMatch(/^04k/);
    expect(message!.EnterpriseUrl).toContain('/services/Soap/c/');
    expect(message!.Notification[0]!.sObject).toEqual({
      'xsi:type': 'Opportunity',
      Id: opportunity(1).Id,
      Amount: '1234.5',
      Description: null,
      IsWon: 'true',
      Name: 'Deal 1',
      StageName: 'Closed Won',
    });
    // Id first, then the other fields by name, as the recorded messages have them.
    expect(Object.keys(message!.Notification[0]!.sObject).filter((key) => key !== 'xsi:type')).toEqual(['Id', 'Amount', 'Description', 'IsWon', 'Name', 'StageName']);
    expect(listener.headers[0]).toMatchObject({ 'content-type': 'text/xml; charset=utf-8', soapaction: '""' });
  });

  it('refuses what Salesforce would never send: an org id that is not one, a record without an Id', () => {
    expect(() => sender({ organizationId: '00D5g0000004Hrm' })).toThrow(/organizationId: expected an 18-character organization id/);
    expect(() => sender().enqueue('Opportunity', { Name: 'no id' })).toThrow(/no Id field/);
  });
});

describe('delivery until acknowledged', () => {
  it('redelivers the same notifications on a Fault, Ack false, another answer, a non-200 Ack, a dropped connection — and stops at the Ack', async () => {
    listener.script.push(
      { status: 500, body: outboundMessageFault('Server', 'bus unavailable') },
      { status: 200, body: outboundMessageAck().replace('<Ack>true</Ack>', '<Ack>false</Ack>') },
      { status: 200, body: '{"ok": true}' },
      { status: 202, body: outboundMessageAck() },
      'drop',
    );
    const outbox = sender({ retryScheduleMs: [5, 10, 20] });
    outbox.enqueue('Opportunity', opportunity(1));
    outbox.enqueue('Opportunity', opportunity(2));
    await until(() => logLines.some((line) => line.includes('delivered and acknowledged')));
    expect(listener.messages).toHaveLength(6);
    const first = notificationIds(listener.messages[0]!);
    expect(first).toHaveLength(2);
    for (const message of listener.messages) expect(notificationIds(message)).toEqual(first);
    expect(logLines.filter((line) => line.includes('not acknowledged'))).toHaveLength(5);
    // Acknowledged notifications leave the queue: nothing goes out again.
    outbox.enqueue('Opportunity', opportunity(3));
    await until(() => listener.messages.length === 7);
    expect(notificationIds(listener.messages[6]!)).not.toContain(first[0]);
  });

  it('counts a listener that does not answer within the timeout as a failed delivery, and retries', async () => {
    listener.script.push('hold');
    sender({ timeoutMs: 200 }).enqueue('Opportunity', opportunity(1));
    await until(() => listener.messages.length === 2 && logLines.some((line) => line.includes('delivered and acknowledged')));
    expect(logLines.find((line) => line.includes('not acknowledged'))).toContain('no answer within 200 ms');
    expect(notificationIds(listener.messages[1]!)).toEqual(notificationIds(listener.messages[0]!));
  });

  it('waits longer after each failure, as the schedule says, and drops a notification older than the maximum age', async () => {
    listener.script.push(...Array.from({ length: 100 }, (): Answer => ({ status: 503, body: 'down' })));
    sender({ retryScheduleMs: [10, 20, 30], maxAgeMs: 150 }).enqueue('Opportunity', opportunity(1));
    await until(() => logLines.some((line) => line.includes('dropped 1 notification')));
    const waits = logLines.filter((line) => line.includes('not acknowledged')).map((line) => Number(/next attempt in (\d+) ms/.exec(line)?.[1]));
    expect(waits.slice(0, 4)).toEqual([10, 20, 30, 30]);
    const delivered = listener.messages.length;
    // Dropped: no further delivery, whatever the listener would answer now.
    listener.script.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(listener.messages).toHaveLength(delivered);
  });
});

describe('durability', () => {
  it('keeps undelivered notifications across a restart and delivers them with the same ids; new ids never repeat', async () => {
    await listener.close();
    const down = listener.url;
    const first = sender({ endpointUrl: down });
    first.enqueue('Opportunity', opportunity(1));
    await until(() => logLines.some((line) => line.includes('not acknowledged')));
    await first.close();
    senders.splice(senders.indexOf(first), 1);

    listener = await startListener();
    const second = sender();
    await until(() => listener.messages.length === 1 && logLines.some((line) => line.includes('delivered and acknowledged')));
    const [redelivered] = notificationIds(listener.messages[0]!);
    expect(logLines.find((line) => line.includes('queued notification'))).toContain(redelivered);
    second.enqueue('Opportunity', opportunity(2));
    await until(() => listener.messages.length === 2);
    expect(notificationIds(listener.messages[1]!)[0]).not.toBe(redelivered);
  });
});
