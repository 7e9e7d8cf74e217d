// lock-release: an exception inside a critical section never leaves the lock held. The
// daemon's eviction lock is exercised with a throw in the middle of an eviction (while another
// eviction waits for the lock), through the control API, and the Mutex itself with sync throws,
// rejections and panics. Faults: the `cache.evict` failpoint (inside the eviction critical
// section), and exceptions thrown by hand inside Mutex.withLock.
import { count } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import { Mutex } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import { CHUNK, cleanup, controlRequest, fail, httpGet, json, startCache, withTimeout, writeMedia } from './helpers.ts';

afterEach(cleanup);

async function filledCache() {
  const s = await startCache({ config: { cache: { maxBytes: 64 * CHUNK } } });
  for (let i = 0; i < 3; i++) {
    const data = await writeMedia(s.media, `f${i}.bin`, 2 * CHUNK);
    expect((await httpGet(`${s.mc.httpUrl}/files/f${i}.bin`)).body.equals(data)).toBe(true);
  }
  expect(s.mc.index.chunkCount).toBe(6);
  return s;
}

describe('lock-release', () => {
  test('an eviction that throws inside the lock releases it to the eviction waiting behind it', {
    tags: ['lock-release'],
  }, async () => {
    const { mc } = await filledCache();
    const lock = mc.cache.evictLock;
    const before = lock.acquisitions;
    fail('cache.evict', '1*return(EIO)');

    const first = mc.cache.evictTo(4 * CHUNK);
    const second = mc.cache.evictTo(0);
    expect(lock.locked).toBe(true);
    expect(lock.waiting).toBe(1);
    await expect(first).rejects.toThrow(/EIO/);
    const result = await withTimeout(second, 2_000, 'the waiting eviction');
    expect(count('cache.evict')).toBe(1);
    expect(result.chunks).toBe(4); // the first one had evicted two before it threw
    expect(mc.index.bytes).toBe(0);
    expect(lock.acquisitions - before).toBe(2);
    expect(lock.locked).toBe(false);
    expect(lock.waiting).toBe(0);
    expect(mc.status().locks).toEqual([{ name: 'eviction', locked: false, waiting: 0 }]);
  });

  test('a failing evict action through the control API leaves the lock free for the next one', {
    tags: ['lock-release'],
  }, async () => {
    const { mc } = await filledCache();
    fail('cache.evict', '1*panic(evict blew up)');
    const failed = await controlRequest(mc.controlSocket, 'PUT', '/actions/evict?targetBytes=0');
    expect(failed.status).toBe(500);
    expect(json<{ error: string }>(failed).error).toMatch(/evict blew up/);
    expect(count('cache.evict')).toBe(1);
    const status = json<{ locks: Array<{ name: string; locked: boolean }> }>(
      await controlRequest(mc.controlSocket, 'GET', '/'),
    );
    expect(status.locks).toEqual([{ name: 'eviction', locked: false, waiting: 0 }]);

    const next = await controlRequest(mc.controlSocket, 'PUT', '/actions/evict?targetBytes=0', 2_000);
    expect(next.status).toBe(200);
    expect(json<{ result: { nowBytes: number } }>(next).result.nowBytes).toBe(0);
    expect(mc.cache.evictLock.locked).toBe(false);
  });

  test('Mutex.withLock releases after a sync throw and a rejection, handing over in FIFO order', {
    tags: ['lock-release'],
  }, async () => {
    const mutex = new Mutex('test');
    const order: string[] = [];
    const boom = (what: string) => {
      recordFault({ kind: 'exception', name: 'critical-section', detail: `threw inside Mutex.withLock: ${what}` });
      return new Error(what);
    };
    const results = await Promise.allSettled([
      mutex.withLock(() => {
        order.push('sync-throw');
        throw boom('sync throw');
      }),
      mutex.withLock(async () => {
        order.push('rejection');
        await new Promise((r) => setTimeout(r, 5));
        throw boom('async rejection');
      }),
      mutex.withLock(async () => {
        order.push('ok');
        return 42;
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(order).toEqual(['sync-throw', 'rejection', 'ok']);
    expect(mutex.locked).toBe(false);
    expect(mutex.waiting).toBe(0);
    expect(mutex.acquisitions).toBe(3);
    expect(
      await withTimeout(
        mutex.withLock(() => 'free'),
        500,
        'a later withLock',
      ),
    ).toBe('free');
  });
});
