// claim-durability, layer 2: the service is frozen (SIGSTOP) while 3 long-poll claims wait, 3 jobs
// are enqueued, and Redis hands them to the frozen claims; then it is killed with SIGKILL, so no
// client ever hears of those jobs. A new process on the same Redis must deliver all 3 again (the
// jobs were moved to `processing`, never popped; the reaper puts lease-less claims back).
// Red with a popping claim (BLPOP: the 3 jobs die with the process) or a reaper that ignores
// claims without a lease (they stay in `processing` for ever).
import { expectExit, sendSignal, waitFor } from '@faultline/crash';
import { expect, test } from 'vitest';
import { bodyOf, get, post } from '../support/http.ts';
import { useRedisServer } from '../support/redis-file.ts';
import { blockedClients, client, inspect, spawnService, testConfig } from '../support/service.ts';

const redis = useRedisServer();

test('kill -9 with 3 claimed jobs unanswered: after a restart all 3 are delivered, none lost', {
  tags: ['claim-durability'],
}, async () => {
  const config = testConfig(redis.current.url, { leaseMs: 1_000, reapIntervalMs: 100 });
  const first = await spawnService(config, 'redis-jobs-1');
  const queue = await inspect(config);
  const claims = [1, 2, 3].map(() => post(`${first.url}/jobs/claim?wait=8000`, { timeoutMs: 15_000 }));
  const admin = await client(config.redisUrl);
  // Blocked in Redis itself, not only accepted by the service: only then does Redis hand them jobs.
  await waitFor('3 claims blocked in BLMOVE', async () => (await blockedClients(admin)) === 3 || undefined, {
    process: first.proc,
  });

  sendSignal(first.proc, 'SIGSTOP', { context: 'so the jobs Redis hands to its 3 waiting claims are never answered' });
  const ids: string[] = [];
  for (const n of [1, 2, 3]) ids.push(await queue.enqueue(`payment-${n}`));
  await waitFor('Redis to hand the 3 jobs to the frozen claims', async () => (await queue.stats()).queued === 0, {
    timeoutMs: 5_000,
  });
  sendSignal(first.proc, 'SIGKILL', { context: 'frozen, with 3 jobs claimed and not answered' });
  await expectExit(first.proc, { signal: 'SIGKILL' });
  for (const answer of await Promise.all(claims)) expect(answer.status, JSON.stringify(answer)).toBe(0);

  const second = await spawnService(config, 'redis-jobs-2');
  expect((await get(`${second.url}/health`)).status).toBe(200);
  const delivered = new Map<string, string>();
  await waitFor(
    `all 3 jobs (${ids.join(', ')}) to be delivered again`,
    async () => {
      const answer = await post(`${second.url}/jobs/claim?wait=500`);
      if (answer.status === 200) {
        const job = bodyOf<{ id: string; payload: string }>(answer);
        delivered.set(job.id, job.payload);
        expect((await post(`${second.url}/jobs/${job.id}/ack`)).status).toBe(204);
      }
      return delivered.size === 3 || undefined;
    },
    { timeoutMs: 10_000, process: second.proc },
  );
  expect([...delivered.keys()].sort()).toEqual([...ids].sort());
  expect([...delivered.values()].sort()).toEqual(['payment-1', 'payment-2', 'payment-3']);
  expect(await queue.stats()).toEqual({ queued: 0, processing: 0 });
});
