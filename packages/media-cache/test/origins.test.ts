import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cfg, remove } from '@faultline/failpoints';
import { afterEach, describe, expect, test } from 'vitest';
import { HealthMonitor, HttpOrigin, LocalOrigin, type Origin, OriginError, OriginPool } from '../src/index.ts';
import { cleanupTemps, refusedPort, type StaticOrigin, startStaticOrigin, tempDir } from './helpers.ts';

const servers: StaticOrigin[] = [];
afterEach(async () => {
  remove('health.slow.check');
  remove('origin.read');
  for (const s of servers.splice(0)) await s.close();
  await cleanupTemps();
});

async function mediaRoot(files: Record<string, Buffer>): Promise<string> {
  const root = await tempDir();
  for (const [name, data] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), data);
  }
  return root;
}

/** An origin whose health check and reads never settle (a dead NFS mount, a black-holed host). */
function hangingOrigin(id: string, priority: number): Origin {
  const never = () => new Promise<never>(() => {});
  return { id, kind: 'local', priority, stat: never, read: never, list: never, check: never };
}

const signal = () => AbortSignal.timeout(5000);

describe('LocalOrigin and HttpOrigin', () => {
  test('local: stat, exact reads, sorted paged listing', async () => {
    const data = randomBytes(1000);
    const root = await mediaRoot({ 'b/2.mp3': data, 'a.mp3': data, 'b/1.mp3': data });
    const origin = new LocalOrigin({ id: 'l', root });
    expect((await origin.stat('b/1.mp3', signal())).size).toBe(1000);
    expect((await origin.read('b/1.mp3', 100, 50, signal())).equals(data.subarray(100, 150))).toBe(true);
    await expect(origin.read('b/1.mp3', 990, 50, signal())).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(origin.stat('nope', signal())).rejects.toMatchObject({ kind: 'not-found' });
    const p1 = await origin.list(null, 2, signal());
    expect(p1.entries.map((e) => e.path)).toEqual(['a.mp3', 'b/1.mp3']);
    const p2 = await origin.list(p1.next, 2, signal());
    expect(p2).toMatchObject({ entries: [{ path: 'b/2.mp3' }], next: null });
  });

  test('http: ranged reads; a reset mid-body is an error, never a short success (upstream-reset)', async () => {
    const data = randomBytes(64 * 1024);
    const server = await startStaticOrigin(await mediaRoot({ 'x.bin': data }));
    servers.push(server);
    const origin = new HttpOrigin({ id: 'h', url: server.url, filesPrefix: '' });
    expect(await origin.stat('x.bin', signal())).toMatchObject({ size: data.length });
    expect((await origin.read('x.bin', 1000, 5000, signal())).equals(data.subarray(1000, 6000))).toBe(true);
    await expect(origin.read('missing.bin', 0, 10, signal())).rejects.toMatchObject({ kind: 'not-found' });
    server.mode = 'reset-mid-body';
    await expect(origin.read('x.bin', 0, 60_000, signal())).rejects.toMatchObject({ kind: 'unavailable' });
    server.mode = 'error-500';
    await expect(origin.check(signal())).rejects.toBeInstanceOf(OriginError);
    origin.close();
  });
});

