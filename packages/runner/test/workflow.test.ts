import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const file = join(import.meta.dirname, '..', '..', '..', '.github', 'workflows', 'resilience.yml');
const text = readFileSync(file, 'utf8');

interface Workflow {
  jobs: Record<
    string,
    { needs?: string | string[]; steps: Array<{ uses?: string; run?: string; with?: Record<string, unknown> }> }
  >;
}

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
    expect(Object.keys(wf.jobs)).toEqual(expect.arrayContaining(['tests', 'l1', 'l2', 'l3', 'gate']));
    const runs = (job: string) => wf.jobs[job]!.steps.map((s) => s.run ?? '').join('\n');
    expect(runs('l2')).toContain('--shard ${{ matrix.shard }}/2');
    expect(runs('l3')).toContain('--backend containers');
    const names = Object.values(wf.jobs).flatMap((j) =>
      j.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact')).map((s) => String(s.with?.name)),
    );
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('results-l2-shard-${{ matrix.shard }}');
    expect(wf.jobs.gate!.needs).toEqual(['l1', 'l2', 'l3']);
    expect(runs('gate')).toMatch(/faultline merge --from artifacts[\s\S]*faultline gate[\s\S]*GITHUB_STEP_SUMMARY/);
  });
});
