import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ConnectorDefinition } from '../../functions/connectors/definition.ts';
import { acknowledgeVendorIssuedSecret } from '../nag-acknowledgements.ts';

/** `{"clientId":"…","privateKey":"…"}` for the description of a connector's secret. */
function secretTemplate(connector: ConnectorSecretShape): string {
  return `{${Object.keys(connector.secrets).map((field) => `"${field}":"…"`).join(',')}}`;
}

/** What the secrets need to know of a connector: its name and its secret's fields. */
export type ConnectorSecretShape = Pick<ConnectorDefinition<unknown>, 'system' | 'label' | 'secrets'>;

/** Props of the connector secrets. */
export interface ConnectorSecretsProps {
  /** Customer managed key the secrets are encrypted with. */
  readonly key: IKey;
  /** The deployment's CRM connector. @default - HubSpot's secret only */
  readonly crm?: ConnectorSecretShape;
  /** The deployment's ERP connector. @default Odoo */
  readonly erp?: ConnectorSecretShape;
  /** Create the secret of Pipedrive's webhook basic auth (`pipedrive`). @default false */
  readonly pipedriveWebhooks?: boolean;
  /** Create the secret of the Standard Webhooks signing secrets (`standardWebhooks`). @default false */
  readonly standardWebhooks?: boolean;
}

/**
 * The Secrets Manager secrets Harmony's connectors read. The stack creates them with a
 * random placeholder value; the operator puts the real JSON in after the first deploy, e.g.
 * `aws secretsmanager put-secret-value --secret-id <arn> --secret-string '{"apiKey":"…"}'`.
 * Until then the functions that read them fail closed (a placeholder is not valid JSON).
 * Functions get access with `grantRead`, one secret at a time.
 */
export class ConnectorSecrets extends Construct {
  /** HubSpot: `{"accessToken": "<private app token>", "clientSecret": "<app client secret, signs webhooks>"}`. */
  readonly hubspot: Secret;
  /** Odoo: `{"apiKey": "<API key of the odooUsername login>"}` (when the ERP is Odoo). */
  readonly odoo?: Secret;
  /** The CRM connector's secret (HubSpot's is `hubspot`, which the webhook route also reads). */
  readonly crm: Secret;
  /** The ERP connector's secret, its fields as the connector declares them. */
  readonly erp: Secret;
  /** Slack: `{"webhookUrl": "https://hooks.slack.com/services/…"}` (incoming webhook for alarms and reports). */
  readonly slack: Secret;
  /** Pipedrive webhooks: `{"webhookUser": "…", "webhookPassword": "…"}`, the basic auth the webhook was created with. Only with `pipedriveWebhooks`. */
  readonly pipedrive?: Secret;
  /** Standard Webhooks: `{"secrets": "whsec_… whsec_…"}`, one or more signing secrets, space-separated (two while rotating). Only with `standardWebhooks`. */
  readonly standardWebhooks?: Secret;

  constructor(scope: Construct, id: string, props: ConnectorSecretsProps) {
    super(scope, id);
    const secret = (secretId: string, description: string): Secret => {
      const created = new Secret(this, secretId, { description, encryptionKey: props.key });
      acknowledgeVendorIssuedSecret(created);
      return created;
    };
    this.hubspot = secret(
      'Hubspot',
      'Harmony HubSpot connector. Put JSON {"accessToken":"<private app token>","clientSecret":"<app client secret>"}',
    );
    const erp = props.erp ?? { system: 'odoo', label: 'Odoo', secrets: {} };
    if (erp.system === 'odoo') {
      this.odoo = secret('Odoo', 'Harmony Odoo connector. Put JSON {"apiKey":"<API key of the Odoo login>"}');
      this.erp = this.odoo;
    } else {
      this.erp = secret(constructIdOf(erp.system), `Harmony ${erp.label} connector. Put JSON ${secretTemplate(erp)}`);
    }
    const crm = props.crm;
    this.crm =
      crm === undefined || crm.system === 'hubspot'
        ? this.hubspot
        : secret(constructIdOf(crm.system), `Harmony ${crm.label} connector. Put JSON ${secretTemplate(crm)}`);
    this.slack = secret(
      'Slack',
      'Harmony Slack notifications. Put JSON {"webhookUrl":"https://hooks.slack.com/services/..."}',
    );
    if (props.pipedriveWebhooks === true) {
      this.pipedrive = secret(
        'PipedriveWebhooks',
        'Harmony Pipedrive webhooks. Put JSON {"webhookUser":"<http_auth_user>","webhookPassword":"<http_auth_password>"}',
      );
    }
    if (props.standardWebhooks === true) {
      this.standardWebhooks = secret(
        'StandardWebhooks',
        'Harmony Standard Webhooks. Put JSON {"secrets":"whsec_<base64> [whsec_<base64> while rotating]"}',
      );
    }
  }
}

/** `business-central` → `BusinessCentral`. */
function constructIdOf(system: string): string {
  return system.replace(/(^|-)([a-z0-9])/g, (_match, _dash, letter: string) => letter.toUpperCase());
}
