// Command projects end to end through the CLI (in-process): a shell command stands in for any
// language's test runner. It writes JUnit XML and evidence lines; a hang is killed with its tree at
// the layer timeout; an unknown issue claim is an error naming the test; no results is a crash.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LayerResults, loadMatrix, planRun } from '@faultline/matrix';
import { afterEach, describe, expect, test } from 'vitest';
import { executeLayer, silentProgress } from '../src/index.ts';
import { faultline, readJson } from './helpers.ts';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const junit = (cases: string) =>
  `<?xml version="1.0"?><testsuites><testsuite name="sh">${cases}</testsuite></testsuites>`;

/** A project directory with `script` (a /bin/sh script) and a matrix running it as a command project. */
function project(
  script: string,
  { timeout = '30s', results = '{ format: junit, path: out/junit.xml }', extra = '' } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-command-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'test.sh'), script);
  writeFileSync(
    join(dir, 'matrix.yaml'),
    [
      'version: 1',
      'system: sh',
      'layers:',
      `  l2: { title: Shell, timeout: ${timeout}, projects: [{ name: sh-suite, command: "sh test.sh", results: ${results}${extra} }] }`,
      'policy: { require: [{ layers: [l2] }] }',
      'issues:',
      '  - { id: torn-write, title: T, severity: high }',
      '',
    ].join('\n'),
  );
  return join(dir, 'matrix.yaml');
}

const l2 = (dir: string) => readJson<LayerResults>(join(dir, 'results', 'l2.json'));

