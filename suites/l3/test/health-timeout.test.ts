// health-timeout (4.2), layer 3: a health check that hangs on a real socket (Toxiproxy swallows the
// request, the connection stays open) is marked unhealthy within `health.timeoutMs`, as the control
// socket's status shows; the other origin's checks are unaffected, and the origin is healthy again
// at the first check after the fault is lifted.
import type { HealthCheckResult } from 'media-cache';
import { expect, test } from 'vitest';
import { control, KiB, mediaBytes, originOf, useProxiedOrigins, waitForHealth } from './helpers.ts';

const TIMEOUT_MS = 600;
const INTERVAL_MS = 400;
const SLACK_MS = 1_000;

const files = { 'a.bin': mediaBytes('a.bin', 64 * KiB) };
const { startBehindProxies } = useProxiedOrigins({ a: 'origin-a', b: 'origin-b' }, files);
const CONFIG = { health: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } };

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
  const { env, proxies, socket } = await startBehindProxies(ctx, CONFIG);

  const hang = await env.toxic(proxies.a, { type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } });
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
  const { env, proxies, socket } = await startBehindProxies(ctx, CONFIG);

  const blackhole = await env.partition(proxies.a, { mode: 'blackhole' });
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
