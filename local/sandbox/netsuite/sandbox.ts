/**
 * The NetSuite sandbox as the hub starts it: port 4021 (`HARMONY_NETSUITE_PORT`), state under
 * the given data directory, fixed local credentials for both auth schemes and an M2M key pair
 * generated on first start and kept with the state, so the environment it hands the
 * connector works across restarts.
 */
import type { SandboxDefinition } from '../definition.ts';
import { startNetsuiteSandbox, type NetsuiteSandbox, type NetsuiteSandboxOptions } from './server.ts';

export { startNetsuiteSandbox, type NetsuiteSandbox, type NetsuiteSandboxOptions };

/** The credentials the local sandbox accepts. */
export const LOCAL_NETSUITE_CREDENTIALS = {
  accountId: '1234567_SB1',
  clientId: 'harmony-local-netsuite-client',
  certificateId: 'harmony-local-certificate',
  consumerKey: 'harmony-local-consumer-key',
  consumerSecret: 'harmony-local-consumer-secret',
  tokenId: 'harmony-local-token-id',
  tokenSecret: 'harmony-local-token-secret',
} as const;

/** Declares the NetSuite sandbox to the hub. */
export const netsuiteSandbox: SandboxDefinition = {
  system: 'netsuite',
  defaultPort: 4021,
  portVariable: 'HARMONY_NETSUITE_PORT',
  async start(options) {
    const credentials = LOCAL_NETSUITE_CREDENTIALS;
    const sandbox = await startNetsuiteSandbox({
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      accountId: credentials.accountId,
      clientCredentials: { clientId: credentials.clientId, certificateId: credentials.certificateId },
      tokenBased: credentials,
    });
    options.log?.(`[netsuite] sandbox account ${credentials.accountId} on ${sandbox.url}`);
    return {
      url: sandbox.url,
      environment: {
        NETSUITE_ACCOUNT_ID: credentials.accountId,
        NETSUITE_BASE_URL: sandbox.url,
        NETSUITE_SUBSIDIARY_ID: '1',
        NETSUITE_AUTH: 'oauth2',
        NETSUITE_CLIENT_ID: credentials.clientId,
        NETSUITE_CERTIFICATE_ID: credentials.certificateId,
        NETSUITE_PRIVATE_KEY: sandbox.generatedPrivateKey!,
        NETSUITE_CONSUMER_KEY: credentials.consumerKey,
        NETSUITE_CONSUMER_SECRET: credentials.consumerSecret,
        NETSUITE_TOKEN_ID: credentials.tokenId,
        NETSUITE_TOKEN_SECRET: credentials.tokenSecret,
      },
      close: () => sandbox.close(),
    };
  },
};
