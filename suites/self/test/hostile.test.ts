// hostile-tests and hung-worker: the tests faultline runs are not on its side.
// - Tests that call process.exit(0), kill their own process group, close their stdout, flood 100 MB of
//   output, or leave a detached daemon deaf to SIGTERM: the run completes, reports each test or file
//   with a reason, and leaves no process behind. Break: FAULTLINE_BREAK=noAttemptReap (the daemon stays).
// - A test that hangs past the layer timeout: the worker tree (a detached daemon included) is killed at
//   the timeout, the file is reported as killed there, the test that finished before it is kept, and the
//   run ends. Break: FAULTLINE_BREAK=noLayerTimeout (the run hangs).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, fixture, fixtureMatrix, layerConfig, markedProcesses, readJson, runCli } from './helpers.ts';

afterEach(cleanup);

const file = (lines: string[]) => [...lines, ''].join('\n');

const hostile = {
  'l2/exit.test.ts': file([
    "import { test } from 'vitest';",
    "test('calls process.exit(0)', { tags: ['work'] }, () => {",
    '  process.exit(0);',
    '});',
  ]),
  'l2/close-stdout.test.ts': file([
    "import { closeSync } from 'node:fs';",
    "import { test } from 'vitest';",
    "test('closes its stdout', { tags: ['work'] }, () => {",
    '  closeSync(1);',
    "  console.log('written to a closed stdout');",
    '});',
  ]),
  'l2/flood.test.ts': file([
    "import { test } from 'vitest';",
    "test('floods 100 MB of output', { tags: ['work'] }, () => {",
    "  const mb = `${'x'.repeat(1024 * 1024 - 1)}\\n`;",
    '  for (let i = 0; i < 100; i++) process.stdout.write(mb);',
    '});',
  ]),
  'l2/daemon.test.ts': file([
    "import { spawn } from 'node:child_process';",
    "import { writeFileSync } from 'node:fs';",
    "import { join } from 'node:path';",
    "import { test } from 'vitest';",
    "test('leaves a daemon deaf to SIGTERM', { tags: ['work'] }, () => {",
    '  const script = "process.on(\'SIGTERM\', () => {}); setInterval(() => {}, 1000)";',
    "  const daemon = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });",
    '  daemon.unref();',
    "  writeFileSync(join(process.env.SELF_PIDS, 'daemon'), String(daemon.pid));",
    '});',
  ]),
  // Alone in its layer: it takes its whole worker with it.
  'l3/killpg.test.ts': file([
    "import { test } from 'vitest';",
    "test('kills its own process group', { tags: ['work'] }, () => {",
    "  process.kill(0, 'SIGKILL');",
    '});',
  ]),
};

