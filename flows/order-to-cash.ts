/**
 * Order-to-cash: a deal marked won in the CRM becomes a confirmed ERP sales order,
 * and the order number and status go back to the deal. Each step's compensation
 * sits beside it; on failure they run newest first.
 */
import type { Deal, DealSyncUpdate } from '../functions/connectors/crm/port.ts';
import type { ErpOrder, SalesOrderDraft } from '../functions/connectors/erp/port.ts';
import { PermanentError, RetryableError } from '../functions/core/errors.ts';
import {
  defineFlow,
  type JsonValue,
  type SagaState,
  type StepContext,
  toExecutionName,
} from '../functions/core/flow.ts';
import { MetricName } from '../functions/core/metric-names.ts';
import {
  CRM_EVENT_SOURCE,
  DEAL_STAGE_CHANGED,
  DealStageChangedDetail,
  businessKeyForDeal,
} from '../functions/core/events.ts';

/** The bus event detail that starts order-to-cash (validated again at the starter). */
export const OrderToCashTrigger = DealStageChangedDetail;
export type OrderToCashTrigger = DealStageChangedDetail;

type State = SagaState<OrderToCashTrigger>;

/** The external reference an ERP order carries: the CRM deal, qualified so two CRMs never collide. */
export function orderExternalRef(trigger: OrderToCashTrigger): string {
  return `${trigger.crm}:${trigger.dealId}`;
}

/** Maps a won deal to the draft sales order the ERP should hold. */
export function toSalesOrderDraft(deal: Deal, customerId: string, externalRef: string): SalesOrderDraft {
  if (deal.lines.length === 0) {
    throw new PermanentError(`deal ${deal.id}: has no line items, so there is nothing to order`);
  }
  return {
    externalRef,
    customerId,
    currency: deal.currency,
    note: `Created by Harmony from CRM deal "${deal.name}"`,
    lines: deal.lines.map((line) => ({
      sku: line.sku,
      name: line.name,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      ...(line.discountPercent === undefined ? {} : { discountPercent: line.discountPercent }),
    })),
  };
}

/** The deal update that tells the sales team why the ERP order did not happen. */
export function syncFailedUpdate(failure: State['failure']): DealSyncUpdate {
  return { erpStatus: 'sync_failed', syncError: failureReason(failure).slice(0, 500) };
}

/** A person-readable reason from the Catch output: the error message the failing step threw. */
export function failureReason(failure: State['failure']): string {
  if (failure === undefined) return 'unknown failure';
  const cause = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Cause is plain text (e.g. States.Timeout); use it as it is.
  }
  return cause === '' ? (failure.Error ?? 'unknown failure') : cause;
}

function resultOf<T>(state: State, step: string): T {
  const result = state.results[step];
  if (result === undefined) throw new PermanentError(`saga state: no result from step ${step}`);
  return result as T;
}

const claimKey = (state: State): string => `order:${state.businessKey}`;

/**
 * Creates the order once per deal, however many runs race for it: the run holding the
 * claim creates (or finds) the order; another run reuses its order or waits.
 */
async function createSalesOrder(state: State, context: StepContext): Promise<JsonValue> {
  const { erp, claims } = context.services;
  const claim = await claims.claim(claimKey(state), context.executionName);
  if (!claim.owned) {
    const orderId = claim.outcome?.orderId;
    if (orderId === undefined) {
      throw new RetryableError(`order for ${state.businessKey} is being created by run ${claim.holder}`);
    }
    const existing = await erp.getSalesOrder(orderId);
    context.note({ erpOrderRef: existing.reference, reusedFromRun: claim.holder });
    return { ...existing, reusedFromRun: claim.holder };
  }
  const externalRef = orderExternalRef(state.trigger);
  const deal = resultOf<Deal>(state, 'LoadDeal');
  const customer = resultOf<{ customerId: string }>(state, 'UpsertCustomer');
  const order =
    (await erp.findSalesOrderByExternalRef(externalRef)) ??
    (await erp.createSalesOrder(toSalesOrderDraft(deal, customer.customerId, externalRef)));
  await claims.complete(claimKey(state), context.executionName, { orderId: order.id });
  context.note({ erpOrderId: order.id, erpOrderRef: order.reference });
  return orderJson(order);
}

/**
 * Finds or creates the deal's customer in the ERP, one run per customer at a time: two
 * orders of one company running at once would otherwise both miss it and both create
 * it. The claim is a lease to this invocation's deadline, given up as soon as the ERP
 * answered; a run that finds it held waits (retries) and then finds the customer.
 */
async function upsertCustomer(state: State, context: StepContext): Promise<JsonValue> {
  const { erp, claims } = context.services;
  const deal = resultOf<Deal>(state, 'LoadDeal');
  const key = `customer:${deal.customer.externalId}`;
  const claim = await claims.claim(key, context.executionName, { leaseUntil: context.deadline });
  if (!claim.owned) {
    throw new RetryableError(`customer ${deal.customer.externalId} is being found or created by run ${claim.holder}`);
  }
  let result: Awaited<ReturnType<typeof erp.upsertCustomer>>;
  try {
    result = await erp.upsertCustomer(deal.customer);
  } catch (error) {
    // Unanswered (timeout, connection lost): the create may still land, so the claim stays
    // until this run's retry finds the customer, or the lease lapses. Answered failures wrote nothing.
    if (!unanswered(error)) await claims.release(key, context.executionName);
    throw error;
  }
  await claims.release(key, context.executionName);
  context.note({ customerId: result.customerId, customerCreated: result.created, matchedBy: result.matchedBy });
  return { ...result };
}

