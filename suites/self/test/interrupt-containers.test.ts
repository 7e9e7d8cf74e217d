// interrupt (containers): SIGINT to `faultline run` while a test holds a Toxiproxy container started
// through @faultline/netfaults' containers backend: the worker is SIGKILLed (its exit hook never runs),
// and the runner removes the container through the engine's API, found by the attempt's label
// (dev.faultline.attempt=<FAULTLINE_ATTEMPT_ID>), within 2 s of the signal; the CLI's line counts it.
// Fault: the signal, sent to the real CLI once the container answers; the container is real (Podman or
// Docker). Where no engine answers (plain `npm test`) that test skips saying why; scripts/l3-containers.sh
// runs it with the engine up and SELF_REQUIRE_ENGINE=1, which turns a missing engine into a failure. A
// second test runs everywhere: the fixture's test creates a labelled "container" on a fake engine (this
// process, on a unix socket, DOCKER_HOST) and the runner must delete it the same way; so must it after two
// SIGTERMs (the CLI exits at once and hands the removal to a detached child) and after a layer timeout.
// Break: FAULTLINE_BREAK=noContainerReap (the runner leaves the container running).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askEngine, type EngineEndpoint, engineEndpoint } from '@faultline/evidence';
import type { LayerResults } from '@faultline/matrix';
import { reapAttemptContainers } from '@faultline/runner';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup,
  type Fixture,
  fixture,
  fixtureMatrix,
  layerConfig,
  onCleanup,
  readJson,
  startCli,
  waitFor,
} from './helpers.ts';

const LOCAL_IMAGE = 'localhost/faultline-toxiproxy:local';
const DEFAULT_IMAGE = 'ghcr.io/shopify/toxiproxy:2.12.0';
const ATTEMPT_LABEL = 'dev.faultline.attempt';
const STOP_BUDGET_MS = 2000;
/** What a loaded 2-core machine adds to the 2 s the guarantee allows. */
const MARGIN_MS = 1500;

const attempts: string[] = [];
afterEach(async () => {
  // Whatever the test found, nothing it started outlives it (the break leaves the container running).
  for (const id of attempts.splice(0)) await reapAttemptContainers(id, 10_000);
  cleanup();
});

/** A test that starts a containers-backend environment, says which attempt it belongs to, then works for 100 s. */
const containerTest = [
  "import { writeFileSync } from 'node:fs';",
  "import { join } from 'node:path';",
  "import { createNetworkEnvironment } from '@faultline/netfaults';",
  "import { test } from 'vitest';",
  "test('holds a Toxiproxy container', { tags: ['work'] }, async () => {",
  "  const env = await createNetworkEnvironment({ backend: 'containers' });",
  "  writeFileSync(join(process.env.SELF_PIDS, 'started.json'), JSON.stringify({ attempt: process.env.FAULTLINE_ATTEMPT_ID, backend: env.backend, test: process.pid }));",
  '  await new Promise((r) => setTimeout(r, 100_000));',
  '});',
  '',
].join('\n');

const ask = (target: EngineEndpoint, path: string) => askEngine(target, 'GET', path, AbortSignal.timeout(2000));

