import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { isProjectPath, loadMatrix, projectFiles, projectPathName, resolveLayerProjects } from '../src/index.ts';

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

/** A throwaway directory with `files` (objects written as JSON). */
function tree(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), 'faultline-projects-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

function matrix(layers: Record<string, string[]>): string {
  const lines = ['version: 1', 'system: demo', 'layers:'];
  for (const [id, projects] of Object.entries(layers)) lines.push(`  ${id}: { title: T, projects: [${projects}] }`);
  lines.push('policy: { require: [{ layers: [l1] }] }', 'issues:', '  - { id: a, title: A, severity: low }', '');
  return lines.join('\n');
}

const config = "export default { test: { include: ['*.test.ts'] } };\n";

describe('what an entry means', () => {
  test.each([
    ['./test/l1', true],
    ['../other/suite', true],
    ['.', true],
    ['..', true],
    ['test/l1', true],
    ['/abs/suite', true],
    ['suite-l1', false],
    ['@acme/suite-l1', false],
    ['@acme', false],
  ])('%s is a path: %s', (entry, path) => {
    expect(isProjectPath(entry)).toBe(path);
  });

  test.each([
    ['./test/l1', './test/l1'],
    ['test/l1/', './test/l1'],
    ['./test//l1/.', './test/l1'],
    ['test\\l1', './test/l1'],
    ['.', '.'],
    ['./', '.'],
    ['../x/', '../x'],
    ['./a/../b', './b'],
  ])('%s is named %s in results', (entry, name) => {
    expect(projectPathName(entry)).toBe(name);
  });
});