describe('a command project', () => {
  test('its JUnit results and evidence lines cover the cell; a passing test without a fault is vacuous', async () => {
    const matrix = project(`
set -e
test "$FAULTLINE_LAYER" = l2 && test -n "$FAULTLINE_SEED" && test -n "$FAULTLINE_ATTEMPT_ID"
mkdir -p out
echo '{"test":"kills a writer [torn-write]","kind":"kill","name":"writer-1","detail":"pid 1 got SIGKILL"}' >> "$FAULTLINE_EVIDENCE_FILE"
echo '{"test":"nobody","kind":"kill","name":"x","detail":"stray"}' >> "$FAULTLINE_EVIDENCE_FILE"
cat > out/junit.xml <<'XML'
${junit(`<testcase name="kills a writer [torn-write]" classname="crash" file="crash.sh" line="3" time="0.2"/>
<testcase name="quiet" classname="crash" time="0.1"><properties><property name="faultline.issue" value="torn-write"/></properties></testcase>`)}
XML
`);
    const { code, out, dir } = await faultline(['run', '--matrix', matrix, '--gate']);
    expect(code, out).toBe(0);
    const r = l2(dir);
    expect(r.projects).toMatchObject([{ name: 'sh-suite', outcome: 'completed', tests: 2 }]);
    const kills = r.tests.find((t) => t.name.startsWith('kills'));
    const quiet = r.tests.find((t) => t.name === 'quiet');
    expect(kills).toMatchObject({
      name: 'kills a writer [torn-write]',
      file: 'crash.sh',
      line: 3,
      tags: ['torn-write'],
    });
    expect(kills?.evidence).toMatchObject([{ kind: 'kill', name: 'writer-1', count: 1 }]);
    expect(quiet).toMatchObject({ tags: ['torn-write'], evidence: [] });
    expect(r.unattributed?.[0]?.evidence[0]?.detail).toBe('stray (test "nobody")');
    expect(out).toContain('1 of 2 tests of torn-write × l2 recorded no fault');
    expect(out).toContain('gate: passed');
  });

  test('without evidence the cell is vacuous and the gate fails', async () => {
    const matrix = project(`mkdir -p out; cat > out/junit.xml <<'XML'
${junit('<testcase name="[torn-write] writes" classname="c"/>')}
XML
`);
    const { code, out } = await faultline(['run', '--matrix', matrix, '--gate']);
    expect(code).toBe(1);
    expect(out).toContain('torn-write × l2 is vacuous');
  });

  test('claims from an evidence line; --issue keeps only the tests claiming it (the command runs whole)', async () => {
    const matrix = project(`mkdir -p out
echo '{"test":"kill_during_write","issues":["torn-write"],"kind":"kill","name":"w","detail":"d"}' >> "$FAULTLINE_EVIDENCE_FILE"
cat > out/junit.xml <<'XML'
${junit('<testcase name="kill_during_write" classname="crash"/><testcase name="unrelated" classname="crash"/>')}
XML
`);
    const all = await faultline(['run', '--matrix', matrix]);
    expect(l2(all.dir).tests.map((t) => `${t.name} [${t.tags}]`)).toEqual([
      'kill_during_write [torn-write]',
      'unrelated []',
    ]);
    const one = await faultline(['run', '--matrix', matrix, '--issue', 'torn-write']);
    const r = l2(one.dir);
    expect(r.tests.map((t) => t.name)).toEqual(['kill_during_write']);
    expect(r.run.issueFilter).toBe('torn-write');
  });

  test('a hang is killed with its whole tree at the layer timeout and reported', async () => {
    const matrix = project('sleep 300 & echo $! > child.pid; wait\n', { timeout: '1s' });
    const started = Date.now();
    const { code, dir } = await faultline(['run', '--matrix', matrix, '--gate']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(code).toBe(1);
    const r = l2(dir);
    expect(r.projects[0]).toMatchObject({ outcome: 'timeout', reason: 'killed at the layer timeout (1s)' });
    expect(r.errors[0]).toMatchObject({ kind: 'timeout', file: '.' });
    const pid = Number(readFileSync(join(matrix, '..', 'child.pid'), 'utf8'));
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
  });

  test('an unknown issue in a test name is an error naming the test, with did-you-mean', async () => {
    const matrix = project(`mkdir -p out; cat > out/junit.xml <<'XML'
${junit('<testcase name="[torn-writes] writes" classname="c" file="a.sh" line="7"/>')}
XML
`);
    const { code, out, dir } = await faultline(['run', '--matrix', matrix, '--gate']);
    expect(code).toBe(1);
    expect(l2(dir).errors[0]).toMatchObject({ kind: 'load', file: 'a.sh', line: 7 });
    expect(out).toContain(
      'unknown issue "torn-writes" claimed by test "[torn-writes] writes" at a.sh:7 (did you mean `torn-write`?)',
    );
  });

  test('a command that writes no results crashed, with its stderr; a stale results file is never read', async () => {
    const matrix = project('echo "error[E0425]: cannot find value" >&2; exit 101\n');
    const stale = join(matrix, '..', 'out');
    mkdirSync(stale);
    writeFileSync(join(stale, 'junit.xml'), junit('<testcase name="[torn-write] old" classname="c"/>'));
    const { code, dir } = await faultline(['run', '--matrix', matrix, '--gate']);
    expect(code).toBe(1);
    const r = l2(dir);
    expect(r.tests).toEqual([]);
    expect(r.projects[0]).toMatchObject({
      outcome: 'crashed',
      reason: 'sh test.sh (exit code 101) wrote no results at out/junit.xml',
    });
    expect(r.errors[0]?.message).toContain('error[E0425]: cannot find value');
  });

  test('under --shard a command that does not shard runs whole in shard 1 only', async () => {
    const matrix = project(`mkdir -p out; echo "$FAULTLINE_SHARD" > shard.txt; cat > out/junit.xml <<'XML'
${junit('<testcase name="[torn-write] w" classname="c"/>')}
XML
`);
    const second = await faultline(['run', '--matrix', matrix, '--shard', '2/2']);
    const r2 = readJson<LayerResults>(join(second.dir, 'results', 'l2.2of2.json'));
    expect(r2.projects[0]).toMatchObject({ outcome: 'not-run', tests: 0 });
    expect(existsSync(join(matrix, '..', 'shard.txt'))).toBe(false);
    const first = await faultline(['run', '--matrix', matrix, '--shard', '1/2']);
    expect(readJson<LayerResults>(join(first.dir, 'results', 'l2.1of2.json')).tests).toHaveLength(1);
    expect(readFileSync(join(matrix, '..', 'shard.txt'), 'utf8')).toBe('1/2\n');
  });

  test('with shard: env the command runs in every shard and picks its part from FAULTLINE_SHARD_INDEX/COUNT', async () => {
    const matrix = project(
      `mkdir -p out; cat > out/junit.xml <<XML
${junit('<testcase name="[torn-write] part $FAULTLINE_SHARD_INDEX of $FAULTLINE_SHARD_COUNT" classname="c"/>')}
XML
`,
      { extra: ', shard: env' },
    );
    const second = await faultline(['run', '--matrix', matrix, '--shard', '2/2']);
    const r = readJson<LayerResults>(join(second.dir, 'results', 'l2.2of2.json'));
    expect(r.projects[0]).toMatchObject({ outcome: 'completed', tests: 1 });
    expect(r.tests[0]?.name).toBe('[torn-write] part 2 of 2');
  });

  test('an interrupt stops the command and everything it started at once; the project is interrupted', async () => {
    const matrix = project('sleep 300 & echo $! > child.pid; wait\n');
    const loaded = loadMatrix(matrix);
    const plan = planRun(loaded).layers[0]!;
    const controller = new AbortController();
    const pidFile = join(matrix, '..', 'child.pid');
    const started = Date.now();
    const aborting = (async () => {
      while (!existsSync(pidFile) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 20));
      controller.abort({ kind: 'interrupted', signal: 'SIGINT' });
    })();
    const results = await executeLayer(plan, {
      root: join(matrix, '..'),
      matrixFile: matrix,
      seed: 1,
      runId: 'r',
      matrixDigest: 'sha256:x',
      progress: silentProgress,
      runDir: join(matrix, '..', '.faultline', 'run'),
      signal: controller.signal,
    });
    await aborting;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(results.projects[0]).toMatchObject({ outcome: 'interrupted', reason: 'stopped by SIGINT' });
    expect(results.errors[0]).toMatchObject({ kind: 'interrupted' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    expect(alive).toBe(false);
  });
});
