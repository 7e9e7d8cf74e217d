// The layer-3 scenario both backends must pass (embedded.test.ts and containers.test.ts run it).
import { actedOn, captureEvidence, type EvidenceLog, type FaultEvidence } from '@faultline/evidence';
import { expect } from 'vitest';
import type { NetworkEnvironment } from '../src/index.ts';
import { echoRoundTrip, HTTP_BODY, httpGet, probe, settle, startEcho, startHttp } from './servers.ts';

export async function withEvidence<T>(fn: (log: EvidenceLog) => Promise<T>): Promise<T> {
  const { log, restore } = captureEvidence();
  try {
    return await fn(log);
  } finally {
    restore();
  }
}

async function toxicsOn(env: NetworkEnvironment, proxy: string): Promise<unknown[]> {
  const res = await fetch(`${env.apiUrl}/proxies/${env.proxies.get(proxy)?.serverName}/toxics`);
  return (await res.json()) as unknown[];
}

function only(log: EvidenceLog, kind: string): FaultEvidence[] {
  return log.entries.filter((e) => e.kind === kind);
}

/**
 * Whether a refuse partition acted, as this backend can tell: counted (true/false) where the
 * proxy ports are on this machine, `unknown` (attribute) on a bridge-networked container.
 */
function refusals(env: NetworkEnvironment, dialled: boolean): boolean | string {
  const local = env.backend === 'embedded' || env.networking === 'host' || env.backend === 'external';
  return local ? dialled : 'unknown';
}

