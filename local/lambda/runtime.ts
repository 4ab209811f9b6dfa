/**
 * Runs the template's Lambda functions on one machine the way Lambda runs them:
 * each function instance is a worker thread with the function's own environment
 * (a container), started on first use (cold start), reused while warm, at most a
 * few per function at once, stopped when it times out or crashes.
 *
 * Why worker threads, not in-process imports: Harmony handlers read their
 * configuration from `process.env` at module load (one zod schema per function), and
 * two functions may share a module with different configuration (two starters with
 * different FLOW_NAME). A worker has its own `process.env` and module cache, and can
 * be terminated mid-invocation, which is how a timeout is enforced even on a busy loop.
 *
 * Handler modules are loaded by their `.ts` path with Node's own type stripping (Node 24;
 * Harmony code is erasable-syntax-only with explicit `.ts` imports), so workers need no
 * loader and behave the same whether the hub runs under tsx, vitest or plain node.
 *
 * Throttling: Lambda answers a request over the concurrency limit with a throttle
 * (429) that SQS event sources and Step Functions retry. Locally such a request waits
 * for a free instance instead (same eventual outcome, no retry storm); it counts as
 * *throttled* in `stats()` when it waited longer than `throttleAfterMs`, which is what
 * the Throttles alarm should see: a function short of concurrency, not a momentary burst.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LocalFunction } from './functions.ts';
import type { InstanceConfiguration, InstanceMessage, InvokeMessage, SerializedError } from './worker-protocol.ts';

/** What one invocation gave: the handler's result (as Lambda's JSON), or its error as Lambda reports it. */
export type InvokeOutcome =
  | {
      readonly status: 'ok';
      readonly result: unknown;
      readonly durationMs: number;
      readonly requestId: string;
      /** Set on a cold start: how long loading the handler module took (not part of `durationMs`). */
      readonly initDurationMs?: number;
    }
  | {
      readonly status: 'error';
      /** The thrown error's `name` (`OrderRejectedError`), or `Sandbox.Timedout`, `Runtime.*` for the runtime's own. */
      readonly errorType: string;
      readonly errorMessage: string;
      /** The stack, line by line, as Lambda's `trace`. */
      readonly trace: readonly string[];
      readonly durationMs: number;
      readonly requestId: string;
      readonly initDurationMs?: number;
    };

/** Counters of one function since the runtime started, like the AWS/Lambda metrics of that function. */
export interface FunctionStats {
  readonly logicalId: string;
  readonly functionName: string;
  /** Invocations that ran (ok or error), including those that waited for an instance. */
  readonly invocations: number;
  /** Invocations that ended in an error, timeouts and init failures included (AWS/Lambda Errors). */
  readonly errors: number;
  /** Requests that waited longer than `throttleAfterMs` for a free instance (AWS/Lambda Throttles). */
  readonly throttles: number;
  readonly timeouts: number;
  readonly coldStarts: number;
  /** Instances alive now (starting, idle or busy). */
  readonly instances: number;
  /** Instances running an invocation now (AWS/Lambda ConcurrentExecutions). */
  readonly busy: number;
  /** Requests waiting for an instance now. */
  readonly waiting: number;
  /** Most instances this function may have at once. */
  readonly concurrencyLimit: number;
  /** Durations of the latest invocations in milliseconds, oldest first (AWS/Lambda Duration). */
  readonly lastDurationsMs: readonly number[];
}

