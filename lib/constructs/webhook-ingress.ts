import { type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  JsonSchemaType,
  JsonSchemaVersion,
  type IResource,
  LambdaIntegration,
  type Method,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  acknowledgeHarmonyFunctionBaseline,
  acknowledgeKeyGrantActions,
  acknowledgeTableIndexGrant,
} from '../nag-acknowledgements.ts';
import { HarmonyFunction } from './harmony-function.ts';
import { readAllowedSenders, readOrganizationId } from '../../functions/connectors/crm/salesforce/outbound-message-origin.ts';

/** Handler module of the ingest Lambda. */
export const INGEST_ENTRY = 'functions/handlers/ingest.ts';

/** Who may push to `POST /callbacks/{system}`: bearer JWTs of one issuer, verified against its JWKS. */
export interface CallbackIssuer {
  /** The issuer's JWKS URL; https (it is fetched from the function). */
  readonly jwksUrl: string;
  /** The `iss` every token must carry. */
  readonly issuer: string;
  /** A value the tokens' `aud` must include. */
  readonly audience: string;
}

/** Who may send Salesforce Outbound Messages to `POST /webhooks/salesforce`. None of it is secret. */
export interface SalesforceOutboundMessages {
  /** The org whose messages are taken, by its 15- or 18-character id (`00D…`, Setup → Company Information). */
  readonly organizationId: string;
  /**
   * The source ranges (CIDR, IPv4 or IPv6) messages may come from: Salesforce's published ranges.
   * @default - any address (the org id alone decides)
   */
  readonly allowedCidrs?: readonly string[];
  /**
   * Opportunity StageName values that mean won besides `IsWon` (the deployment's won deal stages).
   * @default - a win is recognised by `IsWon` alone
   */
  readonly wonStages?: readonly string[];
}

/** Props of the webhook ingress. */
export interface WebhookIngressProps {
  /** The hub bus accepted events are put on. */
  readonly bus: IEventBus;
  /** Where vendor event ids are recorded for deduplication. */
  readonly idempotencyTable: ITable;
  /** Where each accepted or rejected webhook is recorded. */
  readonly auditTable: ITable;
  /** JSON secret with HubSpot's `clientSecret`, which signs HubSpot webhooks (v3 signature). */
  readonly hubspotSecret: ISecret;
  /**
   * JSON secret `{"webhookUser", "webhookPassword"}`: the basic auth of Pipedrive's webhook; turns on
   * `POST /webhooks/pipedrive`.
   * @default - Pipedrive webhooks are not configured (404)
   */
  readonly pipedriveSecret?: ISecret;
  /**
   * JSON secret `{"secrets": "whsec_… whsec_…"}`; adds `POST /webhooks/standard/{mapping}`.
   * @default - no Standard Webhooks route
   */
  readonly standardWebhooksSecret?: ISecret;
  /**
   * The issuer whose bearer JWTs may call back; adds `POST /callbacks/{system}`.
   * @default - no callback route
   */
  readonly callbackIssuer?: CallbackIssuer;
  /**
   * Takes Salesforce Outbound Messages (SOAP) on `POST /webhooks/salesforce`, an existing route.
   * @default - Salesforce messages are not configured (404)
   */
  readonly salesforceOutboundMessages?: SalesforceOutboundMessages;
  /** Customer managed key for the access-log and function log groups (its policy must allow CloudWatch Logs). */
  readonly key: IKey;
  /** Stage name, the first segment of the webhook path. @default 'v1' */
  readonly stageName?: string;
  /** Steady-state requests per second the stage accepts before answering 429. @default 50 */
  readonly throttlingRateLimit?: number;
  /** Requests the stage accepts in a burst above the steady rate. @default 100 */
  readonly throttlingBurstLimit?: number;
  /** Requests one IP address may make in any 5 minutes before WAF blocks it (10–2,000,000,000). @default 1000 */
  readonly requestsPerIpPer5Minutes?: number;
  /** Retention of the access logs. @default RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: RetentionDays;
  /**
   * Public base URL when a custom domain or proxy sits in front of the API; HubSpot signs the
   * full URL it called, so the handler must verify against that one.
   * @default - the handler derives the URL from the request it received
   */
  readonly publicBaseUrl?: string;
}

