// The reference system's l3 suite through the real CLI (packages/*/dist: `npm run build` first) on
// backend external: against a `faultline-toxiproxy` process started here (`--toxiproxy-url`), every
// cell covered, the server in the results and reports, nothing left on the server; and through the
// matrix layer's `toxiproxyUrl` pointing at a dead server, every cell not-run with the reason.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildEmbeddedServerImage, createNetworkEnvironment, detectContainerEngine } from '../src/index.ts';
import { type RunningServer, startToxiproxyProcess, stopToxiproxyProcess } from './toxiproxy-process.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'faultline.js');

let server: RunningServer | undefined;
let url = '';
let out = '';

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'netfaults-l3-'));
  server = await startToxiproxyProcess();
  url = server.url;
});

afterAll(async () => {
  await stopToxiproxyProcess(server);
  rmSync(out, { recursive: true, force: true });
});

/** This process's environment without the layer-3 choices, so only the command line and the matrix decide. */
function inherited(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^FAULTLINE_(L3_BACKEND|TOXIPROXY_)/.test(key)) delete env[key];
  return env;
}

function faultline(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...inherited(), CI: '1', ...env },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface Results {
  run: { backend?: string; notRun?: string; capabilities: Record<string, string | boolean> };
  tests: Array<{ state: string }>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

test('faultline run --layer l3 --backend external --toxiproxy-url: every cell covered', {
  timeout: 300_000,
}, async () => {
  const results = join(out, 'results');
  const reports = join(out, 'reports');
  const r = faultline([
    'run',
    '--layer',
    'l3',
    '--backend',
    'external',
    '--toxiproxy-url',
    url,
    '--results',
    results,
    '--gate',
    '--out',
    reports,
  ]);
  expect(r.output).toMatch(/gate: passed/);
  expect(r.status).toBe(0);
  const l3 = readJson<Results>(join(results, 'l3.json'));
  const server = `Toxiproxy 2.12.0 at ${url}`;
  expect(l3.run.capabilities).toMatchObject({ backend: 'external', toxiproxyServer: server });
  expect(l3.run.backend).toBe(`external: ${server}`);
  expect(l3.tests.length).toBeGreaterThanOrEqual(11);
  expect(l3.tests.every((t) => t.state === 'passed')).toBe(true);
  expect(readFileSync(join(reports, 'matrix.md'), 'utf8')).toContain(`| external: ${server} |`);
  const proxies = await (await fetch(`${url}/proxies`)).json();
  expect(proxies).toEqual({}); // every environment deleted its own proxies
});

test("the l3 suite on the containers backend's server used as an external one", { timeout: 300_000 }, async (ctx) => {
  const engine = await detectContainerEngine(5000);
  if (!engine.ok) ctx.skip(`no container engine: ${engine.reason}`);
  const image = process.env.FAULTLINE_TOXIPROXY_IMAGE || (await buildEmbeddedServerImage()).tag;
  await using container = await createNetworkEnvironment({ backend: 'containers', image });
  if (container.networking !== 'host') ctx.skip('bridge networking: the proxies would need a published port range');
  const results = join(out, 'container');
  const r = faultline(['run', '--layer', 'l3', '--toxiproxy-url', container.apiUrl, '--results', results]);
  expect(r.output).toMatch(/l3: \d+ passed, 0 failed/);
  expect(r.status).toBe(0);
  const l3 = readJson<Results>(join(results, 'l3.json'));
  expect(l3.run.backend).toBe(`external: Toxiproxy 2.12.0 at ${container.apiUrl}`);
  expect(Object.keys(await container.client.getAll())).toEqual([]);
});

test("a matrix layer's toxiproxyUrl naming a dead server: every l3 cell not-run with the reason", {
  timeout: 180_000,
}, async () => {
  const dead = createServer().listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const port = (dead.address() as { port: number }).port;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  const matrix = join(ROOT, `.matrix-external-${process.pid}.yaml`);
  const text = readFileSync(join(ROOT, 'matrix.yaml'), 'utf8').replace(
    /(\n {2}l3: \{[^}\n]*?)backend: auto/,
    `$1backend: external, toxiproxyUrl: "http://127.0.0.1:${port}"`,
  );
  expect(text).toContain(`toxiproxyUrl: "http://127.0.0.1:${port}"`);
  writeFileSync(matrix, text);
  try {
    const results = join(out, 'dead');
    const r = faultline([
      'run',
      '--matrix',
      matrix,
      '--layer',
      'l3',
      '--results',
      results,
      '--gate',
      '--out',
      join(out, 'dead-reports'),
    ]);
    expect(r.status).toBe(1);
    const l3 = readJson<Results>(join(results, 'l3.json'));
    expect(l3.run.notRun).toBe(`no Toxiproxy server answers at http://127.0.0.1:${port} (GET /version: ECONNREFUSED)`);
    expect(l3.run.backend).toBe('external');
    const report = readJson<{ cells: Array<{ layer: string; required: boolean; state: string }> }>(
      join(out, 'dead-reports', 'matrix.json'),
    );
    const cells = report.cells.filter((c) => c.layer === 'l3' && c.required);
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.every((c) => c.state === 'not-run')).toBe(true);
  } finally {
    rmSync(matrix, { force: true });
  }
});

test('faultline run rejects a --toxiproxy-url that is not a URL, and an unknown backend (exit 2)', () => {
  const bad = faultline(['run', '--layer', 'l3', '--toxiproxy-url', 'localhost:8474']);
  expect(bad.status).toBe(2);
  expect(bad.output).toContain(
    '--toxiproxy-url takes a Toxiproxy API URL such as http://127.0.0.1:8474; got "localhost:8474"',
  );
  const backend = faultline(['run', '--layer', 'l3', '--backend', 'docker']);
  expect(backend.status).toBe(2);
  expect(backend.output).toContain('--backend takes auto, embedded, containers or external; got "docker"');
});