/** The engine to use and the image to start, or why there is none here. */
async function engineOrReason(): Promise<{ target: EngineEndpoint; image: string } | { reason: string }> {
  const target = engineEndpoint();
  const where = process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : 'DOCKER_HOST unset';
  if (!target) return { reason: `no container engine reachable over plain HTTP (${where})` };
  if ('socketPath' in target && !existsSync(target.socketPath)) {
    return {
      reason: `no container engine: no socket at ${target.socketPath} (${where}); scripts/l3-containers.sh runs this test with Podman`,
    };
  }
  try {
    const ping = await ask(target, '/_ping');
    if (ping.status !== 200)
      return { reason: `the container engine answered /_ping with HTTP ${ping.status} (${where})` };
  } catch (error) {
    return {
      reason: `no container engine answers (${where}): ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const chosen = process.env.FAULTLINE_TOXIPROXY_IMAGE;
  if (chosen) return { target, image: chosen };
  const local = await ask(target, `/images/${encodeURIComponent(LOCAL_IMAGE)}/json`);
  if (local.status === 200) return { target, image: LOCAL_IMAGE };
  const podman = /podman/i.test(process.env.DOCKER_HOST ?? '');
  return podman
    ? {
        reason: `no ${LOCAL_IMAGE} on this Podman (no registry): build it with node packages/netfaults/scripts/build-image.ts`,
      }
    : { target, image: DEFAULT_IMAGE };
}

async function labelled(target: EngineEndpoint, attempt: string): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${ATTEMPT_LABEL}=${attempt}`] }));
  const list = await ask(target, `/containers/json?all=1&filters=${filters}`);
  if (list.status !== 200) throw new Error(`listing containers answered HTTP ${list.status}: ${list.body}`);
  return (JSON.parse(list.body) as Array<{ Id: string }>).map((c) => c.Id);
}

/** A test that creates a labelled container on the (fake) engine at DOCKER_HOST, says so, then works for 100 s. */
const fakeContainerTest = [
  "import { writeFileSync } from 'node:fs';",
  "import { request } from 'node:http';",
  "import { join } from 'node:path';",
  "import { attemptLabels, engineEndpoint } from '@faultline/evidence';",
  "import { test } from 'vitest';",
  "test('holds a container', { tags: ['work'] }, async () => {",
  '  await new Promise((resolve, reject) => {',
  "    const req = request({ ...engineEndpoint(), method: 'POST', path: '/containers/create' }, (res) => { res.resume(); res.on('end', resolve); });",
  "    req.on('error', reject);",
  "    req.end(JSON.stringify({ Image: 'fake', Labels: attemptLabels() }));",
  '  });',
  "  writeFileSync(join(process.env.SELF_PIDS, 'started.json'), JSON.stringify({ attempt: process.env.FAULTLINE_ATTEMPT_ID, test: process.pid }));",
  '  await new Promise((r) => setTimeout(r, 100_000));',
  '});',
  '',
].join('\n');

/**
 * Just the engine calls the fixture and the runner make: create, list by label, force-delete. Listing
 * takes `listMs` (a loaded engine), so that an exit that does not wait for the removal shows.
 */
async function fakeEngine(listMs = 0): Promise<EngineEndpoint & { socketPath: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-fake-engine-'));
  const containers = new Map<string, Record<string, string>>();
  let next = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      if (req.method === 'GET' && url.pathname === '/_ping') return void res.end('OK');
      if (req.method === 'POST' && url.pathname === '/containers/create') {
        const id = `fake${String(++next).padStart(60, '0')}`;
        containers.set(id, (JSON.parse(body) as { Labels?: Record<string, string> }).Labels ?? {});
        return void res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ Id: id }));
      }
      if (req.method === 'GET' && url.pathname === '/containers/json') {
        const wanted = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { label?: string[] }).label ?? [];
        const list = [...containers].filter(([, labels]) =>
          wanted.every((l) => labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1)),
        );
        const answer = () => res.end(JSON.stringify(list.map(([Id, Labels]) => ({ Id, Labels }))));
        return void setTimeout(answer, listMs);
      }
      const id = /^\/containers\/([^/]+)$/.exec(url.pathname)?.[1];
      if (req.method === 'DELETE' && id && url.searchParams.get('force') === 'true') {
        return void res.writeHead(containers.delete(id) ? 204 : 404).end();
      }
      res.writeHead(404).end();
    });
  });
  const socketPath = join(dir, 'engine.sock');
  await new Promise<void>((r) => server.listen(socketPath, r));
  onCleanup(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { socketPath };
}

/**
 * Starts `faultline run` on the fixture, waits for its l3 test to hold a container of its attempt, sends
 * `signals` (150 ms apart), looks at the engine as soon as the CLI has exited, then until the container
 * is gone (a second signal leaves its removal to a detached child) or the budget is spent.
 */
