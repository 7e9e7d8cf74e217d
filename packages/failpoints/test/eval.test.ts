// Checklist §7 "Evaluation", items 7-16, plus evidence and seeded replay.
import { captureEvidence, type EvidenceLog } from '@faultline/evidence';
import { beforeEach, describe, expect, test } from 'vitest';
import {
  count,
  FailpointError,
  FailpointPanic,
  failpoint,
  failpointAsync,
  getSeed,
  scenario,
  setLogger,
  setSeed,
} from '../src/index.ts';

let log: EvidenceLog;
beforeEach(() => {
  const capture = captureEvidence();
  log = capture.log;
  return capture.restore;
});

const num = (arg: string | undefined) => (arg === undefined ? 2 : Number(arg));

describe('evaluation', () => {
  test('7: an unconfigured name and an off point are no-ops, and off records no evidence', () =>
    scenario((fp) => {
      let called = false;
      expect(failpoint('eval-7', () => (called = true))).toBeUndefined();
      fp.cfg('eval-7', 'off');
      expect(failpoint('eval-7', () => (called = true))).toBeUndefined();
      expect(called).toBe(false);
      expect(fp.count('eval-7')).toBe(1); // off triggers (consumes count), as in fail-rs
      expect(log.entries).toEqual([]);
    }));

  test('8: return(v) gives onReturn(v); return without onReturn throws', () =>
    scenario(async (fp) => {
      fp.cfg('eval-8', 'return(1000)');
      expect(failpoint('eval-8', num)).toBe(1000);
      expect(await failpointAsync('eval-8', async (a) => num(a) + 1)).toBe(1001);
      fp.cfg('eval-8', 'return');
      expect(failpoint('eval-8', num)).toBe(2);
      expect(() => failpoint('eval-8')).toThrow('Return is not supported for the fail point "eval-8"');
      await expect(failpointAsync('eval-8')).rejects.toThrow(FailpointError);
    }));

  test('9: sleep waits at least ms, delay busy-waits at least ms, yield returns', () =>
    scenario(async (fp) => {
      fp.cfg('eval-9', 'sleep(60)');
      let t = performance.now();
      expect(await failpointAsync('eval-9')).toBeUndefined();
      expect(performance.now() - t).toBeGreaterThanOrEqual(55);
      fp.cfg('eval-9', 'delay(30)');
      t = performance.now();
      await failpointAsync('eval-9');
      expect(performance.now() - t).toBeGreaterThanOrEqual(29);
      fp.cfg('eval-9', 'yield');
      expect(await failpointAsync('eval-9')).toBeUndefined();
    }));

  test('9b: the sync form refuses waiting tasks instead of blocking the event loop', () =>
    scenario((fp) => {
      for (const spec of ['sleep(10)', 'delay(10)', 'pause', 'yield']) {
        fp.cfg('eval-9b', spec);
        expect(() => failpoint('eval-9b'), spec).toThrow(/use failpointAsync|call it with failpointAsync/);
      }
    }));

  test('10: panic throws "failpoint NAME panic"; panic(msg) throws msg', () =>
    scenario(async (fp) => {
      fp.cfg('eval-10', 'panic');
      expect(() => failpoint('eval-10')).toThrow(new FailpointPanic('eval-10', 'failpoint eval-10 panic'));
      expect(() => failpoint('eval-10')).toThrow(/^failpoint eval-10 panic$/);
      fp.cfg('eval-10', 'panic(disk on fire)');
      await expect(failpointAsync('eval-10')).rejects.toThrow(/^disk on fire$/);
    }));

  test('11: print logs "failpoint NAME executed." or msg, and records evidence', () =>
    scenario((fp) => {
      const lines: string[] = [];
      const previous = setLogger((line) => lines.push(line));
      try {
        fp.cfg('eval-11', 'print');
        failpoint('eval-11');
        fp.cfg('eval-11', 'print(still alive!)');
        failpoint('eval-11');
      } finally {
        setLogger(previous);
      }
      expect(lines).toEqual(['failpoint eval-11 executed.', 'still alive!']);
      expect(log.entries.map((e) => e.detail)).toEqual([
        'failpoint "eval-11" fired print',
        'failpoint "eval-11" fired print(still alive!)',
      ]);
    }));

  test('12: first triggering action wins; 50%50*return(1)->50%50*return(-1)->50*return fires exactly 50 of each', () =>
    scenario((fp) => {
      fp.cfg('eval-12', '50%50*return(1)->50%50*return(-1)->50*return');
      const tally = new Map<string, number>();
      let sum = 0;
      for (let i = 0; i < 5000; i++) {
        const r = failpoint('eval-12', (arg) => arg ?? 'none');
        if (r !== undefined) tally.set(r, (tally.get(r) ?? 0) + 1);
        sum += r === undefined ? 0 : num(r === 'none' ? undefined : r);
      }
      expect(Object.fromEntries(tally)).toEqual({ '1': 50, '-1': 50, none: 50 });
      expect(sum).toBe(100);
      expect(failpoint('eval-12', num)).toBeUndefined();
      // Evidence merges per action: three entries, 50 each.
      expect(log.entries).toHaveLength(3);
      expect(log.entries.map((e) => [e.detail, e.count])).toEqual(
        expect.arrayContaining([
          ['failpoint "eval-12" fired return', 50],
          ['failpoint "eval-12" fired return(-1)', 50],
          ['failpoint "eval-12" fired return(1)', 50],
        ]),
      );
    }));

  test('13: 80%100*return takes 111-143 hits for 100 triggers, then never triggers; count only on trigger', () =>
    scenario((fp) => {
      for (const seed of [1, 2, 3, 42, 2024]) {
        setSeed(seed);
        fp.cfg('eval-13', '80%100*return');
        let hits = 0;
        let triggers = 0;
        while (triggers < 100) {
          hits++;
          if (failpoint('eval-13', () => true)) triggers++;
        }
        expect(hits, `seed ${seed}`).toBeGreaterThan(111);
        expect(hits, `seed ${seed}`).toBeLessThan(143);
        for (let i = 0; i < hits; i++) expect(failpoint('eval-13', () => true)).toBeUndefined();
        expect(fp.count('eval-13')).toBe(100);
      }
    }));

  test('14: 3*off->return is 3 no-ops then return; 0*return never fires', () =>
    scenario((fp) => {
      fp.cfg('eval-14', '3*off->return(x)');
      const seen = Array.from({ length: 5 }, () => failpoint('eval-14', (a) => a));
      expect(seen).toEqual([undefined, undefined, undefined, 'x', 'x']);
      fp.cfg('eval-14', '0*return');
      for (let i = 0; i < 10; i++) expect(failpoint('eval-14', () => 1)).toBeUndefined();
      expect(fp.count('eval-14')).toBe(0);
    }));

  test('15: the count is exact under concurrency', () =>
    scenario(async (fp) => {
      fp.cfg('eval-15', '100*return');
      const results = await Promise.all(
        Array.from({ length: 1000 }, async () => {
          await new Promise((r) => setImmediate(r));
          return failpointAsync('eval-15', () => 1);
        }),
      );
      expect(results.filter((r) => r === 1)).toHaveLength(100);
      expect(count('eval-15')).toBe(100);
    }));

  test('16: a false condition never consults the point, even when configured', () =>
    scenario((fp) => {
      fp.cfg('eval-16', 'return');
      const cond = (c: boolean) => (c ? failpoint('eval-16', () => 2) : undefined) ?? 0;
      expect(cond(false)).toBe(0);
      expect(fp.count('eval-16')).toBe(0);
      expect(cond(true)).toBe(2);
    }));
});

