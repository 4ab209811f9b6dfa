/**
 * The sandbox CRM and ERP in their own long-lived process (`local/sandbox/main.ts`), so a
 * `kill -9` of the hub leaves them, their data and their pending fault rules alone, as a
 * crash of Harmony leaves HubSpot and Odoo alone.
 */
import * as z from 'zod';
import { ReadyProcess } from './ready-process.ts';

const MAIN = new URL('../../local/sandbox/main.ts', import.meta.url).pathname;

/** What the sandbox process prints once both sandboxes serve. */
export const SandboxUrls = z.object({
  ready: z.literal(true),
  hubspotUrl: z.string(),
  odooUrl: z.string(),
});
export type SandboxUrls = z.infer<typeof SandboxUrls>;

/** Where the sandboxes keep their state and where the CRM delivers its webhooks. */
export interface SandboxSettings {
  readonly dataDir: string;
  readonly host: string;
  /** The hub's ingress, e.g. `http://127.0.0.1:3000/webhooks/hubspot`. */
  readonly webhookUrl: string;
  /** Delay before each retry of a failed webhook delivery; its length is the number of retries. */
  readonly webhookRetryDelaysMs: readonly number[];
  /** The app's client secret, which signs the webhooks. */
  readonly clientSecret: string;
}

/** A sandbox process on free ports. */
export function sandboxSupervisor(settings: SandboxSettings): ReadyProcess<SandboxUrls> {
  return new ReadyProcess({
    name: 'the sandboxes',
    script: MAIN,
    environment: {
      HARMONY_HOST: settings.host,
      HARMONY_HUBSPOT_PORT: '0',
      HARMONY_ODOO_PORT: '0',
      HARMONY_SANDBOX_DATA_DIR: settings.dataDir,
      HARMONY_WEBHOOK_URL: settings.webhookUrl,
      HARMONY_WEBHOOK_RETRY_DELAYS_MS: settings.webhookRetryDelaysMs.join(','),
      HUBSPOT_CLIENT_SECRET: settings.clientSecret,
    },
    ready: SandboxUrls,
  });
}
