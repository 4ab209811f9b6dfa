/**
 * The local EventBridge serving Harmony's own synthesized template, reached the way
 * handlers and the CLI reach it: SDK v3 clients pointed at the local AWS endpoint, with
 * fauxqs holding the template's queues. What the order-to-cash rule delivers, what the
 * API says about the template's bus, rule and archive, replays, and PutEvents' refusals.
 */
import {
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  InvalidEventPatternException,
  ListArchivesCommand,
  ListEventBusesCommand,
  ListReplaysCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  StartReplayCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAwsEndpoint, type AwsEndpoint } from '../../local/endpoint/server.ts';
import { LocalEventBridge } from '../../local/eventbridge/service.ts';
import { parseTemplate } from '../../local/template/load-template.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { synthHarmony } from '../support/synth.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

let sqsServer: FauxqsServer;
let endpoint: AwsEndpoint;
let eventBridge: LocalEventBridge;
let events: EventBridgeClient;
let sqs: SQSClient;
let resolver: TemplateResolver;
/** Every queue of the template: logical id → URL on the endpoint. */
let queues: Map<string, string>;
let busName: string;
let busArn: string;
let ruleName: string;
let ruleArn: string;
let archiveName: string;
let archiveArn: string;
const warnings: string[] = [];

beforeAll(async () => {
  const { json } = synthHarmony();
  const template = parseTemplate(json);
  sqsServer = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  // Queue URLs point at the endpoint, as the hub's do.
  resolver = new TemplateResolver(template, { region: REGION, accountId: ACCOUNT, sqsEndpoint: 'http://127.0.0.1:4566' });
  const logicalIds = (type: string) => Object.keys(template.Resources).filter((id) => template.Resources[id]?.Type === type);
  queues = new Map();
  for (const id of logicalIds('AWS::SQS::Queue')) {
    sqsServer.createQueue(resolver.physicalName(id));
    queues.set(id, resolver.resolveString({ Ref: id }));
  }
  const [busId] = logicalIds('AWS::Events::EventBus');
  const ruleId = logicalIds('AWS::Events::Rule').find((id) => id.startsWith('OrderToCashPipeline'));
  const [archiveId] = logicalIds('AWS::Events::Archive');
  if (busId === undefined || ruleId === undefined || archiveId === undefined) throw new Error('the template lacks the hub bus, the order-to-cash rule or the archive');
  busName = resolver.physicalName(busId);
  busArn = resolver.getAtt(busId, 'Arn');
  ruleName = resolver.physicalName(ruleId);
  ruleArn = resolver.getAtt(ruleId, 'Arn');
  archiveName = archiveId;
  archiveArn = `arn:aws:events:${REGION}:${ACCOUNT}:archive/${archiveId}`;

  eventBridge = new LocalEventBridge({
    resolver,
    sqsEndpoint: sqsServer.address,
    region: REGION,
    accountId: ACCOUNT,
    retryBackoff: { initialMs: 20, maxMs: 100 },
    warn: (message) => warnings.push(message),
  });
  endpoint = await startAwsEndpoint({ port: 0, jsonServices: [eventBridge], proxies: { dynamodb: 'http://127.0.0.1:9', sqs: sqsServer.address } });
  events = new EventBridgeClient({ endpoint: endpoint.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  sqs = new SQSClient({ endpoint: endpoint.url, region: REGION, credentials: CREDENTIALS });
});

afterAll(async () => {
  events?.destroy();
  sqs?.destroy();
  await endpoint?.close();
  await eventBridge?.close();
  await sqsServer?.stop();
});

beforeEach(() => {
  sqsServer.reset();
  warnings.length = 0;
});

function queueUrl(logicalIdPrefix: string): string {
  const entry = [...queues].find(([id]) => id.startsWith(logicalIdPrefix));
  if (entry === undefined) throw new Error(`no queue ${logicalIdPrefix}*`);
  return entry[1].replace('http://127.0.0.1:4566', endpoint.url);
}

/** Everything in the queue now (received and deleted). */
async function drain(url: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return messages;
    for (const message of Messages) {
      messages.push(message);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

function dealStageChanged(stage: string, overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: 'harmony.crm',
    DetailType: 'Deal Stage Changed',
    Detail: JSON.stringify({ crm: 'hubspot', dealId: 'deal-4001', stage, amount: 1250.5 }),
    ...overrides,
  };
}

describe('PutEvents on the hub bus', () => {
  it('delivers a won deal to the order-to-cash queue as the exact EventBridge envelope', async () => {
    const put = await events.send(
      new PutEventsCommand({ Entries: [dealStageChanged('closedwon', { Time: new Date('2026-03-04T05:06:07.890Z'), Resources: ['hubspot:deal/4001'] })] }),
    );

    expect(put.FailedEntryCount).toBe(0);
    const eventId = put.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [message, ...more] = await drain(queueUrl('OrderToCashPipelineQueue'));
    expect(more).toEqual([]);
    // The body text itself: key order and time format as EventBridge writes them.
    expect(message?.Body).toBe(
      JSON.stringify({
        version: '0',
        id: eventId,
        'detail-type': 'Deal Stage Changed',
        source: 'harmony.crm',
        account: ACCOUNT,
        time: '2026-03-04T05:06:07Z',
        region: REGION,
        resources: ['hubspot:deal/4001'],
        detail: { crm: 'hubspot', dealId: 'deal-4001', stage: 'closedwon', amount: 1250.5 },
      }),
    );
    expect(eventBridge.stats().rules.find((rule) => rule.ruleArn === ruleArn)).toMatchObject({ pending: 0, undeliverable: 0 });
  });

  it('stamps an event without Time with the current time, to the second', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    await events.send(new PutEventsCommand({ Entries: [dealStageChanged('closedwon')] }));

    const [message] = await drain(queueUrl('OrderToCashPipelineQueue'));
    const time = (JSON.parse(message?.Body ?? '{}') as { time: string }).time;
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(time)).toBeLessThanOrEqual(Date.now());
  });

  it('delivers an event no rule matches to no queue', async () => {
    const put = await events.send(
      new PutEventsCommand({
        Entries: [dealStageChanged('appointmentscheduled'), dealStageChanged('closedwon', { Source: 'harmony.erp' })],
      }),
    );

    expect(put.FailedEntryCount).toBe(0);
    for (const url of queues.values()) {
      expect(await drain(url.replace('http://127.0.0.1:4566', endpoint.url))).toEqual([]);
    }
  });

  it('refuses entries one by one with AWS codes, and accepts the valid ones of the same request', async () => {
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { DetailType: 'Deal Stage Changed', Detail: '{}', EventBusName: busName },
          { Source: 'harmony.crm', Detail: '{}', EventBusName: busName },
          { Source: 'harmony.crm', DetailType: 'Deal Stage Changed', EventBusName: busName },
          { Source: 'harmony.crm', DetailType: 'Deal Stage Changed', Detail: '["an array"]', EventBusName: busName },
          { Source: 'harmony.crm', DetailType: 'Deal Stage Changed', Detail: '{"not json', EventBusName: busName },
          dealStageChanged('closedwon', { EventBusName: 'no-such-bus' }),
          dealStageChanged('closedwon'),
        ],
      }),
    );

    expect(put.FailedEntryCount).toBe(6);
    expect(put.Entries?.slice(0, 6)).toEqual([
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus no-such-bus does not exist.' },
    ]);
    const accepted = put.Entries?.[6]?.EventId;
    const delivered = await drain(queueUrl('OrderToCashPipelineQueue'));
    expect(delivered.map((message) => (JSON.parse(message.Body ?? '{}') as { id: string }).id)).toEqual([accepted]);
  });

  it('refuses a request of no entries, more than ten, or 256 KB and more, as a whole', async () => {
    const eleven = Array.from({ length: 11 }, () => dealStageChanged('closedwon'));
    const large = [dealStageChanged('closedwon', { Detail: JSON.stringify({ blob: 'x'.repeat(256 * 1024) }) })];

    await expect(events.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
    });
    await expect(events.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/^1 validation error detected: Value '\[PutEventsRequestEntry\(time=null, source=harmony\.crm, .*\)\]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10$/),
    });
    await expect(events.send(new PutEventsCommand({ Entries: large }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
    expect(await drain(queueUrl('OrderToCashPipelineQueue'))).toEqual([]);
  });
});

