/**
 * Salesforce Outbound Messages at the ingress guard: the parser and the origin checks on the
 * recorded messages and on batches built in their shape — which deliveries pass, what they
 * become, and how a refusal is answered (a SOAP Fault naming what is wrong, never a 5xx).
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { outboundMessageAck, parseOutboundMessage } from '../../functions/connectors/crm/salesforce/outbound-message.ts';
import { isSameOrganization, readAllowedSenders, readOrganizationId } from '../../functions/connectors/crm/salesforce/outbound-message-origin.ts';
import { toEighteenCharacterId } from '../../functions/connectors/crm/salesforce/record-id.ts';
import { readEnvelope } from '../../functions/connectors/soap/envelope.ts';
import { readXml } from '../../functions/connectors/soap/xml-reader.ts';
import { CRM_OBJECT_CHANGED, CrmObjectChangedDetail, DEAL_STAGE_CHANGED, DealStageChangedDetail, WON_DEAL_STAGE } from '../../functions/core/events.ts';
import { checkWebhook, MAX_WEBHOOK_BODY_BYTES, type VerifiedWebhook } from '../../functions/core/ingress/guard-webhook.ts';
import { SOAP_ANSWERS } from '../../functions/core/ingress/salesforce-source.ts';
import { webhookSources, type WebhookSourceSettings } from '../../functions/core/ingress/webhook-sources.ts';
import { toApiGatewayEvent } from '../../local/ingress/api-gateway-event.ts';
import { FIXTURE_ORG_ID, outboundFixture, outboundMessage, salesforceId, wonOpportunity } from '../fixtures/salesforce/outbound-messages.ts';

const RECEIVED_AT = new Date('2026-05-16T08:00:00.000Z');
const SALESFORCE_IP = '13.110.54.12';
const SETTINGS: WebhookSourceSettings = {
  HUBSPOT_CLIENT_SECRET: 'unused',
  SALESFORCE_ORG_ID: FIXTURE_ORG_ID,
  SALESFORCE_ALLOWED_CIDRS: '13.108.0.0/14, 2a01:111::/32 101.53.160.0/19',
  SALESFORCE_WON_STAGES: '["Closed Won - Signed", "Contract Signed"]',
};

async function deliver(
  body: string,
  options: { settings?: WebhookSourceSettings; sourceIp?: string; contentType?: string } = {},
): Promise<APIGatewayProxyResult | VerifiedWebhook> {
  const event = toApiGatewayEvent({
    method: 'POST',
    url: '/webhooks/salesforce',
    headers: { 'content-type': options.contentType ?? 'text/xml; charset=utf-8', soapaction: '""' },
    body,
    protocol: 'https',
    sourceIp: options.sourceIp ?? SALESFORCE_IP,
  });
  return checkWebhook(event, { sources: webhookSources(options.settings ?? SETTINGS), now: () => RECEIVED_AT });
}

async function accepted(body: string, options: Parameters<typeof deliver>[1] = {}): Promise<VerifiedWebhook> {
  const outcome = await deliver(body, options);
  if ('statusCode' in outcome) throw new Error(`refused with ${outcome.statusCode}: ${outcome.body}`);
  return outcome;
}

/** The refusal's status and its SOAP Fault, read back with the SOAP reader. */
async function refused(body: string, options: Parameters<typeof deliver>[1] = {}) {
  const outcome = await deliver(body, options);
  if (!('statusCode' in outcome)) throw new Error(`accepted ${outcome.events.length} events`);
  expect(outcome.headers?.['content-type']).toBe('text/xml; charset=utf-8');
  const fault = readEnvelope(readXml(outcome.body)).fault;
  if (fault === undefined) throw new Error(`no SOAP Fault in ${outcome.body}`);
  return { status: outcome.statusCode, code: fault.code, reason: fault.reason };
}

