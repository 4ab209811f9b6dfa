/**
 * The local hub's EventBridge: the buses, rules and archives of the synthesized
 * template behind AWS's JSON 1.1 API (`AWSEvents.*`), so the ingest Lambda's PutEvents,
 * `harmony replay` and the AWS CLI talk to it as they would to EventBridge.
 *
 * Delivery is durable and at-least-once. PutEvents answers only after each accepted
 * event is committed to SQLite: one outbox row per matching rule target and one row per
 * archive that keeps it. Deliveries start at once (PutEvents waits up to
 * `deliveryWaitMs` for them, so a caller usually finds the message already queued),
 * failed ones are retried with exponential backoff and jitter within the target's
 * RetryPolicy, and when that runs out, or the failure is not one EventBridge retries,
 * the event goes to the target's dead-letter queue with EventBridge's attributes.
 * Rows survive a crash and are delivered after a restart. Where EventBridge would drop
 * an event (retries exhausted and no dead-letter queue, or the dead-letter queue
 * failing), the local hub keeps it in the outbox and says so instead.
 *
 * Served: PutEvents, ListEventBuses, DescribeEventBus, ListRules, DescribeRule,
 * ListTargetsByRule, TestEventPattern, ListArchives, DescribeArchive, StartReplay,
 * DescribeReplay, ListReplays. Rules, buses and archives come from the template only
 * (PutRule and friends are UnknownOperationException: change the CDK app instead).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type * as z from 'zod';
import { AwsServiceError, type JsonProtocolService, unknownOperation } from '../endpoint/aws-service.ts';
import type { TemplateResolver } from '../template/resolve-intrinsics.ts';
import {
  byName,
  DescribeArchiveInput,
  DescribeEventBusInput,
  DescribeReplayInput,
  DescribeRuleInput,
  entryProblem,
  entrySize,
  entryText,
  epochSeconds,
  eventTime,
  ListArchivesInput,
  ListEventBusesInput,
  ListReplaysInput,
  ListRulesInput,
  ListTargetsByRuleInput,
  notFound,
  page,
  parseInput,
  PUT_EVENTS_MAX_BYTES,
  PutEventsInput,
  StartReplayInput,
  TEST_EVENT_REQUIRED_FIELDS,
  TestEventPatternInput,
} from './api-requests.ts';
import {
  type ArchiveDefinition,
  type BusDefinition,
  type BusDefinitions,
  busNameOf,
  readBusDefinitions,
  type RuleDefinition,
} from './bus-definitions.ts';
import { compileEventPattern, InvalidEventPatternError, validateEventPattern } from './event-pattern.ts';
import type { SynchronousMode } from '../sqlite/hub-database.ts';
import { type ArchivedEvent, EventStore, type NewDelivery, type ReplayRecord } from './event-store.ts';
import { OutboxDelivery, type RuleCounters, type TargetInvoker } from './outbox-delivery.ts';
import { SqsSender } from './target-delivery.ts';
import { targetInput } from './target-input.ts';

export type { TargetInvoker } from './outbox-delivery.ts';

/** Options of the local EventBridge. */
export interface LocalEventBridgeOptions {
  /** Resolves the synthesized template; its region and account must be the ones below. */
  readonly resolver: TemplateResolver;
  /** Directory of the SQLite file `eventbridge.sqlite` (created if missing). Undefined keeps state in memory. */
  readonly dataDir?: string;
  /** `FULL` survives a power cut, `NORMAL` a process crash (and spares an fsync per commit). @default 'FULL' */
  readonly synchronous?: SynchronousMode;
  /** The SQS API endpoint messages are sent through (fauxqs, or the hub's endpoint). */
  readonly sqsEndpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** The clock of event times and resource creation times. Delivery timing uses the real clock. @default () => new Date() */
  readonly now?: () => Date;
  /** How long PutEvents and StartReplay wait for the first delivery attempts before answering. @default 2000 */
  readonly deliveryWaitMs?: number;
  /** Backoff between delivery attempts: doubles from `initialMs` up to `maxMs`, with jitter. @default { initialMs: 1000, maxMs: 300_000 } */
  readonly retryBackoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Delivers to targets other than SQS queues; without it such a delivery fails with NO_RESOURCE. */
  readonly invokeTarget?: TargetInvoker;
  /** Awaited before every delivery attempt. For tests that need a delivery in flight (a crash test). */
  readonly deliveryGate?: () => Promise<void>;
  /** `true` to deliver nothing until `startDelivery()` (e.g. until queues are provisioned). @default false */
  readonly deferDelivery?: boolean;
  /** Where the service says what it could not deliver. @default console.warn */
  readonly warn?: (message: string) => void;
}

