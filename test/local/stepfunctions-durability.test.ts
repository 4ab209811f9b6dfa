/**
 * An execution survives `kill -9`. A child process runs the local Step Functions service on
 * a data directory and is killed mid-step (or the moment StartExecution has answered); a
 * new service on the same directory resumes the execution at the state that was in flight,
 * with the input saved when it was entered, and finishes it: the interrupted step runs
 * exactly once more, the steps before it not again, and the history goes on where it stopped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { type InvokeFunction, LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import type { TemplateStateMachine } from '../../local/template/state-machines.ts';
import { startSqs } from '../support/local-aws.ts';
import type { CrashChildArguments } from './stepfunctions-crash-child.ts';
import { orderToCashMachine, sagaInputFor } from '../support/order-to-cash-machine.ts';

type Json = Record<string, any>;
type Invocation = { readonly pid: number; readonly stateName: string; readonly payload: Json };

const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';
const STEPS = ['LoadDeal', 'UpsertCustomer', 'CreateSalesOrder', 'ConfirmSalesOrder', 'UpdateDealWithOrder'];
const CHILD = fileURLToPath(new URL('./stepfunctions-crash-child.ts', import.meta.url));

const sagaInput = (dealId: string): Json => sagaInputFor(dealId);

/** Resolves with the first stdout line of `child` that starts with `prefix`; rejects if it exits first. */
function lineFrom(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((candidate) => candidate.startsWith(prefix));
      if (line !== undefined) resolve(line);
    });
    child.on('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before "${prefix}": ${stderr}`)));
  });
}

const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.signalCode)
    : new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));

