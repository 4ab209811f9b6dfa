/**
 * The webhook ingress construct with the inbound sources beyond HubSpot turned on: the routes
 * each adds, the settings and secret grants the ingest function gets, cdk-nag staying clean,
 * the synth-time checks of the callback issuer and of the Salesforce org and ranges, and the
 * Salesforce context keys through the whole stack. With none turned on, the ingress is what
 * it was (test/infra/harmony-stack.test.ts holds that template to one method).
 */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import cdkNag from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ConnectorSecrets } from '../../lib/constructs/connector-secrets.ts';
import { DataKey } from '../../lib/constructs/data-key.ts';
import { HubBus } from '../../lib/constructs/hub-bus.ts';
import { HarmonyStores } from '../../lib/constructs/stores.ts';
import { WebhookIngress, type SalesforceOutboundMessages, type WebhookIngressProps } from '../../lib/constructs/webhook-ingress.ts';
import { readHarmonyContext } from '../../lib/harmony-context.ts';
import { synthHarmony } from '../support/synth.ts';

const ISSUER = { jwksUrl: 'https://issuer.example.com/.well-known/jwks.json', issuer: 'https://issuer.example.com', audience: 'harmony' };

/** Synthesizes an ingress stack (bundling skipped) and returns its template and unacknowledged cdk-nag errors. */
function synth(options: { pipedrive?: boolean; standard?: boolean; callbacks?: Partial<WebhookIngressProps['callbackIssuer']> | false; salesforce?: SalesforceOutboundMessages }) {
  const outdir = mkdtempSync(join(tmpdir(), 'harmony-ingress-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], [cxapi.FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false } });
    const stack = new Stack(app, 'IngressSources');
    const key = new DataKey(stack, 'DataKey').key;
    const bus = new HubBus(stack, 'HubBus');
    const stores = new HarmonyStores(stack, 'Stores', { key, deletionProtection: true });
    const secrets = new ConnectorSecrets(stack, 'Secrets', {
      key,
      pipedriveWebhooks: options.pipedrive === true,
      standardWebhooks: options.standard === true,
    });
    new WebhookIngress(stack, 'Ingress', {
      bus: bus.bus,
      idempotencyTable: stores.idempotencyTable,
      auditTable: stores.auditTable,
      hubspotSecret: secrets.hubspot,
      key,
      ...(secrets.pipedrive === undefined ? {} : { pipedriveSecret: secrets.pipedrive }),
      ...(secrets.standardWebhooks === undefined ? {} : { standardWebhooksSecret: secrets.standardWebhooks }),
      ...(options.callbacks === undefined || options.callbacks === false ? {} : { callbackIssuer: { ...ISSUER, ...options.callbacks } }),
      ...(options.salesforce === undefined ? {} : { salesforceOutboundMessages: options.salesforce }),
    });
    Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
    const assembly = app.synth();
    const json = assembly.getStackArtifact(stack.artifactId).template as { Resources: Record<string, { Type: string; Properties?: any }> };
    const reportFile = join(assembly.directory, cxapi.VALIDATION_REPORT_FILE);
    const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports?: { violations?: { ruleName: string; severity?: string; violatingConstructs?: { constructPath: string }[] }[] }[] }) : {};
    const nagErrors = (report.pluginReports ?? []).flatMap((plugin) => plugin.violations ?? [])
      .filter((violation) => (violation.severity ?? 'error') === 'error')
      .map((violation) => `${violation.ruleName} ${violation.violatingConstructs?.map((construct) => construct.constructPath).join(', ')}`);
    return { json, template: Template.fromJSON(json), nagErrors };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const pathParts = (json: ReturnType<typeof synth>['json']) =>
  Object.values(json.Resources).filter((resource) => resource.Type === 'AWS::ApiGateway::Resource').map((resource) => resource.Properties.PathPart).sort();
const ingestEnvironment = (json: ReturnType<typeof synth>['json']) =>
  Object.values(json.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function' && JSON.stringify(resource).includes('IDEMPOTENCY_TABLE'))!.Properties.Environment.Variables as Record<string, unknown>;

describe('the webhook ingress with every inbound source', () => {
  const everything = synth({
    pipedrive: true,
    standard: true,
    callbacks: {},
    salesforce: { organizationId: '00D5e000000KQ2e', allowedCidrs: ['13.108.0.0/14', '2a01:111::/32'], wonStages: ['Closed Won', 'Signed'] },
  });

  it('adds POST /webhooks/standard/{mapping} and POST /callbacks/{system} beside /webhooks/{source}, each validated and proxied', () => {
    expect(pathParts(everything.json)).toEqual(['standard', 'webhooks', '{mapping}', '{source}', '{system}', 'callbacks'].sort());
    for (const parameter of ['source', 'mapping', 'system']) {
      everything.template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        AuthorizationType: 'NONE',
        RequestValidatorId: Match.anyValue(),
        RequestParameters: { [`method.request.path.${parameter}`]: true },
        Integration: { Type: 'AWS_PROXY' },
      });
    }
  });

  it('gives the ingest function the secret ARNs and the issuer, and read access to exactly those secrets', () => {
    const environment = ingestEnvironment(everything.json);
    expect(environment).toMatchObject({
      PIPEDRIVE_SECRET_ARN: { Ref: expect.stringMatching(/^SecretsPipedriveWebhooks/) },
      STANDARD_WEBHOOKS_SECRET_ARN: { Ref: expect.stringMatching(/^SecretsStandardWebhooks/) },
      CALLBACK_JWKS_URL: ISSUER.jwksUrl,
      CALLBACK_JWT_ISSUER: ISSUER.issuer,
      CALLBACK_JWT_AUDIENCE: ISSUER.audience,
    });
    expect(environment).toMatchObject({
      SALESFORCE_ORG_ID: '00D5e000000KQ2e',
      SALESFORCE_ALLOWED_CIDRS: '13.108.0.0/14 2a01:111::/32',
      SALESFORCE_WON_STAGES: '["Closed Won","Signed"]',
    });
    expect(environment).not.toHaveProperty('PIPEDRIVE_WEBHOOK_PASSWORD');
    expect(environment).not.toHaveProperty('STANDARD_WEBHOOKS_SECRET');
    const policies = JSON.stringify(Object.values(everything.json.Resources).filter((resource) => resource.Type === 'AWS::IAM::Policy'));
    for (const secret of ['SecretsPipedriveWebhooks', 'SecretsStandardWebhooks']) expect(policies).toContain(secret);
  });

  it('keeps cdk-nag clean', () => {
    expect(everything.nagErrors).toEqual([]);
  });
});

