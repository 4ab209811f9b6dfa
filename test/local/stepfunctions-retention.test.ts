/**
 * Execution history does not grow forever: a stopped execution and its history are
 * deleted once they are older than the retention (AWS: 90 days), at start and hourly;
 * newer ones, and running ones, stay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, expect, it } from 'vitest';
import { type InvokeFunction, LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import { waitFor } from '../../local/wait-for.ts';
import { startSqs } from '../support/local-aws.ts';
import { orderToCashMachine, sagaInputFor } from '../support/order-to-cash-machine.ts';

const WHERE = { region: 'eu-west-1', accountId: '111111111111' };
const DAY_MS = 86_400_000;
const dataDir = mkdtempSync(join(tmpdir(), 'harmony-sfn-retention-'));
let sqs: Awaited<ReturnType<typeof startSqs>> | undefined;

afterAll(async () => {
  await sqs?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const succeedEverything: InvokeFunction = async () => ({ status: 'ok', result: { done: true }, durationMs: 1 });

it('deletes stopped executions older than the retention with their history, and keeps the rest', async () => {
  sqs = await startSqs();
  const { machine } = orderToCashMachine(sqs, WHERE);
  const open = () => new LocalStepFunctions({ machines: [machine], dataDir, invoke: succeedEverything, sqsEndpoint: sqs!.endpoint, ...WHERE, retryIntervalScale: 0 });
  const describe = (service: LocalStepFunctions, executionArn: string) =>
    service.handle('DescribeExecution', { executionArn }).then((answer) => (answer as { status: string }).status, (error: Error) => error.name);

  let service = open();
  const arns: string[] = [];
  for (const deal of ['old', 'recent']) {
    const started = (await service.handle('StartExecution', { stateMachineArn: machine.arn, name: `retention-${deal}`, input: JSON.stringify(sagaInputFor(deal)) })) as { executionArn: string };
    arns.push(started.executionArn);
    await waitFor(`execution ${deal} to succeed`, async () => ((await describe(service, started.executionArn)) === 'SUCCEEDED' ? true : undefined), { timeoutMs: 20_000 });
  }
  await service.close();

  // Age one execution past the retention, as 91 days of waiting would.
  const db = new DatabaseSync(join(dataDir, 'stepfunctions.sqlite'));
  db.prepare('UPDATE executions SET stop_date = ? WHERE arn = ?').run(Date.now() - 91 * DAY_MS, arns[0]!);
  db.close();

  service = open();
  try {
    expect(await describe(service, arns[0]!)).toBe('ExecutionDoesNotExist');
    expect(await describe(service, arns[1]!)).toBe('SUCCEEDED');
    const history = (await service.handle('GetExecutionHistory', { executionArn: arns[1]! })) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(5);
  } finally {
    await service.close();
  }
  const check = new DatabaseSync(join(dataDir, 'stepfunctions.sqlite'));
  try {
    expect(check.prepare('SELECT COUNT(*) AS n FROM history WHERE execution_arn = ?').get(arns[0]!)).toEqual({ n: 0 });
  } finally {
    check.close();
  }
});
