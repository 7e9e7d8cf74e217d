import { join } from 'node:path';
import { captureEvidence } from '@faultline/evidence';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  applyRlimits,
  installOrphanGuard,
  posixAvailable,
  RlimitError,
  readProcLimits,
  rlimitSupport,
  spawnLimited,
  waitForExit,
  waitForLine,
} from '../src/index.ts';
import { explainPosixError } from '../src/rlimit.ts';
import { fixture, tempDir } from './helpers.ts';

installOrphanGuard(afterEach);
const tmp = tempDir();
afterAll(tmp.cleanup);
const probe = fixture('limits-probe.mjs');
const MiB = 1024 * 1024;

async function probeWith(
  mode: string,
  limits: Parameters<typeof spawnLimited>[2],
  method?: 'preload' | 'prlimit',
  arg = '',
) {
  const limited = await spawnLimited(process.execPath, [probe, mode, arg], limits, method ? { method } : {});
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
    test(`RLIMIT_NOFILE=64 via ${method} starves the child of descriptors, with evidence read back from /proc`, async () => {
      const { log, restore } = captureEvidence(1000);
      try {
        const { line, method: used, applied, proc } = await probeWith('nofile', { nofile: 64 }, method);
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
              new RegExp(`^rlimit NOFILE=64 \\(hard 64\\) applied to pid ${proc.pid} \\(limits-probe.mjs\\) via`),
            ),
            attributes: expect.objectContaining({ pid: proc.pid, resource: 'NOFILE', soft: '64', hard: '64' }),
          }),
        ]);
      } finally {
        restore();
      }
    });
  }

  test('RLIMIT_FSIZE makes large writes fail with EFBIG', async () => {
    const { line, applied } = await probeWith('fsize', { fsize: { soft: MiB } }, undefined, join(tmp.dir, 'big.bin'));
    expect(applied.fsize.soft).toBe(MiB);
    expect(line).toBe('fsize EFBIG');
  });

  test('RLIMIT_AS makes a large allocation fail that succeeds without it', async () => {
    // Node reserves ~1.3 GiB of address space at start; 3 GiB leaves room to run but not for 2 GiB more.
    const limited = await probeWith('as', { as: 3 * 1024 * MiB }, 'preload', '2048');
    expect(limited.line).toBe('as failed');
    const unlimited = await probeWith('as', { nofile: 1024 }, 'preload', '2048');
    expect(unlimited.line).toBe(`as ok ${2048 * MiB}`);
  });

  test('RLIMIT_NPROC is applied and read back (root is exempt from enforcing it)', async () => {
    const { line, applied } = await probeWith('nofile', { nproc: { soft: 500, hard: 1000 } });
    expect(applied.nproc).toEqual({ soft: 500, hard: 1000 });
    expect(line).toMatch(/nofile opened/);
  });

  test('applyRlimits changes a running process with prlimit --pid and records it', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const { proc } = await spawnLimited(process.execPath, [probe, 'hold'], { nofile: 4096 });
      await waitForLine(proc, 'holding');
      const read = await applyRlimits(proc, { nofile: { soft: 100 } });
      expect(read.nofile.soft).toBe(100);
      expect(readProcLimits(proc.pid).nofile.soft).toBe(100);
      expect(log.entries.at(-1)).toMatchObject({
        kind: 'rlimit',
        attributes: { method: 'prlimit --pid', soft: '100' },
      });
      proc.kill();
      await proc.exited;
    } finally {
      restore();
    }
  });

  test('bad limits and impossible methods fail with clear messages', async () => {
    await expect(spawnLimited(process.execPath, [probe], {})).rejects.toThrow(/no rlimits given/);
    await expect(spawnLimited(process.execPath, [probe], { nofile: { soft: 10, hard: 5 } })).rejects.toThrow(
      /rlimit nofile: soft 10 exceeds hard 5/,
    );
    await expect(spawnLimited('/bin/true', [], { nofile: 64 }, { method: 'preload' })).rejects.toThrow(
      /method 'preload' needs a Node command/,
    );
    await expect(spawnLimited(process.execPath, [probe], { nofile: -1 })).rejects.toMatchObject({
      name: 'RlimitError',
      kind: 'spec',
    });
    await expect(spawnLimited('/bin/true', [], { nofile: 64 }, { method: 'preload' })).rejects.toBeInstanceOf(
      RlimitError,
    );
    expect(() => readProcLimits(2 ** 30)).toThrow(expect.objectContaining({ kind: 'proc' }));
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
