// Runs the real Nx (the workspace's node_modules/nx) with the plugin as nx.json configures it: in this
// workspace (the targets it infers for the real matrix.yaml), and in throwaway workspaces (how Nx shows a
// bad matrix; that the l1 target caches and restores its results). The real resilience targets are never
// run: the throwaway workspaces use a stand-in CLI through the plugin's `command` option.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadMatrix } from '@faultline/matrix';
import { afterAll, describe, expect, test } from 'vitest';
import { matrixYaml, tempWorkspace, writeFiles } from './helpers.ts';

const exec = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..', '..');
const nxBin = createRequire(import.meta.url).resolve('nx/bin/nx.js');

interface NxOutput {
  code: number;
  stdout: string;
  stderr: string;
}

async function nx(cwd: string, ...args: string[]): Promise<NxOutput> {
  return nxWith({}, cwd, ...args);
}

async function nxWith(extra: Record<string, string>, cwd: string, ...args: string[]): Promise<NxOutput> {
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0', ...extra };
  try {
    const { stdout, stderr } = await exec(process.execPath, [nxBin, ...args], { cwd, env, timeout: 40_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function nxJson<T>(cwd: string, ...args: string[]): Promise<T> {
  const out = await nx(cwd, ...args);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as T;
}

interface ShownProject {
  name: string;
  root: string;
  targets: Record<
    string,
    { executor: string; cache?: boolean; parallelism?: boolean; options: { command: string; cwd: string } }
  >;
}

describe('nx in this workspace', () => {
  const { matrix } = loadMatrix(join(repoRoot, 'matrix.yaml'));

  test('`nx show projects --with-target resilience-<layer>` lists the projects of each layer', async () => {
    const layers = Object.entries(matrix.layers);
    const shown = await Promise.all(
      layers.map(([id]) =>
        nxJson<string[]>(repoRoot, 'show', 'projects', '--with-target', `resilience-${id}`, '--json'),
      ),
    );
    layers.forEach(([, layer], i) => {
      expect(shown[i]!.sort()).toEqual([...layer.projects].sort());
    });
    expect(shown[0]).toContain('suite-l1');
  });

  test('`nx show project suite-l2` has the uncached, exclusive l2 target', async () => {
    const project = await nxJson<ShownProject>(repoRoot, 'show', 'project', 'suite-l2', '--json');
    expect(project.root).toBe('suites/l2');
    expect(project.targets['resilience-l2']).toMatchObject({
      executor: 'nx:run-commands',
      cache: false,
      parallelism: false,
      // Nx resolves the plugin's cwd `{workspaceRoot}` to '' (the workspace root) when it normalizes options.
      options: { command: 'faultline run --layer l2', cwd: '' },
    });
  });

  test('the root project `faultline` has the gate, and suite-l1 the cached l1 target', async () => {
    const [gateProjects, root, l1] = await Promise.all([
      nxJson<string[]>(repoRoot, 'show', 'projects', '--with-target', 'resilience-gate', '--json'),
      nxJson<ShownProject>(repoRoot, 'show', 'project', 'faultline', '--json'),
      nxJson<ShownProject>(repoRoot, 'show', 'project', 'suite-l1', '--json'),
    ]);
    expect(gateProjects).toEqual(['faultline']);
    expect(root.root).toBe('.');
    expect(root.targets['resilience-gate']).toMatchObject({ cache: false, options: { command: 'faultline gate' } });
    expect(l1.targets['resilience-l1']).toMatchObject({
      cache: true,
      options: { command: 'faultline run --layer l1' },
    });
  });
});

/** Stands in for the CLI: records its arguments and writes the layer's results file. */
const FAKE_CLI = [
  "import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';",
  'const args = process.argv.slice(2);',
  "appendFileSync('calls.log', `${args.join(' ')}\\n`);",
  "mkdirSync('.faultline/results', { recursive: true });",
  "const layer = args[args.indexOf('--layer') + 1];",
  "if (args[0] === 'run') writeFileSync(`.faultline/results/${layer}.json`, JSON.stringify({ layer }));",
  '',
].join('\n');

/** How the throwaway workspaces' nx.json names the plugin: the installed package, as a user's would. */
const PLUGIN = '@faultline/nx';

describe('nx in a throwaway workspace', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  /** A workspace that loads @faultline/nx (and nx) through a link to this repository's node_modules. */
  function workspace(matrix: string, options: Record<string, unknown> = {}) {
    const ws = tempWorkspace({
      'package.json': { name: 'demo', private: true, workspaces: ['suites/*'] },
      'nx.json': { neverConnectToCloud: true, plugins: [{ plugin: PLUGIN, options }] },
      'matrix.yaml': matrix,
      'suites/a/package.json': { name: 'suite-a' },
      'suites/b/package.json': { name: 'suite-b' },
      'fake-faultline.mjs': FAKE_CLI,
    });
    symlinkSync(join(repoRoot, 'node_modules'), join(ws.root, 'node_modules'), 'dir');
    cleanups.push(ws.cleanup);
    return ws.root;
  }

  test('a single-package project: a path layer runs on the root project, cached once results are ignored', async () => {
    const ws = tempWorkspace({
      'package.json': { name: 'app', private: true },
      '.gitignore': 'node_modules\n.nx/\n.faultline/\nreports/\ncalls.log\n',
      'nx.json': {
        neverConnectToCloud: true,
        plugins: [{ plugin: PLUGIN, options: { command: 'node fake-faultline.mjs' } }],
      },
      'matrix.yaml': matrixYaml({ l1: ['./test/l1'] }),
      'test/l1/vitest.config.mts': 'export default {};\n',
      'fake-faultline.mjs': FAKE_CLI,
    });
    symlinkSync(join(repoRoot, 'node_modules'), join(ws.root, 'node_modules'), 'dir');
    cleanups.push(ws.cleanup);
    expect(await nxJson<string[]>(ws.root, 'show', 'projects', '--with-target', 'resilience-l1', '--json')).toEqual([
      'app',
    ]);
    const first = await nx(ws.root, 'run', 'app:resilience-l1');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const second = await nx(ws.root, 'run', 'app:resilience-l1');
    expect(second.stdout).toContain('[local cache]');
    expect(readFileSync(join(ws.root, 'calls.log'), 'utf8')).toBe('run --layer l1\n');
  });

  test('a bad matrix fails the project graph with matrix.yaml:line:col', async () => {
    const text = matrixYaml({ l1: ['suite-a'], l2: ['suite-b'] }).replace('severity: critical', 'severity: severe');
    const root = workspace(text);
    const out = await nx(root, 'show', 'projects');
    expect(out.code).not.toBe(0);
    const before = text.slice(0, text.indexOf('severe')).split('\n');
    const at = `${before.length}:${before.at(-1)!.length + 1}`;
    expect(out.stdout + out.stderr).toContain(
      `matrix.yaml:${at}: issues[0].severity: severity must be one of critical, high, medium, low`,
    );
  });

  test('the l1 target caches and restores its results; the matrix is an input', async () => {
    const root = workspace(matrixYaml({ l1: ['suite-a'], l2: ['suite-b'] }), { command: 'node fake-faultline.mjs' });
    const results = join(root, '.faultline', 'results', 'l1.json');
    const run = () => nx(root, 'run', 'suite-a:resilience-l1', '--seed', '7');

    const first = await run();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(readFileSync(join(root, 'calls.log'), 'utf8')).toBe('run --layer l1 --seed 7\n');

    rmSync(results);
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('[local cache]');
    expect(existsSync(results)).toBe(true); // restored from the cache
    expect(readFileSync(join(root, 'calls.log'), 'utf8')).toBe('run --layer l1 --seed 7\n');

    writeFiles(root, { 'matrix.yaml': `${matrixYaml({ l1: ['suite-a'], l2: ['suite-b'] })}# edited\n` });
    const third = await run();
    expect(third.code).toBe(0);
    expect(third.stdout).not.toContain('[local cache]');
    expect(readFileSync(join(root, 'calls.log'), 'utf8').trim().split('\n')).toHaveLength(2);

    // The gate runs in the matrix's directory, and the plugin named the root project after package.json.
    const gate = await nx(root, 'run', 'demo:resilience-gate');
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);
    expect(readFileSync(join(root, 'calls.log'), 'utf8')).toContain('gate\n');
  });

  /** A workspace with a system under test, faultline's own CLI package, and a git history for `affected`. */
  async function cacheWorkspace() {
    const root = workspace(matrixYaml({ l1: ['suite-a'], l2: ['suite-b'] }), { command: 'node fake-faultline.mjs' });
    writeFiles(root, {
      'package.json': { name: 'demo', private: true, workspaces: ['suites/*', 'packages/*'] },
      '.gitignore': 'node_modules\n.nx/\n.faultline/\nreports/\ncalls.log\n',
      'packages/sut/package.json': { name: 'sut', version: '1.0.0' },
      'packages/sut/index.js': 'export const version = 1;\n',
      'packages/cli/package.json': { name: '@faultline/cli', version: '0.1.0' },
      'packages/cli/main.js': 'export {};\n',
      'suites/a/package.json': { name: 'suite-a', dependencies: { sut: '1.0.0' } },
    });
    const git = (...args: string[]) => exec('git', args, { cwd: root });
    await git('init', '-q');
    await git('add', '.');
    await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
    return root;
  }

  test('issue 21: a FAULTLINE_* variable, the system under test and faultline itself are cache inputs of l1', async () => {
    const root = await cacheWorkspace();
    const calls = () => readFileSync(join(root, 'calls.log'), 'utf8').trim().split('\n').length;
    const run = (env: Record<string, string> = {}) => nxWith(env, root, 'run', 'suite-a:resilience-l1');
    expect((await run()).code).toBe(0);
    expect((await run()).stdout).toContain('[local cache]');
    expect(calls()).toBe(1);

    const broken = await run({ FAULTLINE_BREAK: 'skipChunkVerify' });
    expect(broken.stdout).not.toContain('[local cache]');
    expect(calls()).toBe(2);

    writeFileSync(join(root, 'packages/sut/index.js'), 'export const version = 2;\n');
    expect((await run({ FAULTLINE_BREAK: 'skipChunkVerify' })).stdout).not.toContain('[local cache]');
    expect(calls()).toBe(3);

    writeFileSync(join(root, 'packages/cli/main.js'), 'export const changed = true;\n');
    expect((await run({ FAULTLINE_BREAK: 'skipChunkVerify' })).stdout).not.toContain('[local cache]');
    expect(calls()).toBe(4);
  });

  test('issue 21: a cache hit restores the layer file only, never a stale shard file', async () => {
    const root = await cacheWorkspace();
    const dir = join(root, '.faultline', 'results');
    writeFiles(root, { '.faultline/results/l1.1of2.json': '{"stale":true}' });
    expect((await nx(root, 'run', 'suite-a:resilience-l1')).code).toBe(0);
    rmSync(dir, { recursive: true });
    const hit = await nx(root, 'run', 'suite-a:resilience-l1');
    expect(hit.stdout).toContain('[local cache]');
    expect(existsSync(join(dir, 'l1.json'))).toBe(true);
    expect(existsSync(join(dir, 'l1.1of2.json'))).toBe(false);
  });

  test('issue 21: nx affected schedules every layer when the matrix or faultline changes', async () => {
    const root = await cacheWorkspace();
    for (const file of ['matrix.yaml', 'packages/cli/main.js']) {
      const affected = await nxJson<string[]>(root, 'show', 'projects', '--affected', '--files', file, '--json');
      expect(affected, file).toEqual(expect.arrayContaining(['suite-a', 'suite-b']));
    }
  });
});
