/**
 * What the local EventBridge serves, read from the synthesized template: the event
 * buses (plus `default`, which every account has), the rules with their targets, and
 * the archives, each with the name and ARN the template resolver gives it, so the
 * rule ARN a DLQ message names is the one `Fn::GetAtt Rule.Arn` resolves to.
 *
 * A template CloudFormation would refuse (a rule with an invalid pattern, a target
 * without an ARN) is refused here too, naming the resource.
 */
import * as z from 'zod';
import type { TemplateResource } from '../template/load-template.ts';
import type { TemplateResolver } from '../template/resolve-intrinsics.ts';
import { compileEventPattern, type EventPatternMatcher } from './event-pattern.ts';

/** EventBridge's default retry policy: 24 hours, 185 attempts. */
export const DEFAULT_RETRY_POLICY = { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86_400 } as const;

/** An event bus. */
export interface BusDefinition {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
}

/** How an event reaches one target, resolved to local values. */
export interface TargetDefinition {
  readonly id: string;
  readonly arn: string;
  /** The target as ListTargetsByRule returns it (only what the template set). */
  readonly api: Readonly<Record<string, unknown>>;
  /** Constant JSON text sent instead of the event. */
  readonly input?: string;
  /** JSONPath of the part of the event sent. */
  readonly inputPath?: string;
  readonly inputTransformer?: { readonly inputPathsMap: Readonly<Record<string, string>>; readonly inputTemplate: string };
  /** URL of the queue when the target is an SQS queue. */
  readonly queueUrl?: string;
  readonly messageGroupId?: string;
  readonly deadLetterArn?: string;
  /** URL of the dead-letter queue, when there is one. */
  readonly deadLetterQueueUrl?: string;
  /** The effective policy: the template's, else EventBridge's default. */
  readonly retryPolicy: { readonly maximumRetryAttempts: number; readonly maximumEventAgeInSeconds: number };
}

/** A rule on a bus. */
export interface RuleDefinition {
  readonly name: string;
  readonly arn: string;
  readonly busName: string;
  readonly state: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
  readonly description?: string;
  /** The pattern as JSON text, as DescribeRule returns it. */
  readonly eventPattern?: string;
  readonly scheduleExpression?: string;
  readonly roleArn?: string;
  /** Absent for schedule-only rules, which no put event matches. */
  readonly matches?: EventPatternMatcher;
  readonly targets: readonly TargetDefinition[];
}

/** An archive of a bus. */
export interface ArchiveDefinition {
  readonly name: string;
  readonly arn: string;
  readonly busName: string;
  /** The ARN of the bus it archives. */
  readonly eventSourceArn: string;
  readonly description?: string;
  readonly eventPattern?: string;
  /** 0 keeps events forever. */
  readonly retentionDays: number;
  /**
   * The pattern plus `"replay-name": [{"exists": false}]`: the managed rule EventBridge
   * creates for an archive never archives replayed events.
   */
  readonly matches: EventPatternMatcher;
}

/** Everything the template declares for EventBridge. */
export interface BusDefinitions {
  readonly buses: readonly BusDefinition[];
  readonly rules: readonly RuleDefinition[];
  readonly archives: readonly ArchiveDefinition[];
}

const Count = z.union([z.number(), z.string().regex(/^\d+$/)]).transform(Number);

const TargetSchema = z.looseObject({
  Id: z.string().min(1).max(64),
  Arn: z.string().min(1),
  RoleArn: z.string().optional(),
  Input: z.string().optional(),
  InputPath: z.string().optional(),
  InputTransformer: z
    .object({ InputPathsMap: z.record(z.string(), z.string()).optional(), InputTemplate: z.string() })
    .optional(),
  SqsParameters: z.object({ MessageGroupId: z.string().min(1) }).optional(),
  DeadLetterConfig: z.object({ Arn: z.string().min(1).optional() }).optional(),
  RetryPolicy: z
    .object({
      MaximumRetryAttempts: Count.pipe(z.number().int().min(0).max(185)).optional(),
      MaximumEventAgeInSeconds: Count.pipe(z.number().int().min(60).max(86_400)).optional(),
    })
    .optional(),
});

