// Issue 22: a toxic or partition records evidence of what it acted on, never of merely being
// configured. Each case sets a fault up and lets the system hit it or not; a fault that acted
// on nothing records one "did not act" entry (`acted: false`), which covers nothing.
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { actedOn, type EvidenceLog, type FaultEvidence } from '@faultline/evidence';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createNetworkEnvironment, type NetworkEnvironment } from '../src/index.ts';
import { withEvidence } from './scenario.ts';
import { type Dependency, echoRoundTrip, HTTP_BODY, httpGet, probe, settle, startEcho, startHttp } from './servers.ts';

let env: NetworkEnvironment;
let echo: Dependency;
let http: Dependency;

beforeAll(async () => {
  env = await createNetworkEnvironment({ backend: 'embedded' });
  echo = await startEcho();
  http = await startHttp();
});

afterAll(async () => {
  await env?.close();
  await echo?.close();
  await http?.close();
});

let proxies = 0;
/** A fresh proxy per test, so no test sees another's traffic. */
function proxyTo(port: number) {
  return env.proxy(`p${++proxies}`, port);
}

const acted = (log: EvidenceLog): FaultEvidence[] => log.entries.filter(actedOn);
const didNotAct = (log: EvidenceLog): FaultEvidence[] => log.entries.filter((e) => !actedOn(e));

/** A raw connection that stays open: bytes move on it while toxics come and go. */
async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Writes `text` and waits (bounded) for the echo; returns the round trip in ms. */
async function echoOn(socket: Socket, text: string): Promise<number> {
  const started = performance.now();
  socket.write(text);
  let got = 0;
  const deadline = AbortSignal.timeout(3000);
  while (got < text.length) {
    const [chunk] = (await once(socket, 'data', { signal: deadline })) as [Buffer];
    got += chunk.length;
  }
  return performance.now() - started;
}

/** A GET on a kept-alive agent: the connection outlives the request. */
async function keepAliveGet(agent: Agent, url: string): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    get(url, { agent, timeout: 3000 }, resolve).on('error', reject);
  });
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { ms: performance.now() - started, body };
}

describe('toxics record what they acted on', () => {
  test('reset_peer and latency toxics on a proxy with no traffic did not act', async () => {
    const p = await proxyTo(echo.port);
    await withEvidence(async (log) => {
      await env.toxic(p, { type: 'reset_peer', attributes: { timeout: 0 } });
      await env.toxic(p, { type: 'latency', stream: 'upstream', attributes: { latency: 100 } });
      await settle(100);
      await env.resetToxics();
      expect(acted(log)).toEqual([]);
      expect(
        didNotAct(log)
          .map((e) => e.name)
          .sort(),
      ).toEqual([`${p.name}/latency_upstream`, `${p.name}/reset_peer_downstream`]);
      for (const e of didNotAct(log)) {
        expect(e.detail).toMatch(/did not act on any byte or connection in its stream/);
        expect(e).toMatchObject({ acted: false, attributes: { bytes: 0, connections: 0, counter: 'toxic' } });
      }
    });
  });

  test('a toxic on proxy B while all traffic used proxy A: B did not act, A reports its own bytes', async () => {
    const a = await proxyTo(echo.port);
    const b = await proxyTo(echo.port);
    await withEvidence(async (log) => {
      const onA = await env.toxic(a, { type: 'latency', attributes: { latency: 30 } });
      const onB = await env.toxic(b, { type: 'latency', attributes: { latency: 30 } });
      await echoRoundTrip(a.host, a.port, 'through a only');
      await onB.remove();
      const report = await onA.remove();
      expect(report.bytes).toEqual({ upstream: 0, downstream: 14, total: 14 });
      expect(report.connections).toBe(1);
      expect(acted(log).map((e) => e.name)).toEqual([`${a.name}/latency_downstream`]);
      expect(acted(log)[0]!.detail).toMatch(/acted on 14 bytes downstream of 1 connection/);
      expect(didNotAct(log).map((e) => e.name)).toEqual([`${b.name}/latency_downstream`]);
    });
  });

  test('a latency toxic with toxicity 0 delayed nothing and says toxicity spared the traffic', async () => {
    const p = await proxyTo(http.port);
    await withEvidence(async (log) => {
      const t = await env.toxic(p, { type: 'latency', toxicity: 0, attributes: { latency: 200 } });
      for (let i = 0; i < 3; i++) expect((await httpGet(p.url('/'))).ms).toBeLessThan(200);
      const report = await t.remove();
      expect(report.bytes?.total).toBe(0);
      expect(acted(log)).toEqual([]);
      expect(didNotAct(log)[0]!.detail).toMatch(/toxicity=0 .*did not act on any byte.*toxicity 0 may have spared/);
    });
  });

  test('a toxic added after a keep-alive connection moved all its bytes did not act', async () => {
    const p = await proxyTo(http.port);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await keepAliveGet(agent, p.url('/'))).body).toBe(HTTP_BODY);
      await withEvidence(async (log) => {
        const t = await env.toxic(p, { type: 'latency', attributes: { latency: 50 } });
        await settle(100);
        await t.remove();
        expect(acted(log)).toEqual([]);
        expect(didNotAct(log)).toHaveLength(1);
      });
    } finally {
      agent.destroy();
    }
  });

  test('a toxic that delayed a request on a kept-alive connection reports the real bytes, before it closes', async () => {
    const p = await proxyTo(http.port);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await keepAliveGet(agent, p.url('/'));
      await withEvidence(async (log) => {
        const t = await env.toxic(p, { type: 'latency', attributes: { latency: 150 } });
        const delayed = await keepAliveGet(agent, p.url('/'));
        expect(delayed.ms).toBeGreaterThanOrEqual(140);
        const report = await t.remove(); // the connection is still open in the agent
        expect(report.bytes!.downstream).toBeGreaterThan(HTTP_BODY.length);
        expect(report.bytes!.downstream).toBeLessThan(HTTP_BODY.length + 1024); // one response, headers included
        expect(report.connections).toBe(1);
        expect(acted(log)).toHaveLength(1);
      });
    } finally {
      agent.destroy();
    }
  });

  test('exact bytes on a raw kept connection: only what flowed after the toxic existed', async () => {
    const p = await proxyTo(echo.port);
    const socket = await open(p.port);
    try {
      await echoOn(socket, 'before the toxic');
      await withEvidence(async (log) => {
        const t = await env.toxic(p, { type: 'latency', stream: 'upstream', attributes: { latency: 60 } });
        expect(await echoOn(socket, 'world!')).toBeGreaterThanOrEqual(55);
        const report = await t.remove();
        expect(report.bytes).toEqual({ upstream: 6, downstream: 0, total: 6 });
        expect(acted(log)[0]!.attributes).toMatchObject({ bytes: 6, connections: 1, counter: 'toxic' });
      });
    } finally {
      socket.destroy();
    }
  });
});

