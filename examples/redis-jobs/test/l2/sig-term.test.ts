// sig-term, layer 2: real SIGTERM/SIGINT to the service's own process (src/main.ts) while
// long-poll claims are in flight. It must stop accepting at once, let the claims finish (a job
// enqueued during the drain is still delivered), close Redis and exit 0; claims still waiting at
// DRAIN_MS get a clean 503 and the exit is on time.
// Red without the signal handler (killed by SIGTERM, claims reset), with a handler that exits at
// once or drops Redis first (claims reset or 503 instead of their job), without the drain
// deadline (the exit waits for the 8 s long-polls).
import { expectExit, sendSignal, waitFor, waitForLine } from '@faultline/crash';
import { expect, test } from 'vitest';
import { bodyOf, get, post } from '../support/http.ts';
import { useRedisServer } from '../support/redis-file.ts';
import { blockedClients, type Child, client, inspect, spawnService, testConfig } from '../support/service.ts';

const redis = useRedisServer();

/** Waits until `n` claims of the service are blocked in Redis itself (BLMOVE sent). */
async function waitingClaims(svc: Child, n: number): Promise<void> {
  const admin = await client(redis.current.url);
  await waitFor(
    `${n} claims of ${svc.proc.describe()} blocked in BLMOVE`,
    async () => (await blockedClients(admin)) === n,
    {
      process: svc.proc,
    },
  );
}

test('SIGTERM with 4 claims waiting: stops accepting, delivers the jobs enqueued during the drain, exits 0', {
  tags: ['sig-term'],
}, async () => {
  const config = testConfig(redis.current.url, { drainMs: 8_000 });
  const svc = await spawnService(config);
  const queue = await inspect(config);
  const claims = [1, 2, 3, 4].map(() => post(`${svc.url}/jobs/claim?wait=6000`, { timeoutMs: 15_000 }));
  await waitingClaims(svc, 4);

  sendSignal(svc.proc, 'SIGTERM', { context: 'with 4 long-poll claims waiting' });
  await waitForLine(svc.proc, /"event":"shutdown-begin"/, { stream: 'stderr' });
  const late = await get(`${svc.url}/health`, { timeoutMs: 2_000 });
  expect('error' in late ? late.error : late.status, 'a new connection after SIGTERM').toBe('ECONNREFUSED');

  // Behind the service's back (it accepts nothing now): the waiting claims must still get these.
  const ids: string[] = [];
  for (const n of [1, 2, 3, 4]) ids.push(await queue.enqueue(`job-${n}`));
  const delivered = (await Promise.all(claims)).map((answer) => bodyOf<{ id: string }>(answer).id);
  expect(delivered.sort()).toEqual(ids.sort());

  await expectExit(svc.proc, { code: 0 }, { timeoutMs: 10_000 });
  expect(svc.proc.lines('stderr').some((line) => /"event":"shutdown-complete","drained":true/.test(line))).toBe(true);
  // Claimed and leased, none lost, none left in the queue.
  expect(await queue.stats()).toEqual({ queued: 0, processing: 4 });
});

test('SIGINT with claims still waiting at DRAIN_MS: they get a clean 503, exit 0 on time', {
  tags: ['sig-term'],
}, async () => {
  const drainMs = 600;
  const config = testConfig(redis.current.url, { drainMs });
  const svc = await spawnService(config);
  const claims = [1, 2].map(() => post(`${svc.url}/jobs/claim?wait=8000`, { timeoutMs: 15_000 }));
  await waitingClaims(svc, 2);

  const signalled = performance.now();
  sendSignal(svc.proc, 'SIGINT', { context: 'with 2 claims that wait 8 s' });
  await expectExit(svc.proc, { code: 0 }, { timeoutMs: drainMs + 3_000 });
  const exitMs = performance.now() - signalled;
  for (const answer of await Promise.all(claims)) {
    expect(bodyOf<{ error: string }>(answer, 503)).toEqual({ error: 'shutting down' });
  }
  expect(exitMs).toBeGreaterThanOrEqual(drainMs - 50);
  expect(exitMs).toBeLessThan(drainMs + 2_000);
  expect(
    svc.proc.lines('stderr').some((line) => /"event":"shutdown-complete","drained":false,"cut":2/.test(line)),
  ).toBe(true);
});
