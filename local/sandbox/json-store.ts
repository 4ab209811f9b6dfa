/**
 * A sandbox's state kept in one JSON file under the data directory, written
 * atomically (temp file + rename) after every change, so a sandbox killed at any
 * moment restarts with its last committed state.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Durable holder of one JSON-serialisable state object. */
export class JsonStore<State> {
  private state: State;
  private readonly file: string | undefined;

  /**
   * Loads `file` if it exists, else starts from `initial()`.
   * @param file absolute path, e.g. `.harmony/sandbox/odoo.json`; undefined keeps state in memory only
   */
  constructor(file: string | undefined, initial: () => State) {
    this.file = file;
    this.state = initial();
    if (file === undefined) return;
    try {
      this.state = JSON.parse(readFileSync(file, 'utf8')) as State;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.persist();
    }
  }

  /** The current state; mutate it only inside `update`. */
  get value(): State {
    return this.state;
  }

  /** Applies a change and writes the file before returning. */
  update<Result>(change: (state: State) => Result): Result {
    const result = change(this.state);
    this.persist();
    return result;
  }

  private persist(): void {
    if (this.file === undefined) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.state));
    renameSync(temporary, this.file);
  }
}
