import { join, relative, resolve } from 'node:path';
import {
  type Cell,
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
import { matrixHtml, testErrors } from './reports/html.ts';
import { matrixReport } from './reports/json.ts';
import { layerJUnit, matrixJUnit } from './reports/junit.ts';
import { matrixMarkdown } from './reports/markdown.ts';

export interface GateOptions {
  /** Layers to gate (default: every layer of the matrix). */
  layers?: readonly string[];
  /** Where reports go; default `reports` beside matrix.yaml. */
  outDir?: string;
  /** What `faultline verify` last saw (verify.json): each cell with declared breaks shows it. */
  verify?: VerifyResults;
}

export interface GateOutcome {
  coverage: Coverage;
  verdict: Verdict;
  /** GitHub workflow commands annotating the verdict (print them when running in Actions). */
  annotations: string[];
  /** Files written, workspace-relative. */
  written: string[];
}

/** Which cells are <failure>s in matrix.xml: exactly those the verdict names. */
function failingCell(verdict: Verdict): (cell: Cell) => boolean {
  const failing = new Set(verdict.failures.filter((f) => f.issue).map((f) => `${f.issue}\u0000${f.layer}`));
  return (cell) => failing.has(`${cell.issue}\u0000${cell.layer}`);
}

/** Computes coverage and the verdict, and writes every report (each file atomically). */
export function gateAndReport(
  loaded: LoadedMatrix,
  runs: readonly LayerResults[],
  options: GateOptions = {},
): GateOutcome {
  const root = resolve(loaded.file, '..');
  const outDir = resolve(options.outDir ?? join(root, 'reports'));
  const { matrix } = loaded;
  const coverage = computeCoverage(matrix, runs, {
    ...(options.layers ? { layers: options.layers } : {}),
    ...(options.verify ? { verify: options.verify } : {}),
  });
  const verdict = gate(coverage, matrix.policy);
  const written: string[] = [];
  const write = (rel: string, content: string) => {
    const file = join(outDir, rel);
    writeFileAtomic(file, content);
    written.push(relative(process.cwd(), file) || file);
  };

  const matrixFile = relative(root, resolve(loaded.file)).split('\\').join('/');
  const issueIndex = new Map(matrix.issues.map((issue, i) => [issue, i]));
  for (const layer of coverage.layers) {
    const layerRuns = runs.filter((r) => r.layer === layer);
    if (layerRuns.length) write(`junit/${layer}.xml`, layerJUnit(matrix, layerRuns));
  }
  write(
    'junit/matrix.xml',
    matrixJUnit(matrix, coverage, {
      matrixFile,
      issueLine: (issue) => loaded.locate(['issues', issueIndex.get(issue) ?? 0]).line,
      failing: failingCell(verdict),
    }),
  );
  write('matrix.md', matrixMarkdown(matrix, coverage, verdict, runs));
  const report = matrixReport(matrix, coverage, verdict, runs);
  write('matrix.html', matrixHtml(report, { errors: testErrors(runs) }));
  write('matrix.json', `${JSON.stringify(report, null, 2)}\n`);
  const annotations = githubAnnotations(verdict, {
    coverage,
    matrixFile,
    issueLine: (id) => loaded.locate(['issues', matrix.issues.findIndex((i) => i.id === id)]).line,
  });
  return { coverage, verdict, written, annotations };
}
