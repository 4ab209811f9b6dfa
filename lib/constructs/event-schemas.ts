import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { BUS_EVENTS, busEventJsonSchema, schemaNameOf } from '../../functions/core/api-description.ts';

/**
 * The EventBridge schema registry of the hub bus: one JSON Schema (draft 4) per event
 * Harmony publishes, generated from the zod schemas that validate them, so consumers can
 * download code bindings and see exactly what a `Deal Stage Changed` carries.
 */
export class EventSchemas extends Construct {
  readonly registry: CfnRegistry;

  constructor(scope: Construct, id: string, props: { readonly registryName: string }) {
    super(scope, id);
    this.registry = new CfnRegistry(this, 'Registry', {
      registryName: props.registryName,
      description: 'Harmony hub bus events (generated from functions/core/events.ts)',
    });
    for (const event of BUS_EVENTS) {
      const schema = new CfnSchema(this, schemaNameOf(event), {
        registryName: props.registryName,
        schemaName: `${event.source}@${schemaNameOf(event)}`,
        type: 'JSONSchemaDraft4',
        description: event.description,
        content: JSON.stringify(busEventJsonSchema(event)),
      });
      schema.node.addDependency(this.registry);
    }
  }
}
