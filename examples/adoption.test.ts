// Adoption: faultline as a team outside this repository gets it. Every public @faultline/*
// package is built and packed; the tarballs stand in for the registry (package.json `overrides`
// send every @faultline/* name to its tarball, so a project names only what it uses directly,
// and a sibling dependency missing from a package's manifest fails the install as it would from
// the registry), and plain `npm install` installs them into
//   1. a copy of examples/redis-jobs in a temp dir (a real service with its own matrix across
//      l1, l2, l3): `faultline validate`, `run`, `gate` must pass with every required cell covered;
//   2. an empty project (`npm init -y`): `faultline init`, then `faultline run --gate` must pass.
// Everything runs with plain Node: no NODE_OPTIONS, no loader, no workspace, no vitest variables
// of this run leaking into the nested one. Every command has a bound and is killed with its whole
// process group when it overruns; temp dirs are removed.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { packPublicPackages, publicPackages } from '../test/pack.ts';

const REPO = join(import.meta.dirname, '..');
const EXAMPLE = join(import.meta.dirname, 'redis-jobs');
const MINUTE = 60_000;

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
}

/**
 * The environment of a user's shell: this run's NODE_OPTIONS (a loader or a source condition),
 * vitest's own variables and npm's per-script config would change what the nested tools do.
 */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keepNpm = new Set(['npm_config_cache', 'npm_config_nodedir', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (key === 'NODE_OPTIONS' || key === 'NODE_ENV' || key.startsWith('VITEST') || key.startsWith('FAULTLINE_'))
      continue;
    if (lower.startsWith('npm_') && !keepNpm.has(lower)) continue;
    env[key] = value;
  }
  return { ...env, CI: 'true', ...extra };
}

/**
 * Runs a command in its own process group; past `timeoutMs` the whole group is SIGKILLed (a
 * hung vitest worker or redis-server included) and the result says so. Always reaped.
 */
function run(command: string, args: string[], cwd: string, timeoutMs: number, env = plainEnv()): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // whatever the command left behind in its group goes with it
      const ms = Math.round(performance.now() - started);
      const note = timedOut ? `\n[killed after ${timeoutMs} ms: the command did not finish]` : '';
      resolve({ code, signal, output: output + note, ms });
    });
  });
}

const timings: Array<[string, number]> = [];

/** Runs and expects exit 0, quoting the command's output when it fails. */
async function ok(label: string, command: string, args: string[], cwd: string, timeoutMs: number): Promise<Ran> {
  const ran = await run(command, args, cwd, timeoutMs);
  timings.push([label, ran.ms]);
  expect(
    ran.code,
    `${label}: ${command} ${args.join(' ')} in ${cwd} exited ${ran.code ?? ran.signal}\n${ran.output}`,
  ).toBe(0);
  return ran;
}

let work = '';
let packDir = '';
/** Package name → absolute path of its packed tarball. */
let tarballs = new Map<string, string>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-adoption-'));
  const rootPkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  if (rootPkg.scripts?.build) await ok('npm run build', 'npm', ['run', 'build'], REPO, 5 * MINUTE);
  // The same packing the package checks use (test/pack.ts): one `npm pack` of every public package.
  const names = publicPackages();
  expect(names.length).toBeGreaterThanOrEqual(8);
  const started = performance.now();
  const { dir, packed } = packPublicPackages(names);
  timings.push(['npm pack (all public packages)', Math.round(performance.now() - started)]);
  packDir = dir;
  tarballs = new Map([...packed].map(([name, p]) => [name, p.tarball]));
  expect([...tarballs.values()].filter((file) => existsSync(file))).toHaveLength(names.length);
});

afterAll(async () => {
  console.log(`[adoption] timings: ${timings.map(([label, ms]) => `${label} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
  if (work) await rm(work, { recursive: true, force: true });
  if (packDir) await rm(packDir, { recursive: true, force: true });
});

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
}

/**
 * Points the project's package.json at the tarballs: its own @faultline/* dependencies and, through
 * `overrides`, every sibling they pull in (the same spec for both, as npm requires). Returns how
 * the dependencies read before.
 */
async function useTarballs(dir: string, devDependencies: Record<string, string> = {}): Promise<Manifest> {
  const file = join(dir, 'package.json');
  const pkg = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  const before = structuredClone(pkg);
  pkg.devDependencies = { ...pkg.devDependencies, ...devDependencies };
  const spec = (name: string) => `file:${tarballs.get(name)}`;
  for (const deps of [pkg.dependencies, pkg.devDependencies]) {
    for (const name of Object.keys(deps ?? {})) if (deps && tarballs.has(name)) deps[name] = spec(name);
  }
  pkg.overrides = { ...pkg.overrides, ...Object.fromEntries([...tarballs.keys()].map((name) => [name, spec(name)])) };
  await writeFile(file, `${JSON.stringify(pkg, null, 2)}\n`);
  return before;
}

function npmInstall(label: string, dir: string): Promise<Ran> {
  return ok(label, 'npm', ['install', '--no-audit', '--no-fund'], dir, 10 * MINUTE);
}

