// command-timeout, layer 3: Redis answers, but 3 s late (a Toxiproxy latency toxic on the replies
// between the service and redis-server). Reads and writes must answer 503 + Retry-After within the
// command deadline, and answer in time again once the latency is gone.
// Red without the per-command deadline: the requests take the 3 s.
import { waitFor } from '@faultline/crash';
import { expect, test } from 'vitest';
import { type Answer, bodyOf, get, post } from '../support/http.ts';
import { useProxiedRedis } from '../support/proxied.ts';
import { startInProcess } from '../support/service.ts';

const proxied = useProxiedRedis();

const DEADLINE_MS = 250;
const BUDGET_MS = DEADLINE_MS + 750;

test('replies 3 s late: 503 within the deadline for reads and writes, on time again once the latency is gone', {
  tags: ['command-timeout'],
}, async (ctx) => {
  const { env, proxy, config } = await proxied(ctx, { commandTimeoutMs: DEADLINE_MS });
  const { url } = await startInProcess(config);
  await waitFor(
    'the service to reach Redis through the proxy',
    async () => (await get(`${url}/health`)).status === 200,
  );
  const { id } = bodyOf<{ id: string }>(await post(`${url}/jobs`, { body: 'thumbnail-9' }), 201);

  const slow = await env.toxic(proxy, { type: 'latency', attributes: { latency: 3_000 } });
  const replies = await Promise.all([get(`${url}/jobs/${id}`), post(`${url}/jobs`, { body: 'late' })]);
  for (const reply of replies) {
    expect(reply.status, JSON.stringify(reply)).toBe(503);
    expect((reply as Answer).headers['retry-after']).toBe('1');
    expect((reply as Answer).body).toMatchObject({ error: expect.stringMatching(/within 250 ms/) });
    expect(reply.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 25);
    expect(reply.ms).toBeLessThan(BUDGET_MS);
  }
  await slow.remove();

  // The late replies drain through; then reads are on time again.
  await waitFor(
    'a read on time again',
    async () => {
      const reply = await get(`${url}/jobs/${id}`);
      return reply.status === 200 && reply.ms < BUDGET_MS;
    },
    { timeoutMs: 8_000 },
  );
  expect(bodyOf(await get(`${url}/jobs/${id}`))).toEqual({ id, payload: 'thumbnail-9' });
});
