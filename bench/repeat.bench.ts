// Figure: wall time per attempt of `faultline run --repeat N` vs N separate `faultline run --seed <attempt seed>`
// invocations of the same attempts (budget: <= 1.0x). Whole commands started fresh, alternated, median of RUNS.
// The runner's demo workspace (matrix-repeat.yaml: one file, two tests) keeps the suite itself small, so the
// figure is the per-attempt overhead the two ways pay: CLI start, matrix load and plan, results write.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attemptSeeds } from '../packages/runner/src/repeat.ts';
import { type BenchFigure, figure, median } from './figure.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'packages', 'cli', 'bin', 'faultline.js');
const matrix = join(root, 'packages/runner/test/fixtures/demo/matrix-repeat.yaml');
const ATTEMPTS = 5;
const RUNS = 3;
const SEED = 7;

function time(args: string[], env: Record<string, string>): number {
  const t = performance.now();
  // A failing gate or test is not expected here (no DEMO_FAIL_SEEDS), but the time counts either way.
  try {
    execFileSync(process.execPath, [cli, ...args], { cwd: root, stdio: 'ignore', env: { ...process.env, ...env } });
  } catch {}
  return performance.now() - t;
}

export default async function repeatOverhead(): Promise<BenchFigure[]> {
  const results = mkdtempSync(join(tmpdir(), 'faultline-repeat-bench-'));
  const env = { CI: '1', DEMO_STATE_DIR: mkdtempSync(join(tmpdir(), 'faultline-repeat-bench-state-')) };
  const common = ['run', '--layer', 'l1', '--matrix', matrix, '--results', results];
  const separate: number[] = [];
  const repeated: number[] = [];
  time([...common, '--seed', String(SEED)], env); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    separate.push(
      attemptSeeds(SEED, ATTEMPTS).reduce((sum, s) => sum + time([...common, '--seed', String(s)], env), 0),
    );
    repeated.push(time([...common, '--seed', String(SEED), '--repeat', String(ATTEMPTS)], env));
  }
  const ratio = median(repeated) / median(separate);
  return [
    figure(
      `run --repeat ${ATTEMPTS}, per attempt (demo suite)`,
      'ms',
      { label: `${ATTEMPTS} × faultline run`, value: median(separate) / ATTEMPTS },
      { label: `faultline run --repeat ${ATTEMPTS}`, value: median(repeated) / ATTEMPTS },
      { budget: '<= 1.0x', ok: ratio <= 1.0 },
    ),
  ];
}
