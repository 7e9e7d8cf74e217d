import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateAction } from '@action-validator/core';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import type { MatrixReport } from '../src/index.ts';
import { demo, faultline } from './helpers.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
const file = join(repo, 'actions', 'gate', 'action.yml');
const text = readFileSync(file, 'utf8');

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
const action = parse(text) as { inputs: Record<string, { default?: string }>; runs: { steps: Step[] } };

/** A directory with `npx` and `faultline` shims that run this repository's built CLI. */
function shims(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-shims-'));
  const cli = join(repo, 'packages', 'cli', 'bin', 'faultline.js');
  writeFileSync(join(dir, 'npx'), '#!/bin/sh\nexec "$@"\n');
  writeFileSync(join(dir, 'faultline'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
  chmodSync(join(dir, 'npx'), 0o755);
  chmodSync(join(dir, 'faultline'), 0o755);
  return dir;
}

/** Runs the action's `run` steps as bash would, for one event; `uses` steps are the caller's to fake. */
function runSteps(cwd: string, event: 'pull_request' | 'push', inputs: Record<string, string> = {}) {
  const output = join(cwd, 'github-output');
  const summary = join(cwd, 'step-summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const values = {
    ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ''])),
    ...inputs,
  };
  const bin = shims();
  for (const step of action.runs.steps) {
    if (!step.run) continue;
    if (step.if?.includes("github.event_name == 'pull_request'") && event !== 'pull_request') continue;
    if (step.if?.includes("github.event_name == 'push'") && event !== 'push') continue;
    if (step.name === 'fail when the gate failed') continue;
    const env = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([k, v]) => [
        k,
        v.replace(/\$\{\{ inputs\.([\w-]+) \}\}/, (_, n: string) => values[n] ?? ''),
      ]),
    );
    const r = spawnSync('bash', ['-e', '-c', step.run], {
      cwd,
      encoding: 'utf8',
      env: {
        ...process.env,
        ...env,
        PATH: `${bin}:${process.env.PATH}`,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
        GITHUB_ACTIONS: 'true',
      },
    });
    expect(r.status, `${step.name ?? step.id}: ${r.stderr}`).toBe(0);
  }
  const outputs = Object.fromEntries(
    readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
  return { outputs, summary: readFileSync(summary, 'utf8') };
}

describe('actions/gate (the reusable Action)', () => {
  test('is a valid action (schema check, offline); every input reaches the shell through env', () => {
    expect(validateAction(text).errors).toEqual([]);
    for (const step of action.runs.steps) expect(step.run ?? '').not.toContain('${{');
    expect(validateAction(text.replace('using: composite', 'using: compost')).errors.length).toBeGreaterThan(0);
  });

  test('its steps, run as a script: merge, gate, summary; on a pull request the diff against the base', async () => {
    const run = await faultline(['run', '--matrix', join(demo, 'matrix.yaml'), '--layer', 'l1']);
    expect(run.code).toBe(0);
    const work = mkdtempSync(join(tmpdir(), 'faultline-action-'));
    cpSync(demo, work, {
      recursive: true,
      filter: (src) => !src.includes('node_modules') && !src.includes('.faultline'),
    });
    mkdirSync(join(work, 'artifacts', 'results-l1'), { recursive: true });
    cpSync(join(run.dir, 'results', 'l1.json'), join(work, 'artifacts', 'results-l1', 'l1.json'));

    // A push: the gate (l2 and l3 did not run: it fails), the summary, and the results kept for pull requests.
    const push = runSteps(work, 'push');
    expect(push.outputs.passed).toBe('false');
    expect(push.summary).toContain('# faultline matrix');
    const saved = JSON.parse(readFileSync(join(work, '.faultline', 'base', 'matrix.json'), 'utf8')) as MatrixReport;

    // A pull request whose base had a cell covered that is now worse: the diff shows the regression.
    const covered = saved.cells.find((c) => c.state !== 'covered' && c.layer === 'l2')!;
    const base: MatrixReport = {
      ...saved,
      cells: saved.cells.map((c) => (c === covered ? { ...c, state: 'covered' } : c)),
    };
    writeFileSync(join(work, '.faultline', 'base', 'matrix.json'), JSON.stringify(base));
    const pr = runSteps(work, 'pull_request');
    expect(pr.summary).toContain('## Changes against the base branch');
    expect(pr.summary).toContain(`- **${covered.issue} × l2**: covered → ${covered.state}`);
    expect(pr.outputs.code).toBe('1');
  });
});
