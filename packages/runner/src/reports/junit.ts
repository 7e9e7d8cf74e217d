import { createRequire } from 'node:module';
import {
  type Cell,
  type Coverage,
  type Issue,
  type LayerResults,
  type Matrix,
  type TestRecord,
  verificationShortfall,
  verificationSummary,
} from '@faultline/matrix';
import type { Builder, TestCase } from 'junit-report-builder';
import { xmlCdata, xmlText } from './xml-text.ts';

/**
 * junit-report-builder has `file` but no `line` on testcases, which GitHub's JUnit consumers
 * read for annotations. Its testcase keeps attributes in the (subclass-visible) `_attributes`
 * record it serialises; we set `line` there. A test pins the output so a library change shows.
 */
function setLine(testCase: TestCase, line: number): TestCase {
  (testCase as unknown as { _attributes: Record<string, string | number> })._attributes.line = Math.max(0, line);
  return testCase;
}

// The package's CommonJS entry exports the builder itself, while its typings declare it as
// `default`. Required when a JUnit report is built, not with the runner: `faultline run` writes none.
const junit = (): Builder => createRequire(import.meta.url)('junit-report-builder') as Builder;

/**
 * junit-report-builder puts `skipped` on the root <testsuites>, which junit-10.xsd (and so the
 * GitHub variant) does not allow there; the per-testsuite counts keep the information.
 */
function buildXml(builder: Builder, totalSeconds: number): string {
  // The library sets no time on <testsuites>; dorny/test-reporter shows NaNms without one.
  return builder
    .build()
    .replace(/(<testsuites\b[^>]*?) skipped="\d+"/, '$1')
    .replace(/<testsuites\b/, `<testsuites time="${round(totalSeconds)}"`);
}

/** Seconds with millisecond precision, so sums print without float noise. */
const round = (s: number) => Math.round(s * 1000) / 1000;

const seconds = (ms: number) => Math.max(0, ms) / 1000;

/** Under `run --repeat`: how many attempts passed, the seeds that failed and the command replaying each. */
function attemptProperties(testCase: TestCase, t: TestRecord, layer: string, issue: string | undefined): void {
  if (!t.attempts?.length) return;
  const passed = t.attempts.filter((a) => a.state === 'passed' || a.state === 'flaky').length;
  const failing = t.attempts.filter((a) => a.state === 'failed');
  testCase.property('attempts', `${passed}/${t.attempts.length} passed`);
  if (failing.length) testCase.property('failing-seeds', failing.map((a) => a.seed).join(' '));
  failing.slice(0, 10).forEach((a, i) => {
    const command = `faultline run --layer ${layer}${issue ? ` --issue ${issue}` : ''} --seed ${a.seed}`;
    testCase.property(`replay.${i + 1}`, xmlText(command));
  });
}

/** A cell's pass rate under `run --repeat` and its quarantine, as properties of its matrix testcase. */
function cellProperties(testCase: TestCase, cell: Cell): void {
  if (cell.attempts) {
    testCase.property('attempts', `${cell.attempts.passed}/${cell.attempts.total} passed`);
    cell.attempts.replay.slice(0, 10).forEach((c, i) => {
      testCase.property(`replay.${i + 1}`, xmlText(c));
    });
  }
  if (cell.quarantine) {
    const q = cell.quarantine;
    testCase.property('quarantine', xmlText(`${q.expired ? 'expired' : 'until'} ${q.until}: ${q.reason}`));
  }
}

function evidenceProperties(testCase: TestCase, test: Pick<TestRecord, 'evidence'>): void {
  test.evidence.forEach((e, i) => {
    const attrs = e.attributes
      ? ` ${Object.entries(e.attributes)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`
      : '';
    testCase.property(`evidence.${i + 1}`, xmlText(`${e.kind} ${e.name}: ${e.detail} (×${e.count})${attrs}`, 2000));
  });
}

