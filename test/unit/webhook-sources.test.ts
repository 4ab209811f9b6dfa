/**
 * Which inbound sources a deployment has: none but HubSpot when their settings are absent (their
 * routes answer 404 naming them, so existing deployments do not change), and a half-set source
 * stops the cold start naming what is missing.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { checkWebhook } from '../../functions/core/ingress/guard-webhook.ts';
import { webhookSources, type WebhookSourceSettings } from '../../functions/core/ingress/webhook-sources.ts';
import { toApiGatewayEvent } from '../../local/ingress/api-gateway-event.ts';

const ALL: WebhookSourceSettings = {
  HUBSPOT_CLIENT_SECRET: 'hubspot',
  PIPEDRIVE_WEBHOOK_USER: 'user',
  PIPEDRIVE_WEBHOOK_PASSWORD: 'password',
  STANDARD_WEBHOOKS_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  CALLBACK_JWKS_URL: 'https://issuer.example.test/.well-known/jwks.json',
  CALLBACK_JWT_ISSUER: 'https://issuer.example.test',
  CALLBACK_JWT_AUDIENCE: 'harmony',
};

async function answer(settings: WebhookSourceSettings, path: string): Promise<APIGatewayProxyResult> {
  const event = toApiGatewayEvent({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, body: '{}' });
  const outcome = await checkWebhook(event, { sources: webhookSources(settings) });
  if (!('statusCode' in outcome)) throw new Error(`${path} passed the guard`);
  return outcome;
}

describe('inbound sources by configuration', () => {
  it('has only HubSpot when no other settings are given', () => {
    expect([...webhookSources({ HUBSPOT_CLIENT_SECRET: 'x' }).keys()]).toEqual(['hubspot']);
  });

  it('treats blank settings (the local hub blanks Secrets Manager ARNs) as absent', () => {
    expect([...webhookSources({ PIPEDRIVE_SECRET_ARN: '', STANDARD_WEBHOOKS_SECRET_ARN: ' ', CALLBACK_JWKS_URL: '' }).keys()]).toEqual(['hubspot']);
  });

  it('has every source when all settings are given, or their Secrets Manager ARNs', () => {
    expect([...webhookSources(ALL).keys()]).toEqual(['hubspot', 'pipedrive', 'standard', 'callbacks']);
    const arns = { PIPEDRIVE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:p', STANDARD_WEBHOOKS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:s' };
    expect([...webhookSources(arns).keys()]).toEqual(['hubspot', 'pipedrive', 'standard']);
  });

  it.each([
    ['/webhooks/pipedrive', /no webhook source named "pipedrive" is configured/],
    ['/webhooks/standard/deal-events', /no webhook source named "standard" is configured/],
    ['/callbacks/erp-middleware', /no webhook source named "callbacks" is configured/],
  ])('answers %s with 404 naming the source when it is not configured', async (path, message) => {
    const response = await answer({ HUBSPOT_CLIENT_SECRET: 'x' }, path);
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).message).toMatch(message);
  });

  it.each([
    ['/webhooks/callbacks', 404, /name the calling system/],
    ['/webhooks/standard', 404, /name a mapping/],
    ['/webhooks/standard/__proto__', 404, /no Standard Webhooks mapping named "__proto__"/],
    ['/callbacks/constructor', 401, /missing-token/],
  ])('routes %s only where it belongs (%i)', async (path, status, message) => {
    const response = await answer(ALL, path);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body).message).toMatch(message);
  });

  it.each([
    [{ PIPEDRIVE_WEBHOOK_USER: 'user' }, /PIPEDRIVE_WEBHOOK_USER and PIPEDRIVE_WEBHOOK_PASSWORD: set both or neither/],
    [{ PIPEDRIVE_WEBHOOK_PASSWORD: 'password' }, /set both or neither/],
    [{ CALLBACK_JWKS_URL: 'https://issuer.example.test/jwks' }, /CALLBACK_JWT_ISSUER: required with CALLBACK_JWKS_URL; CALLBACK_JWT_AUDIENCE: required/],
    [{ CALLBACK_JWT_AUDIENCE: 'harmony', CALLBACK_JWT_ISSUER: 'x' }, /CALLBACK_JWKS_URL: required with/],
    [{ ...ALL, CALLBACK_JWKS_URL: 'http://169.254.169.254/latest' }, /CALLBACK_JWKS_URL: 169\.254\.169\.254 is a link-local or metadata address/],
    [{ ...ALL, STANDARD_WEBHOOKS_SECRET: 'hunter2' }, /STANDARD_WEBHOOKS_SECRET: secret 1 of 1 is not whsec_/],
  ])('stops the cold start on a half-set or unsafe source: %o', (settings, message) => {
    expect(() => webhookSources(settings)).toThrow(message);
  });
});
