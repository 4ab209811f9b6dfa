/**
 * The resources of a template that a deployment would actually create: those of
 * one type whose `Condition` (if any) holds for the resolver's parameters.
 */
import type { TemplateResource } from '../template/load-template.ts';
import type { TemplateResolver } from '../template/resolve-intrinsics.ts';

/**
 * Every resource of `type` in template order, skipping those whose condition is false,
 * as CloudFormation does; the condition is evaluated through the resolver (`Fn::If`).
 */
export function deployedResourcesOfType(resolver: TemplateResolver, type: string): [logicalId: string, resource: TemplateResource][] {
  return Object.entries(resolver.template.Resources).filter(
    ([, resource]) =>
      resource.Type === type &&
      (resource.Condition === undefined || resolver.resolve({ 'Fn::If': [resource.Condition, true, false] }) === true),
  );
}
