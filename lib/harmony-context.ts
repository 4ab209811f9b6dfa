/**
 * The CDK context Harmony is deployed with (`cdk.json` "context", or `-c key=value`),
 * checked with zod before any construct is created, so a mistyped value stops the
 * synth with a message naming the context key instead of surfacing at first order.
 */
import type { InboundSources } from './harmony-stack.ts';
import * as z from 'zod';

import { CRM_SYSTEMS, ERP_SYSTEMS, type CrmSystem, type ErpSystem } from '../functions/connectors/catalog.ts';
import { CRM_CONNECTORS, ERP_CONNECTORS } from '../functions/connectors/all-connectors.ts';
import { readAllowedSenders, readOrganizationId } from '../functions/connectors/crm/salesforce/outbound-message-origin.ts';

export { CRM_SYSTEMS, ERP_SYSTEMS, type CrmSystem, type ErpSystem };

/** Where the Odoo adapter connects (its API key lives in the `odoo` secret, never in context). */
export interface OdooConnection {
  /** Base URL of the Odoo server, e.g. `https://erp.example.com`, without a trailing slash. */
  readonly url: string;
  /** Odoo database name. */
  readonly database: string;
  /** Odoo login the API key belongs to. */
  readonly username: string;
}

/** A Slack channel AWS Chatbot posts alarms to (the workspace must be authorized in the Chatbot console first). */
export interface SlackChannel {
  /** Slack workspace (team) id, e.g. `T0123ABCD`. */
  readonly workspaceId: string;
  /** Slack channel id, e.g. `C0123ABCD`. */
  readonly channelId: string;
}

/** Harmony's deployment settings after validation. */
export interface HarmonyContext {
  readonly crm: CrmSystem;
  readonly erp: ErpSystem;
  /** Deal stage ids that mean "won"; at least one. */
  readonly wonDealStages: readonly string[];
  /** Override of the HubSpot API base URL (sandboxes, proxies). */
  readonly hubspotBaseUrl?: string;
  /** Set when all of `odooUrl`, `odooDb` and `odooUsername` are given. */
  readonly odoo?: OdooConnection;
  /** Address that receives alarm emails (the subscription must be confirmed from the email). */
  readonly alarmEmail?: string;
  /** Set when both `slackWorkspaceId` and `slackChannelId` are given: alarms go through AWS Chatbot. */
  readonly slack?: SlackChannel;
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** Deletion protection (and retention on stack delete) of the DynamoDB tables. */
  readonly deletionProtection: boolean;
  /** Opt-in inbound routes: Pipedrive webhooks, Standard Webhooks, JWT callbacks, Salesforce Outbound Messages. */
  readonly inboundSources: InboundSources;
  /** The CRM connector's non-secret settings by environment variable (context `crmSettings`, plus `hubspotBaseUrl`). */
  readonly crmSettings: Readonly<Record<string, string>>;
  /** The ERP connector's non-secret settings by environment variable (context `erpSettings`, plus the `odoo…` keys). */
  readonly erpSettings: Readonly<Record<string, string>>;
}

/** Every context key Harmony reads. */
export const HARMONY_CONTEXT_KEYS = [
  'crm',
  'erp',
  'wonDealStages',
  'hubspotBaseUrl',
  'odooUrl',
  'odooDb',
  'odooUsername',
  'alarmEmail',
  'slackWorkspaceId',
  'slackChannelId',
  'stackName',
  'deletionProtection',
  'pipedriveWebhooks',
  'standardWebhooks',
  'callbackJwksUrl',
  'callbackJwtIssuer',
  'callbackJwtAudience',
  'salesforceOrgId',
  'salesforceAllowedCidrs',
  'crmSettings',
  'erpSettings',
] as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `-c key=` gives an empty string; treat it like an unset key. */
const blankAsUnset = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optional = <Schema extends z.ZodType>(schema: Schema) => z.preprocess(blankAsUnset, schema.optional());

