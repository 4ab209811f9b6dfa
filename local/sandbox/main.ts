/**
 * Both sandboxes (HubSpot-compatible CRM, Odoo-compatible ERP) in a process of
 * their own, so a harness can kill the hub with SIGKILL while the vendors, their
 * state and their pending fault rules live on. Run the hub beside it with
 * `HARMONY_SANDBOXES=false HUBSPOT_BASE_URL=<hubspotUrl> ODOO_URL=<odooUrl>`.
 *
 * `node local/sandbox/main.ts [--flag value]…`; each flag overrides a variable,
 * whose default is the one local/config.ts uses for the embedded sandboxes:
 *
 * | flag                | variable                          | default |
 * | ------------------- | --------------------------------- | ------- |
 * | `--host`            | `HARMONY_HOST`                    | `127.0.0.1` |
 * | `--hubspot-port`    | `HARMONY_HUBSPOT_PORT`            | 4010 (0 picks a free port) |
 * | `--odoo-port`       | `HARMONY_ODOO_PORT`               | 4020 (0 picks a free port) |
 * | `--data-dir`        | `HARMONY_SANDBOX_DATA_DIR`        | `$HARMONY_DATA_DIR/sandbox` (`hubspot/`, `odoo/` inside, as the hub lays them out) |
 * | `--webhook-url`     | `HARMONY_WEBHOOK_URL`             | `http://$HARMONY_HOST:$HARMONY_INGRESS_PORT/webhooks/hubspot`; `none` sends no webhooks |
 * | `--retry-delays-ms` | `HARMONY_WEBHOOK_RETRY_DELAYS_MS` | the HubSpot sandbox's (10 retries from 100 ms, ≈ 100 s); comma-separated |
 * | `--access-token`    | `HUBSPOT_ACCESS_TOKEN`            | `pat-local-harmony` |
 * | `--client-secret`   | `HUBSPOT_CLIENT_SECRET`           | `local-hubspot-client-secret` |
 * | `--odoo-db`         | `ODOO_DB`                         | `harmony` |
 * | `--odoo-username`   | `ODOO_USERNAME`                   | `harmony@example.com` |
 * | `--odoo-api-key`    | `ODOO_API_KEY`                    | `local-odoo-api-key` |
 *
 * Prints one JSON line on stdout once both listen:
 * `{"ready":true,"hubspotUrl":…,"odooUrl":…,"dataDir":…}`. SIGTERM or SIGINT
 * closes both (stored state stays) and exits 0.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { readEnv } from '../../functions/core/env.ts';
import { HubEnvironment } from '../config.ts';
import { DEFAULT_RETRY_DELAYS_MS, startHubspotSandbox } from './hubspot/server.ts';
import { startOdooSandbox } from './odoo/index.ts';

/** Command-line flags and the variables they stand for. */
const FLAGS = {
  host: 'HARMONY_HOST',
  'hubspot-port': 'HARMONY_HUBSPOT_PORT',
  'odoo-port': 'HARMONY_ODOO_PORT',
  'data-dir': 'HARMONY_SANDBOX_DATA_DIR',
  'webhook-url': 'HARMONY_WEBHOOK_URL',
  'retry-delays-ms': 'HARMONY_WEBHOOK_RETRY_DELAYS_MS',
  'access-token': 'HUBSPOT_ACCESS_TOKEN',
  'client-secret': 'HUBSPOT_CLIENT_SECRET',
  'odoo-db': 'ODOO_DB',
  'odoo-username': 'ODOO_USERNAME',
  'odoo-api-key': 'ODOO_API_KEY',
} as const;

/** The sandbox process's settings: the hub's own variables plus three of its own. */
const SandboxEnvironment = HubEnvironment.extend({
  HARMONY_SANDBOX_DATA_DIR: z.string().min(1).optional(),
  HARMONY_WEBHOOK_URL: z.union([z.literal('none'), z.url()]).optional(),
  HARMONY_WEBHOOK_RETRY_DELAYS_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'expected comma-separated milliseconds, e.g. 100,200,400')
    .transform((list) => list.split(',').map(Number))
    .optional(),
});

try {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    strict: true,
  });
  const overrides = Object.fromEntries(
    Object.entries(values).map(([flag, value]) => [FLAGS[flag as keyof typeof FLAGS], value as string]),
  );
  const environment = readEnv(SandboxEnvironment, { ...process.env, ...overrides });
  const host = environment.HARMONY_HOST;
  const dataDir = environment.HARMONY_SANDBOX_DATA_DIR ?? join(environment.HARMONY_DATA_DIR, 'sandbox');
  const webhookUrl = environment.HARMONY_WEBHOOK_URL ?? `http://${host}:${environment.HARMONY_INGRESS_PORT}/webhooks/hubspot`;

  const hubspot = await startHubspotSandbox({
    port: environment.HARMONY_HUBSPOT_PORT,
    host,
    dataDir: join(dataDir, 'hubspot'),
    accessToken: environment.HUBSPOT_ACCESS_TOKEN,
    clientSecret: environment.HUBSPOT_CLIENT_SECRET,
    ...(webhookUrl === 'none' ? {} : { webhookUrl }),
    retryDelaysMs: environment.HARMONY_WEBHOOK_RETRY_DELAYS_MS ?? DEFAULT_RETRY_DELAYS_MS,
  });
  const odoo = await startOdooSandbox({
    port: environment.HARMONY_ODOO_PORT,
    host,
    dataDir: join(dataDir, 'odoo'),
    db: environment.ODOO_DB,
    username: environment.ODOO_USERNAME,
    apiKey: environment.ODOO_API_KEY,
  }).catch(async (error: unknown) => {
    await hubspot.close();
    throw error;
  });

  const stop = (): void => {
    Promise.all([hubspot.close(), odoo.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`[sandboxes] could not close cleanly: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  console.log(JSON.stringify({ ready: true, hubspotUrl: hubspot.url, odooUrl: odoo.url, dataDir }));
} catch (error) {
  console.error(`[sandboxes] could not start: ${(error as Error).message}`);
  process.exit(1);
}