async function interruptHoldingContainer(
  fx: Fixture,
  target: EngineEndpoint,
  env: Record<string, string>,
  signals: NodeJS.Signals[] = ['SIGINT'],
) {
  const run = startCli(fx, ['run', '--seed', '7'], env);
  const started = await waitFor('the l3 test to start its container', () => {
    const file = join(fx.pids, 'started.json');
    return existsSync(file) ? readJson<{ attempt: string; test: number }>(file) : undefined;
  });
  attempts.push(started.attempt);
  const before = await labelled(target, started.attempt);
  expect(before.length, `no container labelled ${ATTEMPT_LABEL}=${started.attempt} before the signal`).toBe(1);
  const sentAt = Date.now();
  for (const [i, signal] of signals.entries()) {
    // A signal sent while the same one is still pending is merged into it: let the first land.
    if (i > 0) await new Promise((r) => setTimeout(r, 150));
    try {
      process.kill(run.child.pid ?? 0, signal);
    } catch {
      // Gone after the first already.
    }
  }
  const exited = await Promise.race([
    run.exited,
    new Promise<never>((_, fail) => setTimeout(() => fail(new Error('faultline run did not exit in 10 s')), 10_000)),
  ]);
  const atExit = await labelled(target, started.attempt);
  let left = atExit;
  while (left.length && Date.now() - sentAt < STOP_BUDGET_MS + MARGIN_MS) {
    await new Promise((r) => setTimeout(r, 50));
    left = await labelled(target, started.attempt);
  }
  return { started, before, atExit, left, exited, exitMs: exited.at - sentAt, goneMs: Date.now() - sentAt };
}

function expectRemoved(fx: Fixture, r: Awaited<ReturnType<typeof interruptHoldingContainer>>): void {
  expect(
    r.atExit,
    `containers labelled ${ATTEMPT_LABEL}=${r.started.attempt} still there after the run exited`,
  ).toEqual([]);
  expect(r.goneMs).toBeLessThanOrEqual(STOP_BUDGET_MS + MARGIN_MS);
  expect(r.exited.code).toBe(130);
  expect(r.exited.stderr).toMatch(
    /faultline: interrupted \(SIGINT\): stopped l3 worker and \d+ process(es)?, removed 1 container; no layer had finished; l3 results marked interrupted/,
  );
  const l3 = readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l3.json'));
  expect(l3.run.interrupted).toMatchObject({ signal: 'SIGINT', containers: 1 });
}

const l3Fixture = (test: string) =>
  fixture({
    'matrix.yaml': fixtureMatrix(['l3']),
    'l3/vitest.config.ts': layerConfig('l3'),
    'l3/container.test.ts': test,
  });

