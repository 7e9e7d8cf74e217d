// The rlimit fallback as a user's project meets it: @faultline/crash installed under node_modules
// (its built dist/, run by plain Node) next to a `posix` package whose native addon was never
// built, as when npm 11 skips its install script or no compiler is there. Node children must then
// get their limits from prlimit(1) with no option set, and the run's capabilities must say so.
// The same layout with the built addon must pick the preload, so the layout is what decides.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { fixture, tempDir } from './helpers.ts';

const CRASH = join(import.meta.dirname, '..');
const tmp = tempDir();
afterAll(tmp.cleanup);

/** A package's directory as Node's lookup finds it from this package (node_modules up the tree). */
function packageDir(name: string): string {
  for (let dir = CRASH; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed above ${CRASH}`);
  }
}

/** A project whose node_modules holds the built crash package, its dependencies and a `posix`. */
function installedProject(name: string, posix: 'unbuilt' | 'built'): string {
  const root = join(tmp.dir, name);
  const modules = join(root, 'node_modules');
  mkdirSync(join(modules, '@faultline', 'crash'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  cpSync(join(CRASH, 'package.json'), join(modules, '@faultline', 'crash', 'package.json'));
  cpSync(join(CRASH, 'dist'), join(modules, '@faultline', 'crash', 'dist'), { recursive: true });
  symlinkSync(packageDir('@faultline/evidence'), join(modules, '@faultline', 'evidence'));
  symlinkSync(packageDir('@faultline/faults'), join(modules, '@faultline', 'faults'));
  symlinkSync(packageDir('execa'), join(modules, 'execa'));
  const realPosix = packageDir('posix');
  if (posix === 'built') symlinkSync(realPosix, join(modules, 'posix'));
  else {
    // The real package without its build/ directory: what an install that skipped node-gyp leaves.
    mkdirSync(join(modules, 'posix'));
    cpSync(join(realPosix, 'package.json'), join(modules, 'posix', 'package.json'));
    cpSync(join(realPosix, 'lib'), join(modules, 'posix', 'lib'), { recursive: true });
  }
  mkdirSync(join(root, 'run'));
  writeFileSync(
    join(root, 'limited.mjs'),
    `import {
  rlimitSupport,
  spawnManaged,
  waitForExit,
  waitForLine,
} from '@faultline/crash';
const limited = await spawnManaged(process.execPath, [${JSON.stringify(fixture('limits-probe.mjs'))}, 'nofile'], { rlimits: { nofile: 64 } });
const line = await waitForLine(limited.proc, /^nofile /);
await waitForExit(limited.proc);
console.log(JSON.stringify({ support: rlimitSupport(), method: limited.method, applied: limited.applied.nofile, line: line.input }));
`,
  );
  return root;
}

interface Outcome {
  support: { method: string; summary: string; posixError?: string; prlimit: boolean };
  method: string;
  applied: { soft: number; hard: number };
  line: string;
  capabilities: string;
}

/** Runs the script with plain Node: no vitest condition, no loader, so dist/ is what runs. */
async function runIn(root: string): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, FAULTLINE_RUN_DIR: join(root, 'run') };
  const { stdout } = await promisify(execFile)(process.execPath, ['limited.mjs'], { cwd: root, env, timeout: 20_000 });
  const capabilities = join(root, 'run', 'capabilities.ndjson');
  return { ...JSON.parse(stdout), capabilities: existsSync(capabilities) ? readFileSync(capabilities, 'utf8') : '' };
}

describe('rlimits from an installed @faultline/crash', () => {
  test('the package is built (npm run build)', () => {
    expect(existsSync(join(CRASH, 'dist', 'index.js')), 'packages/crash/dist is missing: run `npm run build`').toBe(
      true,
    );
  });

  test('with the posix addon not built, Node children fall back to prlimit(1) by themselves', async () => {
    const outcome = await runIn(installedProject('unbuilt', 'unbuilt'));
    expect(outcome.support).toMatchObject({
      method: 'prlimit',
      summary: 'prlimit(1) fallback (posix addon not built)',
      posixError: expect.stringMatching(/^posix was never built: npm did not run its install script/),
      prlimit: true,
    });
    expect(outcome.method).toBe('prlimit');
    expect(outcome.applied).toEqual({ soft: 64, hard: 64 });
    expect(outcome.line).toMatch(/^nofile opened \d+ EMFILE$/);
    expect(outcome.capabilities).toBe(
      `${JSON.stringify({ key: 'rlimits', value: 'prlimit(1) fallback (posix addon not built)' })}\n`,
    );
  }, 30_000);

  test('with the addon built, the same layout uses the preload', async () => {
    const outcome = await runIn(installedProject('built', 'built'));
    expect(outcome.support).toMatchObject({ method: 'preload', summary: 'preload via posix addon' });
    expect(outcome.method).toBe('preload');
    expect(outcome.line).toMatch(/^nofile opened \d+ EMFILE$/);
    expect(outcome.capabilities).toContain('"value":"preload via posix addon"');
  }, 30_000);
});
