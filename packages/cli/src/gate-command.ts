import {
  didYouMean,
  type GateReason,
  type LayerResults,
  type LoadedMatrix,
  MatrixError,
  planRun,
  type Verdict,
} from '@faultline/matrix';
import {
  gateAndReport,
  isReporterName,
  matrixDigest,
  REPORTER_NAMES,
  type ReporterName,
  readResultsEntries,
  resultsSetProblems,
} from '@faultline/runner';
import { type Flags, list, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { checkLayers, load, resultsDir } from './matrix-flags.ts';
import { readVerifyResults } from './verify.ts';

/** One gate reason, and its detail (a failed test's error lines, the diff) indented under it. */
function printReason(io: Io, mark: string, reason: GateReason): void {
  io.out.write(`  ${mark} ${reason.message}\n`);
  // Test text never moves the terminal's cursor.
  const detail = reason.detail?.replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '?');
  for (const line of detail?.split('\n') ?? []) io.out.write(`      ${line}\n`);
}

function printVerdict(io: Io, verdict: Verdict, written: string[]): void {
  for (const f of verdict.failures) printReason(io, '✗', f);
  for (const w of verdict.warnings) printReason(io, '!', w);
  io.out.write(`reports: ${written.join(', ')}\n`);
}

/**
 * The results of the gated layers, refused (exit 2, one line per file) when they mix runs of a layer or
 * were run against another matrix: the gate must know what it is looking at.
 */
function gatedResults(loaded: LoadedMatrix, flags: Flags, layers: string[] | undefined): LayerResults[] {
  const entries = readResultsEntries(resultsDir(loaded, flags)).filter(
    (e) => !layers || layers.includes(e.results.layer),
  );
  const problems = resultsSetProblems(entries, matrixDigest(loaded.file), loaded.file);
  if (problems.length) throw new MatrixError(problems);
  return entries.map((e) => e.results);
}

/** `--reporter junit,html`: names of REPORTERS, each once; a typo suggests the nearest. */
function reporterFlag(value: string | boolean | undefined): ReporterName[] | undefined {
  const names = list(value);
  if (!names) return undefined;
  for (const name of names) {
    if (!isReporterName(name)) {
      throw new UsageError(
        `unknown reporter "${name}"${didYouMean(name, REPORTER_NAMES)}; reporters: ${REPORTER_NAMES.join(', ')}`,
      );
    }
  }
  if (!names.length) throw new UsageError(`--reporter takes reporter names: ${REPORTER_NAMES.join(', ')}`);
  return [...new Set(names)] as ReporterName[];
}

export function gateCommand(io: Io, loaded: LoadedMatrix, flags: Flags, enforce: boolean): number {
  const layers = checkLayers(loaded, list(flags.layer));
  // The matrix's projects must still name real directories: a typo is a config error, not a gate verdict.
  planRun(loaded, layers ? { layers } : {});
  const runs = gatedResults(loaded, flags, layers);
  const verify = readVerifyResults(resultsDir(loaded, flags));
  const reporters = reporterFlag(flags.reporter);
  const { coverage, verdict, written, annotations } = gateAndReport(loaded, runs, {
    ...(layers ? { layers } : {}),
    ...(reporters ? { reporters } : {}),
    ...(typeof flags.out === 'string' ? { outDir: flags.out } : {}),
    ...(verify ? { verify } : {}),
  });
  const c = coverage.counts;
  io.out.write(
    `matrix ${loaded.matrix.system}: ${c.covered} covered, ${c.failed} failed, ${c.vacuous} vacuous, ${c['not-run']} not run, ${c.missing} missing, ${c.planned} planned\n`,
  );
  printVerdict(io, verdict, written);
  if (process.env.GITHUB_ACTIONS === 'true') for (const a of annotations) io.out.write(`${a}\n`);
  io.out.write(`gate: ${verdict.passed ? 'passed' : 'FAILED'}\n`);
  return enforce && !verdict.passed ? 1 : 0;
}

/** `faultline gate` (`enforce`: the exit code is the gate's) and `faultline report`. */
export function gateFromFlags(io: Io, flags: Flags, enforce: boolean): number {
  return gateCommand(io, load(flags), flags, enforce);
}
