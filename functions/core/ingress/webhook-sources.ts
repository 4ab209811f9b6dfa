/**
 * The CRMs (and other senders) that may deliver webhooks, one entry per route:
 * `/webhooks/{source}` (HubSpot, Pipedrive, Salesforce Outbound Messages), `/webhooks/standard/{mapping}` (any
 * Standard Webhooks sender) and `/callbacks/{system}` (JWT-authenticated pushes):
 * how to check a delivery is genuine, and how its body becomes canonical hub events.
 * A source whose settings are absent is not configured: its route answers 404.
 */
import { checkPipedriveBasicAuth, PipedriveWebhook, toHubEvent as pipedriveHubEvent } from '../../connectors/crm/pipedrive/webhook.ts';
import {
  HubspotWebhookBatch,
  toHubEvents,
  verifyHubspotSignatureV3,
} from '../../connectors/crm/hubspot/webhook.ts';
import { JwksCache } from '../../connectors/callbacks/jwks.ts';
import { bearerToken, verifyJwt } from '../../connectors/callbacks/jwt.ts';
import { CALLBACK_SYSTEM_NAME, OrderStatusCallback, toOrderStatusEvent } from '../../connectors/callbacks/order-status-callback.ts';
import { mapStandardWebhook } from '../../connectors/standard-webhooks/mapping.ts';
import { STANDARD_WEBHOOK_MAPPINGS } from '../../connectors/standard-webhooks/mappings.ts';
import {
  parseSigningSecrets,
  verifyStandardWebhook,
  type SigningSecret,
  type StandardWebhookFailure,
} from '../../connectors/standard-webhooks/signature.ts';
import { PermanentError } from '../errors.ts';
import { readSecret } from '../secrets.ts';
import { parseOrThrow } from '../validation.ts';
import type { HubEvent } from './publish-events.ts';
import type { WebhookAnswers, WebhookRequest } from './webhook-request.ts';
import { withBusinessKeys } from './business-keys.ts';
import { salesforceSource } from './salesforce-source.ts';

/** One sender of webhooks. */
export interface WebhookSource {
  /**
   * Why the route's `{mapping}`/`{system}` names nothing this source serves (answered 404), or
   * undefined. Without it, the source takes only its own path, no sub-path.
   */
  findTarget?(target: string | undefined): string | undefined;
  /** The `WWW-Authenticate` challenge sent with a 401, e.g. `Basic realm="harmony"`. */
  readonly challenge?: string;
  /** Media types (lower case, no parameters) the sender's bodies come as; others are answered 415. @default ['application/json'] */
  readonly mediaTypes?: readonly string[];
  /**
   * The status of a delivery that is not genuine: 401 when other credentials could make it so,
   * 403 when the sender itself is refused (a source address, another customer's account). @default 401
   */
  readonly notGenuineStatus?: 401 | 403;
  /**
   * Why the delivery is not genuine, or undefined when it is. Throws RetryableError when it
   * cannot be told right now (answered 503, so the sender retries).
   */
  verify(request: WebhookRequest, now: Date): Promise<string | undefined>;
  /**
   * Reads the raw body into what `verifyBody` and `toEvents` take; throws PermanentError naming
   * what is wrong and where (answered 400). @default JSON.parse
   */
  parse?(request: WebhookRequest): unknown;
  /** Why the parsed body shows the delivery is not genuine (it names an account this deployment does not serve), or undefined. */
  verifyBody?(body: unknown, request: WebhookRequest): string | undefined;
  /** Validates the parsed body and maps it to hub events; throws PermanentError naming the path. */
  toEvents(body: unknown, request: WebhookRequest, receivedAt: Date): HubEvent[];
  /** How the sender is answered when it expects its own protocol back. @default JSON_ANSWERS */
  readonly answers?: WebhookAnswers;
}

