import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { writeFilesAtomic } from '../src/atomic.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A reports dir holding a previous set: junit/l1.xml, matrix.md, matrix.json. */
function previousSet(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-atomic-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'junit'));
  writeFileSync(join(dir, 'junit', 'l1.xml'), 'old l1');
  writeFileSync(join(dir, 'matrix.md'), 'old md');
  writeFileSync(join(dir, 'matrix.json'), 'old json');
  return dir;
}

/** Every file under `dir` with its text. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    try {
      out[name] = readFileSync(join(dir, name), 'utf8');
    } catch {
      out[name] = '<dir>';
    }
  }
  return out;
}

describe('writeFilesAtomic: a set of files published together', () => {
  test('replaces every file of the set, creates the new ones, leaves other files and no temp name', () => {
    const dir = previousSet();
    writeFileSync(join(dir, 'notes.txt'), 'the user’s');
    const written = writeFilesAtomic(dir, [
      { path: 'junit/l1.xml', content: 'new l1' },
      { path: 'junit/l2.xml', content: 'new l2' },
      { path: 'matrix.md', content: new TextEncoder().encode('new md') },
    ]);
    expect(written).toEqual([join(dir, 'junit/l1.xml'), join(dir, 'junit/l2.xml'), join(dir, 'matrix.md')]);
    expect(files(dir)).toEqual({
      junit: '<dir>',
      'junit/l1.xml': 'new l1',
      'junit/l2.xml': 'new l2',
      'matrix.json': 'old json',
      'matrix.md': 'new md',
      'notes.txt': 'the user’s',
    });
  });

  test('a rename that fails midway puts back what it had replaced and removes what was new', () => {
    const dir = previousSet();
    // A directory where the last file of the set goes: staging and backups succeed, its rename fails.
    mkdirSync(join(dir, 'matrix.html', 'in-the-way'), { recursive: true });
    const before = files(dir);
    expect(() =>
      writeFilesAtomic(dir, [
        { path: 'junit/l1.xml', content: 'new l1' },
        { path: 'junit/l2.xml', content: 'new l2' },
        { path: 'matrix.md', content: 'new md' },
        { path: 'matrix.html', content: 'new html' },
      ]),
    ).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(files(dir)).toEqual(before);
  });

  test('a file that cannot be staged fails before any published file is touched', () => {
    const dir = previousSet();
    writeFileSync(join(dir, 'blocker'), 'a file, not a directory');
    const before = files(dir);
    expect(() =>
      writeFilesAtomic(dir, [
        { path: 'matrix.md', content: 'new md' },
        { path: 'blocker/matrix.json', content: 'new json' },
      ]),
    ).toThrow(/ENOTDIR|EEXIST/);
    expect(files(dir)).toEqual(before);
  });

  test("a killed writer's temp names beside the set are removed by the next publish; a live run's are kept", () => {
    const dir = previousSet();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // reaped: its pid is gone
    for (const name of [`matrix.md.${dead}.new.tmp`, `matrix.md.${dead}.old.tmp`, `junit/l1.xml.${dead}.tmp`]) {
      writeFileSync(join(dir, name), 'left by a SIGKILLed run');
    }
    const live = `matrix.md.${process.ppid}.new.tmp`; // another run still publishing
    writeFileSync(join(dir, live), 'in flight');
    writeFileSync(join(dir, `notes.md.${dead}.tmp`), 'not a name of this set');
    writeFilesAtomic(dir, [
      { path: 'matrix.md', content: 'new md' },
      { path: 'junit/l1.xml', content: 'new l1' },
    ]);
    expect(Object.keys(files(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([live, `notes.md.${dead}.tmp`]);
  });
});