/** An outbound URL: HTTPS, except plain HTTP to a loopback host (the local sandboxes). */
const serviceUrl = z
  .url({ message: 'expected an absolute URL such as https://erp.example.com' })
  .refine(
    (value) => {
      const url = new URL(value);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    },
    { message: 'must use https:// (plain http:// is allowed only for localhost)' },
  )
  .transform((value) => value.replace(/\/+$/, ''));

/** Stage ids, or stage names where the CRM has no ids (Salesforce's `Closed Won`). */
const DEAL_STAGE = /^[A-Za-z0-9_.:-](?:[A-Za-z0-9_.: -]{0,98}[A-Za-z0-9_.:-])?$/;

/**
 * Deal stages as an array (`cdk.json`) or a comma-separated / JSON-array string (`-c wonDealStages=a,b`).
 * Empty is an error: a flow that no deal can start is a misconfiguration, not a default.
 */
const wonDealStages = z
  .preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const text = value.trim();
      if (text.startsWith('[')) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return value;
        }
      }
      return text === '' ? [] : text.split(',').map((stage) => stage.trim());
    },
    z
      .array(
        z.string().regex(DEAL_STAGE, {
          message: 'each deal stage must be 1–100 characters of letters, digits, spaces inside, _ . : or -',
        }),
        { message: 'expected a list of deal stage ids, e.g. ["closedwon"] or "closedwon,12345"' },
      )
      .min(1, { message: 'must name at least one deal stage id, e.g. closedwon' })
      .optional(),
  )
  .transform((stages) => [...new Set(stages ?? ['closedwon'])]);

/**
 * A connector's settings: an object (`cdk.json`) or a JSON object string (`-c erpSettings='{…}'`)
 * of environment variable → string value. Which names are valid is the connector's to say.
 */
const connectorSettings = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  },
  z.record(
    // Names are checked against the connector's own settings (settingsProblems), which can list the right ones.
    z.string(),
    z.union([z.string(), z.number(), z.boolean()]).transform(String),
    { error: (issue) => (issue.code === 'invalid_type' ? 'expected an object of settings, e.g. {"NETSUITE_ACCOUNT_ID": "1234567"}' : undefined) },
  ),
);

/** Runs a setting reader that throws, turning its error into a zod issue. */
function checkedBy<Value>(read: (value: string) => Value) {
  return (value: string, context: z.core.$RefinementCtx<string>): Value => {
    try {
      return read(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message.replace(/^Invalid configuration — [^:]+: /, '') });
      return z.NEVER;
    }
  };
}

/** The org whose Salesforce Outbound Messages are taken: 15 or 18 characters, `00D…`; kept as its 18-character form. */
const salesforceOrgId = z.string().trim().transform(checkedBy((value) => readOrganizationId('salesforceOrgId', value)));

/** Source ranges of Salesforce Outbound Messages: an array (`cdk.json`) or a string separated by spaces or commas (`-c`). */
const salesforceAllowedCidrs = z
  .union([z.array(z.string()), z.string()], { error: 'expected CIDR ranges, e.g. ["13.108.0.0/14", "2a01:111::/32"] or "13.108.0.0/14 2a01:111::/32"' })
  .transform((value) => (Array.isArray(value) ? value : [value]).join(' '))
  .transform(checkedBy((value) => readAllowedSenders('salesforceAllowedCidrs', value).ranges));

const booleanFlag = z.union([z.boolean(), z.stringbool()], {
  message: 'expected true or false',
});

