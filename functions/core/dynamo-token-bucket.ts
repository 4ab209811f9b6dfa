/**
 * A vendor's rate budget shared by every concurrent Lambda instance: a token bucket kept
 * as one item per target in the idempotency table (`rate#<target>`), refilled by time and
 * taken with a conditional write on the item's version, so two instances can never spend
 * the same token. A 429's Retry-After is written as `blockedUntil`, holding everyone off.
 *
 * To keep the cost per vendor call low, an instance leases a few tokens at a time (a
 * quarter of a second's worth) and spends them locally for at most a second; tokens it
 * does not spend lapse, which only ever makes the budget stricter, never looser.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './aws-clients.ts';
import { RetryableError } from './errors.ts';
import type { RateBudget, RateLimiter } from './rate-limit.ts';

/** How long leased tokens may be spent locally. */
const LEASE_MS = 1000;
/** Rate items disappear a day after their last use. */
const RETENTION_SECONDS = 86_400;
/** Conditional-write conflicts tolerated before an acquire gives up as retryable. */
const MAX_CONFLICTS = 20;

interface BucketItem {
  readonly id: string;
  readonly tokens: number;
  readonly updatedAt: number;
  readonly blockedUntil?: number;
  readonly version: number;
}

interface Lease {
  remaining: number;
  readonly until: number;
}

/** Options of {@link DynamoTokenBucket}. */
export interface DynamoTokenBucketOptions {
  readonly tableName: string;
  /**
   * The budget of a target, e.g. by its system prefix (`hubspot:1234` → HubSpot's); undefined
   * for a vendor that documents no rate limit: its calls cost no DynamoDB request, and only a
   * 429 it answers holds this instance off until the Retry-After has passed.
   */
  readonly budgetFor: (target: string) => RateBudget | undefined;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** RateLimiter on DynamoDB, shared across instances. */
export class DynamoTokenBucket implements RateLimiter {
  private readonly options: DynamoTokenBucketOptions;
  private readonly leases = new Map<string, Lease>();
  private readonly refilling = new Map<string, Promise<void>>();
  /** Retry-After holds of unbudgeted targets, known to this instance only. */
  private readonly heldUntil = new Map<string, number>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoTokenBucketOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async acquire(target: string, options: { readonly maxWaitMs?: number } = {}): Promise<void> {
    const deadline = this.now() + (options.maxWaitMs ?? 10_000);
    if (this.options.budgetFor(target) === undefined) {
      const waitMs = (this.heldUntil.get(target) ?? 0) - this.now();
      if (waitMs <= 0) return;
      if (this.now() + waitMs > deadline) throw spent(target, waitMs);
      await this.sleep(waitMs);
      return;
    }
    for (;;) {
      const lease = this.leases.get(target);
      if (lease !== undefined && lease.remaining > 0 && lease.until > this.now()) {
        lease.remaining -= 1;
        return;
      }
      // One refill per target at a time in this instance; the others wait for its lease.
      const inFlight = this.refilling.get(target);
      if (inFlight !== undefined) {
        await inFlight.catch(() => undefined);
        continue;
      }
      const refill = this.refill(target, deadline);
      this.refilling.set(target, refill);
      try {
        await refill;
      } finally {
        this.refilling.delete(target);
      }
    }
  }

