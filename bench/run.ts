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

const results: BenchResult[] = [await benchBundles(), await benchStartup(), await benchIngress(), await benchCost()];

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
