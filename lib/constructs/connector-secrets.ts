import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeVendorIssuedSecret } from '../nag-acknowledgements.ts';

/** Props of the connector secrets. */
export interface ConnectorSecretsProps {
  /** Customer managed key the secrets are encrypted with. */
  readonly key: IKey;
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
  /** Odoo: `{"apiKey": "<API key of the odooUsername login>"}`. */
  readonly odoo: Secret;
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
    this.odoo = secret('Odoo', 'Harmony Odoo connector. Put JSON {"apiKey":"<API key of the Odoo login>"}');
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
