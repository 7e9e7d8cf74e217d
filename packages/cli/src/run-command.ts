import { resolve } from 'node:path';
import { computeCoverage, type LayerResults, type LoadedMatrix, plural } from '@faultline/matrix';
import {
  INTERRUPT_EXIT,
  interruptOnSignals,
  lineProgress,
  MAX_REPEAT,
  type RunInterrupted,
  readResultsEntries,
  runLayers,
  ttyProgress,
} from '@faultline/runner';
import { type Flags, integer, list, shard, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { gateCommand } from './gate-command.ts';
import { checkIssue, checkLayers, load, resultsDir } from './matrix-flags.ts';

/**
 * Each layer's duration in the last run of the same selection (whole layer, or the same --issue), for the
 * live estimate of time left. Unreadable or missing results give no estimate, never an error.
 */
function lastDurations(dir: string, issue: string | undefined): (layer: string) => number | undefined {
  let entries: ReturnType<typeof readResultsEntries> = [];
  try {
    entries = readResultsEntries(dir);
  } catch {
    return () => undefined;
  }
  return (layer) =>
    entries.find((e) => e.results.layer === layer && e.results.run.issueFilter === issue && !e.results.shard)?.results
      .run.durationMs;
}

function runIdFlag(value: string): string {
  if (!/^[\w.-]{1,100}$/.test(value)) {
    throw new UsageError(`--run-id takes letters, digits, '.', '_' and '-' (at most 100); got "${value}"`);
  }
  return value;
}

function repeatFlag(value: string | boolean | undefined): number | undefined {
  const n = integer('repeat', value);
  if (n !== undefined && (n < 1 || n > MAX_REPEAT)) {
    throw new UsageError(`--repeat takes 1 to ${MAX_REPEAT} attempts; got ${n}`);
  }
  return n;
}

/** Under --repeat: each required cell's pass rate, and the command that replays each failing seed. */
function printPassRates(io: Io, loaded: LoadedMatrix, results: readonly LayerResults[]): void {
  const layers = [...new Set(results.map((r) => r.layer))];
  const coverage = computeCoverage(loaded.matrix, results, { layers });
  for (const c of coverage.cells) {
    if (!c.required || !c.attempts) continue;
    const { passed, total, replay } = c.attempts;
    io.out.write(`  ${c.layer} ${c.issue}: ${c.state} ${passed}/${total}\n`);
    for (const command of replay) io.out.write(`    replay: ${command}\n`);
  }
}

/** The one line an interrupted run ends with, naming what it stopped and what it kept; 130 or 143. */
function reportInterrupt(io: Io, i: RunInterrupted, files: readonly string[]): number {
  const stopped = i.layer
    ? `stopped ${i.layer} worker and ${plural(i.stopped, 'process', 'processes')}${i.containers ? `, removed ${plural(i.containers, 'container', 'containers')}` : ''}`
    : 'between layers';
  const kept = i.kept.length ? `${i.kept.join(', ')} results kept` : 'no layer had finished';
  const marked = i.layer ? `; ${i.layer} results marked interrupted` : '';
  io.err.write(`faultline: interrupted (${i.signal}): ${stopped}; ${kept}${marked}\n`);
  if (files.length) io.out.write(`results: ${files.join(', ')}\n`);
  return i.signal === 'abort' ? INTERRUPT_EXIT.SIGINT : INTERRUPT_EXIT[i.signal];
}

/** `faultline run`: the layers, their results written; with --gate, then the gate. */
export async function runCommand(io: Io, flags: Flags): Promise<number> {
  const loaded = load(flags);
  const layers = checkLayers(loaded, list(flags.layer));
  const issue = checkIssue(loaded, flags.issue);
  const backend = typeof flags.backend === 'string' ? flags.backend : undefined;
  if (backend && !['auto', 'embedded', 'containers', 'external'].includes(backend)) {
    throw new UsageError(`--backend takes auto, embedded, containers or external; got "${backend}"`);
  }
  const toxiproxyUrl = flags['toxiproxy-url'];
  if (typeof toxiproxyUrl === 'string') {
    if (!/^https?:\/\/[^\s/]+\/?$/.test(toxiproxyUrl)) {
      throw new UsageError(
        `--toxiproxy-url takes a Toxiproxy API URL such as http://127.0.0.1:8474; got "${toxiproxyUrl}"`,
      );
    }
    process.env.FAULTLINE_TOXIPROXY_URL = toxiproxyUrl; // the layers' test processes inherit it
  }
  const seed = integer('seed', flags.seed);
  const shardSpec = shard(flags.shard);
  const repeat = repeatFlag(flags.repeat);
  const live = io.err.isTTY && !process.env.CI;
  const progress = live
    ? ttyProgress(io.err, { expectedMs: lastDurations(resultsDir(loaded, flags), issue) })
    : lineProgress(io.err);
  const interrupt = interruptOnSignals();
  const outcome = await runLayers(loaded, {
    progress,
    signal: interrupt.signal,
    ...(layers ? { layers } : {}),
    ...(issue ? { issue } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(repeat !== undefined ? { repeat } : {}),
    ...(shardSpec ? { shard: shardSpec } : {}),
    ...(typeof flags['run-id'] === 'string' ? { runId: runIdFlag(flags['run-id']) } : {}),
    ...(backend ? { backend } : {}),
    ...(typeof flags.results === 'string' ? { resultsDir: resolve(flags.results) } : {}),
  }).finally(() => interrupt.dispose());
  if (outcome.interrupted) return reportInterrupt(io, outcome.interrupted, outcome.files);
  const tests = outcome.results.flatMap((r) => r.tests);
  const failed = tests.filter((t) => t.state === 'failed').length;
  const errors = outcome.results.flatMap((r) => r.errors).length;
  io.out.write(
    `run ${outcome.runId}, seed ${outcome.seed} (replay with --seed ${outcome.seed}); ${plural(tests.length, 'test')}, ${failed} failed, ${plural(errors, 'file error')}\n`,
  );
  io.out.write(`results: ${outcome.files.join(', ')}\n`);
  if (repeat !== undefined && repeat > 1) {
    io.out.write(`repeat ${repeat}: attempt seeds ${outcome.results[0]?.run.repeat?.seeds.join(', ') ?? ''}\n`);
    printPassRates(io, loaded, outcome.results);
  }
  if (flags.gate) return gateCommand(io, loaded, { ...flags, ...(layers ? { layer: layers.join(',') } : {}) }, true);
  return failed || errors ? 1 : 0;
}
