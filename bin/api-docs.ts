/**
 * `npm run docs:api`: writes Harmony's inbound OpenAPI document and the JSON Schema of
 * each bus event to docs/, from the zod schemas (functions/core/api-description.ts), and
 * the README's connector matrix from the connectors' declarations.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConnectorMatrix } from '../functions/connectors/matrix.ts';
import { BUS_EVENTS, busEventJsonSchema, openApiDocument, schemaNameOf } from '../functions/core/api-description.ts';

const docs = join(import.meta.dirname, '..', 'docs');
mkdirSync(join(docs, 'events'), { recursive: true });
const write = (path: string, value: unknown) => {
  writeFileSync(join(docs, path), `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote docs/${path}`);
};
write('openapi.json', openApiDocument());
for (const event of BUS_EVENTS) write(`events/${schemaNameOf(event)}.schema.json`, busEventJsonSchema(event));
const readme = join(import.meta.dirname, '..', 'README.md');
writeFileSync(readme, withConnectorMatrix(readFileSync(readme, 'utf8')));
console.log('wrote the connector matrix in README.md');
