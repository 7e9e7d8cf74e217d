import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RlimitSupport } from '@faultline/crash';
import { describe, expect, test } from 'vitest';
import { doctor, toolchainChecks } from '../src/doctor.ts';
import { rlimitCheck } from '../src/rlimits.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'faultline.js');
const REPO = join(import.meta.dirname, '..', '..', '..');

function missingCrash(): Error {
  return Object.assign(new Error("Cannot find package '@faultline/crash' imported from /p/doctor.js"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

describe('doctor: rlimits', () => {
  const preload: RlimitSupport = { method: 'preload', summary: 'preload via posix addon', prlimit: true };
  const fallback: RlimitSupport = {
    method: 'prlimit',
    summary: 'prlimit(1) fallback (posix addon not built)',
    posixError: 'posix was never built: npm did not run its install script',
    prlimit: true,
  };

  test('says which method @faultline/crash uses, and why the addon is not used', () => {
    expect(rlimitCheck(preload, () => true)).toEqual({
      name: 'l2 rlimits',
      ok: true,
      detail: 'preload via posix addon',
    });
    expect(rlimitCheck(fallback, () => true)).toEqual({
      name: 'l2 rlimits',
      ok: true,
      detail: 'prlimit(1) fallback (posix addon not built); posix was never built: npm did not run its install script',
    });
  });

  test('fails when neither way works, and notes a missing prlimit(1) next to the preload', () => {
    const none = { ...fallback, prlimit: false, summary: 'unavailable (posix addon not built, prlimit(1) not found)' };
    expect(rlimitCheck(none, () => false)).toMatchObject({ ok: false, detail: expect.stringMatching(/^unavailable/) });
    expect(rlimitCheck({ ...preload, prlimit: false }, () => false)).toEqual({
      name: 'l2 rlimits',
      ok: true,
      detail: 'preload via posix addon; prlimit(1) not found: non-Node commands and applyRlimits need it',
    });
  });

  test('without @faultline/crash in the project it says so; a crash that does not load is a failure', () => {
    expect(rlimitCheck(missingCrash(), () => true)).toEqual({
      name: 'l2 rlimits',
      ok: true,
      detail: '@faultline/crash not installed (layer-2 tests add it); prlimit(1) available',
    });
    expect(rlimitCheck(missingCrash(), () => false).ok).toBe(false);
    expect(rlimitCheck(new Error('boom'), () => true)).toEqual({
      name: 'l2 rlimits',
      ok: false,
      detail: '@faultline/crash does not load: boom',
    });
  });

  test('in this workspace the addon is built, so Node children get the preload', async () => {
    const checks = await doctor();
    expect(checks.find((c) => c.name === 'l2 rlimits')).toEqual({
      name: 'l2 rlimits',
      ok: true,
      detail: 'preload via posix addon',
    });
  });

  test('`doctor --json` holds the same checks as the text output (the built CLI, plain Node)', async () => {
    const run = (args: string[]) => promisify(execFile)(process.execPath, [BIN, 'doctor', ...args], { cwd: REPO });
    const [text, json] = await Promise.all([run([]), run(['--json'])]);
    const checks = JSON.parse(json.stdout) as Array<{ name: string; ok: boolean; detail: string }>;
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toEqual(checks.map((c) => `${c.ok ? 'ok  ' : 'no  '} ${c.name.padEnd(22)} ${c.detail}`));
    expect(checks.map((c) => c.name)).toContain('l2 rlimits');
  }, 30_000);
});

describe('doctor: toolchains for command projects', () => {
  test('each found with its version (on PATH or at a known path), a missing one says what needs it', () => {
    const [sh, missing] = toolchainChecks([
      { name: 'sh-like', candidates: ['no-such-tool-xyz', process.execPath], args: ['--version'], use: 'x' },
      { name: 'nothing', candidates: ['no-such-tool-xyz'], args: ['--version'], use: 'nothing test --json' },
    ]);
    expect(sh).toEqual({
      name: 'toolchain sh-like',
      ok: true,
      detail: `${process.version} at ${process.execPath} (not on PATH: use the full path or add its directory)`,
    });
    expect(missing).toEqual({
      name: 'toolchain nothing',
      ok: false,
      detail: 'not found (needed only by command projects that run nothing test --json)',
    });
  });

  test('on this machine cargo, go and pytest are found with their versions', () => {
    const checks = toolchainChecks();
    expect(checks.map((c) => c.name)).toEqual(['toolchain cargo', 'toolchain go', 'toolchain pytest']);
    expect(
      checks.every((c) => c.ok),
      JSON.stringify(checks),
    ).toBe(true);
    expect(checks[0]?.detail).toMatch(/^cargo \d+\.\d+/);
    expect(checks[1]?.detail).toMatch(/^go version go\d/);
    expect(checks[2]?.detail).toMatch(/^pytest \d+\.\d+/);
  });
});
