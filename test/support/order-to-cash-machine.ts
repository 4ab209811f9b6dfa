/**
 * The order-to-cash state machine as the local engines see it: synthesized in the
 * flow test stack, rendered by the template resolver, with its compensation DLQ
 * created in the given SQS service.
 */
import { TemplateResolver } from '../../local/template/resolve-intrinsics.ts';
import { stateMachinesOf, type TemplateStateMachine } from '../../local/template/state-machines.ts';
import { logicalIdOf, synthFlowTestApp } from './flow-test-stack.ts';

/** What the tests need of it. */
export interface OrderToCashMachine {
  readonly resolver: TemplateResolver;
  readonly machine: TemplateStateMachine;
  readonly stepRunnerId: string;
  readonly compensationDeadLetterQueueId: string;
  readonly compensationDeadLetterQueueUrl: string;
}

/** Renders the machine for `region`/`accountId` with queue URLs on `sqs`, and creates its compensation DLQ there. */
export function orderToCashMachine(
  sqs: { readonly endpoint: string; createQueue(name: string): { queueUrl: string } },
  where: { readonly region: string; readonly accountId: string },
): OrderToCashMachine {
  const app = synthFlowTestApp();
  const resolver = new TemplateResolver(app.template, { ...where, sqsEndpoint: sqs.endpoint });
  const [machine] = stateMachinesOf(resolver);
  if (machine === undefined) throw new Error('no state machine in the template');
  const compensationDeadLetterQueueId = logicalIdOf(app.pipeline.compensationDeadLetterQueue);
  return {
    resolver,
    machine,
    stepRunnerId: logicalIdOf(app.pipeline.stepRunner),
    compensationDeadLetterQueueId,
    compensationDeadLetterQueueUrl: sqs.createQueue(compensationDeadLetterQueueId).queueUrl,
  };
}

/** The input the starter would give the saga for deal `dealId` of portal 4711 (fixed times, ids derived from the deal). */
export function sagaInputFor(dealId: string): Record<string, unknown> {
  return {
    trigger: { crm: 'hubspot', accountId: '4711', dealId, stage: 'closedwon', occurredAt: '2026-03-01T10:00:00.000Z', eventId: `evt-${dealId}` },
    businessKey: `deal:hubspot:4711:${dealId}`,
    correlationId: `corr-${dealId}`,
    receivedAt: '2026-03-01T10:00:01.000Z',
    results: {},
    compensations: {},
  };
}
