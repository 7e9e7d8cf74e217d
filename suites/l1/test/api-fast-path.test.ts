// api-fast-path: `GET /` on the control socket stays within its p99 budget while a long
// mutating action holds the serial action queue. Fault: the `action.run` failpoint makes a real
// `rescan` action sleep inside the queue (and the `sleep` test action holds it too).
import { count } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, controlRequest, fail, json, type Reply, settle, startCache, waitFor, writeMedia } from './helpers.ts';

afterEach(cleanup);

/** p99 budget for `GET /` (a local unix socket; generous for a loaded 2-core machine). */
const P99_BUDGET_MS = 100;
const HOLD_MS = 1_500;

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

interface StatusBody {
  state: string;
  actions: { running: string | null; queued: number };
}

/** Samples `GET /` back to back for `ms`, each request bounded; returns latencies and the bodies. */
async function sample(socket: string, ms: number): Promise<{ latencies: number[]; bodies: StatusBody[] }> {
  const latencies: number[] = [];
  const bodies: StatusBody[] = [];
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const reply: Reply = await controlRequest(socket, 'GET', '/', HOLD_MS + 2_000);
    expect(reply.status).toBe(200);
    latencies.push(reply.ms);
    bodies.push(json<StatusBody>(reply));
  }
  return { latencies, bodies };
}

describe('api-fast-path', () => {
  test('GET / stays fast while a rescan is held in the action queue', { tags: ['api-fast-path'] }, async () => {
    const { mc, media } = await startCache();
    for (let i = 0; i < 5; i++) await writeMedia(media, `f${i}.bin`, 100);
    fail('action.run', `1*sleep(${HOLD_MS})`);

    const action = settle(controlRequest(mc.controlSocket, 'PUT', '/actions/rescan', HOLD_MS + 5_000));
    await waitFor(
      'the rescan to hold the queue',
      () => count('action.run') === 1 && mc.actions.stats().running === 'rescan',
    );
    const { latencies, bodies } = await sample(mc.controlSocket, HOLD_MS - 500);
    expect(p99(latencies), `p99 of ${latencies.length} GET / while rescan held the queue`).toBeLessThan(P99_BUDGET_MS);
    expect(latencies.length).toBeGreaterThanOrEqual(20);
    // The whole sample ran while the action was still in flight.
    expect(mc.actions.stats().running).toBe('rescan');
    expect(bodies.every((b) => b.actions.running === 'rescan')).toBe(true);

    const done = await action;
    expect(done.ok && done.value.status).toBe(200);
    expect(mc.actions.stats().completed).toBeGreaterThanOrEqual(1);
  });

  test('GET / stays fast with a long sleep action running and another action queued behind it', {
    tags: ['api-fast-path'],
  }, async () => {
    const { mc } = await startCache();
    const first = settle(controlRequest(mc.controlSocket, 'PUT', `/actions/sleep?ms=${HOLD_MS}`, HOLD_MS + 5_000));
    await waitFor('the sleep action to run', () => mc.actions.stats().running === 'sleep');
    recordFault({
      kind: 'long-action',
      name: 'sleep',
      detail: `PUT /actions/sleep?ms=${HOLD_MS} holds the serial action queue`,
      attributes: { holdMs: HOLD_MS },
    });
    const second = settle(controlRequest(mc.controlSocket, 'PUT', '/actions/check-health', HOLD_MS + 5_000));
    await waitFor('check-health to be queued', () => mc.actions.stats().queued === 1);

    const { latencies, bodies } = await sample(mc.controlSocket, HOLD_MS - 600);
    expect(p99(latencies), `p99 of ${latencies.length} GET / while sleep held the queue`).toBeLessThan(P99_BUDGET_MS);
    expect(bodies.every((b) => b.actions.running === 'sleep' && b.actions.queued === 1)).toBe(true);
    // mc.status() (in-process) is the same snapshot and just as fast.
    const t = performance.now();
    expect(mc.status().actions.running).toBe('sleep');
    expect(performance.now() - t).toBeLessThan(P99_BUDGET_MS);

    const [a, b] = await Promise.all([first, second]);
    expect(a.ok && a.value.status).toBe(200);
    expect(b.ok && b.value.status).toBe(200);
    expect(mc.actions.stats().completed).toBe(2);
  });
});
