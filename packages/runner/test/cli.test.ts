import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { demo, faultline } from './helpers.ts';

function badMatrix(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'faultline-cli-')), 'matrix.yaml');
  writeFileSync(file, text);
  return file;
}

describe('faultline CLI usage and config errors', () => {
  test('a bad matrix: exit 2, file:line:col, no stack trace, nothing written', async () => {
    const file = badMatrix(
      'version: 1\nsystem: x\nlayers:\n  l1: { title: a, projects: [p] }\nissues:\n  - { id: a, title: t, severity: urgent }\n',
    );
    for (const cmd of ['validate', 'run', 'gate', 'list']) {
      const r = await faultline([cmd, '--matrix', file]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        new RegExp(
          `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:34: issues\\[0\\]\\.severity: severity must be one of`,
        ),
      );
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  test('a project the workspace lacks is reported at its line in the matrix', async () => {
    const r = await faultline(['validate', '--matrix', join(demo, 'matrix.yaml')]);
    expect(r.code).toBe(0);
    const missing = badMatrix(
      'version: 1\nsystem: x\nlayers:\n  l1: { title: a, projects: [nope] }\nissues:\n  - { id: a, title: t, severity: low, layers: [l1] }\n',
    );
    const v = await faultline(['validate', '--matrix', missing]);
    expect(v.code).toBe(2);
    expect(v.err).toMatch(/matrix\.yaml:4:30: layer "l1": project "nope" is not a project of this workspace/);
  });

  test('unknown command, layer, issue, bad seed and shard are usage errors (exit 2)', async () => {
    const m = join(demo, 'matrix.yaml');
    expect((await faultline(['explode'])).code).toBe(2);
    const layer = await faultline(['run', '--matrix', m, '--layer', 'l9']);
    expect([layer.code, layer.err]).toEqual([2, expect.stringContaining('unknown layer "l9" (layers of')]);
    const issue = await faultline(['run', '--matrix', m, '--issue', 'nope']);
    expect([issue.code, issue.err]).toEqual([2, expect.stringContaining('unknown issue "nope"')]);
    const seed = await faultline(['run', '--matrix', m, '--seed', 'abc']);
    expect([seed.code, seed.err]).toEqual([2, expect.stringContaining('--seed takes a whole number')]);
    const shard = await faultline(['run', '--matrix', m, '--shard', '3/2']);
    expect([shard.code, shard.err]).toEqual([2, expect.stringContaining('--shard takes i/n')]);
    const flag = await faultline(['gate', '--matrix', m, '--bogus']);
    expect([flag.code, flag.err]).toEqual([2, expect.stringContaining("Unknown option '--bogus'")]);
  });

  test('--issue runs only the tests tagged with that issue', async () => {
    const r = await faultline(['run', '--matrix', join(demo, 'matrix.yaml'), '--layer', 'l1', '--issue', 'crash']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('1 test, 0 failed');
  });

  test('--reporter picks the reports by name; a typo is a usage error with the nearest name', async () => {
    const m = join(demo, 'matrix.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'faultline-reporters-'));
    const run = ['run', '--matrix', m, '--layer', 'l1', '--results', join(dir, 'results'), '--gate'];
    const r = await faultline([...run, '--reporter', 'json,junit']);
    expect(r.code, `${r.out}\n${r.err}`).not.toBe(2);
    const out = join(r.dir, 'reports'); // the helper's --out
    expect(readdirSync(out).sort()).toEqual(['junit', 'matrix.json']);
    expect(readdirSync(join(out, 'junit')).sort()).toEqual(['l1.xml', 'matrix.xml']);
    const typo = await faultline(['gate', '--matrix', m, '--results', join(dir, 'results'), '--reporter', 'htm']);
    expect([typo.code, typo.err]).toEqual([
      2,
      expect.stringContaining('unknown reporter "htm" (did you mean `html`?); reporters: junit, markdown, html, json'),
    ]);
  });
});
