/**
 * `npm run bench`: runs every benchmark in this folder, prints their tables, writes
 * bench/results/<name>.json and refreshes the figures block of the README.
 */
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchBundles } from './bundles.ts';
import { benchCost } from './cost.ts';
import { benchStartup } from './startup.ts';
import { benchIngress } from './ingress.ts';
import { benchEndToEnd } from './e2e.ts';
import { benchN8n, n8nTable, type N8nBenchResult } from './n8n.ts';

/** One benchmark's printable outcome. */
export interface BenchResult {
  readonly name: string;
  readonly title: string;
  /** Markdown table lines (header first). */
  readonly table: readonly string[];
  readonly notes: readonly string[];
  readonly data: unknown;
}

const root = new URL('../', import.meta.url);
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);

const PEER_TARGET_RATIO = 5;

/** n8n's equivalent workflow in the same run, and Harmony's sustained sagas/s as a multiple of its executions/s. */
function peerResult(n8n: N8nBenchResult, harmonySagasPerSecond: number | undefined): BenchResult {
  const notes: string[] = [];
  if (n8n.installed && harmonySagasPerSecond !== undefined) {
    const ratio = harmonySagasPerSecond / n8n.perSecond;
    notes.push(
      `Harmony sustained ${harmonySagasPerSecond.toFixed(1)} complete order-to-cash sagas/s (above) against n8n's ${n8n.perSecond.toFixed(1)} executions/s: ${ratio.toFixed(2)}× — target ≥ ${PEER_TARGET_RATIO}×: ${ratio >= PEER_TARGET_RATIO ? 'met' : `missed (${(PEER_TARGET_RATIO / ratio).toFixed(1)}× short)`}. The work differs in Harmony's disfavour: n8n's workflow makes one ERP call and keeps no saga state; each Harmony saga reads the deal, finds or creates the customer, creates and confirms the order, writes the deal back, and commits every step (audit, claims, execution history) before the next.`,
    );
  }
  notes.push('n8n comes from `npm run bench:peers` (bench/peers/, not a Harmony dependency), runs with N8N_RUNNERS_ENABLED=false and N8N_DIAGNOSTICS_ENABLED=false against the same Odoo sandbox, and every 2xx was checked against a sale order created in the ERP.');
  return { name: 'peers', title: 'Peer: n8n, same machine, same run', table: n8nTable(n8n), notes, data: { n8n, harmonySagasPerSecond } };
}

const endToEnd = await benchEndToEnd({ log: (line) => console.error(line) });
const results: BenchResult[] = [
  await benchBundles(),
  await benchStartup(),
  await benchIngress(),
  endToEnd,
  peerResult(await benchN8n({ log: (line) => console.error(line) }), (endToEnd.data as { maximum?: number }).maximum),
  await benchCost(),
];

mkdirSync(new URL('bench/results/', root), { recursive: true });
const sections: string[] = [`Measured ${date} on ${machine}.`, ''];
for (const result of results) {
  writeFileSync(
    new URL(`bench/results/${result.name}.json`, root),
    `${JSON.stringify({ date, machine, ...(result.data as object) }, null, 2)}\n`,
  );
  sections.push(`**${result.title}**`, '', ...result.table, '', ...result.notes.map((note) => `${note}`), '');
  console.log(`\n${result.title}\n${result.table.join('\n')}\n${result.notes.join('\n')}`);
}

const readmeUrl = new URL('README.md', root);
const readme = readFileSync(readmeUrl, 'utf8');
const block = `<!-- bench:start -->\n${sections.join('\n').trim()}\n<!-- bench:end -->`;
writeFileSync(readmeUrl, readme.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, block));
console.log('\nREADME figures updated.');
