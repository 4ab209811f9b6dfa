/**
 * The state machines of a synthesized template, ready for aws-local-stepfunctions:
 * each one's ASL with every intrinsic resolved, and which template resource each
 * Task state calls, so the local hub can route the Task to that Lambda handler
 * module or queue.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { TemplateResolver } from './resolve-intrinsics.ts';

/** What a Task state calls, in terms of the template's resources. */
export type TaskTarget =
  | {
      readonly kind: 'lambda';
      readonly functionLogicalId: string;
      /** `function-arn`: the Resource is the function's ARN; `lambda:invoke`: the optimized integration. */
      readonly integration: 'function-arn' | 'lambda:invoke';
    }
  | {
      readonly kind: 'sqs:sendMessage';
      readonly queueLogicalId: string;
      /** The queue URL as the Task's Parameters carry it (resolved). */
      readonly queueUrl: string;
    }
  | {
      /** A service integration or resource that maps to no template resource; the local hub decides. */
      readonly kind: 'unmapped';
      readonly resource: string;
    };

/** One AWS::StepFunctions::StateMachine of a template. */
export interface TemplateStateMachine {
  readonly logicalId: string;
  /** Its local name (explicit `StateMachineName`, else the logical id). */
  readonly name: string;
  /** Its local ARN (see the naming scheme of `resolve-intrinsics.ts`). */
  readonly arn: string;
  /** The ASL, every intrinsic and definition substitution resolved. */
  readonly definition: StateMachineDefinition;
  /** What each Task state calls, by state name (Parallel branches and Map processors included). */
  readonly tasks: Readonly<Record<string, TaskTarget>>;
}

type Json = { readonly [key: string]: unknown };

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every state machine of the resolver's template, in template order. */
export function stateMachinesOf(resolver: TemplateResolver): TemplateStateMachine[] {
  return Object.entries(resolver.template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine')
    .map(([logicalId]) => stateMachineOf(resolver, logicalId));
}

/** One state machine of the resolver's template, by logical id. */
export function stateMachineOf(resolver: TemplateResolver, logicalId: string): TemplateStateMachine {
  const resource = resolver.resource(logicalId);
  if (resource.Type !== 'AWS::StepFunctions::StateMachine') {
    throw new Error(`${logicalId}: is a ${resource.Type}, not a state machine`);
  }
  const definition = renderDefinition(resolver, logicalId, resource.Properties ?? {});
  const tasks: Record<string, TaskTarget> = {};
  collectTasks(resolver, logicalId, definition, tasks);
  return {
    logicalId,
    name: resolver.physicalName(logicalId),
    arn: resolver.getAtt(logicalId, 'Arn'),
    definition: definition as unknown as StateMachineDefinition,
    tasks,
  };
}

function renderDefinition(resolver: TemplateResolver, logicalId: string, properties: Json): Json {
  if (properties.DefinitionS3Location !== undefined) {
    throw new Error(`${logicalId}: DefinitionS3Location is not supported locally; synthesize the definition inline`);
  }
  const substitutions = resolver.resolve(properties.DefinitionSubstitutions ?? {});
  if (!isObject(substitutions)) throw new Error(`${logicalId}.DefinitionSubstitutions: expected an object`);
  let text: string;
  if (properties.DefinitionString !== undefined) {
    text = resolver.resolveString(properties.DefinitionString, `${logicalId}.DefinitionString`);
  } else if (properties.Definition !== undefined) {
    text = JSON.stringify(resolver.resolve(properties.Definition));
  } else {
    throw new Error(`${logicalId}: has neither DefinitionString nor Definition`);
  }
  text = text.replace(/\$\{([^}]+)\}/g, (match, name: string) => {
    const value = substitutions[name];
    return value === undefined ? match : String(value);
  });
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    throw new Error(`${logicalId}: definition is not JSON after resolving (${(error as Error).message})`);
  }
  if (!isObject(definition) || !isObject(definition.States) || typeof definition.StartAt !== 'string') {
    throw new Error(`${logicalId}: definition has no StartAt and States`);
  }
  return definition;
}

function collectTasks(resolver: TemplateResolver, logicalId: string, machine: Json, tasks: Record<string, TaskTarget>): void {
  const states = machine.States;
  if (!isObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    if (state.Type === 'Task') {
      if (tasks[name] !== undefined) {
        throw new Error(`${logicalId}: Task state name ${name} is used twice; local Task routing is by state name`);
      }
      tasks[name] = targetOf(resolver, state);
    }
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) if (isObject(branch)) collectTasks(resolver, logicalId, branch, tasks);
    }
    for (const processor of [state.ItemProcessor, state.Iterator]) {
      if (isObject(processor)) collectTasks(resolver, logicalId, processor, tasks);
    }
  }
}

function targetOf(resolver: TemplateResolver, state: Json): TaskTarget {
  const resource = typeof state.Resource === 'string' ? state.Resource : JSON.stringify(state.Resource);
  const parameters = isObject(state.Parameters) ? state.Parameters : isObject(state.Arguments) ? state.Arguments : {};
  const integration = /^arn:[^:]+:states:::([^.]+(?::[^.]+)?)(\..+)?$/.exec(resource);
  if (integration !== null) {
    const action = integration[1];
    if (action === 'lambda:invoke' && typeof parameters.FunctionName === 'string') {
      const functionLogicalId = resolver.logicalIdOf(parameters.FunctionName);
      if (functionLogicalId !== undefined) return { kind: 'lambda', functionLogicalId, integration: 'lambda:invoke' };
    }
    if (action === 'sqs:sendMessage' && typeof parameters.QueueUrl === 'string') {
      const queueLogicalId = resolver.logicalIdOf(parameters.QueueUrl);
      if (queueLogicalId !== undefined) return { kind: 'sqs:sendMessage', queueLogicalId, queueUrl: parameters.QueueUrl };
    }
    return { kind: 'unmapped', resource };
  }
  const functionLogicalId = resolver.logicalIdOf(resource);
  if (functionLogicalId !== undefined && resolver.resource(functionLogicalId).Type === 'AWS::Lambda::Function') {
    return { kind: 'lambda', functionLogicalId, integration: 'function-arn' };
  }
  return { kind: 'unmapped', resource };
}
