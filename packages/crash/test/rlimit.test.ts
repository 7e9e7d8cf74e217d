import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actedOn, captureEvidence, type EvidenceLog } from '@faultline/evidence';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  applyRlimits,
  CrashError,
  installOrphanGuard,
  type Rlimits,
  rlimitSupport,
  spawnManaged,
  waitForExit,
  waitForLine,
} from '../src/index.ts';
import { explainPosixError, posixAvailable, readProcLimits } from '../src/rlimit.ts';
import { fixture, tempDir } from './helpers.ts';

installOrphanGuard(afterEach);
const tmp = tempDir();
afterAll(tmp.cleanup);
const probe = fixture('limits-probe.mjs');
const MiB = 1024 * 1024;

async function probeWith(mode: string, limits: Rlimits, method?: 'preload' | 'prlimit', arg = '') {
  const limited = await spawnManaged(
    process.execPath,
    [probe, mode, arg],
    method ? { method, rlimits: limits } : { rlimits: limits },
  );
  const line = await waitForLine(limited.proc, new RegExp(`^${mode} `));
  await waitForExit(limited.proc);
  return { ...limited, line: line.input };
}

describe('resource limits', () => {
  test('the posix addon loads, so Node children get limits from the preload', () => {
    expect(posixAvailable()).toBe(true);
    expect(rlimitSupport()).toEqual({ method: 'preload', summary: 'preload via posix addon', prlimit: true });
  });

  for (const method of ['preload', 'prlimit'] as const) {
    test(`RLIMIT_NOFILE=64 via ${method} starves the child of descriptors: read back from /proc, the hit is the evidence`, async () => {
      const { log, restore } = captureEvidence(1000);
      try {
        const { line, method: used, applied, proc, settled } = await probeWith('nofile', { nofile: 64 }, method);
        await settled;
        expect(used).toBe(method);
        expect(applied.nofile).toEqual({ soft: 64, hard: 64 });
        const [, opened, code] = /nofile opened (\d+) (\w+)/.exec(line)!;
        expect(Number(opened)).toBeLessThan(64);
        expect(code).toBe('EMFILE');
        expect(log.entries).toEqual([
          expect.objectContaining({
            kind: 'rlimit',
            name: 'NOFILE',
            detail: expect.stringMatching(
              new RegExp(
                `^rlimit NOFILE=64 \\(hard 64\\) hit by pid ${proc.pid} \\(limits-probe.mjs\\): EMFILE in its output; peak \\d+ of 64 fds \\(via`,
              ),
            ),
            attributes: expect.objectContaining({ pid: proc.pid, resource: 'NOFILE', soft: '64', hit: true }),
          }),
        ]);
      } finally {
        restore();
      }
    });
  }

  test('RLIMIT_FSIZE makes large writes fail with EFBIG', async () => {
    const { line, applied, settled } = await probeWith(
      'fsize',
      { fsize: { soft: MiB } },
      undefined,
      join(tmp.dir, 'big.bin'),
    );
    expect(applied.fsize.soft).toBe(MiB);
    expect(line).toBe('fsize EFBIG');
    expect(await settled).toEqual([
      // Whichever sees it first: the sampler (the file's size at the limit) or the child's EFBIG line.
      expect.objectContaining({
        resource: 'fsize',
        hit: true,
        hitBy: expect.stringMatching(/^(EFBIG in its output|peak reached the limit)$/),
      }),
    ]);
  });

  test('RLIMIT_AS makes a large allocation fail that succeeds without it', async () => {
    // Node reserves ~1.3 GiB of address space at start; 3 GiB leaves room to run but not for 2 GiB more.
    const limited = await probeWith('as', { as: 3 * 1024 * MiB }, 'preload', '2048');
    expect(limited.line).toMatch(/^as failed: .*allocation failed/);
    expect(await limited.settled).toEqual([
      expect.objectContaining({
        resource: 'as',
        hit: true,
        hitBy: expect.stringMatching(/allocation failed in its output/),
      }),
    ]);
    const unlimited = await probeWith('as', { nofile: 1024 }, 'preload', '2048');
    expect(unlimited.line).toBe(`as ok ${2048 * MiB}`);
  });

  test('RLIMIT_NPROC is applied and read back (root is exempt from enforcing it)', async () => {
    const { line, applied, settled } = await probeWith('nofile', { nproc: { soft: 500, hard: 1000 } });
    expect(applied.nproc).toEqual({ soft: 500, hard: 1000 });
    expect(line).toMatch(/nofile opened/);
    // A Node process runs several threads, all tasks under RLIMIT_NPROC, far below 500: did not act.
    const [usage] = await settled;
    expect(usage).toMatchObject({ resource: 'nproc', unit: 'tasks', hit: false });
    expect(usage!.peak).toBeGreaterThan(1);
    expect(usage!.peak).toBeLessThan(500);
  });

  test('applyRlimits changes a running process with prlimit --pid; a limit it never came near does not act', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const { proc } = await spawnManaged(process.execPath, [probe, 'hold'], { rlimits: { nofile: 4096 } });
      await waitForLine(proc, 'holding');
      const read = await applyRlimits(proc, { nofile: { soft: 100 } });
      expect(read.nofile.soft).toBe(100);
      expect(readProcLimits(proc.pid).nofile.soft).toBe(100);
      proc.kill();
      await read.settled;
      expect(log.entries.at(-1)).toMatchObject({
        kind: 'rlimit',
        acted: false,
        attributes: { method: 'prlimit --pid', soft: '100', hit: false },
      });
      expect(covering(log)).toEqual([]);
    } finally {
      restore();
    }
  });

  test('bad limits and impossible methods fail with clear messages', async () => {
    await expect(spawnManaged(process.execPath, [probe], { rlimits: {} })).rejects.toThrow(/no rlimits given/);
    await expect(
      spawnManaged(process.execPath, [probe], { rlimits: { nofile: { soft: 10, hard: 5 } } }),
    ).rejects.toThrow(/rlimit nofile: soft 10 exceeds hard 5/);
    await expect(spawnManaged('/bin/true', [], { method: 'preload', rlimits: { nofile: 64 } })).rejects.toThrow(
      /method 'preload' needs a Node command/,
    );
    await expect(spawnManaged(process.execPath, [probe], { rlimits: { nofile: -1 } })).rejects.toMatchObject({
      name: 'CrashError',
      kind: 'usage',
    });
    await expect(spawnManaged('/bin/true', [], { method: 'preload', rlimits: { nofile: 64 } })).rejects.toBeInstanceOf(
      CrashError,
    );
    expect(() => readProcLimits(2 ** 30)).toThrow(expect.objectContaining({ kind: 'unavailable' }));
  });
});

