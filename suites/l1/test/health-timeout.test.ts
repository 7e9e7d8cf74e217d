// health-timeout: a health check that hangs is marked unhealthy within its timeout, both when
// checked on demand and by the supervised health monitor. Faults: the `health.<id>.check`
// failpoint paused, and a faulty() wrapper whose `check` never reaches the real origin.
import { count } from '@faultline/failpoints';
import { faulty, Healthy, Timeout } from '@faultline/faults';
import type { Origin } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup,
  controlRequest,
  fail,
  httpOrigin,
  json,
  startCache,
  startStaticOrigin,
  tempDir,
  waitFor,
} from './helpers.ts';

afterEach(cleanup);

const TIMEOUT_MS = 250;
const SLACK_MS = 600;

describe('health-timeout', () => {
  test('an on-demand check that hangs is marked unhealthy after health.timeoutMs', {
    tags: ['health-timeout'],
  }, async () => {
    const { mc } = await startCache({ config: { health: { intervalMs: 60_000, timeoutMs: TIMEOUT_MS } } });
    await waitFor('the first health round', () => mc.pool.healthOf('local')?.healthy === true);
    fail('health.local.check', 'pause');

    const started = performance.now();
    const result = await mc.health.checkNow('local');
    const elapsed = performance.now() - started;
    expect(count('health.local.check')).toBe(1);
    expect(result.healthy).toBe(false);
    expect(result.error).toMatch(/timed out after 250 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    const health = mc.pool.healthOf('local')!;
    expect(health.healthy).toBe(false);
    expect(health.lastError).toMatch(/timed out/);
    // The status snapshot (what `GET /` on the control socket serves) says so too.
    const status = json<{ offline: boolean; origins: Array<{ id: string; healthy: boolean | null }> }>(
      await controlRequest(mc.controlSocket, 'GET', '/'),
    );
    expect(status.origins.find((o) => o.id === 'local')?.healthy).toBe(false);
    expect(status.offline).toBe(true);
  });

  test('the health monitor marks a hanging HTTP origin down within one timeout, and back up after', {
    tags: ['health-timeout'],
  }, async () => {
    const root = await tempDir();
    const origin = await startStaticOrigin(root);
    let wrapped: ReturnType<typeof faulty<Origin>> | null = null;
    const { mc } = await startCache({
      config: {
        origins: [httpOrigin('web', origin.url)],
        health: { intervalMs: 50, timeoutMs: TIMEOUT_MS },
      },
      deps: {
        wrapOrigin: (o) => {
          wrapped = faulty(o, Healthy, { name: 'HttpOrigin(web)', methods: ['check'] });
          return wrapped.proxy;
        },
      },
    });
    await waitFor('web to be checked healthy', () => mc.pool.healthOf('web')?.healthy === true);
    const control = wrapped!.control;

    // Every check now hangs far longer than the health timeout (the wrapper rejects only after 30 s).
    control.setMode(Timeout(30_000));
    const hungAt = performance.now();
    await waitFor('web to be marked unhealthy', () => mc.pool.healthOf('web')?.healthy === false, 5_000);
    const downAfter = performance.now() - hungAt;
    expect(control.failures).toBeGreaterThanOrEqual(1);
    // One interval until the next round starts, then one timeout.
    expect(downAfter).toBeLessThan(50 + TIMEOUT_MS + SLACK_MS);
    expect(mc.pool.healthOf('web')!.lastError).toMatch(/timed out after 250 ms/);
    expect(mc.status().offline).toBe(true);
    expect(mc.supervisor.task('health-monitor')?.state).toBe('running');

    control.setMode(Healthy);
    await waitFor('web to recover', () => mc.pool.healthOf('web')?.healthy === true, 3_000);
    expect(mc.status().offline).toBe(false);
  });
});
