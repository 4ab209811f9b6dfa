/**
 * Canned responses for sandboxes whose tests need an answer the sandbox would never give
 * by itself (a recorded vendor error, a malformed body): `POST /__sandbox/responses` has
 * the next N calls of an operation answered with a given status, body and headers instead
 * of being served; `DELETE /__sandbox/responses` drops them. Like fault rules, they live in
 * memory only, and a request with `x-sandbox-faults: bypass` must not take one.
 */
import * as z from 'zod';

/** The path of the canned response routes. */
export const RESPONSES_PATH = '/__sandbox/responses';

/** Body of `POST /__sandbox/responses`. */
export const CannedResponseRequest = z.object({
  /** Named as the sandbox names fault operations, e.g. `GET /crm/v3/objects/deals`. */
  operation: z.string().min(1),
  status: z.number().int().min(200).max(599).default(200),
  body: z.unknown(),
  headers: z.record(z.string(), z.string()).default({}),
  count: z.number().int().positive().max(1000).default(1),
});
export type CannedResponseRequest = z.infer<typeof CannedResponseRequest>;

/** An answer to send as it is. */
export interface CannedResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

/** Pending canned responses, taken in the order they were added. */
export class CannedResponses {
  readonly #pending: CannedResponseRequest[] = [];

  /** The canned answer for a call of `operation` (one use of it), or undefined when the call is to be served. */
  take(operation: string): CannedResponse | undefined {
    const index = this.#pending.findIndex((entry) => entry.operation === operation);
    if (index < 0) return undefined;
    const entry = this.#pending[index]!;
    entry.count -= 1;
    if (entry.count === 0) this.#pending.splice(index, 1);
    return { status: entry.status, body: entry.body, headers: entry.headers };
  }

  /**
   * Serves `POST|DELETE /__sandbox/responses` with the parsed JSON `body`: 201 `{ pending }`,
   * 400 naming what is wrong, 204; undefined for any other request.
   */
  serve(method: string, path: string, body: unknown): { readonly status: number; readonly body: unknown } | undefined {
    if (path !== RESPONSES_PATH) return undefined;
    if (method === 'DELETE') {
      this.#pending.length = 0;
      return { status: 204, body: undefined };
    }
    if (method !== 'POST') return undefined;
    const parsed = CannedResponseRequest.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: 'invalid response', issues: parsed.error.issues } };
    this.#pending.push(parsed.data);
    return { status: 201, body: { pending: this.#pending.length } };
  }
}
