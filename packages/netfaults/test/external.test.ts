// The external backend against a real `faultline-toxiproxy` process started here (the embedded
// server's binary, with the real server's flags): the shared scenario, two environments on one
// server, cleanup after a failure and on SIGINT, and not-run for a dead URL or a server that is
// not Toxiproxy.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  BackendUnavailableError,
  createNetworkEnvironment,
  detectBackends,
  networkEnvironmentOrSkip,
  resolveBackendRequest,
} from '../src/index.ts';
import { runScenario, withEvidence } from './scenario.ts';
import { echoRoundTrip, startEcho } from './servers.ts';
import { type RunningServer, startToxiproxyProcess, stopToxiproxyProcess } from './toxiproxy-process.ts';

const _ROOT = join(import.meta.dirname, '..', '..', '..');
const CHILD = join(import.meta.dirname, 'fixtures', 'external-child.ts');

async function proxyNames(url: string): Promise<string[]> {
  const res = await fetch(`${url}/proxies`);
  return Object.keys((await res.json()) as Record<string, unknown>).sort();
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  await res.body?.cancel();
  return res.status;
}

const saved = { ...process.env };
let runDir: string;
let server: RunningServer | undefined;

function capabilities(): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  let text = '';
  try {
    text = readFileSync(join(runDir, 'capabilities.ndjson'), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').filter(Boolean)) {
    const { key, value } = JSON.parse(line) as { key: string; value: string | boolean };
    out[key] = value;
  }
  return out;
}

beforeAll(async () => {
  server = await startToxiproxyProcess();
});
afterAll(async () => {
  await stopToxiproxyProcess(server);
});
beforeEach(() => {
  runDir = mkdtempSync(join(tmpdir(), 'netfaults-ext-'));
  process.env.FAULTLINE_RUN_DIR = runDir;
  delete process.env.FAULTLINE_L3_BACKEND;
  delete process.env.FAULTLINE_TOXIPROXY_URL;
  delete process.env.FAULTLINE_TOXIPROXY_PORTS;
  delete process.env.FAULTLINE_TOXIPROXY_UPSTREAM_HOST;
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(runDir, { recursive: true, force: true });
});

