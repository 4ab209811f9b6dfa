/**
 * Messages between the local Lambda runtime and one function instance (a worker
 * thread). Both ends are Harmony code in one process, so these are trusted types,
 * not a boundary: events go in as structured clones, results come back as the
 * JSON text Lambda would return, errors as `{ name, message, stack }`.
 */

/** What a worker is started with (its `workerData`). */
export interface InstanceConfiguration {
  /** `file:` URL of the handler module. */
  readonly moduleUrl: string;
  /** The export to call, e.g. `handler`. */
  readonly handlerExport: string;
  /** The entry as the template names it, for error messages. */
  readonly entry: string;
  readonly functionName: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly region: string;
  readonly accountId: string;
}

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  /** Lambda's errorType: the error's `name`, or a `Runtime.*` type the runtime gives it. */
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Runtime → instance: run the handler once. */
export interface InvokeMessage {
  readonly kind: 'invoke';
  readonly awsRequestId: string;
  /** Epoch milliseconds when the invocation times out, for `context.getRemainingTimeInMillis`. */
  readonly deadlineMs: number;
  readonly event: unknown;
}

/** Instance → runtime. */
export type InstanceMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'init-error'; readonly error: SerializedError }
  | { readonly kind: 'result'; readonly awsRequestId: string; readonly json: string }
  | { readonly kind: 'error'; readonly awsRequestId: string; readonly error: SerializedError };

/** How Lambda's Node.js runtime names a thrown value: an error's `name`, else its type (`throw 'x'` → `string`). */
export function serializeError(thrown: unknown): SerializedError {
  if (thrown instanceof Error) {
    return { name: thrown.name || 'Error', message: thrown.message, ...(thrown.stack === undefined ? {} : { stack: thrown.stack }) };
  }
  if (typeof thrown === 'object' && thrown !== null && 'message' in thrown) {
    const { name, message, stack } = thrown as { name?: unknown; message?: unknown; stack?: unknown };
    return {
      name: typeof name === 'string' && name !== '' ? name : 'Error',
      message: String(message),
      ...(typeof stack === 'string' ? { stack } : {}),
    };
  }
  return { name: typeof thrown, message: String(thrown) };
}
