// faulty() speaks the fail-rs grammar of @faultline/failpoints: the named modes are shorthands for
// chains, a chain behaves per call exactly as its named twin, and a bad chain fails when configured.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureEvidence, type EvidenceLog } from '@faultline/evidence';
import { FailpointConfigError, FailpointPanic, setSeed } from '@faultline/failpoints';
import { beforeEach, describe, expect, test } from 'vitest';
import {
  createFaultyFs,
  FailAfterN,
  FailSpec,
  type FaultMode,
  type FsFaultRule,
  faulty,
  Healthy,
  isInjectedFault,
  ReturnError,
} from '../src/index.ts';

let log: EvidenceLog;
beforeEach(() => {
  const capture = captureEvidence();
  log = capture.log;
  return capture.restore;
});

const counter = () => {
  let n = 0;
  return { next: () => ++n };
};

/** Ten calls through a wrapper in `mode`: 'ok' or the error code of each. */
function outcomes(mode: FaultMode | string): string[] {
  const { proxy } = faulty(counter(), mode, { name: 'counter' });
  return Array.from({ length: 10 }, () => {
    try {
      proxy.next();
      return 'ok';
    } catch (error) {
      return isInjectedFault(error) ? String((error as NodeJS.ErrnoException).code) : 'other';
    }
  });
}

describe('faulty() with a fail-rs chain', () => {
  test('each named mode and its chain give the same calls', () => {
    expect(outcomes('2*off->return(EIO)')).toEqual(outcomes(FailAfterN(2, 'EIO')));
    expect(outcomes('return(ENOSPC)')).toEqual(outcomes(ReturnError('ENOSPC')));
    expect(outcomes('off')).toEqual(outcomes(Healthy));
    expect(outcomes('2*off->return(EIO)')).toEqual(['ok', 'ok', ...Array(8).fill('EIO')]);
  });

  test('counts run out and the chain moves on, as for a failpoint', () => {
    expect(outcomes('1*off->2*return(EAGAIN)->off')).toEqual(['ok', 'EAGAIN', 'EAGAIN', ...Array(7).fill('ok')]);
    expect(outcomes('return')).toEqual(Array(10).fill('EIO'));
  });

  test('a probability replays with the run seed and is not constant', () => {
    setSeed(42);
    const first = outcomes('50%return(EIO)');
    expect(outcomes('50%return(EIO)')).toEqual(first);
    expect(first).toContain('ok');
    expect(first).toContain('EIO');
  });

  test('setMode and reset restart the chain; evidence names the chain', () => {
    const { proxy, control } = faulty(counter(), '1*return(EIO)->off', { name: 'counter' });
    expect(() => proxy.next()).toThrow(/EIO/);
    expect(proxy.next()).toBe(1);
    control.reset();
    expect(() => proxy.next()).toThrow(/EIO/);
    control.setMode(FailSpec('1*off->return(ENOSPC)'));
    expect(proxy.next()).toBe(2);
    expect(() => proxy.next()).toThrow(/ENOSPC/);
    // Repeats merge into one entry with a count.
    expect(log.entries.map((e) => [e.attributes?.mode, e.count])).toEqual([
      ['1*return(EIO)->off', 2],
      ['1*off->return(ENOSPC)', 1],
    ]);
  });

  test('sleep holds the call, then it goes through; panic throws a FailpointPanic', async () => {
    const { proxy } = faulty(counter(), '1*sleep(60)->panic(boom)', { name: 'counter' });
    const started = performance.now();
    await expect(proxy.next()).resolves.toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(() => proxy.next()).toThrow(FailpointPanic);
    expect(log.entries.map((e) => e.detail)).toEqual([
      'counter.next held 60 ms (1*sleep(60)->panic(boom))',
      'counter.next panicked (1*sleep(60)->panic(boom))',
    ]);
  });

  test('a bad chain fails when configured, naming what is wrong', () => {
    expect(() => faulty(counter(), '2*of->return(EIO)')).toThrow(FailpointConfigError);
    expect(() => FailSpec('return(EIOO)')).toThrow(/unknown errno code "EIOO"/);
    expect(() => FailSpec('pause')).toThrow(/"pause" has no meaning for one call of a faulty\(\) target/);
  });
});

describe('createFaultyFs rules with a fail-rs chain', () => {
  /** Five writeFile calls under one rule: 'ok' or the error code of each. */
  async function writes(rule: FsFaultRule): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-spec-'));
    const { fs } = createFaultyFs(rule);
    const out: string[] = [];
    for (let i = 0; i < 5; i++) {
      out.push(
        await fs.writeFile(join(dir, `f${i}`), 'x').then(
          () => 'ok',
          (e: NodeJS.ErrnoException) => String(e.code),
        ),
      );
    }
    await rm(dir, { recursive: true, force: true });
    return out;
  }

  test('a chain and its after/times/error twin fail the same calls', async () => {
    const chain = await writes({ failOn: 'writeFile', spec: '2*off->1*return(ENOSPC)' });
    expect(chain).toEqual(['ok', 'ok', 'ENOSPC', 'ok', 'ok']);
    expect(chain).toEqual(await writes({ failOn: 'writeFile', after: 2, times: 1, error: 'ENOSPC' }));
    expect(await writes({ failOn: 'writeFile', spec: 'return' })).toEqual(Array(5).fill('EIO'));
  });

  test('a chain is checked when the fs is made', () => {
    expect(() => createFaultyFs({ failOn: 'writeFile', spec: 'return(ENOSPC)', times: 1 })).toThrow(
      /spec replaces times; give one or the other/,
    );
    expect(() => createFaultyFs({ failOn: 'writeFile', spec: 'sleep(10)' })).toThrow(
      /"sleep" has no meaning for an fs call/,
    );
    expect(() => createFaultyFs({ failOn: 'writeFile', spec: 'return(ENOPE)' })).toThrow(/unknown errno code "ENOPE"/);
  });
});