describe('OriginPool (origin-failover, read-timeout, offline-mode)', () => {
  test('primary refused: the secondary serves; the primary returns after recovery', async () => {
    const data = randomBytes(4096);
    const root = await mediaRoot({ 'f.bin': data });
    const port = await refusedPort();
    const primary = new HttpOrigin({ id: 'primary', url: `http://127.0.0.1:${port}`, priority: 0, filesPrefix: '' });
    const secondaryServer = await startStaticOrigin(root);
    servers.push(secondaryServer);
    const secondary = new HttpOrigin({ id: 'secondary', url: secondaryServer.url, priority: 1, filesPrefix: '' });
    const pool = new OriginPool([secondary, primary], { readTimeoutMs: 2000, attemptTimeoutMs: 1000 });
    const first = await pool.read('f.bin', 0, 4096);
    expect(first.origin.id).toBe('secondary');
    expect(first.value.equals(data)).toBe(true);
    expect(pool.healthOf('primary')).toMatchObject({ healthy: false });
    expect(pool.counters.failovers).toBe(1);
    expect(pool.offline).toBe(false);

    // The primary comes back on the same port; the next health round re-enables it.
    servers.push(await startStaticOrigin(root, port));
    await new HealthMonitor(pool, { timeoutMs: 1000, intervalMs: 1000 }).checkAll();
    expect(pool.healthOf('primary')?.healthy).toBe(true);
    expect((await pool.read('f.bin', 0, 10)).origin.id).toBe('primary');
  });

  test('a hanging origin read fails with a timeout within the deadline', async () => {
    const pool = new OriginPool([hangingOrigin('stuck', 0)], { readTimeoutMs: 300, attemptTimeoutMs: 300 });
    const started = performance.now();
    await expect(pool.read('f', 0, 10)).rejects.toMatchObject({ kind: 'timeout' });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
    expect(pool.counters.readTimeouts).toBe(1);
  });

  test('a short attempt deadline fails over from a hanging primary to a healthy secondary', async () => {
    const root = await mediaRoot({ 'f.bin': randomBytes(10) });
    const pool = new OriginPool([hangingOrigin('stuck', 0), new LocalOrigin({ id: 'ok', root, priority: 1 })], {
      readTimeoutMs: 2000,
      attemptTimeoutMs: 200,
    });
    const { origin } = await pool.read('f.bin', 0, 10);
    expect(origin.id).toBe('ok');
  });

  test('every origin down: offline, fails fast with kind "offline"', async () => {
    const pool = new OriginPool([hangingOrigin('a', 0), hangingOrigin('b', 1)], {
      readTimeoutMs: 5000,
      attemptTimeoutMs: 5000,
    });
    pool.markUnhealthy('a', 'down');
    pool.markUnhealthy('b', 'down');
    expect(pool.offline).toBe(true);
    const started = performance.now();
    await expect(pool.read('f', 0, 1)).rejects.toMatchObject({ kind: 'offline' });
    expect(performance.now() - started).toBeLessThan(100);
  });

  test('failpoint origin.read=return(ECONNRESET) fails the attempt like a reset', async () => {
    const root = await mediaRoot({ 'f.bin': randomBytes(10) });
    const pool = new OriginPool([new LocalOrigin({ id: 'l', root })], { readTimeoutMs: 1000, attemptTimeoutMs: 1000 });
    cfg('origin.read', '1*return(ECONNRESET)');
    await expect(pool.read('f.bin', 0, 10)).rejects.toMatchObject({ kind: 'unavailable', code: 'ECONNRESET' });
  });
});

describe('HealthMonitor (health-timeout, health-parallel)', () => {
  const healthy = async (id: string) => new LocalOrigin({ id, root: await tempDir() });

  test('a hanging check is marked unhealthy within its timeout', async () => {
    const pool = new OriginPool([hangingOrigin('dead', 0)], { readTimeoutMs: 1000, attemptTimeoutMs: 1000 });
    const monitor = new HealthMonitor(pool, { timeoutMs: 200, intervalMs: 1000 });
    const started = performance.now();
    const [result] = await monitor.checkAll();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ id: 'dead', healthy: false });
    expect(result!.error).toMatch(/timed out after 200 ms/);
    expect(pool.healthOf('dead')?.healthy).toBe(false);
  });

  test('one dead origin does not delay the healthy ones (parallel), but does when serial (unsafe)', async () => {
    const origins = [hangingOrigin('dead', 0), await healthy('ok1'), await healthy('ok2')];
    const run = async (serial: boolean) => {
      const pool = new OriginPool(origins, { readTimeoutMs: 1000, attemptTimeoutMs: 1000 });
      const monitor = new HealthMonitor(pool, { timeoutMs: 400, intervalMs: 1000, serial });
      const started = performance.now();
      const done = monitor.checkAll();
      await expect.poll(() => pool.healthOf('ok2')?.healthy, { timeout: 2000, interval: 5 }).toBe(true);
      const okAfter = performance.now() - started;
      await done;
      return okAfter;
    };
    expect(await run(false)).toBeLessThan(200);
    expect(await run(true)).toBeGreaterThanOrEqual(390);
  });

  test('failpoint health.<id>.check=sleep(…) hangs only that origin', async () => {
    const pool = new OriginPool([await healthy('slow'), await healthy('fast')], {
      readTimeoutMs: 1000,
      attemptTimeoutMs: 1000,
    });
    cfg('health.slow.check', 'sleep(2000)');
    const results = await new HealthMonitor(pool, { timeoutMs: 200, intervalMs: 1000 }).checkAll();
    expect(results.map((r) => [r.id, r.healthy])).toEqual([
      ['slow', false],
      ['fast', true],
    ]);
  });
});
