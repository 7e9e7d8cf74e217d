// 10,000 connections opened and closed through a proxy leave no live connections and no
// leaked handles or timers (`process.getActiveResourcesInfo()` back to its baseline).
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { expect, test } from 'vitest';
import type { ToxiproxyServer } from '../src/index.ts';
import { connect, portOf, readBytes, sleep, startServer, startUpstream, waitFor } from './helpers.ts';

const post = (server: ToxiproxyServer, path: string, body: unknown) => request(server, 'POST', path, body);

/** An API call on a fresh, non-kept-alive connection, so no client socket outlives it. */
function request(server: ToxiproxyServer, method: string, path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${server.url}${path}`,
      { method, agent: false, headers: { Connection: 'close' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d;
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

test('10,000 connections opened and closed leave no connections, sockets or timers behind', async () => {
  const env = await startServer();
  const upstream = await startUpstream();
  const proxy = JSON.parse(
    await post(env.server, '/proxies', { name: 'leak', listen: 'localhost:0', upstream: upstream.address }),
  );
  const port = portOf(proxy.listen);
  // Warm up once so lazily created handles are part of the baseline.
  const warm = await connect(port);
  warm.write('w');
  await readBytes(warm, 1);
  warm.destroy();
  await waitFor(() => env.server.connectionCount === 0);
  await sleep(50);
  const baseline = resourceCounts();

  const TOTAL = 10_000;
  const BATCH = 250;
  for (let opened = 0; opened < TOTAL; opened += BATCH) {
    // Later quarters run with toxics, so chains, stubs and their timers are created (and
    // must be torn down) for every connection. Third quarter: a rate-0 bandwidth toxic holds
    // each echo in its 100 ms loop forever; aborted clients must cancel that timer, the
    // others stay open until the toxic is removed. Last quarter: latency and slow_close.
    if (opened === TOTAL / 2) {
      await post(env.server, '/proxies/leak/toxics', {
        name: 'bw',
        type: 'bandwidth',
        stream: 'downstream',
        attributes: { rate: 0 },
      });
    }
    if (opened === (TOTAL * 3) / 4) {
      await request(env.server, 'DELETE', '/proxies/leak/toxics/bw');
      await post(env.server, '/proxies/leak/toxics', {
        name: 'lat',
        type: 'latency',
        stream: 'downstream',
        attributes: { latency: 1 },
      });
      await post(env.server, '/proxies/leak/toxics', {
        name: 'sc',
        type: 'slow_close',
        stream: 'upstream',
        attributes: { delay: 1 },
      });
    }
    const echo = opened < TOTAL / 2 || opened >= (TOTAL * 3) / 4;
    const sockets: Socket[] = await Promise.all(Array.from({ length: BATCH }, () => connect(port)));
    await Promise.all(
      sockets.map(async (socket, i) => {
        socket.write('x');
        if (echo) await readBytes(socket, 1);
        else await sleep(5);
        socket.resume(); // read the proxy's FIN, so the client side closes too
        // Both ways a client goes away: a FIN, or an abrupt close.
        if (i % 2) socket.end();
        else socket.destroy();
      }),
    );
  }
  expect(await waitFor(() => env.server.connectionCount === 0, 10_000)).toBe(true);
  expect(await waitFor(() => upstream.sockets.every((s) => s.destroyed), 10_000)).toBe(true);
  // Handles close asynchronously; give them a moment. Nothing may exceed the baseline (a
  // baseline timer of the HTTP layer may legitimately have expired meanwhile).
  const leaked = (): Record<string, number> =>
    Object.fromEntries(
      Object.entries(resourceCounts())
        .map(([name, count]) => [name, count - (baseline[name] ?? 0)] as const)
        .filter(([, extra]) => extra > 0),
    );
  await waitFor(() => Object.keys(leaked()).length === 0, 5000);
  expect(leaked()).toEqual({});
  upstream.sockets.length = 0;
}, 60_000);
