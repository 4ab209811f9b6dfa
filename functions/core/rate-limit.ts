/**
 * Per-target request budgets. A vendor's rate limit is per account, not per Lambda
 * instance, so in AWS the budget is a token bucket in DynamoDB that every concurrent
 * instance draws from (see `dynamo-token-bucket.ts`); a vendor's 429 with Retry-After
 * empties it for everyone until the time is up.
 */

/** A shared budget of requests per target (e.g. `netsuite:1234567`). */
export interface RateLimiter {
  /**
   * Takes one request from the target's budget, waiting for it when it is empty; throws
   * RetryableError (with `retryAfterSeconds`) rather than wait past `maxWaitMs`.
   */
  acquire(target: string, options?: { readonly maxWaitMs?: number }): Promise<void>;
  /** The vendor answered 429/503 with Retry-After: hold every caller of `target` off for `seconds`. */
  backOff(target: string, seconds: number): Promise<void>;
}

/** A budget: `burst` requests at once, refilled at `perSecond`. */
export interface RateBudget {
  readonly perSecond: number;
  readonly burst: number;
}
