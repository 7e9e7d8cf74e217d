// Backend selection with no container engine: DOCKER_HOST points at a socket that does not exist.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  BackendUnavailableError,
  createNetworkEnvironment,
  detectBackends,
  networkEnvironmentOrSkip,
  parseProxyMetrics,
  resolveBackendRequest,
  sharedNetworkEnvironment,
} from '../src/index.ts';

const saved = { ...process.env };
let runDir: string;

function capabilities(): Array<{ key: string; value: string | boolean }> {
  try {
    return readFileSync(join(runDir, 'capabilities.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { key: string; value: string | boolean });
  } catch {
    return [];
  }
}

beforeEach(() => {
  runDir = mkdtempSync(join(tmpdir(), 'netfaults-run-'));
  process.env.FAULTLINE_RUN_DIR = runDir;
  process.env.DOCKER_HOST = `unix://${join(runDir, 'no-engine.sock')}`;
  delete process.env.FAULTLINE_L3_BACKEND;
});

afterEach(() => {
  process.env = { ...saved };
  rmSync(runDir, { recursive: true, force: true });
});

describe('backend selection without a container engine', () => {
  test('auto picks embedded and reports why', async () => {
    await using env = await createNetworkEnvironment({ backend: 'auto' });
    expect(env.backend).toBe('embedded');
    const caps = capabilities();
    expect(caps).toContainEqual({ key: 'backend', value: 'embedded' });
    expect(caps).toContainEqual({ key: 'containerRuntime', value: false });
    expect(caps.find((c) => c.key === 'backendNote')?.value).toMatch(
      /auto chose embedded: no container engine answers/,
    );
    expect(caps.some((c) => c.key === 'notRun')).toBe(false);
  });

  test('FAULTLINE_L3_BACKEND is read when no option is given', async () => {
    process.env.FAULTLINE_L3_BACKEND = 'embedded';
    await using env = await createNetworkEnvironment();
    expect(env.backend).toBe('embedded');
    expect(capabilities()).toEqual([{ key: 'backend', value: 'embedded' }]);
    process.env.FAULTLINE_L3_BACKEND = 'docker';
    await expect(createNetworkEnvironment()).rejects.toThrow(
      'FAULTLINE_L3_BACKEND: unknown layer-3 backend "docker" (expected one of auto, embedded, containers, external)',
    );
    expect(resolveBackendRequest('containers')).toBe('containers');
  });

  test('containers throws BackendUnavailableError and writes notRun', async () => {
    process.env.FAULTLINE_L3_BACKEND = 'containers';
    const error = await createNetworkEnvironment().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const reason = (error as BackendUnavailableError).reason;
    expect(reason).toMatch(
      /^no container engine answers through testcontainers \(DOCKER_HOST=unix:\/\/.*no-engine\.sock\)/,
    );
    expect((error as Error).message).toBe(`layer-3 backend "containers" is not available: ${reason}`);
    const caps = capabilities();
    expect(caps).toContainEqual({ key: 'notRun', value: reason });
    expect(caps).toContainEqual({ key: 'backend', value: 'containers' });
    expect(caps).toContainEqual({ key: 'containerRuntime', value: false });
  });

  test('suite helpers skip the test with the reason', async () => {
    const notes: string[] = [];
    const ctx = {
      skip(note: string): never {
        notes.push(note);
        throw new Error('skipped');
      },
    };
    await expect(networkEnvironmentOrSkip(ctx, { backend: 'containers' })).rejects.toThrow('skipped');
    const shared = sharedNetworkEnvironment({ backend: 'containers' });
    await expect(shared.get(ctx)).rejects.toThrow('skipped');
    await shared.resetToxics();
    await shared.close();
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^layer-3 backend "containers" is not available: no container engine answers/);
  });

  test('detectBackends says why containers are unavailable', async () => {
    const backends = await detectBackends();
    expect(backends.embedded).toEqual({ ok: true, detail: '@faultline/toxiproxy in-process server' });
    expect(backends.containers.ok).toBe(false);
    expect(backends.containers.detail).toMatch(/no container engine answers through testcontainers \(DOCKER_HOST=/);
  });
});

test('parseProxyMetrics sums received bytes per proxy and direction', () => {
  const text = [
    '# HELP toxiproxy_proxy_received_bytes_total The total bytes received from a source of a link',
    '# TYPE toxiproxy_proxy_received_bytes_total counter',
    'toxiproxy_proxy_received_bytes_total{direction="downstream",listener="127.0.0.1:1",proxy="a",upstream="x:1"} 10',
    'toxiproxy_proxy_received_bytes_total{direction="upstream",listener="127.0.0.1:1",proxy="a",upstream="x:1"} 4',
    'toxiproxy_proxy_received_bytes_total{proxy="a",direction="upstream",listener="127.0.0.1:2",upstream="x:1"} 1e+03',
    'toxiproxy_proxy_received_bytes_total{direction="upstream",listener="1",proxy="q\\"uote",upstream="x"} 7',
    'toxiproxy_proxy_sent_bytes_total{direction="upstream",listener="127.0.0.1:1",proxy="a",upstream="x:1"} 99',
  ].join('\n');
  const m = parseProxyMetrics(text);
  expect(m.get('a')).toEqual({ upstream: 1004, downstream: 10 });
  expect(m.get('q"uote')).toEqual({ upstream: 7, downstream: 0 });
});
