// The runner's own protections in one process: the run lock, the typed write failure, the interrupt
// handle. The same guarantees on real processes (signals, a full tmpfs, a read-only mount) are
// faultline's own matrix: faultline.matrix.yaml and suites/self.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { writeFileAtomic } from '../src/atomic.ts';
import { INTERRUPT_EXIT, interruptOf, interruptOnSignals } from '../src/interrupt.ts';
import { RunError, writeFailure } from '../src/run-error.ts';
import { acquireRunLock } from '../src/run-lock.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'faultline-reliability-'));
const saved = process.env.FAULTLINE_BREAK;
afterEach(() => {
  if (saved === undefined) delete process.env.FAULTLINE_BREAK;
  else process.env.FAULTLINE_BREAK = saved;
});

/** The pid of a process that ran and has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout);
}

describe('run lock', () => {
  test('a live holder is refused by name; release frees it for the next run', () => {
    const file = join(dir(), 'run.lock');
    const lock = acquireRunLock(file);
    const holder = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; host: string };
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => acquireRunLock(file)).toThrow(
      new RegExp(`another faultline run holds ${file} \\(pid ${process.pid}, started `),
    );
    lock.release();
    expect(existsSync(file)).toBe(false);
    acquireRunLock(file).release();
  });

  test("a dead holder's lock and a torn lock are taken over", () => {
    const file = join(dir(), 'run.lock');
    writeFileSync(file, JSON.stringify({ pid: deadPid(), startedAt: '2026-01-01T00:00:00Z', host: hostname() }));
    const taken = acquireRunLock(file);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    taken.release();
    writeFileSync(file, '{"pid": 12');
    acquireRunLock(file).release();
    expect(existsSync(file)).toBe(false);
  });

  test('a reused pid (same pid, another start time) is not the holder', () => {
    const file = join(dir(), 'run.lock');
    const stale = { pid: process.pid, startedAt: '2026-01-01T00:00:00Z', host: hostname(), startTicks: 1 };
    writeFileSync(file, JSON.stringify(stale));
    acquireRunLock(file).release();
  });

  test('FAULTLINE_BREAK=noRunLock takes no lock', () => {
    process.env.FAULTLINE_BREAK = 'noRunLock';
    const file = join(dir(), 'run.lock');
    acquireRunLock(file);
    acquireRunLock(file);
    expect(existsSync(file)).toBe(false);
  });
});

describe('write failures', () => {
  test('storage errors become one plain line naming the path; anything else stays as it was', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const failure = writeFailure('/r/l1.json', enospc);
    expect(failure).toBeInstanceOf(RunError);
    expect(failure).toMatchObject({ kind: 'cannot-write', path: '/r/l1.json', code: 'ENOSPC' });
    expect((failure as Error).message).toBe('cannot write /r/l1.json: no space left on the device (ENOSPC)');
    expect((writeFailure('/r', Object.assign(new Error('x'), { code: 'EROFS' })) as Error).message).toBe(
      'cannot write /r: the file system is read-only (EROFS)',
    );
    const bug = new TypeError('not a storage error');
    expect(writeFailure('/r', bug)).toBe(bug);
  });

  test('writeFileAtomic: an error that is not the disk (a file where a directory should be) surfaces as it is', () => {
    const root = dir();
    writeFileSync(join(root, 'reports'), 'a file, not a directory');
    // ENOTDIR is not a storage failure: it surfaces as it is (a bug in the caller's paths).
    expect(() => writeFileAtomic(join(root, 'reports', 'matrix.md'), 'x')).toThrow(/ENOTDIR|EEXIST/);
    expect(readdirSync(root)).toEqual(['reports']);
  });
});

describe('interrupt handle', () => {
  test('the first signal aborts with its name; the second exits at once with 128 + its number', () => {
    const exits: number[] = [];
    const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    const handle = interruptOnSignals(((code: number) => {
      exits.push(code);
    }) as (code: number) => never);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      expect(handle.signal.aborted).toBe(true);
      expect(interruptOf(handle.signal)).toEqual({ kind: 'interrupted', signal: 'SIGTERM' });
      expect(handle.received()).toBe('SIGTERM');
      expect(exits).toEqual([]);
      // The run finished stopping and let go of the handle while it writes its last line: a second
      // signal then must still exit with its code (CI's escalation), not kill it by default (code null).
      handle.dispose();
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([INTERRUPT_EXIT.SIGINT]);
    } finally {
      for (const name of ['SIGINT', 'SIGTERM'] as const) {
        for (const l of process.listeners(name)) if (!before[name].includes(l)) process.off(name, l);
      }
    }
  });

  test('without a signal, dispose gives the default behaviour back', () => {
    const listeners = process.listenerCount('SIGINT');
    interruptOnSignals(((code: number) => code) as (code: number) => never).dispose();
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  test('an abort that is not an interrupt is not mistaken for one', () => {
    const c = new AbortController();
    c.abort(new Error('timeout'));
    expect(interruptOf(c.signal)).toBeUndefined();
    expect(interruptOf(undefined)).toBeUndefined();
  });
});