/** Settings the webhook sources read (from the ingest function's environment). */
export interface WebhookSourceSettings {
  readonly HUBSPOT_CLIENT_SECRET?: string | undefined;
  readonly HUBSPOT_SECRET_ARN?: string | undefined;
  /** Pipedrive: the `http_auth_user` the webhook was created with (local). */
  readonly PIPEDRIVE_WEBHOOK_USER?: string | undefined;
  readonly PIPEDRIVE_WEBHOOK_PASSWORD?: string | undefined;
  /** Pipedrive in AWS: JSON secret `{"webhookUser": "…", "webhookPassword": "…"}`. */
  readonly PIPEDRIVE_SECRET_ARN?: string | undefined;
  /** One or more `whsec_` secrets, space-separated (local). */
  readonly STANDARD_WEBHOOKS_SECRET?: string | undefined;
  /** Standard Webhooks in AWS: JSON secret `{"secrets": "whsec_… whsec_…"}`. */
  readonly STANDARD_WEBHOOKS_SECRET_ARN?: string | undefined;
  readonly CALLBACK_JWKS_URL?: string | undefined;
  readonly CALLBACK_JWT_ISSUER?: string | undefined;
  readonly CALLBACK_JWT_AUDIENCE?: string | undefined;
  /** Salesforce Outbound Messages: the org (15 or 18 characters, 00D…) whose messages are taken. */
  readonly SALESFORCE_ORG_ID?: string | undefined;
  /** Salesforce Outbound Messages: source CIDR ranges, space- or comma-separated; unset takes any address. */
  readonly SALESFORCE_ALLOWED_CIDRS?: string | undefined;
  /** Salesforce Outbound Messages: StageName values that mean won besides `IsWon` (the deployment's won stages), a JSON array or comma-separated. */
  readonly SALESFORCE_WON_STAGES?: string | undefined;
}

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

function hubspotSource(settings: WebhookSourceSettings): WebhookSource {
  return {
    async verify(request, now) {
      const clientSecret = await readSecret({
        value: settings.HUBSPOT_CLIENT_SECRET,
        secretArn: settings.HUBSPOT_SECRET_ARN,
        field: 'clientSecret',
        variable: 'HUBSPOT_CLIENT_SECRET',
      });
      const result = verifyHubspotSignatureV3({
        method: request.method,
        uri: request.url,
        body: request.body,
        timestamp: request.headers['x-hubspot-request-timestamp'],
        signature: request.headers['x-hubspot-signature-v3'],
        clientSecret,
        now,
      });
      return result.valid ? undefined : result.reason;
    },
    toEvents(body) {
      return withBusinessKeys(toHubEvents(parseOrThrow(HubspotWebhookBatch, body, 'body')));
    },
  };
}

function pipedriveSource(settings: WebhookSourceSettings): WebhookSource | undefined {
  const user = settings.PIPEDRIVE_WEBHOOK_USER;
  const password = settings.PIPEDRIVE_WEBHOOK_PASSWORD;
  if (isSet(user) !== isSet(password)) {
    throw new Error('Invalid configuration — PIPEDRIVE_WEBHOOK_USER and PIPEDRIVE_WEBHOOK_PASSWORD: set both or neither');
  }
  if (!isSet(user) && !isSet(settings.PIPEDRIVE_SECRET_ARN)) return undefined;
  return {
    challenge: 'Basic realm="harmony", charset="UTF-8"',
    async verify(request) {
      const read = (field: string, value: string | undefined, variable: string) =>
        readSecret({ value, secretArn: settings.PIPEDRIVE_SECRET_ARN, field, variable });
      const expected = {
        user: await read('webhookUser', user, 'PIPEDRIVE_WEBHOOK_USER'),
        password: await read('webhookPassword', password, 'PIPEDRIVE_WEBHOOK_PASSWORD'),
      };
      const failure = checkPipedriveBasicAuth(request.headers.authorization, expected);
      return failure === undefined ? undefined : `Authorization header: ${failure} (Pipedrive webhooks authenticate with HTTP basic auth)`;
    },
    toEvents(body) {
      return withBusinessKeys([pipedriveHubEvent(parseOrThrow(PipedriveWebhook, body, 'body'))]);
    },
  };
}

const STANDARD_HEADER_OF: Readonly<Record<StandardWebhookFailure, string>> = {
  'missing-id': 'webhook-id',
  'invalid-id': 'webhook-id',
  'missing-timestamp': 'webhook-timestamp',
  'invalid-timestamp': 'webhook-timestamp',
  'stale-timestamp': 'webhook-timestamp',
  'future-timestamp': 'webhook-timestamp',
  'missing-signature': 'webhook-signature',
  'no-matching-signature': 'webhook-signature',
};

