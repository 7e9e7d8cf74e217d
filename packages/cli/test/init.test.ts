import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { validateWorkflow } from '@action-validator/core';
import { loadMatrix } from '@faultline/matrix';
import type { MatrixReport } from '@faultline/runner';
import { afterAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './run-cli.ts';

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'faultline.js');
const REPO_MODULES = join(import.meta.dirname, '..', '..', '..', 'node_modules');

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A temp directory holding `files` (objects as JSON); `package.json` as `npm init -y` writes it unless given. */
function project(files: Record<string, string | object> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'faultline-init-'));
  roots.push(root);
  const all: Record<string, string | object> = {
    'package.json': { name: 'shop', version: '1.0.0', type: 'commonjs' },
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    if (content === '') continue;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

/** Every file under `root`, dotfiles included, sorted: what init left behind. */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(root, join(d.parentPath, d.name)))
    .sort();
}

/** Runs the CLI in-process. */
const faultline = (...args: string[]) => runCli(args);

const WRITTEN = ['.github/workflows/resilience.yml', 'matrix.yaml', 'test/l1/store-retry.test.ts'];

describe('faultline init', () => {
  test('writes the matrix, an l1 layer with its example test, and the workflow; prints them and the next step', async () => {
    const root = project();
    const r = await faultline('init', '--dir', root);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        `wrote ${root}/matrix.yaml`,
        `wrote ${root}/test/l1/vitest.config.mts`,
        `wrote ${root}/test/l1/store-retry.test.ts`,
        `wrote ${root}/.github/workflows/resilience.yml`,
        'note: add .faultline/ and reports/ to .gitignore (run output)',
        `next: cd ${root} && npm i -D @faultline/cli @faultline/vitest @faultline/faults vitest && npx faultline run --gate`,
        '',
      ].join('\n'),
    );
    expect(tree(root)).toEqual([...WRITTEN, 'package.json', 'test/l1/vitest.config.mts'].sort());
  });

  test('the matrix is valid, names the schema in node_modules, one example issue, l1 = ./test/l1', async () => {
    const root = project({ 'package.json': { name: '@acme/shop', type: 'module' } });
    expect((await faultline('init', '--dir', root)).code).toBe(0);
    const text = readFileSync(join(root, 'matrix.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=./node_modules/@faultline/matrix/matrix.schema.json',
    );
    const { matrix } = loadMatrix(join(root, 'matrix.yaml'));
    expect(matrix.system).toBe('@acme/shop');
    expect(matrix.layers).toEqual({
      l1: { title: 'Mocks + failpoints', projects: ['./test/l1'], timeout: '5m' },
    });
    expect(matrix.issues.map((i) => i.id)).toEqual(['store-retry']);
    expect(matrix.policy.vacuous).toBe('fail');
    // An ESM package gets vitest.config.ts (a CommonJS one .mts, so Vite loads it as ESM).
    const config = readFileSync(join(root, 'test/l1/vitest.config.ts'), 'utf8');
    expect(config).toContain("defineLayerProject({ layer: 'l1', root: import.meta.dirname");
    const example = readFileSync(join(root, 'test/l1/store-retry.test.ts'), 'utf8');
    expect(example).toContain("{ tags: ['store-retry'] }");
    // Only faultline packages and vitest: nothing else to install.
    const imports = [...`${config}\n${example}`.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['@faultline/vitest', 'vitest/config', '@faultline/faults', 'vitest']));
  });

  test('the workflow is valid for GitHub Actions: npm ci, run --gate, step summary, reports uploaded', async () => {
    const root = project({ '.nvmrc': '24\n' });
    expect((await faultline('init', '--dir', root)).code).toBe(0);
    const text = readFileSync(join(root, '.github/workflows/resilience.yml'), 'utf8');
    expect(validateWorkflow(text).errors).toEqual([]);
    const wf = parse(text) as {
      jobs: Record<
        string,
        { steps: Array<{ uses?: string; run?: string; if?: string; with?: Record<string, unknown> }> }
      >;
    };
    const steps = Object.values(wf.jobs)[0]!.steps;
    const runs = steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toMatch(/npm ci\nnpx faultline run --gate\n.*cat reports\/matrix\.md >> "\$GITHUB_STEP_SUMMARY"/);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with).toMatchObject({
      'node-version-file': '.nvmrc',
    });
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    // Reports even when the gate failed, but not for a cancelled run; hidden .faultline/ included.
    expect(upload.if).toBe('${{ !cancelled() }}');
    expect(String(upload.with?.path)).toContain('reports/');
    expect(upload.with?.['include-hidden-files']).toBe(true);
    expect(text).not.toContain('always()');
    expect(text).toContain("cancel-in-progress: ${{ github.ref != 'refs/heads/main' }}");
  });

  test('--dry-run prints the plan and writes nothing', async () => {
    const root = project();
    const r = await faultline('init', '--dir', root, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(
        `^would write ${root}/matrix\\.yaml \\(\\d+ lines\\)\\n` +
          `would write ${root}/test/l1/vitest\\.config\\.mts \\(\\d+ lines\\)\\n` +
          `would write ${root}/test/l1/store-retry\\.test\\.ts \\(\\d+ lines\\)\\n` +
          `would write ${root}/\\.github/workflows/resilience\\.yml \\(\\d+ lines\\)\\n` +
          'dry run: nothing written\\n$',
      ),
    );
    expect(tree(root)).toEqual(['package.json']);
  });

  test.each([
    ['matrix.yaml', 'matrix.yaml'],
    ['matrix.yml', 'matrix.yml'],
    ['the workflow', '.github/workflows/resilience.yml'],
    ['the example test', 'test/l1/store-retry.test.ts'],
    ['another vitest config in test/l1', 'test/l1/vitest.config.js'],
  ])('an existing %s: exit 2, one line naming it, nothing written', async (_, existing) => {
    const root = project({ [existing]: 'mine\n' });
    const before = tree(root);
    const r = await faultline('init', '--dir', root);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `faultline init: ${join(root, existing)} already exists: init never overwrites a file (move it away first); nothing written\n`,
    );
    expect(tree(root)).toEqual(before);
    expect(readFileSync(join(root, existing), 'utf8')).toBe('mine\n');
    // --dry-run refuses the same way: the plan could not be carried out.
    expect((await faultline('init', '--dir', root, '--dry-run')).code).toBe(2);
  });

  test('a file where a directory must go: exit 2, nothing written', async () => {
    const root = project({ test: 'a file, not a directory\n' });
    const r = await faultline('init', '--dir', root);
    expect([r.code, r.err]).toEqual([
      2,
      `faultline init: ${join(root, 'test')} is a file, so test/l1/vitest.config.mts cannot be created under it; nothing written\n`,
    ]);
    expect(tree(root)).toEqual(['package.json', 'test']);
  });

  test('no package.json, a missing directory, a broken package.json: one line naming the place, exit 2', async () => {
    const empty = project({ 'package.json': '' });
    const none = await faultline('init', '--dir', empty);
    expect([none.code, none.err]).toEqual([
      2,
      `faultline init: no package.json in ${empty}: init scaffolds an existing project (run \`npm init -y\` there first, or pass --dir)\n`,
    ]);
    expect(tree(empty)).toEqual([]);
    const gone = await faultline('init', '--dir', join(empty, 'nope'));
    expect([gone.code, gone.err]).toEqual([
      2,
      `faultline init: ${join(empty, 'nope')} does not exist: init scaffolds an existing project\n`,
    ]);
    const broken = project({ 'package.json': '{ "name": ' });
    const bad = await faultline('init', '--dir', broken);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(new RegExp(`^faultline init: ${broken}/package\\.json is not a valid package\\.json \\(`));
    expect(bad.err.split('\n')).toHaveLength(2);
  });

  test('a stray argument is a usage error', async () => {
    const r = await faultline('init', 'somewhere');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'faultline init: unexpected argument "somewhere"\nusage: faultline init [--dir DIR] [--dry-run]\n',
    );
  });

  test('declared packages and an ignored output are not asked for again', async () => {
    const root = project({
      'package.json': {
        name: 'shop',
        type: 'module',
        devDependencies: { '@faultline/cli': '^0.1.0', '@faultline/vitest': '^0.1.0', vitest: '^5.1.1' },
        dependencies: { '@faultline/faults': '^0.1.0' },
      },
      '.gitignore': 'node_modules\n/.faultline/\nreports/\n',
    });
    const r = await faultline('init', '--dir', root);
    expect(r.out.split('\n').slice(-2)).toEqual([`next: cd ${root} && npx faultline run --gate`, '']);
  });
});

