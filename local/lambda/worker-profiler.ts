/**
 * Opt-in CPU profiling of local Lambda instances: with `HARMONY_CPU_PROFILE_DIR` set,
 * each worker thread profiles itself through the inspector and writes a
 * `.cpuprofile` (Chrome DevTools format) every `HARMONY_CPU_PROFILE_SECONDS`
 * (default 10) — Node's `--cpu-prof` does not reach worker threads, and a worker the
 * runtime terminates gets no chance to write at exit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Starts profiling this thread when the environment asks for it; returns whether it did. */
export async function startWorkerProfiler(functionName: string, environment: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const directory = environment.HARMONY_CPU_PROFILE_DIR;
  if (directory === undefined || directory === '') return false;
  const seconds = Number(environment.HARMONY_CPU_PROFILE_SECONDS ?? 10);
  mkdirSync(directory, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  let part = 0;
  const timer = setInterval(() => {
    void (async () => {
      const { profile } = await session.post('Profiler.stop');
      part += 1;
      writeFileSync(join(directory, `${functionName}.${process.pid}.${threadId}.${String(part).padStart(3, '0')}.cpuprofile`), JSON.stringify(profile));
      await session.post('Profiler.start');
    })();
  }, seconds * 1000);
  timer.unref();
  return true;
}
