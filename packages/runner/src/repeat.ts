import type { FileError, LayerResults, ProjectRun, TestAttempt, TestRecord, TestState } from '@faultline/matrix';

/** The largest `--repeat`: a bound, so a typo (`--repeat 10000`) is a usage error, not a day-long run. */
export const MAX_REPEAT = 1000;
/** Seeds live in [1, 2^31 - 2], like the seeds `newSeed()` draws. */
const SEED_RANGE = 2 ** 31 - 2;
/** 2^32 / golden ratio: consecutive attempts land far apart in the seed range. */
const SEED_STEP = 2_654_435_761;
/** How much of one attempt's error message a repeated test keeps. */
const ATTEMPT_ERROR_CHARS = 2000;

/**
 * The seed of attempt `attempt` (1-based) of a run seeded `seed`: attempt 1 runs with the run's seed
 * (so `--repeat 1` is a plain run), attempt k with `1 + ((seed - 1 + (k - 1) × 2654435761) mod (2^31 - 2))`.
 * The attempt's tests see it as `FAULTLINE_SEED`; `faultline run --seed <it>` replays that attempt.
 */
export function attemptSeed(seed: number, attempt: number): number {
  if (attempt === 1) return seed;
  const offset = ((seed - 1 + (attempt - 1) * SEED_STEP) % SEED_RANGE) + SEED_RANGE;
  return 1 + (offset % SEED_RANGE);
}

/** The seeds of attempts 1..count. */
export function attemptSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => attemptSeed(seed, i + 1));
}

/** The state of a test across its attempts: some passed and some failed is `flaky`. */
function mergedState(states: readonly TestState[]): TestState {
  const has = (s: TestState) => states.includes(s);
  const passing = has('passed') || has('flaky');
  if (has('failed')) return passing ? 'flaky' : 'failed';
  if (has('flaky')) return 'flaky';
  if (has('passed')) return 'passed';
  return states[0] ?? 'not-run';
}

function attemptOf(t: TestRecord | undefined, attempt: number, seed: number): TestAttempt {
  if (!t) return { attempt, seed, state: 'not-run', durationMs: 0, evidence: 0, errors: [] };
  return {
    attempt,
    seed,
    state: t.state,
    durationMs: t.durationMs,
    evidence: t.evidence.length,
    errors: t.errors.slice(0, 1).map((e) => ({ message: e.message.slice(0, ATTEMPT_ERROR_CHARS) })),
  };
}

/** One test across attempts: a representative attempt's record (a passing one when any passed) plus every attempt. */
function mergeTest(records: ReadonlyArray<TestRecord | undefined>, seeds: readonly number[]): TestRecord {
  const attempts = records.map((t, i) => attemptOf(t, i + 1, seeds[i] ?? 0));
  const state = mergedState(attempts.map((a) => a.state));
  const present = records.filter((t): t is TestRecord => t !== undefined);
  const wanted: TestState[] = state === 'flaky' ? ['passed', 'flaky'] : [state];
  const representative = present.find((t) => wanted.includes(t.state)) ?? present[0];
  if (!representative) throw new Error('mergeTest: a test must appear in at least one attempt');
  return { ...representative, state, flaky: state === 'flaky', attempts };
}

function mergeProjects(attempts: readonly LayerResults[]): ProjectRun[] {
  const byName = new Map<string, ProjectRun>();
  attempts.forEach((r, i) => {
    for (const p of r.projects) {
      const seen = byName.get(p.name);
      const reason = p.reason ? `attempt ${i + 1}: ${p.reason}` : undefined;
      if (!seen) {
        byName.set(p.name, { ...p, ...(reason ? { reason } : {}) });
        continue;
      }
      const worse = seen.outcome === 'completed' && p.outcome !== 'completed';
      byName.set(p.name, {
        ...seen,
        tests: Math.max(seen.tests, p.tests),
        durationMs: seen.durationMs + p.durationMs,
        ...(worse ? { outcome: p.outcome, ...(reason ? { reason } : {}) } : {}),
      });
    }
  });
  return [...byName.values()];
}

const attemptError = (e: FileError, attempt: number, seed: number): FileError => ({
  ...e,
  message: `attempt ${attempt} (seed ${seed}): ${e.message}`,
});

/**
 * One layer's results from the attempts of `run --repeat N` (in attempt order, attempt k run with
 * `seeds[k-1]`): every test once, with all its attempts; file errors and project outcomes of every attempt.
 */
export function mergeAttempts(attempts: readonly LayerResults[], seeds: readonly number[]): LayerResults {
  const first = attempts[0];
  const last = attempts[attempts.length - 1];
  if (!first || !last) throw new Error('mergeAttempts: no attempts to merge');
  const byId = attempts.map((r) => new Map(r.tests.map((t) => [t.id, t])));
  const ids = [...new Set(attempts.flatMap((r) => r.tests.map((t) => t.id)))];
  const order = new Map(ids.map((id, i) => [id, i]));
  const tests = ids.map((id) =>
    mergeTest(
      byId.map((m) => m.get(id)),
      seeds,
    ),
  );
  tests.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  const unattributed = attempts.flatMap((r) => r.unattributed ?? []);
  return {
    ...first,
    run: {
      ...first.run,
      endedAt: last.run.endedAt,
      durationMs: Date.parse(last.run.endedAt) - Date.parse(first.run.startedAt),
      repeat: { count: attempts.length, seeds: [...seeds] },
    },
    projects: mergeProjects(attempts),
    tests,
    errors: attempts.flatMap((r, i) => r.errors.map((e) => attemptError(e, i + 1, seeds[i] ?? 0))),
    ...(unattributed.length ? { unattributed } : {}),
  };
}
