import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const file = join(import.meta.dirname, '..', '..', '..', '.github', 'workflows', 'resilience.yml');
const text = readFileSync(file, 'utf8');

interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}

interface Workflow {
  env?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': string | boolean };
  jobs: Record<string, { if?: string; env?: Record<string, string>; needs?: string | string[]; steps: Step[] }>;
}

const gateAction = parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', 'actions', 'gate', 'action.yml'), 'utf8'),
) as { runs: { steps: Step[] } };

/** A job's steps with the reusable gate Action's steps in place of its `uses: ./actions/gate`. */
const expand = (steps: Step[]) => steps.flatMap((s) => (s.uses === './actions/gate' ? gateAction.runs.steps : [s]));

describe('.github/workflows/resilience.yml', () => {
  test('is a valid GitHub Actions workflow (schema check, offline)', () => {
    const state = validateWorkflow(text);
    expect(state.errors).toEqual([]);
  });

  test('the validator does catch a broken workflow', () => {
    const broken = text.replace('runs-on: ubuntu-latest', 'runs-on: [ubuntu-latest');
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
    const unknownKey = text.replace('timeout-minutes: 30', 'timeout-minuets: 30');
    expect(validateWorkflow(unknownKey).errors.length).toBeGreaterThan(0);
  });

  test('a job per layer, l2 sharded, l3 on containers, artifacts uniquely named, gate merges them', () => {
    const wf = parse(text) as Workflow;
    expect(Object.keys(wf.jobs)).toEqual(expect.arrayContaining(['tests', 'l1', 'l2', 'l3', 'verify', 'gate']));
    const runs = (job: string) =>
      expand(wf.jobs[job]!.steps)
        .map((s) => s.run ?? '')
        .join('\n');
    expect(runs('l2')).toContain('--shard "$SHARD/2"');
    expect(runs('l3')).toContain('--backend containers');
    const names = Object.values(wf.jobs).flatMap((j) =>
      j.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact')).map((s) => String(s.with?.name)),
    );
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('results-l2-shard-${{ matrix.shard }}');
    expect(wf.jobs.gate!.needs).toEqual(['l1', 'l2', 'l3', 'verify']);
    // Each layer's breaks in a job of its own; the gate's merge combines their verify.json files.
    expect(runs('verify')).toContain('faultline verify --layer "$LAYER"');
    expect(names).toContain('results-verify-${{ matrix.layer }}');
    expect(wf.jobs.gate!.steps.find((s) => s.uses === './actions/gate')?.with).toEqual({ results: 'artifacts' });
    expect(runs('gate')).toMatch(
      /faultline merge [^\n]*--from "\$RESULTS"[\s\S]*faultline gate[\s\S]*GITHUB_STEP_SUMMARY/,
    );
  });

  // Issue 21, item 10.
  const wf = parse(text) as Workflow;
  const steps = Object.entries(wf.jobs).flatMap(([job, j]) => j.steps.map((step) => ({ job, step })));

  test('no always(): the gate and its report steps run unless the run was cancelled', () => {
    expect(text).not.toMatch(/always\(\)/);
    expect(wf.jobs.gate!.if).toBe('${{ !cancelled() }}');
  });

  test('cancel-in-progress only for refs other than main', () => {
    expect(wf.concurrency!['cancel-in-progress']).toBe("${{ github.ref != 'refs/heads/main' }}");
  });

  test('no expression reaches a shell: the seed is validated as an integer and passed through env', () => {
    for (const { job, step } of steps) {
      expect(step.run ?? '', `${job}: ${step.run}`).not.toMatch(/\$\{\{/);
    }
    const pick = wf.jobs.seed!.steps.find((s) => s.id === 'seed')!;
    expect(pick.env).toEqual({ INPUT_SEED: '${{ github.event.inputs.seed }}' });
    expect(pick.run).toMatch(/\^\[0-9\]\+\$/);
    expect(pick.run).toMatch(/exit 1/);
    for (const job of ['l1', 'l2', 'l3']) {
      const run = wf.jobs[job]!.steps.find((s) => s.run?.includes('faultline run'))!;
      expect(run.env?.SEED).toBe('${{ needs.seed.outputs.seed }}');
      expect(run.run).toContain('--seed "$SEED"');
    }
    expect(wf.jobs.l2!.steps.find((s) => s.run?.includes('faultline run'))!.env?.SHARD).toBe('${{ matrix.shard }}');
  });

  test('the seed check accepts integers and refuses anything else (run in bash)', () => {
    const pick = wf.jobs.seed!.steps.find((s) => s.id === 'seed')!;
    const check = (seed: string) => {
      const out = join(mkdtempSync(join(tmpdir(), 'faultline-wf-')), 'out');
      const r = spawnSync('bash', ['-e', '-c', pick.run!], {
        env: { ...process.env, INPUT_SEED: seed, GITHUB_OUTPUT: out },
      });
      return { code: r.status, out: existsSync(out) ? readFileSync(out, 'utf8') : '' };
    };
    expect(check('42')).toEqual({ code: 0, out: 'seed=42\n' });
    expect(check('').out).toMatch(/^seed=\d+\n$/);
    for (const bad of ['1; touch /tmp/pwned', '$(id)', '12a', '-3']) expect(check(bad).code, bad).not.toBe(0);
  });

  test('every layer job shares one run id; a missing shard still gives a report that names it', () => {
    for (const job of ['l1', 'l2', 'l3']) expect(wf.jobs[job]!.env?.FAULTLINE_RUN_ID).toBe('${{ github.run_id }}');
    // Not workflow-wide: the project's own tests must not share one run id.
    expect(wf.env?.FAULTLINE_RUN_ID).toBeUndefined();
    const gate = expand(wf.jobs.gate!.steps);
    const merge = gate.find((s) => s.run?.includes('faultline merge'))!;
    expect(merge.run).toContain('--allow-partial');
    const summary = gate.find((s) => s.run?.includes('GITHUB_STEP_SUMMARY'))!;
    expect(summary.if).toBe('${{ !cancelled() }}');
    expect(gate.find((s) => s.id === 'gate')!.if).toBe('${{ !cancelled() }}');
    expect(summary.run).toMatch(/matrix\.md/);
  });
});
