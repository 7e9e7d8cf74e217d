import type { TestRecord } from './results.ts';
import type { Issue } from './schema.ts';

/** A cell across the attempts of `faultline run --repeat N`. */
export interface CellAttempts {
  /** Attempts in which a test of the cell passed and none failed. */
  passed: number;
  total: number;
  /** The seeds of the attempts in which a test of the cell failed, in attempt order. */
  failingSeeds: number[];
  /** The command that replays each failing seed, one per seed. */
  replay: string[];
}

/** A cell's quarantine (the issue's `quarantine`), and whether its last day has passed. */
export interface CellQuarantine {
  until: string;
  reason: string;
  expired: boolean;
}

/** The command that replays one attempt of one cell. */
export function replayCommand(layer: string, issue: string, seed: number): string {
  return `faultline run --layer ${layer} --issue ${issue} --seed ${seed}`;
}

/** The attempts of a cell's tests, or `undefined` when none of its tests was repeated. */
export function cellAttempts(layer: string, issue: string, tests: readonly TestRecord[]): CellAttempts | undefined {
  const repeated = tests.filter((t) => t.attempts?.length);
  if (repeated.length === 0) return undefined;
  const seeds = new Map<number, number>();
  const failed = new Set<number>();
  const passed = new Set<number>();
  for (const t of repeated) {
    for (const a of t.attempts ?? []) {
      seeds.set(a.attempt, a.seed);
      if (a.state === 'failed') failed.add(a.attempt);
      else if (a.state === 'passed' || a.state === 'flaky') passed.add(a.attempt);
    }
  }
  const failingSeeds = [...failed].sort((a, b) => a - b).map((n) => seeds.get(n) ?? 0);
  return {
    passed: [...passed].filter((n) => !failed.has(n)).length,
    total: seeds.size,
    failingSeeds,
    replay: failingSeeds.map((seed) => replayCommand(layer, issue, seed)),
  };
}

/** The state a repeated cell takes from its attempts, when they decide it (mixed: flaky; all failed: failed). */
export function attemptsState(a: CellAttempts): { state: 'flaky' | 'failed'; reason: string } | undefined {
  const failed = a.failingSeeds.length;
  const seeds = a.failingSeeds.join(', ');
  if (failed > 0 && a.passed > 0) {
    return {
      state: 'flaky',
      reason: `passed ${a.passed}/${a.total} attempts; failed with seed${failed > 1 ? 's' : ''} ${seeds} (replay: ${a.replay[0]})`,
    };
  }
  if (failed > 0 && failed === a.total) {
    return { state: 'failed', reason: `failed in all ${a.total} attempts (seeds ${seeds}; replay: ${a.replay[0]})` };
  }
  return undefined;
}

/** The quarantine of an issue's required cells; it holds through its `until` day (UTC). */
export function cellQuarantine(issue: Issue, now: Date): CellQuarantine | undefined {
  if (!issue.quarantine) return undefined;
  const lastMoment = Date.parse(`${issue.quarantine.until}T23:59:59.999Z`);
  return { ...issue.quarantine, expired: now.getTime() > lastMoment };
}
