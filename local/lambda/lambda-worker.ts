/**
 * One local Lambda instance: runs in its own worker thread with the function's own
 * `process.env`, imports the handler module once (the init phase, as a cold start
 * does) and then runs invocations one at a time, like a Lambda execution environment.
 * Started by `LocalLambdaRuntime`; not imported by anything else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLambdaContext } from './lambda-context.ts';
import { startWorkerProfiler } from './worker-profiler.ts';
import { type InstanceConfiguration, type InstanceMessage, type InvokeMessage, type SerializedError, serializeError } from './worker-protocol.ts';

type Handler = (event: unknown, context: unknown) => unknown;

if (parentPort === null) throw new Error('lambda-worker.ts runs only as a worker thread of LocalLambdaRuntime');
const port = parentPort;
const configuration = workerData as InstanceConfiguration;
const post = (message: InstanceMessage): void => port.postMessage(message);

/** Lambda's own error types for handler modules it cannot load; other init errors keep their name. */
function initError(thrown: unknown): SerializedError {
  const error = serializeError(thrown);
  const code = (thrown as { code?: unknown } | null)?.code;
  if (thrown instanceof SyntaxError) return { ...error, name: 'Runtime.UserCodeSyntaxError' };
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING') {
    return { ...error, name: 'Runtime.ImportModuleError', message: `Error: ${error.message}` };
  }
  return error;
}

async function loadHandler(): Promise<Handler> {
  const module = (await import(configuration.moduleUrl)) as Record<string, unknown>;
  const handler = module[configuration.handlerExport];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${configuration.entry}.${configuration.handlerExport} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler as Handler;
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  const { awsRequestId, deadlineMs } = message;
  const context = createLambdaContext(
    {
      functionName: configuration.functionName,
      memoryLimitInMB: configuration.memoryMb,
      timeoutMs: configuration.timeoutMs,
      region: configuration.region,
      accountId: configuration.accountId,
    },
    { awsRequestId, deadlineMs },
  );
  let result: unknown;
  try {
    result = await handler(message.event, context);
  } catch (error) {
    post({ kind: 'error', awsRequestId, error: serializeError(error) });
    return;
  }
  let json: string;
  try {
    // What Lambda returns is the JSON of the result: Dates become strings, undefined becomes null.
    json = JSON.stringify(result) ?? 'null';
  } catch (error) {
    post({ kind: 'error', awsRequestId, error: { ...serializeError(error), name: 'Runtime.MarshalError' } });
    return;
  }
  post({ kind: 'result', awsRequestId, json });
}

try {
  await startWorkerProfiler(configuration.functionName);
  const handler = await loadHandler();
  port.on('message', (message: InvokeMessage) => void invoke(handler, message));
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'init-error', error: initError(error) });
  // Nothing keeps the thread alive now: it exits and the runtime discards the instance.
}
