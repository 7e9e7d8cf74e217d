// Small hand-built results for coverage and gate tests (no runner involved).
import type { FaultEvidence } from '@faultline/evidence';
import type { LayerResults, ProjectRun, TestRecord } from '../src/results.ts';
import { type Matrix, type MatrixInput, matrixSchema } from '../src/schema.ts';

/** A matrix from a partial input: two layers (l1 → suite-l1, l2 → suite-l2) unless given. */
export function matrix(input: Partial<MatrixInput> & Pick<MatrixInput, 'issues'>): Matrix {
  return matrixSchema.parse({
    version: 1,
    system: 'demo',
    layers: {
      l1: { title: 'Mocks', projects: ['suite-l1'] },
      l2: { title: 'Crash', projects: ['suite-l2'] },
    },
    ...input,
  });
}

export function evidence(name = 'fp'): FaultEvidence {
  return { kind: 'failpoint', name, detail: `failpoint ${name} fired`, count: 1, at: 0 };
}

let nextLine = 1;

/** A test tagged with `tags`; passed with one piece of evidence unless told otherwise. */
export function test(tags: string[], over: Partial<TestRecord> = {}): TestRecord {
  const line = nextLine++;
  const project = over.project ?? 'suite-l1';
  const name = over.name ?? `test ${line}`;
  return {
    id: `${project}:t.test.ts:${name}`,
    project,
    file: `suites/${project}/t.test.ts`,
    line,
    column: 3,
    name,
    fullName: `suite > ${name}`,
    tags,
    state: 'passed',
    durationMs: 5,
    retryCount: 0,
    flaky: false,
    evidence: [evidence()],
    errors: [],
    ...over,
  };
}

export function project(name: string, tests: number, over: Partial<ProjectRun> = {}): ProjectRun {
  return { name, dir: `suites/${name}`, tests, durationMs: 10, outcome: 'completed', ...over };
}

/** Results of one layer; the project (suite-<layer>) is credited with the tests given. */
export function results(layer: string, tests: TestRecord[], over: Partial<LayerResults> = {}): LayerResults {
  const name = `suite-${layer}`;
  return {
    schema: 'faultline/results@1',
    layer,
    run: {
      seed: 1,
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:00:01.000Z',
      durationMs: 1000,
      capabilities: {},
      versions: {},
    },
    projects: [project(name, tests.length)],
    tests: tests.map((t) => ({ ...t, project: name })),
    errors: [],
    ...over,
  };
}