describe('what the API says about the template', () => {
  it('lists the default bus and the hub bus, and describes them', async () => {
    const { EventBuses = [] } = await events.send(new ListEventBusesCommand({}));
    expect(EventBuses.map((bus) => [bus.Name, bus.Arn])).toEqual(
      [
        ['default', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`],
        [busName, busArn],
      ].sort(),
    );
    const hub = await events.send(new DescribeEventBusCommand({ Name: busArn }));
    expect(hub).toMatchObject({ Name: busName, Arn: busArn, Description: expect.stringContaining('Harmony hub') });
    expect(hub.CreationTime).toBeInstanceOf(Date);
    await expect(events.send(new DescribeEventBusCommand({ Name: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Event bus nope does not exist.',
    });
  });

  it('lists and describes the order-to-cash rule and its target as the template declares them', async () => {
    const template = resolver.template.Resources;
    const ruleId = Object.keys(template).find((id) => template[id]?.Type === 'AWS::Events::Rule' && id.startsWith('OrderToCash')) as string;
    const properties = resolver.resolve(template[ruleId]?.Properties) as Record<string, unknown> & { Targets: Record<string, unknown>[] };

    const listed = await events.send(new ListRulesCommand({ EventBusName: busName, NamePrefix: 'OrderToCash' }));
    const described = await events.send(new DescribeRuleCommand({ Name: ruleName, EventBusName: busName }));
    const targets = await events.send(new ListTargetsByRuleCommand({ Rule: ruleName, EventBusName: busArn }));

    expect(listed.Rules?.map((rule) => rule.Name)).toEqual([ruleName]);
    expect(described).toMatchObject({
      Name: ruleName,
      Arn: ruleArn,
      EventBusName: busName,
      State: 'ENABLED',
      Description: properties.Description,
      CreatedBy: ACCOUNT,
    });
    expect(JSON.parse(described.EventPattern ?? '')).toEqual(properties.EventPattern);
    expect(JSON.parse(described.EventPattern ?? '')).toEqual({ source: ['harmony.crm'], 'detail-type': ['Deal Stage Changed'], detail: { crm: ['hubspot'], stage: ['closedwon'] } });
    expect(targets.Targets).toEqual(properties.Targets);
    expect(targets.Targets?.[0]).toMatchObject({
      Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${[...queues.keys()].find((id) => id.startsWith('OrderToCashPipelineQueue'))}`,
      DeadLetterConfig: { Arn: expect.stringContaining('RuleDeadLetterQueue') },
    });
    expect((await events.send(new ListRulesCommand({ EventBusName: busName, NamePrefix: 'Nothing' }))).Rules).toEqual([]);
    expect((await events.send(new ListRulesCommand({}))).Rules).toEqual([]); // the default bus has none
    await expect(events.send(new DescribeRuleCommand({ Name: ruleName }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: `Rule ${ruleName} does not exist on EventBus default.`,
    });
  });

  it('answers TestEventPattern like EventBridge: true, false, and the errors', async () => {
    const event = (stage: string) =>
      JSON.stringify({
        id: '1',
        account: ACCOUNT,
        source: 'harmony.crm',
        time: '2026-01-01T00:00:00Z',
        region: REGION,
        resources: [],
        'detail-type': 'Deal Stage Changed',
        detail: { crm: 'hubspot', stage },
      });
    const { EventPattern } = await events.send(new DescribeRuleCommand({ Name: ruleName, EventBusName: busName }));

    expect((await events.send(new TestEventPatternCommand({ EventPattern, Event: event('closedwon') }))).Result).toBe(true);
    expect((await events.send(new TestEventPatternCommand({ EventPattern, Event: event('closedlost') }))).Result).toBe(false);
    const invalid = events.send(new TestEventPatternCommand({ EventPattern: '{"detail": {"stage": [{"prefix": 7}]}}', Event: event('closedwon') }));
    await expect(invalid).rejects.toBeInstanceOf(InvalidEventPatternException);
    await expect(invalid).rejects.toMatchObject({
      message: 'Event pattern is not valid. Reason: prefix match pattern must be a string (at $.detail.stage[0].prefix)',
    });
    await expect(
      events.send(new TestEventPatternCommand({ EventPattern, Event: JSON.stringify({ source: 'harmony.crm', detail: {} }) })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'Parameter Event is not valid.' });
  });

  it('answers an operation it does not serve with UnknownOperationException', async () => {
    const { PutRuleCommand } = await import('@aws-sdk/client-eventbridge');
    await expect(events.send(new PutRuleCommand({ Name: 'added-by-hand', EventPattern: '{"source":["x"]}' }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      message: 'EventBridge on the local hub does not serve PutRule',
    });
  });
});

describe('archive and replay', () => {
  const at = (iso: string) => new Date(iso);

  it('archives the events of the hub bus and replays a window of them to the rule, marked with replay-name', async () => {
    const deals = ['deal-r1', 'deal-r2', 'deal-r3'];
    const times = ['2025-06-01T09:00:00Z', '2025-06-01T10:00:00Z', '2025-06-01T11:00:00Z'];
    const before = (await events.send(new DescribeArchiveCommand({ ArchiveName: archiveName }))).EventCount ?? 0;
    const put = await events.send(
      new PutEventsCommand({
        Entries: deals.map((dealId, index) =>
          dealStageChanged('closedwon', { Detail: JSON.stringify({ crm: 'hubspot', dealId, stage: 'closedwon' }), Time: at(times[index] as string) }),
        ),
      }),
    );
    const originals = await drain(queueUrl('OrderToCashPipelineQueue'));
    expect(originals).toHaveLength(3);
    const original = originals.map((message) => JSON.parse(message.Body ?? '{}') as Record<string, unknown>).find((event) => event.time === times[1]);

    const archive = await events.send(new DescribeArchiveCommand({ ArchiveName: archiveName }));
    expect(archive).toMatchObject({ ArchiveArn: archiveArn, EventSourceArn: busArn, State: 'ENABLED', RetentionDays: 30, EventCount: before + 3 });
    expect(JSON.parse(archive.EventPattern ?? '')).toEqual({ account: [ACCOUNT] });

    const started = await events.send(
      new StartReplayCommand({
        ReplayName: 'replay-june-10h',
        EventSourceArn: archiveArn,
        EventStartTime: at('2025-06-01T09:30:00Z'),
        EventEndTime: at('2025-06-01T10:30:00Z'),
        Destination: { Arn: busArn, FilterArns: [ruleArn] },
      }),
    );
    expect(started).toMatchObject({ ReplayArn: `arn:aws:events:${REGION}:${ACCOUNT}:replay/replay-june-10h`, State: 'STARTING' });

    const replayed = await drain(queueUrl('OrderToCashPipelineQueue'));
    expect(replayed).toHaveLength(1);
    const event = JSON.parse(replayed[0]?.Body ?? '{}') as Record<string, unknown>;
    expect(Object.keys(event)).toEqual(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'replay-name', 'resources', 'detail']);
    expect(event).toMatchObject({ 'replay-name': 'replay-june-10h', time: times[1], detail: { crm: 'hubspot', dealId: 'deal-r2', stage: 'closedwon' } });
    expect(event.id).not.toBe(original?.id);
    // Replayed events are not archived again (the archive's managed rule excludes replay-name).
    expect((await events.send(new DescribeArchiveCommand({ ArchiveName: archiveName }))).EventCount).toBe(before + 3);

    const described = await events.send(new DescribeReplayCommand({ ReplayName: 'replay-june-10h' }));
    expect(described).toMatchObject({
      ReplayName: 'replay-june-10h',
      State: 'COMPLETED',
      EventSourceArn: archiveArn,
      Destination: { Arn: busArn, FilterArns: [ruleArn] },
      EventLastReplayedTime: at(times[1] as string),
    });
    const listed = await events.send(new ListReplaysCommand({ EventSourceArn: archiveArn }));
    expect(listed.Replays?.map((replay) => replay.ReplayName)).toContain('replay-june-10h');
    expect((await events.send(new ListArchivesCommand({ EventSourceArn: busArn }))).Archives?.map((item) => item.ArchiveName)).toEqual([archiveName]);
  });

  it('refuses a replay as EventBridge does: a name in use, an empty window, an unknown archive or bus', async () => {
    const replay = (name: string, overrides: Record<string, unknown> = {}) =>
      events.send(
        new StartReplayCommand({
          ReplayName: name,
          EventSourceArn: archiveArn,
          EventStartTime: at('2025-06-01T00:00:00Z'),
          EventEndTime: at('2025-06-02T00:00:00Z'),
          Destination: { Arn: busArn },
          ...overrides,
        }),
      );
    await replay('replay-once');

    await expect(replay('replay-once')).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
    await expect(replay('replay-empty-window', { EventEndTime: at('2025-06-01T00:00:00Z') })).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
    });
    await expect(replay('replay-no-archive', { EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/missing` })).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Parameter EventSourceArn is not valid. Reason: Archive missing does not exist.',
    });
    await expect(
      replay('replay-other-bus', { Destination: { Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` } }),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.' });
    await expect(events.send(new DescribeReplayCommand({ ReplayName: 'never-started' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('a target that cannot take the event', () => {
  it('sends the event straight to the rule target dead-letter queue when the queue does not exist, with the DLQ attributes', async () => {
    const flowQueueId = [...queues.keys()].find((id) => id.startsWith('OrderToCashPipelineQueue')) as string;
    const flowQueueName = resolver.physicalName(flowQueueId);
    const statsBefore = eventBridge.stats().rules.find((rule) => rule.ruleArn === ruleArn);
    sqsServer.deleteQueue(flowQueueName);
    try {
      const put = await events.send(new PutEventsCommand({ Entries: [dealStageChanged('closedwon')] }));

      const [dead, ...more] = await drain(queueUrl('OrderToCashPipelineRuleDeadLetterQueue'));
      expect(more).toEqual([]);
      expect(JSON.parse(dead?.Body ?? '{}')).toMatchObject({ id: put.Entries?.[0]?.EventId, 'detail-type': 'Deal Stage Changed' });
      const attribute = (name: string) => dead?.MessageAttributes?.[name]?.StringValue;
      expect(attribute('RULE_ARN')).toBe(ruleArn);
      expect(attribute('TARGET_ARN')).toBe(resolver.getAtt(flowQueueId, 'Arn'));
      expect(attribute('ERROR_CODE')).toBe('NO_RESOURCE');
      expect(attribute('ERROR_MESSAGE')).toMatch(/does not exist/);
      expect(attribute('RETRY_ATTEMPTS')).toBe('0');
      const after = eventBridge.stats().rules.find((rule) => rule.ruleArn === ruleArn);
      expect((after?.failedInvocations ?? 0) - (statsBefore?.failedInvocations ?? 0)).toBe(1);
      expect((after?.invocationsSentToDlq ?? 0) - (statsBefore?.invocationsSentToDlq ?? 0)).toBe(1);
      expect(after?.retryInvocationAttempts).toBe(statsBefore?.retryInvocationAttempts);
      expect(after?.pending).toBe(0);
    } finally {
      sqsServer.createQueue(flowQueueName);
    }
  });
});
