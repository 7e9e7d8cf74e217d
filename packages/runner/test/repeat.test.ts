import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerResults, TestRecord } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import type { MatrixReport } from '../src/index.ts';
import { attemptSeed, attemptSeeds, MAX_REPEAT, mergeAttempts } from '../src/index.ts';
import { demo, faultline, readJson } from './helpers.ts';

const matrix = join(demo, 'matrix-repeat.yaml');

describe('attempt seeds', () => {
  test('attempt 1 is the run seed; the others are derived, distinct, in range, and the same every time', () => {
    expect(attemptSeed(11, 1)).toBe(11);
    const seeds = attemptSeeds(11, MAX_REPEAT);
    expect(new Set(seeds).size).toBe(MAX_REPEAT);
    for (const s of seeds) expect(s >= 1 && s <= 2 ** 31 - 2 && Number.isInteger(s)).toBe(true);
    expect(attemptSeeds(11, 3)).toEqual([11, attemptSeed(11, 2), attemptSeed(11, 3)]);
    expect(attemptSeed(2 ** 31 - 2, 7)).toBeLessThanOrEqual(2 ** 31 - 2);
    expect(attemptSeed(0, 2)).toBeGreaterThanOrEqual(1);
  });
});

describe('mergeAttempts', () => {
  const record = (state: TestRecord['state']): TestRecord => ({
    id: 'p:t.test.ts:x',
    project: 'p',
    file: 't.test.ts',
    line: 1,
    column: 1,
    name: 'x',
    fullName: 'x',
    tags: ['a'],
    state,
    durationMs: 1,
    retryCount: 0,
    flaky: false,
    evidence: [],
    errors: state === 'failed' ? [{ message: 'boom', stack: 'long stack' }] : [],
  });
  const layer = (states: Array<TestRecord['state'] | undefined>, seed: number): LayerResults => ({
    schema: 'faultline/results@1',
    layer: 'l1',
    run: {
      seed,
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:01.000Z',
      durationMs: 1000,
      capabilities: {},
      versions: {},
    },
    projects: [{ name: 'p', dir: 'p', tests: 1, durationMs: 5, outcome: 'completed' }],
    tests: states.filter((s) => s !== undefined).map(record),
    errors: [],
  });

  test('a test that passed and failed is flaky; every attempt is kept with its seed; a missing attempt did not run', () => {
    const merged = mergeAttempts([layer(['passed'], 1), layer(['failed'], 2), layer([undefined], 3)], [1, 2, 3]);
    expect(merged.run.repeat).toEqual({ count: 3, seeds: [1, 2, 3] });
    expect(merged.tests).toHaveLength(1);
    expect(merged.tests[0]).toMatchObject({ state: 'flaky', flaky: true, errors: [] });
    expect(merged.tests[0]?.attempts?.map((a) => [a.attempt, a.seed, a.state])).toEqual([
      [1, 1, 'passed'],
      [2, 2, 'failed'],
      [3, 3, 'not-run'],
    ]);
    expect(merged.tests[0]?.attempts?.[1]?.errors).toEqual([{ message: 'boom' }]);
    expect(merged.projects[0]).toMatchObject({ tests: 1, durationMs: 15 });
  });

  test('all attempts agreeing keep their state', () => {
    expect(mergeAttempts([layer(['failed'], 1), layer(['failed'], 2)], [1, 2]).tests[0]?.state).toBe('failed');
    expect(mergeAttempts([layer(['passed'], 1), layer(['passed'], 2)], [1, 2]).tests[0]?.state).toBe('passed');
  });
});

