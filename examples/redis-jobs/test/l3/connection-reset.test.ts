// connection-reset, layer 3: Toxiproxy's reset_peer breaks the connections between the service and
// redis-server at their next reply: the main connection's (a read, a health check) and a long-poll
// claim's, whose reply is the job Redis just handed it. Each request must get a clean 503 at once,
// far below the 2 s command deadline (no waiting on a dead connection, no 500); the service must
// reconnect by itself once the resets stop, and the job lost with the claim's reply comes back.
// Red with ioredis' defaults (offline queue, 20 retries per command: requests wait for the
// deadline), if a connection error is mapped to a 500, or with a popping claim (the job is gone).
import { waitFor } from '@faultline/crash';
import { expect, test } from 'vitest';
import { type Answer, bodyOf, get, type Outcome, post } from '../support/http.ts';
import { useProxiedRedis } from '../support/proxied.ts';
import { blockedClients, client, inspect, startInProcess } from '../support/service.ts';

const proxied = useProxiedRedis();

const DEADLINE_MS = 2_000;
const FAST_MS = 1_000;

function expectClean503(reply: Outcome, ms = reply.ms): void {
  expect(reply.status, JSON.stringify(reply)).toBe(503);
  expect((reply as Answer).headers['retry-after']).toBe('1');
  expect(ms, 'a reset must not wait for the command deadline').toBeLessThan(FAST_MS);
}

test('reset_peer on the Redis connections: clean 503s at once, a claim mid-reply too; reconnected, no job lost', {
  tags: ['connection-reset'],
}, async (ctx) => {
  const { env, proxy, config, directUrl } = await proxied(ctx, { commandTimeoutMs: DEADLINE_MS });
  // The tests' own view of Redis goes around the proxy, past the fault.
  const admin = await client(directUrl);
  const queue = await inspect({ ...config, redisUrl: directUrl });
  const { url } = await startInProcess(config);
  await waitFor(
    'the service to reach Redis through the proxy',
    async () => (await get(`${url}/health`)).status === 200,
  );
  const { id } = bodyOf<{ id: string }>(await post(`${url}/jobs`, { body: 'export-3' }), 201);
  const waiting = post(`${url}/jobs/claim?wait=8000`, { timeoutMs: 10_000 });
  await waitFor('Redis to hand export-3 to the claim', async () => (await queue.stats()).processing === 1);
  const claimed = bodyOf<{ id: string }>(await waiting).id;
  expect(claimed).toBe(id);
  expect((await post(`${url}/jobs/${claimed}/ack`)).status).toBe(204);
  const blocked = post(`${url}/jobs/claim?wait=8000`, { timeoutMs: 10_000 });
  await waitFor('the next claim to block in BLMOVE', async () => (await blockedClients(admin)) === 1);

  const reset = await env.toxic(proxy, { type: 'reset_peer', attributes: { timeout: 0 } });
  const [read, health] = await Promise.all([get(`${url}/jobs/${id}`), get(`${url}/health`)]);
  expectClean503(read);
  expectClean503(health);
  // Redis hands this job to the blocked claim; the reply carrying it is what gets reset.
  const handedAt = performance.now();
  const lostReply = await queue.enqueue('report-5');
  expectClean503(await blocked, performance.now() - handedAt);
  await reset.remove();

  await waitFor('the service to reconnect by itself', async () => (await get(`${url}/health`)).status === 200, {
    timeoutMs: 5_000,
  });
  // The job whose reply was lost is claimed again (lease-less claim: grace lease, then requeued).
  const again = bodyOf<{ id: string; payload: string }>(
    await post(`${url}/jobs/claim?wait=5000`, { timeoutMs: 7_000 }),
  );
  expect(again).toMatchObject({ id: lostReply, payload: 'report-5' });
});
