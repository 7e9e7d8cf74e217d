// health-parallel: one dead origin (its health check hangs until the timeout) does not delay
// the checks of the healthy ones. The dead origin comes first in priority order, so a serial
// round would reach the healthy origins only after its full timeout. Faults: a real loopback
// origin that accepts and never answers, and the `health.<id>.check` failpoint sleeping.
import { mkdir } from 'node:fs/promises';
import { count } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import type { Origin } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, fail, httpOrigin, startCache, startStaticOrigin, tempDir, waitFor } from './helpers.ts';

afterEach(cleanup);

const TIMEOUT_MS = 1_000;
/** Healthy checks on loopback take a few ms; this leaves room for a loaded machine. */
const FAST_MS = 400;

/** Wraps real origins so each finished check's completion time is recorded (nothing else changes). */
function checkTimes() {
  const done = new Map<string, number[]>();
  const wrap = (o: Origin): Origin =>
    new Proxy(o, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key !== 'check' || typeof value !== 'function')
          return typeof value === 'function' ? value.bind(target) : value;
        return async (signal: AbortSignal) => {
          try {
            return await value.call(target, signal);
          } finally {
            done.set(o.id, [...(done.get(o.id) ?? []), performance.now()]);
          }
        };
      },
    });
  return { done, wrap };
}

describe('health-parallel', () => {
  test('a hanging origin does not delay the health checks of healthy ones', { tags: ['health-parallel'] }, async () => {
    const root = await tempDir();
    await mkdir(`${root}/local`);
    const dead = await startStaticOrigin(root);
    const alive = await startStaticOrigin(root);
    let hung = 0;
    dead.mode = 'hang';
    dead.onHang = (req) => {
      hung += 1;
      recordFault({
        kind: 'origin-hang',
        name: 'dead',
        detail: `origin accepted ${req.method} ${req.url} and never answered`,
      });
    };
    const times = checkTimes();
    const { mc } = await startCache({
      config: {
        origins: [
          httpOrigin('dead', dead.url, 0),
          httpOrigin('alive', alive.url, 1),
          { type: 'local', id: 'disk', path: `${root}/local`, priority: 2 },
        ],
        health: { intervalMs: 60_000, timeoutMs: TIMEOUT_MS },
      },
      deps: { wrapOrigin: times.wrap },
    });
    expect(mc.pool.origins.map((o) => o.id)).toEqual(['dead', 'alive', 'disk']);

    const started = performance.now();
    const round = mc.health.checkAll();
    // Healthy origins are marked healthy long before the dead one's timeout.
    const aliveDone = () => (times.done.get('alive') ?? []).some((t) => t >= started);
    const diskDone = () => (times.done.get('disk') ?? []).some((t) => t >= started);
    while (!(aliveDone() && diskDone()) && performance.now() - started < TIMEOUT_MS + 2_000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const fastMs = performance.now() - started;
    expect(hung).toBeGreaterThanOrEqual(1);
    expect(aliveDone() && diskDone(), 'healthy checks finished').toBe(true);
    expect(fastMs).toBeLessThan(FAST_MS);
    expect(mc.pool.healthOf('alive')?.healthy).toBe(true);
    expect(mc.pool.healthOf('disk')?.healthy).toBe(true);

    const results = await round;
    const total = performance.now() - started;
    expect(results.find((r) => r.id === 'dead')).toMatchObject({ healthy: false });
    // The round as a whole costs one timeout, not the sum of the checks.
    expect(total).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(total).toBeLessThan(TIMEOUT_MS + FAST_MS);
    expect(mc.status().offline).toBe(false);
  });

  test('with the per-origin failpoint sleeping, the other origins still answer at once', {
    tags: ['health-parallel'],
  }, async () => {
    const root = await tempDir();
    const a = await startStaticOrigin(root);
    const b = await startStaticOrigin(root);
    const times = checkTimes();
    const { mc } = await startCache({
      config: {
        origins: [httpOrigin('slow', a.url, 0), httpOrigin('quick', b.url, 1)],
        health: { intervalMs: 60_000, timeoutMs: 600 },
      },
      deps: { wrapOrigin: times.wrap },
    });
    // Let the startup round finish first, so only the round below is measured.
    await waitFor('the startup health round', () =>
      mc.pool.health().every((h) => h.healthy === true && (times.done.get(h.id) ?? []).length > 0),
    );
    fail('health.slow.check', 'sleep(2000)');
    const started = performance.now();
    const results = await mc.health.checkAll();
    const total = performance.now() - started;
    expect(count('health.slow.check')).toBe(1);
    const quickDone = (times.done.get('quick') ?? []).filter((t) => t >= started);
    expect(quickDone.length).toBeGreaterThanOrEqual(1);
    expect(quickDone[0]! - started).toBeLessThan(FAST_MS);
    expect(results.map((r) => [r.id, r.healthy])).toEqual([
      ['slow', false],
      ['quick', true],
    ]);
    expect(total).toBeLessThan(600 + FAST_MS);
  });
});