interface MatrixCell {
  issue: string;
  layer: string;
  required: boolean;
  state: string;
  evidence: unknown[];
  reason?: string;
}

/** What failed in a run, from faultline's results (the run's own output only names the tests). */
function failuresIn(dir: string): string {
  const results = join(dir, '.faultline', 'results');
  if (!existsSync(results)) return '(no results written)';
  const lines: string[] = [];
  for (const file of readdirSync(results).filter((name) => name.endsWith('.json'))) {
    const { tests = [] } = JSON.parse(readFileSync(join(results, file), 'utf8')) as {
      tests?: Array<{ file: string; line: number; name: string; state: string; errors?: Array<{ message: string }> }>;
    };
    for (const t of tests.filter((x) => x.state !== 'passed')) {
      lines.push(`${t.file}:${t.line} ${t.name} [${t.state}]: ${t.errors?.map((e) => e.message).join(' | ') ?? ''}`);
    }
  }
  return lines.join('\n');
}

async function cellsOf(dir: string): Promise<MatrixCell[]> {
  const report = JSON.parse(await readFile(join(dir, 'reports', 'matrix.json'), 'utf8')) as { cells: MatrixCell[] };
  return report.cells;
}

/** Copies examples/redis-jobs to the temp dir and installs it from the tarballs; once per run. */
let installedExample: Promise<string> | undefined;
function exampleProject(): Promise<string> {
  installedExample ??= (async () => {
    const dir = join(work, 'redis-jobs');
    // Only the project's own files: no node_modules or reports from a run inside the repo.
    const skip = new Set(['node_modules', 'reports', '.faultline']);
    await cp(EXAMPLE, dir, { recursive: true, filter: (src) => !skip.has(relative(EXAMPLE, src).split('/')[0] ?? '') });
    // Exactly the example's own dependencies, as a user of the registry would install them.
    const declared = await useTarballs(dir);
    expect(Object.keys(declared.devDependencies ?? {}).filter((name) => name.startsWith('@faultline/'))).toEqual([
      '@faultline/cli',
      '@faultline/crash',
      '@faultline/faults',
      '@faultline/netfaults',
      '@faultline/vitest',
    ]);
    await npmInstall('redis-jobs: npm install', dir);
    expect(existsSync(join(dir, 'node_modules', '.bin', 'faultline')), 'npm linked the faultline bin').toBe(true);
    return dir;
  })();
  return installedExample;
}

/** The l3 backend is pinned so the runs do not depend on a container engine being around. */
const EMBEDDED = { FAULTLINE_L3_BACKEND: 'embedded' };

/**
 * One protection of the example taken out (its source edited in the temp copy), the issue it
 * protects, and the layers whose cells must turn red. `find` must match the example's source
 * exactly: when the source changes, this list must follow, or the check fails loudly.
 */
interface Break {
  name: string;
  issue: string;
  layers: string;
  file: string;
  edits: Array<[find: string, replace: string]>;
}

const BREAKS: Break[] = [
  {
    name: 'no per-command deadline',
    issue: 'command-timeout',
    layers: 'l1,l3',
    file: 'src/redis.ts',
    edits: [['call: () => Promise<T>): Promise<T> {', 'call: () => Promise<T>): Promise<T> {\n  ms = 600_000;']],
  },
  {
    name: "ioredis' defaults (offline queue, 20 retries per command)",
    issue: 'connection-reset',
    layers: 'l3',
    file: 'src/redis.ts',
    edits: [
      ['    enableOfflineQueue: false,\n', ''],
      ['    maxRetriesPerRequest: 0,\n', ''],
    ],
  },
  {
    name: 'waits for Redis before it listens',
    issue: 'redis-outage',
    layers: 'l2',
    file: 'src/service.ts',
    edits: [
      [
        '  listen(): Promise<string> {\n',
        "  async listen(): Promise<string> {\n    await new Promise((ready) => this.redis.once('ready', ready));\n",
      ],
    ],
  },
  {
    name: 'a claim pops the job (BRPOP) instead of moving it',
    issue: 'claim-durability',
    layers: 'l1,l2',
    file: 'src/store.ts',
    edits: [
      [
        "blocking.blmove(queue, processing, 'RIGHT', 'LEFT', waitMs / 1_000)",
        'blocking.brpop(queue, waitMs / 1_000).then((popped) => popped?.[1] ?? null)',
      ],
    ],
  },
  {
    name: 'no signal handler',
    issue: 'sig-term',
    layers: 'l2',
    file: 'src/main.ts',
    edits: [["process.on('SIGTERM', onSignal);\nprocess.on('SIGINT', onSignal);\n", '']],
  },
];

