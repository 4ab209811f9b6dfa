import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { TriggerSettings } from '../functions/core/flow.ts';
import { HarmonyAlarms } from './constructs/alarms.ts';
import { ConnectorSecrets } from './constructs/connector-secrets.ts';
import { EventSchemas } from './constructs/event-schemas.ts';
import { ErpStatusPoller } from './constructs/erp-status-poller.ts';
import { CRM_CONNECTORS, ERP_CONNECTORS } from '../functions/connectors/all-connectors.ts';
import { secretArnVariable } from '../functions/connectors/definition.ts';
import { HarmonyDashboard } from './constructs/dashboard.ts';
import { DataKey } from './constructs/data-key.ts';
import { HubBus } from './constructs/hub-bus.ts';
import { HarmonyStores } from './constructs/stores.ts';
import { type CallbackIssuer, type SalesforceOutboundMessages, WebhookIngress } from './constructs/webhook-ingress.ts';
import { FlowPipeline } from './constructs/flow-pipeline.ts';
import { flows } from '../flows/index.ts';
import type { FlowDefinition } from '../functions/core/flow.ts';
import type { CrmSystem, ErpSystem, OdooConnection, SlackChannel } from './harmony-context.ts';

/** Props of the Harmony stack (the CDK app fills them from validated context). */
export interface HarmonyStackProps extends StackProps {
  /** @default 'hubspot' */
  readonly crm?: CrmSystem;
  /** @default 'odoo' */
  readonly erp?: ErpSystem;
  /** Settings flow triggers depend on (the CRM is the stack's `crm`). @default { wonDealStages: ['closedwon'] } */
  readonly triggerSettings?: Omit<TriggerSettings, 'crm'>;
  /** HubSpot API base URL override. @default - the adapter's default (api.hubapi.com) */
  readonly hubspotBaseUrl?: string;
  /** Odoo server, database and login. @default - unset: ERP steps fail at cold start naming ODOO_URL */
  readonly odoo?: OdooConnection;
  /** The CRM connector's non-secret settings by environment variable. @default {} */
  readonly crmSettings?: Readonly<Record<string, string>>;
  /** The ERP connector's non-secret settings by environment variable. @default {} */
  readonly erpSettings?: Readonly<Record<string, string>>;
  /** Email subscribed to the alarm topic. @default - no email subscription */
  readonly alarmEmail?: string;
  /** Slack channel for AWS Chatbot. @default - alarms go to Slack through the notifier Lambda */
  readonly slackChannel?: SlackChannel;
  /** Deletion protection and retention of the DynamoDB tables. @default true */
  readonly deletionProtection?: boolean;
  /** Inbound routes besides HubSpot's, each off unless asked for. @default - none */
  readonly inboundSources?: InboundSources;
}

/** The opt-in inbound routes of a deployment. */
export interface InboundSources {
  /** `POST /webhooks/pipedrive` (basic-auth credentials in their own secret). */
  readonly pipedriveWebhooks?: boolean;
  /** `POST /webhooks/standard/{mapping}` (whsec_ secrets in their own secret). */
  readonly standardWebhooks?: boolean;
  /** `POST /callbacks/{system}`, bearer JWTs of this issuer. */
  readonly callbackIssuer?: CallbackIssuer;
  /** `POST /webhooks/salesforce`: Outbound Messages of this org (won stages are the stack's `wonDealStages`). */
  readonly salesforce?: Omit<SalesforceOutboundMessages, 'wonStages'>;
}

/**
 * Harmony in one stack: the data key, the hub bus with its archive, the idempotency and audit
 * tables, the connector secrets, the webhook ingress behind WAF, alarms and the dashboard.
 * Flow pipelines (one per entry of `flows/index.ts`) are added on top; everything they need is
 * a readonly property here.
 */
