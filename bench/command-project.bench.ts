// Figure: a command project run through faultline vs the bare command (budget: <= 1.05x wall time).
// The machine is shared: each pair runs back to back (which goes first alternates); the ratio is of the
// medians, as in the other figures, and the note adds the median of the pairs' own ratios.
// The project is examples/rust-kv's crash test (`cargo test --test crash` with libtest JSON: cargo
// start, 3 writer processes SIGKILLed in 2 waves). Measured two ways, alternated, median of RUNS:
//   1. executeLayer (what `faultline run` does per layer: scratch dir, process group, evidence file,
//      results read, claims checked, evidence attributed, attempt reaped) vs the same command spawned
//      bare through /bin/sh with its stdout to a file: the overhead of a command project itself;
//   2. the whole `faultline run --layer l2` CLI (plus Node start, matrix load, results written) vs the
//      bare command: what a user sees, CLI start-up included (a fixed cost; see the cold-start figures).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadMatrix } from '@faultline/matrix';
import { executeLayer, planRun, silentProgress } from '@faultline/runner';
import { type BenchFigure, figure, median } from './figure.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'packages', 'cli', 'bin', 'faultline.js');
const example = join(root, 'examples', 'rust-kv');
const RUNS = 21;

export default async function commandProject(): Promise<BenchFigure[]> {
  const cargoBin = join(homedir(), '.cargo', 'bin');
  const env = {
    ...process.env,
    PATH: [...(existsSync(cargoBin) ? [cargoBin] : []), process.env.PATH ?? ''].join(delimiter),
    CI: '1',
  };
  Object.assign(process.env, { PATH: env.PATH });
  const scratch = mkdtempSync(join(tmpdir(), 'faultline-command-bench-'));
  const loaded = loadMatrix(join(example, 'matrix.yaml'));
  const plan = planRun(loaded).layers.find((l) => l.layer === 'l2');
  const spec = plan?.projects[0]?.command;
  if (!plan || !spec) throw new Error('examples/rust-kv/matrix.yaml has no l2 command project');
  const bareEnv = { ...env, ...spec.env };
  const bare = () => {
    const t = performance.now();
    const r = spawnSync('/bin/sh', ['-c', `${spec.command} > ${join(scratch, 'bare.json')}`], {
      cwd: example,
      env: bareEnv,
      // stderr where faultline passes the command's stderr through to: the same sink for both.
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`bare command failed: ${r.status}`);
    return performance.now() - t;
  };
  const layer = async () => {
    const t = performance.now();
    const results = await executeLayer(plan, {
      root: example,
      matrixFile: loaded.file,
      seed: 1,
      runId: 'bench',
      matrixDigest: 'sha256:bench',
      progress: silentProgress,
      runDir: join(scratch, 'run'),
    });
    if (results.tests.length === 0 || results.errors.length) throw new Error('the command project did not run');
    return performance.now() - t;
  };
  const wholeCli = () => {
    const t = performance.now();
    const r = spawnSync(
      process.execPath,
      [cli, 'run', '--layer', 'l2', '--seed', '1', '--results', join(scratch, 'results')],
      { cwd: example, env, stdio: 'ignore' },
    );
    if (r.status !== 0) throw new Error(`faultline run failed: ${r.status}`);
    return performance.now() - t;
  };
  bare(); // builds the test binary once: every measured run starts from a built crate
  const plain: number[] = [];
  const ours: number[] = [];
  const cliRuns: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2) {
      plain.push(bare());
      ours.push(await layer());
    } else {
      ours.push(await layer());
      plain.push(bare());
    }
    if (i % 3 === 0) cliRuns.push(wholeCli());
  }
  rmSync(scratch, { recursive: true, force: true });
  const ratio = median(ours) / median(plain);
  const paired = median(ours.map((o, i) => o / plain[i]!));
  return [
    figure(
      'command project (rust-kv crash test) through executeLayer vs the bare command',
      'ms',
      { label: 'cargo test (bare)', value: median(plain) },
      { label: 'faultline executeLayer', value: median(ours) },
      {
        budget: '<= 1.05x',
        ok: ratio <= 1.05,
        note: `median of ${RUNS}; median of the paired runs' own ratios ${paired.toFixed(2)}x`,
      },
    ),
    figure(
      'the same through the whole CLI (faultline run --layer l2, Node start-up included)',
      'ms',
      { label: 'cargo test (bare)', value: median(plain) },
      { label: 'faultline run', value: median(cliRuns) },
      { note: 'CLI start-up is a fixed cost per run, not per project' },
    ),
  ];
}
