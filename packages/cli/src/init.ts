// `faultline init`: scaffolds a first matrix, an l1 layer with one honest example test, and a CI
// workflow in an existing project. Nothing is ever overwritten: every target is checked before the
// first byte is written, and each file lands whole (temp file, then a link that refuses to replace).
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { VITEST_CONFIGS } from '@faultline/matrix';
import { ConfigError, type Flags } from './args.ts';
import type { Io } from './commands.ts';

export interface InitFile {
  /** Relative to the project directory, posix. */
  path: string;
  text: string;
}

export interface InitPlan {
  /** Absolute project directory. */
  dir: string;
  system: string;
  files: InitFile[];
  /** Packages the generated files import that package.json does not declare yet. */
  missing: string[];
  /** Whether .gitignore already keeps faultline's run output (.faultline/, reports/) out of git. */
  ignoresOutput: boolean;
}

export const EXAMPLE_ISSUE = 'store-retry';
const LAYER_DIR = 'test/l1';
/** What the generated files import (and `npx faultline` runs). */
const NEEDED = ['@faultline/cli', '@faultline/vitest', '@faultline/faults', 'vitest'];

interface PackageJson {
  name?: unknown;
  type?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
}

function readPackageJson(dir: string): PackageJson {
  const file = join(dir, 'package.json');
  if (!existsSync(dir)) throw new ConfigError(`${shown(dir)} does not exist: init scaffolds an existing project`);
  if (!existsSync(file)) {
    throw new ConfigError(
      `no package.json in ${shown(dir)}: init scaffolds an existing project (run \`npm init -y\` there first, or pass --dir)`,
    );
  }
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as PackageJson;
  } catch (error) {
    throw new ConfigError(
      `${shown(file)} is not a valid package.json (${(error as Error).message}): fix it, then run init`,
    );
  }
}

/** A YAML scalar for `value`: plain when it is safe, else double-quoted (JSON strings are valid YAML). */
function yamlScalar(value: string): string {
  return /^[A-Za-z0-9][\w.-]*$/.test(value) ? value : JSON.stringify(value);
}

function matrixYaml(system: string): string {
  return `# yaml-language-server: $schema=./node_modules/@faultline/matrix/matrix.schema.json
# The resilience matrix of ${system}, written by \`faultline init\`.
# Each issue must be covered in the layers the policy (and its own \`layers\`) require. A test links
# itself to an issue with the vitest tag of the same id, and covers it only when it passes AND its
# fault really fired (the fault primitives record that evidence themselves).
version: 1
system: ${yamlScalar(system)}
layers:
  # A layer's projects are directories holding a vitest config (relative to this file), or
  # workspace package / nx project names.
  l1: { title: Mocks + failpoints, projects: [./${LAYER_DIR}], timeout: 5m }
policy:
  require:
    - { layers: [l1] } # every issue is covered in l1
  vacuous: fail # a passing test whose fault never fired covers nothing
  planned: allow # issues with status: planned may stay uncovered
issues:
  - id: ${EXAMPLE_ISSUE}
    ref: "1"
    title: A transient EIO from the store is retried, never surfaced to the caller
    severity: high
    notes: The example from faultline init (${LAYER_DIR}/${EXAMPLE_ISSUE}.test.ts); replace it with your own issues.
`;
}

const vitestConfig = `// Layer l1 of matrix.yaml: faults injected inside one process (fault wrappers, failpoints).
// defineLayerProject turns the matrix's issue ids into vitest tags (strictTags: a mistyped tag
// fails at collection) and installs faultline's evidence recorder.
import { defineLayerProject } from '@faultline/vitest';
import { defineConfig } from 'vitest/config';

export default defineConfig(defineLayerProject({ layer: 'l1', root: import.meta.dirname, include: ['**/*.test.ts'] }));
`;

