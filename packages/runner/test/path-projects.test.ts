// A single-package project (no workspaces): its layers name directories, `projects: [./test/l1]`.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { afterAll, describe, expect, test } from 'vitest';
import { faultline, readJson } from './helpers.ts';

const repoModules = join(import.meta.dirname, '..', '..', '..', 'node_modules');
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A one-package project in a temp dir; @faultline/* and vitest come through a link to this repo's node_modules. */
function project(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), 'faultline-single-'));
  roots.push(root);
  for (const [path, content] of Object.entries({ 'package.json': { name: 'app', type: 'module' }, ...files })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  symlinkSync(repoModules, join(root, 'node_modules'), 'dir');
  return root;
}

function matrix(projects: string): string {
  return [
    'version: 1',
    'system: app',
    'layers:',
    `  l1: { title: Unit faults, projects: [${projects}], timeout: 1m }`,
    'policy: { require: [{ layers: [l1] }] }',
    'issues:',
    '  - { id: retry, title: Retries a failing call, severity: high }',
    '',
  ].join('\n');
}

const config = [
  "import { defineLayerProject } from '@faultline/vitest';",
  "import { defineConfig } from 'vitest/config';",
  "export default defineConfig(defineLayerProject({ layer: 'l1', root: import.meta.dirname, include: ['*.test.ts'] }));",
  '',
].join('\n');

const retryTest = [
  "import { recordFault } from '@faultline/vitest';",
  "import { expect, test } from 'vitest';",
  "test('retries once', { tags: ['retry'] }, () => {",
  "  recordFault({ kind: 'demo', name: 'flaky', detail: 'call 1 failed with EIO' });",
  '  expect(1 + 1).toBe(2);',
  '});',
  '',
].join('\n');

/** line:col of `marker` in `text`. */
function where(text: string, marker: string): string {
  const before = text.slice(0, text.indexOf(marker)).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

describe('a layer project given as a path', () => {
  test('validate, run and gate a single-package project; results name the project by its path', async () => {
    const root = project({
      'matrix.yaml': matrix('./test/l1/'),
      'test/l1/vitest.config.ts': config,
      'test/l1/retry.test.ts': retryTest,
    });
    const m = join(root, 'matrix.yaml');
    const validated = await faultline(['validate', '--matrix', m]);
    expect([validated.code, validated.out]).toEqual([0, `${m}: ok: 1 issue, 1 layer, 1 required cell\n`]);

    const run = await faultline(['run', '--matrix', m, '--seed', '3', '--gate']);
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toContain('gate: passed');
    const l1 = readJson<LayerResults>(join(run.dir, 'results', 'l1.json'));
    expect(l1.projects).toEqual([expect.objectContaining({ name: './test/l1', dir: 'test/l1', tests: 1 })]);
    expect(l1.tests).toEqual([
      expect.objectContaining({ project: './test/l1', file: 'test/l1/retry.test.ts', state: 'passed' }),
    ]);
  });

  test('a path that does not exist, or holds no vitest config: exit 2 at its place, for validate, run and gate', async () => {
    const text = matrix('./test/l1, ./test/gone');
    const root = project({ 'matrix.yaml': text, 'test/l1/README.md': 'tests go here\n' });
    const m = join(root, 'matrix.yaml');
    for (const command of ['validate', 'run', 'gate']) {
      const r = await faultline([command, '--matrix', m]);
      expect(r.code).toBe(2);
      expect(r.err).toBe(
        `${m}:${where(text, './test/l1')}: layer "l1": project path "./test/l1" holds no vitest config ` +
          '(vitest.config.ts, vitest.config.mts, vitest.config.cts, vitest.config.js, vitest.config.mjs, vitest.config.cjs): ' +
          'add one, e.g. with defineLayerProject from @faultline/vitest\n' +
          `${m}:${where(text, './test/gone')}: layer "l1": project path "./test/gone" does not exist ` +
          `(it is relative to the matrix's directory: ${join(root, 'test', 'gone')})\n`,
      );
    }
  });

  test('a named project without a vitest config is reported too, once it is found', async () => {
    const text = matrix('suite-a');
    const root = project({
      'package.json': { name: 'mono', workspaces: ['suites/*'] },
      'matrix.yaml': text,
      'suites/a/package.json': { name: 'suite-a' },
    });
    const r = await faultline(['validate', '--matrix', join(root, 'matrix.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `matrix.yaml:${where(text, 'suite-a')}: layer "l1": project "suite-a" (suites/a) has no vitest config`,
    );
  });
});
