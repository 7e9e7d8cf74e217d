import { describe, expect, test } from 'vitest';
import { requiredLayers } from '../src/index.ts';
import type { MatrixInput } from '../src/schema.ts';
import { matrix } from './factories.ts';

const layers = {
  l1: { title: 'Mocks', projects: ['suite-l1'] },
  l2: { title: 'Crash', projects: ['suite-l2'] },
  l3: { title: 'Network', projects: ['suite-l3'] },
};

function required(input: Pick<MatrixInput, 'issues' | 'policy'>): Record<string, string[]> {
  const m = matrix({ layers, ...input });
  return Object.fromEntries(m.issues.map((issue) => [issue.id, [...requiredLayers(m, issue)]]));
}

describe('requiredLayers', () => {
  test("an issue's own layers, with no policy", () => {
    expect(
      required({
        issues: [
          { id: 'a', title: 'A', severity: 'low', layers: ['l2'] },
          { id: 'b', title: 'B', severity: 'low', layers: ['l3', 'l1'] },
          { id: 'c', title: 'C', severity: 'low' },
        ],
      }),
    ).toEqual({ a: ['l2'], b: ['l1', 'l3'], c: [] });
  });

  test('a rule without `when` applies to every issue and adds to its own layers', () => {
    expect(
      required({
        policy: { require: [{ layers: ['l1'] }] },
        issues: [
          { id: 'a', title: 'A', severity: 'low', layers: ['l3'] },
          { id: 'b', title: 'B', severity: 'high', layers: ['l1'] },
        ],
      }),
    ).toEqual({ a: ['l1', 'l3'], b: ['l1'] });
  });

  test('rules by a single severity and by a list of severities', () => {
    expect(
      required({
        policy: {
          require: [
            { when: { severity: 'critical' }, layers: ['l2'] },
            { when: { severity: ['high', 'medium'] }, layers: ['l3'] },
          ],
        },
        issues: [
          { id: 'crit', title: 'A', severity: 'critical' },
          { id: 'high', title: 'B', severity: 'high' },
          { id: 'med', title: 'C', severity: 'medium' },
          { id: 'low', title: 'D', severity: 'low', layers: ['l1'] },
        ],
      }),
    ).toEqual({ crit: ['l2'], high: ['l3'], med: ['l3'], low: ['l1'] });
  });

  test('rules by tags match an issue carrying any of them', () => {
    expect(
      required({
        policy: { require: [{ when: { tags: ['network', 'dns'] }, layers: ['l3'] }] },
        issues: [
          { id: 'a', title: 'A', severity: 'low', tags: ['dns'] },
          { id: 'b', title: 'B', severity: 'low', tags: ['process', 'network'] },
          { id: 'c', title: 'C', severity: 'low', tags: ['process'], layers: ['l1'] },
          { id: 'd', title: 'D', severity: 'low', layers: ['l1'] },
        ],
      }),
    ).toEqual({ a: ['l3'], b: ['l3'], c: ['l1'], d: ['l1'] });
  });

  test('severity and tags in one `when` must both match', () => {
    expect(
      required({
        policy: { require: [{ when: { severity: 'critical', tags: ['network'] }, layers: ['l3'] }] },
        issues: [
          { id: 'both', title: 'A', severity: 'critical', tags: ['network'] },
          { id: 'sev', title: 'B', severity: 'critical', tags: ['disk'], layers: ['l1'] },
          { id: 'tag', title: 'C', severity: 'low', tags: ['network'], layers: ['l1'] },
        ],
      }),
    ).toEqual({ both: ['l3'], sev: ['l1'], tag: ['l1'] });
  });

  test('the union comes out in matrix column order, without duplicates', () => {
    const m = matrix({
      layers: { l3: layers.l3, l1: layers.l1, l2: layers.l2 },
      policy: {
        require: [{ layers: ['l2', 'l1'] }, { when: { tags: ['network'] }, layers: ['l3', 'l1'] }],
      },
      issues: [{ id: 'a', title: 'A', severity: 'low', tags: ['network'], layers: ['l1', 'l2'] }],
    });
    expect([...requiredLayers(m, m.issues[0]!)]).toEqual(['l3', 'l1', 'l2']);
  });
});
