// Honesty check of faultline's own matrix (faultline.matrix.yaml), through the product's own
// mechanism: each issue declares the FAULTLINE_BREAK switch that removes its protection from the
// runner (packages/runner/src/breaks.ts), and `faultline verify` (the built CLI) runs the suite-self
// tests of the issue with it set, expecting the cell `failed` after a control without it left the
// cell `covered`. The switch reaches the CLI each test starts through the environment.
//
// A sample keeps `npm test` in its time: the two quickest breaks (two break runs, about 30 s on the
// 2-core machine, the controls taken from the latest `npm run self`; the interrupt pair alone takes
// a minute). `faultline verify --matrix faultline.matrix.yaml` runs all ten breaks of the eight
// issues (3.6 min; 10 of 10 caught).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { declaredBreaks, loadMatrix, requiredLayers, type VerifyResults } from '@faultline/matrix';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/faultline.js');
const MATRIX = join(ROOT, 'faultline.matrix.yaml');
const LATEST = join(ROOT, '.faultline', 'self', 'results', 'self.json');
const SAMPLE = [
  { issue: 'torn-results', name: 'rawResultsErrors' },
  { issue: 'matrix-changed', name: 'noMatrixRecheck' },
] as const;
const RUN_TIMEOUT_MS = 300_000;

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The built CLI in its own process group, bounded: on timeout the whole group is killed. */
function faultline(args: string[]): Promise<{ code: number | null; output: string }> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('VITEST') && !key.startsWith('FAULTLINE_')) env[key] = value;
  }
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, detached: true, stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output = (output + c.toString()).slice(-100_000);
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // Gone already.
      }
      fail(new Error(`faultline ${args.join(' ')} did not finish within ${RUN_TIMEOUT_MS} ms\n${output}`));
    }, RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('faultline.matrix.yaml honesty (faultline verify)', () => {
  test('every cell of faultline’s own matrix declares a break', () => {
    const { matrix } = loadMatrix(MATRIX);
    const bare = matrix.issues
      .flatMap((i) => [...requiredLayers(matrix, i)].map((layer) => ({ issue: i, layer })))
      .filter(({ issue, layer }) => declaredBreaks(issue, layer).length === 0)
      .map(({ issue, layer }) => `${issue.id} × ${layer}`);
    expect(bare).toEqual([]);
  });

  test('faultline verify: each sampled runner break turns its cell red; without it the cell is covered', {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'self-honesty-'));
    temps.push(dir);
    const results = join(dir, 'results');
    // The controls come from the latest `npm run self` (which npm test runs first) when it is there and
    // of this matrix; else verify runs them itself (two more minutes).
    mkdirSync(results);
    if (existsSync(LATEST)) copyFileSync(LATEST, join(results, 'self.json'));
    const { code, output } = await faultline([
      'verify',
      '--matrix',
      MATRIX,
      '--issue',
      SAMPLE.map((s) => s.issue).join(','),
      '--break',
      SAMPLE.map((s) => s.name).join(','),
      '--seed',
      '1',
      '--results',
      results,
    ]);
    expect(code, output).toBe(0);
    const verify = JSON.parse(readFileSync(join(results, 'verify.json'), 'utf8')) as VerifyResults;
    for (const { issue, name } of SAMPLE) {
      expect(verify.controls.find((c) => c.issue === issue)?.state, `${issue} without a break\n${output}`).toBe(
        'covered',
      );
      const r = verify.breaks.find((b) => b.issue === issue && b.name === name);
      expect([r?.outcome, r?.state], `${issue} with ${name}\n${output}`).toEqual(['caught', 'failed']);
    }
  });
});
