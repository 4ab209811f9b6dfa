/**
 * The local Lambda runtime: functions read from a synthesized template, each run in its
 * own worker with its own environment, cold then warm, errors and timeouts reported as
 * Lambda reports them, a broken handler module reported without taking the runtime down,
 * and the concurrency bound held.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ENTRY_METADATA_KEY as LIB_ENTRY_METADATA_KEY } from '../../lib/constructs/harmony-function.ts';
import { ENTRY_METADATA_KEY, functionsOf, type LocalFunction, unsupportedFunctionsOf } from '../../local/lambda/functions.ts';
import { type InvokeOutcome, LocalLambdaRuntime, type LocalLambdaRuntimeOptions } from '../../local/lambda/runtime.ts';
import { parseTemplate } from '../../local/template/load-template.ts';
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { type FlowTestApp, logicalIdOf, synthFlowTestApp } from '../support/flow-test-stack.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROBE = 'test/local/fixtures/probe-handler.ts';

/** What the probe handler answers. */
interface Probe {
  flowName: string | null;
  lambdaName: string | null;
  instanceId: string;
  invocations: number;
  functionName: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  remainingMs: number;
  awsRequestId: string;
  startedAt: number;
  endedAt: number;
  at: unknown;
}

function probeFunction(name: string, overrides: Partial<LocalFunction> = {}): LocalFunction {
  return {
    logicalId: `${name}Logical`,
    functionName: name,
    arn: `arn:aws:lambda:eu-west-1:111111111111:function:${name}`,
    entry: PROBE,
    handlerExport: 'handler',
    environment: {},
    timeoutMs: 5000,
    memoryMb: 512,
    ...overrides,
  };
}

function ok(outcome: InvokeOutcome): Probe {
  if (outcome.status !== 'ok') throw new Error(`expected ok, got ${outcome.errorType}: ${outcome.errorMessage}`);
  return outcome.result as Probe;
}

function statsOf(lambda: LocalLambdaRuntime, functionName: string) {
  const stats = lambda.stats().find((fn) => fn.functionName === functionName);
  if (stats === undefined) throw new Error(`no stats for ${functionName}`);
  return stats;
}

let runtime: LocalLambdaRuntime | undefined;
function startRuntime(options: Omit<LocalLambdaRuntimeOptions, 'projectRoot'>): LocalLambdaRuntime {
  runtime = new LocalLambdaRuntime({ projectRoot: PROJECT_ROOT, ...options });
  return runtime;
}

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