function alive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped by init) is not running: only its /proc stat says so.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('hostile tests', () => {
  test('process.exit, a killed process group, a closed stdout, 100 MB of output, a deaf daemon: the run completes, names each, leaves nothing', {
    tags: ['hostile-tests'],
  }, async () => {
    const fx = fixture({
      'matrix.yaml': fixtureMatrix(['l2', 'l3']),
      'l2/vitest.config.ts': layerConfig('l2'),
      'l3/vitest.config.ts': layerConfig('l3'),
      ...hostile,
    });
    const ran = await runCli(fx, ['run'], {}, 120_000);
    const daemon = Number(readFileSync(join(fx.pids, 'daemon'), 'utf8'));
    const left = markedProcesses(fx.mark);
    recordFault({
      kind: 'process',
      name: 'hostile-tests',
      detail: `tests called process.exit(0), SIGKILLed their process group, closed stdout, wrote ${Math.round(ran.bytes / 2 ** 20)} MiB of output and left daemon ${daemon} ignoring SIGTERM; the run exited ${ran.code}, ${left.length} processes left`,
      attributes: { exitCode: ran.code ?? -1, outputBytes: ran.bytes, left: left.length },
    });
    expect(alive(daemon), `daemon ${daemon} deaf to SIGTERM is still running`).toBe(false);
    expect(left).toEqual([]);
    expect(ran.code, ran.stderr.slice(-2000)).toBe(1);
    expect(ran.bytes).toBeGreaterThanOrEqual(100 * 2 ** 20);

    const l2 = readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l2.json'));
    const state = (f: string) => l2.tests.find((t) => t.file === f);
    expect(state('l2/exit.test.ts')?.state).toBe('failed');
    expect(state('l2/exit.test.ts')?.errors[0]?.message).toMatch(/process\.exit unexpectedly called/);
    expect(state('l2/flood.test.ts')?.state).toBe('passed');
    expect(l2.errors.find((e) => e.file === 'l2/close-stdout.test.ts')?.message).toMatch(/EBADF/);
    const l3 = readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l3.json'));
    expect(l3.projects[0]?.outcome).toBe('crashed');
    expect(l3.errors).toEqual([
      expect.objectContaining({
        file: 'l3/killpg.test.ts',
        kind: 'crash',
        message: expect.stringMatching(/SIGKILL.*while this file was running/),
      }),
    ]);
  });

  test('a test that hangs past the layer timeout: killed with its children and its detached daemon at the timeout, named, the tests before it kept, the run ends', {
    tags: ['hung-worker'],
  }, async () => {
    const fx = fixture({
      'matrix.yaml': fixtureMatrix(['l2'], '15s'),
      'l2/vitest.config.ts': layerConfig('l2', 600_000),
      'l2/hang.test.ts': file([
        "import { spawn } from 'node:child_process';",
        "import { writeFileSync } from 'node:fs';",
        "import { join } from 'node:path';",
        "import { recordFault } from '@faultline/vitest';",
        "import { test } from 'vitest';",
        "test('finishes', { tags: ['work'] }, () => {",
        "  recordFault({ kind: 'demo', name: 'quick', detail: 'a fault that acted' });",
        '});',
        "test('hangs', { tags: ['work'] }, async () => {",
        "  const loop = ['-e', 'setInterval(() => {}, 1000)'];",
        "  const child = spawn(process.execPath, loop, { stdio: 'ignore' });",
        '  // A daemon in its own process group, as l2 tests start them: the timeout must not orphan it.',
        "  const daemon = spawn(process.execPath, loop, { detached: true, stdio: 'ignore' });",
        '  daemon.unref();',
        "  writeFileSync(join(process.env.SELF_PIDS, 'hung'), JSON.stringify({ child: child.pid, daemon: daemon.pid }));",
        '  await new Promise(() => {});',
        '});',
      ]),
    });
    const started = Date.now();
    const ran = await runCli(fx, ['run'], {}, 60_000);
    const elapsed = Date.now() - started;
    // The layer timeout is generous so that even a loaded machine starts the test before it.
    expect(existsSync(join(fx.pids, 'hung')), 'the hanging test never started').toBe(true);
    const { child, daemon } = readJson<{ child: number; daemon: number }>(join(fx.pids, 'hung'));
    recordFault({
      kind: 'timeout',
      name: 'hung-worker',
      detail: `a test that never returns (with a child, pid ${child}, and a detached daemon, pid ${daemon}) under a 15 s layer timeout; the run exited ${ran.code} after ${elapsed} ms`,
      attributes: { elapsedMs: elapsed },
    });
    expect(ran.code).toBe(1);
    // Killed with the tree, not orphaned: the child in the worker's group and the daemon in its own.
    expect(alive(child), `child ${child} of the hung test is still running`).toBe(false);
    expect(alive(daemon), `detached daemon ${daemon} of the hung test is still running`).toBe(false);
    expect(markedProcesses(fx.mark)).toEqual([]);
    expect(ran.stdout + ran.stderr).toContain('killed at the layer timeout (15s)');
    const results = join(fx.root, '.faultline', 'results');
    const l2 = readJson<LayerResults>(join(results, 'l2.json'));
    expect(l2.projects[0]?.outcome).toBe('timeout');
    // The test that finished before the hang is kept, with its state.
    expect(l2.tests.map((t) => [t.name, t.state])).toContainEqual(['finishes', 'passed']);
    expect(l2.errors).toEqual([
      expect.objectContaining({
        file: 'l2/hang.test.ts',
        kind: 'timeout',
        message: expect.stringMatching(/layer timeout \(15s\)/),
      }),
    ]);
    expect(readdirSync(results).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
