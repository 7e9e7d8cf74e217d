import { afterEach, describe, expect, test } from 'vitest';
import {
  installOrphanGuard,
  LatencyRecorder,
  pageSize,
  sampleRss,
  sendSignal,
  spawnManaged,
  waitForLine,
} from '../src/index.ts';
import { readRss } from '../src/rss.ts';
import { fixture } from './helpers.ts';

installOrphanGuard(afterEach);
const MiB = 1024 * 1024;

describe('RSS sampler', () => {
  test('catches a transient 64 MiB allocation in another process, and not an idle one', async () => {
    expect(pageSize()).toBeGreaterThanOrEqual(4096);
    const proc = spawnManaged({ node: fixture('allocator.ts') }, ['64']);
    await waitForLine(proc, 'ready');
    const idle = await sampleRss(proc.pid, () => new Promise((resolve) => setTimeout(resolve, 150)));
    expect(idle.growth).toBeLessThan(16 * MiB);
    const burst = await sampleRss(proc.pid, async () => {
      sendSignal(proc, 'SIGUSR2');
      await waitForLine(proc, /allocated/, { includePast: false });
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'done';
    });
    expect(burst.result).toBe('done');
    expect(burst.samples).toBeGreaterThan(1);
    expect(burst.peak).toBeGreaterThanOrEqual(burst.baseline + 48 * MiB);
    expect(burst.growth).toBe(burst.peak - burst.baseline);
    proc.kill();
    await proc.exited;
    expect(readRss(proc.pid)).toBeUndefined();
    await expect(sampleRss(proc.pid, async () => 1)).rejects.toThrow(/cannot read \/proc\/\d+\/statm/);
  });
});

describe('latency recorder', () => {
  test('nearest-rank percentiles and a summary', () => {
    const rec = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) rec.record(i);
    expect(rec.percentile(50)).toBe(50);
    expect(rec.percentile(99)).toBe(99);
    expect(rec.summary()).toEqual({ count: 100, min: 1, mean: 50.5, p50: 50, p99: 99, max: 100 });
    expect(new LatencyRecorder().summary().count).toBe(0);
    expect(() => new LatencyRecorder().percentile(50)).toThrow(/no samples/);
    expect(() => rec.record(-1)).toThrow(/>= 0 ms/);
    expect(() => rec.percentile(0)).toThrow(/\(0, 100\]/);
  });

  test('time() measures async work, including work that throws', async () => {
    const rec = new LatencyRecorder();
    await expect(rec.time(() => new Promise((r) => setTimeout(() => r('x'), 30)))).resolves.toBe('x');
    await expect(
      rec.time(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(rec.count).toBe(2);
    expect(rec.summary().max).toBeGreaterThanOrEqual(25);
  });
});
