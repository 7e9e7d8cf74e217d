// Figures: the CLI's fixed cost per command (issue #17), each whole command started fresh against what
// it wraps, in one run: `faultline --version` and `faultline validate` vs `node -e 0` (Node's own
// start-up), and `faultline run --layer l2` on examples/rust-kv vs its bare test command in a session
// of its own (`setsid -w`, as faultline runs it). Rotated rounds, median of RUNS. Beside them,
// `validate` with Node's compile cache off vs on (warm), the reason the bin enables it, and the matrix
// package's share (its import and first loadMatrix, timed inside a fresh process).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadMatrix, planRun } from '@faultline/matrix';
import { type BenchFigure, figure, median } from './figure.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'packages', 'cli', 'bin', 'faultline.js');
const example = join(root, 'examples', 'rust-kv');
const RUNS = 15;

/** A user's shell: no loader or options of this run; cargo on PATH; plain progress lines. */
function userEnv(cache: string): NodeJS.ProcessEnv {
  const cargoBin = join(homedir(), '.cargo', 'bin');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['NODE_OPTIONS', 'NODE_DISABLE_COMPILE_CACHE'].includes(k)),
  );
  return {
    ...env,
    PATH: [...(existsSync(cargoBin) ? [cargoBin] : []), process.env.PATH ?? ''].join(delimiter),
    CI: '1',
    NODE_COMPILE_CACHE: cache,
  };
}

// The matrix package's share of validate and run, timed inside a fresh process (compile cache on, as the
// bin has it): importing @faultline/matrix, then the first loadMatrix (first YAML parse, first zod parse).
const MATRIX_SHARE = `
const { enableCompileCache } = await import('node:module');
enableCompileCache(process.env.NODE_COMPILE_CACHE);
let t = performance.now();
const { loadMatrix } = await import(process.env.MATRIX_DIST);
const importMs = performance.now() - t;
t = performance.now();
loadMatrix('matrix.yaml');
console.log(JSON.stringify({ importMs, loadMs: performance.now() - t }));`;

function matrixShare(env: NodeJS.ProcessEnv): { importMs: number; loadMs: number } {
  const dist = pathToFileURL(join(root, 'packages', 'matrix', 'dist', 'index.js')).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', MATRIX_SHARE], {
    cwd: example,
    env: { ...env, MATRIX_DIST: dist },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`timing @faultline/matrix failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { importMs: number; loadMs: number };
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(command, args, { cwd: example, env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return performance.now() - t;
}

export default async function cliStartup(): Promise<BenchFigure[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'faultline-startup-bench-'));
  const env = userEnv(join(scratch, 'compile-cache'));
  const noCache = { ...env, NODE_DISABLE_COMPILE_CACHE: '1' };
  const spec = planRun(loadMatrix(join(example, 'matrix.yaml'))).layers.find((l) => l.layer === 'l2')?.projects[0]
    ?.command;
  if (!spec) throw new Error('examples/rust-kv/matrix.yaml has no l2 command project');
  const node = process.execPath;
  const bareArgs = ['-w', '/bin/sh', '-c', `${spec.command} > ${join(scratch, 'bare.json')}`];
  const runArgs = [cli, 'run', '--layer', 'l2', '--seed', '1', '--results', join(scratch, 'results')];
  const variants: Record<string, () => number> = {
    node: () => timed(node, ['-e', '0'], env),
    version: () => timed(node, [cli, '--version'], env),
    validate: () => timed(node, [cli, 'validate'], env),
    validateNoCache: () => timed(node, [cli, 'validate'], noCache),
    bare: () => timed('setsid', bareArgs, { ...env, ...spec.env }),
    run: () => timed(node, runArgs, env),
    matrix: () => {
      const share = matrixShare(env);
      samples.matrixLoad!.push(share.loadMs);
      return share.importMs;
    },
  };
  // Builds the test binary and fills the compile cache: every measured run starts warm.
  variants.bare!();
  variants.run!();
  matrixShare(env);
  const samples: Record<string, number[]> = Object.fromEntries(
    [...Object.keys(variants), 'matrixLoad'].map((k) => [k, []]),
  );
  const names = Object.keys(variants);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      samples[name]!.push(variants[name]!());
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  const m = (name: string) => median(samples[name]!);
  const note = `median of ${RUNS}, rotated`;
  return [
    figure(
      'faultline --version vs node -e 0',
      'ms',
      { label: 'node -e 0', value: m('node') },
      {
        label: 'faultline --version',
        value: m('version'),
      },
      { note },
    ),
    figure(
      'faultline validate (examples/rust-kv) vs node -e 0',
      'ms',
      { label: 'node -e 0', value: m('node') },
      { label: 'faultline validate', value: m('validate') },
      { note: `${note}; +${(m('validate') - m('node')).toFixed(0)} ms` },
    ),
    figure(
      'faultline validate, compile cache off vs on (warm)',
      'ms',
      { label: 'NODE_DISABLE_COMPILE_CACHE=1', value: m('validateNoCache') },
      { label: 'compile cache', value: m('validate') },
      { note },
    ),
    figure(
      '@faultline/matrix in a fresh process (examples/rust-kv): import vs the first loadMatrix after it',
      'ms',
      { label: 'import', value: m('matrix') },
      { label: 'first loadMatrix', value: m('matrixLoad') },
      { note: `${note}; together ${(m('matrix') + m('matrixLoad')).toFixed(0)} ms` },
    ),
    figure(
      'faultline run --layer l2 (examples/rust-kv, whole CLI) vs the bare command in its own session',
      'ms',
      { label: 'setsid cargo test (bare)', value: m('bare') },
      { label: 'faultline run', value: m('run') },
      { note: `${note}; +${(m('run') - m('bare')).toFixed(0)} ms` },
    ),
  ];
}
