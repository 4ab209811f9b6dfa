/**
 * The EventBridge API's requests as the local hub parses them (the boundary: every
 * input goes through one of these zod schemas), and AWS's wording when it refuses
 * one: ValidationException messages, PutEvents' per-entry error codes, paging tokens.
 * The wording comes from responses AWS gave (recorded in LocalStack's AWS-validated
 * snapshots) and from the EventBridge API reference.
 */
import * as z from 'zod';
import { AwsServiceError } from '../endpoint/aws-service.ts';

/** Entries of one PutEvents request may add up to this many bytes (EventBridge: "less than 256KB"). */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;
/** Fields TestEventPattern insists the event has (the API reference also lists `resources`; AWS does not check it). */
export const TEST_EVENT_REQUIRED_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

/** A timestamp as the JSON protocol sends it: epoch seconds, or an ISO 8601 string (the CLI may). */
export const Timestamp = z.union([z.number(), z.string()]).transform((value, context) => {
  const ms = typeof value === 'number' || /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) {
    context.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a timestamp` });
    return z.NEVER;
  }
  return ms;
});
/** `Limit` of the List operations. */
export const Limit = z.number().int().min(1).max(100).optional();
/** `NextToken` of the List operations. */
export const NextToken = z.string().min(1).max(2048).optional();

/** PutEvents. Entries are checked one by one afterwards (`entryProblem`), as AWS reports them per entry. */
export const PutEventsInput = z.looseObject({
  Entries: z.array(
    z.looseObject({
      Time: Timestamp.optional(),
      Source: z.string().optional(),
      Resources: z.array(z.string()).optional(),
      DetailType: z.string().optional(),
      Detail: z.string().optional(),
      EventBusName: z.string().optional(),
      TraceHeader: z.string().optional(),
    }),
  ).optional(),
  EndpointId: z.string().optional(),
});
/** One PutEvents entry. */
export type PutEventsEntry = NonNullable<z.infer<typeof PutEventsInput>['Entries']>[number];

/** ListEventBuses. */
export const ListEventBusesInput = z.looseObject({ NamePrefix: z.string().optional(), NextToken, Limit });
/** DescribeEventBus (`Name` is a name or an ARN; absent means `default`). */
export const DescribeEventBusInput = z.looseObject({ Name: z.string().min(1).optional() });
/** ListRules. */
export const ListRulesInput = z.looseObject({ NamePrefix: z.string().optional(), EventBusName: z.string().min(1).optional(), NextToken, Limit });
/** DescribeRule. */
export const DescribeRuleInput = z.looseObject({ Name: z.string().min(1).max(64), EventBusName: z.string().min(1).optional() });
/** ListTargetsByRule. */
export const ListTargetsByRuleInput = z.looseObject({ Rule: z.string().min(1).max(64), EventBusName: z.string().min(1).optional(), NextToken, Limit });
/** TestEventPattern: pattern and event as JSON text. */
export const TestEventPatternInput = z.looseObject({ EventPattern: z.string().min(1), Event: z.string().min(1) });
/** ListArchives. */
export const ListArchivesInput = z.looseObject({
  NamePrefix: z.string().optional(),
  EventSourceArn: z.string().min(1).optional(),
  State: z.string().optional(),
  NextToken,
  Limit,
});
/** DescribeArchive. */
export const DescribeArchiveInput = z.looseObject({ ArchiveName: z.string().min(1).max(48) });
/** StartReplay. */
export const StartReplayInput = z.looseObject({
  ReplayName: z.string().min(1).max(64).regex(/^[.\-_A-Za-z0-9]+$/),
  Description: z.string().max(512).optional(),
  EventSourceArn: z.string().min(1),
  EventStartTime: Timestamp,
  EventEndTime: Timestamp,
  Destination: z.looseObject({ Arn: z.string().min(1), FilterArns: z.array(z.string().min(1)).optional() }),
});
/** DescribeReplay. */
export const DescribeReplayInput = z.looseObject({ ReplayName: z.string().min(1).max(64) });
/** ListReplays. */
export const ListReplaysInput = z.looseObject({
  NamePrefix: z.string().optional(),
  State: z.string().optional(),
  EventSourceArn: z.string().min(1).optional(),
  NextToken,
  Limit,
});

/** Parses an operation's input, answering ValidationException the way AWS words it. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.infer<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const problems = issues.map((issue) => {
    const path = issue.path.map((step) => (typeof step === 'number' ? `${step + 1}.member` : lowerFirst(String(step)))).join('.');
    return `Value at '${path}' failed to satisfy constraint: ${issue.message}`;
  });
  throw new AwsServiceError(
    'ValidationException',
    `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
  );
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** `time` as EventBridge writes it: ISO 8601 in UTC to the second, e.g. `2024-05-27T13:17:56Z`. */
export function eventTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A timestamp in a JSON protocol response: epoch seconds. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** `ResourceNotFoundException` with AWS's message. */
export function notFound(message: string): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', message);
}