/** One rule's counters (AWS/Events metric names, since this process started) and its durable outbox backlog. */
export interface RuleStats extends Readonly<RuleCounters> {
  readonly ruleName: string;
  readonly ruleArn: string;
  readonly eventBusName: string;
  /** Deliveries waiting in the outbox (at the target or the dead-letter queue). */
  readonly pending: number;
  /** Failed invocations with no dead-letter queue, kept in the outbox (EventBridge would drop them). */
  readonly undeliverable: number;
}

/** What `stats()` reports, for the hub's alarm evaluator. */
export interface EventBridgeStats {
  /** Entries PutEvents accepted and refused since this process started. */
  readonly putEvents: { readonly accepted: number; readonly failed: number };
  readonly rules: readonly RuleStats[];
}

/** An event as EventBridge delivers it. */
type EventEnvelope = Record<string, unknown> & { readonly id: string; readonly time: string };

/** EventBridge on the local hub, serving the template's buses, rules and archives. */
export class LocalEventBridge implements JsonProtocolService {
  readonly targetPrefix = 'AWSEvents';
  readonly contentType = 'application/x-amz-json-1.1';

  readonly #definitions: BusDefinitions;
  readonly #buses: ReadonlyMap<string, BusDefinition>;
  readonly #rulesByArn: ReadonlyMap<string, RuleDefinition>;
  readonly #store: EventStore;
  readonly #sender: SqsSender;
  readonly #delivery: OutboxDelivery;
  readonly #region: string;
  readonly #accountId: string;
  readonly #partition: string;
  readonly #now: () => Date;
  readonly #deliveryWaitMs: number;
  readonly #putEvents = { accepted: 0, failed: 0 };
  #closed = false;
  #archivesExpiredAtMs = 0;

