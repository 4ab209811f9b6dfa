/**
 * Fault injection shared by every sandbox: tests ask a sandbox over HTTP to fail
 * its next N calls (optionally only calls to one named operation) with a 500, a
 * 429 with Retry-After, a timeout (the sandbox holds the request and never
 * answers), `malformed` (a 200 whose body is not the vendor's documented shape:
 * truncated JSON or XML), or `commit-then-drop` (the sandbox executes and commits the call, then
 * destroys the connection without answering: the vendor wrote, the reply was lost).
 *
 * A request with the header `x-sandbox-faults: bypass` is never faulted and
 * consumes no rule, so a test harness's own calls do not eat the faults meant for
 * the system under test. Rules live in memory only.
 *
 * Every sandbox serves the same control routes through `serveFaultRoutes`:
 * `POST /__sandbox/faults` (a FaultRequest; 201 `{ remaining }`), `GET /__sandbox/faults`
 * (200 `{ remaining }`: calls still due to fail) and `DELETE /__sandbox/faults` (204).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';

/** Header that, set to FAULT_BYPASS_VALUE, exempts a request from fault injection. */
export const FAULT_BYPASS_HEADER = 'x-sandbox-faults';
/** The value of FAULT_BYPASS_HEADER that exempts a request. */
export const FAULT_BYPASS_VALUE = 'bypass';

/** Body of `POST /__sandbox/faults`. */
export const FaultRequest = z.object({
  /** How many matching calls to fail. */
  count: z.number().int().positive().max(100_000),
  kind: z.enum(['500', '429', 'timeout', 'malformed', 'commit-then-drop']),
  /** Only calls to this operation fail, e.g. `sale.order.action_confirm` or `PATCH /crm/v3/objects/deals`. */
  operation: z.string().min(1).optional(),
  /** Seconds sent in Retry-After with a 429. */
  retryAfterSeconds: z.number().int().nonnegative().max(3600).default(1),
});
export type FaultRequest = z.infer<typeof FaultRequest>;

/** The fault a call must suffer, if any. */
export type Fault = Pick<FaultRequest, 'kind' | 'retryAfterSeconds'>;

/** True when the request asked not to be faulted (`x-sandbox-faults: bypass`). */
export function bypassesFaults(headers: IncomingHttpHeaders): boolean {
  return headers[FAULT_BYPASS_HEADER] === FAULT_BYPASS_VALUE;
}

/** A queue of pending faults; the first one whose operation matches is consumed. */
export class FaultInjector {
  private readonly pending: FaultRequest[] = [];

  /** Adds a fault rule; rules are consumed in the order they were added. */
  add(request: FaultRequest): void {
    this.pending.push({ ...request });
  }

  /** Removes every pending fault. */
  clear(): void {
    this.pending.length = 0;
  }

  /** Number of calls still due to fail. */
  remaining(): number {
    return this.pending.reduce((sum, rule) => sum + rule.count, 0);
  }

  /** Returns (and consumes) the fault for a call to `operation`, or undefined when it should succeed. */
  take(operation: string): Fault | undefined {
    const index = this.pending.findIndex(
      (rule) => rule.operation === undefined || rule.operation === operation,
    );
    if (index < 0) return undefined;
    const rule = this.pending[index]!;
    rule.count -= 1;
    if (rule.count === 0) this.pending.splice(index, 1);
    return { kind: rule.kind, retryAfterSeconds: rule.retryAfterSeconds };
  }
}

/** The path of the fault control routes. */
export const FAULTS_PATH = '/__sandbox/faults';

/** The rules the fault routes act on: a FaultInjector, or several behind one face. */
export type FaultRules = Pick<FaultInjector, 'add' | 'clear' | 'remaining'>;

/** What a fault route answers: a status and a JSON body (none with 204). */
export interface FaultRouteAnswer {
  readonly status: number;
  /** Undefined with 204. */
  readonly body: unknown;
}

/**
 * Serves `POST|GET|DELETE /__sandbox/faults` on `rules`; undefined for any other request, which
 * the sandbox answers itself. `text` is the raw request body (a FaultRequest as JSON for POST).
 */
export function serveFaultRoutes(rules: FaultRules, method: string, path: string, text: string): FaultRouteAnswer | undefined {
  if (path !== FAULTS_PATH) return undefined;
  switch (method) {
    case 'GET':
      return { status: 200, body: { remaining: rules.remaining() } };
    case 'DELETE':
      rules.clear();
      return { status: 204, body: undefined };
    case 'POST': {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { status: 400, body: { error: 'body is not JSON' } };
      }
      const parsed = FaultRequest.safeParse(json);
      if (!parsed.success) return { status: 400, body: { error: `invalid fault: ${z.prettifyError(parsed.error)}`, issues: parsed.error.issues } };
      rules.add(parsed.data);
      return { status: 201, body: { remaining: rules.remaining() } };
    }
    default:
      return undefined;
  }
}
