import type { Cell, Coverage, LayerResults, LoadedMatrix, Verdict } from '@faultline/matrix';
import { matrixHtml, testErrors } from './html.ts';
import { type MatrixReport, matrixReport } from './json.ts';
import { layerJUnit, matrixJUnit } from './junit.ts';
import { matrixMarkdown } from './markdown.ts';

/** What every reporter reads: the matrix, its coverage, the verdict and the results behind them. */
export interface ReportContext {
  loaded: LoadedMatrix;
  coverage: Coverage;
  verdict: Verdict;
  runs: readonly LayerResults[];
  /** The matrix file relative to its directory, posix (what JUnit and annotations name). */
  matrixFile: string;
  /** The line of an issue's entry in the matrix file. */
  issueLine: (id: string) => number;
  /** matrix.json's report, built once for the reporters that share it. */
  report: () => MatrixReport;
}

/** One kind of report, chosen by name (`--reporter junit,markdown`): the files it writes, relative to the reports dir. */
export interface Reporter {
  readonly name: ReporterName;
  files(ctx: ReportContext): Array<{ path: string; content: string }>;
}

export type ReporterName = 'junit' | 'markdown' | 'html' | 'json';

/** Which cells are <failure>s in matrix.xml: exactly those the verdict names. */
function failingCell(verdict: Verdict): (cell: Cell) => boolean {
  const failing = new Set(verdict.failures.filter((f) => f.issue).map((f) => `${f.issue}\u0000${f.layer}`));
  return (cell) => failing.has(`${cell.issue}\u0000${cell.layer}`);
}

const junit: Reporter = {
  name: 'junit',
  files({ loaded, coverage, verdict, runs, matrixFile, issueLine }) {
    const perLayer = coverage.layers.flatMap((layer) => {
      const layerRuns = runs.filter((r) => r.layer === layer);
      return layerRuns.length ? [{ path: `junit/${layer}.xml`, content: layerJUnit(loaded.matrix, layerRuns) }] : [];
    });
    const matrix = matrixJUnit(loaded.matrix, coverage, {
      matrixFile,
      issueLine: (issue) => issueLine(issue.id),
      failing: failingCell(verdict),
    });
    return [...perLayer, { path: 'junit/matrix.xml', content: matrix }];
  },
};

const markdown: Reporter = {
  name: 'markdown',
  files: ({ loaded, coverage, verdict, runs }) => [
    { path: 'matrix.md', content: matrixMarkdown(loaded.matrix, coverage, verdict, runs) },
  ],
};

const html: Reporter = {
  name: 'html',
  files: ({ report, runs }) => [{ path: 'matrix.html', content: matrixHtml(report(), { errors: testErrors(runs) }) }],
};

const json: Reporter = {
  name: 'json',
  files: ({ report }) => [{ path: 'matrix.json', content: `${JSON.stringify(report(), null, 2)}\n` }],
};

/** Every reporter, by name, in the order their files are written. */
export const REPORTERS: Readonly<Record<ReporterName, Reporter>> = { junit, markdown, html, json };

export const REPORTER_NAMES = Object.keys(REPORTERS) as ReporterName[];

/** Whether a name given by a user (`--reporter`) is a reporter. */
export function isReporterName(name: string): name is ReporterName {
  return Object.hasOwn(REPORTERS, name);
}

/** Builds the context once for every reporter (matrix.json's report only if one asks for it). */
export function reportContext(
  loaded: LoadedMatrix,
  coverage: Coverage,
  verdict: Verdict,
  runs: readonly LayerResults[],
  matrixFile: string,
): ReportContext {
  const index = new Map(loaded.matrix.issues.map((issue, i) => [issue.id, i]));
  let report: MatrixReport | undefined;
  return {
    loaded,
    coverage,
    verdict,
    runs,
    matrixFile,
    issueLine: (id) => loaded.locate(['issues', index.get(id) ?? 0]).line,
    report: () => {
      report ??= matrixReport(loaded.matrix, coverage, verdict, runs);
      return report;
    },
  };
}