async function withBreak<T>(dir: string, broken: Break, body: () => Promise<T>): Promise<T> {
  const file = join(dir, broken.file);
  const original = await readFile(file, 'utf8');
  let edited = original;
  for (const [find, replace] of broken.edits) {
    expect(edited.includes(find), `${broken.name}: ${broken.file} no longer contains ${JSON.stringify(find)}`).toBe(
      true,
    );
    edited = edited.replace(find, replace);
  }
  await writeFile(file, edited);
  try {
    return await body();
  } finally {
    await writeFile(file, original);
  }
}

describe('faultline from packed tarballs, outside this repository', () => {
  test('examples/redis-jobs: validate, run and gate pass, every required cell covered', async () => {
    const dir = await exampleProject();
    await ok('redis-jobs: faultline validate', 'npx', ['--no', 'faultline', 'validate'], dir, MINUTE);
    const ran = await run('npx', ['--no', 'faultline', 'run'], dir, 10 * MINUTE, plainEnv(EMBEDDED));
    timings.push(['redis-jobs: faultline run', ran.ms]);
    expect(ran.code, `faultline run exited ${ran.code ?? ran.signal}\n${ran.output}\n${failuresIn(dir)}`).toBe(0);
    await ok('redis-jobs: faultline gate', 'npx', ['--no', 'faultline', 'gate'], dir, MINUTE);

    const required = (await cellsOf(dir)).filter((cell) => cell.required);
    const byCell = required.map((c) => `${c.issue}×${c.layer}: ${c.state}${c.reason ? ` (${c.reason})` : ''}`);
    expect(required.length, byCell.join('\n')).toBe(8);
    for (const cell of required) {
      expect(cell.state, byCell.join('\n')).toBe('covered');
      expect(cell.evidence.length, `${cell.issue}×${cell.layer} has no evidence`).toBeGreaterThan(0);
    }
    expect(new Set(required.map((cell) => cell.layer))).toEqual(new Set(['l1', 'l2', 'l3']));
  });

  test('examples/redis-jobs: the cells of an issue turn red when its protection is taken out', async () => {
    const dir = await exampleProject();
    for (const broken of BREAKS) {
      await withBreak(dir, broken, async () => {
        const args = ['--no', 'faultline', 'run', '--layer', broken.layers, '--issue', broken.issue];
        const ran = await run('npx', args, dir, 5 * MINUTE, plainEnv(EMBEDDED));
        timings.push([`honesty: ${broken.issue}`, ran.ms]);
        expect(ran.code, `${broken.name}: the run must fail\n${ran.output}`).toBe(1);
        const gate = await run('npx', ['--no', 'faultline', 'gate', '--layer', broken.layers], dir, MINUTE);
        expect(gate.code, `${broken.name}: the gate must fail\n${gate.output}`).toBe(1);
      });
      const layers = broken.layers.split(',');
      const cells = (await cellsOf(dir)).filter((cell) => cell.issue === broken.issue && layers.includes(cell.layer));
      const states = cells.map((cell) => `${cell.layer}: ${cell.state}${cell.reason ? ` (${cell.reason})` : ''}`);
      expect(
        cells.map((cell) => `${cell.layer}: ${cell.state}`),
        `${broken.name} (${broken.issue}): ${states.join(', ')}`,
      ).toEqual(layers.map((layer) => `${layer}: failed`));
    }
  });

  test('a new project: npm init, install, faultline init, faultline run --gate passes', async () => {
    const dir = join(work, 'fresh');
    await mkdir(dir);
    await ok('fresh: npm init -y', 'npm', ['init', '-y'], dir, MINUTE);
    const rootPkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    // The README's `npm i -D @faultline/cli @faultline/vitest @faultline/faults vitest`.
    const readme = ['@faultline/cli', '@faultline/vitest', '@faultline/faults'];
    await useTarballs(dir, {
      ...Object.fromEntries(readme.map((name) => [name, '*'])),
      vitest: rootPkg.devDependencies.vitest!,
    });
    await npmInstall('fresh: npm install', dir);

    const init = await ok('fresh: faultline init', 'npx', ['--no', 'faultline', 'init'], dir, MINUTE);
    for (const file of ['matrix.yaml', '.github/workflows/resilience.yml']) {
      expect(existsSync(join(dir, file)), `faultline init wrote ${file}\n${init.output}`).toBe(true);
    }
    // `npm init -y` makes a CommonJS package, where the config is an .mts file.
    const configs = ['vitest.config.ts', 'vitest.config.mts'].filter((f) => existsSync(join(dir, 'test', 'l1', f)));
    expect(configs, `faultline init wrote a vitest config in test/l1\n${init.output}`).toHaveLength(1);
    const gated = await run('npx', ['--no', 'faultline', 'run', '--gate'], dir, 5 * MINUTE);
    timings.push(['fresh: faultline run --gate', gated.ms]);
    expect(
      gated.code,
      `faultline run --gate exited ${gated.code ?? gated.signal}\n${gated.output}\n${failuresIn(dir)}`,
    ).toBe(0);
    const required = (await cellsOf(dir)).filter((cell) => cell.required);
    expect(required.length).toBeGreaterThan(0);
    for (const cell of required) expect(cell.state).toBe('covered');
  });
});
