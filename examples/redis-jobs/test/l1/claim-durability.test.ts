// claim-durability, layer 1: a claim fails after Redis moved the job to `processing` and before
// its lease was written (the lease ZADD fails with ECONNRESET through faulty()): the client gets
// a 503, and the job must come back to the queue by itself (the reaper gives a lease-less claim a
// grace lease, then requeues it). Red if claims popped the job (BLPOP/RPOP: gone with the failed
// request) or if the reaper only looked at expired leases (the job would stay in `processing`).
import { waitFor } from '@faultline/crash';
import { faulty, Healthy, ReturnError } from '@faultline/faults';
import { expect, test } from 'vitest';
import { bodyOf, post } from '../support/http.ts';
import { useRedisServer } from '../support/redis-file.ts';
import { client, inspect, startInProcess, testConfig } from '../support/service.ts';

const redis = useRedisServer();

test('a claim that fails between BLMOVE and its lease does not lose the job', {
  tags: ['claim-durability'],
}, async () => {
  const config = testConfig(redis.current.url, { leaseMs: 300, reapIntervalMs: 50 });
  const { proxy, control } = faulty(await client(config.redisUrl), Healthy, { name: 'redis', methods: ['zadd'] });
  const { url } = await startInProcess(config, proxy);
  const queue = await inspect(config);
  const { id } = bodyOf<{ id: string }>(await post(`${url}/jobs`, { body: 'invoice-7' }), 201);

  control.setMode(ReturnError('ECONNRESET'));
  const failed = await post(`${url}/jobs/claim?wait=1000`);
  expect(failed.status, JSON.stringify(failed)).toBe(503);
  expect(control.failures).toBe(1);
  // Redis did move it: the job is claimed by nobody, in processing, not in the queue.
  expect(await queue.stats()).toEqual({ queued: 0, processing: 1 });

  control.setMode(Healthy);
  // grace lease (300 ms) + reaper interval: back in the queue well within 3 s.
  await waitFor('the reaper to put the orphaned job back', async () => (await queue.stats()).queued === 1, {
    timeoutMs: 3_000,
  });
  const again = bodyOf<{ id: string; payload: string }>(await post(`${url}/jobs/claim?wait=1000`));
  expect(again).toMatchObject({ id, payload: 'invoice-7' });
  expect((await post(`${url}/jobs/${id}/ack`)).status).toBe(204);
  expect(await queue.stats()).toEqual({ queued: 0, processing: 0 });
});
