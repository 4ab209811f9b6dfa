import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HubDatabase } from '../../local/sqlite/hub-database.ts';

const directories: string[] = [];
const databases: HubDatabase[] = [];

function open(directory = mkdtempSync(join(tmpdir(), 'harmony-hubdb-'))): { database: HubDatabase; directory: string } {
  directories.push(directory);
  const database = new HubDatabase({
    dataDirectory: directory,
    fileName: 'test.sqlite',
    synchronous: 'NORMAL',
    schema: 'CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)',
    schemaVersion: 1,
  });
  databases.push(database);
  return { database, directory };
}

const names = (database: HubDatabase) =>
  database.statement('SELECT name FROM rows ORDER BY id').all().map((row) => row.name);

afterEach(() => {
  for (const database of databases.splice(0)) database.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('HubDatabase.commitSoon (group commit)', () => {
  it('commits the work queued in one turn of the event loop in one transaction, each with its own result', async () => {
    const { database } = open();
    let commits = 0;
    const insert = (name: string) => () => {
      database.statement('INSERT INTO rows (name) VALUES (?)').run(name);
      return name.toUpperCase();
    };
    const original = database.transaction.bind(database);
    database.transaction = <Result>(work: () => Result): Result => {
      commits += 1;
      return original(work);
    };
    const results = await Promise.all(['a', 'b', 'c'].map((name) => database.commitSoon(insert(name))));
    expect(results).toEqual(['A', 'B', 'C']);
    expect(commits).toBe(1);
    expect(names(database)).toEqual(['a', 'b', 'c']);
    await database.commitSoon(insert('d'));
    expect(commits).toBe(2);
  });

  it('rolls back and rejects only the work that threw; the others in its group commit', async () => {
    const { database } = open();
    const outcomes = await Promise.allSettled([
      database.commitSoon(() => database.statement('INSERT INTO rows (name) VALUES (?)').run('kept')),
      database.commitSoon(() => {
        database.statement('INSERT INTO rows (name) VALUES (?)').run('half-written');
        throw new Error('work failed after its first write');
      }),
      database.commitSoon(() => database.statement('INSERT INTO rows (name) VALUES (?)').run('kept')),
      database.commitSoon(() => database.statement('INSERT INTO rows (name) VALUES (?)').run('also kept')),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('work failed after its first write');
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(names(database)).toEqual(['kept', 'also kept']);
  });

  it('has the group on disk when it resolves: a second open of the file sees it', async () => {
    const { database, directory } = open();
    await Promise.all([1, 2].map((n) => database.commitSoon(() => database.statement('INSERT INTO rows (name) VALUES (?)').run(`row ${n}`))));
    database.close();
    expect(names(open(directory).database)).toEqual(['row 1', 'row 2']);
  });
});
