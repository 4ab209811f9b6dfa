/**
 * A state machine of the template made ready for aws-local-stepfunctions: validated
 * once, identified by a content hash (executions keep the revision they started
 * with, as in AWS), and rewritten where the library's defaults differ from AWS's:
 * the execution-level timeout is enforced by the service (so it survives restarts
 * and restarts on redrive), a Task without TimeoutSeconds gets no 60-second limit,
 * and `$$.Execution` paths read the execution's own fields (the library replaces
 * `$$.Execution.Input` and `StartTime` with those of the current run, which after a
 * resume or redrive is not the execution's).
 */
import { createHash } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { TemplateStateMachine } from '../template/state-machines.ts';

/** The context-object key under which an execution's own `$$.Execution` fields are given to the library. */
export const EXECUTION_CONTEXT_KEY = 'HarmonyExecution';

/** The longest a Node timer can wait, in seconds (setTimeout's 2^31-1 ms). */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

type Json = { readonly [key: string]: unknown };

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `$$.Execution` as a whole path or a path prefix (inside intrinsic functions too). */
const EXECUTION_PATH = /\$\$\.Execution(?![A-Za-z0-9_])/g;

/** A state of the definition, with the fields the service reads. */
export interface PreparedState {
  readonly Type: string;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly Retry?: readonly {
    readonly ErrorEquals: readonly string[];
    readonly IntervalSeconds?: number;
    readonly MaxAttempts?: number;
    readonly BackoffRate?: number;
    readonly MaxDelaySeconds?: number;
    readonly JitterStrategy?: 'FULL' | 'NONE';
  }[];
}

/** One template state machine, validated and rewritten for local runs. */
export class PreparedStateMachine {
  readonly machine: TemplateStateMachine;
  /** The machine as stored with its executions (JSON text). */
  readonly json: string;
  /** SHA-256 of `json`: the revision an execution runs. */
  readonly hash: string;
  /** The definition's TimeoutSeconds: how long an execution may run. */
  readonly timeoutSeconds: number | undefined;
  readonly #runnable: Json;
  /** Every state at any depth (state names are unique in a whole state machine), as defined and as run. */
  readonly #states = new Map<string, PreparedState>();
  readonly #runnableStates = new Map<string, PreparedState>();
  readonly #topLevel: ReadonlySet<string>;

  constructor(machine: TemplateStateMachine) {
    try {
      new StateMachine(machine.definition);
    } catch (error) {
      throw new Error(`state machine ${machine.name}: ${(error as Error).message}`);
    }
    this.machine = machine;
    this.json = JSON.stringify(machine);
    this.hash = createHash('sha256').update(this.json).digest('hex');
    const definition = machine.definition as unknown as Json;
    this.timeoutSeconds = typeof definition.TimeoutSeconds === 'number' ? definition.TimeoutSeconds : undefined;
    this.#topLevel = new Set(Object.keys(machine.definition.States));
    collectStates(definition, this.#states);
    const { TimeoutSeconds: _executionTimeout, ...rest } = rewrite(definition, undefined) as Json;
    this.#runnable = rest;
    collectStates(rest, this.#runnableStates);
  }

  /** The runnable definition with `StartAt` set to `stateName`: how a resume or redrive continues. */
  definitionStartingAt(stateName: string): StateMachineDefinition {
    return { ...this.#runnable, StartAt: stateName } as unknown as StateMachineDefinition;
  }

  /** True for a state of the top level (not inside a Parallel branch or a Map). */
  isTopLevel(stateName: string): boolean {
    return this.#topLevel.has(stateName);
  }

  /** A state at any depth, as the template defines it. */
  state(stateName: string): PreparedState | undefined {
    return this.#states.get(stateName);
  }

  /**
   * A state at any depth as the library runs it: the very object the library reads, so a
   * retrier it reports can be found by identity in `Retry`.
   */
  runnableState(stateName: string): PreparedState | undefined {
    return this.#runnableStates.get(stateName);
  }

  /** Names of every state at any depth. */
  stateNames(): IterableIterator<string> {
    return this.#states.keys();
  }
}

function collectStates(machine: Json, states: Map<string, PreparedState>): void {
  if (!isObject(machine.States)) return;
  for (const [name, state] of Object.entries(machine.States)) {
    if (!isObject(state)) continue;
    states.set(name, state as unknown as PreparedState);
    if (Array.isArray(state.Branches)) for (const branch of state.Branches) if (isObject(branch)) collectStates(branch, states);
    for (const processor of [state.ItemProcessor, state.Iterator]) if (isObject(processor)) collectStates(processor, states);
  }
}

/**
 * Rewrites paths that read `$$.Execution` to read the service's copy, and gives every Task
 * a timeout the library can keep (AWS's default is 99999999 s; Node timers stop at ~24.8 days).
 */
function rewrite(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    const isPath = key !== undefined && (key.endsWith('.$') || key.endsWith('Path') || key === 'Variable');
    return isPath ? value.replace(EXECUTION_PATH, `$$$$.${EXECUTION_CONTEXT_KEY}`) : value;
  }
  if (Array.isArray(value)) return value.map((item) => rewrite(item, undefined));
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    // A Pass state's Result is literal data, never paths.
    result[name] = name === 'Result' ? field : rewrite(field, name);
  }
  if (result.Type === 'Task' && result.TimeoutSecondsPath === undefined) {
    const given = typeof result.TimeoutSeconds === 'number' ? result.TimeoutSeconds : MAX_TIMER_SECONDS;
    result.TimeoutSeconds = Math.min(given, MAX_TIMER_SECONDS);
  }
  return result;
}
