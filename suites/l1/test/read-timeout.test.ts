// read-timeout: an origin read that hangs gives 504 within the read deadline, and other
// requests are not held up meanwhile. Faults: the `origin.<id>.read` failpoint paused (a hang
// inside the daemon's own origin call path), and a real loopback origin that accepts the
// request and never answers.
import { count } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  cleanup,
  fail,
  httpGet,
  httpOrigin,
  originWithMedia,
  settle,
  startCache,
  waitFor,
  writeMedia,
} from './helpers.ts';

afterEach(cleanup);

const READ_MS = 300;
/** Deadline plus scheduling slack on a shared 2-core machine. */
const BUDGET_MS = READ_MS + 700;

describe('read-timeout', () => {
  test('a paused origin read returns 504 within the read deadline', { tags: ['read-timeout'] }, async () => {
    const { mc, media } = await startCache({ config: { timeouts: { readMs: READ_MS } } });
    await writeMedia(media, 'slow.bin', 2 * CHUNK);
    // First hit is the stat (let it through), the chunk read after it hangs until cleanup.
    fail('origin.local.read', '1*off->pause');

    const reply = await settle(httpGet(`${mc.httpUrl}/files/slow.bin`, { timeoutMs: BUDGET_MS + 1_000 }));
    expect(count('origin.local.read')).toBeGreaterThanOrEqual(2); // the read really reached the pause
    expect(reply.ok, reply.ok ? '' : reply.error.message).toBe(true);
    if (!reply.ok) return;
    expect(reply.value.status).toBe(504);
    expect(reply.value.ms).toBeGreaterThanOrEqual(READ_MS - 20);
    expect(reply.value.ms).toBeLessThan(BUDGET_MS);
    expect(JSON.parse(reply.value.body.toString()).error).toMatch(/did not answer in time|within/);
    expect(mc.status().counters.readTimeouts).toBeGreaterThanOrEqual(1);
  });

  test('a hanging HTTP origin gives 504 while cached files keep being served', { tags: ['read-timeout'] }, async () => {
    const { files, origin } = await originWithMedia({ 'cached.bin': CHUNK + 10, 'fresh.bin': CHUNK });
    const cachedData = files['cached.bin'];
    const { mc } = await startCache({
      config: {
        origins: [httpOrigin('web', origin.url)],
        timeouts: { readMs: READ_MS },
        health: { intervalMs: 60_000, timeoutMs: 5_000 },
      },
    });
    const warm = await httpGet(`${mc.httpUrl}/files/cached.bin`);
    expect(warm.status).toBe(200);
    expect(warm.body.equals(cachedData)).toBe(true);

    let hung = 0;
    origin.onHang = (req) => {
      hung += 1;
      recordFault({
        kind: 'origin-hang',
        name: 'web',
        detail: `origin accepted ${req.method} ${req.url} and never answered`,
        attributes: { url: req.url ?? '' },
      });
    };
    origin.mode = 'hang';

    const slow = settle(httpGet(`${mc.httpUrl}/files/fresh.bin`, { timeoutMs: BUDGET_MS + 1_000 }));
    await waitFor('the origin to receive the hanging request', () => hung > 0, BUDGET_MS);
    // While the origin hangs, a cached file is served from disk at once.
    const cached = await httpGet(`${mc.httpUrl}/files/cached.bin`, { timeoutMs: 1_000 });
    expect(cached.status).toBe(200);
    expect(cached.body.equals(cachedData)).toBe(true);
    expect(cached.ms).toBeLessThan(READ_MS);

    const reply = await slow;
    expect(reply.ok, reply.ok ? '' : reply.error.message).toBe(true);
    if (!reply.ok) return;
    expect(reply.value.status).toBe(504);
    expect(reply.value.ms).toBeLessThan(BUDGET_MS);
    expect(mc.status().counters.readTimeouts).toBeGreaterThanOrEqual(1);
  });
});