/** One page of `items` (sorted by `key`) after the token's position. */
export function page<T>(items: readonly T[], key: (item: T) => string, nextToken: string | undefined, limit: number | undefined) {
  let start = 0;
  if (nextToken !== undefined) {
    let after: unknown;
    try {
      after = (JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8')) as { after?: unknown }).after;
    } catch {
      after = undefined;
    }
    if (typeof after !== 'string') throw new AwsServiceError('ValidationException', 'The NextToken provided is not valid.');
    start = items.findIndex((item) => key(item) > after);
    if (start < 0) start = items.length;
  }
  const end = limit === undefined ? items.length : Math.min(items.length, start + limit);
  const slice = items.slice(start, end);
  const last = slice.at(-1);
  const token = end < items.length && last !== undefined ? Buffer.from(JSON.stringify({ after: key(last) })).toString('base64url') : undefined;
  return { items: slice, nextToken: token };
}

/** Sorted by name, as AWS lists. */
export function byName<T extends { readonly name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A request entry as AWS prints it in a ValidationException about `entries`
 * (Java's toString of PutEventsRequestEntry).
 */
export function entryText(entry: Readonly<Record<string, unknown>>): string {
  const field = (name: string) => (entry[name] === undefined ? 'null' : String(entry[name]));
  return (
    `PutEventsRequestEntry(time=${field('Time')}, source=${field('Source')}, resources=${entry.Resources === undefined ? 'null' : JSON.stringify(entry.Resources)}, ` +
    `detailType=${field('DetailType')}, detail=${field('Detail')}, eventBusName=${field('EventBusName')}, traceHeader=${field('TraceHeader')}, ` +
    'kmsKeyIdentifier=null, internalMetadata=null)'
  );
}

/** The size EventBridge counts for an entry ("Calculating PutEvents event entry size"). */
export function entrySize(entry: Readonly<Record<string, unknown>>): number {
  let size = entry.Time === undefined ? 0 : 14;
  for (const name of ['Source', 'DetailType', 'Detail']) {
    if (typeof entry[name] === 'string') size += Buffer.byteLength(entry[name]);
  }
  if (Array.isArray(entry.Resources)) {
    for (const resource of entry.Resources) if (typeof resource === 'string') size += Buffer.byteLength(resource);
  }
  return size;
}

/** Why EventBridge refuses one entry, as PutEvents reports it in that entry's place. */
export function entryProblem(entry: PutEventsEntry): { ErrorCode: string; ErrorMessage: string } | undefined {
  const required = (name: 'Source' | 'DetailType' | 'Detail') => ({
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${name} is not valid. Reason: ${name} is a required argument.`,
  });
  if (!entry.Source) return required('Source');
  if (!entry.DetailType) return required('DetailType');
  if (!entry.Detail) return required('Detail');
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  return undefined;
}
