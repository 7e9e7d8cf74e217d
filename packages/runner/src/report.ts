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
import { writeFileAtomic } from './atomic.ts';
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

/** Computes coverage and the verdict, and writes the chosen reports (every one by default), each file atomically. */
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
  const written: string[] = [];
  for (const name of options.reporters ?? REPORTER_NAMES) {
    for (const { path, content } of REPORTERS[name].files(ctx)) {
      const file = join(outDir, path);
      writeFileAtomic(file, content);
      written.push(relative(process.cwd(), file) || file);
    }
  }
  const annotations = githubAnnotations(verdict, { coverage, matrixFile, issueLine: ctx.issueLine });
  return { coverage, verdict, written, annotations };
}
