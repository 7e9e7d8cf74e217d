// torn-results, matrix-changed, concurrent-runs: inputs that change or tear under a run.
// - A results file cut in half: `faultline gate` names the file (file:line:col), says it is cut short, exits 2.
//   Break: FAULTLINE_BREAK=rawResultsErrors.
// - The matrix edited while a run is in flight: the run says so and exits 2; the results it wrote name
//   the matrix they ran against. Break: FAULTLINE_BREAK=noMatrixRecheck.
// - Two runs in one directory: the second is refused (exit 2) naming the holder of .faultline/run.lock;
//   a dead holder's lock is taken over. Break: FAULTLINE_BREAK=noRunLock.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup,
  fixture,
  fixtureMatrix,
  layerConfig,
  quickTest,
  readJson,
  runCli,
  sh,
  startCli,
  waitFor,
} from './helpers.ts';

afterEach(cleanup);

const oneLayer = (extra: Record<string, string> = {}) =>
  fixture({
    'matrix.yaml': fixtureMatrix(['l1']),
    'l1/vitest.config.ts': layerConfig('l1'),
    'l1/quick.test.ts': quickTest,
    ...extra,
  });

const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('torn inputs', () => {
  test('a results file cut in half: gate names the file and says it is cut short, exit 2, no report written', {
    tags: ['torn-results'],
  }, async () => {
    const fx = oneLayer();
    const ran = await runCli(fx, ['run']);
    expect(ran.code, ran.stderr).toBe(0);
    const file = join(fx.root, '.faultline', 'results', 'l1.json');
    const size = readFileSync(file).length;
    truncateSync(file, Math.floor(size / 2));
    recordFault({
      kind: 'fs',
      name: 'torn-results',
      detail: `l1.json cut from ${size} to ${Math.floor(size / 2)} bytes before faultline gate read it`,
    });
    const gated = await runCli(fx, ['gate']);
    expect(gated.stderr.trim()).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: invalid JSON: the file ends before its JSON does`,
      ),
    );
    expect(gated.stderr.trim().split('\n')).toHaveLength(1);
    expect(gated.code).toBe(2);
    expect(existsSync(join(fx.root, 'reports'))).toBe(false);
  });

  test('the matrix edited while a run is in flight: the run says so, exit 2; its results name the matrix they ran against', {
    tags: ['matrix-changed'],
  }, async () => {
    // The fixture's test edits the matrix (a comment: still a valid matrix, a different digest).
    const editing = [
      "import { appendFileSync } from 'node:fs';",
      "import { recordFault } from '@faultline/vitest';",
      "import { test } from 'vitest';",
      "test('edits the matrix mid-run', { tags: ['work'] }, () => {",
      "  appendFileSync(process.env.FAULTLINE_MATRIX, '# edited while the run was in flight\\n');",
      "  recordFault({ kind: 'demo', name: 'edit', detail: 'matrix edited' });",
      '});',
      '',
    ].join('\n');
    const fx = oneLayer({ 'l1/quick.test.ts': editing });
    const matrixFile = join(fx.root, 'matrix.yaml');
    const before = readFileSync(matrixFile);
    const ran = await runCli(fx, ['run']);
    const after = readFileSync(matrixFile);
    recordFault({
      kind: 'fs',
      name: 'matrix-changed',
      detail: `matrix.yaml edited by l1's test while faultline run was in flight (${sha(before).slice(0, 19)} -> ${sha(after).slice(0, 19)}); the run exited ${ran.code}`,
    });
    expect(ran.stderr.trim().split('\n').at(-1)).toMatch(
      /^faultline run: .*matrix\.yaml changed while the run was in flight \(sha256:\w+ at the start, sha256:\w+ now\): the results written \(.*l1\.json\) record the matrix they ran against/,
    );
    expect(ran.code).toBe(2);
    const l1 = readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l1.json'));
    expect(l1.run.matrixDigest).toBe(sha(before));
  });

  test('two runs in one directory: the second is refused naming the lock holder, exit 2; the first finishes with its own results', {
    tags: ['concurrent-runs'],
  }, async () => {
    // The first run's test holds the run open until told to go; a later run's test returns at once.
    const holding = [
      "import { existsSync, writeFileSync } from 'node:fs';",
      "import { join } from 'node:path';",
      "import { recordFault } from '@faultline/vitest';",
      "import { test } from 'vitest';",
      "test('holds the run open', { tags: ['work'] }, async () => {",
      "  recordFault({ kind: 'demo', name: 'hold', detail: 'held' });",
      "  const started = join(process.env.SELF_PIDS, 'started');",
      '  if (existsSync(started)) return;',
      '  writeFileSync(started, String(process.pid));',
      "  const go = join(process.env.SELF_PIDS, 'go');",
      '  for (let i = 0; i < 600 && !existsSync(go); i++) await new Promise((r) => setTimeout(r, 50));',
      '});',
      '',
    ].join('\n');
    const fx = oneLayer({ 'l1/quick.test.ts': holding });
    const first = startCli(fx, ['run', '--run-id', 'first']);
    await waitFor("the first run's test to start", () => (existsSync(join(fx.pids, 'started')) ? true : undefined));
    const second = await runCli(fx, ['run', '--run-id', 'second']);
    writeFileSync(join(fx.pids, 'go'), '');
    const firstEnd = await first.exited;
    recordFault({
      kind: 'process',
      name: 'concurrent-run',
      detail: `a second faultline run started in the same directory while the first (pid ${first.child.pid}) ran; it exited ${second.code}`,
      attributes: { exitCode: second.code ?? -1 },
    });
    const lock = join(fx.root, '.faultline', 'run.lock');
    expect(second.stderr.trim()).toMatch(
      new RegExp(`^faultline run: another faultline run holds ${lock} \\(pid ${first.child.pid}, started [^)]+\\)`),
    );
    expect(second.code).toBe(2);
    expect(firstEnd.code, firstEnd.stderr).toBe(0);
    const l1 = readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l1.json'));
    expect(l1.run.runId).toBe('first');
    expect(existsSync(lock)).toBe(false);
  });

  test('a lock left by a run that died is taken over', { tags: ['concurrent-runs'] }, async () => {
    const fx = oneLayer();
    // A pid that surely ran and is gone: a process that has exited.
    const dead = sh(process.execPath, ['-e', 'console.log(process.pid)']).output;
    const lock = join(fx.root, '.faultline', 'run.lock');
    sh('mkdir', ['-p', join(fx.root, '.faultline')]);
    writeFileSync(
      lock,
      JSON.stringify({
        pid: Number(dead),
        startedAt: '2026-01-01T00:00:00.000Z',
        host: (await import('node:os')).hostname(),
      }),
    );
    const ran = await runCli(fx, ['run']);
    recordFault({ kind: 'process', name: 'stale-lock', detail: `run.lock left by pid ${dead}, which has exited` });
    expect(ran.code, ran.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });
});
