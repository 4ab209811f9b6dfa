/**
 * The Pipedrive sandbox as the hub starts it: port 4012 (`HARMONY_PIPEDRIVE_PORT`), state
 * under the given data directory, fixed local credentials (an API token, and an OAuth app with
 * the refresh token of its installation), and deal webhooks v2 to the hub's
 * `/webhooks/pipedrive` with basic auth, retried after 3, 30 and 150 s as Pipedrive does.
 * The environment points the connector at the sandbox through OAuth (the API token works as
 * well: set PIPEDRIVE_API_TOKEN and leave the three OAuth variables empty).
 */
import type { SandboxDefinition } from '../definition.ts';
import { SANDBOX_FIELD_NAMES, startPipedriveSandbox, type PipedriveSandbox, type PipedriveSandboxOptions } from './server.ts';

export { startPipedriveSandbox, type PipedriveSandbox, type PipedriveSandboxOptions };

/** The credentials the local sandbox accepts, and the webhook's basic auth. */
export const LOCAL_PIPEDRIVE_CREDENTIALS = {
  apiToken: 'harmony-local-pipedrive-api-token',
  clientId: 'harmony-local-pipedrive-client',
  clientSecret: 'harmony-local-pipedrive-client-secret',
  refreshToken: '13011977:21440810:harmony-local-refresh-token',
  webhookUser: 'harmony-pipedrive',
  webhookPassword: 'harmony-local-pipedrive-webhook-password',
} as const;

/** Declares the Pipedrive sandbox to the hub. */
export const pipedriveSandbox: SandboxDefinition = {
  system: 'pipedrive',
  defaultPort: 4012,
  portVariable: 'HARMONY_PIPEDRIVE_PORT',
  async start(options) {
    const credentials = LOCAL_PIPEDRIVE_CREDENTIALS;
    const webhookUrl = `${options.ingressUrl.replace(/\/+$/, '')}/webhooks/pipedrive`;
    const sandbox = await startPipedriveSandbox({
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      apiToken: credentials.apiToken,
      oauth: { clientId: credentials.clientId, clientSecret: credentials.clientSecret, refreshToken: credentials.refreshToken },
      webhook: { url: webhookUrl, user: credentials.webhookUser, password: credentials.webhookPassword },
    });
    options.log?.(`[pipedrive] sandbox company ${sandbox.companyId} on ${sandbox.url}; deal webhooks to ${webhookUrl}`);
    return {
      url: sandbox.url,
      environment: {
        PIPEDRIVE_API_URL: sandbox.url,
        PIPEDRIVE_OAUTH_URL: sandbox.url,
        PIPEDRIVE_CLIENT_ID: credentials.clientId,
        PIPEDRIVE_CLIENT_SECRET: credentials.clientSecret,
        PIPEDRIVE_REFRESH_TOKEN: credentials.refreshToken,
        PIPEDRIVE_VAT_FIELD: SANDBOX_FIELD_NAMES.vatNumber,
        PIPEDRIVE_WEBHOOK_USER: credentials.webhookUser,
        PIPEDRIVE_WEBHOOK_PASSWORD: credentials.webhookPassword,
      },
      close: () => sandbox.close(),
    };
  },
};
