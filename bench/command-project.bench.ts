// Figure: a command project run through faultline vs the bare command (budget: <= 1.05x wall time).
// The project is examples/rust-kv's crash test (`cargo test --test crash` with libtest JSON: cargo
// start, 3 writer processes SIGKILLed in 2 waves). Three ways, rotated so each sees the same load,
// median of RUNS:
//   - faultline's executeLayer (what `faultline run` does per layer: scratch dir, the command in its own
//     process group, evidence file, results read, claims checked, evidence attributed, attempt reaped);
//   - the bare command in its own session (`setsid -w`), which a process group of its own needs in Node
//     (detached: setsid): faultline's own overhead, the budgeted figure;
//   - the bare command in the launcher's session: on a loaded Linux machine with autogroup scheduling a
//     new session is scheduled as a group of its own, which costs it CPU share against busy sessions
//     (nothing when the machine is idle); shown beside;
//   - and, every third round, the whole `faultline run --layer l2` CLI (Node start-up, matrix load,
//     results written), a fixed cost per run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadMatrix, planRun } from '@faultline/matrix';
import { executeLayer, silentProgress } from '@faultline/runner';
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
  const bare = (ownSession: boolean) => {
    const t = performance.now();
    const argv = ['/bin/sh', '-c', `${spec.command} > ${join(scratch, 'bare.json')}`];
    const r = spawnSync(ownSession ? 'setsid' : argv[0]!, ownSession ? ['-w', ...argv] : argv.slice(1), {
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
  bare(false); // builds the test binary once: every measured run starts from a built crate
  const sameSession: number[] = [];
  const ownSession: number[] = [];
  const ours: number[] = [];
  const cliRuns: number[] = [];
  const variants = [
    async () => sameSession.push(bare(false)),
    async () => ownSession.push(bare(true)),
    async () => ours.push(await layer()),
  ];
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < variants.length; k++) await variants[(i + k) % variants.length]!();
    if (i % 3 === 0) cliRuns.push(wholeCli());
  }
  rmSync(scratch, { recursive: true, force: true });
  const ratio = median(ours) / median(ownSession);
  return [
    figure(
      'command project (rust-kv crash test) through executeLayer vs the bare command in its own session',
      'ms',
      { label: 'setsid cargo test (bare)', value: median(ownSession) },
      { label: 'faultline executeLayer', value: median(ours) },
      { budget: '<= 1.05x', ok: ratio <= 1.05, note: `median of ${RUNS}, rotated` },
    ),
    figure(
      "the same vs the bare command in the launcher's session",
      'ms',
      { label: 'cargo test (bare)', value: median(sameSession) },
      { label: 'faultline executeLayer', value: median(ours) },
      { note: 'a session of its own is scheduled as its own group (autogroup) on a loaded machine' },
    ),
    figure(
      'the same through the whole CLI (faultline run --layer l2, Node start-up included)',
      'ms',
      { label: 'cargo test (bare)', value: median(sameSession) },
      { label: 'faultline run', value: median(cliRuns) },
      { note: 'CLI start-up is a fixed cost per run, not per project' },
    ),
  ];
}
