/**
 * Awaiting a call that must fail, for tests that then assess the error: its family, its
 * message, its code. A call that succeeds, or fails with something that is not an Error,
 * fails the test naming what came instead. And retrying a call the way the saga does.
 */
import { expect } from 'vitest';
import { RetryableError } from '../../functions/core/errors.ts';

/** The Error `promise` rejects with; throws when it resolves or rejects with a non-Error. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof Error)) throw new Error(`expected an Error, got ${String(outcome.error)}`);
  return outcome.error;
}

/**
 * Calls `operation` again after each RetryableError, as the saga retries, until it succeeds;
 * any other error, or more than `limit` retries, fails the test. Resolves with the result
 * and how many retries it took.
 */
export async function retriedUntilSuccess<Result>(operation: () => Promise<Result>, limit: number): Promise<{ result: Result; retries: number }> {
  for (let retries = 0; ; retries += 1) {
    try {
      return { result: await operation(), retries };
    } catch (error) {
      expect(error).toBeInstanceOf(RetryableError);
      expect(retries + 1, 'retries before success').toBeLessThanOrEqual(limit);
    }
  }
}
