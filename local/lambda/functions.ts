/**
 * The Lambda functions of a synthesized template as the local runtime runs them:
 * each Harmony function's handler module (recorded by HarmonyFunction in the
 * `harmony:entry` metadata), its resolved environment and its limits. Functions
 * without that metadata (CDK's own providers, inline code) cannot run locally and
 * are listed apart with the reason, so the hub names them instead of skipping them.
 */
import { z } from 'zod';
import type { TemplateResolver } from '../template/resolve-intrinsics.ts';
import { deployedResourcesOfType } from './deployed-resources.ts';

/** Template metadata key naming a function's handler module (the value `HarmonyFunction` writes). */
export const ENTRY_METADATA_KEY = 'harmony:entry';

/** CloudFormation's defaults when a function sets no Timeout / MemorySize. */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

/** One AWS::Lambda::Function the local runtime can run. */
export interface LocalFunction {
  readonly logicalId: string;
  /** Its physical name per the resolver's naming scheme (explicit `FunctionName`, else the logical id). */
  readonly functionName: string;
  /** `arn:<partition>:lambda:<region>:<account>:function:<name>`. */
  readonly arn: string;
  /** Handler module relative to the project root, e.g. `functions/handlers/start-execution.ts`. */
  readonly entry: string;
  /** Name of the export to call: the part of `Handler` after the last dot (`index.handler` → `handler`). */
  readonly handlerExport: string;
  /** `Environment.Variables`, resolved to strings, with any overrides applied. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  /** `ReservedConcurrentExecutions`, when the template sets it. */
  readonly reservedConcurrency?: number;
}

/** A function of the template that the local runtime cannot run, and why. */
export interface UnsupportedFunction {
  readonly logicalId: string;
  readonly functionName: string;
  /** The construct path (`aws:cdk:path` metadata) when the template records it. */
  readonly constructPath?: string;
  readonly reason: string;
}

/** Extra environment for a function, merged over what the template gives it. */
export type EnvironmentOverrides = (fn: LocalFunction) => Readonly<Record<string, string>>;

const EnvironmentValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const FunctionProperties = z.looseObject({
  Handler: z.string().regex(/\.[A-Za-z_$][\w$]*$/, 'expected <module>.<export>, e.g. index.handler'),
  Runtime: z.string().optional(),
  Timeout: z.coerce.number().int().min(1).max(900).optional(),
  MemorySize: z.coerce.number().int().min(128).max(10_240).optional(),
  ReservedConcurrentExecutions: z.coerce.number().int().min(0).optional(),
  Environment: z.looseObject({ Variables: z.record(z.string(), EnvironmentValue).optional() }).optional(),
});

const Entry = z
  .string()
  .regex(/^[\w./-]+\.(ts|mts|js|mjs)$/, 'expected a module path relative to the project root, e.g. functions/handlers/ingest.ts')
  .refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'must stay inside the project root');

/**
 * Every function of the template that has a `harmony:entry` handler module, in template order.
 * Throws, naming the function and the property, when such a function's properties cannot be
 * resolved or read: a Harmony function the hub cannot configure must stop the start, not vanish.
 */
export function functionsOf(resolver: TemplateResolver, environmentOverrides?: EnvironmentOverrides): LocalFunction[] {
  const functions: LocalFunction[] = [];
  for (const [logicalId, resource] of deployedResourcesOfType(resolver, 'AWS::Lambda::Function')) {
    const entry = resource.Metadata?.[ENTRY_METADATA_KEY];
    if (entry === undefined) continue;
    const where = `function ${logicalId}`;
    const entryPath = Entry.safeParse(entry);
    if (!entryPath.success) throw new Error(`${where}: metadata ${ENTRY_METADATA_KEY} ${JSON.stringify(entry)}: ${entryPath.error.issues[0]?.message}`);
    const raw = resource.Properties ?? {};
    const properties = FunctionProperties.safeParse({
      Handler: resolver.resolve(raw.Handler),
      Runtime: resolver.resolve(raw.Runtime),
      Timeout: resolver.resolve(raw.Timeout),
      MemorySize: resolver.resolve(raw.MemorySize),
      ReservedConcurrentExecutions: resolver.resolve(raw.ReservedConcurrentExecutions),
      Environment: resolver.resolve(raw.Environment),
    });
    if (!properties.success) {
      const problems = properties.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      throw new Error(`${where}: ${problems.join('; ')}`);
    }
    const { Handler, Runtime, Timeout, MemorySize, ReservedConcurrentExecutions, Environment } = properties.data;
    if (Runtime !== undefined && !Runtime.startsWith('nodejs')) {
      throw new Error(`${where}: runtime ${Runtime} cannot run locally; the local runtime runs Node.js handler modules`);
    }
    const fn: LocalFunction = {
      logicalId,
      functionName: resolver.physicalName(logicalId),
      arn: resolver.getAtt(logicalId, 'Arn'),
      entry: entryPath.data,
      handlerExport: Handler.slice(Handler.lastIndexOf('.') + 1),
      environment: Environment?.Variables ?? {},
      timeoutMs: (Timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      memoryMb: MemorySize ?? DEFAULT_MEMORY_MB,
      ...(ReservedConcurrentExecutions === undefined ? {} : { reservedConcurrency: ReservedConcurrentExecutions }),
    };
    const overrides = environmentOverrides?.(fn);
    functions.push(overrides === undefined ? fn : { ...fn, environment: { ...fn.environment, ...overrides } });
  }
  return functions;
}

/**
 * The functions of the template the local runtime cannot run: those without a
 * `harmony:entry` handler module (CDK custom-resource and log-retention providers,
 * inline code). The hub names them at start.
 */
export function unsupportedFunctionsOf(resolver: TemplateResolver): UnsupportedFunction[] {
  return deployedResourcesOfType(resolver, 'AWS::Lambda::Function')
    .filter(([, resource]) => resource.Metadata?.[ENTRY_METADATA_KEY] === undefined)
    .map(([logicalId, resource]) => {
      const path = resource.Metadata?.['aws:cdk:path'];
      let functionName = logicalId;
      try {
        functionName = resolver.physicalName(logicalId);
      } catch {
        // The name itself may not resolve locally; the logical id still identifies it.
      }
      const runtime = resource.Properties?.Runtime;
      return {
        logicalId,
        functionName,
        ...(typeof path === 'string' ? { constructPath: path } : {}),
        reason:
          `no ${ENTRY_METADATA_KEY} metadata: not a HarmonyFunction, so there is no handler module to load` +
          (typeof runtime === 'string' ? ` (runtime ${runtime})` : ''),
      };
    });
}
