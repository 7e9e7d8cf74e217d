// task-supervisor: background tasks that throw are detected (logged with the error, visible in
// status); critical ones are restarted with exponential backoff up to maxRestarts, then marked
// failed; a non-critical one is marked failed and left alone; the daemon keeps serving
// throughout. Faults: the `task.<name>` failpoints (a task throwing at each (re)start) and
// `cache.evict` (the maintenance task throwing in the middle of its work).
import { count } from '@faultline/failpoints';
import { afterEach, describe, expect, test } from 'vitest';
import { CHUNK, cleanup, controlRequest, fail, httpGet, json, startCache, waitFor, writeMedia } from './helpers.ts';

afterEach(cleanup);

interface TaskStatus {
  name: string;
  state: string;
  restarts: number;
  failures: number;
  lastError: string | null;
}

async function tasksOverControl(socket: string): Promise<TaskStatus[]> {
  return json<{ tasks: TaskStatus[] }>(await controlRequest(socket, 'GET', '/')).tasks;
}

describe('task-supervisor', () => {
  test('a critical task that throws at start is restarted with exponential backoff', {
    tags: ['task-supervisor'],
  }, async () => {
    fail('task.cache-maintenance', '3*return(EIO)');
    const started = performance.now();
    const { mc, log, media } = await startCache({
      config: { supervisor: { backoffInitialMs: 40, backoffMaxMs: 1_000, maxRestarts: 5 } },
    });
    await waitFor(
      'cache-maintenance to run again after 3 failures',
      () =>
        mc.supervisor.task('cache-maintenance')?.restarts === 3 &&
        mc.supervisor.task('cache-maintenance')?.state === 'running',
      3_000,
    );
    const elapsed = performance.now() - started;
    expect(count('task.cache-maintenance')).toBe(3);
    expect(elapsed).toBeGreaterThanOrEqual(40 + 80 + 160 - 10); // the backoff really waited
    expect(log.events('task-restarted').map((f) => f.afterMs)).toEqual([40, 80, 160]);
    const failures = log.events('task-failed');
    expect(failures).toHaveLength(3);
    expect(failures.every((f) => f.task === 'cache-maintenance' && f.critical === true)).toBe(true);
    expect(String((failures[0]!.error as Error).stack)).toMatch(/EIO[\s\S]*\n\s+at /); // detected with its stack
    const status = (await tasksOverControl(mc.controlSocket)).find((t) => t.name === 'cache-maintenance');
    expect(status).toMatchObject({ state: 'running', restarts: 3, failures: 3 });
    expect(status!.lastError).toMatch(/EIO/);

    const data = await writeMedia(media, 'ok.bin', CHUNK);
    expect((await httpGet(`${mc.httpUrl}/files/ok.bin`)).body.equals(data)).toBe(true);
  });

  test('a critical task that throws in the middle of its work is restarted and carries on', {
    tags: ['task-supervisor'],
  }, async () => {
    const { mc, media } = await startCache({
      config: { cache: { maxBytes: 8 * CHUNK, highWatermark: 0.25, lowWatermark: 0.125 } },
    });
    fail('cache.evict', '1*return(EIO)');
    const data = await writeMedia(media, 'big.bin', 4 * CHUNK);
    expect((await httpGet(`${mc.httpUrl}/files/big.bin`)).body.equals(data)).toBe(true);
    // Above the high watermark: maintenance evicts, throws at the failpoint, is restarted.
    await waitFor('cache-maintenance to fail once and be restarted', () => {
      const t = mc.supervisor.task('cache-maintenance');
      return t?.failures === 1 && t.restarts === 1 && t.state === 'running';
    });
    expect(count('cache.evict')).toBeGreaterThanOrEqual(1);
    expect(mc.supervisor.task('cache-maintenance')?.lastError).toMatch(/cache\.evict/);
    // The restarted task keeps the cache under its watermark.
    await waitFor('the cache to be under the high watermark', () => mc.index.bytes <= 0.25 * 8 * CHUNK);
    expect(mc.status().locks.find((l) => l.name === 'eviction')?.locked).toBe(false);
  });

  test('a critical task that keeps failing is given up after maxRestarts; the daemon keeps serving', {
    tags: ['task-supervisor'],
  }, async () => {
    fail('task.health-monitor', 'return(ECONNRESET)');
    const { mc, log, media } = await startCache({
      config: { supervisor: { backoffInitialMs: 10, backoffMaxMs: 40, maxRestarts: 3 } },
    });
    await waitFor(
      'health-monitor to be given up',
      () => mc.supervisor.task('health-monitor')?.state === 'failed',
      3_000,
    );
    expect(count('task.health-monitor')).toBe(4);
    expect(mc.supervisor.task('health-monitor')).toMatchObject({ restarts: 3, failures: 4 });
    expect(log.events('task-restarted').map((f) => f.afterMs)).toEqual([10, 20, 40]);
    expect(log.events('task-gave-up')).toEqual([{ task: 'health-monitor', consecutiveFailures: 4 }]);
    expect(mc.supervisor.task('cache-maintenance')?.state).toBe('running');
    const data = await writeMedia(media, 'still.bin', 100);
    expect((await httpGet(`${mc.httpUrl}/files/still.bin`)).body.equals(data)).toBe(true);
  });

  test('a non-critical task that throws is marked failed and not restarted', {
    tags: ['task-supervisor'],
  }, async () => {
    fail('task.periodic-scan', 'return(EIO)');
    const { mc, log } = await startCache({ config: { scan: { intervalMs: 50 } } });
    await waitFor('periodic-scan to be marked failed', () => mc.supervisor.task('periodic-scan')?.state === 'failed');
    await new Promise((r) => setTimeout(r, 200)); // long enough for a (wrong) restart to show
    expect(count('task.periodic-scan')).toBe(1);
    expect(mc.supervisor.task('periodic-scan')).toMatchObject({ critical: false, restarts: 0, failures: 1 });
    expect(log.events('task-failed')).toHaveLength(1);
    expect(log.events('task-gave-up')).toEqual([]);
    const tasks = await tasksOverControl(mc.controlSocket);
    expect(
      tasks
        .filter((t) => t.state === 'running')
        .map((t) => t.name)
        .sort(),
    ).toEqual(['cache-maintenance', 'health-monitor']);
  });
});