/**
 * The HTTPS front door for CRM/ERP webhooks: `POST /webhooks/{source}` on a regional API
 * Gateway REST API, proxied to the ingest Lambda, which verifies the vendor signature,
 * validates, deduplicates and puts the event on the hub bus before answering 2xx.
 *
 * A REST API rather than an HTTP API because only REST APIs can be associated with a WAFv2
 * web ACL (per-IP rate limit and AWS managed rules in front of the function), and they bring
 * request validation, usage plans and per-stage X-Ray tracing. TLS is API Gateway's own
 * HTTPS endpoint; there is no plain-HTTP listener.
 */
export class WebhookIngress extends Construct {
  /** The REST API. */
  readonly api: RestApi;
  /** The ingest Lambda behind `POST /webhooks/{source}`. */
  readonly ingestFunction: HarmonyFunction;
  /** Access logs of the stage (one JSON line per request, no bodies or headers). */
  readonly accessLogs: LogGroup;
  /** The web ACL in front of the stage. */
  readonly webAcl: CfnWebACL;
  /** Webhook base URL: a vendor posts to `<webhookBaseUrl><source>`, e.g. `…/v1/webhooks/hubspot`. */
  readonly webhookBaseUrl: string;

  constructor(scope: Construct, id: string, props: WebhookIngressProps) {
    super(scope, id);
    const stageName = props.stageName ?? 'v1';
    const rateLimit = props.throttlingRateLimit ?? 50;
    const burstLimit = props.throttlingBurstLimit ?? 100;
    const perIpLimit = props.requestsPerIpPer5Minutes ?? 1000;
    if (!/^[A-Za-z0-9_]{1,128}$/.test(stageName)) {
      throw new Error(`WebhookIngress ${id}: stageName "${stageName}" must be 1–128 of A-Za-z0-9_`);
    }
    if (!Number.isFinite(rateLimit) || rateLimit <= 0) {
      throw new Error(`WebhookIngress ${id}: throttlingRateLimit must be a positive number, got ${rateLimit}`);
    }
    if (!Number.isInteger(burstLimit) || burstLimit < 1) {
      throw new Error(`WebhookIngress ${id}: throttlingBurstLimit must be a positive integer, got ${burstLimit}`);
    }
    const publicBaseUrl = props.publicBaseUrl;
    if (publicBaseUrl !== undefined && !Token.isUnresolved(publicBaseUrl) && !/^https:\/\/[^/]+/.test(publicBaseUrl)) {
      throw new Error(`WebhookIngress ${id}: publicBaseUrl must be an https:// URL, got "${props.publicBaseUrl}"`);
    }
    const callbackIssuer = props.callbackIssuer;
    if (callbackIssuer !== undefined) {
      const { jwksUrl, issuer, audience } = callbackIssuer;
      if (!Token.isUnresolved(jwksUrl) && !/^https:\/\/[^/]+/.test(jwksUrl)) {
        throw new Error(`WebhookIngress ${id}: callbackIssuer.jwksUrl must be an https:// URL, got "${jwksUrl}"`);
      }
      if (issuer.trim() === '' || audience.trim() === '') {
        throw new Error(`WebhookIngress ${id}: callbackIssuer.issuer and callbackIssuer.audience must not be empty`);
      }
    }
    const salesforce = props.salesforceOutboundMessages;
    if (salesforce !== undefined) {
      const problem = (check: () => unknown): string | undefined => {
        try {
          check();
          return undefined;
        } catch (error) {
          return (error as Error).message.replace(/^Invalid configuration — /, '');
        }
      };
      const organizationProblem = Token.isUnresolved(salesforce.organizationId)
        ? undefined
        : problem(() => readOrganizationId('salesforceOutboundMessages.organizationId', salesforce.organizationId));
      const cidrs = salesforce.allowedCidrs ?? [];
      const cidrProblem = cidrs.some((cidr) => Token.isUnresolved(cidr))
        ? undefined
        : problem(() => cidrs.length > 0 && readAllowedSenders('salesforceOutboundMessages.allowedCidrs', cidrs.join(' ')));
      if (organizationProblem !== undefined || cidrProblem !== undefined) {
        throw new Error(`WebhookIngress ${id}: ${organizationProblem ?? cidrProblem}`);
      }
    }
    if (!Number.isInteger(perIpLimit) || perIpLimit < 10 || perIpLimit > 2_000_000_000) {
      throw new Error(
        `WebhookIngress ${id}: requestsPerIpPer5Minutes must be an integer from 10 to 2000000000, got ${perIpLimit}`,
      );
    }

    this.ingestFunction = new HarmonyFunction(this, 'IngestFunction', {
      entry: INGEST_ENTRY,
      description: 'Verifies, validates and deduplicates CRM/ERP webhooks and puts them on the hub bus',
      // API Gateway gives up after 29 s; vendors retry on timeout, so answer or fail well before.
      timeout: Duration.seconds(10),
      memorySize: 512,
      logKey: props.key,
      serviceName: 'ingest',
      environment: {
        HUB_BUS_NAME: props.bus.eventBusName,
        IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
        AUDIT_TABLE: props.auditTable.tableName,
        HUBSPOT_SECRET_ARN: props.hubspotSecret.secretArn,
        ...(props.pipedriveSecret === undefined ? {} : { PIPEDRIVE_SECRET_ARN: props.pipedriveSecret.secretArn }),
        ...(props.standardWebhooksSecret === undefined
          ? {}
          : { STANDARD_WEBHOOKS_SECRET_ARN: props.standardWebhooksSecret.secretArn }),
        ...(callbackIssuer === undefined
          ? {}
          : {
              CALLBACK_JWKS_URL: callbackIssuer.jwksUrl,
              CALLBACK_JWT_ISSUER: callbackIssuer.issuer,
              CALLBACK_JWT_AUDIENCE: callbackIssuer.audience,
            }),
        ...(salesforce === undefined
          ? {}
          : {
              SALESFORCE_ORG_ID: salesforce.organizationId,
              ...(salesforce.allowedCidrs === undefined || salesforce.allowedCidrs.length === 0
                ? {}
                : { SALESFORCE_ALLOWED_CIDRS: salesforce.allowedCidrs.join(' ') }),
              ...(salesforce.wonStages === undefined || salesforce.wonStages.length === 0
                ? {}
                : { SALESFORCE_WON_STAGES: JSON.stringify(salesforce.wonStages) }),
            }),
        ...(props.publicBaseUrl === undefined ? {} : { PUBLIC_BASE_URL: props.publicBaseUrl }),
      },
    });
    props.bus.grantPutEventsTo(this.ingestFunction);
    props.idempotencyTable.grantReadWriteData(this.ingestFunction);
    props.auditTable.grantWriteData(this.ingestFunction);
    props.hubspotSecret.grantRead(this.ingestFunction);
    props.pipedriveSecret?.grantRead(this.ingestFunction);
    props.standardWebhooksSecret?.grantRead(this.ingestFunction);
    acknowledgeHarmonyFunctionBaseline(this.ingestFunction);
    acknowledgeKeyGrantActions(this.ingestFunction);
    const auditTableResource = props.auditTable.node.defaultChild;
    if (auditTableResource !== undefined) {
      acknowledgeTableIndexGrant(this.ingestFunction, Stack.of(this).getLogicalId(auditTableResource as CfnElement));
    }

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      encryptionKey: props.key,
      retention: props.accessLogRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new RestApi(this, 'Api', {
      // API Gateway metrics are keyed by API name: one per stack, so two stacks never share graphs or alarms.
      restApiName: `${Stack.of(this).stackName}-webhooks`,
      description: 'Harmony webhook ingress: POST /webhooks/{source}',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // The account-wide API Gateway logging role is not ours to set; access logs need no role.
      cloudWatchRole: false,
      failOnWarnings: true,
      deployOptions: {
        stageName,
        tracingEnabled: true,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        loggingLevel: MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
        metricsEnabled: false,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: accessLogFormat(),
      },
    });

    const validator = new RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      requestValidatorName: 'source-and-json-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    // A JSON body must be an object or array, or it is refused before a Lambda runs. Other media
    // types (Salesforce's SOAP text/xml) have no model, so API Gateway passes them to the function,
    // which accepts each source's own media type only. Signatures are checked in the function, on
    // the exact bytes received.
    const jsonBody = this.api.addModel('JsonBody', {
      contentType: 'application/json',
      modelName: 'WebhookJsonBody',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'WebhookJsonBody',
        type: [JsonSchemaType.OBJECT, JsonSchemaType.ARRAY],
      },
    });
    const integration = new LambdaIntegration(this.ingestFunction, { proxy: true, allowTestInvoke: false });
    const webhooks = this.api.root.addResource('webhooks');
    const post = (resource: IResource, parameter: string) =>
      resource.addMethod('POST', integration, {
        authorizationType: AuthorizationType.NONE,
        requestValidator: validator,
        requestParameters: { [`method.request.path.${parameter}`]: true },
        requestModels: { 'application/json': jsonBody },
      });
    const signatureReason =
      'Webhooks come from CRM/ERP vendors (HubSpot, Standard Webhooks senders…) that cannot sign requests with ' +
      'AWS IAM or present Cognito tokens; each request is authenticated in the ingest function by the ' +
      "vendor's HMAC signature over the exact body and URL, with a 5-minute replay window, behind WAF " +
      '(Salesforce Outbound Messages, which carry no signature, by the org id in the message and, where configured, ' +
      "Salesforce's published source ranges).";
    const acknowledge = (method: Method, reason: string) =>
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason }, { id: 'AwsSolutions-COG4', reason });
    acknowledge(post(webhooks.addResource('{source}'), 'source'), signatureReason);
    if (props.standardWebhooksSecret !== undefined) {
      acknowledge(post(webhooks.addResource('standard').addResource('{mapping}'), 'mapping'), signatureReason);
    }
    if (callbackIssuer !== undefined) {
      acknowledge(
        post(this.api.root.addResource('callbacks').addResource('{system}'), 'system'),
        'Callbacks come from ERP systems and middleware that authenticate with a bearer JWT from their own issuer, ' +
          "not AWS IAM or Cognito; the ingest function verifies each token's signature against the issuer's JWKS " +
          '(asymmetric algorithms only), its issuer, audience and expiry, behind WAF.',
      );
    }
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Execution logging needs the account-wide API Gateway CloudWatch role, a regional singleton a stack ' +
        "deployed into a customer's account should not take over; every request is in the JSON access log " +
        '(status, latency, integration and WAF errors) and the ingest function logs its own errors.',
    });

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Harmony webhook ingress: per-IP rate limit and AWS common rule set',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('HarmonyWebhookAcl'),
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: { limit: perIpLimit, aggregateKeyType: 'IP', evaluationWindowSec: 300 },
          },
          visibilityConfig: visibility('HarmonyWebhookRateLimitPerIp'),
        },
        {
          name: 'AwsCommonRuleSet',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // CRMs batch events (HubSpot up to 100 a request), so bodies pass 8 KB; the
              // function enforces Harmony's own body limit instead.
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: visibility('HarmonyWebhookCommonRuleSet'),
        },
      ],
    });
    const association = new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    // The stage ARN is built from the stage name, so CloudFormation would not otherwise wait for the stage.
    association.node.addDependency(this.api.deploymentStage);

    this.webhookBaseUrl = this.api.urlForPath('/webhooks/');
  }
}

function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/**
 * One JSON line per request. The caller IP is the vendor's webhook sender, kept for abuse
 * analysis; no headers, bodies or query strings, which may carry personal data or signatures.
 */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      xrayTraceId: AccessLogField.contextXrayTraceId(),
      requestTime: AccessLogField.contextRequestTime(),
      ip: AccessLogField.contextIdentitySourceIp(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      path: AccessLogField.contextPath(),
      status: AccessLogField.contextStatus(),
      protocol: AccessLogField.contextProtocol(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      integrationStatus: AccessLogField.contextIntegrationStatus(),
      integrationError: AccessLogField.contextIntegrationErrorMessage(),
      errorMessage: AccessLogField.contextErrorMessage(),
      wafStatus: AccessLogField.contextWafStatus(),
      wafResponseCode: AccessLogField.contextWafResponseCode(),
    }),
  );
}
