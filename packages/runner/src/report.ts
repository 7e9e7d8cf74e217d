import { join, relative, resolve } from 'node:path';
import {
  type Coverage,
  computeCoverage,
  gate,
  type LayerResults,
  type LoadedMatrix,
  type Verdict,
  type VerifyResults,
} from '@faultline/matrix';
import { type SetFile, writeFileAtomic, writeFilesAtomic } from './atomic.ts';
import { broken } from './breaks.ts';
import { githubAnnotations } from './reports/annotations.ts';
import { REPORTER_NAMES, REPORTERS, type ReporterName, reportContext } from './reports/reporters.ts';

export interface GateOptions {
  /** Layers to gate (default: every layer of the matrix). */
  layers?: readonly string[];
  /** Where reports go; default `reports` beside matrix.yaml. */
  outDir?: string;
  /** What `faultline verify` last saw (verify.json): each cell with declared breaks shows it. */
  verify?: VerifyResults;
  /** Which reports to write (default all: junit, markdown, html, json). */
  reporters?: readonly ReporterName[];
}

export interface GateOutcome {
  coverage: Coverage;
  verdict: Verdict;
  /** GitHub workflow commands annotating the verdict (print them when running in Actions). */
  annotations: string[];
  /** Files written, workspace-relative. */
  written: string[];
}

/**
 * Writes the reports of one run as one set: all are rendered first, then published together
 * (writeFilesAtomic), so a full disk leaves every previous report as it was, never a new junit beside
 * an old matrix.md.
 */
function publishReports(outDir: string, files: readonly SetFile[]): string[] {
  if (!broken('noStagedReports')) return writeFilesAtomic(outDir, files);
  return files.map((f) => {
    const file = join(outDir, f.path);
    writeFileAtomic(file, f.content);
    return file;
  });
}

/** Computes coverage and the verdict, and writes the chosen reports (every one by default) together, all or none. */
export function gateAndReport(
  loaded: LoadedMatrix,
  runs: readonly LayerResults[],
  options: GateOptions = {},
): GateOutcome {
  const root = resolve(loaded.file, '..');
  const outDir = resolve(options.outDir ?? join(root, 'reports'));
  const coverage = computeCoverage(loaded.matrix, runs, {
    ...(options.layers ? { layers: options.layers } : {}),
    ...(options.verify ? { verify: options.verify } : {}),
  });
  const verdict = gate(coverage, loaded.matrix.policy);
  const matrixFile = relative(root, resolve(loaded.file)).split('\\').join('/');
  const ctx = reportContext(loaded, coverage, verdict, runs, matrixFile);
  const files = (options.reporters ?? REPORTER_NAMES).flatMap((name) => REPORTERS[name].files(ctx));
  const written = publishReports(outDir, files).map((file) => relative(process.cwd(), file) || file);
  const annotations = githubAnnotations(verdict, { coverage, matrixFile, issueLine: ctx.issueLine });
  return { coverage, verdict, written, annotations };
}
