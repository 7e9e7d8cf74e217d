import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { formatProblem, loadMatrix, MatrixError, type Problem, parseMatrix } from '../src/index.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** line:col of the first occurrence of `marker` (after `after`, when given) in `text`. */
function where(text: string, marker: string, after = ''): string {
  const index = text.indexOf(marker, text.indexOf(after) + after.length);
  if (index < 0) throw new Error(`no ${marker} in the text`);
  const before = text.slice(0, index).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

function problemsOf(run: () => unknown): readonly Problem[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MatrixError);
    return (error as MatrixError).problems;
  }
  throw new Error('expected a MatrixError');
}

// Each fixture holds one mistake; `at` is the line:col of the offending node, `count` how many
// problems the file yields (1 unless the mistake has a knock-on effect).
const cases: Array<{ file: string; at: string; message: string; count?: number }> = [
  { file: 'bad-syntax-indent.yaml', at: '6:5', message: 'All mapping items must start at the same column' },
  { file: 'bad-syntax-unclosed-flow.yaml', at: '5:1', message: 'must be sufficiently indented and end with a }' },
  { file: 'bad-tab-indent.yaml', at: '4:1', message: 'Tabs are not allowed as indentation' },
  { file: 'bad-duplicate-key.yaml', at: '5:1', message: 'duplicate key "system"' },
  { file: 'bad-alias-bomb.yaml', at: '7:10', message: 'refusing a possible alias bomb' },
  { file: 'bad-empty.yaml', at: '1:1', message: 'the file is empty: expected a mapping' },
  {
    file: 'bad-top-level-list.yaml',
    at: '1:1',
    message: '(top level): Invalid input: expected object, received array',
  },
  { file: 'bad-version-missing.yaml', at: '1:1', message: 'missing required key "version"' },
  { file: 'bad-version-2.yaml', at: '1:10', message: 'version: version must be 1' },
  // The typo also leaves "issues" missing: both are reported.
  { file: 'bad-unknown-top-key.yaml', at: '5:1', message: 'unknown key "issuse"', count: 2 },
  { file: 'bad-layers-empty.yaml', at: '3:9', message: 'layers: at least one layer is needed' },
  { file: 'bad-layer-id.yaml', at: '4:3', message: 'layers: invalid key "L1": a layer id is lower-case', count: 2 },
  {
    file: 'bad-layer-empty-projects.yaml',
    at: '6:15',
    message: 'layers.l1.projects: a layer needs at least one project',
  },
  { file: 'bad-layer-no-projects.yaml', at: '6:5', message: 'layers.l2: missing required key "projects"' },
  { file: 'bad-timeout.yaml', at: '4:54', message: 'layers.l1.timeout: a duration is a whole number with a unit' },
  { file: 'bad-backend.yaml', at: '8:14', message: 'layers.l3.backend: Invalid option: expected one of "auto"' },
  { file: 'bad-severity.yaml', at: '9:15', message: 'issues[1].severity: severity must be one of critical, high' },
  { file: 'bad-issue-no-title.yaml', at: '6:5', message: 'issues[0]: missing required key "title"' },
  {
    file: 'bad-duplicate-issue-id.yaml',
    at: '8:11',
    message: 'duplicate issue id "sig-term" (first used by issues[0])',
  },
  { file: 'bad-issue-id.yaml', at: '6:9', message: 'issues[0].id: an issue id is lower-case letters' },
  { file: 'bad-policy-unknown-layer.yaml', at: '9:52', message: 'unknown layer "l4" (known layers: l1, l2)' },
  { file: 'bad-issue-unknown-layer.yaml', at: '11:9', message: 'unknown layer "l9" (known layers: l1)' },
  { file: 'bad-project-two-layers.yaml', at: '5:44', message: 'project "suite-l1" already serves layer "l1"' },
  { file: 'bad-issue-required-nowhere.yaml', at: '10:5', message: 'issue "b" is required in no layer' },
  {
    file: 'bad-tags-not-list.yaml',
    at: '9:11',
    message: 'issues[0].tags: Invalid input: expected array, received string',
  },
  { file: 'bad-issue-unknown-key.yaml', at: '10:5', message: 'unknown key "owner" in issues[0]' },
  { file: 'bad-policy-unknown-key.yaml', at: '8:3', message: 'unknown key "vaccuous" in policy' },
  {
    file: 'bad-policy-vacuous-value.yaml',
    at: '6:12',
    message: 'policy.vacuous: Invalid option: expected one of "fail"',
  },
  {
    file: 'bad-when-severity.yaml',
    at: '8:36',
    message: 'policy.require[1].when.severity[1]: severity must be one of critical',
  },
  { file: 'bad-issues-empty.yaml', at: '5:9', message: 'issues: at least one issue is needed' },
];

