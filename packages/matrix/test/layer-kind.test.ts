import { describe, expect, test } from 'vitest';
import { layerKind, parseMatrix } from '../src/index.ts';

const text = (layers: string) =>
  [
    'version: 1',
    'system: demo',
    'layers:',
    layers,
    'policy: { require: [{ layers: [l1] }] }',
    'issues:',
    '  - { id: a, title: A, severity: low }',
    '',
  ].join('\n');

describe('layer kind', () => {
  test('declared, or implied by the well-known id wherever the layer sits; any other id is process', () => {
    const { layers } = parseMatrix(
      text(
        [
          '  l3: { title: Net, projects: [p3] }',
          '  l1: { title: Unit, projects: [p1] }',
          '  l2: { title: Proc, projects: [p2] }',
          '  quick: { title: Quick, projects: [p4], kind: unit }',
          '  other: { title: Other, projects: [p5] }',
        ].join('\n'),
      ),
      'matrix.yaml',
    );
    expect(Object.entries(layers).map(([id, l]) => `${id}:${layerKind(id, l)}`)).toEqual([
      'l3:network',
      'l1:unit',
      'l2:process',
      'quick:unit',
      'other:process',
    ]);
  });

  test('an unknown kind is an error at its place', () => {
    expect(() => parseMatrix(text('  l1: { title: Unit, projects: [p1], kind: fast }'), 'matrix.yaml')).toThrow(
      /matrix\.yaml:4:\d+: layers\.l1\.kind: /,
    );
  });
});
