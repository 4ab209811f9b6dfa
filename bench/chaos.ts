/**
 * `npm run chaos -- [--orders N] [--seed S] [--kills K] [--rate R] [--drain-timeout S] [--lambda-concurrency C] [--keep-data]`: drives N orders
 * through the local hub while injecting faults and killing it, then checks nothing was
 * lost, duplicated or left unaudited. Prints a table; exits 1 on any such finding.
 */
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { formatChaosReport } from './chaos/report-table.ts';
import { DEFAULT_CHAOS_OPTIONS, runChaos } from './chaos/run-chaos.ts';

const Arguments = z.object({
  orders: z.coerce.number().int().positive().default(DEFAULT_CHAOS_OPTIONS.orders),
  seed: z.coerce.number().int().nonnegative().default(DEFAULT_CHAOS_OPTIONS.seed),
  kills: z.coerce.number().int().nonnegative().default(DEFAULT_CHAOS_OPTIONS.kills),
  rate: z.coerce.number().positive().default(DEFAULT_CHAOS_OPTIONS.ordersPerSecond),
  'drain-timeout': z.coerce.number().positive().default(DEFAULT_CHAOS_OPTIONS.drainTimeoutSeconds),
  'lambda-concurrency': z.coerce.number().int().min(1).max(64).default(DEFAULT_CHAOS_OPTIONS.lambdaConcurrency),
  'keep-data': z.boolean().default(false),
});

const { values } = parseArgs({
  options: {
    orders: { type: 'string' },
    seed: { type: 'string' },
    kills: { type: 'string' },
    rate: { type: 'string' },
    'drain-timeout': { type: 'string' },
    'lambda-concurrency': { type: 'string' },
    'keep-data': { type: 'boolean' },
  },
});
const parsed = Arguments.safeParse(values);
if (!parsed.success) {
  console.error(`chaos: ${parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  process.exit(2);
}
const args = parsed.data;
const report = await runChaos({
  orders: args.orders,
  seed: args.seed,
  kills: args.kills,
  ordersPerSecond: args.rate,
  drainTimeoutSeconds: args['drain-timeout'],
  lambdaConcurrency: args['lambda-concurrency'],
  keepData: args['keep-data'],
});
console.log(formatChaosReport(report));
if (args['keep-data']) console.log(`\ndata kept in ${report.dataDir}`);
process.exitCode = report.ok ? 0 : 1;