const exampleTest = `// The example test for the matrix issue "${EXAMPLE_ISSUE}". It covers its cell only because the
// fault really fires: faulty() records every injected failure as evidence, and a test that passes
// without evidence leaves the cell "vacuous" (red). Replace readWithRetry with your own code.
import { FailEveryNth, faulty } from '@faultline/faults';
import { expect, test } from 'vitest';

interface Store {
  read(key: string): Promise<string>;
}

/** A real (in-memory) store: faulty() wraps it, so every call that is let through is a real call. */
class MemoryStore implements Store {
  readonly #data: Map<string, string>;

  constructor(data: Record<string, string>) {
    this.#data = new Map(Object.entries(data));
  }

  async read(key: string): Promise<string> {
    const value = this.#data.get(key);
    if (value === undefined) throw Object.assign(new Error(\`no such key: \${key}\`), { code: 'ENOENT' });
    return value;
  }
}

/** The code under test: retries transient I/O errors (EIO), surfaces every other error. */
async function readWithRetry(store: Store, key: string, attempts = 3): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.read(key);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EIO' || attempt === attempts) throw error;
    }
  }
}

test('a transient EIO from the store is retried, never surfaced', { tags: ['${EXAMPLE_ISSUE}'] }, async () => {
  // Every 2nd call to the real store fails with EIO before reaching it.
  const { proxy, control } = faulty(new MemoryStore({ a: 'alpha', b: 'beta' }), FailEveryNth(2, 'EIO'));
  expect(await readWithRetry(proxy, 'a')).toBe('alpha'); // call 1 goes through
  expect(await readWithRetry(proxy, 'b')).toBe('beta'); // call 2 fails with EIO, call 3 is the retry
  // The fault fired exactly once: without it this test would prove nothing.
  expect([control.calls, control.failures]).toEqual([3, 1]);
});
`;

function workflowYaml(nodeVersion: string): string {
  return `# Resilience matrix: runs every layer of matrix.yaml, gates on it and publishes the reports.
# Written by \`faultline init\`. To split layers into jobs or shards, run \`npx faultline run --layer l1\`
# per job, upload .faultline/results/, and gate once with \`npx faultline merge --from DIR\` + \`npx faultline gate\`.
name: resilience

on:
  push:
    branches: [main]
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

concurrency:
  group: resilience-\${{ github.ref }}
  # Superseded pushes to a branch or PR are cancelled; every run on main completes.
  cancel-in-progress: \${{ github.ref != 'refs/heads/main' }}

env:
  CI: true

jobs:
  resilience:
    name: resilience matrix
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
${nodeVersion}
          cache: npm
      - run: npm ci
      # Runs every layer, then gates: exit 0 gate passed, 1 gate failed, 2 configuration error.
      - run: npx faultline run --gate
      - if: \${{ !cancelled() }}
        run: if [ -f reports/matrix.md ]; then cat reports/matrix.md >> "$GITHUB_STEP_SUMMARY"; fi
      - if: \${{ !cancelled() }}
        uses: actions/upload-artifact@v4
        with:
          name: faultline-reports
          path: |
            reports/
            .faultline/results/
          if-no-files-found: ignore
          # upload-artifact >= 4.4 leaves out hidden paths (.faultline/) unless asked.
          include-hidden-files: true
`;
}

/**
 * `vitest.config.ts` in an ESM package; `.mts` otherwise (`npm init -y` writes `"type": "commonjs"`), where
 * Vite warns that an ESM `.ts` config is loaded as CommonJS and its native loader will refuse it.
 */
function configName(pkg: PackageJson): string {
  return pkg.type === 'module' ? 'vitest.config.ts' : 'vitest.config.mts';
}

function dependsOn(pkg: PackageJson, name: string): boolean {
  return [pkg.dependencies, pkg.devDependencies].some(
    (deps) => deps !== null && typeof deps === 'object' && Object.hasOwn(deps, name),
  );
}

/** Whether the project's .gitignore names both output directories (it is the user's file: never edited). */
function ignoresOutput(root: string): boolean {
  let text: string;
  try {
    text = readFileSync(join(root, '.gitignore'), 'utf8');
  } catch {
    return false;
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''));
  return lines.includes('.faultline') && lines.includes('reports');
}

