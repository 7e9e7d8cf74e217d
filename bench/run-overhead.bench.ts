// Figure: wall time of `faultline run --layer l1` vs a plain `vitest run` of the same project
// (budget: <= 1.10x). Both are whole commands started fresh, alternated, median of N.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchFigure, figure, median } from './figure.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'packages', 'cli', 'bin', 'faultline.js');
const vitestBin = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const RUNS = 5;

function time(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): number {
  const t = performance.now();
  execFileSync(cmd, args, { cwd, stdio: 'ignore', env: { ...process.env, ...env } });
  return performance.now() - t;
}

export default async function runOverhead(): Promise<BenchFigure[]> {
  // The real l1 suite when it has tests; the runner's demo workspace otherwise.
  const suite = join(root, 'suites', 'l1');
  const hasSuite =
    existsSync(join(suite, 'test')) && readdirSync(join(suite, 'test')).some((f) => f.endsWith('.test.ts'));
  const matrix = hasSuite ? join(root, 'matrix.yaml') : join(root, 'packages/runner/test/fixtures/demo/matrix.yaml');
  const project = hasSuite ? suite : join(root, 'packages/runner/test/fixtures/demo/suites/demo-l1');
  const results = mkdtempSync(join(tmpdir(), 'faultline-run-bench-'));
  const plain: number[] = [];
  const ours: number[] = [];
  const env = { FAULTLINE_MATRIX: matrix, CI: '1' };
  time(process.execPath, [vitestBin, 'run'], project, env); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    plain.push(time(process.execPath, [vitestBin, 'run', '--reporter=dot'], project, env));
    ours.push(
      time(
        process.execPath,
        [cli, 'run', '--layer', 'l1', '--seed', '1', '--matrix', matrix, '--results', results],
        root,
        env,
      ),
    );
  }
  const ratio = median(ours) / median(plain);
  return [
    figure(
      `run --layer l1 (${hasSuite ? 'suite-l1' : 'demo suite'})`,
      'ms',
      { label: 'vitest run', value: median(plain) },
      { label: 'faultline run', value: median(ours) },
      { budget: '<= 1.10x', ok: ratio <= 1.1 },
    ),
  ];
}