  /** Leases tokens from the shared bucket into this instance, waiting for them up to `deadline`. */
  private async refill(target: string, deadline: number): Promise<void> {
    const budget = this.options.budgetFor(target);
    if (budget === undefined) return;
    for (let conflicts = 0; ; ) {
      const now = this.now();
      const item = await this.read(target);
      const tokens = item === undefined ? budget.burst : Math.min(budget.burst, item.tokens + ((now - item.updatedAt) / 1000) * budget.perSecond);
      const blockedUntil = item?.blockedUntil ?? 0;
      const waitMs = blockedUntil > now ? blockedUntil - now : tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / budget.perSecond) * 1000);
      if (waitMs > 0) {
        if (now + waitMs > deadline) throw spent(target, waitMs);
        await this.sleep(waitMs);
        continue;
      }
      const take = Math.max(1, Math.min(Math.floor(tokens), Math.ceil(budget.perSecond / 4)));
      if (await this.write(target, item, { tokens: tokens - take, updatedAt: now, ...(item?.blockedUntil === undefined ? {} : { blockedUntil: item.blockedUntil }) })) {
        this.leases.set(target, { remaining: take, until: now + LEASE_MS });
        return;
      }
      conflicts += 1;
      if (conflicts >= MAX_CONFLICTS) {
        throw new RetryableError(`rate budget of ${target}: ${conflicts} conflicting writes in a row`, { system: target.split(':')[0], code: 'rate-budget', retryAfterSeconds: 1 });
      }
    }
  }

  async backOff(target: string, seconds: number): Promise<void> {
    const until = this.now() + Math.max(0, seconds) * 1000;
    this.leases.delete(target);
    if (this.options.budgetFor(target) === undefined) {
      this.heldUntil.set(target, Math.max(until, this.heldUntil.get(target) ?? 0));
      return;
    }
    await dynamo().send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { id: `rate#${target}` },
        UpdateExpression: 'SET blockedUntil = :until, tokens = :zero, updatedAt = :now, version = if_not_exists(version, :zero) + :one, expiration = :expiration',
        ConditionExpression: 'attribute_not_exists(blockedUntil) OR blockedUntil < :until',
        ExpressionAttributeValues: {
          ':until': until,
          ':zero': 0,
          ':one': 1,
          ':now': this.now(),
          ':expiration': Math.floor(until / 1000) + RETENTION_SECONDS,
        },
      }),
    ).catch((error: unknown) => {
      // Someone already holds everyone off for longer: nothing to add.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }

  private async read(target: string): Promise<BucketItem | undefined> {
    const result = await dynamo().send(new GetCommand({ TableName: this.options.tableName, Key: { id: `rate#${target}` }, ConsistentRead: true }));
    return result.Item as BucketItem | undefined;
  }

  /** Writes the bucket's new state if nobody else wrote since `previous`; false on a conflict. */
  private async write(target: string, previous: BucketItem | undefined, next: Omit<BucketItem, 'id' | 'version'>): Promise<boolean> {
    try {
      await dynamo().send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { id: `rate#${target}`, ...next, version: (previous?.version ?? 0) + 1, expiration: Math.floor(this.now() / 1000) + RETENTION_SECONDS },
          ...(previous === undefined
            ? { ConditionExpression: 'attribute_not_exists(id)' }
            : { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': previous.version } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function spent(target: string, waitMs: number): RetryableError {
  return new RetryableError(`rate budget of ${target} is spent; next request in ${Math.ceil(waitMs / 1000)} s`, {
    system: target.split(':')[0],
    code: 'rate-budget',
    retryAfterSeconds: Math.ceil(waitMs / 1000),
  });
}

/**
 * Parses `CONNECTOR_RATE_LIMITS`: `hubspot=19/190 netsuite=off *=off` — per second / burst per
 * system, `off` for no budget, `*` for every system not named. A system absent here keeps
 * its connector's documented budget.
 */
export function parseRateLimits(variable: string, text: string | undefined): ReadonlyMap<string, RateBudget | undefined> {
  const budgets = new Map<string, RateBudget | undefined>();
  for (const entry of (text ?? '').split(/[\s,]+/).filter((part) => part !== '')) {
    const off = /^([a-z][a-z0-9-]*|\*)=off$/.exec(entry);
    if (off !== null) {
      budgets.set(off[1]!, undefined);
      continue;
    }
    const match = /^([a-z][a-z0-9-]*|\*)=(\d+(?:\.\d+)?)\/(\d+)$/.exec(entry);
    if (match === null) throw new Error(`Invalid configuration — ${variable}: "${entry}" is not system=perSecond/burst or system=off, e.g. netsuite=5/10`);
    const perSecond = Number(match[2]);
    const burst = Number(match[3]);
    if (perSecond <= 0 || burst < 1) throw new Error(`Invalid configuration — ${variable}: "${entry}" needs a rate above 0 and a burst of at least 1`);
    budgets.set(match[1]!, { perSecond, burst });
  }
  return budgets;
}