describe('the recorded messages', () => {
  it('reads the won Opportunity as the canonical deal-won event, keyed by its notification id', async () => {
    const webhook = await accepted(outboundFixture('outbound-message-opportunity-won.xml'));
    expect(webhook.events).toHaveLength(1);
    const [event] = webhook.events;
    expect(event).toMatchObject({
      eventId: 'salesforce:04l5e00000Gx7QzAAJ',
      detailType: DEAL_STAGE_CHANGED,
      businessKey: 'deal:salesforce:00D5e000000KQ2eEAG:0065e00000FxQ3kAAF',
    });
    expect(DealStageChangedDetail.strict().parse(event!.detail)).toEqual({
      crm: 'salesforce',
      accountId: '00D5e000000KQ2eEAG',
      dealId: '0065e00000FxQ3kAAF',
      stage: WON_DEAL_STAGE,
      occurredAt: '2026-05-15T18:00:00.000Z',
      eventId: '04l5e00000Gx7QzAAJ',
    });
  });

  it('reads the recorded custom-object message as a CRM object change of that sObject type', async () => {
    const webhook = await accepted(outboundFixture('outbound-message-custom-object-recorded.xml'), {
      settings: { ...SETTINGS, SALESFORCE_ORG_ID: '00DR00000000XcD' },
    });
    expect(webhook.events.map((event) => event.detailType)).toEqual([CRM_OBJECT_CHANGED]);
    expect(CrmObjectChangedDetail.strict().parse(webhook.events[0]!.detail)).toEqual({
      crm: 'salesforce',
      accountId: '00DR00000000XcDMAU',
      objectType: 'Design_Registration__c',
      objectId: 'a06R00000009QZaIAM',
      changeType: 'outboundMessage',
      occurredAt: RECEIVED_AT.toISOString(),
      eventId: '04lR0000000CcIFIA0',
    });
  });

  it('keeps the message header: org, action, the nil session id and the URLs', () => {
    const message = parseOutboundMessage(outboundFixture('outbound-message-opportunity-won.xml'), MAX_WEBHOOK_BODY_BYTES);
    expect(message).toMatchObject({
      OrganizationId: '00D5e000000KQ2eEAG',
      ActionId: '04k5e000000CaRkAAK',
      SessionId: null,
      EnterpriseUrl: 'https://acme.my.salesforce.com/services/Soap/c/62.0/00D5e000000KQ2e',
    });
    expect(message.Notification[0]!.sObject).toMatchObject({ 'xsi:type': 'Opportunity', Name: 'Acme - 50,000 widgets', StageName: 'Closed Won' });
  });
});