function standardSource(settings: WebhookSourceSettings): WebhookSource | undefined {
  const local = settings.STANDARD_WEBHOOKS_SECRET;
  if (!isSet(local) && !isSet(settings.STANDARD_WEBHOOKS_SECRET_ARN)) return undefined;
  // Parsed now, so a malformed local setting stops the cold start; a Secrets Manager value is parsed when read.
  const localSecrets = isSet(local) ? parseSigningSecrets('STANDARD_WEBHOOKS_SECRET', local) : undefined;
  const secrets = async (): Promise<SigningSecret[]> =>
    localSecrets ??
    parseSigningSecrets(
      `secret ${settings.STANDARD_WEBHOOKS_SECRET_ARN} field "secrets"`,
      await readSecret({ secretArn: settings.STANDARD_WEBHOOKS_SECRET_ARN, field: 'secrets', variable: 'STANDARD_WEBHOOKS_SECRET' }),
    );
  return {
    findTarget(target) {
      if (target === undefined) return 'name a mapping: POST /webhooks/standard/{mapping}';
      return STANDARD_WEBHOOK_MAPPINGS.has(target) ? undefined : `no Standard Webhooks mapping named "${target}"`;
    },
    async verify(request, now) {
      const failure = verifyStandardWebhook({
        id: request.headers['webhook-id'],
        timestamp: request.headers['webhook-timestamp'],
        signature: request.headers['webhook-signature'],
        body: request.body,
        secrets: await secrets(),
        now,
      });
      return failure === undefined ? undefined : `${STANDARD_HEADER_OF[failure]}: ${failure}`;
    },
    toEvents(body, request) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new PermanentError('invalid body — body: expected a JSON object', { code: 'validation' });
      }
      const mappingName = request.target ?? '';
      const mapping = STANDARD_WEBHOOK_MAPPINGS.get(mappingName);
      if (mapping === undefined) throw new Error(`ingest: mapping "${mappingName}" passed findTarget but is not known`);
      return withBusinessKeys(
        mapStandardWebhook({
          mappingName,
          mapping,
          body,
          webhookId: (request.headers['webhook-id'] ?? '').trim(),
          deliveredAt: new Date(Number((request.headers['webhook-timestamp'] ?? '').trim()) * 1000),
        }),
      );
    },
  };
}

function callbackSource(settings: WebhookSourceSettings): WebhookSource | undefined {
  const names = ['CALLBACK_JWKS_URL', 'CALLBACK_JWT_ISSUER', 'CALLBACK_JWT_AUDIENCE'] as const;
  const present = names.filter((name) => isSet(settings[name]));
  if (present.length === 0) return undefined;
  if (present.length < names.length) {
    const missing = names.filter((name) => !present.includes(name));
    throw new Error(`Invalid configuration — ${missing.map((name) => `${name}: required with ${present.join(' and ')}`).join('; ')}`);
  }
  const keys = new JwksCache({ url: settings.CALLBACK_JWKS_URL!, setting: 'CALLBACK_JWKS_URL' });
  return {
    challenge: 'Bearer realm="harmony"',
    findTarget(target) {
      if (target === undefined) return 'name the calling system: POST /callbacks/{system}';
      return CALLBACK_SYSTEM_NAME.test(target)
        ? undefined
        : `no callback system named "${target}": a system is 1 to 40 lower-case letters, digits, "_" or "-"`;
    },
    async verify(request, now) {
      const bearer = bearerToken(request.headers.authorization);
      if ('reason' in bearer) return `Authorization header: ${bearer.reason} (callbacks authenticate with a bearer JWT)`;
      const result = await verifyJwt(bearer.token, {
        issuer: settings.CALLBACK_JWT_ISSUER!,
        audience: settings.CALLBACK_JWT_AUDIENCE!,
        keys: (kid) => keys.candidates(kid),
        now,
      });
      return result.valid ? undefined : `Authorization bearer token: ${result.reason}`;
    },
    toEvents(body, request) {
      const callback = parseOrThrow(OrderStatusCallback, body, 'body');
      return [toOrderStatusEvent(request.target ?? '', callback)];
    },
  };
}

/** The webhook sources of this deployment, keyed by {@link WebhookRequest.source}. Throws naming a half-set source. */
export function webhookSources(settings: WebhookSourceSettings): ReadonlyMap<string, WebhookSource> {
  const sources = new Map<string, WebhookSource>([['hubspot', hubspotSource(settings)]]);
  const optional: [string, WebhookSource | undefined][] = [
    ['pipedrive', pipedriveSource(settings)],
    ['standard', standardSource(settings)],
    ['callbacks', callbackSource(settings)],
    ['salesforce', salesforceSource(settings)],
  ];
  for (const [name, source] of optional) if (source !== undefined) sources.set(name, source);
  return sources;
}