/** Options of the local runtime. */
export interface LocalLambdaRuntimeOptions {
  /** The functions it runs, from `functionsOf`. */
  readonly functions: readonly LocalFunction[];
  /** Directory that function entries are relative to (the repository root). */
  readonly projectRoot: string;
  /**
   * Environment every instance starts with, under its function's own (AWS_REGION,
   * credentials, AWS_ENDPOINT_URL…). The runtime adds Lambda's reserved variables on top.
   * @default {}
   */
  readonly baseEnvironment?: Readonly<Record<string, string>>;
  /** Most instances of one function at once; a function's reserved concurrency lowers it. @default 4 */
  readonly maxConcurrencyPerFunction?: number;
  /** A request waiting longer than this for a free instance counts as throttled. @default 1000 */
  readonly throttleAfterMs?: number;
  /** An idle instance is stopped after this long, as Lambda reclaims idle environments. @default 600_000 */
  readonly idleTimeoutMs?: number;
  /**
   * Lambda's init phase limit. As in Lambda, an init that outlasts it is not failed but given
   * the function's timeout on top (the init re-run inside the first invocation). @default 10_000
   */
  readonly initTimeoutMs?: number;
}

/** How many durations `stats()` keeps per function. */
const DURATIONS_KEPT = 20;

interface Invocation {
  readonly requestId: string;
  readonly settle: (outcome: Settled) => void;
}

type Settled = { readonly ok: true; readonly json: string } | { readonly ok: false; readonly error: SerializedError };

interface Instance {
  readonly id: number;
  readonly worker: Worker;
  /** Resolves when the module is loaded (`undefined`) or could not be (its error). */
  readonly ready: Promise<SerializedError | undefined>;
  /** True until the first invocation has been dispatched to it. */
  cold: boolean;
  gone: boolean;
  current: Invocation | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

interface Waiter {
  readonly grant: (instance: Instance | undefined) => void;
}

class FunctionPool {
  readonly fn: LocalFunction;
  readonly limit: number;
  readonly instances = new Set<Instance>();
  readonly idle: Instance[] = [];
  readonly waiters: Waiter[] = [];
  invocations = 0;
  errors = 0;
  throttles = 0;
  timeouts = 0;
  coldStarts = 0;
  readonly durations: number[] = [];

  constructor(fn: LocalFunction, limit: number) {
    this.fn = fn;
    this.limit = limit;
  }

  recordDuration(durationMs: number): void {
    this.durations.push(durationMs);
    if (this.durations.length > DURATIONS_KEPT) this.durations.shift();
  }
}

/**
 * Runs Lambda handler modules in worker threads, one worker per function instance.
 * `invoke` takes a logical id, a function name or a function ARN.
 */
export class LocalLambdaRuntime {
  readonly #pools = new Map<string, FunctionPool>();
  readonly #byReference = new Map<string, FunctionPool>();
  readonly #projectRoot: string;
  readonly #baseEnvironment: Readonly<Record<string, string>>;
  readonly #throttleAfterMs: number;
  readonly #idleTimeoutMs: number;
  readonly #initTimeoutMs: number;
  readonly #workerUrl = new URL('./lambda-worker.ts', import.meta.url);
  #nextInstanceId = 1;
  #stopped = false;

  constructor(options: LocalLambdaRuntimeOptions) {
    const maxConcurrency = options.maxConcurrencyPerFunction ?? 4;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new Error(`maxConcurrencyPerFunction must be a positive integer, got ${maxConcurrency}`);
    }
    this.#projectRoot = options.projectRoot;
    this.#baseEnvironment = options.baseEnvironment ?? {};
    this.#throttleAfterMs = options.throttleAfterMs ?? 1000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
    this.#initTimeoutMs = options.initTimeoutMs ?? 10_000;
    for (const fn of options.functions) {
      if (this.#pools.has(fn.functionName)) throw new Error(`two functions are named ${fn.functionName}`);
      const pool = new FunctionPool(fn, Math.min(maxConcurrency, fn.reservedConcurrency ?? maxConcurrency));
      this.#pools.set(fn.functionName, pool);
      for (const reference of [fn.logicalId, fn.functionName, fn.arn]) this.#byReference.set(reference, pool);
    }
  }