/** reports/junit/<layer>.xml: every test of the layer, one testsuite per test file. */
export function layerJUnit(matrix: Matrix, runs: readonly LayerResults[]): string {
  const issueIds = new Set(matrix.issues.map((i) => i.id));
  const builder = junit().newBuilder();
  const layer = runs[0]?.layer ?? 'layer';
  const byFile = new Map<string, TestRecord[]>();
  for (const t of runs.flatMap((r) => r.tests)) {
    const list = byFile.get(t.file);
    if (list) list.push(t);
    else byFile.set(t.file, [t]);
  }
  let total = 0;
  for (const [file, tests] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const time = round(seconds(tests.reduce((s, t) => s + t.durationMs, 0)));
    total += time;
    const suite = builder
      .testSuite()
      .name(xmlText(`${layer} ${file}`))
      .time(time);
    for (const t of tests) {
      const issues = t.tags.filter((tag) => issueIds.has(tag));
      const testCase = suite
        .testCase()
        .className(xmlText(issues.length ? issues.join(' ') : `${layer}.untagged`))
        .name(xmlText(t.fullName))
        .file(xmlText(t.file))
        .time(seconds(t.durationMs));
      setLine(testCase, t.line);
      testCase.property('layer', layer);
      testCase.property('issues', xmlText(issues.join(' ')));
      if (t.retryCount) testCase.property('retries', String(t.retryCount));
      if (t.flaky) testCase.property('flaky', 'true');
      attemptProperties(testCase, t, layer, issues[0]);
      // vitest's own outcome for flaky and test.fails is a pass: the faultline state says why it covers nothing.
      if (t.state !== 'passed' && t.state !== 'failed') testCase.property('state', t.state);
      evidenceProperties(testCase, t);
      if (t.state === 'failed') {
        const first = t.errors[0];
        testCase.failure(xmlText(first?.message.split('\n')[0] ?? 'failed', 1000), 'AssertionError');
        testCase.stacktrace(xmlCdata(t.errors.map((e) => e.stack ?? e.message).join('\n\n')));
      } else if (t.state === 'skipped' || t.state === 'todo' || t.state === 'not-run') {
        testCase.skipped();
      }
      if (t.output) testCase.standardOutput(xmlCdata(t.output));
    }
  }
  const errors = runs.flatMap((r) => r.errors);
  if (errors.length) {
    const suite = builder
      .testSuite()
      .name(xmlText(`${layer} file errors`))
      .time(0);
    for (const e of errors) {
      const testCase = suite
        .testCase()
        .className(`${layer}.${e.kind}`)
        .name(xmlText(`${e.file}: ${e.kind}`))
        .file(xmlText(e.file));
      setLine(testCase, 1);
      testCase.error(xmlText(e.message.split('\n')[0] ?? e.kind, 1000), e.kind, xmlCdata(e.message));
    }
  }
  return buildXml(builder, total);
}

export interface MatrixJUnitOptions {
  /** matrix.yaml path (workspace-relative) and each issue's line in it, for cells with no test. */
  matrixFile: string;
  issueLine: (issue: Issue) => number;
  /** Which cell states fail the gate (so they are <failure>s here too). */
  failing: (cell: Cell) => boolean;
}

/** reports/junit/matrix.xml: one testcase per required cell (and per non-required cell with tests). */
export function matrixJUnit(matrix: Matrix, coverage: Coverage, options: MatrixJUnitOptions): string {
  const builder = junit().newBuilder();
  const issues = new Map(matrix.issues.map((i) => [i.id, i]));
  const cellsByLayer = new Map<string, Cell[]>();
  for (const c of coverage.cells) {
    if (!c.required && !c.tests.length) continue;
    const list = cellsByLayer.get(c.layer);
    if (list) list.push(c);
    else cellsByLayer.set(c.layer, [c]);
  }
  let total = 0;
  for (const layer of coverage.layers) {
    const cells = cellsByLayer.get(layer) ?? [];
    const time = round(seconds(cells.reduce((s, c) => s + c.tests.reduce((n, t) => n + t.durationMs, 0), 0)));
    total += time;
    const suite = builder
      .testSuite()
      .name(xmlText(`matrix ${layer}: ${matrix.layers[layer]?.title ?? ''}`))
      .time(time);
    for (const cell of cells) {
      const issue = issues.get(cell.issue)!;
      const first = cell.tests[0];
      const testCase = suite
        .testCase()
        // One group per layer in consumers that group by classname (dorny/test-reporter), not one per cell.
        .className(xmlText(`matrix.${layer}`))
        .name(xmlText(`${cell.issue} × ${layer}: ${issue.title}`))
        .file(xmlText(first ? first.file : options.matrixFile))
        .time(seconds(cell.tests.reduce((s, t) => s + t.durationMs, 0)));
      setLine(testCase, first ? first.line : options.issueLine(issue));
      testCase.property('state', cell.state);
      testCase.property('required', String(cell.required));
      testCase.property('severity', issue.severity);
      if (cell.reason) testCase.property('reason', xmlText(cell.reason));
      cell.tests.forEach((t, i) => {
        testCase.property(`test.${i + 1}`, xmlText(`${t.state} ${t.file}:${t.line} ${t.fullName}`));
      });
      cellProperties(testCase, cell);
      evidenceProperties(testCase, cell);
      if (cell.verify) testCase.property('verify', verificationSummary(cell.verify));
      // A covered cell fails only for its verification (policy.verify): say that, not "covered".
      const shortfall = cell.verify && cell.state === 'covered' ? verificationShortfall(cell.verify) : undefined;
      if (options.failing(cell) && shortfall !== undefined) {
        testCase.failure(xmlText(`unverified: ${shortfall}`, 1000), 'unverified');
      } else if (options.failing(cell)) {
        testCase.failure(xmlText(`${cell.state}: ${cell.reason ?? cell.state}`, 1000), cell.state);
      } else if (cell.state !== 'covered' && cell.state !== 'not-required') {
        testCase.skipped();
      }
    }
  }
  return buildXml(builder, total);
}
