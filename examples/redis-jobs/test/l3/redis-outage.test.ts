// redis-outage, layer 3: Redis is unreachable (a refusing partition: connections refused) before
// the service starts, and while it runs. It must start and stay up degraded (health 503, requests
// 503 fast) and heal by itself once the partition is lifted.
// Red if the service waits for Redis before it listens, or gives up reconnecting (the partition
// outlasts several attempts).
import { waitFor } from '@faultline/crash';
import { expect, test } from 'vitest';
import { bodyOf, get, type Outcome, post } from '../support/http.ts';
import { useProxiedRedis } from '../support/proxied.ts';
import { startInProcess } from '../support/service.ts';

const proxied = useProxiedRedis();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function expectFast503(reply: Outcome): void {
  expect(reply.status, JSON.stringify(reply)).toBe(503);
  expect(reply.ms).toBeLessThan(1_000);
}

async function expectHealed(url: string): Promise<void> {
  await waitFor('the service to heal by itself', async () => (await get(`${url}/health`)).status === 200, {
    timeoutMs: 5_000,
  });
}

test('Redis refused at startup: the service starts degraded and heals when the partition is lifted', {
  tags: ['redis-outage'],
}, async (ctx) => {
  const { env, proxy, config } = await proxied(ctx);
  const partition = await env.partition([proxy], { mode: 'refuse' });
  const { url } = await startInProcess(config, undefined, { healthy: false }); // listens, Redis unreachable
  expectFast503(await get(`${url}/health`));
  expectFast503(await post(`${url}/jobs`, { body: 'early' }));
  // Refused for a while, as during a Redis restart or failover: many reconnect attempts fail first.
  await sleep(2_500);
  expectFast503(await get(`${url}/health`));
  await partition.heal();
  await expectHealed(url);

  const { id } = bodyOf<{ id: string }>(await post(`${url}/jobs`, { body: 'after' }), 201);
  expect(bodyOf<{ id: string }>(await post(`${url}/jobs/claim?wait=1000`)).id).toBe(id);
});

test('Redis refused while serving: 503 fast during the partition, healed after', {
  tags: ['redis-outage'],
}, async (ctx) => {
  const { env, proxy, config } = await proxied(ctx);
  const { url } = await startInProcess(config);
  const { id } = bodyOf<{ id: string }>(await post(`${url}/jobs`, { body: 'before' }), 201);

  const partition = await env.partition([proxy], { mode: 'refuse' });
  expectFast503(await get(`${url}/jobs/${id}`));
  expectFast503(await get(`${url}/health`));
  await partition.heal();
  await expectHealed(url);
  expect(bodyOf(await get(`${url}/jobs/${id}`))).toEqual({ id, payload: 'before' });
});
