/**
 * The local hub in its own process for the end-to-end benchmarks (spawned with an IPC
 * channel): reads the hub's settings from the environment, starts it, and prints one JSON
 * line with its URLs once ready. IPC requests, each answered once, only between or around
 * measured windows:
 * - `{ type: 'stats' }` → memory, the main thread's event-loop utilisation since the
 *   previous `stats`, and the Lambda runtime's per-function counters;
 * - `{ type: 'profile-start' }` / `{ type: 'profile-stop', file }` → a V8 CPU profile of the
 *   main thread over exactly that span, written to `file` (workers profile themselves when
 *   `HARMONY_CPU_PROFILE_DIR` is set).
 * SIGTERM stops the hub and exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import * as z from 'zod';
import { readHubEnvironment } from '../../local/config.ts';
import { startHub } from '../../local/hub.ts';

const Request = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stats') }),
  z.object({ type: z.literal('profile-start') }),
  z.object({ type: z.literal('profile-stop'), file: z.string().min(1) }),
]);

const hub = await startHub({ environment: readHubEnvironment(), log: () => undefined, onAlarm: () => undefined });
process.stdout.write(
  `${JSON.stringify({ ready: true, awsEndpoint: hub.awsEndpoint, ingressUrl: hub.ingressUrl, hubspotUrl: hub.hubspotUrl, odooUrl: hub.odooUrl })}\n`,
);

let lastUtilization: EventLoopUtilization = performance.eventLoopUtilization();
let profiler: Session | undefined;

async function answer(request: Request): Promise<Record<string, unknown>> {
  switch (request.type) {
    case 'stats': {
      const now = performance.eventLoopUtilization();
      const since = performance.eventLoopUtilization(now, lastUtilization);
      lastUtilization = now;
      return {
        stats: {
          memory: process.memoryUsage(),
          mainThreadUtilization: since.utilization,
          functions: hub.runtime.stats().map(({ lastDurationsMs: _durations, ...counters }) => counters),
        },
      };
    }
    case 'profile-start': {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return { profiling: true };
    }
    case 'profile-stop': {
      if (profiler === undefined) throw new Error('profile-stop without profile-start');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(request.file, JSON.stringify(profile));
      return { profiled: request.file };
    }
  }
}
type Request = z.infer<typeof Request>;

process.on('message', (message) => {
  void answer(Request.parse(message)).then(
    (reply) => process.send?.(reply),
    (error: Error) => process.send?.({ failed: error.message }),
  );
});
process.once('SIGTERM', () => {
  void hub.stop().then(() => process.exit(0));
});
