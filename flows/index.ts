/** Every flow Harmony deploys, by name. `lib/` builds one pipeline each; the step runner looks steps up here. */
import type { FlowDefinition } from '../functions/core/flow.ts';
import { orderToCash } from './order-to-cash.ts';

/** All flows, keyed by their kebab-case name. */
export const flows: Readonly<Record<string, FlowDefinition<any>>> = {
  [orderToCash.name]: orderToCash,
};
