// command-timeout, layer 1: the service's own Redis client is wrapped with faulty(), and one
// command hangs (Timeout mode: the call never reaches Redis and settles only after 5 s). The
// request must answer 503 with Retry-After within the command deadline, requests that do not
// use the hung command are served meanwhile, and the next request after the fault is a 200.
// Without the deadline (src/redis.ts withDeadline) the request waits the full 5 s: red.
import { faulty, Healthy, Timeout } from '@faultline/faults';
import { expect, test } from 'vitest';
import { type Answer, bodyOf, get, post } from '../support/http.ts';
import { useRedisServer } from '../support/redis-file.ts';
import { client, startInProcess, testConfig } from '../support/service.ts';

const redis = useRedisServer();

const DEADLINE_MS = 250;
/** The deadline plus scheduling slack on a shared 2-core machine; far below the 5 s hang. */
const BUDGET_MS = DEADLINE_MS + 750;
const HANG = Timeout(5_000);

function expect503(reply: Awaited<ReturnType<typeof get>>, what: RegExp): void {
  expect(reply.status, JSON.stringify(reply)).toBe(503);
  const answer = reply as Answer;
  expect(answer.headers['retry-after']).toBe('1');
  expect((answer.body as { error: string }).error).toMatch(what);
  expect(answer.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 25);
  expect(answer.ms).toBeLessThan(BUDGET_MS);
}

test('a hanging HGET answers 503 + Retry-After within the deadline; other requests are served meanwhile', {
  tags: ['command-timeout'],
}, async () => {
  const config = testConfig(redis.current.url, { commandTimeoutMs: DEADLINE_MS });
  const { proxy, control } = faulty(await client(config.redisUrl), Healthy, { name: 'redis', methods: ['hget'] });
  const { url } = await startInProcess(config, proxy);
  const { id } = bodyOf<{ id: string }>(await post(`${url}/jobs`, { body: 'report-42' }), 201);

  control.setMode(HANG);
  const hung = get(`${url}/jobs/${id}`);
  // While HGET hangs, a request that only needs LLEN answers at once.
  const stats = await get(`${url}/stats`, { timeoutMs: BUDGET_MS });
  expect(bodyOf<{ queued: number }>(stats).queued).toBe(1);
  expect503(await hung, /did not answer HGET within 250 ms/);
  expect(control.failures).toBe(1);

  control.setMode(Healthy);
  expect(bodyOf<{ payload: string }>(await get(`${url}/jobs/${id}`))).toEqual({ id, payload: 'report-42' });
});

test('a hanging enqueue script answers 503 within the deadline, and the service recovers', {
  tags: ['command-timeout'],
}, async () => {
  const config = testConfig(redis.current.url, { commandTimeoutMs: DEADLINE_MS });
  const { proxy, control } = faulty(await client(config.redisUrl), HANG, { name: 'redis', methods: ['eval'] });
  const { url } = await startInProcess(config, proxy);

  const replies = await Promise.all([1, 2, 3].map((n) => post(`${url}/jobs`, { body: `job-${n}` })));
  for (const reply of replies) expect503(reply, /did not answer enqueue within 250 ms/);
  // The reaper's script (EVAL too) hangs as well, so at least the three enqueues.
  expect(control.failures).toBeGreaterThanOrEqual(3);

  control.setMode(Healthy);
  expect(bodyOf<{ id: string }>(await post(`${url}/jobs`, { body: 'after' }), 201).id).toMatch(/^[\w-]{36}$/);
});
