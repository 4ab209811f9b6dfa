/**
 * The inbound API description and the bus event schemas are generated from the zod
 * schemas: the committed copies in docs/ must be what the code generates now, and every
 * route the ingest function serves must be in the OpenAPI document.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withConnectorMatrix } from '../../functions/connectors/matrix.ts';
import { BUS_EVENTS, busEventJsonSchema, openApiDocument, schemaNameOf } from '../../functions/core/api-description.ts';
import { webhookSources } from '../../functions/core/ingress/webhook-sources.ts';
import { synthHarmony } from '../support/synth.ts';

const docs = join(import.meta.dirname, '..', '..', 'docs');
const committed = (path: string): unknown => JSON.parse(readFileSync(join(docs, path), 'utf8'));

describe('docs/ is what the schemas generate (run npm run docs:api after changing them)', () => {
  it('docs/openapi.json', () => {
    expect(committed('openapi.json')).toEqual(openApiDocument());
  });

  it("README.md's connector matrix", () => {
    const readme = readFileSync(join(docs, '..', 'README.md'), 'utf8');
    expect(readme).toBe(withConnectorMatrix(readme));
  });

  it.each(BUS_EVENTS.map((event) => [schemaNameOf(event), event] as const))('docs/events/%s.schema.json', (name, event) => {
    expect(committed(`events/${name}.schema.json`)).toEqual(busEventJsonSchema(event));
  });
});

describe('the OpenAPI document', () => {
  it('describes every inbound route the ingest function can serve', () => {
    const sources = webhookSources({
      HUBSPOT_CLIENT_SECRET: 'x',
      PIPEDRIVE_WEBHOOK_USER: 'u',
      PIPEDRIVE_WEBHOOK_PASSWORD: 'p',
      STANDARD_WEBHOOKS_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      CALLBACK_JWKS_URL: 'https://issuer.example.com/jwks',
      CALLBACK_JWT_ISSUER: 'https://issuer.example.com/',
      CALLBACK_JWT_AUDIENCE: 'harmony',
      SALESFORCE_ORG_ID: '00D000000000001EAA',
    } as Parameters<typeof webhookSources>[0]);
    const paths = Object.keys((openApiDocument() as { paths: Record<string, unknown> }).paths);
    const routeOf = (source: string) =>
      source === 'standard' ? '/webhooks/standard/{mapping}' : source === 'callbacks' ? '/callbacks/{system}' : `/webhooks/${source}`;
    for (const source of sources.keys()) expect(paths, source).toContain(routeOf(source));
  });

  it("carries the vendors' body schemas, not empty placeholders", () => {
    const document = openApiDocument() as { paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } } }> };
    const hubspot = document.paths['/webhooks/hubspot']!.post!.requestBody.content['application/json']!.schema;
    expect(hubspot).toMatchObject({ type: 'array', minItems: 1, maxItems: 100 });
    const callback = document.paths['/callbacks/{system}']!.post!.requestBody.content['application/json']!.schema;
    expect(callback).toMatchObject({ type: 'object', required: expect.arrayContaining(['orderRef', 'status', 'occurredAt', 'eventId']) });
  });
});

describe('bus event schemas', () => {
  it('require what the zod detail schema requires, in an EventBridge envelope', () => {
    const schema = busEventJsonSchema(BUS_EVENTS[0]!) as { properties: Record<string, { enum?: string[]; required?: string[] }> };
    expect(schema.properties['detail-type']!.enum).toEqual(['Deal Stage Changed']);
    expect(schema.properties.detail!.required).toEqual(['crm', 'accountId', 'dealId', 'stage', 'occurredAt', 'eventId']);
  });

  it('are registered in the stack\'s EventBridge schema registry', () => {
    const synth = synthHarmony();
    const schemas = Object.values(synth.json.Resources).filter((resource) => resource.Type === 'AWS::EventSchemas::Schema');
    expect(schemas.map((resource) => resource.Properties?.SchemaName).sort()).toEqual(BUS_EVENTS.map((event) => `${event.source}@${schemaNameOf(event)}`).sort());
    for (const resource of schemas) expect(JSON.parse(String(resource.Properties?.Content))).toHaveProperty('$schema', 'http://json-schema.org/draft-04/schema#');
  });
});