describe('the webhook ingress without them', () => {
  it('has only /webhooks/{source}, no inbound settings and no extra secrets', () => {
    const { json } = synth({});
    expect(pathParts(json)).toEqual(['webhooks', '{source}'].sort());
    const environment = ingestEnvironment(json);
    for (const name of ['PIPEDRIVE_SECRET_ARN', 'STANDARD_WEBHOOKS_SECRET_ARN', 'CALLBACK_JWKS_URL']) expect(environment).not.toHaveProperty(name);
    expect(Object.values(json.Resources).filter((resource) => resource.Type === 'AWS::SecretsManager::Secret')).toHaveLength(3);
  });

  it('turns Pipedrive on without a new route (it posts to /webhooks/{source})', () => {
    const { json } = synth({ pipedrive: true });
    expect(pathParts(json)).toEqual(['webhooks', '{source}'].sort());
    expect(ingestEnvironment(json)).toHaveProperty('PIPEDRIVE_SECRET_ARN');
  });
});

describe('the callback issuer, checked at synth', () => {
  it.each([
    [{ jwksUrl: 'http://issuer.example.com/jwks' }, /callbackIssuer\.jwksUrl must be an https:\/\/ URL/],
    [{ issuer: ' ' }, /callbackIssuer\.issuer and callbackIssuer\.audience must not be empty/],
    [{ audience: '' }, /must not be empty/],
  ])('refuses %o', (callbacks, message) => {
    expect(() => synth({ callbacks })).toThrow(message);
  });
});

