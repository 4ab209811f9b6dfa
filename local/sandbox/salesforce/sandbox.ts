/**
 * The Salesforce sandbox as the local hub starts it: an org on port 4011
 * (`HARMONY_SALESFORCE_PORT`) whose connected app the connector reaches with the client
 * credentials flow, and whose won Opportunities go out as Outbound Messages to the hub's
 * webhook ingress (`/webhooks/salesforce`), retried until acknowledged.
 */
import type { SandboxDefinition } from '../definition.ts';
import { OutboundMessageSender } from './outbound-messages.ts';
import { DEFAULT_ORGANIZATION_ID, startSalesforceSandbox } from './server.ts';

export { startSalesforceSandbox } from './server.ts';
export type { SalesforceSandbox, SalesforceSandboxOptions } from './server.ts';

/** The local connected app's consumer key (Salesforce's start with `3MVG9`). */
export const LOCAL_CLIENT_ID = '3MVG9harmony.local.sandbox.consumer.key';

/** The local connected app's consumer secret. */
export const LOCAL_CLIENT_SECRET = 'local-salesforce-consumer-secret';

/** The Salesforce sandbox of the local hub. */
export const salesforceSandbox: SandboxDefinition = {
  system: 'salesforce',
  defaultPort: 4011,
  portVariable: 'HARMONY_SALESFORCE_PORT',
  async start(options) {
    const outboundMessages = new OutboundMessageSender({
      endpointUrl: `${options.ingressUrl}/webhooks/salesforce`,
      organizationId: DEFAULT_ORGANIZATION_ID,
      dataDir: options.dataDir,
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    const sandbox = await startSalesforceSandbox({
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      organizationId: DEFAULT_ORGANIZATION_ID,
      clientId: LOCAL_CLIENT_ID,
      clientSecret: LOCAL_CLIENT_SECRET,
      outboundMessages,
      ...(options.log === undefined ? {} : { log: options.log }),
    }).catch(async (error: unknown) => {
      await outboundMessages.close();
      throw error;
    });
    return {
      url: sandbox.url,
      environment: {
        SALESFORCE_LOGIN_URL: sandbox.url,
        SALESFORCE_CLIENT_ID: LOCAL_CLIENT_ID,
        SALESFORCE_CLIENT_SECRET: LOCAL_CLIENT_SECRET,
        SALESFORCE_ORG_ID: sandbox.organizationId,
      },
      close: () => sandbox.close(),
    };
  },
};
