// Per-toxic counters (issue 22): with -proxy-metrics, /metrics carries, besides Toxiproxy's own
// per-proxy counters, `faultline_toxic_bytes_total` and `faultline_toxic_connections_total`:
// the bytes and connections a toxic really acted on (delayed, throttled, dropped, split, cut,
// or a close it caused or delayed; never as the noop a toxicity draw puts in its place),
// counted as it acts, not when the connection ends.
import { describe, expect, test } from 'vitest';
import { api, connect, type Env, portOf, readBytes, roundTrip, sleep, startServer, startUpstream } from './helpers.ts';

interface Counters {
  bytes: number;
  connections: number;
}

async function setup(): Promise<Env & { port: number }> {
  const env = await startServer({ proxyMetrics: true });
  const upstream = await startUpstream();
  await env.client.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: upstream.address });
  return { ...env, port: portOf((await env.client.get('p')).listen) };
}

async function addToxic(env: Env, body: Record<string, unknown>): Promise<void> {
  const res = await api(env.server, 'POST', '/proxies/p/toxics', body);
  expect(res.status, res.text).toBe(200);
}

/** The toxic's counters from /metrics; undefined when the series is absent. */
async function counters(env: Env, toxic: string): Promise<Counters | undefined> {
  const text = (await api(env.server, 'GET', '/metrics')).text;
  const value = (family: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${family}{`) && l.includes(`toxic="${toxic}"`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const bytes = value('faultline_toxic_bytes_total');
  const connections = value('faultline_toxic_connections_total');
  return bytes === undefined || connections === undefined ? undefined : { bytes, connections };
}

/** Polls (bounded, 2 s) until the toxic has counted `bytes`; returns the last reading. */
async function settled(env: Env, toxic: string, bytes: number): Promise<Counters | undefined> {
  let last: Counters | undefined;
  const deadline = performance.now() + 2000;
  do {
    last = await counters(env, toxic);
    if (last?.bytes === bytes) return last;
    await sleep(10);
  } while (performance.now() < deadline);
  return last;
}

/** Polls (bounded, 2 s) until the toxic has acted on a connection; returns the last reading. */
async function waitForCounter(env: Env, toxic: string): Promise<Counters | undefined> {
  let last: Counters | undefined;
  const deadline = performance.now() + 2000;
  do {
    last = await counters(env, toxic);
    if (last && last.connections > 0) return last;
    await sleep(10);
  } while (performance.now() < deadline);
  return last;
}

describe('per-toxic counters in /metrics', () => {
  test('a toxic on a proxy with no traffic has a zero series, with its labels', async () => {
    const env = await setup();
    await addToxic(env, { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });
    const text = (await api(env.server, 'GET', '/metrics')).text;
    expect(text).toContain('# TYPE faultline_toxic_bytes_total counter');
    expect(text).toContain(
      'faultline_toxic_bytes_total{direction="upstream",proxy="p",toxic="reset_peer_upstream",type="reset_peer"} 0',
    );
    expect(await counters(env, 'reset_peer_upstream')).toEqual({ bytes: 0, connections: 0 });
  });

  test('bytes are counted as they flow, per direction, while the connection stays open', async () => {
    const env = await setup();
    await addToxic(env, { type: 'latency', stream: 'downstream', attributes: { latency: 20 } });
    const socket = await connect(env.port);
    socket.write('hello');
    await readBytes(socket, 5);
    socket.write('abc');
    await readBytes(socket, 3);
    // The connection is still open: a count taken at close would still read 0 here.
    expect(await counters(env, 'latency_downstream')).toEqual({ bytes: 8, connections: 1 });
    socket.destroy();
  });

  test('each direction counts its own bytes (echo: 12 up delayed, 12 back dropped by a timeout)', async () => {
    const env = await setup();
    await addToxic(env, { name: 'up', type: 'latency', stream: 'upstream', attributes: { latency: 30 } });
    await addToxic(env, { name: 'down', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } });
    const socket = await connect(env.port);
    socket.write('twelve bytes');
    expect(await settled(env, 'down', 12)).toEqual({ bytes: 12, connections: 1 });
    expect(await counters(env, 'up')).toEqual({ bytes: 12, connections: 1 });
    socket.destroy();
  });

  test('toxicity 0: the toxic is spared on every connection and counts nothing', async () => {
    const env = await setup();
    await addToxic(env, { type: 'latency', toxicity: 0, attributes: { latency: 50 } });
    for (let i = 0; i < 3; i++) {
      const socket = await connect(env.port);
      socket.write('ping');
      await readBytes(socket, 4);
      socket.destroy();
    }
    expect(await counters(env, 'latency_downstream')).toEqual({ bytes: 0, connections: 0 });
  });

  test('toxicity 0.5: exactly the connections the draw delayed are counted, with their bytes', async () => {
    const env = await setup();
    await addToxic(env, { type: 'latency', toxicity: 0.5, attributes: { latency: 60 } });
    let delayed = 0;
    for (let i = 0; i < 16; i++) {
      const socket = await connect(env.port);
      if ((await roundTrip(socket, 'ping')) >= 55) delayed++;
      socket.destroy();
    }
    expect(delayed, 'the draw spared some connections and hit others').toBeGreaterThan(0);
    expect(delayed).toBeLessThan(16);
    expect(await counters(env, 'latency_downstream')).toEqual({ bytes: 4 * delayed, connections: delayed });
  });

  test('a toxic added to a live connection counts only the bytes after it existed', async () => {
    const env = await setup();
    const socket = await connect(env.port);
    socket.write('x'.repeat(1000));
    await readBytes(socket, 1000);
    await addToxic(env, { type: 'latency', attributes: { latency: 30 } });
    expect(await counters(env, 'latency_downstream')).toEqual({ bytes: 0, connections: 0 });
    socket.write('seven!!');
    await readBytes(socket, 7);
    expect(await counters(env, 'latency_downstream')).toEqual({ bytes: 7, connections: 1 });
    socket.destroy();
  });

  test('counters are Prometheus counters: they outlive the toxic, and a re-added name adds on', async () => {
    const env = await setup();
    const socket = await connect(env.port);
    await addToxic(env, { name: 't', type: 'latency', attributes: { latency: 30 } });
    socket.write('abcd');
    await readBytes(socket, 4);
    expect((await api(env.server, 'DELETE', '/proxies/p/toxics/t')).status).toBe(204);
    expect(await counters(env, 't')).toEqual({ bytes: 4, connections: 1 });
    await addToxic(env, { name: 't', type: 'latency', attributes: { latency: 30 } });
    socket.write('ef');
    await readBytes(socket, 2);
    expect(await counters(env, 't')).toEqual({ bytes: 6, connections: 2 });
    socket.destroy();
  });

  test('bytes passed unchanged are not acted on: noop, latency 0, slicer on small chunks, limit_data below its limit', async () => {
    const env = await setup();
    await addToxic(env, { type: 'noop', stream: 'upstream' });
    await addToxic(env, { type: 'latency', attributes: { latency: 0 } });
    await addToxic(env, { type: 'slicer', stream: 'upstream', attributes: { average_size: 64 } });
    await addToxic(env, { type: 'limit_data', attributes: { bytes: 1000 } });
    const socket = await connect(env.port);
    socket.write('well below every limit');
    await readBytes(socket, 22);
    for (const toxic of ['noop_upstream', 'latency_downstream', 'slicer_upstream', 'limit_data_downstream']) {
      expect(await counters(env, toxic), toxic).toEqual({ bytes: 0, connections: 0 });
    }
    socket.destroy();
  });

  test('closes count as acting on a connection: slow_close delays one, timeout causes one, limit_data cuts', async () => {
    const env = await setup();
    await addToxic(env, { type: 'slow_close', stream: 'upstream', attributes: { delay: 50 } });
    await addToxic(env, { type: 'timeout', attributes: { timeout: 100 } });
    const idle = await connect(env.port);
    expect(await waitForCounter(env, 'timeout_downstream')).toEqual({ bytes: 0, connections: 1 });
    idle.destroy();
    expect(await waitForCounter(env, 'slow_close_upstream')).toEqual({ bytes: 0, connections: 1 });
    await api(env.server, 'DELETE', '/proxies/p/toxics/timeout_downstream');
    await addToxic(env, { type: 'limit_data', attributes: { bytes: 4 } });
    const cut = await connect(env.port);
    cut.write('0123456789');
    expect(await waitForCounter(env, 'limit_data_downstream')).toEqual({ bytes: 6, connections: 1 });
    cut.destroy();
  });

  test('without -proxy-metrics there is no /metrics route', async () => {
    const env = await startServer();
    expect((await api(env.server, 'GET', '/metrics')).status).toBe(404);
  });
});
