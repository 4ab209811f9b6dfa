/**
 * The shape of a Harmony flow: a trigger on the hub bus and a list of steps,
 * each with the compensation that undoes it registered beside it. `lib/` turns
 * a definition into a Step Functions saga; `functions/handlers/run-step.ts`
 * runs its steps. Flows know nothing of CDK or of the local runtime.
 */
import { createHash } from 'node:crypto';
import type * as z from 'zod';
import type { CrmPort } from '../connectors/crm/port.ts';
import type { ErpPort } from '../connectors/erp/port.ts';

/** Any JSON value a step may return; Step Functions carries it to later steps. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/** An EventBridge event pattern (content filter) as AWS documents it. */
export type EventPattern = { readonly [key: string]: unknown };

/** Deployment-wide settings a flow's trigger may depend on (from CDK context or the local environment). */
export interface TriggerSettings {
  /** Deal stage ids that mean "won", e.g. HubSpot's `closedwon`; custom pipelines have their own ids. */
  readonly wonDealStages: readonly string[];
  /**
   * The CRM this deployment reads deals from (`crm` of the bus events). Events from any
   * other sender (another CRM's webhooks on the same bus) must not start its flows: their
   * deal ids mean nothing to this CRM.
   */
  readonly crm: string;
}

/** What Step Functions puts into a saga's input and every step sees. */
export interface SagaState<Trigger> {
  /** The bus event's `detail`, validated by the flow's `triggerSchema`. */
  readonly trigger: Trigger;
  /** The business key of this run, e.g. `deal:hubspot:123:456`. */
  readonly businessKey: string;
  /** Follows one order through webhook, bus, queue, execution and every step. */
  readonly correlationId: string;
  /** When Harmony accepted the webhook (ISO 8601, the bus event's `time`); latency is measured from it. */
  readonly receivedAt: string;
  /** Each step's result, by step name, as the steps so far returned them. */
  readonly results: { readonly [stepName: string]: JsonValue | undefined };
  /** Set by the Catch that started compensation: `Error` is the error type, `Cause` its message (JSON from Lambda). */
  readonly failure?: { readonly Error?: string; readonly Cause?: string };
}

/** Facts a step wants in its audit record, e.g. `{ erpOrderRef: 'S00042', customerCreated: true }`. */
export type AuditFacts = { readonly [key: string]: string | number | boolean | undefined };

/** The systems and bookkeeping a step may use. */
export interface StepServices {
  readonly crm: CrmPort;
  readonly erp: ErpPort;
  /** Exclusive per-business-key claims, so concurrent runs never write the same thing twice. */
  readonly claims: ClaimStore;
}

/** A conditional-write lock with an outcome, kept in the idempotency table. */
export interface ClaimStore {
  /**
   * Claims `key` for `owner`. Returns `{ owned: true }` when this owner holds it (new or again),
   * or the current holder and what it recorded when another owner holds it.
   */
  claim(key: string, owner: string, options?: ClaimOptions): Promise<ClaimResult>;
  /** Records the outcome (e.g. the created order id) on a claim this owner holds. */
  complete(key: string, owner: string, outcome: { readonly [key: string]: string }): Promise<void>;
  /** Gives a claim up (after its effect was undone) so a later run may claim it. */
  release(key: string, owner: string): Promise<void>;
}

/** Options of `ClaimStore.claim`. */
export interface ClaimOptions {
  /**
   * Until when the claim is held without an outcome. After it, another owner may take it
   * over: pass the invocation's deadline (`StepContext.deadline`), past which the holder
   * cannot still be writing. @default - held until completed or released
   */
  readonly leaseUntil?: Date;
}

/** Outcome of `ClaimStore.claim`. */
export type ClaimResult =
  | { readonly owned: true; readonly outcome?: { readonly [key: string]: string } }
  | { readonly owned: false; readonly holder: string; readonly outcome?: { readonly [key: string]: string } };

/** Everything a step or compensation receives besides the saga state. */
export interface StepContext {
  readonly services: StepServices;
  /** The Step Functions execution name (unique per run, derived from the business key). */
  readonly executionName: string;
  /** 0 on the first attempt, then 1, 2… as Step Functions retries. */
  readonly retryCount: number;
  /** When this attempt's invocation times out: nothing it started can still run after it. */
  readonly deadline: Date;
  /** Adds facts to this attempt's audit record. */
  note(facts: AuditFacts): void;
}

