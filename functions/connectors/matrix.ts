/**
 * The README's connector matrix, written from the connectors' own declarations
 * (`capabilities`), so the table says what the code does. `npm run docs:api` rewrites
 * the README block between the connector-matrix markers; a test fails when it is stale.
 */
import { CRM_CONNECTORS, ERP_CONNECTORS } from './all-connectors.ts';
import type { ConnectorDefinition } from './definition.ts';

export const MATRIX_START = '<!-- connector-matrix:start (npm run docs:api writes this table) -->';
export const MATRIX_END = '<!-- connector-matrix:end -->';

/** Inbound-only senders that drive flows without an adapter of their own. */
const INBOUND_ONLY = [
  ['any', 'Standard Webhooks sender', '`webhook-signature` v1 HMAC, `whsec_` secrets with rotation, 5-minute window', 'declarative mapping per `POST /webhooks/standard/{mapping}` to the deal-won event', '—', '—', '—', '—', "the spec's test vectors"],
  ['ERP side', 'any system with a JWT issuer', 'bearer JWT: RS/PS/ES/EdDSA against a JWKS, `iss`, `aud`, `exp`/`nbf`', '`POST /callbacks/{system}` → Order Status Changed', '—', '—', '—', '—', 'tokens signed by a local issuer serving its JWKS'],
] as const;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function row(side: string, connector: ConnectorDefinition<unknown>): string {
  const c = connector.capabilities;
  return `| ${[side, `${connector.label} (\`${connector.system}\`)`, c.auth, c.inbound, c.read, c.write, c.cancel, c.sandbox, c.testedAgainst].map(cell).join(' | ')} |`;
}

/** The matrix as a markdown table. */
export function connectorMatrix(): string {
  return [
    '| side | vendor (`CRM_SYSTEM` / `ERP_SYSTEM`) | auth | inbound | read | write | cancel | sandbox | tested against |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...[...CRM_CONNECTORS.values()].map((connector) => row('CRM', connector)),
    ...[...ERP_CONNECTORS.values()].map((connector) => row('ERP', connector)),
    ...INBOUND_ONLY.map((cells) => `| ${cells.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The README with its matrix block replaced; throws when the markers are missing. */
export function withConnectorMatrix(readme: string): string {
  const start = readme.indexOf(MATRIX_START);
  const end = readme.indexOf(MATRIX_END);
  if (start < 0 || end < start) throw new Error(`README.md: the connector matrix markers are missing (${MATRIX_START} … ${MATRIX_END})`);
  return `${readme.slice(0, start + MATRIX_START.length)}\n${connectorMatrix()}\n${readme.slice(end)}`;
}
