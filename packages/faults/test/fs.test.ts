import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actedOn, captureEvidence, type EvidenceLog } from '@faultline/evidence';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createFaultyFs, type FsPromises } from '../src/index.ts';

let dir: string;
let log: EvidenceLog;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faulty-fs-'));
  const capture = captureEvidence();
  log = capture.log;
  return capture.restore;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tiny piece of "code under test": writes a file durably through the fs it is given. */
async function saveDurably(fs: FsPromises, path: string, data: string): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    const { bytesWritten } = await handle.write(data);
    if (bytesWritten !== Buffer.byteLength(data)) throw new Error(`short write: ${bytesWritten} of ${data.length}`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

describe('createFaultyFs()', () => {
  test('ENOSPC on writeFile, scoped by path and count; the real fs is untouched', async () => {
    const { fs, control } = createFaultyFs({
      failOn: 'writeFile',
      error: 'ENOSPC',
      after: 1,
      path: join(dir, 'chunks'),
    });
    await fs.mkdir(join(dir, 'chunks'));
    await fs.writeFile(join(dir, 'chunks', 'a'), 'first'); // after: 1 lets it through
    await expect(fs.writeFile(join(dir, 'chunks', 'b'), 'second')).rejects.toMatchObject({
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
      path: join(dir, 'chunks', 'b'),
    });
    await fs.writeFile(join(dir, 'other'), 'outside the path'); // not matched
    await writeFile(join(dir, 'chunks', 'c'), 'real fs still works'); // no global patched
    expect(await readFile(join(dir, 'chunks', 'c'), 'utf8')).toBe('real fs still works');
    expect(control.injected).toBe(1);
    expect(control.callsOf('writeFile')).toBe(3);
    expect(log.entries).toMatchObject([
      { kind: 'fs-fault', name: 'writeFile', detail: 'writeFile failed with ENOSPC', source: '@faultline/faults' },
    ]);
  });

  test('EACCES on open and EIO on readFile, with times limiting the fault', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'data');
    const { fs, control } = createFaultyFs([
      { failOn: 'open', error: 'EACCES', times: 1 },
      { failOn: ['readFile'], path: /\/f$/ },
    ]);
    await expect(fs.open(path, 'r')).rejects.toMatchObject({ code: 'EACCES', syscall: 'open' });
    const h = await fs.open(path, 'r');
    await h.close();
    await expect(fs.readFile(path, 'utf8')).rejects.toMatchObject({ code: 'EIO', syscall: 'read' });
    control.heal();
    expect(await fs.readFile(path, 'utf8')).toBe('data');
  });

  test('fsync failure on a FileHandle reaches the code under test; close still releases the fd', async () => {
    const { fs } = createFaultyFs({ failOn: 'handle.sync', error: 'EIO' });
    await expect(saveDurably(fs, join(dir, 'journal'), 'entry')).rejects.toMatchObject({
      code: 'EIO',
      syscall: 'fsync',
    });
    expect(log.entries.map((e) => e.detail)).toEqual(['handle.sync failed with EIO']);
    const closing = createFaultyFs({ failOn: 'handle.close' });
    const h = await closing.fs.open(join(dir, 'x'), 'w');
    await expect(h.close()).rejects.toMatchObject({ code: 'EIO', syscall: 'close' });
    expect(h.fd).toBe(-1); // really closed
  });

  test('short writes: handle.write reports fewer bytes, writeFile leaves a torn file then fails', async () => {
    const { fs, control } = createFaultyFs([
      { failOn: 'handle.write', shortWrite: 3, times: 1 },
      { failOn: 'writeFile', shortWrite: 4 },
    ]);
    await expect(saveDurably(fs, join(dir, 'a'), 'abcdef')).rejects.toThrow('short write: 3 of 6');
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('abc');
    await saveDurably(fs, join(dir, 'a'), 'abcdef'); // times: 1, healthy again
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('abcdef');
    await expect(fs.writeFile(join(dir, 'b'), Buffer.from('0123456789'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('0123');
    expect(control.injected).toBe(2);
    expect(log.entries.map((e) => e.detail)).toEqual([
      'handle.write short write (3 of 6 bytes)',
      'writeFile wrote 4 of 10 bytes then failed with ENOSPC',
    ]);
  });

  test('a shortWrite rule larger than the write cuts nothing: the write is whole, no fault, only "did not act"', async () => {
    const { fs, control } = createFaultyFs([
      { failOn: 'handle.write', shortWrite: 100, times: 1 },
      { failOn: 'writeFile', shortWrite: 100 },
    ]);
    await saveDurably(fs, join(dir, 'a'), 'abcdef');
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('abcdef');
    await fs.writeFile(join(dir, 'b'), Buffer.from('0123456789'));
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('0123456789');
    expect(control.injected).toBe(0);
    expect(log.entries.filter(actedOn)).toEqual([]);
    expect(log.entries.map((e) => [e.detail, e.acted])).toEqual([
      ['handle.write shortWrite 100 did not act: no write was longer than 100 bytes, so none was cut', false],
      ['writeFile shortWrite 100 did not act: no write was longer than 100 bytes, so none was cut', false],
    ]);
  });

  test('a shortWrite rule that did not cut leaves its times for a write it can cut, and the evidence counts cut bytes', async () => {
    const { fs, control } = createFaultyFs({ failOn: 'handle.write', shortWrite: 4, times: 1 });
    await saveDurably(fs, join(dir, 'a'), 'abc'); // fits: not cut, the one fault is not spent
    await expect(saveDurably(fs, join(dir, 'a'), 'abcdefgh')).rejects.toThrow('short write: 4 of 8');
    expect(control.injected).toBe(1);
    expect(log.entries.filter(actedOn)).toEqual([
      expect.objectContaining({
        kind: 'fs-fault',
        detail: 'handle.write short write (4 of 8 bytes)',
        attributes: expect.objectContaining({ written: 4, requested: 8 }),
      }),
    ]);
  });

  test('concurrent writes cannot overrun times: only one of two is cut by a times: 1 rule', async () => {
    const { fs, control } = createFaultyFs({ failOn: 'handle.write', shortWrite: 2, times: 1 });
    const [a, b] = await Promise.all([fs.open(join(dir, 'a'), 'w'), fs.open(join(dir, 'b'), 'w')]);
    try {
      const results = await Promise.all([a.write('abcdef'), b.write('ghijkl')]);
      expect(results.map((r) => r.bytesWritten).sort()).toEqual([2, 6]);
      expect(control.injected).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('rules are validated when created', () => {
    expect(() => createFaultyFs({ failOn: 'wrietFile' as 'writeFile' })).toThrow(/unknown op "wrietFile"/);
    expect(() => createFaultyFs({ failOn: 'readFile', shortWrite: 2 })).toThrow(/shortWrite applies to/);
    expect(() => createFaultyFs({ failOn: 'writeFile', error: 'EWHAT' })).toThrow(/unknown errno code "EWHAT"/);
  });
});
