// health-timeout (4.2), layer 3: a health check that hangs on a real socket (Toxiproxy swallows the
// request, the connection stays open) is marked unhealthy within `health.timeoutMs`, as the control
// socket's status shows; the other origin's checks are unaffected, and the origin is healthy again
// at the first check after the fault is lifted.
import { sharedNetworkEnvironment } from '@faultline/netfaults';
import type { HealthCheckResult } from 'media-cache';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import {
  cleanupTemps,
  control,
  KiB,
  mediaBytes,
  originOf,
  proxyTo,
  StaticOrigin,
  startCache,
  stopCaches,
  waitForHealth,
} from './helpers.ts';

const TIMEOUT_MS = 600;
const INTERVAL_MS = 400;
const SLACK_MS = 1_000;

const files = { 'a.bin': mediaBytes('a.bin', 64 * KiB) };
const net = sharedNetworkEnvironment();
let originA: StaticOrigin;
let originB: StaticOrigin;

beforeAll(async () => {
  originA = await StaticOrigin.start('a', files);
  originB = await StaticOrigin.start('b', files);
});
afterEach(async () => {
  await stopCaches();
  await net.resetToxics();
});
afterAll(async () => {
  await net.close();
  await originA?.close();
  await originB?.close();
  await cleanupTemps();
});

async function setup(ctx: { skip(note: string): void }) {
  const env = await net.get(ctx);
  const a = await proxyTo(env, 'origin-a', originA.port);
  const b = await proxyTo(env, 'origin-b', originB.port);
  const cache = await startCache(
    [
      { id: 'a', proxy: a },
      { id: 'b', proxy: b },
    ],
    { health: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } },
  );
  await waitForHealth(cache.socket, { a: true, b: true });
  return { env, a, b, ...cache };
}

/** A check-health action on the control socket: how long it took and what it found per origin. */
async function checkNow(socket: string) {
  const r = await control<{ ms: number; result: HealthCheckResult[] }>(socket, 'PUT', '/actions/check-health');
  expect(r.status).toBe(200);
  const byId = Object.fromEntries(r.body.result.map((x) => [x.id, x]));
  return { ms: r.ms, a: byId.a!, b: byId.b! };
}

function expectTimedOutCheck(check: Awaited<ReturnType<typeof checkNow>>) {
  expect(check.a).toMatchObject({ healthy: false });
  expect(check.a.error).toMatch(new RegExp(`timed out after ${TIMEOUT_MS} ms`));
  expect(check.a.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
  expect(check.a.latencyMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  expect(check.b).toMatchObject({ healthy: true });
  expect(check.b.latencyMs, 'the healthy origin is checked in parallel, not after the hanging one').toBeLessThan(
    TIMEOUT_MS,
  );
  expect(check.ms, `check-health answered after ${check.ms} ms`).toBeLessThan(TIMEOUT_MS + SLACK_MS);
}

test('a health check that hangs (timeout toxic) is marked unhealthy within its timeout, then recovers', {
  tags: ['health-timeout'],
}, async (ctx) => {
  const { env, a, socket } = await setup(ctx);

  const hang = await env.toxic(a, { type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } });
  const marked = await waitForHealth(socket, { a: false, b: true }, INTERVAL_MS + TIMEOUT_MS + 3 * SLACK_MS);
  expect(marked.ms, `marked unhealthy ${marked.ms} ms after the toxic`).toBeLessThan(
    INTERVAL_MS + TIMEOUT_MS + SLACK_MS,
  );
  expect(originOf(marked.status, 'a').lastError).toMatch(/timed out after 600 ms/);
  expect(marked.status.offline).toBe(false);

  const check = await checkNow(socket);
  expectTimedOutCheck(check);
  console.log(
    `[health-timeout] timeout toxic: marked unhealthy ${marked.ms} ms after the toxic; a check took ${check.a.latencyMs} ms (timeout ${TIMEOUT_MS} ms), b ${check.b.latencyMs} ms`,
  );

  await hang.remove();
  const back = await waitForHealth(socket, { a: true }, INTERVAL_MS + TIMEOUT_MS + 3 * SLACK_MS);
  expect(back.ms).toBeLessThan(INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
});

test('a blackholed origin (connections accepted, no byte passes) is marked unhealthy within its timeout', {
  tags: ['health-timeout'],
}, async (ctx) => {
  const { env, a, socket } = await setup(ctx);

  const blackhole = await env.partition(a, { mode: 'blackhole' });
  const marked = await waitForHealth(socket, { a: false, b: true }, INTERVAL_MS + TIMEOUT_MS + 3 * SLACK_MS);
  expect(marked.ms).toBeLessThan(INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
  expect(originOf(marked.status, 'a').lastError).toMatch(/timed out after 600 ms/);
  const check = await checkNow(socket);
  expectTimedOutCheck(check);
  console.log(
    `[health-timeout] blackhole: marked unhealthy ${marked.ms} ms after the partition; a check took ${check.a.latencyMs} ms`,
  );

  await blackhole.heal();
  await waitForHealth(socket, { a: true }, INTERVAL_MS + TIMEOUT_MS + 3 * SLACK_MS);
});
