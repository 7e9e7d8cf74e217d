// The containers backend on a real engine (Podman here via DOCKER_HOST, Docker on GitHub).
// With no engine, or no way to get an image, every test is skipped with the reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenericContainer, getContainerRuntimeClient, ImageName, Network, type StartedNetwork } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, type TestContext, test } from 'vitest';
import {
  BackendUnavailableError,
  buildEmbeddedServerImage,
  createNetworkEnvironment,
  detectBackends,
  detectContainerEngine,
} from '../src/index.ts';
import { runScenario, withEvidence } from './scenario.ts';
import { echoRoundTrip, httpGet, settle, startEcho } from './servers.ts';

const LABEL = 'dev.faultline.netfaults';
const engine = await detectContainerEngine(5000);
let image: string | undefined;
let unavailable: string | undefined = engine.ok ? undefined : engine.reason;

/** Toxiproxy containers started by process `pid` (default this one; other test runs may share the engine). */
async function ourContainers(pid = process.pid): Promise<string[]> {
  const client = await getContainerRuntimeClient();
  const list = await client.container.list();
  return list.filter((c) => c.Labels?.[`${LABEL}.pid`] === String(pid)).map((c) => c.Id);
}

function need(ctx: TestContext): string {
  if (unavailable !== undefined || image === undefined) ctx.skip(`containers backend unavailable: ${unavailable}`);
  return image!;
}

beforeAll(async () => {
  if (!engine.ok) return;
  if (process.env.FAULTLINE_TOXIPROXY_IMAGE) {
    image = process.env.FAULTLINE_TOXIPROXY_IMAGE; // e.g. the real ghcr.io/shopify/toxiproxy on GitHub
    return;
  }
  try {
    image = (await buildEmbeddedServerImage()).tag;
  } catch (error) {
    unavailable = `cannot build the embedded server image: ${(error as Error).message}`;
  }
}, 120_000);

describe(`containers backend (${engine.ok ? engine.name : 'no engine'})`, () => {
  test("the containers backend's server used as an external one", async (ctx) => {
    const img = need(ctx);
    await using server = await createNetworkEnvironment({ backend: 'containers', image: img });
    const published = server.networking === 'bridge';
    await using env = await createNetworkEnvironment({ backend: 'external', toxiproxyUrl: server.apiUrl });
    expect(env.backend).toBe('external');
    expect(env.toxiproxyServer).toMatch(new RegExp(`^Toxiproxy 2\\.12\\.\\d+ at ${server.apiUrl}$`));
    if (published) ctx.skip('bridge networking: proxy ports are mapped, not published one to one');
    await runScenario(env);
    await env.close();
    expect(Object.keys(await server.client.getAll())).toEqual([]);
  });

  test('the layer-3 scenario (shared with the embedded backend)', async (ctx) => {
    const img = need(ctx);
    const before = await ourContainers();
    {
      await using env = await createNetworkEnvironment({ backend: 'containers', image: img });
      expect(env.backend).toBe('containers');
      expect(env.containerRuntime).toBe(engine.ok ? engine.name : '');
      expect(env.image).toBe(img);
      expect((await ourContainers()).length).toBe(before.length + 1);
      await runScenario(env);
    }
    expect(await ourContainers()).toEqual(before);
  }, 60_000);

  test('bridge networking: a dependency in a container on a shared network', async (ctx) => {
    const img = need(ctx);
    const client = await getContainerRuntimeClient();
    const depImage = (await client.image.exists(ImageName.fromString('localhost/busybox:local')))
      ? 'localhost/busybox:local'
      : 'busybox:1.36';
    let network: StartedNetwork | undefined;
    const web = await (async () => {
      network = await new Network().start();
      return new GenericContainer(depImage)
        .withNetwork(network)
        .withNetworkAliases('web')
        .withCommand(['sh', '-c', 'mkdir -p /srv && echo ok > /srv/index.html && exec httpd -f -p 8080 -h /srv'])
        .start();
    })();
    try {
      await using env = await createNetworkEnvironment({ backend: 'containers', image: img, network });
      expect(env.networking).toBe('bridge');
      const p = await env.proxy('web', 'web:8080');
      expect(p.networkAddress).toBe('toxiproxy:8666');
      expect(p.serverUpstream).toBe('web:8080');
      expect(await httpGet(p.url('/index.html'))).toMatchObject({ status: 200, body: 'ok\n' });
      await withEvidence(async (log) => {
        {
          await using _ = await env.toxic(p, { type: 'latency', attributes: { latency: 200 } });
          expect((await httpGet(p.url('/index.html'))).ms).toBeGreaterThanOrEqual(190);
          await settle();
        }
        expect(log.entries[0]?.name).toBe('web/latency_downstream');
        expect(log.entries[0]?.acted).toBeUndefined(); // it acted
        expect(log.entries[0]?.attributes?.bytes).toBeGreaterThan(0);
      });
    } finally {
      await web.stop();
      await network?.stop();
    }
  }, 60_000);

  test('the container is removed when the test body throws, and by the exit hook', async (ctx) => {
    const img = need(ctx);
    const before = await ourContainers();
    const echo = await startEcho();
    const failing = async () => {
      await using env = await createNetworkEnvironment({ backend: 'containers', image: img });
      const p = await env.proxy('echo', echo.port);
      await echoRoundTrip(p.host, p.port);
      throw new Error('boom');
    };
    await expect(failing()).rejects.toThrow('boom');
    expect(await ourContainers()).toEqual(before);
    await echo.close();

    // A process that never calls close(): the exit hook removes its container.
    const script = `import { createNetworkEnvironment } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const env = await createNetworkEnvironment({ backend: 'containers', image: ${JSON.stringify(img)} });
      console.log(process.pid, env.apiUrl);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const [pid, apiUrl] = child.stdout.trim().split(' ');
    expect(apiUrl).toMatch(/^http:\/\//);
    expect(await ourContainers(Number(pid))).toEqual([]);
  }, 60_000);

  test('an image that cannot be obtained is not-run, with the reason', async (ctx) => {
    need(ctx);
    const runDir = mkdtempSync(join(tmpdir(), 'netfaults-run-'));
    const saved = process.env.FAULTLINE_RUN_DIR;
    process.env.FAULTLINE_RUN_DIR = runDir;
    try {
      const error = await createNetworkEnvironment({
        backend: 'containers',
        image: 'localhost/faultline-no-such-image:none',
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as BackendUnavailableError).reason).toMatch(
        /^image localhost\/faultline-no-such-image:none is not available locally and could not be pulled/,
      );
      const caps = readFileSync(join(runDir, 'capabilities.ndjson'), 'utf8');
      expect(caps).toContain('"key":"notRun"');
      // auto falls back to embedded, saying why.
      await using env = await createNetworkEnvironment({
        backend: 'auto',
        image: 'localhost/faultline-no-such-image:none',
      });
      expect(env.backend).toBe('embedded');
    } finally {
      if (saved === undefined) delete process.env.FAULTLINE_RUN_DIR;
      else process.env.FAULTLINE_RUN_DIR = saved;
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  test('detectBackends reports the engine and the image', async (ctx) => {
    const img = need(ctx);
    const backends = await detectBackends({ image: img });
    expect(backends.containers.ok).toBe(true);
    expect(backends.containers.detail).toContain(`image ${img} present`);
  });
});

afterAll(async () => {
  if (engine.ok) expect(await ourContainers()).toEqual([]);
});