describe('external backend on a faultline-toxiproxy process', () => {
  test('the layer-3 scenario, with the server reported and its proxies prefixed', async () => {
    const url = server!.url;
    await using env = await createNetworkEnvironment({ backend: 'external', toxiproxyUrl: url });
    expect(env.backend).toBe('external');
    expect(env.apiUrl).toBe(url);
    expect(env.proxyPrefix).toMatch(/^faultline-[0-9a-f]{8}-$/);
    expect(env.toxiproxyServer).toBe(`Toxiproxy 2.12.0 at ${url}`);
    expect(capabilities()).toEqual({ backend: 'external', toxiproxyServer: `Toxiproxy 2.12.0 at ${url}` });
    await runScenario(env);
    expect(await proxyNames(url)).toEqual([`${env.proxyPrefix}echo`, `${env.proxyPrefix}http`]);
    expect(env.proxies.get('echo')?.serverName).toBe(`${env.proxyPrefix}echo`);
    await env.close();
    expect(await proxyNames(url)).toEqual([]);
  });

  test('auto picks external when FAULTLINE_TOXIPROXY_URL is set', async () => {
    process.env.FAULTLINE_TOXIPROXY_URL = `${server!.url}/`;
    expect(resolveBackendRequest('external')).toBe('external');
    await using env = await createNetworkEnvironment();
    expect(env.backend).toBe('external');
    expect(env.apiUrl).toBe(server!.url);
  });

  test("two environments on one server never touch each other's proxies, nor anyone else's", async () => {
    const url = server!.url;
    const echo = await startEcho();
    try {
      // Someone else's proxy with a toxic: a /reset or a broad delete would remove them.
      expect(
        await api(url, 'POST', '/proxies', { name: 'team', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }),
      ).toBe(201);
      expect(await api(url, 'POST', '/proxies/team/toxics', { type: 'latency', attributes: { latency: 1 } })).toBe(200);
      await using a = await createNetworkEnvironment({ backend: 'external', toxiproxyUrl: url });
      await using b = await createNetworkEnvironment({ backend: 'external', toxiproxyUrl: url });
      expect(a.proxyPrefix).not.toBe(b.proxyPrefix);
      const pa = await a.proxy('echo', echo.port);
      const pb = await b.proxy('echo', echo.port); // the same name in both
      expect(pa.port).not.toBe(pb.port);
      await withEvidence(async (log) => {
        await using _slow = await a.toxic(pa, { type: 'latency', attributes: { latency: 300 } });
        expect(await echoRoundTrip(pb.host, pb.port)).toBeLessThan(250);
        expect(await echoRoundTrip(pa.host, pa.port)).toBeGreaterThanOrEqual(290);
        await a.resetToxics();
        expect(log.entries.map((e) => [e.name, e.acted !== false, e.attributes?.counter])).toEqual([
          ['echo/latency_downstream', true, 'toxic'],
        ]);
      });
      await a.close();
      expect(await proxyNames(url)).toEqual([`${b.proxyPrefix}echo`, 'team']);
      expect(await echoRoundTrip(pb.host, pb.port)).toBeLessThan(250);
      await b.close();
      expect(await proxyNames(url)).toEqual(['team']);
      const toxics = await (await fetch(`${url}/proxies/team/toxics`)).json();
      expect(toxics).toHaveLength(1);
    } finally {
      await api(url, 'DELETE', '/proxies/team');
      await echo.close();
    }
  });

  test('a test that throws still deletes its proxies (await using)', async () => {
    const url = server!.url;
    let prefix = '';
    await expect(
      (async () => {
        await using env = await createNetworkEnvironment({ backend: 'external', toxiproxyUrl: url });
        prefix = env.proxyPrefix;
        await env.proxy('a', 1);
        expect(await proxyNames(url)).toEqual([`${prefix}a`]);
        throw new Error('the test failed');
      })(),
    ).rejects.toThrow('the test failed');
    expect(await proxyNames(url)).toEqual([]);
  });

  test.each([
    ['SIGINT', 'wait'],
    ['SIGTERM', 'wait'],
    ['an uncaught error', 'throw'],
  ])('a process stopped by %s deletes its proxies on the way out', async (how, mode) => {
    const url = server!.url;
    const child = spawn(process.execPath, ['--conditions=@faultline/source', CHILD, url, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FAULTLINE_RUN_DIR: runDir },
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      let out = '';
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child said nothing in 15 s: ${out}`)), 15_000);
        child.stdout?.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(out.split('\n')[0]!);
          }
        });
      });
      const { prefix } = JSON.parse(line) as { prefix: string };
      expect(await proxyNames(url)).toEqual([`${prefix}a`, `${prefix}b`]);
      if (mode === 'wait') child.kill(how as NodeJS.Signals);
      const [code, signal] = await exited;
      if (mode === 'wait') expect(signal).toBe(how);
      else expect(code).toBe(1);
      expect(await proxyNames(url)).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });

  test('published proxy ports and an upstream host for a server in a container', async () => {
    const url = server!.url;
    const echo = await startEcho();
    try {
      process.env.FAULTLINE_TOXIPROXY_PORTS = '0-1';
      await expect(createNetworkEnvironment({ backend: 'external', toxiproxyUrl: url })).rejects.toThrow(
        'FAULTLINE_TOXIPROXY_PORTS: expected a port range such as 8666-8697, got "0-1"',
      );
      const first = 20_000 + Math.floor(Math.random() * 12_000); // below the ephemeral range
      process.env.FAULTLINE_TOXIPROXY_PORTS = `${first}-${first + 2}`;
      process.env.FAULTLINE_TOXIPROXY_UPSTREAM_HOST = 'localhost';
      await using env = await createNetworkEnvironment({ backend: 'external', toxiproxyUrl: url });
      const a = await env.proxy('a', echo.port);
      const b = await env.proxy('b', echo.port);
      expect(a.serverUpstream).toBe(`localhost:${echo.port}`);
      for (const p of [a, b]) {
        expect(p.host).toBe('127.0.0.1');
        expect(p.port).toBeGreaterThanOrEqual(first);
        expect(p.port).toBeLessThanOrEqual(first + 2);
        expect(p.listen).toMatch(/^(0\.0\.0\.0|\[::\]):\d+$/);
      }
      expect(a.port).not.toBe(b.port);
      expect(await echoRoundTrip(b.host, b.port)).toBeLessThan(1000);
    } finally {
      await echo.close();
    }
  });
});

describe('external backend: a server that is not there or not Toxiproxy is not-run', () => {
  let other: Server;
  let otherUrl = '';
  beforeAll(async () => {
    other = createServer((req, res) => {
      res.writeHead(req.url === '/version' ? 200 : 404, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    }).listen(0, '127.0.0.1');
    await once(other, 'listening');
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())));

  async function deadUrl(): Promise<string> {
    const s = createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
  }

  test.each([
    [
      'a dead URL',
      deadUrl,
      /^no Toxiproxy server answers at http:\/\/127\.0\.0\.1:\d+ \(GET \/version: ECONNREFUSED\)$/,
    ],
    [
      'an HTTP server that is not Toxiproxy',
      async () => otherUrl,
      /^the server at http:\/\/127\.0\.0\.1:\d+ is not Toxiproxy: GET \/version answered "<html>hello<\/html>"$/,
    ],
  ])('%s', async (_what, urlOf, reason) => {
    const url = await urlOf();
    const error = await createNetworkEnvironment({ backend: 'external', toxiproxyUrl: url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).backend).toBe('external');
    expect((error as BackendUnavailableError).reason).toMatch(reason);
    expect((error as Error).message).toMatch(/^layer-3 backend "external" is not available: /);
    const caps = capabilities();
    expect(caps.backend).toBe('external');
    expect(caps.notRun).toMatch(reason);
    const notes: string[] = [];
    const ctx = {
      skip(note: string): never {
        notes.push(note);
        throw new Error('skipped');
      },
    };
    process.env.FAULTLINE_TOXIPROXY_URL = url;
    await expect(networkEnvironmentOrSkip(ctx)).rejects.toThrow('skipped'); // auto with the URL set
    expect(notes).toEqual([`layer-3 backend "external" is not available: ${String(caps.notRun)}`]);
  });

  test('detectBackends probes the external server only when a URL is set', async () => {
    expect((await detectBackends()).external).toBeUndefined();
    expect((await detectBackends({ toxiproxyUrl: otherUrl })).external).toEqual({
      ok: false,
      detail: `the server at ${otherUrl} is not Toxiproxy: GET /version answered "<html>hello</html>"`,
    });
    process.env.FAULTLINE_TOXIPROXY_URL = server!.url;
    expect((await detectBackends()).external).toEqual({ ok: true, detail: `Toxiproxy 2.12.0 at ${server!.url}` });
  });

  test('external without a URL says how to set one', async () => {
    const error = await createNetworkEnvironment({ backend: 'external' }).catch((e: unknown) => e);
    expect((error as BackendUnavailableError).reason).toBe(
      'no Toxiproxy URL is set (toxiproxyUrl on the matrix layer, FAULTLINE_TOXIPROXY_URL or faultline run --toxiproxy-url)',
    );
  });
});
