// Append-only line journals: a worker appends each value it has durably done, fsyncing every line,
// so after a SIGKILL the journal is a lower bound on progress that the system under test must honour.
// Readers tolerate a torn last line (the kill can land mid-append); only complete lines count.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { CrashError } from './errors.ts';

export class Journal {
  readonly path: string;
  #fd: number | undefined;
  #count = 0;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'a');
  }

  /** Appends one line and fsyncs it before returning. */
  append(value: string | number): void {
    const text = String(value);
    if (text.includes('\n'))
      throw new CrashError('usage', `journal ${this.path}: a value may not contain a newline: ${JSON.stringify(text)}`);
    if (this.#fd === undefined)
      throw new CrashError('usage', `journal ${this.path} is closed; open a new Journal to append`);
    writeSync(this.#fd, `${text}\n`);
    fsyncSync(this.#fd);
    this.#count++;
  }

  /** Lines appended through this handle. */
  get appended(): number {
    return this.#count;
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Opens (creating if needed) a journal for appending. */
export function openJournal(path: string): Journal {
  return new Journal(path);
}

export interface JournalContents {
  /** Complete lines, in order. */
  entries: string[];
  /** A final line without its newline (the writer was killed mid-append), if any. */
  tornTail: string | undefined;
}

/** Reads a journal; a missing file is an empty journal. */
export function readJournal(path: string): JournalContents {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], tornTail: undefined };
    throw error;
  }
  const parts = raw.split('\n');
  const last = parts.pop() ?? '';
  return { entries: parts, tornTail: last === '' ? undefined : last };
}

/** Number of complete lines: the cheap progress measure for kill waves. */
export function journalLength(path: string): number {
  return readJournal(path).entries.length;
}

function numbers(path: string): number[] {
  return readJournal(path).entries.map((line, i) => {
    const n = Number(line);
    if (line.trim() === '' || !Number.isFinite(n)) {
      throw new CrashError('usage', `journal ${path}:${i + 1}: expected a number, got ${JSON.stringify(line)}`);
    }
    return n;
  });
}

/** The last complete numeric entry, or undefined for an empty journal. */
export function lastValue(path: string): number | undefined {
  return numbers(path).at(-1);
}

/** The largest complete numeric entry, or undefined for an empty journal. */
export function maxValue(path: string): number | undefined {
  const all = numbers(path);
  return all.length === 0 ? undefined : all.reduce((a, b) => Math.max(a, b));
}