  /** The functions this runtime runs. */
  get functions(): LocalFunction[] {
    return [...this.#pools.values()].map((pool) => pool.fn);
  }

  /**
   * Invokes a function synchronously (RequestResponse) with `event` and gives its outcome;
   * a handler error is an outcome, not a rejection. Throws a `ResourceNotFoundException`
   * for a function it does not know, and after `stop()`.
   */
  async invoke(functionReference: string, event: unknown): Promise<InvokeOutcome> {
    const pool = this.#poolOf(functionReference);
    if (this.#stopped) throw new Error(`the local Lambda runtime is stopped; cannot invoke ${pool.fn.functionName}`);
    const requestId = randomUUID();
    if (pool.limit === 0) {
      // Reserved concurrency 0: Lambda throttles every request.
      pool.throttles += 1;
      return errorOutcome(requestId, 0, 'TooManyRequestsException', `Rate Exceeded: ${pool.fn.functionName} has reserved concurrency 0`);
    }
    const queuedAt = performance.now();
    const instance = await this.#acquire(pool);
    if (performance.now() - queuedAt > this.#throttleAfterMs) pool.throttles += 1;
    if (instance === undefined) return errorOutcome(requestId, 0, 'Runtime.ExitError', 'the local Lambda runtime stopped before the request ran');
    pool.invocations += 1;

    let initDurationMs: number | undefined;
    if (instance.cold) {
      instance.cold = false;
      pool.coldStarts += 1;
      const initStart = performance.now();
      const initError = await instance.ready;
      initDurationMs = Math.round(performance.now() - initStart);
      if (initError !== undefined) {
        // As in Lambda, a failed init leaves no instance behind; the next request tries a fresh one.
        pool.errors += 1;
        void this.#discard(pool, instance);
        this.#release(pool, instance);
        return errorOutcome(requestId, 0, initError.name, initError.message, initError.stack, initDurationMs);
      }
    }

    const started = performance.now();
    const settled = await this.#run(pool, instance, requestId, event);
    const durationMs = Math.round(performance.now() - started);
    pool.recordDuration(durationMs);
    if (settled === 'timeout') {
      pool.errors += 1;
      pool.timeouts += 1;
      return errorOutcome(requestId, durationMs, 'Sandbox.Timedout', `Task timed out after ${(pool.fn.timeoutMs / 1000).toFixed(2)} seconds`, undefined, initDurationMs);
    }
    if (!settled.ok) {
      pool.errors += 1;
      return errorOutcome(requestId, durationMs, settled.error.name, settled.error.message, settled.error.stack, initDurationMs);
    }
    return {
      status: 'ok',
      result: JSON.parse(settled.json) as unknown,
      durationMs,
      requestId,
      ...(initDurationMs === undefined ? {} : { initDurationMs }),
    };
  }

  /** Counters of every function, in the order given, read by the hub's alarm evaluator like AWS/Lambda metrics. */
  stats(): FunctionStats[] {
    return [...this.#pools.values()].map((pool) => ({
      logicalId: pool.fn.logicalId,
      functionName: pool.fn.functionName,
      invocations: pool.invocations,
      errors: pool.errors,
      throttles: pool.throttles,
      timeouts: pool.timeouts,
      coldStarts: pool.coldStarts,
      instances: pool.instances.size,
      busy: [...pool.instances].filter((instance) => instance.current !== undefined).length,
      waiting: pool.waiters.length,
      concurrencyLimit: pool.limit,
      lastDurationsMs: [...pool.durations],
    }));
  }

  /**
   * Stops every instance. Invocations in flight end as `Runtime.ExitError`, waiting requests
   * too; later `invoke` calls throw.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    const terminations: Promise<unknown>[] = [];
    for (const pool of this.#pools.values()) {
      for (const waiter of pool.waiters.splice(0)) waiter.grant(undefined);
      for (const instance of [...pool.instances]) {
        instance.current?.settle({ ok: false, error: { name: 'Runtime.ExitError', message: 'the local Lambda runtime stopped' } });
        terminations.push(this.#discard(pool, instance));
      }
    }
    await Promise.all(terminations);
  }

  #poolOf(reference: string): FunctionPool {
    const pool = this.#byReference.get(reference) ?? this.#byReference.get(reference.replace(/(:function:[^:]+):[^:]+$/, '$1'));
    if (pool === undefined) {
      const known = [...this.#pools.keys()].join(', ') || 'none';
      throw Object.assign(new Error(`Function not found: ${reference} (local functions: ${known})`), { name: 'ResourceNotFoundException' });
    }
    return pool;
  }

  /** A free instance: an idle one, a new one while under the limit, else the next to free up. */
  #acquire(pool: FunctionPool): Promise<Instance | undefined> {
    const idle = pool.idle.pop();
    if (idle !== undefined) {
      clearTimeout(idle.idleTimer);
      idle.idleTimer = undefined;
      return Promise.resolve(idle);
    }
    if (pool.instances.size < pool.limit) return Promise.resolve(this.#start(pool));
    return new Promise((grant) => pool.waiters.push({ grant }));
  }

  /** Hands a freed instance to the next waiter, or parks it idle; replaces a lost one for a waiter. */
  #release(pool: FunctionPool, instance: Instance): void {
    if (this.#stopped) return;
    if (instance.gone) {
      if (pool.waiters.length > 0 && pool.instances.size < pool.limit) pool.waiters.shift()?.grant(this.#start(pool));
      return;
    }
    const waiter = pool.waiters.shift();
    if (waiter !== undefined) {
      waiter.grant(instance);
      return;
    }
    pool.idle.push(instance);
    instance.worker.unref();
    instance.idleTimer = setTimeout(() => void this.#discard(pool, instance), this.#idleTimeoutMs);
    instance.idleTimer.unref();
  }

  /** Starts a worker for `pool`'s function: a cold instance that loads the handler module. */
  #start(pool: FunctionPool): Instance {
    const { fn } = pool;
    const [, , , region = 'us-east-1', accountId = '000000000000'] = fn.arn.split(':');
    const configuration: InstanceConfiguration = {
      moduleUrl: pathToFileURL(resolve(this.#projectRoot, fn.entry)).href,
      handlerExport: fn.handlerExport,
      entry: fn.entry,
      functionName: fn.functionName,
      memoryMb: fn.memoryMb,
      timeoutMs: fn.timeoutMs,
      region,
      accountId,
    };
    const worker = new Worker(this.#workerUrl, {
      workerData: configuration,
      env: {
        ...this.#baseEnvironment,
        ...fn.environment,
        // Lambda's reserved variables, which a function's own environment cannot change.
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
        AWS_LAMBDA_LOG_STREAM_NAME: `local/${new Date().toISOString().slice(0, 10)}/instance-${this.#nextInstanceId}`,
      },
      // Workers strip types themselves; no loader flags of the parent (tsx, vitest) leak in.
      execArgv: [],
      // The function's memory size bounds its JS heap, so a leak ends the instance, not the hub.
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMb },
      name: `lambda:${fn.functionName}#${this.#nextInstanceId}`,
    });
    let readySettle: (error: SerializedError | undefined) => void = () => undefined;
    const ready = new Promise<SerializedError | undefined>((resolveReady) => {
      readySettle = resolveReady;
    });
    const instance: Instance = { id: this.#nextInstanceId++, worker, ready, cold: true, gone: false, current: undefined, idleTimer: undefined };
    pool.instances.add(instance);

    // Lambda does not fail a request whose init outlasts the init limit: it runs init again
    // within that first invocation, bounded by the function's timeout ("suppressed init").
    // Letting this init go on for as long gives the same outcome without starting over.
    const initLimitMs = this.#initTimeoutMs + fn.timeoutMs;
    const initTimer = setTimeout(() => {
      readySettle({
        name: 'Sandbox.Timedout',
        message: `Init of ${fn.entry} timed out after ${(initLimitMs / 1000).toFixed(2)} seconds (init limit ${(this.#initTimeoutMs / 1000).toFixed(0)} s, then the function timeout)`,
      });
    }, initLimitMs);
    const readyOnce = (error: SerializedError | undefined): void => {
      clearTimeout(initTimer);
      readySettle(error);
    };
    worker.on('message', (message: InstanceMessage) => {
      switch (message.kind) {
        case 'ready':
          readyOnce(undefined);
          return;
        case 'init-error':
          readyOnce(message.error);
          return;
        case 'result':
        case 'error':
          if (instance.current?.requestId === message.awsRequestId) {
            instance.current.settle(message.kind === 'result' ? { ok: true, json: message.json } : { ok: false, error: message.error });
          }
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      // An uncaught exception or rejection outside the handler's promise, or the heap limit: the instance dies with it.
      const serialized =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { name: 'Runtime.OutOfMemory', message: `Runtime exited with error: ${error.message} (memory size ${fn.memoryMb} MB)` }
          : { name: error.name || 'Error', message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
      instance.gone = true;
      readyOnce(serialized);
      instance.current?.settle({ ok: false, error: serialized });
    });
    worker.on('exit', (code) => {
      const lost: SerializedError = { name: 'Runtime.ExitError', message: `RequestId: ${instance.current?.requestId ?? '-'} Error: Runtime exited with error: exit status ${code}` };
      readyOnce(lost);
      instance.current?.settle({ ok: false, error: lost });
      instance.gone = true;
      pool.instances.delete(instance);
      const parked = pool.idle.indexOf(instance);
      if (parked >= 0) pool.idle.splice(parked, 1);
      clearTimeout(instance.idleTimer);
    });
    return instance;
  }

  /** Runs one invocation on `instance`; on timeout the instance is terminated, as Lambda ends the sandbox. */
  #run(pool: FunctionPool, instance: Instance, requestId: string, event: unknown): Promise<Settled | 'timeout'> {
    return new Promise((settleRun) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (settled: Settled | 'timeout'): void => {
        if (instance.current?.requestId !== requestId) return;
        clearTimeout(timer);
        instance.current = undefined;
        if (settled === 'timeout' || (!settled.ok && settled.error.name === 'Runtime.ExitError') || instance.gone) {
          void this.#discard(pool, instance);
        }
        settleRun(settled);
        this.#release(pool, instance);
      };
      instance.current = { requestId, settle: finish };
      instance.worker.ref();
      const message: InvokeMessage = { kind: 'invoke', awsRequestId: requestId, deadlineMs: Date.now() + pool.fn.timeoutMs, event };
      try {
        instance.worker.postMessage(message);
      } catch (error) {
        // The event cannot be cloned (functions, symbols): Lambda accepts only JSON payloads.
        const reason = error instanceof Error ? error.message : String(error);
        finish({ ok: false, error: { name: 'InvalidRequestContentException', message: `event is not a JSON-like value: ${reason}` } });
        return;
      }
      timer = setTimeout(() => finish('timeout'), pool.fn.timeoutMs);
    });
  }

  /** Terminates an instance and forgets it. */
  async #discard(pool: FunctionPool, instance: Instance): Promise<void> {
    instance.gone = true;
    clearTimeout(instance.idleTimer);
    pool.instances.delete(instance);
    const parked = pool.idle.indexOf(instance);
    if (parked >= 0) pool.idle.splice(parked, 1);
    await instance.worker.terminate();
  }
}

function errorOutcome(
  requestId: string,
  durationMs: number,
  errorType: string,
  errorMessage: string,
  stack?: string,
  initDurationMs?: number,
): InvokeOutcome {
  return {
    status: 'error',
    errorType,
    errorMessage,
    trace: stack === undefined ? [] : stack.split('\n'),
    durationMs,
    requestId,
    ...(initDurationMs === undefined ? {} : { initDurationMs }),
  };
}