describe('interrupt: containers', () => {
  test('SIGINT removes the Toxiproxy container a test started within 2 s, and the CLI counts it; exit 130', {
    tags: ['interrupt'],
  }, async (ctx) => {
    const engine = await engineOrReason();
    if ('reason' in engine) {
      if (process.env.SELF_REQUIRE_ENGINE === '1') throw new Error(`SELF_REQUIRE_ENGINE=1 but ${engine.reason}`);
      ctx.skip(engine.reason);
      return;
    }
    const fx = l3Fixture(containerTest);
    // Ryuk would remove the container too (some seconds after the worker died): it must not be what passes.
    const r = await interruptHoldingContainer(fx, engine.target, {
      FAULTLINE_TOXIPROXY_IMAGE: engine.image,
      TESTCONTAINERS_RYUK_DISABLED: 'true',
    });
    recordFault({
      kind: 'signal',
      name: 'SIGINT',
      detail: `SIGINT to faultline run while l3's test (pid ${r.started.test}) held Toxiproxy container ${r.before[0]?.slice(0, 12)} (${engine.image}); exited ${r.exited.code} after ${r.exitMs} ms; ${r.atExit.length} container(s) of the attempt left at exit, ${r.left.length} ${r.goneMs} ms after the signal`,
      attributes: { elapsedMs: r.exitMs, goneMs: r.goneMs, before: r.before.length, left: r.atExit.length },
    });
    expectRemoved(fx, r);
  });

  test('SIGINT deletes the labelled container a test created on a fake engine (DOCKER_HOST): runs on every machine', {
    tags: ['interrupt'],
  }, async () => {
    const target = await fakeEngine();
    const fx = l3Fixture(fakeContainerTest);
    const r = await interruptHoldingContainer(fx, target, { DOCKER_HOST: `unix://${target.socketPath}` });
    recordFault({
      kind: 'signal',
      name: 'SIGINT',
      detail: `SIGINT to faultline run while l3's test (pid ${r.started.test}) held container ${r.before[0]?.slice(0, 12)} on a fake engine; exited ${r.exited.code} after ${r.exitMs} ms; ${r.atExit.length} container(s) of the attempt left`,
      attributes: { elapsedMs: r.exitMs, before: r.before.length, left: r.atExit.length },
    });
    expectRemoved(fx, r);
  });

  test('SIGTERM twice (CI escalating): exits 143 at once, and the container is still gone within 2 s', {
    tags: ['interrupt'],
  }, async () => {
    // The engine takes 400 ms to list: the second signal (150 ms after the first) ends the CLI before its
    // own removal can finish, so what removes the container is the child it hands the removal to.
    const target = await fakeEngine(400);
    const fx = l3Fixture(fakeContainerTest);
    const r = await interruptHoldingContainer(fx, target, { DOCKER_HOST: `unix://${target.socketPath}` }, [
      'SIGTERM',
      'SIGTERM',
    ]);
    recordFault({
      kind: 'signal',
      name: 'SIGTERM',
      detail: `two SIGTERMs to faultline run while l3's test (pid ${r.started.test}) held container ${r.before[0]?.slice(0, 12)} on a fake engine; exited ${r.exited.code} after ${r.exitMs} ms; ${r.atExit.length} container(s) left at exit, ${r.left.length} after ${r.goneMs} ms`,
      attributes: { elapsedMs: r.exitMs, goneMs: r.goneMs, atExit: r.atExit.length, left: r.left.length },
    });
    expect(r.exited.code).toBe(143);
    expect(
      r.left,
      `containers labelled ${ATTEMPT_LABEL}=${r.started.attempt} still there ${r.goneMs} ms after the first signal`,
    ).toEqual([]);
    expect(r.goneMs).toBeLessThanOrEqual(STOP_BUDGET_MS + MARGIN_MS);
  });

  test('a layer killed at its timeout: the container its hung test left is removed when the attempt ends', {
    tags: ['interrupt'],
  }, async () => {
    const target = await fakeEngine();
    const fx = fixture({
      'matrix.yaml': fixtureMatrix(['l3'], '15s'),
      'l3/vitest.config.ts': layerConfig('l3'),
      'l3/container.test.ts': fakeContainerTest,
    });
    const run = startCli(fx, ['run', '--seed', '7'], { DOCKER_HOST: `unix://${target.socketPath}` });
    const started = await waitFor('the l3 test to start its container', () => {
      const file = join(fx.pids, 'started.json');
      return existsSync(file) ? readJson<{ attempt: string; test: number }>(file) : undefined;
    });
    attempts.push(started.attempt);
    const before = await labelled(target, started.attempt);
    const exited = await Promise.race([
      run.exited,
      new Promise<never>((_, fail) => setTimeout(() => fail(new Error('faultline run did not end in 60 s')), 60_000)),
    ]);
    const left = await labelled(target, started.attempt);
    recordFault({
      kind: 'timeout',
      name: 'layer timeout',
      detail: `layer l3 (timeout 15 s) killed while its test (pid ${started.test}) held ${before.length} container(s) on a fake engine; ${left.length} left when faultline run ended (exit ${exited.code})`,
      attributes: { before: before.length, left: left.length },
    });
    expect(before.length).toBe(1);
    expect(left, 'containers of the attempt still there after the run ended').toEqual([]);
    expect(exited.stderr).toContain('faultline: removed 1 container(s) the l3 tests left running');
  });
});
