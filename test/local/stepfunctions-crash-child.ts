/**
 * The process `stepfunctions-durability.test.ts` kills: it runs the local Step Functions
 * service on a data directory, starts one execution, and then either hangs in the
 * middle of a chosen step (the test sends SIGKILL) or kills itself the moment
 * StartExecution has answered. Every invocation is appended to a file first, so the
 * test can count what this process did even though it never exits cleanly.
 *
 * Run as `node --import tsx stepfunctions-crash-child.ts '<arguments as JSON>'`.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import type { TemplateStateMachine } from '../../local/template/state-machines.ts';

/** What the test tells this process to do. */
export const CrashChildArguments = z.object({
  dataDir: z.string(),
  /** A JSON file holding the TemplateStateMachine[] to serve. */
  machinesFile: z.string(),
  sqsEndpoint: z.string(),
  region: z.string(),
  accountId: z.string(),
  stateMachineArn: z.string(),
  executionName: z.string(),
  input: z.string(),
  /** Where each invocation is appended as a JSON line. */
  invocationsFile: z.string(),
  /** `hang-in`: block forever in the step `hangIn`; `crash-after-start`: SIGKILL itself once StartExecution answers. */
  mode: z.enum(['hang-in', 'crash-after-start']),
  hangIn: z.string().optional(),
});

const args = CrashChildArguments.parse(JSON.parse(process.argv[2] ?? 'null'));
const machines = JSON.parse(readFileSync(args.machinesFile, 'utf8')) as TemplateStateMachine[];

const service = new LocalStepFunctions({
  machines,
  dataDir: args.dataDir,
  sqsEndpoint: args.sqsEndpoint,
  region: args.region,
  accountId: args.accountId,
  retryIntervalScale: 0,
  invoke: async (_functionLogicalId, payload, call) => {
    appendFileSync(args.invocationsFile, `${JSON.stringify({ pid: process.pid, stateName: call.stateName, payload })}\n`);
    if (call.stateName === args.hangIn) {
      process.stdout.write(`hanging in ${call.stateName}\n`);
      return new Promise(() => undefined);
    }
    return { status: 'ok', result: { doneBy: call.stateName, pid: process.pid }, durationMs: 0 };
  },
});

// Keeps the process alive while a step hangs, until the test kills it.
setInterval(() => undefined, 60_000);

const started = (await service.handle('StartExecution', {
  stateMachineArn: args.stateMachineArn,
  name: args.executionName,
  input: args.input,
})) as { executionArn: string };
process.stdout.write(`started ${started.executionArn}\n`);
if (args.mode === 'crash-after-start') process.kill(process.pid, 'SIGKILL');
