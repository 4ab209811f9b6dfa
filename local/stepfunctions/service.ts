/**
 * The Step Functions API of the local hub: the template's state machines, executed by
 * aws-local-stepfunctions, behind AWS's JSON protocol (X-Amz-Target AWSStepFunctions.*),
 * with every transition in sqlite so a hub killed mid-execution resumes it where it was
 * (at the state in flight, with its saved input; steps are idempotent).
 */
import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { AwsServiceError, type JsonProtocolService, unknownOperation } from '../endpoint/aws-service.ts';
import type { TemplateStateMachine } from '../template/state-machines.ts';
import { assertLibraryHookable, ExecutionRun, type InvokeFunction, type RunEnvironment } from './execution-run.ts';
import { EXECUTION_METRIC_NAMES, type ExecutionMetricName, type ExecutionRecord, ExecutionStore } from './execution-store.ts';
import { executionRedriven, executionStarted, numberEvents, withoutExecutionData } from './history-event.ts';
import { PreparedStateMachine } from './prepared-state-machine.ts';
import {
  assertExecutionName,
  decodePageToken,
  DescribeExecutionRequest,
  DescribeStateMachineRequest,
  encodePageToken,
  GetExecutionHistoryRequest,
  ListExecutionsRequest,
  ListStateMachinesRequest,
  parseRequest,
  parseStatesArn,
  RedriveExecutionRequest,
  StartExecutionRequest,
  StopExecutionRequest,
} from './request-shapes.ts';

export type { InvokeCall, InvokeFunction, InvokeOutcome } from './execution-run.ts';

/** How to build the local Step Functions service. */
export interface LocalStepFunctionsOptions {
  /** The template's state machines (`stateMachinesOf`). */
  readonly machines: readonly TemplateStateMachine[];
  /** Directory of `stepfunctions.sqlite`; without one, executions live in memory only. */
  readonly dataDir?: string;
  /** Invokes a template Lambda function by logical id (`LocalLambdaRuntime.invoke`). */
  readonly invoke: InvokeFunction;
  /** Endpoint of the SQS API the `sqs:sendMessage` Tasks call. */
  readonly sqsEndpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Multiplies every Retry wait: 1 waits as AWS does, 0 retries at once (tests). @default 1 */
  readonly retryIntervalScale?: number;
  /**
   * How long a stopped execution and its history are kept; older ones are deleted at start
   * and hourly, as AWS does after 90 days, so the database does not grow with every order
   * ever run (about 75 KB per order-to-cash execution). At least the 14 days an execution
   * stays redrivable. @default 90 days
   */
  readonly historyRetentionMs?: number;
}

/** The cumulative execution counters of one state machine, named like the AWS/States metrics. */
export type StateMachineStats = { readonly stateMachineArn: string; readonly name: string } & Readonly<Record<ExecutionMetricName, number>>;

/** How long after it stopped an execution may still be redriven (AWS: 14 days). */
const REDRIVABLE_PERIOD_MS = 14 * 24 * 60 * 60 * 1000;
/** The longest an execution may be open, redrives included (AWS: one year). */
const MAX_OPEN_MS = 365 * 24 * 60 * 60 * 1000;
const DEFAULT_PAGE_SIZE = 100;
/** How long AWS keeps a closed Standard workflow execution: 90 days. */
const HISTORY_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

/** A stored state machine revision: plain JSON, checked before use. */
const StoredMachine = z.object({
  logicalId: z.string(),
  name: z.string(),
  arn: z.string(),
  definition: z.looseObject({ StartAt: z.string(), States: z.record(z.string(), z.unknown()) }),
  tasks: z.record(z.string(), z.looseObject({ kind: z.string() })),
});

const seconds = (milliseconds: number): number => milliseconds / 1000;

/**
 * Step Functions on the local hub: StartExecution, DescribeExecution, ListExecutions,
 * GetExecutionHistory, StopExecution, RedriveExecution, ListStateMachines and
 * DescribeStateMachine, with AWS's shapes and errors. Lambda Tasks call `invoke`;
 * `sqs:sendMessage` Tasks call the SQS endpoint. Executions RUNNING in `dataDir` from a
 * previous process continue when `resume()` is called.
 */
