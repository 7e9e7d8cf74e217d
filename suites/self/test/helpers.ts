// Real processes for faultline's own matrix: a throwaway project per test, the built CLI started on
// it, and a /proc scan for anything a fixture left behind.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { killProcessesWithEnv, processesWithEnv } from '@faultline/runner';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export const cliBin = join(repoRoot, 'packages', 'cli', 'bin', 'faultline.js');

const cleanups: Array<() => void> = [];

/** Runs (in reverse order) what the tests registered: kill leftovers, unmount, remove temp dirs. */
export function cleanup(): void {
  for (const undo of cleanups.splice(0).reverse()) {
    try {
      undo();
    } catch {
      // Best effort: one failed cleanup must not skip the others.
    }
  }
}

export function onCleanup(undo: () => void): void {
  cleanups.push(undo);
}

/** The vitest config of a fixture layer: its tests are `*.test.ts` beside it. */
export function layerConfig(layer: string, testTimeout = 120_000): string {
  return [
    "import { defineLayerProject } from '@faultline/vitest';",
    "import { defineConfig } from 'vitest/config';",
    `export default defineConfig(defineLayerProject({ layer: '${layer}', root: import.meta.dirname, include: ['*.test.ts'], testTimeout: ${testTimeout} }));`,
    '',
  ].join('\n');
}

/** A matrix with one issue (`work`) required in each of `layers`, each layer a directory `./<layer>`. */
export function fixtureMatrix(layers: readonly string[], timeout = '2m'): string {
  return [
    'version: 1',
    'system: fixture',
    'layers:',
    ...layers.map((l) => `  ${l}: { title: Fixture ${l}, projects: [./${l}], timeout: ${timeout} }`),
    'policy: { require: [] }',
    'issues:',
    `  - { id: work, title: Does its work, severity: high, layers: [${layers.join(', ')}] }`,
    '',
  ].join('\n');
}

/** A passing test of the `work` issue that records a fault (so its cell is covered). */
export const quickTest = [
  "import { recordFault } from '@faultline/vitest';",
  "import { expect, test } from 'vitest';",
  "test('does its work', { tags: ['work'] }, () => {",
  "  recordFault({ kind: 'demo', name: 'quick', detail: 'a fault that acted' });",
  '  expect(1 + 1).toBe(2);',
  '});',
  '',
].join('\n');

export interface Fixture {
  root: string;
  /** Every process the fixture's run starts carries SELF_MARK=<mark> in its environment. */
  mark: string;
  /** A directory the fixture tests write pids and progress notes to (`SELF_PIDS`). */
  pids: string;
}

/** A one-package project in a temp dir; @faultline/* and vitest come through a link to this repo's node_modules. */
export function fixture(files: Record<string, string>): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'faultline-self-'));
  const mark = randomUUID();
  const pids = join(root, 'pids');
  mkdirSync(pids);
  const all = { 'package.json': JSON.stringify({ name: 'fixture', type: 'module' }), ...files };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
  onCleanup(() => rmSync(root, { recursive: true, force: true }));
  onCleanup(() => killMarked(mark));
  return { root, mark, pids };
}

/** The pids whose environment holds `SELF_MARK=<mark>` (Linux /proc; zombies hold no environment). */
export function markedProcesses(mark: string): number[] {
  return processesWithEnv('SELF_MARK', mark);
}

/** SIGKILLs what a fixture left (after the test has looked): a failing test leaves nothing either. */
export function killMarked(mark: string): number[] {
  return killProcessesWithEnv('SELF_MARK', mark);
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the CLI exits: its code (or signal), output, and when it exited. */
  exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    /** The last 200 kB of each stream (a test may flood them), and how many bytes each carried. */
    stdout: string;
    stderr: string;
    bytes: number;
    at: number;
  }>;
}

/**
 * This process's environment without vitest's and the outer run's own variables (the CLI runs its own
 * vitest and its own run), but with FAULTLINE_BREAK (how `faultline verify` reaches the CLI under test)
 * and FAULTLINE_ATTEMPT_ID (so the outer run reaps whatever the CLI under test might leave).
 */
function cliEnv(): Record<string, string> {
  const keep = new Set(['FAULTLINE_BREAK', 'FAULTLINE_ATTEMPT_ID']);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('VITEST') || (key.startsWith('FAULTLINE_') && !keep.has(key))) continue;
    env[key] = value;
  }
  return env;
}

/** Starts the built CLI in `fx.root` (its own process group, so a stuck one can be killed whole). */
export function startCli(fx: Fixture, args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [cliBin, ...args], {
    cwd: fx.root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...cliEnv(), CI: '1', SELF_MARK: fx.mark, SELF_PIDS: fx.pids, ...env },
  });
  let stdout = '';
  let stderr = '';
  let bytes = 0;
  child.stdout?.on('data', (c: Buffer) => {
    bytes += c.length;
    stdout = (stdout + c.toString()).slice(-200_000);
  });
  child.stderr?.on('data', (c: Buffer) => {
    bytes += c.length;
    stderr = (stderr + c.toString()).slice(-200_000);
  });
  const exited = new Promise<Awaited<CliRun['exited']>>((done) => {
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr, bytes, at: Date.now() }));
  });
  onCleanup(() => {
    try {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  return { child, exited };
}

/** Runs the CLI to its end, bounded: a run that outlives `ms` is killed and the promise rejects. */
export async function runCli(fx: Fixture, args: string[], env: Record<string, string> = {}, ms = 90_000) {
  const run = startCli(fx, args, env);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      try {
        if (run.child.pid) process.kill(-run.child.pid, 'SIGKILL');
      } catch {
        // Its group is gone already; what matters is that it did not end in time.
      }
      fail(new Error(`faultline ${args.join(' ')} did not end within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([run.exited, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 50 ms until it returns a value, or fails naming what it waited for. */
export async function waitFor<T>(what: string, check: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Runs a command to its end (mount, umount); its exit code and output. */
export function sh(command: string, args: string[]): { code: number; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** A mount command as root: directly when we are root, else through passwordless sudo (GitHub's runners). */
function asRoot(command: string, args: string[]): { code: number; output: string } {
  return process.getuid?.() === 0 ? sh(command, args) : sh('sudo', ['-n', command, ...args]);
}

/**
 * Mounts a tmpfs of `size` at `dir` (root or passwordless sudo), unmounted at cleanup; the reason it
 * cannot otherwise (for `ctx.skip`). A tmpfs's root is mode 1777: the CLI writes there as any user.
 */
export function mountTmpfs(dir: string, size: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  const r = asRoot('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (r.code !== 0) return `cannot mount a tmpfs (needs root or passwordless sudo): ${r.output}`;
  onCleanup(() => asRoot('umount', ['-l', dir]));
  return undefined;
}

/** Makes `dir` read-only by bind-mounting it over itself read-only (root or sudo); the reason it cannot. */
export function remountReadOnly(dir: string): string | undefined {
  const bind = asRoot('mount', ['--bind', dir, dir]);
  if (bind.code !== 0) return `cannot bind-mount (needs root or passwordless sudo): ${bind.output}`;
  onCleanup(() => asRoot('umount', ['-l', dir]));
  const ro = asRoot('mount', ['-o', 'remount,ro,bind', dir]);
  return ro.code === 0 ? undefined : `cannot remount read-only: ${ro.output}`;
}

/** Every file under `dir` with its bytes (to prove a failed run left earlier files as they were). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    out[file.slice(dir.length + 1)] = readFileSync(file, 'latin1');
  }
  return out;
}