/** What init would write in `dir`; throws ConfigError when it cannot (no package.json, a target exists). */
export function planInit(dir: string): InitPlan {
  const root = resolve(dir);
  const pkg = readPackageJson(root);
  const system = typeof pkg.name === 'string' && pkg.name.trim() ? pkg.name.trim() : basename(root);
  // setup-node reads the project's pinned version when it has one; faultline needs Node >= 22.12.
  const nodeVersion = ['.nvmrc', '.node-version'].find((f) => existsSync(join(root, f)));
  const files: InitFile[] = [
    { path: 'matrix.yaml', text: matrixYaml(system) },
    { path: `${LAYER_DIR}/${configName(pkg)}`, text: vitestConfig },
    { path: `${LAYER_DIR}/${EXAMPLE_ISSUE}.test.ts`, text: exampleTest },
    {
      path: '.github/workflows/resilience.yml',
      text: workflowYaml(
        nodeVersion
          ? `          node-version-file: ${nodeVersion}`
          : '          node-version: 24 # faultline needs >= 22.12',
      ),
    },
  ];
  // Also refused: a second matrix or vitest config beside ours, which would make one of them silently win.
  const rivals = ['matrix.yml', ...VITEST_CONFIGS.map((c) => `${LAYER_DIR}/${c}`)];
  for (const path of [...files.map((f) => f.path), ...rivals]) checkTarget(root, path);
  return {
    dir: root,
    system,
    files,
    missing: NEEDED.filter((name) => !dependsOn(pkg, name)),
    ignoresOutput: ignoresOutput(root),
  };
}

/** Refuses a target that exists, or whose directory is blocked by a file. */
function checkTarget(root: string, path: string): void {
  const target = join(root, path);
  if (existsSync(target)) {
    throw new ConfigError(
      `${shown(target)} already exists: init never overwrites a file (move it away first); nothing written`,
    );
  }
  for (let dir = dirname(target); dir !== root && dir.startsWith(root); dir = dirname(dir)) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new ConfigError(`${shown(dir)} is a file, so ${path} cannot be created under it; nothing written`);
    }
  }
}

/** Creates `file` with `text`, whole or not at all, and never over an existing file. */
function createWhole(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.faultline-init-${process.pid}`);
  writeFileSync(tmp, text, { flag: 'wx' });
  try {
    linkSync(tmp, file); // fails with EEXIST instead of replacing a file that appeared meanwhile
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ConfigError(`${shown(file)} appeared while init was writing: nothing written`);
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw error;
    // A file system without hard links: rename, after one more look.
    if (existsSync(file)) throw new ConfigError(`${shown(file)} appeared while init was writing: nothing written`);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Writes the plan's files. On any failure, what this call created (files, then directories) is
 * removed again, so a project is never left half-initialised.
 */
export function writeInit(plan: InitPlan): string[] {
  const createdDirs: string[] = [];
  const written: string[] = [];
  try {
    for (const file of plan.files) {
      const target = join(plan.dir, file.path);
      const made = mkdirSync(dirname(target), { recursive: true });
      if (made) createdDirs.push(made);
      createWhole(target, file.text);
      written.push(target);
    }
    return written;
  } catch (error) {
    for (const file of written.reverse()) rmSync(file, { force: true });
    for (const dir of createdDirs.reverse()) rmSync(dir, { recursive: true, force: true });
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot write in ${shown(plan.dir)}: ${(error as Error).message}; nothing written`);
  }
}

/** A path as the user should see it: relative to the current directory when inside it. */
export function shown(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** `word` as one shell word (quoted when it holds anything but safe characters). */
function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** `faultline init`: the files written (or, with --dry-run, listed) and the next steps. */
export function initCommand(io: Io, flags: Flags): number {
  const plan = planInit(typeof flags.dir === 'string' ? flags.dir : '.');
  if (flags['dry-run']) {
    for (const f of plan.files) {
      io.out.write(`would write ${shown(join(plan.dir, f.path))} (${f.text.split('\n').length - 1} lines)\n`);
    }
    io.out.write('dry run: nothing written\n');
    return 0;
  }
  for (const file of writeInit(plan)) io.out.write(`wrote ${shown(file)}\n`);
  if (!plan.ignoresOutput) {
    // Run output in git is noise, and Nx only caches a layer whose own outputs are not among its inputs.
    io.out.write('note: add .faultline/ and reports/ to .gitignore (run output)\n');
  }
  const steps = [
    ...(plan.dir === process.cwd() ? [] : [`cd ${shellWord(shown(plan.dir))}`]),
    ...(plan.missing.length ? [`npm i -D ${plan.missing.join(' ')}`] : []),
    'npx faultline run --gate',
  ];
  io.out.write(`next: ${steps.join(' && ')}\n`);
  return 0;
}
