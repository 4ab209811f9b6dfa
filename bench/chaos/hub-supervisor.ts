/**
 * The hub as a child process on fixed ports and one data directory, so the chaos
 * harness can kill it with SIGKILL and start it again on the same state.
 */
import * as z from 'zod';
import { ReadyProcess } from './ready-process.ts';

const CHILD = new URL('./hub-process.ts', import.meta.url).pathname;

/** The URLs the hub child prints once ready. */
export const HubUrls = z.object({
  ready: z.literal(true),
  awsEndpoint: z.string(),
  ingressUrl: z.string(),
});
export type HubUrls = z.infer<typeof HubUrls>;

/** A hub child with the given environment (HARMONY_* and connector settings, see local/config.ts); its stderr goes to `stderrFile`. */
export function hubSupervisor(environment: Readonly<Record<string, string>>, stderrFile?: string): ReadyProcess<HubUrls> {
  return new ReadyProcess({
    name: 'the hub',
    script: CHILD,
    environment: { HARMONY_SANDBOXES: 'false', ...environment },
    ready: HubUrls,
    ...(stderrFile === undefined ? {} : { stderrFile }),
  });
}
