// Honesty check of the layer-1 suite: a matrix cell must turn red when the protection it claims
// to cover is gone. For each (issue, unsafe switch) pair this runs the real CLI,
// `faultline run --layer l1 --issue <id>` with FAULTLINE_BREAK=<switch> (suites/l1/test/helpers.ts
// turns it into `unsafe: { <switch>: true }` for every media-cache the suite starts), gates the
// results and expects the cell to be `failed`. A control run of the whole layer without any
// break must leave the same cells `covered`.
//
// Run by the root vitest config: `npx vitest run suites/l1/honesty` from the repository root
// (about a minute: one full l1 run plus one filtered run per pair).

import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/faultline.js');
const SEED = '1';

/** Each issue with the unsafe switch that removes the protection its l1 tests cover. */
const PAIRS = [
  { issue: 'chunk-corruption', breaks: 'skipChunkVerify' },
  { issue: 'atomic-chunk', breaks: 'indexBeforeChunkRename' },
  { issue: 'health-parallel', breaks: 'serialHealthChecks' },
  { issue: 'api-fast-path', breaks: 'statusThroughQueue' },
  { issue: 'read-timeout', breaks: 'noReadDeadline' },
  { issue: 'scan-resume', breaks: 'nonMonotonicCheckpoint' },
] as const;

/** A bound on one CLI run; the layer's own timeout (5 min) is far above what l1 takes. */
const RUN_TIMEOUT_MS = 120_000;

interface Cell {
  issue: string;
  layer: string;
  state: string;
  reason?: string;
  tests: Array<{ fullName: string; state: string; evidence: number }>;
  evidence: unknown[];
}

const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

/** This process's env without vitest's and faultline's own variables (the child runs its own vitest). */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('VITEST') || key.startsWith('FAULTLINE_')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
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
async function faultline(args: string[], env: Record<string, string>): Promise<{ exitCode: number; output: string }> {
  const child = execa(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: childEnv(env),
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

/** run + gate into a fresh temp dir; returns the l1 cells of matrix.json by issue. */
async function runAndGate(options: {
  issue?: string;
  breaks?: string;
}): Promise<{ cells: Map<string, Cell>; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'l1-honesty-'));
  temps.push(dir);
  const env: Record<string, string> = options.breaks === undefined ? {} : { FAULTLINE_BREAK: options.breaks };
  const run = await faultline(
    [
      'run',
      '--layer',
      'l1',
      ...(options.issue === undefined ? [] : ['--issue', options.issue]),
      '--seed',
      SEED,
      '--results',
      join(dir, 'results'),
    ],
    env,
  );
  const gate = await faultline(
    ['gate', '--layer', 'l1', '--results', join(dir, 'results'), '--out', join(dir, 'reports')],
    {},
  );
  const log = `--- run (exit ${run.exitCode})\n${run.output}\n--- gate (exit ${gate.exitCode})\n${gate.output}`;
  const matrix = JSON.parse(await readFile(join(dir, 'reports', 'matrix.json'), 'utf8')) as { cells: Cell[] };
  const results = JSON.parse(await readFile(join(dir, 'results', 'l1.json'), 'utf8')) as { errors: unknown[] };
  // A broken switch must fail tests, not the collection (that would be a file error, not a red cell).
  expect(results.errors, log).toEqual([]);
  return { cells: new Map(matrix.cells.filter((c) => c.layer === 'l1').map((c) => [c.issue, c])), log };
}

/** At most two CLI runs at a time (two cores). */
function limit(n: number) {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((r) => queue.push(r));
    active += 1;
    try {
      return await fn();
    } finally {
      active -= 1;
      queue.shift()?.();
    }
  };
}
const slot = limit(2);

describe('l1 honesty', () => {
  test('control: with every protection on, the paired cells are covered', {
    timeout: RUN_TIMEOUT_MS * 2 + 10_000,
  }, async () => {
    const { cells, log } = await runAndGate({});
    for (const { issue } of PAIRS) {
      const cell = cells.get(issue);
      expect(cell?.state, `${issue} × l1 without a break\n${log}`).toBe('covered');
    }
  });

  describe.concurrent('with one protection turned off', () => {
    for (const { issue, breaks } of PAIRS) {
      test(`FAULTLINE_BREAK=${breaks} turns ${issue} × l1 red`, { timeout: RUN_TIMEOUT_MS * 3 + 10_000 }, async () => {
        const { cells, log } = await slot(() => runAndGate({ issue, breaks }));
        const cell = cells.get(issue);
        expect(cell, log).toBeDefined();
        expect(cell!.state, `${issue} × l1 with ${breaks}\n${log}`).toBe('failed');
        // The faults still fired (evidence recorded); it is the missing protection that failed the tests.
        expect(
          cell!.tests.some((t) => t.state === 'failed' && t.evidence > 0),
          log,
        ).toBe(true);
      });
    }
  });
});