describe('functionsOf', () => {
  let app: FlowTestApp;
  let resolver: TemplateResolver;

  beforeAll(() => {
    app = synthFlowTestApp();
    resolver = new TemplateResolver(app.template, { region: 'eu-west-1', accountId: '111111111111', sqsEndpoint: 'http://127.0.0.1:4566' });
  });

  it('reads the metadata key the HarmonyFunction construct writes', () => {
    expect(ENTRY_METADATA_KEY).toBe(LIB_ENTRY_METADATA_KEY);
  });

  it('gives each Harmony function its handler module, resolved environment, limits and names', () => {
    const functions = functionsOf(resolver);
    const starterId = logicalIdOf(app.pipeline.starter);
    const starter = functions.find((fn) => fn.logicalId === starterId);
    expect(functions.map((fn) => fn.entry).sort()).toEqual(['functions/handlers/run-step.ts', 'functions/handlers/start-execution.ts']);
    expect(starter).toEqual({
      logicalId: starterId,
      functionName: starterId,
      arn: `arn:aws:lambda:eu-west-1:111111111111:function:${starterId}`,
      entry: 'functions/handlers/start-execution.ts',
      handlerExport: 'handler',
      environment: expect.objectContaining({
        FLOW_NAME: 'order-to-cash',
        DEAD_LETTER_QUEUE_URL: resolver.ref(logicalIdOf(app.pipeline.deadLetterQueue)),
        STATE_MACHINE_ARN: resolver.getAtt(logicalIdOf(app.pipeline.stateMachine), 'Arn'),
        AUDIT_TABLE: expect.stringMatching(/^Audit/),
      }),
      timeoutMs: 30_000,
      memoryMb: 256,
    });
    expect(Object.values(starter?.environment ?? {}).every((value) => typeof value === 'string')).toBe(true);
    expect(functions.find((fn) => fn.entry.endsWith('run-step.ts'))?.timeoutMs).toBe(60_000);
    expect(unsupportedFunctionsOf(resolver)).toEqual([]);
  });

  it('merges environment overrides over the template, per function', () => {
    const functions = functionsOf(resolver, (fn) => ({ FLOW_NAME: `override-${fn.entry.length}`, EXTRA: fn.functionName }));
    for (const fn of functions) {
      expect(fn.environment.FLOW_NAME).toBe(`override-${fn.entry.length}`);
      expect(fn.environment.EXTRA).toBe(fn.functionName);
      expect(fn.environment.AUDIT_TABLE).toMatch(/^Audit/);
    }
  });

  it('lists functions without a handler module apart, with the reason, and skips resources whose condition is false', () => {
    const template = parseTemplate({
      Parameters: { Stage: { Type: 'String', Default: 'dev' } },
      Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
      Resources: {
        LogRetentionProvider: {
          Type: 'AWS::Lambda::Function',
          Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Timeout: 900 },
          Metadata: { 'aws:cdk:path': 'Stack/LogRetention/Resource' },
        },
        Harmony: {
          Type: 'AWS::Lambda::Function',
          Properties: { FunctionName: 'harmony-named', Handler: 'index.main', ReservedConcurrentExecutions: 2 },
          Metadata: { [ENTRY_METADATA_KEY]: PROBE },
        },
        ProdOnly: {
          Type: 'AWS::Lambda::Function',
          Condition: 'IsProd',
          Properties: { Handler: 'index.handler' },
          Metadata: { [ENTRY_METADATA_KEY]: PROBE },
        },
      },
    });
    const small = new TemplateResolver(template, { region: 'us-east-1', accountId: '000000000000' });
    expect(functionsOf(small)).toEqual([
      {
        logicalId: 'Harmony',
        functionName: 'harmony-named',
        arn: 'arn:aws:lambda:us-east-1:000000000000:function:harmony-named',
        entry: PROBE,
        handlerExport: 'main',
        environment: {},
        timeoutMs: 3000,
        memoryMb: 128,
        reservedConcurrency: 2,
      },
    ]);
    expect(unsupportedFunctionsOf(small)).toEqual([
      {
        logicalId: 'LogRetentionProvider',
        functionName: 'LogRetentionProvider',
        constructPath: 'Stack/LogRetention/Resource',
        reason: expect.stringContaining('no harmony:entry metadata'),
      },
    ]);
  });

  it('refuses a handler module path outside the project', () => {
    const template = parseTemplate({
      Resources: { Escape: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' }, Metadata: { [ENTRY_METADATA_KEY]: '../etc/evil.ts' } } },
    });
    expect(() => functionsOf(new TemplateResolver(template, { region: 'us-east-1', accountId: '000000000000' }))).toThrow(
      /function Escape: metadata harmony:entry "..\/etc\/evil.ts": must stay inside the project root/,
    );
  });
});

