/**
 * What callers may send to the local Step Functions API, checked the way AWS checks
 * it: the request members and their constraints (ValidationException), execution
 * names (InvalidName), ARNs (InvalidArn) and pagination tokens (InvalidToken), with
 * AWS's error codes so SDK clients raise their own exception classes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AwsServiceError } from '../endpoint/aws-service.ts';

const arn = z.string().min(1).max(256);
const maxResults = z.number().int().min(0).max(1000).optional();
const nextToken = z.string().min(1).max(3096).optional();
const executionStatus = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']);
const includedData = z.enum(['ALL_DATA', 'METADATA_ONLY']).optional();

/** StartExecution request. */
export const StartExecutionRequest = z.object({
  stateMachineArn: arn,
  name: z.string().min(1).max(80).optional(),
  input: z.string().max(262_144).optional(),
  traceHeader: z.string().max(256).optional(),
});

/** DescribeExecution request. */
export const DescribeExecutionRequest = z.object({ executionArn: arn, includedData });

/** ListExecutions request. */
export const ListExecutionsRequest = z.object({
  stateMachineArn: arn.optional(),
  statusFilter: executionStatus.optional(),
  maxResults,
  nextToken,
  mapRunArn: z.string().min(1).max(2000).optional(),
  redriveFilter: z.enum(['REDRIVEN', 'NOT_REDRIVEN']).optional(),
});

/** GetExecutionHistory request. */
export const GetExecutionHistoryRequest = z.object({
  executionArn: arn,
  maxResults,
  reverseOrder: z.boolean().optional(),
  nextToken,
  includeExecutionData: z.boolean().optional(),
});

/** StopExecution request. */
export const StopExecutionRequest = z.object({
  executionArn: arn,
  error: z.string().max(256).optional(),
  cause: z.string().max(32_768).optional(),
});

/** RedriveExecution request. */
export const RedriveExecutionRequest = z.object({ executionArn: arn, clientToken: z.string().min(1).max(64).optional() });

/** ListStateMachines request. */
export const ListStateMachinesRequest = z.object({ maxResults, nextToken });

/** DescribeStateMachine request. */
export const DescribeStateMachineRequest = z.object({ stateMachineArn: arn, includedData });

/** Parses a request or throws ValidationException listing each violated constraint, as AWS words it. */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, input: unknown): z.infer<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `Value at '${issue.path.map(String).join('.')}' failed to satisfy constraint: ${issue.message}`,
  );
  const count = issues.length === 1 ? '1 validation error detected' : `${issues.length} validation errors detected`;
  throw new AwsServiceError('ValidationException', `${count}: ${issues.join('; ')}`);
}

/** Characters an execution name must not contain (AWS's documented list). */
const FORBIDDEN_IN_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff]/u;

/** Throws InvalidName unless `name` is a valid execution name (length is checked with the request). */
export function assertExecutionName(name: string): void {
  if (FORBIDDEN_IN_NAME.test(name) || !name.isWellFormed()) {
    throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
  }
}

/** The parts of a Step Functions ARN. */
export interface StatesArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly resourceType: string;
  /** The state machine's name (for `stateMachine` and `execution` ARNs). */
  readonly stateMachineName: string;
  /** The execution's name (for `execution` ARNs). */
  readonly executionName: string | undefined;
}

const STATES_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):([A-Za-z]+):([^:]+)(?::([^:]+))?$/;

/** Parses an ARN that must be of `resourceType`, or throws InvalidArn as AWS does. */
export function parseStatesArn(value: string, resourceType: 'stateMachine' | 'execution'): StatesArn {
  const match = STATES_ARN.exec(value);
  if (match === null) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${value}'`);
  const [, partition = '', region = '', accountId = '', type = '', stateMachineName = '', executionName] = match;
  if (type !== resourceType) {
    throw new AwsServiceError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${type}'`);
  }
  if (resourceType === 'execution' && executionName === undefined) {
    throw new AwsServiceError('InvalidArn', `Invalid Arn: '${value}'`);
  }
  if (resourceType === 'stateMachine' && executionName !== undefined) {
    throw new AwsServiceError('InvalidArn', `Invalid Arn: 'Qualified state machine ARNs (versions, aliases) are not served locally: ${value}'`);
  }
  return { partition, region, accountId, resourceType: type, stateMachineName, executionName };
}

/** How long a pagination token stays valid (AWS: 24 hours). */
const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

const PageToken = z.object({ scope: z.string(), cursor: z.number().int(), issued: z.number() });

const scopeHash = (scope: unknown): string => createHash('sha256').update(JSON.stringify(scope)).digest('base64url').slice(0, 16);

/** A pagination token: where the next page starts, bound to the request's other arguments. */
export function encodePageToken(scope: unknown, cursor: number, now: number): string {
  return Buffer.from(JSON.stringify({ scope: scopeHash(scope), cursor, issued: now })).toString('base64url');
}

/** The cursor of a token from `encodePageToken` with the same scope, or InvalidToken. */
export function decodePageToken(token: string, scope: unknown, now: number): number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = PageToken.safeParse(decoded);
  if (!parsed.success || parsed.data.scope !== scopeHash(scope)) {
    throw new AwsServiceError('InvalidToken', `Invalid Token: '${token}'`);
  }
  if (now - parsed.data.issued > TOKEN_LIFETIME_MS) throw new AwsServiceError('InvalidToken', 'Invalid Token: token has expired');
  return parsed.data.cursor;
}
