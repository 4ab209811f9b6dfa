/**
 * What every connector (one CRM or ERP vendor) declares about itself, so that which
 * vendors a deployment uses is configuration, never a code edit: the registry builds the
 * chosen adapter from its settings and secrets, the CDK stack passes the settings and
 * creates its secret, the local hub starts its sandbox, and the README's connector
 * matrix is written from the same declarations.
 */
import type * as z from 'zod';
import type { CrmPort } from './crm/port.ts';
import type { ErpPort } from './erp/port.ts';
import type { RateBudget, RateLimiter } from '../core/rate-limit.ts';

/** One field of the connector's secret. */
export interface SecretField {
  /** The environment variable that holds it locally, e.g. `NETSUITE_CLIENT_ID`. */
  readonly variable: string;
  /** Whether the connector cannot work without it (some auth modes need only some fields). */
  readonly required: boolean;
  /** What it is, for the README and error messages. */
  readonly description: string;
}

/** What the registry hands to `create` besides settings and secrets. */
export interface ConnectorRuntime {
  /** Socket silence (and whole-call budget) before a call fails as retryable. */
  readonly timeoutMs: number;
  /** Shared per-target request budget (a DynamoDB token bucket in AWS, in-process in unit tests). */
  readonly rateLimiter?: RateLimiter;
}

/** The connector matrix row (README): what the adapter supports and how it is tested. */
export interface ConnectorCapabilities {
  /** How the adapter authenticates, e.g. `OAuth 2.0 client credentials; JWT bearer`. */
  readonly auth: string;
  /** How the vendor tells Harmony of changes, e.g. `Outbound Messages (SOAP)`, `polling`, `—`. */
  readonly inbound: string;
  readonly read: string;
  readonly write: string;
  readonly cancel: string;
  /** The local sandbox, e.g. `local/sandbox/netsuite (REST record API subset)`. */
  readonly sandbox: string;
  /** What the tests run against, e.g. `shared ERP contract suite on the sandbox; recorded fixtures`. */
  readonly testedAgainst: string;
}

/** Everything Harmony needs to know about one vendor's connector. */
export interface ConnectorDefinition<Port, Settings extends z.ZodType = z.ZodType> {
  /** Lower-case system name used in configuration and events, e.g. `netsuite`. */
  readonly system: string;
  readonly kind: Port extends ErpPort ? 'erp' : 'crm';
  /** The vendor's name for people, e.g. `Oracle NetSuite`. */
  readonly label: string;
  /**
   * Non-secret settings, keyed by environment variable (e.g. `NETSUITE_ACCOUNT_ID`).
   * In AWS they come from CDK context (`crmSettings` / `erpSettings`) as Lambda
   * environment; locally from the environment. Validated at synth and at cold start.
   */
  readonly settings: Settings;
  /**
   * The secret's fields, keyed by field name in the Secrets Manager JSON secret
   * (`<SYSTEM>_SECRET_ARN` in AWS); locally each field's environment variable.
   */
  readonly secrets: Readonly<Record<string, SecretField>>;
  readonly capabilities: ConnectorCapabilities;
  /**
   * The vendor's documented request rate per account (the lowest plan's), shared by every
   * instance; absent when the vendor documents none (self-hosted ERPs, file transfer).
   * `CONNECTOR_RATE_LIMITS` overrides it per deployment.
   */
  readonly rateBudget?: RateBudget;
  /**
   * The ERP tells of status changes only when polled (`ErpPort.pollStatusUpdates`): the
   * stack adds the scheduled status poller and its rejected-records queue.
   */
  readonly pollsStatuses?: boolean;
  /** Builds the adapter; throws naming the setting when the configuration cannot work. */
  create(settings: z.infer<Settings>, secrets: Readonly<Record<string, string | undefined>>, runtime: ConnectorRuntime): Port;
}

/** A CRM connector. */
export type CrmConnectorDefinition<Settings extends z.ZodType = z.ZodType> = ConnectorDefinition<CrmPort, Settings> & { readonly kind: 'crm' };
/** An ERP connector. */
export type ErpConnectorDefinition<Settings extends z.ZodType = z.ZodType> = ConnectorDefinition<ErpPort, Settings> & { readonly kind: 'erp' };

/** `NETSUITE_SECRET_ARN` for `netsuite`, `BUSINESS_CENTRAL_SECRET_ARN` for `business-central`. */
export function secretArnVariable(system: string): string {
  return `${system.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SECRET_ARN`;
}
