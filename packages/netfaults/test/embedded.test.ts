import { connect } from 'node:net';
import { describe, expect, test } from 'vitest';
import { createNetworkEnvironment } from '../src/index.ts';
import { runScenario, withEvidence } from './scenario.ts';
import { settle, startEcho } from './servers.ts';

function listeningServers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('embedded backend', () => {
  test('the layer-3 scenario (shared with the containers backend)', async () => {
    await using env = await createNetworkEnvironment({ backend: 'embedded' });
    expect(env.backend).toBe('embedded');
    expect(env.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await runScenario(env);
  });

  test('close() leaves no listeners and removes open toxics with evidence', async () => {
    const echo = await startEcho();
    await settle(20); // handles closed by earlier tests leave the list on the next turn
    const before = listeningServers();
    const env = await createNetworkEnvironment({ backend: 'embedded' });
    const apiPort = Number(new URL(env.apiUrl).port);
    const a = await env.proxy('a', echo.port);
    const b = await env.proxy('b', `127.0.0.1:${echo.port}`);
    expect(listeningServers()).toBeGreaterThan(before);
    await withEvidence(async (log) => {
      await env.toxic(a, { type: 'timeout', attributes: { timeout: 0 } });
      await env.partition(b);
      await env.close();
      expect(log.entries.map((e) => `${e.kind} ${e.name}`).sort()).toEqual([
        'partition b',
        'toxic a/timeout_downstream',
      ]);
    });
    await env.close(); // idempotent
    await settle(20);
    expect(listeningServers()).toBe(before);
    expect(await refused(a.port)).toBe(true);
    expect(await refused(b.port)).toBe(true);
    expect(await refused(apiPort)).toBe(true);
    await expect(env.proxy('c', echo.port)).rejects.toThrow(/closed/);
    await echo.close();
  });

  test('toxic handles: update, idempotent remove, unknown proxy names', async () => {
    await using env = await createNetworkEnvironment({ backend: 'embedded' });
    const echo = await startEcho();
    try {
      const p = await env.proxy('echo', echo.port);
      await withEvidence(async (log) => {
        const t = await env.toxic('echo', {
          type: 'latency',
          stream: 'upstream',
          toxicity: 0.5,
          attributes: { latency: 10 },
        });
        await t.update({ latency: 20 });
        expect((await p.client.getToxic<{ latency: number }>(t.name)).attributes.latency).toBe(20);
        const first = await t.remove();
        expect(await t.remove()).toBe(first);
        expect(t.removed).toBe(true);
        expect(first.detail).toMatch(
          /^latency upstream latency=20 jitter=0 toxicity=0.5 active \d+ ms: did not act on any byte or connection in its stream \(upstream\); toxicity 0.5 may have spared/,
        );
        expect(first).toMatchObject({ acted: false, connections: 0, counter: 'toxic' });
        expect(log.entries).toHaveLength(1);
        expect(log.entries[0]!.acted).toBe(false);
      });
      await expect(env.toxic('nope', { type: 'latency', attributes: { latency: 1 } })).rejects.toThrow(
        /no proxy named "nope"/,
      );
    } finally {
      await echo.close();
    }
  });
});