describe('resolveLayerProjects', () => {
  test('a single-package project: paths resolve against the matrix directory; no workspace needed', () => {
    const root = tree({
      'package.json': { name: 'app' },
      'matrix.yaml': matrix({ l1: ['./test/l1'], l2: ['test/l2/'] }),
      'test/l1/vitest.config.ts': config,
      'test/l2/vitest.config.mjs': config,
    });
    const { layers, problems } = resolveLayerProjects(loadMatrix(join(root, 'matrix.yaml')), { workspaceRoot: root });
    expect(problems).toEqual([]);
    expect(layers.get('l1')).toEqual([
      {
        entry: './test/l1',
        name: './test/l1',
        kind: 'path',
        root: 'test/l1',
        dir: join(root, 'test/l1'),
        vitestConfig: 'vitest.config.ts',
      },
    ]);
    expect(layers.get('l2')![0]).toMatchObject({
      name: './test/l2',
      root: 'test/l2',
      vitestConfig: 'vitest.config.mjs',
    });
  });

  test('a path and a name may live side by side; names follow the package manager workspaces', () => {
    const root = tree({
      'package.json': { name: 'mono', workspaces: ['suites/*'] },
      'matrix.yaml': matrix({ l1: ['suite-a', './e2e'] }),
      'suites/a/package.json': { name: 'suite-a' },
      'e2e/vitest.config.ts': config,
    });
    const { layers, problems } = resolveLayerProjects(loadMatrix(join(root, 'matrix.yaml')), { workspaceRoot: root });
    expect(problems).toEqual([]);
    expect(layers.get('l1')!.map((p) => [p.name, p.kind, p.root, p.vitestConfig])).toEqual([
      ['suite-a', 'name', 'suites/a', undefined],
      ['./e2e', 'path', 'e2e', 'vitest.config.ts'],
    ]);
  });

  test('every bad entry is a problem at its place in the matrix', () => {
    const text = matrix({ l1: ['./test/l1', './nowhere', './empty', './file.txt', '/abs/l1', 'nope'] });
    const root = tree({
      'package.json': { name: 'app' },
      'matrix.yaml': text,
      'test/l1/vitest.config.ts': config,
      'empty/README': 'no config here',
      'file.txt': 'x',
    });
    const { layers, problems } = resolveLayerProjects(loadMatrix(join(root, 'matrix.yaml')), { workspaceRoot: root });
    expect(layers.get('l1')!.map((p) => p.name)).toEqual(['./test/l1']);
    const line = text.split('\n').findIndex((l) => l.includes('./nowhere')) + 1;
    const col = (marker: string) => text.split('\n')[line - 1]!.indexOf(marker) + 1;
    expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      `${line}:${col('./nowhere')}: layer "l1": project path "./nowhere" does not exist (it is relative to the matrix's directory: ${join(root, 'nowhere')})`,
      `${line}:${col('./empty')}: layer "l1": project path "./empty" holds no vitest config (vitest.config.ts, vitest.config.mts, vitest.config.cts, vitest.config.js, vitest.config.mjs, vitest.config.cjs): add one, e.g. with defineLayerProject from @faultline/vitest`,
      `${line}:${col('./file.txt')}: layer "l1": project path "./file.txt" is not a directory (${join(root, 'file.txt')})`,
      `${line}:${col('/abs/l1')}: layer "l1": project path "/abs/l1" is absolute: write it relative to the matrix's directory (e.g. ./test/l1) so the matrix works on every machine`,
      `${line}:${col('nope')}: layer "l1": project "nope" is not a project of this workspace (no package.json in the package manager workspaces, nor a project.json, has that name; the workspace has none). To name a directory, write a path: ./test/l1`,
    ]);
    expect(problems.every((p) => p.file === join(root, 'matrix.yaml'))).toBe(true);
  });

  test('two spellings of one directory, or a path to a named project, are the same project twice', () => {
    const root = tree({
      'package.json': { name: 'mono', workspaces: ['suites/*'] },
      'matrix.yaml': matrix({ l1: ['./test/l1', 'test/l1/'], l2: ['suite-a', './suites/a'] }),
      'test/l1/vitest.config.ts': config,
      'suites/a/package.json': { name: 'suite-a' },
      'suites/a/vitest.config.ts': config,
    });
    const { problems } = resolveLayerProjects(loadMatrix(join(root, 'matrix.yaml')), { workspaceRoot: root });
    expect(problems.map((p) => p.message)).toEqual([
      `layer "l1": project "test/l1/" is the directory test/l1 of "./test/l1", already in this layer: a directory's tests run once, in one layer`,
      `layer "l2": project "./suites/a" is the directory suites/a of "suite-a", already in this layer: a directory's tests run once, in one layer`,
    ]);
  });

  test('a mistyped project name suggests the nearest project of the workspace', () => {
    const root = tree({
      'package.json': { name: 'mono', workspaces: ['suites/*'] },
      'matrix.yaml': matrix({ l1: ['suite-lone'] }),
      'suites/a/package.json': { name: 'suite-l1' },
      'suites/a/vitest.config.ts': config,
    });
    const { problems } = resolveLayerProjects(loadMatrix(join(root, 'matrix.yaml')), { workspaceRoot: root });
    expect(problems.map((p) => p.message)).toEqual([
      'layer "l1": project "suite-lone" is not a project of this workspace (did you mean `suite-l1`?) (no package.json in the package manager workspaces, nor a project.json, has that name; projects: suite-l1). To name a directory, write a path: ./test/l1',
    ]);
  });

  test('only the asked layers are resolved; a matrix of paths never walks the tree', () => {
    const root = tree({
      'package.json': { name: 'app' },
      'matrix.yaml': matrix({ l1: ['./test/l1'], l2: ['missing-name'] }),
      'test/l1/vitest.config.ts': config,
    });
    const loaded = loadMatrix(join(root, 'matrix.yaml'));
    const only = resolveLayerProjects(loaded, { workspaceRoot: root, layers: ['l1'] });
    expect([only.problems, [...only.layers.keys()], only.named.size]).toEqual([[], ['l1'], 0]);
    expect(resolveLayerProjects(loaded, { workspaceRoot: root }).problems).toHaveLength(1);
  });

  test('projectFiles skips node_modules and dot-directories', () => {
    const root = tree({
      'package.json': {},
      'a/package.json': {},
      'b/project.json': {},
      'node_modules/x/package.json': {},
      '.cache/y/package.json': {},
    });
    expect(projectFiles(root)).toEqual(['a/package.json', 'b/project.json', 'package.json']);
  });
});