describe('evidence and seeds', () => {
  test('every fired action records evidence with a stable detail', () =>
    scenario((fp) => {
      fp.cfg('ev', '2*return(1)->panic');
      failpoint('ev', num);
      failpoint('ev', num);
      expect(() => failpoint('ev')).toThrow();
      expect(log.entries).toMatchObject([
        {
          kind: 'failpoint',
          name: 'ev',
          detail: 'failpoint "ev" fired return(1)',
          source: '@faultline/failpoints',
          count: 2,
          attributes: { task: 'return', spec: '2*return(1)->panic' },
        },
        { detail: 'failpoint "ev" fired panic', count: 1 },
      ]);
    }));

  test('a seeded run replays exactly; another seed differs', () =>
    scenario((fp) => {
      const pattern = () => {
        fp.cfg('seeded', '30%return');
        return Array.from({ length: 256 }, () => (failpoint('seeded', () => 1) ? 1 : 0)).join('');
      };
      const before = getSeed();
      try {
        setSeed(7);
        const a = pattern();
        const b = pattern();
        setSeed(8);
        const c = pattern();
        expect(a).toBe(b);
        expect(c).not.toBe(a);
        const ones = [...a].filter((x) => x === '1').length;
        expect(ones).toBeGreaterThan(40);
        expect(ones).toBeLessThan(115);
      } finally {
        setSeed(before);
      }
    }));

  test('setSeed rejects non-integers', () => {
    expect(() => setSeed(1.5)).toThrow(/safe integer/);
  });
});
