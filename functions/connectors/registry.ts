/**
 * Builds the CRM and ERP adapters a deployment uses, from configuration (CDK context
 * in AWS, the environment locally) — never by code edits: `CRM_SYSTEM` and `ERP_SYSTEM`
 * name the connectors, each connector's declared settings are read from the environment
 * through its own schema, and its secret fields from the environment (locally) or its
 * JSON secret `<SYSTEM>_SECRET_ARN` (AWS).
 */
import * as z from 'zod';
import { readEnv } from '../core/env.ts';
import { readSecret } from '../core/secrets.ts';
import { DynamoTokenBucket, parseRateLimits } from '../core/dynamo-token-bucket.ts';
import type { RateBudget, RateLimiter } from '../core/rate-limit.ts';
import { loadCrmConnector, loadErpConnector } from './catalog.ts';
import type { CrmPort } from './crm/port.ts';
import { secretArnVariable, type ConnectorDefinition, type ConnectorRuntime } from './definition.ts';
import type { ErpPort } from './erp/port.ts';

/** Connector settings every step-running function reads. */
export const ConnectorEnvironment = z.object({
  CRM_SYSTEM: z.string().regex(/^[a-z][a-z0-9-]*$/).default('hubspot'),
  ERP_SYSTEM: z.string().regex(/^[a-z][a-z0-9-]*$/).default('odoo'),
  CONNECTOR_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(10_000),
});
export type ConnectorEnvironment = z.infer<typeof ConnectorEnvironment>;

/**
 * The vendor rate budgets every instance of every function shares, in the idempotency
 * table; `limits` is CONNECTOR_RATE_LIMITS (`system=perSecond/burst …`).
 */
export function sharedRateLimiter(tableName: string, limits: string | undefined): RateLimiter {
  const overrides = parseRateLimits('CONNECTOR_RATE_LIMITS', limits);
  return new DynamoTokenBucket({
    tableName,
    budgetFor: (target) => {
      const system = target.split(':')[0] ?? '';
      if (overrides.has(system)) return overrides.get(system);
      if (overrides.has('*')) return overrides.get('*');
      return documentedBudgets.get(system);
    },
  });
}

/** The documented budgets of the connectors this instance loaded (see ConnectorDefinition.rateBudget). */
const documentedBudgets = new Map<string, RateBudget | undefined>();

/** The adapters of one deployment. */
export interface Connectors {
  readonly crm: CrmPort;
  readonly erp: ErpPort;
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads a connector's secret fields: each from its local variable when set, else from the
 * connector's JSON secret; a required field found nowhere is an error naming both places.
 */
export async function readConnectorSecrets(
  definition: Pick<ConnectorDefinition<unknown>, 'system' | 'secrets'>,
  environment: Environment,
): Promise<Record<string, string | undefined>> {
  const arnVariable = secretArnVariable(definition.system);
  const secretArn = environment[arnVariable];
  const values: Record<string, string | undefined> = {};
  for (const [field, declared] of Object.entries(definition.secrets)) {
    const local = environment[declared.variable];
    if (local !== undefined && local !== '') {
      values[field] = local;
    } else if (secretArn !== undefined && secretArn !== '') {
      values[field] = await readSecret({ secretArn, field, variable: declared.variable }).catch((error: Error) => {
        if (declared.required) throw error;
        return undefined;
      });
    } else if (declared.required) {
      throw new Error(`Invalid configuration — ${declared.variable}: required (${declared.description}); set it or ${arnVariable}`);
    }
  }
  return values;
}

let cached: { readonly fingerprint: string; readonly connectors: Connectors } | undefined;

/**
 * Builds the adapters, reusing them across invocations until a setting or secret changes
 * (the adapters keep auth sessions and reference-data caches).
 */
export async function connectorsFor(
  environment: ConnectorEnvironment,
  options: { readonly processEnvironment?: Environment; readonly rateLimiter?: RateLimiter } = {},
): Promise<Connectors> {
  const source = options.processEnvironment ?? process.env;
  const [crmDefinition, erpDefinition] = await Promise.all([loadCrmConnector(environment.CRM_SYSTEM), loadErpConnector(environment.ERP_SYSTEM)]);
  for (const definition of [crmDefinition, erpDefinition]) documentedBudgets.set(definition.system, definition.rateBudget);
  const resolve = async (definition: ConnectorDefinition<unknown>) => ({
    settings: readEnv(definition.settings, source),
    secrets: await readConnectorSecrets(definition, source),
  });
  const [crmConfig, erpConfig] = [await resolve(crmDefinition), await resolve(erpDefinition)];
  const fingerprint = JSON.stringify([environment, crmConfig, erpConfig]);
  if (cached?.fingerprint === fingerprint) return cached.connectors;
  const runtime: ConnectorRuntime = {
    timeoutMs: environment.CONNECTOR_TIMEOUT_MS,
    ...(options.rateLimiter === undefined ? {} : { rateLimiter: options.rateLimiter }),
  };
  const crm = crmDefinition.create(crmConfig.settings, crmConfig.secrets, runtime);
  const erp = erpDefinition.create(erpConfig.settings, erpConfig.secrets, runtime);
  cached = { fingerprint, connectors: { crm, erp } };
  return cached.connectors;
}
