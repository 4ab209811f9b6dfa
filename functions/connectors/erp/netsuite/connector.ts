/** Oracle NetSuite as a Harmony ERP connector: its settings, secret and matrix row. */
import * as z from 'zod';
import { checkOutboundUrl } from '../../../core/outbound-url.ts';
import type { ErpConnectorDefinition } from '../../definition.ts';
import type { NetsuiteCredentials } from './client.ts';
import { NetsuiteErp } from './index.ts';

const NetsuiteSettings = z.object({
  /** The account id, e.g. `1234567`, or `1234567_SB1` for a sandbox account. */
  NETSUITE_ACCOUNT_ID: z.string().regex(/^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)?$/, 'expected a NetSuite account id such as 1234567 or 1234567_SB1'),
  /** The REST domain. @default https://<account id, lower case, `_` as `-`>.suitetalk.api.netsuite.com */
  NETSUITE_BASE_URL: z.string().min(1).optional(),
  /** Internal id of the subsidiary new customers and orders belong to (OneWorld accounts). @default none sent */
  NETSUITE_SUBSIDIARY_ID: z.string().regex(/^[1-9]\d*$/, 'expected a subsidiary internal id such as "1"').optional(),
  /** `oauth2` (client credentials with a certificate, NetSuite's recommendation) or `tba` (token-based authentication). @default oauth2 */
  NETSUITE_AUTH: z.enum(['oauth2', 'tba']).default('oauth2'),
});
type NetsuiteSettings = z.infer<typeof NetsuiteSettings>;

/** The REST domain NetSuite gives an account: `1234567_SB1` → `https://1234567-sb1.suitetalk.api.netsuite.com`. */
export function defaultBaseUrl(accountId: string): string {
  return `https://${accountId.toLowerCase().replaceAll('_', '-')}.suitetalk.api.netsuite.com`;
}

/** The account id as NetSuite spells it in a TBA realm: `1234567-sb1` → `1234567_SB1`. */
export function realmOf(accountId: string): string {
  return accountId.toUpperCase().replaceAll('-', '_');
}

const SECRETS = {
  clientId: { variable: 'NETSUITE_CLIENT_ID', required: false, description: 'OAuth 2.0: client id of the integration record (NETSUITE_AUTH=oauth2)' },
  certificateId: { variable: 'NETSUITE_CERTIFICATE_ID', required: false, description: 'OAuth 2.0: certificate id of the M2M mapping (NETSUITE_AUTH=oauth2)' },
  privateKey: { variable: 'NETSUITE_PRIVATE_KEY', required: false, description: "OAuth 2.0: PEM private key of the mapped certificate, RSA or EC P-256 (NETSUITE_AUTH=oauth2)" },
  consumerKey: { variable: 'NETSUITE_CONSUMER_KEY', required: false, description: 'TBA: consumer key of the integration record (NETSUITE_AUTH=tba)' },
  consumerSecret: { variable: 'NETSUITE_CONSUMER_SECRET', required: false, description: 'TBA: consumer secret of the integration record (NETSUITE_AUTH=tba)' },
  tokenId: { variable: 'NETSUITE_TOKEN_ID', required: false, description: 'TBA: access token id (NETSUITE_AUTH=tba)' },
  tokenSecret: { variable: 'NETSUITE_TOKEN_SECRET', required: false, description: 'TBA: access token secret (NETSUITE_AUTH=tba)' },
} as const;

/** The credentials the chosen auth scheme needs; throws naming every missing variable. */
function credentialsFor(settings: NetsuiteSettings, secrets: Readonly<Record<string, string | undefined>>): NetsuiteCredentials {
  const needed = settings.NETSUITE_AUTH === 'oauth2' ? (['clientId', 'certificateId', 'privateKey'] as const) : (['consumerKey', 'consumerSecret', 'tokenId', 'tokenSecret'] as const);
  const missing = needed.filter((field) => (secrets[field] ?? '') === '');
  if (missing.length > 0) {
    throw new Error(
      `Invalid configuration — ${missing.map((field) => SECRETS[field].variable).join(', ')}: required with NETSUITE_AUTH=${settings.NETSUITE_AUTH}`,
    );
  }
  return settings.NETSUITE_AUTH === 'oauth2'
    ? { scheme: 'oauth2', clientId: secrets.clientId!, certificateId: secrets.certificateId!, privateKey: secrets.privateKey! }
    : { scheme: 'tba', consumerKey: secrets.consumerKey!, consumerSecret: secrets.consumerSecret!, tokenId: secrets.tokenId!, tokenSecret: secrets.tokenSecret! };
}

/**
 * Oracle NetSuite: OAuth 2.0 client credentials by default (NetSuite's recommendation; TBA
 * is closed to new integrations from 2027.1), TBA for accounts that still use it.
 */
export const netsuiteConnector: ErpConnectorDefinition<typeof NetsuiteSettings> = {
  system: 'netsuite',
  kind: 'erp',
  label: 'Oracle NetSuite',
  settings: NetsuiteSettings,
  secrets: SECRETS,
  capabilities: {
    auth: 'OAuth 2.0 client credentials (JWT assertion, PS256/ES256); or TBA (OAuth 1.0a, HMAC-SHA256)',
    inbound: '— (statuses by JWT callback, e.g. from a SuiteScript; no status feed yet)',
    read: 'salesOrder, customer (REST record API, eid:); item, currency, customer (SuiteQL)',
    write: 'customer create; salesOrder create (async, X-NetSuite-Idempotency-Key) / approve (orderStatus B)',
    cancel: 'salesOrder: every line closed (status Closed)',
    sandbox: 'local/sandbox/netsuite (REST record API, SuiteQL, async jobs, OAuth 2.0 M2M and TBA)',
    testedAgainst: 'ERP contract suite on the sandbox, once per auth scheme; recorded payloads from the REST web services guide',
  },
  create(settings, secrets, runtime) {
    const baseUrl = checkOutboundUrl('NETSUITE_BASE_URL', settings.NETSUITE_BASE_URL ?? defaultBaseUrl(settings.NETSUITE_ACCOUNT_ID));
    return new NetsuiteErp({
      baseUrl: new URL(baseUrl.origin),
      realm: realmOf(settings.NETSUITE_ACCOUNT_ID),
      credentials: credentialsFor(settings, secrets),
      subsidiaryId: settings.NETSUITE_SUBSIDIARY_ID,
      timeoutMs: runtime.timeoutMs,
      rateLimiter: runtime.rateLimiter,
    });
  },
};
