import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { defineLayerProject, findMatrix, issueTags, loadIssueTags } from '../src/index.ts';

const MATRIX = `version: 1
system: demo
layers:
  l1: { title: Unit, projects: [p1] }
  l2: { title: Process, projects: [p2] }
policy: { require: [{ layers: [l1] }] }
issues:
  - { id: retry, ref: "1.1", title: Retries a failing call, severity: high }
  - { id: crash, title: Survives a crash, severity: critical }
`;

function workspace(matrix = MATRIX): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-vitest-'));
  writeFileSync(join(dir, 'matrix.yaml'), matrix);
  return dir;
}

describe('issue tags and defineLayerProject', () => {
  const saved = process.env.FAULTLINE_MATRIX;
  afterEach(() => {
    if (saved === undefined) delete process.env.FAULTLINE_MATRIX;
    else process.env.FAULTLINE_MATRIX = saved;
  });

  test('one strict tag per issue, described by ref, title and severity', () => {
    delete process.env.FAULTLINE_MATRIX;
    const { matrix, tags } = loadIssueTags(join(workspace(), 'matrix.yaml'));
    expect(issueTags(matrix)).toEqual(tags);
    expect(tags).toEqual([
      { name: 'retry', description: '1.1 Retries a failing call [high]' },
      { name: 'crash', description: 'Survives a crash [critical]' },
    ]);
  });

  test('a layer project: tags, strictTags, locations, the evidence setup file, layer defaults', () => {
    delete process.env.FAULTLINE_MATRIX;
    const root = workspace();
    const l1 = defineLayerProject({ layer: 'l1', root }).test!;
    expect(l1).toMatchObject({
      root,
      strictTags: true,
      includeTaskLocation: true,
      fileParallelism: true,
      testTimeout: 10_000,
    });
    expect(l1.tags?.map((t) => t.name)).toEqual(['retry', 'crash']);
    expect(String(l1.setupFiles?.[0])).toMatch(/packages\/vitest\/src\/setup\.ts$/);
    const l2 = defineLayerProject({ layer: 'l2', root, fileParallelism: true }).test!;
    expect(l2).toMatchObject({ fileParallelism: true, testTimeout: 60_000 });
  });

  test("layer defaults follow the layer's kind, never its position in the matrix", () => {
    delete process.env.FAULTLINE_MATRIX;
    // l3 listed first: before, the first layer got l1's 10 s timeout and parallel files.
    const reordered = [
      'version: 1',
      'system: demo',
      'layers:',
      '  l3: { title: Network, projects: [p3] }',
      '  l1: { title: Unit, projects: [p1] }',
      '  fast: { title: Custom unit, projects: [p4], kind: unit }',
      '  slow: { title: Custom, projects: [p5] }',
      'policy: { require: [{ layers: [l1] }] }',
      'issues:',
      '  - { id: retry, title: Retries a failing call, severity: high }',
      '',
    ].join('\n');
    const root = workspace(reordered);
    expect(defineLayerProject({ layer: 'l3', root }).test).toMatchObject({
      testTimeout: 60_000,
      hookTimeout: 60_000,
      fileParallelism: false,
    });
    expect(defineLayerProject({ layer: 'l1', root }).test).toMatchObject({
      testTimeout: 10_000,
      fileParallelism: true,
    });
    expect(defineLayerProject({ layer: 'fast', root }).test).toMatchObject({
      testTimeout: 10_000,
      fileParallelism: true,
    });
    // An unknown id with no kind gets the careful defaults: real processes, one file at a time.
    expect(defineLayerProject({ layer: 'slow', root }).test).toMatchObject({
      testTimeout: 60_000,
      fileParallelism: false,
    });
    expect(defineLayerProject({ layer: 'l3', root, testTimeout: 5_000 }).test).toMatchObject({ testTimeout: 5_000 });
  });

  test('the matrix is found above the project, or through FAULTLINE_MATRIX', () => {
    const root = workspace();
    delete process.env.FAULTLINE_MATRIX;
    expect(findMatrix(join(root, 'suites', 'l1'))).toBe(join(root, 'matrix.yaml'));
    const other = workspace();
    process.env.FAULTLINE_MATRIX = join(other, 'matrix.yaml');
    expect(findMatrix(root)).toBe(join(other, 'matrix.yaml'));
  });

  test('an unknown layer, or a bad matrix, fails with the file named', () => {
    delete process.env.FAULTLINE_MATRIX;
    const root = workspace();
    expect(() => defineLayerProject({ layer: 'l9', root })).toThrow(
      /matrix\.yaml: defineLayerProject\(\{ layer: "l9" \}\) names no layer of the matrix \(layers: l1, l2\)/,
    );
    expect(() => defineLayerProject({ layer: 'L1', root })).toThrow(
      /names no layer of the matrix \(did you mean `l1`\?\) \(layers: l1, l2\)/,
    );
    const bad = workspace(MATRIX.replace('severity: high', 'severity: urgent'));
    expect(() => defineLayerProject({ layer: 'l1', root: bad })).toThrow(/matrix\.yaml:8:\d+: issues\[0\]\.severity/);
  });
});