describe('faultline init, then run', () => {
  test('the installed CLI in the project directory prints paths relative to it', async () => {
    const root = project();
    const { stdout, stderr } = await exec(process.execPath, [BIN, 'init'], { cwd: root });
    expect(stderr).toBe('');
    expect(stdout).toBe(
      [
        'wrote matrix.yaml',
        'wrote test/l1/vitest.config.mts',
        'wrote test/l1/store-retry.test.ts',
        'wrote .github/workflows/resilience.yml',
        'note: add .faultline/ and reports/ to .gitignore (run output)',
        'next: npm i -D @faultline/cli @faultline/vitest @faultline/faults vitest && npx faultline run --gate',
        '',
      ].join('\n'),
    );
  });

  test('validate and run --gate pass right away; the example cell turns red when its fault does not fire', async () => {
    const root = project();
    symlinkSync(REPO_MODULES, join(root, 'node_modules'), 'dir');
    expect((await faultline('init', '--dir', root)).code).toBe(0);
    const m = join(root, 'matrix.yaml');
    const validated = await faultline('validate', '--matrix', m);
    expect([validated.code, validated.out]).toEqual([0, `${m}: ok: 1 issue, 1 layer, 1 required cell\n`]);

    const gate = async () => {
      const out = join(root, 'reports');
      const r = await faultline('run', '--matrix', m, '--gate', '--out', out);
      const report = JSON.parse(readFileSync(join(out, 'matrix.json'), 'utf8')) as MatrixReport;
      return { ...r, cell: report.cells.find((c) => c.issue === 'store-retry' && c.layer === 'l1')!.state };
    };
    const passed = await gate();
    expect([passed.code, passed.cell], passed.out).toEqual([0, 'covered']);
    expect(passed.out).toContain('gate: passed');

    // The wrapper never fails a call now: the test's own check that the fault fired fails it.
    const file = join(root, 'test/l1/store-retry.test.ts');
    const example = readFileSync(file, 'utf8');
    writeFileSync(file, example.replace('FailEveryNth(2, ', 'FailEveryNth(99, '));
    expect(await gate()).toMatchObject({ code: 1, cell: 'failed' });
    // Without that check too, the test passes, but with no evidence the cell is vacuous: still red.
    writeFileSync(
      file,
      example.replace('FailEveryNth(2, ', 'FailEveryNth(99, ').replace(/^ {2}expect\(\[control.*$/m, ''),
    );
    expect(await gate()).toMatchObject({ code: 1, cell: 'vacuous' });
    expect(existsSync(join(root, '.faultline', 'results', 'l1.json'))).toBe(true);
  });
});
