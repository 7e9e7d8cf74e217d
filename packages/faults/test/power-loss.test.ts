// Each rule of the power-loss model, on real files in a temp dir, through the tracked fs.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actedOn, captureEvidence, type EvidenceLog } from '@faultline/evidence';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createPowerLossFs, type FsPromises, PowerLossModel } from '../src/index.ts';

let dir: string;
let log: EvidenceLog;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'power-loss-'));
  const capture = captureEvidence();
  log = capture.log;
  return capture.restore;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(fs: FsPromises, path: string, data: string, sync = true): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    await handle.write(data);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(fs: FsPromises, path: string): Promise<void> {
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The classic atomic replace: temp, (fsync), rename, (dir fsync). */
async function replace(fs: FsPromises, path: string, data: string, opts: { fsync: boolean; dirsync: boolean }) {
  const temp = `${path}.tmp`;
  await put(fs, temp, data, opts.fsync);
  await fs.rename(temp, path);
  if (opts.dirsync) await syncDir(fs, dir);
}

describe('createPowerLossFs(): the durability model', () => {
  test('what existed when tracking began is durable: unsynced changes to it are rolled back', async () => {
    await writeFile(join(dir, 'old.txt'), 'original');
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await fs.writeFile(join(dir, 'old.txt'), 'overwritten, never synced');
    const report = powerLoss();
    expect(await readFile(join(dir, 'old.txt'), 'utf8')).toBe('original');
    expect(report.rolledBack).toEqual([{ path: 'old.txt', bytesLost: 24 }]); // 25 bytes, 1 shared with 'original'
  });

  test('file data is what it held at its last fsync; later writes are lost', async () => {
    await writeFile(join(dir, 'log.txt'), '');
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    const handle = await fs.open(join(dir, 'log.txt'), 'a');
    await handle.write('line 1\n');
    await handle.sync();
    await handle.write('line 2\n');
    await handle.close();
    const report = powerLoss();
    expect(await readFile(join(dir, 'log.txt'), 'utf8')).toBe('line 1\n');
    expect(report.bytesLost).toBe(7);
  });

  test('a new file whose directory was never fsynced is absent', async () => {
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await put(fs, join(dir, 'new.txt'), 'synced data, unsynced name');
    const report = powerLoss();
    expect(existsSync(join(dir, 'new.txt'))).toBe(false);
    expect(report.removed).toEqual(['new.txt']);
  });

  test('a new file whose name was made durable but whose data never was comes back empty', async () => {
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await put(fs, join(dir, 'new.txt'), 'never synced', false);
    await syncDir(fs, dir);
    powerLoss();
    expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('');
  });

  test('temp + fsync + rename + directory fsync survives whole', async () => {
    await writeFile(join(dir, 'state.json'), '{"v":1}');
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await replace(fs, join(dir, 'state.json'), '{"v":2}', { fsync: true, dirsync: true });
    const report = powerLoss();
    expect(await readFile(join(dir, 'state.json'), 'utf8')).toBe('{"v":2}');
    expect(await readdir(dir)).toEqual(['state.json']);
    expect(report.bytesLost).toBe(0);
    // nothing was lost: the entry says the fault did not act (it covers nothing)
    expect(log.entries.filter(actedOn)).toEqual([]);
    expect(log.entries[0]).toMatchObject({ kind: 'power-loss', acted: false });
  });

  test('without the directory fsync the rename is undone: the old version is back', async () => {
    await writeFile(join(dir, 'state.json'), '{"v":1}');
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await replace(fs, join(dir, 'state.json'), '{"v":2}', { fsync: true, dirsync: false });
    const report = powerLoss();
    expect(await readFile(join(dir, 'state.json'), 'utf8')).toBe('{"v":1}');
    expect(await readdir(dir)).toEqual(['state.json']); // the temp name was never durable either
    expect(report.renamesUndone).toEqual(['state.json.tmp -> state.json']);
  });

  test('without the fsync before the rename the new name is durable but its data is not: empty file', async () => {
    await writeFile(join(dir, 'state.json'), '{"v":1}');
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await replace(fs, join(dir, 'state.json'), '{"v":2}', { fsync: false, dirsync: true });
    const report = powerLoss();
    expect(await readFile(join(dir, 'state.json'), 'utf8')).toBe('');
    expect(report.rolledBack).toEqual([{ path: 'state.json', bytesLost: 7 }]);
    expect(log.entries.filter(actedOn)).toMatchObject([
      { kind: 'power-loss', attributes: { filesRolledBack: 1, bytesLost: 7, renamesUndone: 0 } },
    ]);
  });

  test('an unlink is durable only after the directory fsync', async () => {
    await writeFile(join(dir, 'a'), 'A');
    await writeFile(join(dir, 'b'), 'B');
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await fs.unlink(join(dir, 'a'));
    await fs.unlink(join(dir, 'b'));
    const first = powerLoss();
    expect((await readdir(dir)).sort()).toEqual(['a', 'b']);
    expect(first.restored.sort()).toEqual(['a', 'b']);
    await fs.unlink(join(dir, 'a'));
    await syncDir(fs, dir);
    powerLoss();
    expect(await readdir(dir)).toEqual(['b']);
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('B');
  });

  test('a new directory needs its parent fsynced; its contents go with it', async () => {
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await fs.mkdir(join(dir, 'ab', 'cd'), { recursive: true });
    await put(fs, join(dir, 'ab', 'cd', 'x'), 'x');
    await syncDir(fs, join(dir, 'ab', 'cd'));
    await syncDir(fs, join(dir, 'ab'));
    const lost = powerLoss(); // `ab` itself was never made durable in the root
    expect(await readdir(dir)).toEqual([]);
    expect(lost.removed).toEqual(['ab']);
    await fs.mkdir(join(dir, 'ab', 'cd'), { recursive: true });
    await put(fs, join(dir, 'ab', 'cd', 'x'), 'x');
    for (const d of [join(dir, 'ab', 'cd'), join(dir, 'ab'), dir]) await syncDir(fs, d);
    powerLoss();
    expect(await readFile(join(dir, 'ab', 'cd', 'x'), 'utf8')).toBe('x');
  });

  test('a hard link is a name like any other; fsync through either name syncs the one inode', async () => {
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    await put(fs, join(dir, 'owner'), 'v1');
    await fs.link(join(dir, 'owner'), join(dir, 'lock'));
    await syncDir(fs, dir);
    const handle = await fs.open(join(dir, 'lock'), 'w');
    await handle.write('v2');
    await handle.sync();
    await handle.close();
    powerLoss();
    expect(await readFile(join(dir, 'owner'), 'utf8')).toBe('v2');
    expect(await readFile(join(dir, 'lock'), 'utf8')).toBe('v2');
  });

  test('paths outside the root are not tracked; fault rules still apply', async () => {
    const inside = join(dir, 'in');
    await mkdir(inside);
    const { fs, control, powerLoss } = createPowerLossFs({
      root: inside,
      rules: { failOn: 'rename', error: 'EIO', times: 1 },
    });
    await fs.writeFile(join(dir, 'outside.txt'), 'not tracked');
    await expect(fs.rename(join(dir, 'outside.txt'), join(dir, 'o2'))).rejects.toMatchObject({ code: 'EIO' });
    expect(control.injected).toBe(1);
    powerLoss();
    expect(await readFile(join(dir, 'outside.txt'), 'utf8')).toBe('not tracked');
  });

  test('inode numbers reused by new files do not confuse the model (the checkpoint store pattern)', async () => {
    // Each round frees inodes (the replaced file, the lock owner) that the next round's files
    // may get again: a new file must still count as new, and its fsync must not reach a dead file.
    const { fs, powerLoss } = createPowerLossFs({ root: dir });
    const file = join(dir, 'checkpoints.json');
    for (let seq = 1; seq <= 40; seq++) {
      await fs.writeFile(join(dir, 'owner'), `owner ${seq}`);
      await fs.link(join(dir, 'owner'), join(dir, 'lock'));
      await replace(fs, file, `{"seq":${seq}}`, { fsync: true, dirsync: true });
      await fs.unlink(join(dir, 'lock'));
      await fs.unlink(join(dir, 'owner'));
    }
    // a last round that dies before its rename: synced temp file, never renamed, then unlinked
    await put(fs, `${file}.tmp`, '{"seq":41}');
    await fs.unlink(`${file}.tmp`);
    powerLoss();
    expect(await readFile(file, 'utf8')).toBe('{"seq":40}');
  });

  test('the model replays an l2 journal the same way (ops by path and inode)', async () => {
    await writeFile(join(dir, 'f'), 'durable');
    const model = new PowerLossModel(dir);
    await writeFile(join(dir, 'f'), 'volatile');
    model.apply({ op: 'write', path: join(dir, 'f'), bytes: 8 });
    const report = model.powerLoss();
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('durable');
    expect(report.ops).toBe(1);
  });
});
