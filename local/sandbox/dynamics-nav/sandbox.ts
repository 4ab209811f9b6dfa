/**
 * The Dynamics NAV sandbox as the hub starts it: port 4026 (`HARMONY_DYNAMICS_NAV_PORT`),
 * state under the hub's data directory, and the environment that points the
 * `dynamics-nav` connector at it (settings and both secret fields).
 */
import type { SandboxDefinition } from '../definition.ts';
import { startDynamicsNavSandbox } from './server.ts';

export { startDynamicsNavSandbox, type DynamicsNavSandbox, type DynamicsNavSandboxOptions } from './server.ts';
export { SANDBOX_VAT_PERCENT, SEEDED_SKUS } from './seed.ts';

/** The NavUserPassword user the hub's sandbox accepts. */
export const SANDBOX_USERNAME = 'HARMONY';
/** That user's password (a local stand-in, never a real credential). */
export const SANDBOX_PASSWORD = 'local-dynamics-nav-password';

/** The sandbox the hub starts when `ERP_SYSTEM=dynamics-nav`. */
export const dynamicsNavSandbox: SandboxDefinition = {
  system: 'dynamics-nav',
  defaultPort: 4026,
  portVariable: 'HARMONY_DYNAMICS_NAV_PORT',
  async start(options) {
    const sandbox = await startDynamicsNavSandbox({
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      username: SANDBOX_USERNAME,
      password: SANDBOX_PASSWORD,
    });
    options.log?.(`dynamics-nav sandbox: ${sandbox.baseUrl} (company ${sandbox.company}, user ${SANDBOX_USERNAME})`);
    return {
      url: sandbox.url,
      environment: {
        DYNAMICS_NAV_URL: sandbox.baseUrl,
        DYNAMICS_NAV_CURRENCY: sandbox.localCurrency,
        DYNAMICS_NAV_USERNAME: SANDBOX_USERNAME,
        DYNAMICS_NAV_PASSWORD: SANDBOX_PASSWORD,
      },
      close: () => sandbox.close(),
    };
  },
};
