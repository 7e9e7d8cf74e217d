import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { formatProblem, loadMatrix, MatrixError, parseMatrix, resolveLayerProjects } from '../src/index.ts';

// A layer project may be a test command in any language: its entry is an object, checked at its place.

const head = ['version: 1', 'system: kv', 'layers:', '  l2:', '    title: Crash', '    projects:'];
const tail = ['issues:', '  - { id: kv-torn-write, title: T, severity: low, layers: [l2] }', ''];
const matrixWith = (...projectLines: string[]) => [...head, ...projectLines, ...tail].join('\n');

function problems(text: string): string[] {
  try {
    parseMatrix(text, 'matrix.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(MatrixError);
    return (error as MatrixError).problems.map(formatProblem);
  }
  throw new Error('expected a MatrixError');
}

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

describe('command projects in matrix.yaml', () => {
  test('an object entry with a command and a results format is a command project; string entries still work', () => {
    const m = parseMatrix(
      matrixWith(
        '      - ./suite',
        '      - name: kv-crash-rs',
        '        command: cargo test --test crash',
        '        cwd: ./kv',
        '        results: { format: libtest-json }',
      ),
    );
    const [first, second] = m.layers.l2!.projects;
    expect(first).toBe('./suite');
    expect(second).toEqual({
      name: 'kv-crash-rs',
      command: 'cargo test --test crash',
      cwd: './kv',
      results: { format: 'libtest-json' },
      shard: 'first',
    });
  });

  test.each([
    [
      'an unknown results format',
      ['      - { name: a, command: x, results: { format: tap } }'],
      'matrix.yaml:7:51: layers.l2.projects[0].results.format: results.format must be one of junit, go-test-json, libtest-json',
    ],
    [
      'junit without a path',
      ['      - name: a', '        command: pytest', '        results: { format: junit }'],
      'matrix.yaml:9:18: layers.l2.projects[0].results: results.format junit needs results.path',
    ],
    [
      'an unknown key',
      ['      - { name: a, command: x, results: { format: junit, path: r.xml }, timeout: 5m }'],
      'matrix.yaml:7:73: unknown key "timeout" in layers.l2.projects[0]',
    ],
    [
      'a mistyped command key',
      ['      - { name: a, comand: x, results: { format: junit, path: r.xml } }'],
      'matrix.yaml:7:9: layers.l2.projects[0]: missing required key "command"',
    ],
    [
      'no command',
      ['      - { name: a, results: { format: go-test-json } }'],
      'matrix.yaml:7:9: layers.l2.projects[0]: missing required key "command"',
    ],
  ])('%s is an error at its file:line:col', (_, lines, message) => {
    const found = problems(matrixWith(...lines));
    expect(found).toContainEqual(expect.stringContaining(message));
  });

  test('cwd is resolved against the matrix directory; a missing cwd or a reused name is a problem at the entry', () => {
    const root = mkdtempSync(join(tmpdir(), 'faultline-command-'));
    roots.push(root);
    mkdirSync(join(root, 'kv'));
    const file = join(root, 'matrix.yaml');
    writeFileSync(
      file,
      matrixWith(
        '      - { name: a, command: "go test -json", cwd: kv, results: { format: go-test-json } }',
        '      - { name: b, command: "go test -json", cwd: nowhere, results: { format: go-test-json } }',
        '      - { name: a, command: "go test -json", cwd: kv, results: { format: go-test-json } }',
      ),
    );
    const resolved = resolveLayerProjects(loadMatrix(file), { workspaceRoot: root });
    const [a] = resolved.layers.get('l2')!;
    expect(a).toMatchObject({ name: 'a', kind: 'command', root: 'kv', dir: join(root, 'kv') });
    expect(a?.command?.results.format).toBe('go-test-json');
    expect(resolved.problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      `8:9: layer "l2": command project "b": cwd "nowhere" is not a directory (it is relative to the matrix's directory: ${join(root, 'nowhere')})`,
      '9:9: layer "l2": command project name "a" is already used in this layer: each command project needs its own name',
    ]);
  });
});
