// shutdown-order: close() tears down in order (stop-accepting, drain, actions, control,
// supervisor, origins, db, socket, lock); an in-flight read finishes if it can, one stuck before
// its headers gets a clean 503, one stuck mid-body is cut (never a truncated success), a running
// action is aborted, and close() itself never hangs. Faults: origin reads paused at the
// `origin.<id>.read` failpoint, a long `sleep` action, and (known bug, opt-in) a control action
// held inside the queue by the `action.run` failpoint.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { count, waitForHit } from '@faultline/failpoints';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  cleanup,
  controlRequest,
  fail,
  httpGet,
  settle,
  startCache,
  waitFor,
  withTimeout,
  writeMedia,
} from './helpers.ts';

afterEach(cleanup);

const ORDER = ['stop-accepting', 'drain', 'actions', 'control', 'supervisor', 'origins', 'db', 'socket', 'lock'];
const DRAIN_MS = 400;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('shutdown-order', () => {
  test('stuck reads are answered 503 or cut, a held action is aborted, steps run in order', {
    tags: ['shutdown-order'],
  }, async () => {
    const { mc, media, input } = await startCache({ config: { timeouts: { drainMs: DRAIN_MS, readMs: 30_000 } } });
    await writeMedia(media, 'head.bin', CHUNK);
    await writeMedia(media, 'body.bin', 3 * CHUNK);
    // Warm chunk 0 of body.bin so its headers go out before the paused read of chunk 1.
    expect((await httpGet(`${mc.httpUrl}/files/body.bin`, { headers: { range: 'bytes=0-9' } })).status).toBe(206);

    // From here every origin call pauses: head.bin stalls in its stat, before any header;
    // body.bin (known to the index) after its first, cached, chunk went out.
    fail('origin.local.read', 'pause');
    const stuckHead = settle(httpGet(`${mc.httpUrl}/files/head.bin`, { timeoutMs: 10_000 }));
    await waitForHit('origin.local.read', { after: 0, timeoutMs: 2_000 });
    const stuckBody = settle(httpGet(`${mc.httpUrl}/files/body.bin`, { timeoutMs: 10_000 }));
    await waitForHit('origin.local.read', { after: 1, timeoutMs: 2_000 });
    const heldAction = settle(controlRequest(mc.controlSocket, 'PUT', '/actions/sleep?ms=20000', 10_000));
    await waitFor('the sleep action to hold the queue', () => mc.actions.stats().running === 'sleep');
    expect(mc.status().inflight.http).toBe(2);

    const started = performance.now();
    const report = await withTimeout(mc.close(), DRAIN_MS + 5_000, 'close()');
    const closeMs = performance.now() - started;

    expect(report.steps.map((s) => s.step)).toEqual(ORDER);
    expect(report.steps.filter((s) => s.error !== undefined)).toEqual([]);
    expect(report.abortedRequests).toBe(2);
    expect(report.stuckTasks).toEqual([]);
    expect(closeMs).toBeLessThan(DRAIN_MS + 3_000);
    expect(mc.state).toBe('stopped');
    expect(count('origin.local.read')).toBe(2);

    const h = await stuckHead;
    expect(h.ok && h.value.status).toBe(503); // clean error before the headers
    if (h.ok) expect(h.value.headers['retry-after']).toBe('1');
    const b = await stuckBody;
    expect(b.ok).toBe(false); // headers were out: the connection is cut, never a short 200
    if (!b.ok) expect(b.error.message).toMatch(/cut mid-body|socket hang up|aborted|ECONNRESET/);
    const a = await heldAction;
    expect(a.ok && a.value.status).toBe(503);

    // Teardown finished: socket and lock are gone, the DB is closed, close() is idempotent.
    expect(await exists(mc.controlSocket)).toBe(false);
    expect(await exists(join(input.cacheDir, 'media-cache.pid'))).toBe(false);
    expect(mc.index.closed).toBe(true);
    expect(await mc.close()).toBe(report);
  });

  test('an in-flight read that can finish within the drain deadline completes with its bytes', {
    tags: ['shutdown-order'],
  }, async () => {
    const { mc, media } = await startCache({ config: { timeouts: { drainMs: 2_000 } } });
    const data = await writeMedia(media, 'slow.bin', 2 * CHUNK);
    fail('origin.local.read', '1*off->2*sleep(150)');
    const pending = httpGet(`${mc.httpUrl}/files/slow.bin`, { timeoutMs: 5_000 });
    await waitForHit('origin.local.read', { after: 1, timeoutMs: 2_000 });
    const report = await withTimeout(mc.close(), 5_000, 'close()');
    const reply = await pending;
    expect(count('origin.local.read')).toBe(3);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(report.abortedRequests).toBe(0);
    expect(report.steps.map((s) => s.step)).toEqual(ORDER);
    // New requests are refused once draining began.
    await expect(httpGet(`${mc.httpUrl}/files/slow.bin`, { timeoutMs: 1_000 })).rejects.toThrow();
  });

  // close() must fail an action held inside the queue (not yet watching its signal) with a
  // clean 503, not cut the control connection or leave the action to run later.
  test('an action held inside the queue is failed with 503 by close(), not cut', {
    tags: ['shutdown-order'],
  }, async () => {
    const { mc } = await startCache();
    fail('action.run', 'pause');
    const held = settle(controlRequest(mc.controlSocket, 'PUT', '/actions/check-health', 10_000));
    await waitForHit('action.run', { after: 0, timeoutMs: 2_000 });
    await withTimeout(mc.close(), 5_000, 'close()');
    const reply = await held;
    expect(reply.ok ? reply.value.status : reply.error.message).toBe(503);
    expect(mc.actions.stats().running).toBeNull();
  });
});