describe('partitions record the attempts they refused or black-holed', () => {
  test('a refuse partition nobody dials did not act', async () => {
    const p = await proxyTo(echo.port);
    await withEvidence(async (log) => {
      const cut = await env.partition(p);
      await settle(100);
      await cut.heal();
      expect(acted(log)).toEqual([]);
      expect(didNotAct(log)).toHaveLength(1);
      expect(didNotAct(log)[0]!.detail).toMatch(/^refuse partition of p\d+ .* did not act: no connection attempt/);
      expect(didNotAct(log)[0]).toMatchObject({ acted: false, attributes: { attempts: 0, counter: 'refuser' } });
    });
    expect(await probe(p.host, p.port)).toBe('echoed');
  });

  test('a refuse partition counts the attempts it refused', async () => {
    const p = await proxyTo(echo.port);
    await withEvidence(async (log) => {
      const cut = await env.partition(p);
      expect(await probe(p.host, p.port)).toMatch(/refused|reset|closed/);
      expect(await probe(p.host, p.port)).toMatch(/refused|reset|closed/);
      await cut.heal();
      expect(didNotAct(log)).toEqual([]);
      const [entry] = acted(log);
      expect(entry!.detail).toMatch(/^refuse partition of p\d+ \(.+\) refused 2 connection attempts in \d+ ms$/);
      expect(entry!.attributes).toMatchObject({ attempts: 2, counter: 'refuser' });
    });
  });

  test('a refuse partition that cut a live connection acted, though nobody dialled again', async () => {
    const p = await proxyTo(echo.port);
    const socket = await open(p.port);
    const closed = once(socket, 'close');
    try {
      await echoOn(socket, 'twelve bytes');
      await withEvidence(async (log) => {
        const cut = await env.partition(p);
        await closed; // the proxy dropped it
        await cut.heal();
        expect(didNotAct(log)).toEqual([]);
        const [entry] = acted(log);
        expect(entry!.detail).toMatch(
          /^refuse partition of p\d+ \(.+\) closed open connections that had carried 24 bytes in \d+ ms$/,
        );
        expect(entry!.attributes).toMatchObject({ attempts: 0, bytesDropped: 24 });
      });
    } finally {
      socket.destroy();
    }
  });

  test('a blackhole partition nobody dials did not act; one that swallowed a request says so', async () => {
    const p = await proxyTo(echo.port);
    await withEvidence(async (log) => {
      const idle = await env.partition(p, { mode: 'blackhole' });
      await settle(50);
      await idle.heal();
      expect(acted(log)).toEqual([]);
      expect(didNotAct(log)[0]!.detail).toMatch(/did not act: no connection attempt/);
    });
    await withEvidence(async (log) => {
      const hole = await env.partition(p, { mode: 'blackhole' });
      expect(await probe(p.host, p.port, 300)).toBe('silent');
      await hole.heal();
      const [entry] = acted(log);
      expect(entry!.detail).toMatch(/black-holed 1 connection \(5 bytes swallowed\) in \d+ ms$/);
      expect(entry!.attributes).toMatchObject({ connections: 1, bytesSwallowed: 5, counter: 'toxic' });
    });
  });
});