  constructor(options: LocalEventBridgeOptions) {
    const { resolver } = options;
    if (resolver.region !== options.region || resolver.accountId !== options.accountId) {
      throw new Error(
        `LocalEventBridge: region/account ${options.region}/${options.accountId} differ from the template resolver's ` +
          `${resolver.region}/${resolver.accountId}; ARNs and event envelopes would disagree`,
      );
    }
    this.#definitions = readBusDefinitions(resolver);
    this.#buses = new Map(this.#definitions.buses.map((bus) => [bus.name, bus]));
    this.#rulesByArn = new Map(this.#definitions.rules.map((rule) => [rule.arn, rule]));
    this.#region = options.region;
    this.#accountId = options.accountId;
    this.#partition = resolver.partition;
    this.#now = options.now ?? (() => new Date());
    this.#deliveryWaitMs = options.deliveryWaitMs ?? 2000;
    if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
    this.#store = new EventStore(options.dataDir, options.synchronous ?? 'FULL');
    this.#sender = new SqsSender({ endpoint: options.sqsEndpoint, region: options.region });
    this.#delivery = new OutboxDelivery({
      store: this.#store,
      sender: this.#sender,
      backoff: { initialMs: options.retryBackoff?.initialMs ?? 1000, maxMs: options.retryBackoff?.maxMs ?? 300_000 },
      invokeTarget: options.invokeTarget,
      deliveryGate: options.deliveryGate,
      warn: options.warn ?? ((message) => console.warn(message)),
      onPass: () => this.#expireArchives(),
    });
    const nowMs = this.#now().getTime();
    for (const { arn } of [...this.#definitions.buses, ...this.#definitions.rules, ...this.#definitions.archives]) {
      this.#store.creationTime(arn, nowMs);
    }
    this.#expireArchives();
    if (options.deferDelivery !== true) this.startDelivery();
  }

  /** Starts delivering: what the outbox holds from before a restart first, then new events as they come. */
  startDelivery(): void {
    if (!this.#closed) this.#delivery.start();
  }

  /** Runs one API operation. */
  async handle(operation: string, input: Readonly<Record<string, unknown>>): Promise<unknown> {
    if (this.#closed) throw new AwsServiceError('InternalException', 'EventBridge on the local hub is shutting down', 500);
    switch (operation) {
      case 'PutEvents':
        return this.#putEventsOperation(input);
      case 'ListEventBuses':
        return this.#listEventBuses(parseInput(ListEventBusesInput, input));
      case 'DescribeEventBus':
        return this.#describeEventBus(parseInput(DescribeEventBusInput, input));
      case 'ListRules':
        return this.#listRules(parseInput(ListRulesInput, input));
      case 'DescribeRule':
        return this.#describeRule(parseInput(DescribeRuleInput, input));
      case 'ListTargetsByRule':
        return this.#listTargetsByRule(parseInput(ListTargetsByRuleInput, input));
      case 'TestEventPattern':
        return this.#testEventPattern(parseInput(TestEventPatternInput, input));
      case 'ListArchives':
        return this.#listArchives(parseInput(ListArchivesInput, input));
      case 'DescribeArchive':
        return this.#describeArchive(parseInput(DescribeArchiveInput, input));
      case 'StartReplay':
        return this.#startReplay(parseInput(StartReplayInput, input));
      case 'DescribeReplay':
        return this.#describeReplay(parseInput(DescribeReplayInput, input));
      case 'ListReplays':
        return this.#listReplays(parseInput(ListReplaysInput, input));
      default:
        throw unknownOperation('EventBridge', operation);
    }
  }

  /** Per-rule counters (since this process started) and the durable outbox backlog. */
  stats(): EventBridgeStats {
    const outbox = this.#closed ? [] : this.#store.outboxCounts();
    const arns = new Set([...this.#rulesByArn.keys(), ...this.#delivery.countedRules(), ...outbox.map((row) => row.ruleArn)]);
    const rules = [...arns].map((ruleArn): RuleStats => {
      const rule = this.#rulesByArn.get(ruleArn);
      const count = (phases: readonly string[]) =>
        outbox.filter((row) => row.ruleArn === ruleArn && phases.includes(row.phase)).reduce((sum, row) => sum + row.count, 0);
      return {
        ruleName: rule?.name ?? ruleArn.split('/').at(-1) ?? ruleArn,
        ruleArn,
        eventBusName: rule?.busName ?? (ruleArn.split('/').length > 2 ? (ruleArn.split('/')[1] ?? 'default') : 'default'),
        ...this.#delivery.counters(ruleArn),
        pending: count(['target', 'dead-letter']),
        undeliverable: count(['undeliverable']),
      };
    });
    return { putEvents: { ...this.#putEvents }, rules };
  }

  /** Stops delivering and closes the database. Deliveries in flight are redelivered after a restart. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#delivery.close();
    this.#sender.destroy();
    this.#store.close();
  }

  // -------------------------------------------------------------------------
  // PutEvents and replays: matching and recording
  // -------------------------------------------------------------------------

  async #putEventsOperation(input: Readonly<Record<string, unknown>>) {
    const { Entries: entries } = parseInput(PutEventsInput, input);
    if (entries === undefined) {
      throw new AwsServiceError(
        'ValidationException',
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
      );
    }
    const rawEntries = (input.Entries ?? []) as readonly Record<string, unknown>[];
    if (entries.length < 1 || entries.length > 10) {
      const bound = entries.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10';
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value '[${rawEntries.map(entryText).join(', ')}]' at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
      );
    }
    if (rawEntries.reduce((sum, entry) => sum + entrySize(entry), 0) >= PUT_EVENTS_MAX_BYTES) {
      throw new AwsServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }

    const now = this.#now();
    const results: Record<string, string>[] = [];
    const accepted: { envelope: EventEnvelope; bus: BusDefinition; timeMs: number }[] = [];
    for (const entry of entries) {
      const problem = entryProblem(entry);
      const busName = busNameOf(entry.EventBusName ?? 'default');
      const bus = this.#buses.get(busName);
      if (problem !== undefined) {
        results.push(problem);
      } else if (bus === undefined) {
        // EventBridge accepts and drops an event for a bus that does not exist; the local hub refuses it.
        results.push({ ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` });
      } else {
        const timeMs = entry.Time ?? now.getTime();
        const envelope: EventEnvelope = {
          version: '0',
          id: randomUUID(),
          'detail-type': entry.DetailType,
          source: entry.Source,
          account: this.#accountId,
          time: eventTime(timeMs),
          region: this.#region,
          resources: entry.Resources ?? [],
          detail: JSON.parse(entry.Detail as string) as unknown,
        };
        accepted.push({ envelope, bus, timeMs: Math.floor(timeMs / 1000) * 1000 });
        results.push({ EventId: envelope.id });
      }
    }

    const deliveries: NewDelivery[] = [];
    const archived: ArchivedEvent[] = [];
    const matched: RuleDefinition[] = [];
    for (const { envelope, bus, timeMs } of accepted) {
      for (const rule of this.#rulesOf(bus.name)) {
        if (this.#route(rule, envelope, now, deliveries)) matched.push(rule);
      }
      for (const archive of this.#definitions.archives) {
        if (archive.busName === bus.name && archive.matches(envelope)) {
          archived.push({ archive: archive.name, eventId: envelope.id, eventTimeMs: timeMs, event: JSON.stringify(envelope) });
        }
      }
    }
    const rows = await this.#record(() => {
      this.#store.addArchivedEvents(archived, now.getTime());
      return this.#store.addDeliveries(deliveries, Date.now());
    });
    for (const rule of matched) this.#delivery.counters(rule.arn).matchedEvents += 1;
    const failed = results.filter((result) => result.ErrorCode !== undefined).length;
    this.#putEvents.accepted += results.length - failed;
    this.#putEvents.failed += failed;
    await this.#delivery.deliverSoon(rows, this.#deliveryWaitMs);
    return { FailedEntryCount: failed, Entries: results };
  }

  /** Rules of a bus that events can match (enabled, with a pattern). */
  #rulesOf(busName: string): RuleDefinition[] {
    return this.#definitions.rules.filter((rule) => rule.busName === busName && rule.state !== 'DISABLED' && rule.matches !== undefined);
  }

  /** Adds a delivery per target of `rule` when `envelope` matches it; says whether it matched. */
  #route(rule: RuleDefinition, envelope: EventEnvelope, now: Date, deliveries: NewDelivery[]): boolean {
    if (rule.matches === undefined || !rule.matches(envelope)) return false;
    const event = JSON.stringify(envelope);
    for (const target of rule.targets) {
      deliveries.push({
        eventId: envelope.id,
        ruleArn: rule.arn,
        targetId: target.id,
        targetArn: target.arn,
        route: {
          queueUrl: target.queueUrl,
          messageGroupId: target.messageGroupId,
          deadLetterArn: target.deadLetterArn,
          deadLetterQueueUrl: target.deadLetterQueueUrl,
          ...target.retryPolicy,
        },
        payload: targetInput(target, envelope, rule, now),
        event,
      });
    }
    return true;
  }

  /** Commits `work` durably, or answers InternalException (the caller retries) when SQLite cannot. */
  async #record<T>(work: () => T): Promise<T> {
    try {
      return await this.#store.commitSoon(work);
    } catch (error) {
      throw new AwsServiceError('InternalException', `EventBridge on the local hub could not record the events: ${(error as Error).message}`, 500);
    }
  }

  /** Drops archived events past their archive's retention, at most once an hour. */
  #expireArchives(): void {
    const nowMs = Date.now();
    if (nowMs - this.#archivesExpiredAtMs < 3_600_000) return;
    this.#archivesExpiredAtMs = nowMs;
    for (const archive of this.#definitions.archives) {
      if (archive.retentionDays > 0) this.#store.expireArchivedEvents(archive.name, nowMs - archive.retentionDays * 86_400_000);
    }
  }

  // -------------------------------------------------------------------------
  // Buses, rules, targets, patterns
  // -------------------------------------------------------------------------

  #bus(nameOrArn: string | undefined): BusDefinition {
    const name = busNameOf(nameOrArn ?? 'default');
    const bus = this.#buses.get(name);
    if (bus === undefined) throw notFound(`Event bus ${name} does not exist.`);
    return bus;
  }

  #busShape(bus: BusDefinition) {
    const created = epochSeconds(this.#store.creationTime(bus.arn, this.#now().getTime()));
    return { Name: bus.name, Arn: bus.arn, Description: bus.description, CreationTime: created, LastModifiedTime: created };
  }

  #listEventBuses(input: z.infer<typeof ListEventBusesInput>) {
    const buses = byName(this.#definitions.buses).filter((bus) => bus.name.startsWith(input.NamePrefix ?? ''));
    const { items, nextToken } = page(buses, (bus) => bus.name, input.NextToken, input.Limit);
    return { EventBuses: items.map((bus) => this.#busShape(bus)), NextToken: nextToken };
  }

  #describeEventBus(input: z.infer<typeof DescribeEventBusInput>) {
    return this.#busShape(this.#bus(input.Name));
  }

  #rule(name: string, busNameOrArn: string | undefined): RuleDefinition {
    const bus = this.#bus(busNameOrArn);
    const rule = this.#definitions.rules.find((candidate) => candidate.busName === bus.name && candidate.name === name);
    if (rule === undefined) throw notFound(`Rule ${name} does not exist on EventBus ${bus.name}.`);
    return rule;
  }

  #ruleShape(rule: RuleDefinition) {
    return {
      Name: rule.name,
      Arn: rule.arn,
      EventPattern: rule.eventPattern,
      ScheduleExpression: rule.scheduleExpression,
      State: rule.state,
      Description: rule.description,
      RoleArn: rule.roleArn,
      EventBusName: rule.busName,
    };
  }

  #listRules(input: z.infer<typeof ListRulesInput>) {
    const bus = this.#bus(input.EventBusName);
    const rules = byName(this.#definitions.rules).filter((rule) => rule.busName === bus.name && rule.name.startsWith(input.NamePrefix ?? ''));
    const { items, nextToken } = page(rules, (rule) => rule.name, input.NextToken, input.Limit);
    return { Rules: items.map((rule) => this.#ruleShape(rule)), NextToken: nextToken };
  }

  #describeRule(input: z.infer<typeof DescribeRuleInput>) {
    return { ...this.#ruleShape(this.#rule(input.Name, input.EventBusName)), CreatedBy: this.#accountId };
  }

  #listTargetsByRule(input: z.infer<typeof ListTargetsByRuleInput>) {
    const rule = this.#rule(input.Rule, input.EventBusName);
    const targets = [...rule.targets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const { items, nextToken } = page(targets, (target) => target.id, input.NextToken, input.Limit);
    return { Targets: items.map((target) => target.api), NextToken: nextToken };
  }

  #testEventPattern(input: z.infer<typeof TestEventPatternInput>) {
    let pattern: unknown;
    try {
      pattern = JSON.parse(input.EventPattern);
    } catch (error) {
      throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${(error as Error).message}`);
    }
    try {
      validateEventPattern(pattern);
    } catch (error) {
      if (error instanceof InvalidEventPatternError) throw new AwsServiceError('InvalidEventPatternException', error.message);
      throw error;
    }
    let event: unknown;
    try {
      event = JSON.parse(input.Event);
    } catch {
      event = undefined;
    }
    if (
      typeof event !== 'object' ||
      event === null ||
      Array.isArray(event) ||
      TEST_EVENT_REQUIRED_FIELDS.some((field) => !Object.hasOwn(event as object, field))
    ) {
      throw new AwsServiceError('ValidationException', 'Parameter Event is not valid.');
    }
    return { Result: compileEventPattern(pattern)(event) };
  }

  // -------------------------------------------------------------------------
  // Archives and replays
  // -------------------------------------------------------------------------

  #archiveShape(archive: ArchiveDefinition) {
    const { eventCount, sizeBytes } = this.#store.archiveSize(archive.name);
    return {
      ArchiveName: archive.name,
      EventSourceArn: archive.eventSourceArn,
      State: 'ENABLED',
      RetentionDays: archive.retentionDays,
      SizeBytes: sizeBytes,
      EventCount: eventCount,
      CreationTime: epochSeconds(this.#store.creationTime(archive.arn, this.#now().getTime())),
    };
  }

  #listArchives(input: z.infer<typeof ListArchivesInput>) {
    const source = input.EventSourceArn === undefined ? undefined : this.#bus(input.EventSourceArn);
    const archives = byName(this.#definitions.archives).filter(
      (archive) =>
        archive.name.startsWith(input.NamePrefix ?? '') &&
        (source === undefined || archive.busName === source.name) &&
        (input.State === undefined || input.State === 'ENABLED'),
    );
    const { items, nextToken } = page(archives, (archive) => archive.name, input.NextToken, input.Limit);
    return { Archives: items.map((archive) => this.#archiveShape(archive)), NextToken: nextToken };
  }

  #archive(name: string): ArchiveDefinition {
    const archive = this.#definitions.archives.find((candidate) => candidate.name === name);
    if (archive === undefined) throw notFound(`Archive ${name} does not exist.`);
    return archive;
  }

  #describeArchive(input: z.infer<typeof DescribeArchiveInput>) {
    const archive = this.#archive(input.ArchiveName);
    return {
      ArchiveArn: archive.arn,
      ...this.#archiveShape(archive),
      Description: archive.description,
      EventPattern: archive.eventPattern,
    };
  }

  async #startReplay(input: z.infer<typeof StartReplayInput>) {
    if (this.#store.replay(input.ReplayName) !== undefined) {
      throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${input.ReplayName} already exists.`);
    }
    if (input.EventEndTime <= input.EventStartTime) {
      throw new AwsServiceError('ValidationException', 'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.');
    }
    const archive = this.#definitions.archives.find((candidate) => candidate.arn === input.EventSourceArn);
    if (archive === undefined) {
      throw new AwsServiceError(
        'ValidationException',
        `Parameter EventSourceArn is not valid. Reason: Archive ${input.EventSourceArn.split('/').at(-1)} does not exist.`,
      );
    }
    if (input.Destination.Arn !== archive.eventSourceArn) {
      if ([...this.#buses.values()].some((bus) => bus.arn === input.Destination.Arn)) {
        throw new AwsServiceError('ValidationException', 'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.');
      }
      throw notFound(`Event bus ${busNameOf(input.Destination.Arn)} does not exist.`);
    }
    const ruleArns = new Set(input.Destination.FilterArns ?? this.#rulesOf(archive.busName).map((rule) => rule.arn));
    const rules = [...ruleArns].map((arn) => {
      const rule = this.#rulesByArn.get(arn);
      if (rule === undefined || rule.busName !== archive.busName) {
        throw notFound(`Rule ${arn.split('/').at(-1)} does not exist on EventBus ${archive.busName}.`);
      }
      return rule;
    });

    const now = this.#now();
    const events = this.#store.archivedEvents(archive.name, input.EventStartTime, input.EventEndTime);
    const deliveries: NewDelivery[] = [];
    const matched: RuleDefinition[] = [];
    for (const archived of events) {
      const { resources, detail, ...head } = JSON.parse(archived.event) as Record<string, unknown>;
      // A replayed event is put on the bus again: a new id, its original time, and `replay-name`.
      const envelope: EventEnvelope = { ...head, id: randomUUID(), time: String(head.time), 'replay-name': input.ReplayName, resources, detail };
      for (const rule of rules) {
        if (rule.state !== 'DISABLED' && this.#route(rule, envelope, now, deliveries)) matched.push(rule);
      }
    }
    const replay: ReplayRecord = {
      name: input.ReplayName,
      description: input.Description,
      archiveArn: archive.arn,
      destination: { Arn: input.Destination.Arn, FilterArns: input.Destination.FilterArns },
      eventStartMs: input.EventStartTime,
      eventEndMs: input.EventEndTime,
      state: 'COMPLETED',
      replayStartMs: now.getTime(),
      replayEndMs: now.getTime(),
      lastReplayedMs: events.at(-1)?.eventTimeMs,
    };
    const rows = await this.#record(() => {
      this.#store.putReplay(replay);
      return this.#store.addDeliveries(deliveries, Date.now());
    });
    for (const rule of matched) this.#delivery.counters(rule.arn).matchedEvents += 1;
    await this.#delivery.deliverSoon(rows, this.#deliveryWaitMs);
    return { ReplayArn: this.#replayArn(replay.name), State: 'STARTING', ReplayStartTime: epochSeconds(replay.replayStartMs) };
  }

  #replayArn(name: string): string {
    return `arn:${this.#partition}:events:${this.#region}:${this.#accountId}:replay/${name}`;
  }

  #replaySummary(replay: ReplayRecord) {
    return {
      ReplayName: replay.name,
      EventSourceArn: replay.archiveArn,
      State: replay.state,
      StateReason: replay.stateReason,
      EventStartTime: epochSeconds(replay.eventStartMs),
      EventEndTime: epochSeconds(replay.eventEndMs),
      EventLastReplayedTime: replay.lastReplayedMs === undefined ? undefined : epochSeconds(replay.lastReplayedMs),
      ReplayStartTime: epochSeconds(replay.replayStartMs),
      ReplayEndTime: replay.replayEndMs === undefined ? undefined : epochSeconds(replay.replayEndMs),
    };
  }

  #describeReplay(input: z.infer<typeof DescribeReplayInput>) {
    const replay = this.#store.replay(input.ReplayName);
    if (replay === undefined) throw notFound(`Replay ${input.ReplayName} does not exist.`);
    return {
      ...this.#replaySummary(replay),
      ReplayArn: this.#replayArn(replay.name),
      Description: replay.description,
      Destination: replay.destination,
    };
  }

  #listReplays(input: z.infer<typeof ListReplaysInput>) {
    const replays = this.#store
      .replays()
      .filter(
        (replay) =>
          replay.name.startsWith(input.NamePrefix ?? '') &&
          (input.State === undefined || replay.state === input.State) &&
          (input.EventSourceArn === undefined || replay.archiveArn === input.EventSourceArn),
      );
    const { items, nextToken } = page(replays, (replay) => replay.name, input.NextToken, input.Limit);
    return { Replays: items.map((replay) => this.#replaySummary(replay)), NextToken: nextToken };
  }
}