/** The raw context, key by key, before cross-key rules. */
const contextSchema = z
  .object({
    crm: optional(z.enum(CRM_SYSTEMS, { message: `expected one of: ${CRM_SYSTEMS.join(', ')}` })).transform((value) => value ?? 'hubspot'),
    erp: optional(z.enum(ERP_SYSTEMS, { message: `expected one of: ${ERP_SYSTEMS.join(', ')}` })).transform((value) => value ?? 'odoo'),
    wonDealStages,
    hubspotBaseUrl: optional(serviceUrl),
    odooUrl: optional(serviceUrl),
    odooDb: optional(
      z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/, { message: 'expected an Odoo database name (letters, digits, _ . -)' }),
    ),
    odooUsername: optional(z.string().trim().min(1).max(256)),
    alarmEmail: optional(z.email({ message: 'expected an email address' })),
    slackWorkspaceId: optional(
      z.string().regex(/^[A-Z0-9]{1,255}$/, { message: 'expected a Slack workspace id such as T0123ABCD' }),
    ),
    slackChannelId: optional(
      z.string().regex(/^[A-Za-z0-9]{1,255}$/, { message: 'expected a Slack channel id such as C0123ABCD' }),
    ),
    stackName: optional(
      z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, {
        message: 'expected a CloudFormation stack name: a letter, then letters, digits or -, at most 128',
      }),
    ).transform((value) => value ?? 'Harmony'),
    deletionProtection: optional(booleanFlag).transform((value) => value ?? true),
    pipedriveWebhooks: optional(booleanFlag).transform((value) => value ?? false),
    standardWebhooks: optional(booleanFlag).transform((value) => value ?? false),
    callbackJwksUrl: optional(z.url({ protocol: /^https$/, message: 'expected an https URL of the issuer\'s JWKS' })),
    callbackJwtIssuer: optional(z.string().trim().min(1).max(2048)),
    callbackJwtAudience: optional(z.string().trim().min(1).max(2048)),
    salesforceOrgId: optional(salesforceOrgId),
    salesforceAllowedCidrs: optional(salesforceAllowedCidrs),
    crmSettings: optional(connectorSettings),
    erpSettings: optional(connectorSettings),
  })
  .superRefine((context, issues) => {
    const checks = [
      ['crmSettings', context.crmSettings, CRM_CONNECTORS.get(context.crm)],
      ['erpSettings', context.erpSettings, ERP_CONNECTORS.get(context.erp)],
    ] as const;
    for (const [key, settings, definition] of checks) {
      if (settings === undefined || definition === undefined) continue;
      for (const problem of settingsProblems(definition.system, definition.settings, settings)) {
        issues.addIssue({ code: 'custom', path: [key, ...problem.path], message: problem.message });
      }
    }
    const odooKeys = ['odooUrl', 'odooDb', 'odooUsername'] as const;
    const given = odooKeys.filter((key) => context[key] !== undefined);
    if (given.length > 0) {
      for (const key of odooKeys.filter((key) => context[key] === undefined)) {
        issues.addIssue({
          code: 'custom',
          path: [key],
          message: `required together with ${given.join(', ')} (Odoo needs URL, database and username)`,
        });
      }
    }
    const callbackKeys = ['callbackJwksUrl', 'callbackJwtIssuer', 'callbackJwtAudience'] as const;
    const callbackGiven = callbackKeys.filter((key) => context[key] !== undefined);
    if (callbackGiven.length > 0) {
      for (const key of callbackKeys.filter((key) => context[key] === undefined)) {
        issues.addIssue({ code: 'custom', path: [key], message: `required together with ${callbackGiven.join(', ')} (callbacks need JWKS URL, issuer and audience)` });
      }
    }
    if (context.salesforceAllowedCidrs !== undefined && context.salesforceOrgId === undefined) {
      issues.addIssue({ code: 'custom', path: ['salesforceAllowedCidrs'], message: 'set only with salesforceOrgId (the ranges guard the Salesforce route, which the org id turns on)' });
    }
    if ((context.slackWorkspaceId === undefined) !== (context.slackChannelId === undefined)) {
      const missing = context.slackWorkspaceId === undefined ? 'slackWorkspaceId' : 'slackChannelId';
      const other = missing === 'slackWorkspaceId' ? 'slackChannelId' : 'slackWorkspaceId';
      issues.addIssue({
        code: 'custom',
        path: [missing],
        message: `required together with ${other} (AWS Chatbot needs both)`,
      });
    }
  });

