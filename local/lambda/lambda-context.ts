/**
 * A Lambda context object shaped like the real one, for running handler modules
 * in-process (the local hub and tests): request id, function identity, memory,
 * and a clock for getRemainingTimeInMillis that the timeout enforcement shares.
 */
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/** The identity and limits of the function being invoked. */
export interface LambdaIdentity {
  readonly functionName: string;
  /** @default 256 */
  readonly memoryLimitInMB?: number;
  /** @default 30_000 */
  readonly timeoutMs?: number;
  /** @default `us-east-1` */
  readonly region?: string;
  /** @default `000000000000` */
  readonly accountId?: string;
}

/** What one invocation brings when its caller already fixed it (the local runtime's worker does). */
export interface LambdaInvocation {
  /** @default a fresh UUID */
  readonly awsRequestId?: string;
  /** Epoch milliseconds when the invocation times out. @default now + `identity.timeoutMs` */
  readonly deadlineMs?: number;
}

/** Creates a fresh context for one invocation; its deadline starts now unless `invocation` fixes it. */
export function createLambdaContext(identity: LambdaIdentity, invocation: LambdaInvocation = {}): Context {
  const timeoutMs = identity.timeoutMs ?? 30_000;
  const deadline = invocation.deadlineMs ?? Date.now() + timeoutMs;
  const region = identity.region ?? 'us-east-1';
  const accountId = identity.accountId ?? '000000000000';
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name} is the deprecated callback API; Harmony handlers are async`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: identity.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${identity.functionName}`,
    memoryLimitInMB: String(identity.memoryLimitInMB ?? 256),
    awsRequestId: invocation.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${identity.functionName}`,
    logStreamName: `local/${new Date().toISOString().slice(0, 10)}/${randomUUID().slice(0, 8)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