describe('batches', () => {
  const batch = (count: number) =>
    Array.from({ length: count }, (_, index) => ({ id: salesforceId('04l', index + 1), fields: wonOpportunity(salesforceId('006', index + 1)) }));

  it('takes 100 notifications, one event each, in order', async () => {
    const webhook = await accepted(outboundMessage(batch(100)));
    expect(webhook.events).toHaveLength(100);
    expect(webhook.events.map((event) => event.eventId)).toEqual(batch(100).map((notification) => `salesforce:${notification.id}`));
    expect(new Set(webhook.events.map((event) => event.detail.dealId)).size).toBe(100);
  });

  it('refuses 101 notifications, and a message with none, naming the Notification element', async () => {
    for (const count of [101, 0]) {
      const { status, code, reason } = await refused(outboundMessage(batch(count)));
      expect(status).toBe(400);
      expect(code).toBe('soap:Client');
      expect(reason).toContain('Envelope.Body.notifications.Notification');
    }
  });

  it('maps each notification on its own: won by IsWon, won by a won stage, not won, another object', async () => {
    const webhook = await accepted(
      outboundMessage([
        { id: salesforceId('04l', 1), fields: wonOpportunity(salesforceId('006', 1)) },
        { id: salesforceId('04l', 2), fields: wonOpportunity(salesforceId('006', 2), { IsWon: 'false', StageName: 'Contract Signed' }) },
        { id: salesforceId('04l', 3), fields: wonOpportunity(salesforceId('006', 3), { IsWon: 'false', StageName: 'Closed Won' }) },
        { id: salesforceId('04l', 4), fields: { Id: salesforceId('006', 4), StageName: 'Contract Signed' } },
        { id: salesforceId('04l', 5), type: 'Account', fields: { Id: salesforceId('001', 5), Name: 'Acme' } },
      ]),
    );
    expect(webhook.events.map((event) => [event.detailType, event.detail.stage ?? event.detail.objectType])).toEqual([
      [DEAL_STAGE_CHANGED, WON_DEAL_STAGE],
      [DEAL_STAGE_CHANGED, 'Contract Signed'],
      [CRM_OBJECT_CHANGED, 'Opportunity'],
      [DEAL_STAGE_CHANGED, 'Contract Signed'],
      [CRM_OBJECT_CHANGED, 'Account'],
    ]);
  });

  it('acknowledges a notification whose record was deleted before delivery (it carries no data) without an event', async () => {
    const webhook = await accepted(
      outboundMessage([
        { id: salesforceId('04l', 1), fields: {} },
        { id: salesforceId('04l', 2), fields: wonOpportunity(salesforceId('006', 2)) },
      ]),
    );
    expect(webhook.events.map((event) => event.eventId)).toEqual([`salesforce:${salesforceId('04l', 2)}`]);
  });

  it('keeps a field named __proto__ as data: nothing is polluted', async () => {
    const webhook = await accepted(outboundMessage([{ id: salesforceId('04l', 1), fields: wonOpportunity(salesforceId('006', 1), { ['__proto__']: 'x', polluted: 'yes' }) }]));
    expect(webhook.events).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('the org', () => {
  it('accepts the org configured by its 15-character id, and a message naming it by its 15-character id', async () => {
    const fifteen = FIXTURE_ORG_ID.slice(0, 15);
    const opportunity = [{ id: salesforceId('04l', 1), fields: wonOpportunity(salesforceId('006', 1)) }];
    const byConfig = await accepted(outboundMessage(opportunity), { settings: { ...SETTINGS, SALESFORCE_ORG_ID: fifteen } });
    const byMessage = await accepted(outboundMessage(opportunity, fifteen));
    // Either way the event names the org by its 18-character id, so a business key does not depend on the form.
    expect([byConfig, byMessage].map((webhook) => webhook.events[0]!.detail.accountId)).toEqual([FIXTURE_ORG_ID, FIXTURE_ORG_ID]);
  });

  it('accepts the 18-character id with its case checksum in lower case (the checksum is case-insensitive)', async () => {
    const lowerSuffix = `${FIXTURE_ORG_ID.slice(0, 15)}${FIXTURE_ORG_ID.slice(15).toLowerCase()}`;
    await accepted(outboundMessage([{ id: salesforceId('04l', 1), fields: wonOpportunity(salesforceId('006', 1)) }], lowerSuffix));
  });

  it.each([
    ['another org by its 15-character id', '00D5e000000KQ3a'],
    ['another org by its 18-character id', toEighteenCharacterId('00D5e000000KQ3a')!],
    ['the same characters in another case (ids are case-sensitive)', '00D5e000000KQ2E'],
  ])('refuses %s with 403 naming OrganizationId', async (_name, organizationId) => {
    const { status, code, reason } = await refused(outboundMessage([{ id: salesforceId('04l', 1), fields: wonOpportunity(salesforceId('006', 1)) }], organizationId));
    expect(status).toBe(403);
    expect(code).toBe('soap:Client');
    expect(reason).toContain('Envelope.Body.notifications.OrganizationId');
    expect(reason).toContain('is not the org this deployment serves');
  });

  it('compares the first 15 characters exactly', () => {
    expect(isSameOrganization('00D5e000000KQ2eEAG', '00D5e000000KQ2eEAG')).toBe(true);
    expect(isSameOrganization('00D5e000000KQ2eEAG', '00D5e000000KQ2e')).toBe(true);
    expect(isSameOrganization('00D5e000000KQ2eEAG', '00D5e000000KQ2Exxx')).toBe(false);
    expect(isSameOrganization('00D5e000000KQ2eEAG', '00d5e000000kq2eEAG')).toBe(false);
  });

  it.each([
    ['a 16-character id', '00D5e000000KQ2eE'],
    ['an 18-character id whose checksum does not match', '00D5e000000KQ2eAAA'],
    ['an id of another kind', '0015e00000ZkM3hAAF'],
  ])('stops the cold start on %s, naming SALESFORCE_ORG_ID', (_name, value) => {
    expect(() => readOrganizationId('SALESFORCE_ORG_ID', value)).toThrow(/SALESFORCE_ORG_ID: expected a 15- or 18-character organization id starting 00D/);
    expect(() => webhookSources({ SALESFORCE_ORG_ID: value })).toThrow(/SALESFORCE_ORG_ID/);
  });
});

describe('the source address', () => {
  const message = outboundMessage([{ id: salesforceId('04l', 1), fields: wonOpportunity(salesforceId('006', 1)) }]);

  it.each([
    ['an IPv4 address in a range', '13.111.255.254'],
    ['an IPv6 address in a range', '2a01:111:f400::1'],
    ['an IPv4-mapped IPv6 address of an IPv4 range (a dual-stack socket)', '::ffff:101.53.161.7'],
  ])('accepts %s', async (_name, sourceIp) => {
    expect((await accepted(message, { sourceIp })).events).toHaveLength(1);
  });

  it.each([
    ['an IPv4 address outside every range', '13.112.0.1'],
    ['an IPv6 address outside every range', '2a01:112::1'],
    ['an IPv4-mapped address outside every range', '::ffff:127.0.0.1'],
    ['no address at all', ''],
  ])('refuses %s with 403 naming the address and the setting', async (_name, sourceIp) => {
    const { status, reason } = await refused(message, { sourceIp });
    expect(status).toBe(403);
    expect(reason).toContain('is not in SALESFORCE_ALLOWED_CIDRS');
  });

  it('checks no address when no ranges are configured', async () => {
    const { SALESFORCE_ALLOWED_CIDRS: _ranges, ...open } = SETTINGS;
    expect((await accepted(message, { settings: open, sourceIp: '198.51.100.7' })).events).toHaveLength(1);
  });

  it('reads ranges separated by spaces or commas, and a bare address as a range of one', () => {
    const senders = readAllowedSenders('SALESFORCE_ALLOWED_CIDRS', ' 13.108.0.0/14,2a01:111::/32  192.0.2.10 ');
    expect(senders.ranges).toEqual(['13.108.0.0/14', '2a01:111::/32', '192.0.2.10']);
    expect(['13.108.0.1', '2a01:111::9', '192.0.2.10'].map((address) => senders.allows(address))).toEqual([true, true, true]);
    expect(['192.0.2.11', 'not-an-address', undefined].map((address) => senders.allows(address))).toEqual([false, false, false]);
  });

  it.each([
    ['a prefix too long for IPv4', '13.108.0.0/33'],
    ['a host name', 'salesforce.com/24'],
    ['nothing but separators', ' , '],
  ])('stops the cold start on %s, naming SALESFORCE_ALLOWED_CIDRS', (_name, value) => {
    expect(() => webhookSources({ SALESFORCE_ORG_ID: FIXTURE_ORG_ID, SALESFORCE_ALLOWED_CIDRS: value })).toThrow(/SALESFORCE_ALLOWED_CIDRS/);
  });

  it('refuses ranges without an org (they would guard a route that is off)', () => {
    expect(() => webhookSources({ SALESFORCE_ALLOWED_CIDRS: '13.108.0.0/14' })).toThrow(/SALESFORCE_ALLOWED_CIDRS: set only with SALESFORCE_ORG_ID/);
  });
});

describe('bad messages', () => {
  const opportunity = wonOpportunity(salesforceId('006', 1));

  it.each([
    ['truncated XML', outboundFixture('outbound-message-opportunity-won.xml').slice(0, 400), 'not well-formed XML'],
    ['a JSON body sent as XML', '{"notifications": []}', 'not well-formed XML'],
    ['a SOAP 1.2 envelope', outboundMessage([{ id: salesforceId('04l', 1), fields: opportunity }]).replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'), 'Salesforce sends SOAP 1.1'],
    ['another operation', outboundMessage([]).replace(/notifications/g, 'somethingElse'), 'expected <notifications>'],
    ['no OrganizationId', outboundMessage([{ id: salesforceId('04l', 1), fields: opportunity }]).replace(/<OrganizationId>.*<\/OrganizationId>/, ''), 'Envelope.Body.notifications.OrganizationId'],
    ['a notification id of another kind', outboundMessage([{ id: salesforceId('006', 9), fields: opportunity }]), 'Envelope.Body.notifications.Notification[0].Id: expected a notification id (04l…)'],
    ['an Opportunity whose IsWon is not a boolean', outboundMessage([{ id: salesforceId('04l', 1), fields: { ...opportunity, IsWon: 'yes' } }]), 'Notification[0].sObject.IsWon: expected an xsd:boolean'],
    ['an Opportunity id that is an Account id', outboundMessage([{ id: salesforceId('04l', 1), fields: { ...opportunity, Id: salesforceId('001', 1) } }]), 'Notification[0].sObject.Id: expected an Opportunity id (006…)'],
    ['a record with fields but no Id', outboundMessage([{ id: salesforceId('04l', 1), type: 'Account', fields: { Name: 'Acme' } }]), 'Notification[0].sObject.Id'],
    ['a LastModifiedDate without a zone', outboundMessage([{ id: salesforceId('04l', 1), fields: { ...opportunity, LastModifiedDate: '2026-05-15T18:00:00' } }]), 'sObject.LastModifiedDate'],
    ['an sObject without xsi:type', outboundMessage([{ id: salesforceId('04l', 1), fields: opportunity }]).replace(/ xsi:type="sf:Opportunity"/, ''), 'sObject.xsi:type'],
  ])('answers %s with 400 and a soap:Client Fault naming it', async (_name, body, text) => {
    const { status, code, reason } = await refused(body);
    expect(status).toBe(400);
    expect(code).toBe('soap:Client');
    expect(reason).toContain(text);
  });

  it('refuses a DOCTYPE, and with it an entity-expansion bomb, without expanding anything', async () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&lol3;</OrganizationId></notifications></soapenv:Body></soapenv:Envelope>`;
    const { status, reason } = await refused(bomb);
    expect(status).toBe(400);
    expect(reason).toContain('document type declaration');
    const external = outboundMessage([]).replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd">');
    expect((await refused(external)).reason).toContain('document type declaration');
  });

  it('refuses an undefined entity reference (no DOCTYPE can define one)', async () => {
    const { status, reason } = await refused(outboundMessage([{ id: salesforceId('04l', 1), fields: opportunity }]).replace('Acme - 50,000 widgets', '&xxe;'));
    expect(status).toBe(400);
    expect(reason).toContain('the entity &xxe; is not defined');
  });

  it('answers a JSON content type with 415 and a SOAP Fault', async () => {
    const { status, reason } = await refused(outboundFixture('outbound-message-opportunity-won.xml'), { contentType: 'application/json' });
    expect(status).toBe(415);
    expect(reason).toContain('content-type must be text/xml');
  });
});

describe('the answers', () => {
  it('acknowledges with the notificationsResponse of the WSDL: one Ack, true', () => {
    const ours = readEnvelope(readXml(outboundMessageAck())).payload!;
    const documented = readEnvelope(readXml(outboundFixture('outbound-ack-response.xml'))).payload!;
    const shape = (element: typeof ours) => ({ name: element.name, namespace: element.namespace, children: element.children.map((child) => [child.name, child.namespace, child.text.trim()]) });
    expect(shape(ours)).toEqual(shape(documented));
    expect(SOAP_ANSWERS.accepted({ accepted: 1, duplicates: 0 })).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/xml; charset=utf-8' } });
  });

  it('answers a bus failure with a soap:Server Fault and 500, so Salesforce redelivers', () => {
    const answer = SOAP_ANSWERS.refused(503, 'ServiceUnavailable', 'events could not be stored yet; please retry');
    expect(answer.statusCode).toBe(500);
    expect(readEnvelope(readXml(answer.body)).fault).toMatchObject({ code: 'soap:Server', reason: 'ServiceUnavailable: events could not be stored yet; please retry' });
  });

  it('writes a Fault whose reason quotes characters XML cannot carry', () => {
    const answer = SOAP_ANSWERS.refused(400, 'InvalidPayload', 'bad \u0000 and \ud800 here');
    expect(readEnvelope(readXml(answer.body)).fault?.reason).toBe('InvalidPayload: bad \ufffd and \ufffd here');
  });
});

describe('configuration', () => {
  it('has no Salesforce route without SALESFORCE_ORG_ID: it answers 404 like the other opt-in sources', async () => {
    const { SALESFORCE_ORG_ID: _org, SALESFORCE_ALLOWED_CIDRS: _cidrs, ...rest } = SETTINGS;
    expect([...webhookSources(rest).keys()]).toEqual(['hubspot']);
    const outcome = await deliver(outboundFixture('outbound-message-opportunity-won.xml'), { settings: { ...rest, SALESFORCE_ORG_ID: ' ' } });
    expect(outcome).toMatchObject({ statusCode: 404 });
  });

  it('reads won stages as names separated by commas too, and refuses a JSON list of anything else', async () => {
    const message = outboundMessage([{ id: salesforceId('04l', 1), fields: { Id: salesforceId('006', 1), StageName: 'Signed' } }]);
    const webhook = await accepted(message, { settings: { ...SETTINGS, SALESFORCE_WON_STAGES: 'Won, Signed' } });
    expect(webhook.events[0]!.detail.stage).toBe('Signed');
    expect(() => webhookSources({ ...SETTINGS, SALESFORCE_WON_STAGES: '[1, 2]' })).toThrow(/SALESFORCE_WON_STAGES/);
  });
});