export class LocalStepFunctions implements JsonProtocolService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly contentType = 'application/x-amz-json-1.0';
  readonly #store: ExecutionStore;
  readonly #machines = new Map<string, PreparedStateMachine>();
  readonly #revisions = new Map<string, PreparedStateMachine>();
  readonly #creationDates = new Map<string, number>();
  readonly #runs = new Map<string, ExecutionRun>();
  readonly #sqs: SQSClient;
  readonly #invoke: InvokeFunction;
  readonly #region: string;
  readonly #accountId: string;
  readonly #retryIntervalScale: number;
  #closed = false;
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(options: LocalStepFunctionsOptions) {
    assertLibraryHookable();
    const scale = options.retryIntervalScale ?? 1;
    if (!(scale >= 0)) throw new Error(`retryIntervalScale must be ≥ 0, got ${scale}`);
    this.#retryIntervalScale = scale;
    this.#invoke = options.invoke;
    this.#region = options.region;
    this.#accountId = options.accountId;
    const prepared = options.machines.map((machine) => new PreparedStateMachine(machine));
    this.#store = new ExecutionStore(options.dataDir);
    try {
      const now = Date.now();
      for (const machine of prepared) {
        if (this.#machines.has(machine.machine.arn)) throw new Error(`state machine ${machine.machine.arn} is given twice`);
        this.#machines.set(machine.machine.arn, machine);
        this.#revisions.set(machine.hash, machine);
        this.#store.saveDefinition(machine.hash, machine.json);
        this.#creationDates.set(machine.machine.arn, this.#store.registerStateMachine(machine.machine.arn, now));
      }
    } catch (error) {
      this.#store.close();
      throw error;
    }
    const retentionMs = options.historyRetentionMs ?? HISTORY_RETENTION_MS;
    if (!(retentionMs >= REDRIVABLE_PERIOD_MS)) throw new Error(`historyRetentionMs must be at least the 14-day redrive period, got ${retentionMs}`);
    const expire = () => {
      while (!this.#closed && this.#store.expireStopped(Date.now() - retentionMs) > 0) {
        // in pages of 1000, each its own transaction
      }
    };
    expire();
    this.#expiryTimer = setInterval(expire, 3_600_000);
    this.#expiryTimer.unref();
    this.#sqs = new SQSClient({
      endpoint: options.sqsEndpoint,
      region: options.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  /** Runs one API operation (the part of X-Amz-Target after `AWSStepFunctions.`). */
  async handle(operation: string, input: Readonly<Record<string, unknown>>): Promise<unknown> {
    if (this.#closed) throw new AwsServiceError('ServiceUnavailable', 'the local Step Functions service is closed', 503);
    switch (operation) {
      case 'StartExecution':
        return this.#startExecution(parseRequest(StartExecutionRequest, input));
      case 'DescribeExecution':
        return this.#describeExecution(parseRequest(DescribeExecutionRequest, input));
      case 'ListExecutions':
        return this.#listExecutions(parseRequest(ListExecutionsRequest, input));
      case 'GetExecutionHistory':
        return this.#getExecutionHistory(parseRequest(GetExecutionHistoryRequest, input));
      case 'StopExecution':
        return this.#stopExecution(parseRequest(StopExecutionRequest, input));
      case 'RedriveExecution':
        return this.#redriveExecution(parseRequest(RedriveExecutionRequest, input));
      case 'ListStateMachines':
        return this.#listStateMachines(parseRequest(ListStateMachinesRequest, input));
      case 'DescribeStateMachine':
        return this.#describeStateMachine(parseRequest(DescribeStateMachineRequest, input));
      default:
        throw unknownOperation('Step Functions', operation);
    }
  }

  /**
   * Continues every execution a previous process left RUNNING: at the state that was in
   * flight, with the input it was entered with (or from the start, if none was entered yet),
   * appending to the same history. Returns their ARNs.
   */
  resume(): string[] {
    const resumed: string[] = [];
    for (const record of this.#store.runningExecutions()) {
      if (this.#runs.has(record.executionArn)) continue;
      this.#continue(this.#revision(record.definitionHash), record);
      resumed.push(record.executionArn);
    }
    return resumed;
  }

  /** Cumulative execution counters per state machine, for the hub's alarm evaluator. */
  stats(): StateMachineStats[] {
    const counters = this.#store.metrics();
    const arns = new Set([...this.#machines.keys(), ...counters.keys()]);
    return [...arns].map((stateMachineArn) => {
      const values = counters.get(stateMachineArn);
      const metrics = Object.fromEntries(EXECUTION_METRIC_NAMES.map((metric) => [metric, values?.get(metric) ?? 0]));
      const name = this.#machines.get(stateMachineArn)?.machine.name ?? stateMachineArn.split(':').pop() ?? stateMachineArn;
      return { stateMachineArn, name, ...metrics } as StateMachineStats;
    });
  }

  /**
   * One cumulative counter (`ExecutionsFailed`, …) of one state machine, as an alarm on the
   * AWS/States metric reads it; undefined for a metric or state machine the service does not know.
   */
  metric(stateMachineArn: string, metricName: string): number | undefined {
    if (!(EXECUTION_METRIC_NAMES as readonly string[]).includes(metricName)) return undefined;
    const stats = this.stats().find((candidate) => candidate.stateMachineArn === stateMachineArn);
    return stats?.[metricName as ExecutionMetricName];
  }

  /** Settles once the execution (every execution, without an ARN) has no run in progress here. */
  async whenSettled(executionArn?: string): Promise<void> {
    for (;;) {
      const runs = executionArn === undefined ? [...this.#runs.values()] : [this.#runs.get(executionArn)].filter((run) => run !== undefined);
      if (runs.length === 0) return;
      await Promise.all(runs.map((run) => run.done));
    }
  }

  /**
   * Lets go of every run without recording anything (they stay RUNNING and resume on the next
   * start), and closes the database. Invocations in flight still finish; their results are dropped.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#expiryTimer);
    const runs = [...this.#runs.values()];
    for (const run of runs) run.detach();
    await Promise.all(runs.map((run) => run.done));
    this.#sqs.destroy();
    this.#store.close();
  }

  #startExecution(request: z.infer<typeof StartExecutionRequest>) {
    const machine = this.#machine(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    assertExecutionName(name);
    const input = request.input ?? '{}';
    try {
      JSON.parse(input);
    } catch (error) {
      throw new AwsServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
    }
    const executionArn = `${machine.machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.#store.execution(executionArn);
    if (existing !== undefined) {
      // Same name and input while the first is still open: the very same execution (AWS's idempotency).
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: seconds(existing.startDate) };
      }
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const now = Date.now();
    const record: ExecutionRecord = {
      seq: 0,
      executionArn,
      stateMachineArn: machine.machine.arn,
      name,
      status: 'RUNNING',
      input,
      output: undefined,
      error: undefined,
      cause: undefined,
      traceHeader: request.traceHeader,
      startDate: now,
      stopDate: undefined,
      redriveCount: 0,
      redriveDate: undefined,
      deadline: machine.timeoutSeconds === undefined ? undefined : now + machine.timeoutSeconds * 1000,
      definitionHash: machine.hash,
      currentState: undefined,
      currentInput: undefined,
      lastEventId: 1,
    };
    const [started] = numberEvents([executionStarted(input, this.#roleArn(machine), now)], { id: 0, type: '' });
    if (started === undefined) throw new Error('no ExecutionStarted event');
    this.#store.insertExecution(record, started);
    this.#continue(machine, record);
    return { executionArn, startDate: seconds(now) };
  }

  #describeExecution(request: z.infer<typeof DescribeExecutionRequest>) {
    const record = this.#execution(request.executionArn);
    const withData = request.includedData !== 'METADATA_ONLY';
    const reason = this.#notRedrivableReason(record, Date.now());
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: seconds(record.startDate),
      ...(record.stopDate === undefined ? {} : { stopDate: seconds(record.stopDate) }),
      ...(withData ? { input: record.input, inputDetails: { included: true } } : {}),
      ...(withData && record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
      ...(record.traceHeader === undefined ? {} : { traceHeader: record.traceHeader }),
      ...(record.error === undefined ? {} : { error: record.error }),
      ...(record.cause === undefined ? {} : { cause: record.cause }),
      redriveCount: record.redriveCount,
      ...(record.redriveDate === undefined ? {} : { redriveDate: seconds(record.redriveDate) }),
      redriveStatus: reason === undefined ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      ...(reason === undefined ? {} : { redriveStatusReason: reason }),
    };
  }

  #listExecutions(request: z.infer<typeof ListExecutionsRequest>) {
    if (request.mapRunArn !== undefined) throw new AwsServiceError('ResourceNotFound', `Resource not found: '${request.mapRunArn}'`);
    if (request.stateMachineArn === undefined) {
      throw new AwsServiceError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
    }
    const machine = this.#machine(request.stateMachineArn);
    const now = Date.now();
    const scope = { operation: 'ListExecutions', arn: machine.machine.arn, status: request.statusFilter, redrive: request.redriveFilter };
    const limit = request.maxResults || DEFAULT_PAGE_SIZE;
    const records = this.#store.listExecutions({
      stateMachineArn: machine.machine.arn,
      ...(request.statusFilter === undefined ? {} : { status: request.statusFilter }),
      ...(request.redriveFilter === undefined ? {} : { redriven: request.redriveFilter === 'REDRIVEN' }),
      ...(request.nextToken === undefined ? {} : { beforeSeq: decodePageToken(request.nextToken, scope, now) }),
      limit: limit + 1,
    });
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return {
      executions: page.map((record) => ({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: seconds(record.startDate),
        ...(record.stopDate === undefined ? {} : { stopDate: seconds(record.stopDate) }),
        redriveCount: record.redriveCount,
        ...(record.redriveDate === undefined ? {} : { redriveDate: seconds(record.redriveDate) }),
      })),
      ...(records.length > limit && last !== undefined ? { nextToken: encodePageToken(scope, last.seq, now) } : {}),
    };
  }

  #getExecutionHistory(request: z.infer<typeof GetExecutionHistoryRequest>) {
    const record = this.#execution(request.executionArn);
    const reverse = request.reverseOrder === true;
    const now = Date.now();
    const scope = { operation: 'GetExecutionHistory', arn: record.executionArn, reverse, data: request.includeExecutionData };
    const limit = request.maxResults || DEFAULT_PAGE_SIZE;
    const events = this.#store.history(record.executionArn, {
      reverse,
      ...(request.nextToken === undefined ? {} : { afterId: decodePageToken(request.nextToken, scope, now) }),
      limit: limit + 1,
    });
    const page = events.slice(0, limit);
    const last = page.at(-1);
    const withData = request.includeExecutionData !== false;
    return {
      events: page.map((event) => ({
        timestamp: seconds(event.timestamp),
        type: event.type,
        id: event.id,
        previousEventId: event.previousEventId,
        ...(withData ? event.details : withoutExecutionData(event.details)),
      })),
      ...(events.length > limit && last !== undefined ? { nextToken: encodePageToken(scope, last.id, now) } : {}),
    };
  }

  #stopExecution(request: z.infer<typeof StopExecutionRequest>) {
    const record = this.#execution(request.executionArn);
    // Stopping an execution that has already ended changes nothing.
    if (record.status !== 'RUNNING') return { stopDate: seconds(record.stopDate ?? Date.now()) };
    const active = this.#runs.get(record.executionArn);
    const machine = this.#revision(record.definitionHash);
    // A RUNNING execution without a live run here (not resumed yet) is stopped all the same.
    const run = active !== undefined && !active.closed ? active : new ExecutionRun(machine, record, this.#environment(machine));
    return { stopDate: seconds(run.stop(request.error, request.cause)) };
  }

  #redriveExecution(request: z.infer<typeof RedriveExecutionRequest>) {
    const record = this.#execution(request.executionArn);
    if (request.clientToken !== undefined) {
      const earlier = this.#store.redriveDateOfToken(record.executionArn, request.clientToken);
      if (earlier !== undefined) return { redriveDate: seconds(earlier) };
    }
    const now = Date.now();
    const reason = this.#notRedrivableReason(record, now);
    if (reason !== undefined) throw new AwsServiceError('ExecutionNotRedrivable', `${reason}: '${record.executionArn}'`);
    const machine = this.#revision(record.definitionHash);
    const redriveCount = record.redriveCount + 1;
    this.#store.transition(record.executionArn, record.stateMachineArn, {
      events: numberEvents([executionRedriven(redriveCount, now)], { id: record.lastEventId, type: '' }),
      update: {
        status: 'RUNNING',
        stopDate: undefined,
        output: undefined,
        error: undefined,
        cause: undefined,
        redriveCount,
        redriveDate: now,
        // The execution timeout starts again from the redrive (AWS resets it to 0).
        deadline: machine.timeoutSeconds === undefined ? undefined : now + machine.timeoutSeconds * 1000,
      },
      metric: 'ExecutionsRedriven',
      ...(request.clientToken === undefined ? {} : { redriveToken: request.clientToken }),
    });
    this.#continue(machine, this.#execution(record.executionArn));
    return { redriveDate: seconds(now) };
  }

  #listStateMachines(request: z.infer<typeof ListStateMachinesRequest>) {
    const machines = [...this.#machines.values()];
    const now = Date.now();
    const scope = { operation: 'ListStateMachines' };
    const start = request.nextToken === undefined ? 0 : decodePageToken(request.nextToken, scope, now);
    const limit = request.maxResults || DEFAULT_PAGE_SIZE;
    const page = machines.slice(start, start + limit);
    return {
      stateMachines: page.map(({ machine }) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: 'STANDARD',
        creationDate: seconds(this.#creationDates.get(machine.arn) ?? now),
      })),
      ...(start + limit < machines.length ? { nextToken: encodePageToken(scope, start + limit, now) } : {}),
    };
  }

  #describeStateMachine(request: z.infer<typeof DescribeStateMachineRequest>) {
    const prepared = this.#machine(request.stateMachineArn);
    const { machine } = prepared;
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      ...(request.includedData === 'METADATA_ONLY' ? {} : { definition: JSON.stringify(machine.definition) }),
      roleArn: this.#roleArn(prepared),
      type: 'STANDARD',
      creationDate: seconds(this.#creationDates.get(machine.arn) ?? Date.now()),
    };
  }

  /** Starts a run of the execution at its state in flight (its first state if none) and tracks it. */
  #continue(machine: PreparedStateMachine, record: ExecutionRecord): void {
    const run = new ExecutionRun(machine, record, this.#environment(machine));
    this.#runs.set(record.executionArn, run);
    void run.done.then(() => {
      if (this.#runs.get(record.executionArn) === run) this.#runs.delete(record.executionArn);
    });
    const startAt = record.currentState ?? machine.machine.definition.StartAt;
    run.start(startAt, JSON.parse(record.currentInput ?? record.input));
  }

  #environment(machine: PreparedStateMachine): RunEnvironment {
    return {
      store: this.#store,
      invoke: this.#invoke,
      sqs: this.#sqs,
      region: this.#region,
      roleArn: this.#roleArn(machine),
      retryIntervalScale: this.#retryIntervalScale,
      now: Date.now,
    };
  }

  /** The role a deployed state machine would assume; the local hub assumes none. */
  #roleArn(machine: PreparedStateMachine): string {
    const partition = machine.machine.arn.split(':')[1] ?? 'aws';
    return `arn:${partition}:iam::${this.#accountId}:role/${machine.machine.name}-role`;
  }

  #machine(stateMachineArn: string): PreparedStateMachine {
    parseStatesArn(stateMachineArn, 'stateMachine');
    const machine = this.#machines.get(stateMachineArn);
    if (machine === undefined) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  }

  #execution(executionArn: string): ExecutionRecord {
    parseStatesArn(executionArn, 'execution');
    const record = this.#store.execution(executionArn);
    if (record === undefined) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  /** The revision an execution runs: the current machine, or the one stored when it started. */
  #revision(hash: string): PreparedStateMachine {
    const known = this.#revisions.get(hash);
    if (known !== undefined) return known;
    const json = this.#store.definition(hash);
    if (json === undefined) throw new Error(`stepfunctions.sqlite has no state machine revision ${hash}`);
    const machine = new PreparedStateMachine(StoredMachine.parse(JSON.parse(json)) as unknown as TemplateStateMachine);
    this.#revisions.set(hash, machine);
    return machine;
  }

  /** Why RedriveExecution would refuse the execution, as DescribeExecution's redriveStatusReason says it. */
  #notRedrivableReason(record: ExecutionRecord, now: number): string | undefined {
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED' || record.status === 'PENDING_REDRIVE') {
      return `Execution is ${record.status} and cannot be redriven`;
    }
    if (record.stopDate !== undefined && now - record.stopDate > REDRIVABLE_PERIOD_MS) return 'Execution redrivable period exceeded';
    if (now - record.startDate > MAX_OPEN_MS) return 'Execution has exceeded the max execution time';
    return undefined;
  }
}
