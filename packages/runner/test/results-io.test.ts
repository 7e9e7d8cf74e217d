import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { demo, faultline } from './helpers.ts';

function resultsDir(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'faultline-results-')), 'results');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('reading results files', () => {
  test('a torn results file is a config error at its line and column, and no report is written', async () => {
    const dir = resultsDir({ 'l1.json': '{\n  "schema": "faultline/results@1",\n  "layer": "l1",\n  "tests": [\n' });
    const r = await faultline(['gate', '--matrix', join(demo, 'matrix.yaml'), '--results', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(`^${join(dir, 'l1.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: invalid JSON`),
    );
    expect(readdirSync(r.dir)).not.toContain('reports');
  });

  test('a JSON file that is not faultline results is refused by name', async () => {
    const dir = resultsDir({ 'l1.json': '{"hello": "world"}' });
    const r = await faultline(['gate', '--matrix', join(demo, 'matrix.yaml'), '--results', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('l1.json:1:1: not a faultline results file (expected "schema": "faultline/results@1")');
  });
});
