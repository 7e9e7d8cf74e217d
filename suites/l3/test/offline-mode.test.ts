// offline-mode (4.4), layer 3: every origin is cut off by Toxiproxy (refused, or blackholed so the
// connections hang). The daemon must say it is offline (control status, /healthz), keep serving
// what it has cached (whole files and ranges, correct bytes), fail uncached reads cleanly and fast
// (503/502/504, never a hang), and come back online when one origin returns.
import { expect, test } from 'vitest';
import {
  get,
  json,
  KiB,
  mediaBytes,
  sha256,
  status,
  useProxiedOrigins,
  waitForHealth,
  waitForStatus,
} from './helpers.ts';

const CHUNK = 64 * KiB;
const READ_MS = 1_500;
const HEALTH = { intervalMs: 300, timeoutMs: 500 };

const files = {
  'cached.bin': mediaBytes('cached.bin', 5 * CHUNK + 123),
  'uncached.bin': mediaBytes('uncached.bin', 3 * CHUNK),
  'later.bin': mediaBytes('later.bin', 3 * CHUNK),
};
const { origins, startBehindProxies } = useProxiedOrigins({ a: 'origin-a', b: 'origin-b' }, files);

/** Both origins healthy, cached.bin read once (so it is cached). */
async function setup(ctx: { skip(note: string): void }) {
  const cache = await startBehindProxies(ctx, {
    cache: { chunkSize: CHUNK },
    timeouts: { readMs: READ_MS },
    health: HEALTH,
  });
  const warm = await get(`${cache.url}/files/cached.bin`);
  expect(warm).toMatchObject({ status: 200, complete: true, sha256: sha256(files['cached.bin']) });
  return cache;
}

/** Everything a client of an offline daemon may rely on: cached bytes served, the rest refused fast. */
async function expectOfflineBehaviour(url: string) {
  const healthz = await get(`${url}/healthz`);
  expect(json(healthz)).toMatchObject({ ok: true, offline: true });

  const cached = await get(`${url}/files/cached.bin`);
  expect(cached).toMatchObject({ status: 200, complete: true, sha256: sha256(files['cached.bin']) });
  expect(cached.ms).toBeLessThan(1_000);
  const range = await get(`${url}/files/cached.bin`, { headers: { range: `bytes=${CHUNK - 10}-${2 * CHUNK + 9}` } });
  expect(range).toMatchObject({ status: 206, complete: true });
  expect(range.sha256).toBe(sha256(files['cached.bin'].subarray(CHUNK - 10, 2 * CHUNK + 10)));

  const uncached = await get(`${url}/files/uncached.bin`);
  expect(uncached.status, `uncached read while offline: ${uncached.error ?? uncached.body.toString()}`).toBe(503);
  expect(uncached.headers['retry-after']).toBe('1');
  expect(json<{ error: string }>(uncached).error).toMatch(/offline/);
  expect(uncached.ms, 'offline means failing fast, not waiting for a deadline').toBeLessThan(500);
  return { cached, uncached };
}

test('all origins refused: offline, cached files still served, uncached ones 503 at once, back when one returns', {
  tags: ['offline-mode'],
}, async (ctx) => {
  const { env, proxies, url, socket } = await setup(ctx);

  const downA = await env.partition(proxies.a);
  const downB = await env.partition(proxies.b);
  const off = await waitForStatus(socket, 'status offline', (s) => s.offline, 5_000);
  expect(off.status.origins.map((o) => o.healthy)).toEqual([false, false]);
  const { cached, uncached } = await expectOfflineBehaviour(url);
  console.log(
    `[offline-mode] refused: offline after ${off.ms} ms; cached read ${cached.ms} ms, uncached ${uncached.status} in ${uncached.ms} ms`,
  );

  // One origin returns: online again after its next health check, and uncached reads work.
  origins.b.clearLog();
  await downB.heal();
  const on = await waitForStatus(socket, 'status online', (s) => !s.offline, 5_000);
  expect(on.status.origins.find((o) => o.id === 'b')?.healthy).toBe(true);
  const later = await get(`${url}/files/later.bin`);
  expect(later).toMatchObject({ status: 200, complete: true, sha256: sha256(files['later.bin']) });
  expect(origins.b.reads('later.bin').length).toBeGreaterThan(0);
  await downA.heal();
  await waitForHealth(socket, { a: true, b: true });
});

test('all origins blackholed (connections hang): uncached reads end within the deadline, then offline fails fast', {
  tags: ['offline-mode'],
}, async (ctx) => {
  const { env, proxies, url, socket } = await setup(ctx);

  const blackhole = await env.partition([proxies.a, proxies.b], { mode: 'blackhole' });
  // Before the health checks notice, an uncached read hangs on a real socket: it must still end
  // (504 at the read deadline, or 503 if the monitor marked everything down first), never hang.
  const early = await get(`${url}/files/uncached.bin`, { timeoutMs: READ_MS + 5_000 });
  expect([503, 504], `early uncached read: ${early.error ?? early.body.toString()}`).toContain(early.status);
  expect(early.ms).toBeLessThan(READ_MS + 1_500);

  const off = await waitForStatus(socket, 'status offline', (s) => s.offline, 5_000);
  for (const o of off.status.origins) expect(o.lastError).toMatch(/timed out|did not answer|no origin answered/);
  const { uncached } = await expectOfflineBehaviour(url);
  console.log(
    `[offline-mode] blackhole: early uncached read ${early.status} in ${early.ms} ms; offline after ${off.ms} ms; then ${uncached.status} in ${uncached.ms} ms`,
  );

  await blackhole.heal();
  await waitForStatus(socket, 'status online', (s) => !s.offline, 5_000);
  const back = await get(`${url}/files/uncached.bin`);
  expect(back).toMatchObject({ status: 200, complete: true, sha256: sha256(files['uncached.bin']) });
  expect((await status(socket)).offline).toBe(false);
});