describe('Salesforce Outbound Messages', () => {
  it('turns Salesforce on without a new route or secret (it posts to /webhooks/{source}; nothing it needs is secret)', () => {
    const { json } = synth({ salesforce: { organizationId: '00D5e000000KQ2eEAG' } });
    expect(pathParts(json)).toEqual(['webhooks', '{source}'].sort());
    const environment = ingestEnvironment(json);
    expect(environment).toMatchObject({ SALESFORCE_ORG_ID: '00D5e000000KQ2eEAG' });
    for (const name of ['SALESFORCE_ALLOWED_CIDRS', 'SALESFORCE_WON_STAGES']) expect(environment).not.toHaveProperty(name);
    expect(Object.values(json.Resources).filter((resource) => resource.Type === 'AWS::SecretsManager::Secret')).toHaveLength(3);
  });

  it.each([
    [{ organizationId: '0015e00000ZkM3hAAF' }, /salesforceOutboundMessages\.organizationId: expected a 15- or 18-character organization id starting 00D/],
    [{ organizationId: '00D5e000000KQ2eAAA' }, /organizationId/],
    [{ organizationId: '00D5e000000KQ2e', allowedCidrs: ['13.108.0.0/99'] }, /salesforceOutboundMessages\.allowedCidrs: "13\.108\.0\.0\/99" is not an IPv4 or IPv6 CIDR range/],
  ])('refuses %o at synth', (salesforce, message) => {
    expect(() => synth({ salesforce })).toThrow(message);
  });
});

describe('the Salesforce context keys', () => {
  const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string) => values[key] });

  it('reads the org (either form, kept as 18 characters) and the ranges (array or separated string)', () => {
    expect(readHarmonyContext(context({ salesforceOrgId: '00D5e000000KQ2e', salesforceAllowedCidrs: '13.108.0.0/14, 2a01:111::/32' })).inboundSources.salesforce).toEqual({
      organizationId: '00D5e000000KQ2eEAG',
      allowedCidrs: ['13.108.0.0/14', '2a01:111::/32'],
    });
    expect(readHarmonyContext(context({ salesforceOrgId: '00D5e000000KQ2eEAG', salesforceAllowedCidrs: ['13.108.0.0/14'] })).inboundSources.salesforce?.allowedCidrs).toEqual(['13.108.0.0/14']);
    expect(readHarmonyContext(context({ salesforceOrgId: ' ' })).inboundSources).not.toHaveProperty('salesforce');
  });

  it.each([
    [{ salesforceOrgId: '0015e00000ZkM3hAAF' }, /salesforceOrgId: expected a 15- or 18-character organization id starting 00D/],
    [{ salesforceOrgId: '00D5e000000KQ2e', salesforceAllowedCidrs: 'salesforce.com' }, /salesforceAllowedCidrs: "salesforce\.com" is not an IPv4 or IPv6 CIDR range/],
    [{ salesforceAllowedCidrs: '13.108.0.0/14' }, /salesforceAllowedCidrs: set only with salesforceOrgId/],
  ])('refuses %o naming the key', (values, message) => {
    expect(() => readHarmonyContext(context(values))).toThrow(message);
  });

  it("gives the ingest function the org, the ranges and the stack's won deal stages", () => {
    const stack = synthHarmony({ salesforceOrgId: '00D5e000000KQ2e', salesforceAllowedCidrs: '13.108.0.0/14', wonDealStages: 'closedwon,Closed_Won' });
    expect(ingestEnvironment(stack.json as ReturnType<typeof synth>['json'])).toMatchObject({
      SALESFORCE_ORG_ID: '00D5e000000KQ2eEAG',
      SALESFORCE_ALLOWED_CIDRS: '13.108.0.0/14',
      SALESFORCE_WON_STAGES: '["closedwon","Closed_Won"]',
    });
  });
});