describe('run --repeat on a real vitest workspace', () => {
  test('--repeat takes 1 to 1000 attempts; anything else is a usage error that runs nothing', async () => {
    for (const bad of ['0', '1001', 'ten']) {
      const { code, err } = await faultline(['run', '--matrix', matrix, '--repeat', bad]);
      expect(code).toBe(2);
      expect(err).toMatch(/--repeat takes (1 to 1000 attempts|a whole number)/);
    }
  });

  test('with --shard: the shard runs every attempt; its results file holds them', async () => {
    const { code, dir } = await faultline(['run', '--matrix', matrix, '--repeat', '2', '--shard', '1/1'], {
      DEMO_STATE_DIR: mkdtempSync(join(tmpdir(), 'faultline-repeat-state-')),
    });
    expect(code).toBe(0);
    const shard = readJson<LayerResults>(join(dir, 'results', 'l1.1of1.json'));
    expect(shard.shard).toEqual({ index: 1, count: 1 });
    expect(shard.tests.map((t) => t.attempts?.length)).toEqual([2, 2]);
  }, 120_000);

  test('every attempt runs with its own seed; the cell failing for some seeds is flaky, with the seeds and the replay command', async () => {
    const seeds = attemptSeeds(11, 4);
    const failing = [seeds[1], seeds[3]];
    const state = mkdtempSync(join(tmpdir(), 'faultline-repeat-state-'));
    const { code, dir, out, err } = await faultline(
      ['run', '--matrix', matrix, '--seed', '11', '--repeat', '4', '--gate'],
      {
        DEMO_FAIL_SEEDS: failing.join(','),
        DEMO_STATE_DIR: state,
      },
    );
    expect(code).toBe(1);
    const l1 = readJson<LayerResults>(join(dir, 'results', 'l1.json'));
    expect(l1.run.repeat).toEqual({ count: 4, seeds });
    expect(err).toContain(`l1 Unit faults (attempt 2/4, seed ${seeds[1]}): running demo-repeat`);
    const seeded = l1.tests.find((t) => t.tags.includes('seeded'))!;
    expect(seeded.state).toBe('flaky');
    expect(seeded.attempts?.map((a) => a.state)).toEqual(['passed', 'failed', 'passed', 'failed']);
    const report = readJson<MatrixReport>(join(dir, 'reports', 'matrix.json'));
    const cell = report.cells.find((c) => c.issue === 'seeded')!;
    expect(cell).toMatchObject({
      state: 'flaky',
      attempts: {
        passed: 2,
        total: 4,
        failingSeeds: failing,
        replay: failing.map((s) => `faultline run --layer l1 --issue seeded --seed ${s}`),
      },
    });
    expect(out).toContain(`l1 seeded: flaky 2/4`);
    expect(out).toContain(`replay: faultline run --layer l1 --issue seeded --seed ${failing[0]}`);
    expect(out).toMatch(/seeded × l1 is flaky: passed 2\/4 attempts; failed with seeds/);
    const reports = join(dir, 'reports');
    const md = readFileSync(join(reports, 'matrix.md'), 'utf8');
    expect(md).toContain('🎲 flaky 2/4 |');
    expect(md).toContain(`replay: \`faultline run --layer l1 --issue seeded --seed ${failing[0]}\``);
    const junit = readFileSync(join(reports, 'junit', 'l1.xml'), 'utf8');
    expect(junit).toContain('<property name="attempts" value="2/4 passed"/>');
    expect(junit).toContain(`<property name="failing-seeds" value="${failing.join(' ')}"/>`);
    expect(readFileSync(join(reports, 'junit', 'matrix.xml'), 'utf8')).toContain(
      `<property name="replay.2" value="faultline run --layer l1 --issue seeded --seed ${failing[1]}"/>`,
    );
    expect(readFileSync(join(reports, 'matrix.html'), 'utf8')).toContain('"failingSeeds":[');
    // The replay command reproduces the failure: the attempt's seed is the test's FAULTLINE_SEED.
    const replay = await faultline(
      ['run', '--matrix', matrix, '--layer', 'l1', '--issue', 'seeded', '--seed', String(failing[0])],
      {
        DEMO_FAIL_SEEDS: failing.join(','),
        DEMO_STATE_DIR: state,
      },
    );
    expect(replay.code).toBe(1);
    expect(replay.out).toContain('1 test, 1 failed');
  }, 120_000);

  test('attempts are independent: a file left in the scratch dir and a detached daemon do not reach the next attempt', async () => {
    const state = mkdtempSync(join(tmpdir(), 'faultline-repeat-state-'));
    const { code, dir, out } = await faultline(['run', '--matrix', matrix, '--repeat', '3', '--gate'], {
      DEMO_STATE_DIR: state,
    });
    const l1 = readJson<LayerResults>(join(dir, 'results', 'l1.json'));
    const fresh = l1.tests.find((t) => t.tags.includes('fresh'))!;
    expect(fresh.attempts?.map((a) => [a.state, a.errors[0]?.message])).toEqual([
      ['passed', undefined],
      ['passed', undefined],
      ['passed', undefined],
    ]);
    expect(out).toContain('l1 fresh: covered 3/3');
    expect(code).toBe(0);
  }, 120_000);

  test('a quarantined flaky cell is shown as such in every report and only warns until its date', async () => {
    const seeds = attemptSeeds(5, 2);
    const state = mkdtempSync(join(tmpdir(), 'faultline-repeat-state-'));
    const { code, dir, out } = await faultline(
      ['run', '--matrix', join(demo, 'matrix-quarantine.yaml'), '--seed', '5', '--repeat', '2', '--gate'],
      { DEMO_FAIL_SEEDS: String(seeds[1]), DEMO_STATE_DIR: state },
    );
    expect(out).toContain('! seeded × l1 is flaky: passed 1/2 attempts');
    expect(out).toContain('(quarantined until 2099-12-31: #19: seed-dependent, owner ops)');
    expect(code).toBe(0);
    const reports = join(dir, 'reports');
    expect(readFileSync(join(reports, 'matrix.md'), 'utf8')).toContain('flaky 1/2 (quarantine until 2099-12-31)');
    expect(readFileSync(join(reports, 'junit', 'matrix.xml'), 'utf8')).toContain(
      '<property name="quarantine" value="until 2099-12-31: #19: seed-dependent, owner ops"/>',
    );
    const report = readJson<MatrixReport>(join(reports, 'matrix.json'));
    expect(report.cells.find((c) => c.issue === 'seeded')?.quarantine).toEqual({
      until: '2099-12-31',
      reason: '#19: seed-dependent, owner ops',
      expired: false,
    });
  }, 120_000);
});