/**
 * What is wrong with a connector's settings as far as synth can tell: names the connector
 * does not have, and values its schema refuses. A missing required setting is left to the
 * function's cold start (which names it), so a stack can be synthesized before every
 * vendor detail is known.
 */
function settingsProblems(system: string, schema: z.ZodType, settings: Readonly<Record<string, string>>): { path: string[]; message: string }[] {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
  const known = Object.keys(shape);
  const problems: { path: string[]; message: string }[] = [];
  for (const [name, value] of Object.entries(settings)) {
    const field = shape[name];
    if (field === undefined) {
      problems.push({ path: [name], message: `${system} has no setting ${name} (it has: ${known.join(', ') || 'none'})` });
      continue;
    }
    const parsed = field.safeParse(value);
    if (!parsed.success) problems.push({ path: [name], message: parsed.error.issues[0]?.message ?? 'invalid' });
  }
  return problems;
}

/** Anything with CDK context, e.g. the App or a Stack's node. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

/**
 * Reads and validates Harmony's context keys.
 * @throws Error naming each bad key and what was expected, e.g. `wonDealStages: must name at least one deal stage id`.
 */
export function readHarmonyContext(source: ContextSource): HarmonyContext {
  const raw = Object.fromEntries(HARMONY_CONTEXT_KEYS.map((key) => [key, source.tryGetContext(key)]));
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '(context)';
      return `  ${key}: ${issue.message}`;
    });
    throw new Error(
      `Invalid Harmony CDK context (set keys in cdk.json "context" or with -c key=value):\n${problems.join('\n')}`,
    );
  }
  const context = parsed.data;
  return {
    crm: context.crm,
    erp: context.erp,
    wonDealStages: context.wonDealStages,
    stackName: context.stackName,
    deletionProtection: context.deletionProtection,
    inboundSources: {
      pipedriveWebhooks: context.pipedriveWebhooks,
      standardWebhooks: context.standardWebhooks,
      ...(context.callbackJwksUrl !== undefined && context.callbackJwtIssuer !== undefined && context.callbackJwtAudience !== undefined
        ? { callbackIssuer: { jwksUrl: context.callbackJwksUrl, issuer: context.callbackJwtIssuer, audience: context.callbackJwtAudience } }
        : {}),
      ...(context.salesforceOrgId === undefined
        ? {}
        : {
            salesforce: {
              organizationId: context.salesforceOrgId,
              ...(context.salesforceAllowedCidrs === undefined ? {} : { allowedCidrs: context.salesforceAllowedCidrs }),
            },
          }),
    },
    crmSettings: {
      ...(context.crm === 'hubspot' && context.hubspotBaseUrl !== undefined ? { HUBSPOT_BASE_URL: context.hubspotBaseUrl } : {}),
      ...context.crmSettings,
    },
    erpSettings: {
      ...(context.erp === 'odoo' && context.odooUrl !== undefined && context.odooDb !== undefined && context.odooUsername !== undefined
        ? { ODOO_URL: context.odooUrl, ODOO_DB: context.odooDb, ODOO_USERNAME: context.odooUsername }
        : {}),
      ...context.erpSettings,
    },
    ...(context.hubspotBaseUrl === undefined ? {} : { hubspotBaseUrl: context.hubspotBaseUrl }),
    ...(context.alarmEmail === undefined ? {} : { alarmEmail: context.alarmEmail }),
    ...(context.odooUrl !== undefined && context.odooDb !== undefined && context.odooUsername !== undefined
      ? { odoo: { url: context.odooUrl, database: context.odooDb, username: context.odooUsername } }
      : {}),
    ...(context.slackWorkspaceId !== undefined && context.slackChannelId !== undefined
      ? { slack: { workspaceId: context.slackWorkspaceId, channelId: context.slackChannelId } }
      : {}),
  };
}