describe('local Step Functions after kill -9', () => {
  let sqs: Awaited<ReturnType<typeof startSqs>>;
  let machine: TemplateStateMachine;
  let workDirectory: string;
  let machinesFile: string;
  const services: LocalStepFunctions[] = [];
  const children: ChildProcess[] = [];

  /** A service on `dataDir` whose step runner (this process) records each invocation and succeeds. */
  const restart = (dataDir: string) => {
    const invocations: Invocation[] = [];
    const invoke: InvokeFunction = async (_functionLogicalId, payload, call) => {
      invocations.push({ pid: process.pid, stateName: call.stateName, payload: payload as Json });
      return { status: 'ok', result: { doneBy: call.stateName, pid: process.pid }, durationMs: 0 };
    };
    const service = new LocalStepFunctions({
      machines: [machine],
      dataDir,
      invoke,
      sqsEndpoint: sqs.endpoint,
      region: REGION,
      accountId: ACCOUNT,
      retryIntervalScale: 0,
    });
    services.push(service);
    return { service, invocations };
  };

  /** Runs the child until it is dead; returns what it invoked and the execution it started. */
  const crash = async (name: string, mode: 'hang-in' | 'crash-after-start', hangIn?: string) => {
    const dataDir = await mkdtemp(join(workDirectory, `${name}-`));
    const invocationsFile = join(dataDir, 'child-invocations.jsonl');
    await writeFile(invocationsFile, '');
    const args: z.input<typeof CrashChildArguments> = {
      dataDir,
      machinesFile,
      sqsEndpoint: sqs.endpoint,
      region: REGION,
      accountId: ACCOUNT,
      stateMachineArn: machine.arn,
      executionName: name,
      input: JSON.stringify(sagaInput(name)),
      invocationsFile,
      mode,
      ...(hangIn === undefined ? {} : { hangIn }),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const started = lineFrom(child, 'started ');
    if (mode === 'hang-in') {
      await lineFrom(child, `hanging in ${hangIn}`);
      child.kill('SIGKILL');
    }
    const executionArn = (await started).slice('started '.length);
    const signal = await exited(child);
    const lines = (await readFile(invocationsFile, 'utf8')).split('\n').filter((line) => line !== '');
    return { dataDir, executionArn, signal, childPid: child.pid, invocations: lines.map((line) => JSON.parse(line) as Invocation) };
  };

  beforeAll(async () => {
    sqs = await startSqs();
    const rendered = orderToCashMachine(sqs, { region: REGION, accountId: ACCOUNT });
    machine = rendered.machine;
    workDirectory = await mkdtemp(join(tmpdir(), 'harmony-sfn-durability-'));
    machinesFile = join(workDirectory, 'machines.json');
    await writeFile(machinesFile, JSON.stringify([machine]));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const service of services.splice(0)) await service.close();
  });

  afterAll(async () => {
    await sqs?.stop();
    if (workDirectory !== undefined) await rm(workDirectory, { recursive: true, force: true });
  });

  it('resumes an execution killed in the middle of a step at that step, with its saved input, and runs it once more', async () => {
    const crashed = await crash('killed-in-create-order', 'hang-in', 'CreateSalesOrder');
    const { service, invocations } = restart(crashed.dataDir);
    const beforeResume = (await service.handle('GetExecutionHistory', { executionArn: crashed.executionArn, maxResults: 1000 })) as {
      events: Json[];
    };
    const statusBeforeResume = ((await service.handle('DescribeExecution', { executionArn: crashed.executionArn })) as Json).status;

    const resumed = service.resume();
    await service.whenSettled();

    expect(crashed.signal).toBe('SIGKILL');
    expect(statusBeforeResume).toBe('RUNNING');
    expect(beforeResume.events.at(-1)?.type).toBe('LambdaFunctionStarted');
    expect(resumed).toEqual([crashed.executionArn]);
    expect(crashed.invocations.map((call) => call.stateName)).toEqual(['LoadDeal', 'UpsertCustomer', 'CreateSalesOrder']);
    expect(invocations.map((call) => call.stateName)).toEqual(['CreateSalesOrder', 'ConfirmSalesOrder', 'UpdateDealWithOrder']);
    // The step was resumed with the input saved before the crash: the results the child's steps produced.
    expect(invocations[0]?.payload.state).toEqual(crashed.invocations[2]?.payload.state);
    expect(invocations[0]?.payload.state.results).toEqual({
      LoadDeal: { doneBy: 'LoadDeal', pid: crashed.childPid },
      UpsertCustomer: { doneBy: 'UpsertCustomer', pid: crashed.childPid },
    });

    const described = (await service.handle('DescribeExecution', { executionArn: crashed.executionArn })) as Json;
    expect(described.status).toBe('SUCCEEDED');
    expect(Object.entries(JSON.parse(described.output).results).map(([step, result]) => [step, (result as Json).pid])).toEqual([
      ['LoadDeal', crashed.childPid],
      ['UpsertCustomer', crashed.childPid],
      ['CreateSalesOrder', process.pid],
      ['ConfirmSalesOrder', process.pid],
      ['UpdateDealWithOrder', process.pid],
    ]);
    const history = (await service.handle('GetExecutionHistory', { executionArn: crashed.executionArn, maxResults: 1000 })) as {
      events: Json[];
    };
    expect(history.events.slice(0, beforeResume.events.length)).toEqual(beforeResume.events);
    expect(history.events.map((event) => event.id)).toEqual(history.events.map((_, index) => index + 1));
    expect(history.events.flatMap((event) => event.stateEnteredEventDetails?.name ?? [])).toEqual([
      'LoadDeal',
      'UpsertCustomer',
      'CreateSalesOrder',
      'CreateSalesOrder',
      'ConfirmSalesOrder',
      'UpdateDealWithOrder',
      'OrderToCashSucceeded',
    ]);
    expect(history.events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(service.stats()[0]).toMatchObject({ ExecutionsStarted: 1, ExecutionsSucceeded: 1, ExecutionsFailed: 0 });
  });

  it('does not run a finished execution again on the next restart', async () => {
    const crashed = await crash('killed-in-load-deal', 'hang-in', 'LoadDeal');
    const first = restart(crashed.dataDir);
    first.service.resume();
    await first.service.whenSettled();
    await first.service.close();

    const second = restart(crashed.dataDir);
    const resumedAgain = second.service.resume();
    await second.service.whenSettled();

    expect(first.invocations.map((call) => call.stateName)).toEqual(STEPS);
    expect(resumedAgain).toEqual([]);
    expect(second.invocations).toEqual([]);
    expect(((await second.service.handle('DescribeExecution', { executionArn: crashed.executionArn })) as Json).status).toBe('SUCCEEDED');
  });

  it('does not lose an execution whose process died right after StartExecution answered', async () => {
    const crashed = await crash('killed-after-start', 'crash-after-start');
    const { service, invocations } = restart(crashed.dataDir);
    const beforeResume = (await service.handle('GetExecutionHistory', { executionArn: crashed.executionArn })) as { events: Json[] };

    expect(service.resume()).toEqual([crashed.executionArn]);
    await service.whenSettled();

    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.invocations).toEqual([]);
    expect(beforeResume.events.map((event) => event.type)).toEqual(['ExecutionStarted']);
    expect(invocations.map((call) => call.stateName)).toEqual(STEPS);
    expect(invocations[0]?.payload.state).toEqual(sagaInput('killed-after-start'));
    const described = (await service.handle('DescribeExecution', { executionArn: crashed.executionArn })) as Json;
    expect(described.status).toBe('SUCCEEDED');
    expect(service.stats()[0]).toMatchObject({ ExecutionsStarted: 1, ExecutionsSucceeded: 1 });
  });

  it('refuses a second service on a data directory that one has open, so no execution runs twice', async () => {
    const dataDir = await mkdtemp(join(workDirectory, 'in-use-'));
    restart(dataDir);

    expect(() => restart(dataDir)).toThrow(/in use by another process/);
  });
});