describe('malformed matrices', () => {
  test('every bad-*.yaml fixture has a case', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(fixture('.')).filter((f) => f.startsWith('bad-'));
    expect(files.sort()).toEqual(cases.map((c) => c.file).sort());
    expect(new Set(cases.map((c) => c.message)).size).toBe(cases.length);
  });

  test.each(cases)('$file → $at $message', ({ file, at, message, count = 1 }) => {
    const path = fixture(file);
    const problems = problemsOf(() => loadMatrix(path));
    const [line, col] = at.split(':').map(Number);
    expect(problems).toContainEqual({ file: path, line, col, message: expect.stringContaining(message) });
    expect(problems).toHaveLength(count);
    for (const p of problems) {
      const text = formatProblem(p);
      expect(text.startsWith(`${path}:${p.line}:${p.col}: `)).toBe(true);
      expect(text).not.toMatch(/\[object Object\]|\n\s+at |\.ts:\d+:\d+\)|undefined|Error:/);
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.col).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('loadMatrix', () => {
  test('a good matrix loads with defaults filled in', () => {
    const { matrix, file, locate } = loadMatrix(fixture('good.yaml'));
    const text = readFileSync(file, 'utf8');
    expect(file).toBe(fixture('good.yaml'));
    expect(matrix.layers.l1).toEqual({ title: 'Mocks', projects: ['suite-l1'], timeout: '10m' });
    expect(matrix.layers.l2?.timeout).toBe('15m');
    expect(matrix.policy).toEqual({
      require: [{ layers: ['l1'] }],
      vacuous: 'fail',
      vacuousTests: 'warn',
      planned: 'allow',
      notRun: 'fail',
      flaky: 'fail',
    });
    expect(matrix.issues[0]).toMatchObject({ id: 'sig-term', tags: [], status: 'active' });
    // locate() finds a node, or the nearest existing parent of a missing one.
    const at = (path: PropertyKey[]) => {
      const p = locate(path);
      expect(p.file).toBe(file);
      return `${p.line}:${p.col}`;
    };
    expect(at(['issues', 0, 'severity'])).toBe(where(text, 'critical'));
    expect(at(['layers', 'l2', 'timeout'])).toBe(where(text, '15m'));
    expect(at(['issues', 0, 'tags'])).toBe(where(text, 'id: sig-term'));
  });

  test('a missing file is one problem at 1:1 with a hint, not a stack trace', () => {
    const problems = problemsOf(() => loadMatrix(fixture('nope.yaml')));
    expect(problems).toEqual([
      {
        file: fixture('nope.yaml'),
        line: 1,
        col: 1,
        message: 'cannot read the matrix: ENOENT (create one, or pass --matrix FILE)',
      },
    ]);
  });

  test('a file of comments only is empty', () => {
    const problems = problemsOf(() => parseMatrix('# yaml-language-server: $schema=x.json\n# todo\n', 'm.yaml'));
    expect(problems).toEqual([{ file: 'm.yaml', line: 1, col: 1, message: 'the file is empty: expected a mapping' }]);
  });

  test('a few anchors and aliases are fine', () => {
    const m = parseMatrix(
      [
        'version: 1',
        'system: demo',
        'layers:',
        '  l1: { title: Mocks, projects: [suite-l1] }',
        '  l2: { title: Crash, projects: [suite-l2] }',
        'issues:',
        '  - { id: a, title: A, severity: low, layers: &both [l1, l2] }',
        '  - { id: b, title: B, severity: low, layers: *both }',
      ].join('\n'),
    );
    expect(m.issues[1]?.layers).toEqual(['l1', 'l2']);
  });

  test('an unknown layer with a close known id suggests it', () => {
    const text = [
      'version: 1',
      'system: s',
      'layers:',
      '  mocks: { title: M, projects: [./t] }',
      '  crash: { title: C, projects: [./c] }',
      'policy:',
      '  require: [{ layers: [mokcs] }]',
      'issues:',
      '  - { id: a, title: A, severity: low, layers: [crsh] }',
      '',
    ].join('\n');
    expect(problemsOf(() => parseMatrix(text, 'm.yaml')).map((p) => `${p.line}: ${p.message}`)).toEqual([
      '9: unknown layer "crsh" (did you mean `crash`?) (known layers: mocks, crash)',
      '7: unknown layer "mokcs" (did you mean `mocks`?) (known layers: mocks, crash)',
    ]);
  });

  test('a second document is refused', () => {
    const text = readFileSync(fixture('good.yaml'), 'utf8');
    const problems = problemsOf(() => parseMatrix(`${text}---\nversion: 1\n`, 'two.yaml'));
    expect(problems[0]).toMatchObject({
      file: 'two.yaml',
      line: 13,
      message: expect.stringContaining('multiple documents'),
    });
  });

  test('every problem is reported at once, not just the first', () => {
    const text = [
      'version: 1',
      'system: demo',
      'layers:',
      '  l1: { title: Mocks, projects: [suite-l1], timeout: soon }',
      'issues:',
      '  - { id: a, title: A, severity: urgent, layers: [l1] }',
      '  - { id: b, title: "", severity: low, layers: [l1] }',
    ].join('\n');
    const problems = problemsOf(() => parseMatrix(text));
    expect(problems.map((p) => `${p.line}:${p.col}`)).toEqual([
      where(text, 'soon'),
      where(text, 'urgent'),
      where(text, '""'),
    ]);
  });

  test('a key with an empty value is invalid, not missing; each duplicate key is named', () => {
    const body =
      'system: demo\nlayers:\n  l1: { title: Mocks, projects: [suite-l1] }\nissues:\n  - { id: a, title: A, severity: low, layers: [l1] }\n';
    expect(problemsOf(() => parseMatrix(`version:\n${body}`))).toEqual([
      { file: 'matrix.yaml', line: 1, col: 9, message: 'version: version must be 1' },
    ]);
    const dup = problemsOf(() => parseMatrix(`version: 1\nversion: 1\n${body}system: again\n`));
    expect(dup.map(formatProblem)).toEqual([
      'matrix.yaml:2:1: duplicate key "version"',
      'matrix.yaml:8:1: duplicate key "system"',
    ]);
  });

  test('union values get the message of the option that fits best', () => {
    const base = ['version: 1', 'system: demo', 'layers:', '  l1: { title: Mocks, projects: [suite-l1] }'];
    const single = [...base, 'policy:', '  require: [{ when: { severity: urgent }, layers: [l1] }]', 'issues:'];
    const text = [...single, '  - { id: a, title: A, severity: low }'].join('\n');
    const problems = problemsOf(() => parseMatrix(text));
    expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      `${where(text, 'urgent')}: policy.require[0].when.severity: severity must be one of critical, high, medium, low`,
    ]);
    const ref = [...base, 'issues:', '  - { id: a, title: A, severity: low, layers: [l1], ref: { x: 1 } }'];
    expect(problemsOf(() => parseMatrix(ref.join('\n')))[0]?.message).toBe(
      'issues[0].ref: Invalid input: expected string or number',
    );
  });
});

describe('MatrixError and formatProblem', () => {
  test('formatProblem is file:line:col: message', () => {
    expect(formatProblem({ file: 'matrix.yaml', line: 14, col: 7, message: 'unknown layer "l4"' })).toBe(
      'matrix.yaml:14:7: unknown layer "l4"',
    );
  });

  test('MatrixError carries the problems, one formatted line each, and exit code 2', () => {
    const problems = [
      { file: 'a.yaml', line: 1, col: 2, message: 'one' },
      { file: 'a.yaml', line: 3, col: 4, message: 'two' },
    ];
    const error = new MatrixError(problems);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MatrixError');
    expect(error.exitCode).toBe(2);
    expect(error.problems).toEqual(problems);
    expect(error.message).toBe('a.yaml:1:2: one\na.yaml:3:4: two');
  });

  test('problems from the loader are plain objects with exactly file, line, col, message', () => {
    const problems = problemsOf(() => loadMatrix(fixture('bad-severity.yaml')));
    for (const p of problems) {
      expect(Object.keys(p).sort()).toEqual(['col', 'file', 'line', 'message']);
      expect(typeof p.message).toBe('string');
      expect(Number.isInteger(p.line) && Number.isInteger(p.col)).toBe(true);
    }
  });
});
