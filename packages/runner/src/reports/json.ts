import type { Coverage, LayerResults, Matrix, Verdict } from '@faultline/matrix';
import { requiredLayers } from '@faultline/matrix';

export const MATRIX_REPORT_SCHEMA = 'faultline/matrix-report@1';

export interface MatrixReport {
  schema: typeof MATRIX_REPORT_SCHEMA;
  system: string;
  generatedAt: string;
  verdict: Verdict;
  counts: Coverage['counts'];
  layers: Array<{
    id: string;
    title: string;
    ran: boolean;
    seeds: number[];
    backend?: string;
    notRun?: string;
    durationMs: number;
    tests: number;
    failed: number;
  }>;
  issues: Array<{
    id: string;
    ref?: string | number;
    title: string;
    severity: string;
    tags: string[];
    status: string;
    required: string[];
  }>;
  cells: Coverage['cells'];
  unknownTags: Coverage['unknownTags'];
  emptyProjects: Coverage['emptyProjects'];
  fileErrors: Coverage['fileErrors'];
  vacuousTests: Coverage['vacuousTests'];
}

/** reports/matrix.json: everything the other reports show, for machines. */
export function matrixReport(
  matrix: Matrix,
  coverage: Coverage,
  verdict: Verdict,
  runs: readonly LayerResults[],
): MatrixReport {
  return {
    schema: MATRIX_REPORT_SCHEMA,
    system: matrix.system,
    generatedAt: new Date().toISOString(),
    verdict,
    counts: coverage.counts,
    layers: coverage.layers.map((id) => {
      const r = runs.filter((x) => x.layer === id);
      const tests = r.flatMap((x) => x.tests);
      const backend = r.find((x) => x.run.backend)?.run.backend;
      const notRun = r.find((x) => x.run.notRun)?.run.notRun;
      return {
        id,
        title: matrix.layers[id]?.title ?? id,
        ran: r.length > 0,
        seeds: [...new Set(r.map((x) => x.run.seed))],
        ...(backend ? { backend } : {}),
        ...(notRun ? { notRun } : {}),
        durationMs: r.reduce((s, x) => s + x.run.durationMs, 0),
        tests: tests.length,
        failed: tests.filter((t) => t.state === 'failed').length,
      };
    }),
    issues: matrix.issues.map((i) => ({
      id: i.id,
      ...(i.ref !== undefined ? { ref: i.ref } : {}),
      title: i.title,
      severity: i.severity,
      tags: i.tags,
      status: i.status,
      required: [...requiredLayers(matrix, i)],
    })),
    cells: coverage.cells,
    unknownTags: coverage.unknownTags,
    emptyProjects: coverage.emptyProjects,
    fileErrors: coverage.fileErrors,
    vacuousTests: coverage.vacuousTests,
  };
}