/** An action that undoes a step. Must be idempotent and succeed when there is nothing to undo. */
export interface CompensationDefinition<Trigger> {
  /** A verb in business words, e.g. `CancelSalesOrder`. */
  readonly name: string;
  readonly description: string;
  run(state: SagaState<Trigger>, context: StepContext): Promise<JsonValue>;
}

/** Retry policy of a step for `RetryableError`s; Step Functions applies it with exponential backoff and full jitter. */
export interface RetryPolicy {
  /** @default 6 */
  readonly maxAttempts?: number;
  /** @default 2 */
  readonly intervalSeconds?: number;
  /** @default 2 */
  readonly backoffRate?: number;
  /** Longest wait between attempts. @default 60 */
  readonly maxDelaySeconds?: number;
}

/** One step of a saga. */
export interface StepDefinition<Trigger> {
  /** A verb in business words, e.g. `CreateSalesOrder`. Unique within the flow. */
  readonly name: string;
  readonly description: string;
  /** Does the work; throws RetryableError to be retried, anything else to compensate. */
  run(state: SagaState<Trigger>, context: StepContext): Promise<JsonValue>;
  /**
   * Undoes this step. It is registered before the step runs, so it also runs when the
   * step itself fails (an ERP write may have landed before a timeout); it must cope with nothing to undo.
   */
  readonly compensation?: CompensationDefinition<Trigger>;
  readonly retry?: RetryPolicy;
}

/** A business flow: what starts it and the saga it runs. */
export interface FlowDefinition<Trigger = unknown> {
  /** kebab-case, e.g. `order-to-cash`; names queues, state machine and metrics. */
  readonly name: string;
  readonly description: string;
  /** The EventBridge pattern on the hub bus that starts this flow. */
  trigger(settings: TriggerSettings): EventPattern;
  /** Validates the bus event's `detail` at the starter. */
  readonly triggerSchema: z.ZodType<Trigger>;
  /** The business key, e.g. `deal:hubspot:<portal>:<deal>`; audit records are filed under it. */
  businessKey(trigger: Trigger): string;
  /**
   * Step Functions execution name: the same event always gives the same name, so a duplicate
   * start is a no-op. 1–80 characters of `[A-Za-z0-9_-]`.
   */
  executionName(trigger: Trigger): string;
  readonly steps: readonly StepDefinition<Trigger>[];
  /**
   * Metrics emitted when the last step succeeds: a count, and the milliseconds since
   * the webhook was accepted. Names come from `metric-names.ts`.
   */
  readonly completionMetrics?: { readonly count: string; readonly latencyFromWebhook: string };
}

const STEP_NAME = /^[A-Z][A-Za-z0-9]{2,63}$/;
const FLOW_NAME = /^[a-z][a-z0-9-]{2,40}$/;

/**
 * Checks a flow definition and returns it unchanged.
 * Catches at module load (and so at synth time) what would otherwise break the state machine.
 */
export function defineFlow<Trigger>(flow: FlowDefinition<Trigger>): FlowDefinition<Trigger> {
  if (!FLOW_NAME.test(flow.name)) {
    throw new Error(`flow name "${flow.name}": expected kebab-case matching ${FLOW_NAME}`);
  }
  if (flow.steps.length === 0) throw new Error(`flow ${flow.name}: has no steps`);
  const seen = new Set<string>();
  for (const step of flow.steps) {
    for (const name of [step.name, step.compensation?.name]) {
      if (name === undefined) continue;
      if (!STEP_NAME.test(name)) {
        throw new Error(`flow ${flow.name}: step name "${name}" must be PascalCase matching ${STEP_NAME}`);
      }
      if (seen.has(name)) throw new Error(`flow ${flow.name}: step name "${name}" is used twice`);
      seen.add(name);
    }
  }
  return flow;
}

/**
 * Turns key parts into a legal Step Functions execution name (≤ 80 of `[A-Za-z0-9_-]`).
 * Different inputs give different names: characters outside the set and overlong names
 * are replaced by a hash suffix rather than silently merged.
 */
export function toExecutionName(...parts: readonly string[]): string {
  const joined = parts.join('-');
  const safe = joined.replace(/[^A-Za-z0-9_-]/g, '_');
  if (safe === joined && safe.length <= 80) return safe;
  const digest = createHash('sha256').update(joined).digest('hex').slice(0, 16);
  return `${safe.slice(0, 63)}-${digest}`;
}