/** Runs `body` with TMPDIR pointing at a fresh directory, so leftovers there are ours alone. */
async function withOwnTmpdir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-rlimit-tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    await body(dir);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

const covering = (log: EvidenceLog) => log.entries.filter(actedOn);

describe('rlimit evidence says how close the child came to the limit', () => {
  for (const method of ['preload', 'prlimit'] as const) {
    test(`a child that never opens a file under NOFILE=256 (${method}) records nothing that covers, and says why`, async () => {
      const { log, restore } = captureEvidence(1000);
      try {
        const limited = await spawnManaged(process.execPath, [probe, 'hold'], { method, rlimits: { nofile: 256 } });
        await waitForLine(limited.proc, 'holding');
        limited.proc.kill('SIGTERM');
        const usage = await limited.settled;
        expect(covering(log)).toEqual([]);
        expect(usage).toEqual([
          expect.objectContaining({ resource: 'nofile', limit: 256, hit: false, peak: expect.any(Number) }),
        ]);
        expect(usage[0]!.peak).toBeGreaterThan(0);
        expect(usage[0]!.peak).toBeLessThan(256);
        expect(log.entries).toEqual([
          expect.objectContaining({
            kind: 'rlimit',
            name: 'NOFILE',
            acted: false,
            detail: expect.stringMatching(
              new RegExp(
                `^rlimit NOFILE=256 did not act on pid ${limited.proc.pid} \\(limits-probe.mjs\\): peak \\d+ of 256 fds, no EMFILE/ENFILE seen$`,
              ),
            ),
          }),
        ]);
      } finally {
        restore();
      }
    });
  }

  test('a limit equal to the inherited one changes nothing: no covering evidence even when the child hits it', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const inherited = readProcLimits(process.pid).nofile;
      const limits = { nofile: { soft: inherited.soft!, hard: inherited.hard! } };
      const limited = await spawnManaged(process.execPath, [probe, 'hold'], { rlimits: limits });
      await waitForLine(limited.proc, 'holding');
      limited.proc.kill('SIGTERM');
      await limited.settled;
      expect(covering(log)).toEqual([]);
      expect(log.entries.map((e) => e.detail)).toEqual([
        expect.stringMatching(
          /^rlimit NOFILE=\d+ did not act on pid \d+ \(limits-probe.mjs\): equal to the limit it inherited/,
        ),
      ]);
    } finally {
      restore();
    }
  });

  test('a child that runs out of descriptors records the hit with its peak', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const limited = await spawnManaged(process.execPath, [probe, 'nofile'], { rlimits: { nofile: 64 } });
      await waitForLine(limited.proc, /^nofile /);
      const usage = await limited.settled;
      expect(usage[0]).toMatchObject({ resource: 'nofile', limit: 64, hit: true });
      expect(covering(log)).toEqual([
        expect.objectContaining({
          kind: 'rlimit',
          name: 'NOFILE',
          detail: expect.stringMatching(
            new RegExp(`^rlimit NOFILE=64 \\(hard 64\\) hit by pid ${limited.proc.pid} \\(limits-probe.mjs\\): `),
          ),
          attributes: expect.objectContaining({ resource: 'NOFILE', soft: '64', hit: true }),
        }),
      ]);
    } finally {
      restore();
    }
  });

  test('no faultline-rlimits-*.txt report file is left in the temp dir', async () => {
    await withOwnTmpdir(async (dir) => {
      // An inherited-equal limit shows in /proc before the preload ran: the read-back must still
      // wait for (and remove) the preload's report, not race it.
      const { soft, hard } = readProcLimits(process.pid).nofile;
      for (const limits of [{ nofile: 512 }, { nofile: { soft: soft!, hard: hard! } }]) {
        const limited = await spawnManaged(process.execPath, [probe, 'hold'], { method: 'preload', rlimits: limits });
        await waitForLine(limited.proc, 'holding');
        limited.proc.kill('SIGKILL');
        await limited.proc.exited;
      }
      const quick = await spawnManaged(process.execPath, ['-e', ''], { method: 'preload', rlimits: { nofile: 512 } });
      await quick.proc.exited;
      expect(readdirSync(dir).filter((f) => f.startsWith('faultline-rlimits-'))).toEqual([]);
    });
  });
});

describe('why the posix addon does not load', () => {
  test('the common causes come with the fix, anything else is quoted on one bounded line', () => {
    expect(explainPosixError("Cannot find module 'posix'\nRequire stack:\n- /x.js")).toBe(
      'posix is not installed (an optional dependency)',
    );
    expect(
      explainPosixError(
        "The module '/p/posix.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115.",
      ),
    ).toBe('posix was built for another Node.js version (`npm rebuild posix`)');
    expect(explainPosixError('unable to load the node-posix extension module')).toMatch(
      /^posix was never built: npm did not run its install script/,
    );
    expect(explainPosixError(`odd\n  failure ${'x'.repeat(300)}`)).toMatch(/^odd failure x+…$/);
    expect(explainPosixError('x'.repeat(300))).toHaveLength(200);
  });
});
