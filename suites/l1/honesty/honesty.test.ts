// Honesty check of the layer-1 suite, through the product's own mechanism: the root matrix.yaml
// declares the breaks that remove each issue's protection (`breaks: [{ name, layers: [l1] }]`), and
// `faultline verify` (the built CLI) runs each with FAULTLINE_BREAK=<name> (suites/l1/test/helpers.ts
// turns it into `unsafe: { <name>: true }` for every media-cache the suite starts) and expects the
// cell `failed`, after a control without any break left it `covered`.
//
// A sample keeps `npm test` in its time: the six original l1 pairs (one full l1 control run plus one
// filtered run per break, two at a time: under 2 min on the 2-core machine). `faultline verify` with no filter
// runs every declared break of the matrix (see the README's "Honest cells").

import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { declaredBreaks, loadMatrix, requiredLayers, type VerifyResults } from '@faultline/matrix';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/faultline.js');
const SEED = '1';

/** The sample: each issue with the unsafe switch that removes the protection its l1 tests cover. */
const SAMPLE = [
  { issue: 'chunk-corruption', name: 'skipChunkVerify' },
  { issue: 'atomic-chunk', name: 'indexBeforeChunkRename' },
  { issue: 'health-parallel', name: 'serialHealthChecks' },
  { issue: 'api-fast-path', name: 'statusThroughQueue' },
  { issue: 'read-timeout', name: 'noReadDeadline' },
  { issue: 'scan-resume', name: 'nonMonotonicCheckpoint' },
] as const;

/** A bound on the whole verify run (7 runs of l1, each far below the layer's own 5 min timeout). */
const RUN_TIMEOUT_MS = 480_000;

const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

/** This process's env without vitest's and faultline's own variables (the child runs its own vitest). */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('VITEST') || key.startsWith('FAULTLINE_')) continue;
    env[key] = value;
  }
  return env;
}

/** Descendants of `pid` (children first found through /proc), so a timed-out run leaves no orphans. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Runs the faultline CLI, bounded: on timeout the CLI and everything under it are killed. */
async function faultline(args: string[]): Promise<{ exitCode: number; output: string }> {
  const child = execa(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: childEnv(),
    extendEnv: false,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    const pid = child.pid;
    if (pid === undefined) return;
    for (const p of [...descendants(pid).reverse(), pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, RUN_TIMEOUT_MS);
  const result = await child;
  clearTimeout(timer);
  const output = String(result.all ?? '');
  if (timedOut) throw new Error(`faultline ${args.join(' ')} did not finish within ${RUN_TIMEOUT_MS} ms\n${output}`);
  return { exitCode: result.exitCode ?? -1, output };
}

describe('l1 honesty (faultline verify)', () => {
  test('the matrix declares each sampled break on its l1 cell', () => {
    const { matrix } = loadMatrix(join(ROOT, 'matrix.yaml'));
    for (const { issue, name } of SAMPLE) {
      const declared = matrix.issues.find((i) => i.id === issue)?.breaks ?? [];
      expect(declared, `${issue} declares ${name} on l1`).toContainEqual(
        expect.objectContaining({ name, layers: expect.arrayContaining(['l1']) }),
      );
    }
  });

  test('every required cell of a critical or high issue declares at least one break', () => {
    const { matrix } = loadMatrix(join(ROOT, 'matrix.yaml'));
    const bare = matrix.issues
      .filter((i) => i.severity === 'critical' || i.severity === 'high')
      .flatMap((i) => [...requiredLayers(matrix, i)].map((layer) => ({ issue: i, layer })))
      .filter(({ issue, layer }) => declaredBreaks(issue, layer).length === 0)
      .map(({ issue, layer }) => `${issue.id} × ${layer}`);
    expect(bare).toEqual([]);
  });

  test('faultline verify: every sampled break turns its cell red; without it the cell is covered', {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'l1-honesty-'));
    temps.push(dir);
    const results = join(dir, 'results');
    const { exitCode, output } = await faultline([
      'verify',
      '--layer',
      'l1',
      '--issue',
      SAMPLE.map((s) => s.issue).join(','),
      '--break',
      SAMPLE.map((s) => s.name).join(','),
      '--seed',
      SEED,
      '--jobs',
      '2',
      '--results',
      results,
    ]);
    expect(exitCode, output).toBe(0);
    const verify = JSON.parse(await readFile(join(results, 'verify.json'), 'utf8')) as VerifyResults;
    for (const { issue, name } of SAMPLE) {
      const control = verify.controls.find((c) => c.issue === issue && c.layer === 'l1');
      expect(control?.state, `${issue} × l1 without a break\n${output}`).toBe('covered');
      const r = verify.breaks.find((b) => b.issue === issue && b.layer === 'l1' && b.name === name);
      expect(r, output).toBeDefined();
      expect([r!.outcome, r!.state], `${issue} × l1 with ${name}\n${output}`).toEqual(['caught', 'failed']);
      // A break must fail tests, not their collection (that would be a file error, not a red cell).
      expect(r!.fileErrors, output).toBeUndefined();
      expect(r!.failed?.length, output).toBeGreaterThan(0);
    }
    expect(output).toContain(`verify: ${SAMPLE.length} of ${SAMPLE.length} breaks caught`);
  });
});
