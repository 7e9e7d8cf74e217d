// origin-failover: when the primary origin refuses connections, is partitioned (hangs) or
// answers 5xx, the secondary serves the same bytes; the primary is marked down, and once it
// recovers the health monitor brings it back and reads return to it. Faults: a real loopback
// port nothing listens on, a faulty() wrapper around the real HttpOrigin (partition), and a real
// origin switched to answering 500.
import { faulty, Healthy, Timeout } from '@faultline/faults';
import { recordFault } from '@faultline/vitest';
import type { Origin } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  cleanup,
  freePort,
  httpGet,
  httpOrigin,
  originWithMedia,
  startCache,
  startStaticOrigin,
  waitFor,
} from './helpers.ts';

afterEach(cleanup);

async function twoOrigins(primaryUrl?: string) {
  const media = await originWithMedia({ 'a.bin': 2 * CHUNK + 5, 'b.bin': CHUNK, 'c.bin': CHUNK + 1 });
  const { root, origin: secondary } = media;
  const files = { a: media.files['a.bin'], b: media.files['b.bin'], c: media.files['c.bin'] };
  const primary = primaryUrl === undefined ? await startStaticOrigin(root) : null;
  return { root, files, secondary, primary, primaryUrl: primaryUrl ?? primary!.url };
}

const served = (origin: { requests: string[] }, path: string) => origin.requests.filter((p) => p === path).length;

describe('origin-failover', () => {
  test('primary refusing connections: the secondary serves, the primary returns after recovery', {
    tags: ['origin-failover'],
  }, async () => {
    const port = await freePort();
    const { root, files, secondary } = await twoOrigins(`http://127.0.0.1:${port}`);
    const { mc } = await startCache({
      config: {
        origins: [httpOrigin('primary', `http://127.0.0.1:${port}`, 0), httpOrigin('secondary', secondary.url, 1)],
        health: { intervalMs: 100, timeoutMs: 500 },
        timeouts: { readMs: 2_000 },
      },
    });
    const reply = await httpGet(`${mc.httpUrl}/files/a.bin`);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(files.a)).toBe(true);
    expect(served(secondary, '/a.bin')).toBeGreaterThanOrEqual(1);
    const primary = mc.pool.healthOf('primary')!;
    expect(primary.healthy).toBe(false);
    expect(primary.lastError).toMatch(/ECONNREFUSED/);
    recordFault({
      kind: 'connection-refused',
      name: 'primary',
      detail: `nothing listens on 127.0.0.1:${port}: the primary origin refused connections`,
      attributes: { port, lastError: primary.lastError ?? '' },
    });
    expect(mc.status().offline).toBe(false);

    // The primary comes back on the same port: the health monitor notices, reads go there again.
    const revived = await startStaticOrigin(root, port);
    await waitFor('the primary to be marked healthy', () => mc.pool.healthOf('primary')?.healthy === true, 3_000);
    const after = await httpGet(`${mc.httpUrl}/files/b.bin`);
    expect(after.body.equals(files.b)).toBe(true);
    expect(served(revived, '/b.bin')).toBeGreaterThanOrEqual(1);
    expect(served(secondary, '/b.bin')).toBe(0);
  });

  test('primary partitioned (hangs): a read fails over within the attempt deadline', {
    tags: ['origin-failover'],
  }, async () => {
    const { files, secondary, primary } = await twoOrigins();
    let partition: ReturnType<typeof faulty<Origin>> | null = null;
    const { mc } = await startCache({
      config: {
        origins: [httpOrigin('primary', primary!.url, 0), httpOrigin('secondary', secondary.url, 1)],
        health: { intervalMs: 100, timeoutMs: 300 },
        timeouts: { readMs: 3_000, attemptMs: 250 },
      },
      deps: {
        wrapOrigin: (o) => {
          if (o.id !== 'primary') return o;
          partition = faulty(o, Healthy, { name: 'HttpOrigin(primary)', methods: ['stat', 'read', 'list', 'check'] });
          return partition.proxy;
        },
      },
    });
    const control = partition!.control;
    expect((await httpGet(`${mc.httpUrl}/files/a.bin`)).body.equals(files.a)).toBe(true);
    expect(served(primary!, '/a.bin')).toBeGreaterThanOrEqual(1);
    expect(served(secondary, '/a.bin')).toBe(0);

    control.setMode(Timeout(3_000)); // every call to the primary hangs (never reaches it)
    const reply = await httpGet(`${mc.httpUrl}/files/b.bin`, { timeoutMs: 2_500 });
    expect(control.failures).toBeGreaterThanOrEqual(1);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(files.b)).toBe(true);
    expect(reply.ms).toBeLessThan(250 + 1_000);
    expect(served(secondary, '/b.bin')).toBeGreaterThanOrEqual(1);
    expect(mc.pool.healthOf('primary')?.healthy).toBe(false);
    const counters = mc.status().counters;
    expect(counters.failovers + counters.readTimeouts).toBeGreaterThanOrEqual(1);

    control.setMode(Healthy); // the partition heals
    await waitFor('the primary to be marked healthy', () => mc.pool.healthOf('primary')?.healthy === true, 3_000);
    expect((await httpGet(`${mc.httpUrl}/files/c.bin`)).body.equals(files.c)).toBe(true);
    expect(served(primary!, '/c.bin')).toBeGreaterThanOrEqual(1);
    expect(served(secondary, '/c.bin')).toBe(0);
  });

  test('primary answering HTTP 500: it is marked down and the secondary serves', {
    tags: ['origin-failover'],
  }, async () => {
    const { files, secondary, primary } = await twoOrigins();
    const { mc } = await startCache({
      config: {
        origins: [httpOrigin('primary', primary!.url, 0), httpOrigin('secondary', secondary.url, 1)],
        health: { intervalMs: 60_000, timeoutMs: 500 },
      },
    });
    await waitFor('the startup health round', () => mc.pool.health().every((h) => h.healthy === true));
    primary!.mode = 'error-500';
    const reply = await httpGet(`${mc.httpUrl}/files/a.bin`);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(files.a)).toBe(true);
    expect(served(primary!, '/a.bin')).toBeGreaterThanOrEqual(1); // it was asked and failed
    expect(served(secondary, '/a.bin')).toBeGreaterThanOrEqual(1);
    expect(mc.pool.healthOf('primary')?.lastError).toMatch(/HTTP 500/);
    recordFault({
      kind: 'origin-error',
      name: 'primary',
      detail: `primary origin answered HTTP 500 to ${served(primary!, '/a.bin')} request(s) for a.bin`,
    });
    expect(mc.status().counters.failovers).toBeGreaterThanOrEqual(1);
  });
});