/** Proxies a real echo and a real HTTP server through `env` and exercises every helper. */
export async function runScenario(env: NetworkEnvironment): Promise<void> {
  const echo = await startEcho();
  const http = await startHttp();
  try {
    const echoProxy = await env.proxy('echo', echo.port);
    const httpProxy = await env.proxy('http', { host: '127.0.0.1', port: http.port });
    expect(echoProxy.address).toBe(`${echoProxy.host}:${echoProxy.port}`);
    expect(await env.client.getVersion()).toMatch(/2\.12/);

    // 1. a usable proxy: bytes flow both ways, HTTP works.
    const baseline = Math.min(
      await echoRoundTrip(echoProxy.host, echoProxy.port),
      await echoRoundTrip(echoProxy.host, echoProxy.port),
    );
    const plain = await httpGet(httpProxy.url('/'));
    expect(plain).toMatchObject({ status: 200, body: HTTP_BODY });

    // 2. latency measurably delays, and its evidence says what flowed.
    await withEvidence(async (log) => {
      {
        await using latency = await env.toxic(echoProxy, { type: 'latency', attributes: { latency: 250 } });
        expect(latency.name).toBe('latency_downstream');
        const slowed = await echoRoundTrip(echoProxy.host, echoProxy.port, 'hello through latency');
        expect(slowed).toBeGreaterThanOrEqual(240);
        expect(slowed - baseline).toBeGreaterThan(200);
        await settle();
      }
      const [toxic] = only(log, 'toxic');
      expect(toxic).toMatchObject({ name: 'echo/latency_downstream', source: '@faultline/netfaults' });
      expect(actedOn(toxic!)).toBe(true);
      expect(toxic!.attributes?.backend).toBe(env.backend);
      if (toxic!.attributes?.counter === 'toxic') {
        // Our server (embedded or our image): per toxic, its stream only, as the bytes flowed.
        expect(toxic!.detail).toMatch(
          /^latency downstream latency=250 jitter=0 active \d+ ms, acted on 21 bytes downstream of 1 connection$/,
        );
        expect(toxic!.attributes).toMatchObject({ bytes: 21, bytesDownstream: 21, connections: 1 });
      } else {
        // Real Toxiproxy: per proxy, both directions, of connections that closed meanwhile.
        expect(toxic!.attributes).toMatchObject({ counter: 'proxy', bytes: 2 * 'hello through latency'.length });
        expect(toxic!.detail).toMatch(/, 42 bytes through the proxy \(per proxy, .*cannot tell per toxic\)$/);
      }
    });
    expect(await echoRoundTrip(echoProxy.host, echoProxy.port)).toBeLessThan(200);

    // 3. a scoped toxic is removed when the test body throws; evidence still recorded.
    await withEvidence(async (log) => {
      const failing = async () => {
        await using scope = env.scope();
        await scope.toxic(httpProxy, { type: 'latency', stream: 'upstream', attributes: { latency: 150 } });
        const slowed = await httpGet(httpProxy.url('/'));
        expect(slowed.ms).toBeGreaterThanOrEqual(140);
        await settle();
        throw new Error('test body failed');
      };
      await expect(failing()).rejects.toThrow('test body failed');
      const [toxic] = only(log, 'toxic');
      expect(toxic?.name).toBe('http/latency_upstream');
      expect(actedOn(toxic!)).toBe(true);
      // Per toxic: the request it delayed (upstream); per proxy: the whole exchange.
      expect(toxic?.attributes?.bytes).toBeGreaterThan(toxic?.attributes?.counter === 'toxic' ? 30 : HTTP_BODY.length);
    });
    expect(await toxicsOn(env, 'http')).toEqual([]);
    expect((await httpGet(httpProxy.url('/'))).ms).toBeLessThan(140);

    // 4. resetToxics (afterEach) removes what a test left behind, with evidence.
    await withEvidence(async (log) => {
      await env.toxic(echoProxy, { type: 'bandwidth', attributes: { rate: 100 } });
      await env.toxic(echoProxy, { type: 'bandwidth', attributes: { rate: 50 } });
      await env.resetToxics();
      expect(
        only(log, 'toxic')
          .map((e) => e.name)
          .sort(),
      ).toEqual(['echo/bandwidth_downstream', 'echo/bandwidth_downstream_2']);
    });
    expect(await toxicsOn(env, 'echo')).toEqual([]);

    // 5. only toxics the server accepted record evidence.
    await withEvidence(async (log) => {
      const dup = await env.toxic(echoProxy, { name: 'dup', type: 'slicer', attributes: { average_size: 8 } });
      await expect(env.toxic(echoProxy, { name: 'dup', type: 'latency', attributes: { latency: 1 } })).rejects.toThrow(
        /409/,
      );
      await expect(env.toxic(echoProxy, { type: 'no_such_toxic', attributes: {} } as never)).rejects.toThrow(/400/);
      await dup.remove();
      expect(log.entries.map((e) => e.name)).toEqual(['echo/dup']);
    });

    // 6. partition (refused) and heal; blackhole partition and heal.
    await withEvidence(async (log) => {
      const idle = await env.partition(echoProxy);
      await idle.heal();
      const cut = await env.partition([echoProxy, httpProxy]);
      expect(await probe(echoProxy.host, echoProxy.port)).toMatch(/refused|reset|closed/);
      await expect(httpGet(httpProxy.url('/'))).rejects.toThrow();
      await cut.heal();
      expect(await probe(echoProxy.host, echoProxy.port)).toBe('echoed');
      expect((await httpGet(httpProxy.url('/'))).status).toBe(200);

      const hole = await env.partition(echoProxy, { mode: 'blackhole' });
      expect(await probe(echoProxy.host, echoProxy.port, 400)).toBe('silent');
      await env.heal();
      expect(hole.healed).toBe(true);
      expect(await probe(echoProxy.host, echoProxy.port)).toBe('echoed');

      const partitions = only(log, 'partition');
      const acted = (e: FaultEvidence) => (e.attributes?.acted === 'unknown' ? 'unknown' : actedOn(e));
      expect(partitions.map((e) => `${e.name} ${e.attributes?.mode} ${acted(e)}`)).toEqual([
        `echo refuse ${refusals(env, false)}`,
        `echo refuse ${refusals(env, true)}`,
        `http refuse ${refusals(env, true)}`,
        'echo blackhole true',
      ]);
      if (refusals(env, true) === true) {
        expect(partitions[0]!.acted).toBe(false); // nobody dialled it: did not act
        expect(partitions[0]!.detail).toMatch(
          /^refuse partition of echo \(.+ -> 127\.0\.0\.1:\d+\) lasted \d+ ms: did not act/,
        );
        expect(partitions[1]!.detail).toMatch(
          /^refuse partition of echo \(.+\) refused 1 connection attempt in \d+ ms$/,
        );
        expect(partitions[2]!.attributes?.attempts).toBeGreaterThanOrEqual(1);
      } else {
        expect(partitions[0]!.detail).toMatch(/attempts not counted \(the proxy port is not on this machine/);
      }
      expect(partitions[3]!.detail).toMatch(/^blackhole partition of echo \(.+\) black-holed /);
      expect(only(log, 'toxic')).toEqual([]);
    });
  } finally {
    await echo.close();
    await http.close();
  }
}