/** A call the ERP may have carried out without answering. */
function unanswered(error: unknown): boolean {
  return error instanceof RetryableError && (error.code === 'timeout' || error.code === 'network');
}

function orderJson(order: ErpOrder): JsonValue {
  return { ...order };
}

/**
 * Cancels the order this run created, if any; nothing to undo is success. An order
 * another run created (and this run only reused) is that run's to keep.
 */
async function cancelSalesOrder(state: State, context: StepContext): Promise<JsonValue> {
  const { erp, claims } = context.services;
  const created = state.results.CreateSalesOrder as (ErpOrder & { reusedFromRun?: string }) | undefined;
  if (created?.reusedFromRun !== undefined) {
    context.note({ nothingToCancel: true, orderOwnedByRun: created.reusedFromRun });
    return { cancelled: false };
  }
  const claim = await claims.claim(claimKey(state), context.executionName);
  if (!claim.owned) {
    context.note({ nothingToCancel: true, orderOwnedByRun: claim.holder });
    return { cancelled: false };
  }
  const order = created ?? (await erp.findSalesOrderByExternalRef(orderExternalRef(state.trigger)));
  if (order === undefined) {
    await claims.release(claimKey(state), context.executionName);
    context.note({ nothingToCancel: true });
    return { cancelled: false };
  }
  const cancelled = await erp.cancelSalesOrder(order.id);
  await claims.release(claimKey(state), context.executionName);
  context.note({ erpOrderRef: cancelled.reference, erpStatus: cancelled.status });
  return { cancelled: true, orderId: cancelled.id, status: cancelled.status };
}

/** The order-to-cash saga. */
export const orderToCash = defineFlow<OrderToCashTrigger>({
  name: 'order-to-cash',
  description: 'Deal won in the CRM → confirmed ERP sales order → order number and status back on the deal',
  trigger: (settings) => ({
    source: [CRM_EVENT_SOURCE],
    'detail-type': [DEAL_STAGE_CHANGED],
    detail: { crm: [settings.crm], stage: [...settings.wonDealStages] },
  }),
  triggerSchema: OrderToCashTrigger,
  completionMetrics: { count: MetricName.OrdersConfirmed, latencyFromWebhook: MetricName.WebhookToOrderLatency },
  businessKey: (trigger) => businessKeyForDeal(trigger.crm, trigger.accountId, trigger.dealId),
  executionName: (trigger) =>
    toExecutionName(trigger.crm, trigger.accountId, trigger.dealId, trigger.eventId),
  steps: [
    {
      name: 'LoadDeal',
      description: 'Read the deal with its company, contact and line items from the CRM',
      run: async (state, { services }) => {
        const deal = await services.crm.getDeal(state.trigger.dealId);
        // Webhooks can arrive late or out of order: act on the deal as it is now, not as the event said.
        if (deal.stage !== state.trigger.stage) {
          throw new PermanentError(
            `deal ${deal.id} is no longer in stage ${state.trigger.stage} (now ${deal.stage}); no ERP order was created`,
            { code: 'stage-changed' },
          );
        }
        return deal as unknown as JsonValue;
      },
      compensation: {
        name: 'MarkDealSyncFailed',
        description: 'Tell the sales team on the deal that the ERP order failed, and why',
        run: async (state, { services }) => {
          await services.crm.updateDeal(state.trigger.dealId, syncFailedUpdate(state.failure));
          return { marked: true };
        },
      },
    },
    {
      name: 'UpsertCustomer',
      description: 'Find the ERP customer by CRM id, VAT number or email, or create it (left in place on rollback)',
      run: upsertCustomer,
      // Waits out another run's upsert of the same customer: a failed holder's retry, or its lease.
      retry: { maxAttempts: 12, intervalSeconds: 2, backoffRate: 2, maxDelaySeconds: 30 },
    },
    {
      name: 'CreateSalesOrder',
      description: 'Create the sales order with its lines, carrying the deal id as external reference',
      run: createSalesOrder,
      compensation: {
        name: 'CancelSalesOrder',
        description: 'Cancel the order so it really ends cancelled (no silent cancel wizard)',
        run: cancelSalesOrder,
      },
    },
    {
      name: 'ConfirmSalesOrder',
      description: 'Confirm the order, which reserves its stock',
      run: async (state, context) => {
        const order = resultOf<ErpOrder>(state, 'CreateSalesOrder');
        const confirmed = await context.services.erp.confirmSalesOrder(order.id);
        context.note({ erpOrderRef: confirmed.reference, erpStatus: confirmed.status });
        return orderJson(confirmed);
      },
    },
    {
      name: 'UpdateDealWithOrder',
      description: 'Write the ERP order number and status back to the deal',
      run: async (state, { services }) => {
        const order = resultOf<ErpOrder>(state, 'ConfirmSalesOrder');
        await services.crm.updateDeal(state.trigger.dealId, {
          erpOrderRef: order.reference,
          erpStatus: 'confirmed',
        });
        return { erpOrderRef: order.reference, erpStatus: 'confirmed' };
      },
    },
  ],
});
