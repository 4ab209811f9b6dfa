/**
 * LocalSqs in a process of its own, persisting to a data directory, behind its HTTP
 * server on 127.0.0.1: what `sqs-durability.test.ts` kills with SIGKILL and starts again
 * on the same data. Prints `{"url":"http://…"}` on one line once it listens.
 *
 * Run as `node local/sqs/standalone.ts '<options as JSON>'` (see StandaloneOptions).
 * `crashInsideDeadLetterMove` makes the process SIGKILL itself inside the transaction of
 * the first dead-letter move, after the copy is written and before the original is
 * deleted, printing `crashing inside dead-letter move <messageId>` first.
 */
import { writeSync } from 'node:fs';
import * as z from 'zod';
import { startSqsHttpServer } from './http-server.ts';
import { LocalSqs } from './service.ts';

/** What the process is told on its command line. */
export const StandaloneOptions = z.object({
  dataDir: z.string().min(1),
  region: z.string().min(1).default('us-east-1'),
  accountId: z.string().regex(/^\d{12}$/).default('000000000000'),
  /** @default 0: a free port */
  port: z.number().int().min(0).max(65_535).default(0),
  synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
  crashInsideDeadLetterMove: z.boolean().default(false),
});

const parsed = StandaloneOptions.safeParse(JSON.parse(process.argv[2] ?? '{}'));
if (!parsed.success) {
  process.stderr.write(`usage: node local/sqs/standalone.ts '{"dataDir":"…"}': ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}\n`);
  process.exit(2);
}
const options = parsed.data;

const server = await startSqsHttpServer({
  port: options.port,
  service: (url) =>
    new LocalSqs({
      dataDir: options.dataDir,
      endpoint: url,
      region: options.region,
      accountId: options.accountId,
      synchronous: options.synchronous,
      testHooks: options.crashInsideDeadLetterMove
        ? {
            insideDeadLetterMove: (messageId) => {
              writeSync(1, `crashing inside dead-letter move ${messageId}\n`);
              process.kill(process.pid, 'SIGKILL');
            },
          }
        : {},
    }),
});
writeSync(1, `${JSON.stringify({ url: server.url })}\n`);

const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
