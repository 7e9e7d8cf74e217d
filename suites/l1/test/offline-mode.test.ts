// offline-mode: with every origin down, cached content is still served (whole and by range),
// uncached requests fail fast with 503 + Retry-After, and status (control socket, /healthz,
// status()) says offline; when an origin comes back the daemon goes online again. Faults: the
// only real origin server stopped (its port refuses), and the `health.check` failpoint failing
// every health check of several origins.
import { count } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  cleanup,
  controlRequest,
  fail,
  httpGet,
  httpOrigin,
  json,
  originWithMedia,
  startCache,
  startStaticOrigin,
  waitFor,
} from './helpers.ts';

afterEach(cleanup);

describe('offline-mode', () => {
  test('origin stopped: cached files are served, uncached get 503 at once, status says offline', {
    tags: ['offline-mode'],
  }, async () => {
    const { root, files, origin } = await originWithMedia({ 'cached.flac': 3 * CHUNK + 99, 'uncached.flac': CHUNK });
    const { 'cached.flac': cached, 'uncached.flac': uncached } = files;
    const { mc } = await startCache({
      config: { origins: [httpOrigin('web', origin.url)], health: { intervalMs: 100, timeoutMs: 500 } },
    });
    expect((await httpGet(`${mc.httpUrl}/files/cached.flac`)).body.equals(cached)).toBe(true);
    expect(mc.status().offline).toBe(false);

    await origin.close();
    recordFault({
      kind: 'origin-down',
      name: 'web',
      detail: `stopped the only origin (${origin.url}); its port now refuses connections`,
      attributes: { url: origin.url },
    });
    await waitFor('the daemon to go offline', () => mc.status().offline, 3_000);
    expect(mc.pool.healthOf('web')?.lastError).toMatch(/ECONNREFUSED/);

    const status = json<{ offline: boolean; origins: Array<{ healthy: boolean }> }>(
      await controlRequest(mc.controlSocket, 'GET', '/'),
    );
    expect(status.offline).toBe(true);
    expect(status.origins[0]!.healthy).toBe(false);
    expect(json<{ offline: boolean }>(await httpGet(`${mc.httpUrl}/healthz`)).offline).toBe(true);

    const hitsBefore = mc.status().counters.hits;
    const whole = await httpGet(`${mc.httpUrl}/files/cached.flac`);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(cached)).toBe(true);
    const range = await httpGet(`${mc.httpUrl}/files/cached.flac`, {
      headers: { range: `bytes=${CHUNK - 10}-${CHUNK + 10}` },
    });
    expect(range.status).toBe(206);
    expect(range.body.equals(cached.subarray(CHUNK - 10, CHUNK + 11))).toBe(true);
    expect(mc.status().counters.hits - hitsBefore).toBe(6); // 4 chunks + 2 for the range, all from disk

    const miss = await httpGet(`${mc.httpUrl}/files/uncached.flac`);
    expect(miss.status).toBe(503);
    expect(miss.headers['retry-after']).toBe('1');
    expect(miss.ms).toBeLessThan(200); // fails fast, no origin attempt
    expect(JSON.parse(miss.body.toString()).error).toMatch(/offline/);

    // The origin comes back on the same port: online again, uncached content flows.
    await startStaticOrigin(root, origin.port);
    await waitFor('the daemon to come back online', () => !mc.status().offline, 3_000);
    const back = await httpGet(`${mc.httpUrl}/files/uncached.flac`);
    expect(back.status).toBe(200);
    expect(back.body.equals(uncached)).toBe(true);
  });

  test('every health check failing (failpoint): offline with several origins, cache still serves', {
    tags: ['offline-mode'],
  }, async () => {
    const { root, files, origin: web } = await originWithMedia({ 'a.bin': 2 * CHUNK, 'b.bin': 10 });
    const cached = files['a.bin'];
    const { mc } = await startCache({
      config: {
        origins: [httpOrigin('web', web.url, 0), { type: 'local', id: 'disk', path: root, priority: 1 }],
        health: { intervalMs: 50, timeoutMs: 500 },
      },
    });
    expect((await httpGet(`${mc.httpUrl}/files/a.bin`)).body.equals(cached)).toBe(true);

    fail('health.check', 'return(ECONNREFUSED)');
    await waitFor('both origins to be marked down', () => mc.status().offline, 3_000);
    expect(count('health.check')).toBeGreaterThanOrEqual(2);
    expect(mc.status().origins.every((o) => o.healthy === false && /ECONNREFUSED/.test(o.lastError ?? ''))).toBe(true);

    const hit = await httpGet(`${mc.httpUrl}/files/a.bin`);
    expect(hit.status).toBe(200);
    expect(hit.body.equals(cached)).toBe(true);
    const miss = await httpGet(`${mc.httpUrl}/files/b.bin`);
    expect(miss.status).toBe(503);
    expect(miss.headers['retry-after']).toBe('1');
    expect(web.requests.filter((p) => p === '/b.bin')).toEqual([]); // no origin was tried
  });
});