export class HarmonyStack extends Stack {
  /** One pipeline (rule → queue → starter → saga) per flow of `flows/index.ts`, by flow name. */
  readonly pipelines: ReadonlyMap<string, FlowPipeline>;
  /** The CRM this deployment talks to. */
  readonly crm: CrmSystem;
  /** The ERP this deployment talks to. */
  readonly erp: ErpSystem;
  /** Customer managed key for tables, queues, the alarm topic, secrets and log groups. */
  readonly dataKey: DataKey;
  /** The hub bus and its archive. */
  readonly hubBus: HubBus;
  /** Idempotency and audit tables. */
  readonly stores: HarmonyStores;
  /** Secrets the connectors read (`hubspot`, `odoo`, `slack`); grant with `grantRead`. */
  readonly secrets: ConnectorSecrets;
  /** The secrets step runners read (CRM and ERP credentials), for `FlowPipelineProps.connectorSecrets`. */
  readonly connectorSecrets: readonly ISecret[];
  /** `POST /webhooks/{source}`, the ingest Lambda and the WAF in front. */
  readonly ingress: WebhookIngress;
  /** Alarm topic and the `watch…` methods. */
  readonly alarms: HarmonyAlarms;
  /** The operations dashboard and its `add…` methods. */
  readonly dashboard: HarmonyDashboard;
  /** Settings the flows' trigger patterns are built from. */
  readonly triggerSettings: TriggerSettings;
  /**
   * Non-secret connector settings for step functions, as environment variables: CRM_SYSTEM,
   * ERP_SYSTEM, HUBSPOT_BASE_URL (when set), HUBSPOT_SECRET_ARN, ODOO_URL, ODOO_DB,
   * ODOO_USERNAME (when Odoo is configured), ODOO_SECRET_ARN.
   */
  readonly connectorEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: HarmonyStackProps = {}) {
    super(scope, id, {
      description: 'Harmony: CRM ↔ ERP integration hub (webhooks, EventBridge, Step Functions sagas)',
      ...props,
    });
    this.crm = props.crm ?? 'hubspot';
    this.erp = props.erp ?? 'odoo';
    const wonDealStages = props.triggerSettings?.wonDealStages ?? ['closedwon'];
    if (wonDealStages.length === 0 || wonDealStages.some((stage) => stage.trim() === '')) {
      throw new Error(`HarmonyStack ${id}: triggerSettings.wonDealStages must name at least one non-empty deal stage`);
    }
    this.triggerSettings = { wonDealStages: [...wonDealStages], crm: this.crm };

    this.dataKey = new DataKey(this, 'DataKey');
    const key = this.dataKey.key;
    this.hubBus = new HubBus(this, 'HubBus');
    new EventSchemas(this, 'EventSchemas', { registryName: `${this.stackName}-hub-events` });
    this.stores = new HarmonyStores(this, 'Stores', { key, deletionProtection: props.deletionProtection ?? true });
    // A Pipedrive deployment hears of won deals through Pipedrive's webhooks: the route comes with the CRM.
    const inbound = { ...props.inboundSources, ...(this.crm === 'pipedrive' ? { pipedriveWebhooks: true } : {}) };
    const crmConnector = CRM_CONNECTORS.get(this.crm);
    const erpConnector = ERP_CONNECTORS.get(this.erp);
    if (crmConnector === undefined || erpConnector === undefined) {
      throw new Error(`HarmonyStack ${id}: no connector for ${crmConnector === undefined ? `CRM ${this.crm}` : `ERP ${this.erp}`}`);
    }
    this.secrets = new ConnectorSecrets(this, 'Secrets', {
      key,
      crm: crmConnector,
      erp: erpConnector,
      ...(inbound.pipedriveWebhooks === true ? { pipedriveWebhooks: true } : {}),
      ...(inbound.standardWebhooks === true ? { standardWebhooks: true } : {}),
    });

    this.connectorSecrets = [this.secrets.crm, this.secrets.erp];
    this.connectorEnvironment = {
      CRM_SYSTEM: this.crm,
      ERP_SYSTEM: this.erp,
      ...(props.hubspotBaseUrl === undefined || this.crm !== 'hubspot' ? {} : { HUBSPOT_BASE_URL: props.hubspotBaseUrl }),
      ...(props.odoo === undefined || this.erp !== 'odoo'
        ? {}
        : { ODOO_URL: props.odoo.url, ODOO_DB: props.odoo.database, ODOO_USERNAME: props.odoo.username }),
      ...props.crmSettings,
      ...props.erpSettings,
      [secretArnVariable(this.crm)]: this.secrets.crm.secretArn,
      [secretArnVariable(this.erp)]: this.secrets.erp.secretArn,
    };

    this.ingress = new WebhookIngress(this, 'Ingress', {
      bus: this.hubBus.bus,
      idempotencyTable: this.stores.idempotencyTable,
      auditTable: this.stores.auditTable,
      hubspotSecret: this.secrets.hubspot,
      ...(this.secrets.pipedrive === undefined ? {} : { pipedriveSecret: this.secrets.pipedrive }),
      ...(this.secrets.standardWebhooks === undefined ? {} : { standardWebhooksSecret: this.secrets.standardWebhooks }),
      ...(inbound.callbackIssuer === undefined ? {} : { callbackIssuer: inbound.callbackIssuer }),
      ...(inbound.salesforce === undefined
        ? {}
        : { salesforceOutboundMessages: { ...inbound.salesforce, wonStages: this.triggerSettings.wonDealStages } }),
      key,
    });

    this.alarms = new HarmonyAlarms(this, 'Alarms', {
      key,
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
      ...(props.slackChannel === undefined ? {} : { slackChannel: props.slackChannel }),
      slackWebhookSecret: this.secrets.slack,
    });
    this.alarms.watchApi(this.ingress.api, { name: 'webhook-api' });
    this.alarms.watchFunction(this.ingress.ingestFunction, { name: 'ingest' });

    this.dashboard = new HarmonyDashboard(this, 'Dashboard');
    this.dashboard.addApi(this.ingress.api, 'Webhook API');
    this.dashboard.addFunction(this.ingress.ingestFunction, 'Ingest');
    if (this.alarms.notifier !== undefined) this.dashboard.addFunction(this.alarms.notifier, 'Slack notifier');
    if (this.alarms.notifierDeadLetterQueue !== undefined) {
      this.dashboard.addQueue(this.alarms.notifierDeadLetterQueue, 'Slack notifier DLQ');
    }

    if (erpConnector.pollsStatuses === true) {
      const statuses = new ErpStatusPoller(this, 'ErpStatusPoller', {
        bus: this.hubBus.bus,
        idempotencyTable: this.stores.idempotencyTable,
        auditTable: this.stores.auditTable,
        key,
        connectorEnvironment: this.connectorEnvironment,
        erpSecret: this.secrets.erp,
      });
      this.alarms.watchQueue(statuses.rejectedQueue, { isDeadLetter: true, name: 'erp-rejected-records' });
      this.alarms.watchFunction(statuses.poller, { name: 'erp-status-poller' });
      this.dashboard.addQueue(statuses.rejectedQueue, 'ERP rejected records');
    }

    this.pipelines = new Map(
      Object.values(flows).map((flow) => [flow.name, this.addFlowPipeline(flow)] as const),
    );

    new CfnOutput(this, 'WebhookBaseUrl', {
      description: 'Point CRM webhooks at <this URL><source>, e.g. …/webhooks/hubspot',
      value: this.ingress.webhookBaseUrl,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'HubBusName', { value: this.hubBus.bus.eventBusName });
    new CfnOutput(this, 'HubspotSecretArn', {
      description: 'Put {"accessToken":"…","clientSecret":"…"} here after the first deploy',
      value: this.secrets.hubspot.secretArn,
    });
    if (this.secrets.odoo !== undefined) {
      new CfnOutput(this, 'OdooSecretArn', {
        description: 'Put {"apiKey":"…"} here after the first deploy',
        value: this.secrets.odoo.secretArn,
      });
    }
    for (const connector of [crmConnector, erpConnector].filter((each) => each.system !== 'hubspot' && each.system !== 'odoo')) {
      new CfnOutput(this, `${connector.label.replace(/[^A-Za-z0-9]/g, '')}SecretArn`, {
        description: `Put ${JSON.stringify(Object.fromEntries(Object.keys(connector.secrets).map((field) => [field, '…'])))} here after the first deploy`,
        value: (connector.kind === 'crm' ? this.secrets.crm : this.secrets.erp).secretArn,
      });
    }
    new CfnOutput(this, 'SlackSecretArn', {
      description: 'Put {"webhookUrl":"https://hooks.slack.com/services/…"} here after the first deploy',
      value: this.secrets.slack.secretArn,
    });
  }

  /** Adds one flow's pipeline, with alarms on its queues, functions and state machine, and dashboard widgets. */
  private addFlowPipeline(flow: FlowDefinition<any>): FlowPipeline {
    const id = flow.name.replace(/(^|-)([a-z0-9])/g, (_match, _dash, letter: string) => letter.toUpperCase());
    const pipeline = new FlowPipeline(this, `${id}Pipeline`, {
      flow,
      bus: this.hubBus.bus,
      triggerSettings: this.triggerSettings,
      idempotencyTable: this.stores.idempotencyTable,
      auditTable: this.stores.auditTable,
      encryptionKey: this.dataKey.key,
      connectorEnvironment: this.connectorEnvironment,
      connectorSecrets: this.connectorSecrets,
    });
    this.alarms.watchQueue(pipeline.queue, { name: `${flow.name}-queue` });
    this.alarms.watchQueue(pipeline.deadLetterQueue, { isDeadLetter: true, name: `${flow.name}-dlq` });
    this.alarms.watchQueue(pipeline.ruleDeadLetterQueue, { isDeadLetter: true, name: `${flow.name}-rule-dlq` });
    this.alarms.watchQueue(pipeline.compensationDeadLetterQueue, { isDeadLetter: true, name: `${flow.name}-compensation-dlq` });
    this.alarms.watchStateMachine(pipeline.stateMachine, { name: flow.name });
    this.alarms.watchFunction(pipeline.starter, { name: `${flow.name}-starter` });
    // Step errors are the saga's control flow (a 429 retried, an ERP rejection compensated) and
    // failed executions have their own alarm; only a storm of them is worth waking someone.
    this.alarms.watchFunction(pipeline.stepRunner, { name: `${flow.name}-steps`, errorThreshold: 10 });
    this.dashboard.addQueue(pipeline.queue, `${flow.name} queue`);
    this.dashboard.addQueue(pipeline.deadLetterQueue, `${flow.name} DLQ`);
    this.dashboard.addQueue(pipeline.compensationDeadLetterQueue, `${flow.name} compensation DLQ`);
    this.dashboard.addStateMachine(pipeline.stateMachine, flow.name);
    this.dashboard.addFunction(pipeline.starter, `${flow.name} starter`);
    this.dashboard.addFunction(pipeline.stepRunner, `${flow.name} steps`);
    return pipeline;
  }
}