describe('LocalLambdaRuntime', () => {
  it('gives two functions of the same module each its own environment, and leaves the hub process untouched', async () => {
    const lambda = startRuntime({
      functions: [probeFunction('starter-a', { environment: { FLOW_NAME: 'flow-a' } }), probeFunction('starter-b', { environment: { FLOW_NAME: 'flow-b' } })],
      baseEnvironment: { FLOW_NAME: 'from-base', AWS_LAMBDA_FUNCTION_NAME: 'not-reserved-for-the-base' },
    });

    const [a, b] = await Promise.all([lambda.invoke('starter-a', {}), lambda.invoke('starter-b', {})]);

    expect(ok(a)).toMatchObject({
      flowName: 'flow-a',
      lambdaName: 'starter-a',
      functionName: 'starter-a',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:starter-a',
      memoryLimitInMB: '512',
    });
    expect(ok(b)).toMatchObject({ flowName: 'flow-b', lambdaName: 'starter-b', functionName: 'starter-b' });
    expect(ok(a).instanceId).not.toBe(ok(b).instanceId);
    expect(process.env.FLOW_NAME).toBeUndefined();
  });

  it('starts an instance cold on first use and reuses it warm, module state and all', async () => {
    const lambda = startRuntime({ functions: [probeFunction('probe')] });

    const first = await lambda.invoke('probe', {});
    const second = await lambda.invoke('probeLogical', {});
    const third = await lambda.invoke('arn:aws:lambda:eu-west-1:111111111111:function:probe:$LATEST', {});

    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(second.initDurationMs).toBeUndefined();
    expect([ok(first).invocations, ok(second).invocations, ok(third).invocations]).toEqual([1, 2, 3]);
    expect(new Set([ok(first).instanceId, ok(second).instanceId, ok(third).instanceId]).size).toBe(1);
    expect(ok(first).awsRequestId).toBe(first.requestId);
    expect(ok(first).remainingMs).toBeGreaterThan(4000);
    expect(ok(first).at).toBe(new Date(ok(first).startedAt).toISOString()); // the result is Lambda's JSON
    expect(statsOf(lambda, 'probe')).toMatchObject({ invocations: 3, coldStarts: 1, errors: 0, instances: 1, busy: 0 });
  });

  it('reports a handler error by its name and message, and keeps the instance', async () => {
    const lambda = startRuntime({ functions: [probeFunction('probe')] });
    const before = ok(await lambda.invoke('probe', {}));

    const failed = await lambda.invoke('probe', { fail: 'deal 42 has no amount' });
    const after = ok(await lambda.invoke('probe', {}));

    expect(failed).toMatchObject({ status: 'error', errorType: 'OrderRejectedError', errorMessage: 'deal 42 has no amount' });
    expect(failed.status === 'error' ? failed.trace.join('\n') : '').toContain('probe-handler.ts');
    expect(after.instanceId).toBe(before.instanceId);
    expect(statsOf(lambda, 'probe')).toMatchObject({ invocations: 3, errors: 1, timeouts: 0 });
  });

  it('times out a handler that never yields as Sandbox.Timedout and replaces its instance', async () => {
    const lambda = startRuntime({ functions: [probeFunction('probe', { timeoutMs: 500 })] });
    const before = ok(await lambda.invoke('probe', {}));

    const timedOut = await lambda.invoke('probe', { spin: true });
    const after = await lambda.invoke('probe', {});

    expect(timedOut).toMatchObject({ status: 'error', errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 0.50 seconds' });
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(500);
    expect(ok(after).instanceId).not.toBe(before.instanceId);
    expect(after.initDurationMs).toBeGreaterThan(0);
    expect(statsOf(lambda, 'probe')).toMatchObject({ invocations: 3, errors: 1, timeouts: 1, coldStarts: 2, instances: 1 });
  });

  it('reports an exception thrown outside the handler promise and replaces the instance it killed', async () => {
    const lambda = startRuntime({ functions: [probeFunction('probe')] });
    const before = ok(await lambda.invoke('probe', {}));

    const crashed = await lambda.invoke('probe', { crash: true });
    const after = ok(await lambda.invoke('probe', {}));

    expect(crashed).toMatchObject({ status: 'error', errorType: 'RangeError', errorMessage: 'crashed outside the handler' });
    expect(after.instanceId).not.toBe(before.instanceId);
  });

  it('reports a real Harmony handler that fails its configuration check at load, on every invoke, without stopping', async () => {
    const starter = probeFunction('starter', {
      entry: 'functions/handlers/start-execution.ts',
      environment: { FLOW_NAME: 'order-to-cash', STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111111111111:stateMachine:saga', AUDIT_TABLE: 'audit' },
    });
    const lambda = startRuntime({ functions: [starter, probeFunction('healthy')] });

    const outcomes = [await lambda.invoke('starter', { Records: [] }), await lambda.invoke('starter', { Records: [] })];
    const healthy = await lambda.invoke('healthy', {});

    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'error', errorType: 'Error' });
      expect(outcome.status === 'error' ? outcome.errorMessage : '').toContain('DEAD_LETTER_QUEUE_URL: required but not set');
      expect(outcome.initDurationMs).toBeGreaterThan(0);
    }
    expect(healthy.status).toBe('ok');
    expect(statsOf(lambda, 'starter')).toMatchObject({ invocations: 2, errors: 2, coldStarts: 2, instances: 0 });
  });

  it("names a missing handler module and a missing export with Lambda's runtime error types", async () => {
    const lambda = startRuntime({
      functions: [probeFunction('missing', { entry: 'functions/handlers/no-such-handler.ts' }), probeFunction('no-export', { handlerExport: 'main' })],
    });

    const missing = await lambda.invoke('missing', {});
    const noExport = await lambda.invoke('no-export', {});

    expect(missing).toMatchObject({ status: 'error', errorType: 'Runtime.ImportModuleError' });
    expect(missing.status === 'error' ? missing.errorMessage : '').toContain('no-such-handler.ts');
    expect(noExport).toMatchObject({ status: 'error', errorType: 'Runtime.HandlerNotFound', errorMessage: `${PROBE}.main is undefined or not exported` });
  });

  it('runs at most maxConcurrencyPerFunction instances at once and counts requests that waited too long as throttled', async () => {
    const lambda = startRuntime({ functions: [probeFunction('probe')], maxConcurrencyPerFunction: 2, throttleAfterMs: 100 });

    const results = (await Promise.all(Array.from({ length: 5 }, () => lambda.invoke('probe', { delayMs: 300 })))).map(ok);

    // Handlers running at each moment one of them starts.
    const overlaps = results.map(({ startedAt }) => results.filter((other) => other.startedAt <= startedAt && startedAt < other.endedAt).length);
    expect(new Set(results.map((result) => result.instanceId)).size).toBe(2);
    expect(Math.max(...overlaps)).toBe(2);
    expect(statsOf(lambda, 'probe')).toMatchObject({ invocations: 5, throttles: 3, coldStarts: 2, concurrencyLimit: 2, waiting: 0 });
  });

  it("lowers the bound to a function's reserved concurrency", async () => {
    const lambda = startRuntime({ functions: [probeFunction('probe', { reservedConcurrency: 1 })], maxConcurrencyPerFunction: 4 });

    const results = (await Promise.all(Array.from({ length: 3 }, () => lambda.invoke('probe', { delayMs: 50 })))).map(ok);

    expect(new Set(results.map((result) => result.instanceId)).size).toBe(1);
    expect(statsOf(lambda, 'probe').concurrencyLimit).toBe(1);
  });

  it('rejects an unknown function, and invocations after stop', async () => {
    const lambda = startRuntime({ functions: [probeFunction('probe')] });
    const inFlight = lambda.invoke('probe', { delayMs: 2000 });
    await new Promise((resolve) => setTimeout(resolve, 500));

    await expect(lambda.invoke('nope', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await lambda.stop();

    expect(await inFlight).toMatchObject({ status: 'error', errorType: 'Runtime.ExitError' });
    await expect(lambda.invoke('probe', {})).rejects.toThrow(/stopped/);
    expect(statsOf(lambda, 'probe').instances).toBe(0);
  });
});
