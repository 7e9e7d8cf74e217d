import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cfg, remove } from '@faultline/failpoints';
import { afterEach, describe, expect, test } from 'vitest';
import { CheckpointCorruptError, CheckpointStore, mergeCheckpoint } from '../src/index.ts';
import { cleanupTemps, tempDir, waitFor } from './helpers.ts';

const children: ChildProcess[] = [];
afterEach(async () => {
  remove('checkpoint.before-rename');
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cleanupTemps();
});

async function maxJournaled(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const seqs = text.split('\n').filter(Boolean).map(Number);
  return seqs.length === 0 ? null : Math.max(...seqs);
}

describe('CheckpointStore (checkpoint-monotonic, scan-resume)', () => {
  test('merge keeps max seq per key; unsafe mode lets a writer go backwards', () => {
    const at = 'now';
    expect(mergeCheckpoint({ seq: 5, updatedAt: at }, { seq: 3, updatedAt: at }).seq).toBe(5);
    expect(mergeCheckpoint({ seq: 5, updatedAt: at }, { seq: 7, updatedAt: at }).seq).toBe(7);
    expect(mergeCheckpoint({ seq: 5, updatedAt: at }, { seq: 3, updatedAt: at }, false).seq).toBe(3);
  });

  test('put/get round trip; a lower seq never overwrites a higher one', async () => {
    const file = join(await tempDir(), 'cp.json');
    const store = new CheckpointStore(file);
    expect(await store.get('k')).toBeUndefined();
    await store.put('k', 10, 'cursor-10');
    expect(await store.put('k', 4, 'cursor-4')).toMatchObject({ seq: 10, data: 'cursor-10' });
    await store.put('other', 1);
    expect(Object.keys(await store.readAll()).sort()).toEqual(['k', 'other']);
    const unsafe = new CheckpointStore(file, { monotonic: false });
    expect((await unsafe.put('k', 2)).seq).toBe(2);
  });

  test('concurrent writers in one process lose no key', async () => {
    const file = join(await tempDir(), 'cp.json');
    const a = new CheckpointStore(file);
    const b = new CheckpointStore(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).put(`key-${i}`, i)));
    const all = await a.readAll();
    expect(Object.keys(all)).toHaveLength(20);
    expect(Object.entries(all).every(([k, v]) => v.seq === Number(k.slice(4)))).toBe(true);
  });

  test('a lock left by a dead pid is broken; temp files of dead writers are swept', async () => {
    const dir = await tempDir();
    const file = join(dir, 'cp.json');
    const dead = 2 ** 22 + 12345; // above pid_max defaults: never a live process
    await writeFile(`${file}.lock`, JSON.stringify({ pid: dead, token: `${dead}-x`, at: 'then' }));
    await writeFile(`${file}.tmp-${dead}-abcd`, '{"half');
    const store = new CheckpointStore(file, { lockTimeoutMs: 2000 });
    await store.put('k', 1);
    expect((await store.get('k'))?.seq).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['cp.json']);
  });

  test('a failed write (checkpoint.before-rename) keeps the previous file intact', async () => {
    const dir = await tempDir();
    const file = join(dir, 'cp.json');
    const store = new CheckpointStore(file);
    await store.put('k', 1, 'one');
    cfg('checkpoint.before-rename', 'return(EIO)');
    await expect(store.put('k', 2, 'two')).rejects.toMatchObject({ code: 'EIO' });
    remove('checkpoint.before-rename');
    expect(await store.get('k')).toMatchObject({ seq: 1, data: 'one' });
    expect(await readdir(dir)).toEqual(['cp.json']);
  });

  test('a garbage file is reported, not silently reset', async () => {
    const file = join(await tempDir(), 'cp.json');
    await writeFile(file, 'not json');
    await expect(new CheckpointStore(file).readAll()).rejects.toBeInstanceOf(CheckpointCorruptError);
  });

  test('SIGKILL waves of 3 writer processes: file parses, stored >= journaled, never backwards', async () => {
    const dir = await tempDir();
    const file = join(dir, 'cp.json');
    const fixture = join(import.meta.dirname, 'fixtures', 'checkpoint-writer.ts');
    const wave = async (name: string, start: number) => {
      const journals = [0, 1, 2].map((i) => join(dir, `${name}-${i}.journal`));
      const procs = journals.map((journal, i) => {
        const child = spawn(process.execPath, [fixture, file, journal, `child-${i}`, String(start)], {
          stdio: 'ignore',
        });
        children.push(child);
        return child;
      });
      await waitFor(
        'every writer to journal at least 3 puts',
        async () => {
          const maxes = await Promise.all(journals.map(maxJournaled));
          return maxes.every((m) => m !== null && m >= start + 3);
        },
        15_000,
      );
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              p.once('exit', () => resolve());
              p.kill('SIGKILL');
            }),
        ),
      );
      const stored = await new CheckpointStore(file).readAll(); // parses: never torn
      for (const [i, journal] of journals.entries()) {
        expect(stored[`child-${i}`]!.seq).toBeGreaterThanOrEqual((await maxJournaled(journal))!);
      }
      return stored;
    };
    const first = await wave('w1', 0);
    const second = await wave('w2', 0); // restarts from 0: the merge must not let it rewind
    for (const key of Object.keys(first)) expect(second[key]!.seq).toBeGreaterThanOrEqual(first[key]!.seq);
  }, 40_000);
});