const RuleSchema = z.looseObject({
  Name: z.string().optional(),
  EventBusName: z.string().optional(),
  EventPattern: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  ScheduleExpression: z.string().optional(),
  State: z.enum(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']).optional(),
  Description: z.string().optional(),
  RoleArn: z.string().optional(),
  Targets: z.array(TargetSchema).optional(),
});

const ArchiveSchema = z.looseObject({
  ArchiveName: z.string().min(1).optional(),
  SourceArn: z.string().min(1),
  EventPattern: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  RetentionDays: Count.pipe(z.number().int().min(0)).optional(),
  Description: z.string().optional(),
});

const BusSchema = z.looseObject({ Name: z.string().min(1), Description: z.string().optional() });

/** The bus name in a name or an event bus ARN (`arn:…:event-bus/<name>`). */
export function busNameOf(nameOrArn: string): string {
  const marker = ':event-bus/';
  const index = nameOrArn.indexOf(marker);
  return nameOrArn.startsWith('arn:') && index >= 0 ? nameOrArn.slice(index + marker.length) : nameOrArn;
}

/** Reads the buses, rules and archives of the resolver's template. Throws naming a resource CloudFormation would refuse. */
export function readBusDefinitions(resolver: TemplateResolver): BusDefinitions {
  const { partition, region, accountId } = resolver;
  const buses: BusDefinition[] = [{ name: 'default', arn: `arn:${partition}:events:${region}:${accountId}:event-bus/default` }];
  for (const [logicalId, resource] of deployed(resolver, 'AWS::Events::EventBus')) {
    const properties = parse(BusSchema, resolver.resolve(resource.Properties ?? {}), logicalId);
    buses.push({ name: properties.Name, arn: resolver.getAtt(logicalId, 'Arn'), description: properties.Description });
  }

  const rules: RuleDefinition[] = [];
  for (const [logicalId, resource] of deployed(resolver, 'AWS::Events::Rule')) {
    const properties = parse(RuleSchema, resolver.resolve(resource.Properties ?? {}), logicalId);
    const busName = busNameOf(properties.EventBusName ?? 'default');
    if (!buses.some((bus) => bus.name === busName)) {
      throw new Error(`${logicalId}: rule on event bus ${busName}, which the template does not declare`);
    }
    const pattern = patternText(properties.EventPattern, logicalId);
    if (pattern === undefined && properties.ScheduleExpression === undefined) {
      throw new Error(`${logicalId}: a rule needs an EventPattern or a ScheduleExpression`);
    }
    rules.push({
      name: resolver.physicalName(logicalId),
      arn: resolver.getAtt(logicalId, 'Arn'),
      busName,
      state: properties.State ?? 'ENABLED',
      description: properties.Description,
      eventPattern: pattern,
      scheduleExpression: properties.ScheduleExpression,
      roleArn: properties.RoleArn,
      matches: pattern === undefined ? undefined : compiled(JSON.parse(pattern), logicalId),
      targets: (properties.Targets ?? []).map((target) => readTarget(resolver, target)),
    });
  }

  const archives: ArchiveDefinition[] = [];
  for (const [logicalId, resource] of deployed(resolver, 'AWS::Events::Archive')) {
    const properties = parse(ArchiveSchema, resolver.resolve(resource.Properties ?? {}), logicalId);
    const busName = busNameOf(properties.SourceArn);
    const bus = buses.find((candidate) => candidate.name === busName);
    if (bus === undefined) throw new Error(`${logicalId}: archive of event bus ${busName}, which the template does not declare`);
    const name = properties.ArchiveName ?? logicalId;
    const pattern = patternText(properties.EventPattern, logicalId);
    const own = pattern === undefined ? {} : (JSON.parse(pattern) as Record<string, unknown>);
    archives.push({
      name,
      arn: `arn:${partition}:events:${region}:${accountId}:archive/${name}`,
      busName,
      eventSourceArn: bus.arn,
      description: properties.Description,
      eventPattern: pattern,
      retentionDays: properties.RetentionDays ?? 0,
      matches: compiled({ ...own, 'replay-name': [{ exists: false }] }, logicalId),
    });
  }
  return { buses, rules, archives };
}

function readTarget(resolver: TemplateResolver, target: z.infer<typeof TargetSchema>): TargetDefinition {
  const api: Record<string, unknown> = { Id: target.Id, Arn: target.Arn };
  for (const key of ['RoleArn', 'Input', 'InputPath', 'InputTransformer', 'SqsParameters', 'DeadLetterConfig', 'RetryPolicy'] as const) {
    if (target[key] !== undefined) api[key] = target[key];
  }
  const deadLetterArn = target.DeadLetterConfig?.Arn;
  return {
    id: target.Id,
    arn: target.Arn,
    api,
    input: target.Input,
    inputPath: target.InputPath,
    inputTransformer:
      target.InputTransformer === undefined
        ? undefined
        : { inputPathsMap: target.InputTransformer.InputPathsMap ?? {}, inputTemplate: target.InputTransformer.InputTemplate },
    queueUrl: queueUrlOf(resolver, target.Arn),
    messageGroupId: target.SqsParameters?.MessageGroupId,
    deadLetterArn,
    deadLetterQueueUrl: deadLetterArn === undefined ? undefined : queueUrlOf(resolver, deadLetterArn),
    retryPolicy: {
      maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_RETRY_POLICY.maximumRetryAttempts,
      maximumEventAgeInSeconds: target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_RETRY_POLICY.maximumEventAgeInSeconds,
    },
  };
}

/**
 * The URL of the queue an SQS ARN names: the template queue's `Ref` when the template
 * declares it, else `<sqsEndpoint>/<account>/<name>` from the ARN. Undefined for other ARNs.
 */
function queueUrlOf(resolver: TemplateResolver, arn: string): string | undefined {
  const match = /^arn:[^:]+:sqs:[^:]*:(\d*):(.+)$/.exec(arn);
  if (match === null) return undefined;
  const logicalId = resolver.logicalIdOf(arn);
  if (logicalId !== undefined) return resolver.resolveString({ Ref: logicalId }, `queue ${arn}`);
  return `${resolver.sqsEndpoint}/${match[1] || resolver.accountId}/${match[2]}`;
}

function patternText(pattern: string | Record<string, unknown> | undefined, logicalId: string): string | undefined {
  if (pattern === undefined) return undefined;
  if (typeof pattern !== 'string') return JSON.stringify(pattern);
  try {
    JSON.parse(pattern);
  } catch (error) {
    throw new Error(`${logicalId}.EventPattern: not JSON (${(error as Error).message})`);
  }
  return pattern;
}

function compiled(pattern: unknown, logicalId: string): EventPatternMatcher {
  try {
    return compileEventPattern(pattern);
  } catch (error) {
    throw new Error(`${logicalId}.EventPattern: ${(error as Error).message}`);
  }
}

function parse<Schema extends z.ZodType>(schema: Schema, value: unknown, logicalId: string): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${[logicalId, ...issue.path].join('.')}: ${issue.message}`);
    throw new Error(problems.join('; '));
  }
  return parsed.data;
}

/** Resources of one type a deployment would create: those whose Condition, if any, holds. */
function deployed(resolver: TemplateResolver, type: string): [string, TemplateResource][] {
  return Object.entries(resolver.template.Resources).filter(
    ([, resource]) =>
      resource.Type === type &&
      (resource.Condition === undefined || resolver.resolve({ 'Fn::If': [resource.Condition, true, false] }) === true),
  );
}
