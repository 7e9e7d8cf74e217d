// redis-outage, layer 2: the real redis-server is killed with SIGKILL, under a running service and
// before one starts. The service must stay up (or come up) degraded, answer 503 fast while Redis is
// gone, and heal by itself when Redis is back on the same port, with no restart; the jobs Redis
// acknowledged before its crash are still there (AOF, fsync always).
// Red if the service waits for Redis before listening, exits on a connection error, or stops
// reconnecting (an ioredis retryStrategy that gives up: the outage outlasts several attempts).
import { expectExit, sendSignal, waitFor } from '@faultline/crash';
import { expect, test } from 'vitest';
import { type Answer, bodyOf, get, post } from '../support/http.ts';
import { type RedisServer, startRedis } from '../support/redis-server.ts';
import { type Child, onCleanup, spawnService, testConfig } from '../support/service.ts';

/** Longer than a handful of reconnect attempts (100, 200, 400, 800 ms, then every second). */
const OUTAGE_MS = 2_500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A redis-server of this test's own: it gets killed. */
async function ownRedis(): Promise<RedisServer> {
  const server = await startRedis();
  onCleanup(() => server.stop());
  return server;
}

async function killRedis(server: RedisServer, context: string): Promise<void> {
  sendSignal(server.proc, 'SIGKILL', { context });
  await expectExit(server.proc, { signal: 'SIGKILL' });
}

/** Degraded, not hung: health and writes answer 503 well under a second. */
async function expectDegraded(svc: Child): Promise<void> {
  const health = await get(`${svc.url}/health`);
  expect(health.status, JSON.stringify(health)).toBe(503);
  expect((health as Answer).body).toMatchObject({ redis: 'down' });
  const write = await post(`${svc.url}/jobs`, { body: 'during the outage' });
  expect(write.status, JSON.stringify(write)).toBe(503);
  expect((write as Answer).headers['retry-after']).toBe('1');
  for (const answer of [health, write]) expect(answer.ms).toBeLessThan(1_000);
  expect(svc.proc.running).toBe(true);
}

async function expectHealed(svc: Child): Promise<void> {
  await waitFor(
    'the service to see Redis again (no restart)',
    async () => (await get(`${svc.url}/health`)).status === 200,
    {
      timeoutMs: 5_000,
      process: svc.proc,
    },
  );
}

test('Redis killed under a running service: 503 fast while down, healed without a restart, jobs intact', {
  tags: ['redis-outage'],
}, async () => {
  const server = await ownRedis();
  const svc = await spawnService(testConfig(server.url));
  const ids = [];
  for (const n of [1, 2])
    ids.push(bodyOf<{ id: string }>(await post(`${svc.url}/jobs`, { body: `mail-${n}` }), 201).id);

  await killRedis(server, 'under a running redis-jobs with 2 jobs queued');
  await expectDegraded(svc);
  await server.restart();
  await expectHealed(svc);

  const claimed = [];
  for (let i = 0; i < 2; i++) claimed.push(bodyOf<{ id: string }>(await post(`${svc.url}/jobs/claim?wait=1000`)).id);
  expect(claimed).toEqual(ids);
});

test('started while Redis is down: it listens, reports degraded, and serves once Redis is up', {
  tags: ['redis-outage'],
}, async () => {
  const server = await ownRedis();
  await killRedis(server, 'before redis-jobs starts');
  const svc = await spawnService(testConfig(server.url), 'redis-jobs', { healthy: false });
  await expectDegraded(svc);
  // Down for a while, as a Redis restart or failover is: many reconnect attempts fail first.
  await sleep(OUTAGE_MS);
  await expectDegraded(svc);
  await server.restart();
  await expectHealed(svc);

  const { id } = bodyOf<{ id: string }>(await post(`${svc.url}/jobs`, { body: 'first' }), 201);
  expect(bodyOf<{ id: string }>(await post(`${svc.url}/jobs/claim?wait=1000`)).id).toBe(id);
});
