// Layers in other languages: examples/rust-kv (cargo test, libtest JSON, SIGKILL waves of writer
// processes), examples/py-journal (pytest's JUnit XML, a writer killed mid-append) and
// examples/go-store (go test -json, fault-injected writes) each run through the built faultline CLI
// (`faultline run --gate`) in a temp copy: every required cell covered, and the broken variant of
// each (KV_BROKEN=1, PYJOURNAL_BROKEN=1, GOSTORE_BROKEN=1) turns its cells red and fails the gate.
// Needs cargo (rustup's ~/.cargo/bin is added to PATH), Debian's python3-pytest (pytest-3) and
// golang-go; a missing toolchain fails the test, never skips it. Every command is bounded and killed with its group.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'packages', 'cli', 'bin', 'faultline.js');
const MINUTE = 60_000;

interface Ran {
  code: number | null;
  output: string;
}

let work = '';
const extraPath = [join(homedir(), '.cargo', 'bin'), '/root/.cargo/bin'].filter((d) => existsSync(d));

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key.startsWith('FAULTLINE_')) continue;
    out[key] = value;
  }
  return {
    ...out,
    CI: 'true',
    PATH: [...extraPath, process.env.PATH ?? ''].join(delimiter),
    GOCACHE: join(work, 'go-cache'),
    GOPATH: join(work, 'go-path'),
    GOFLAGS: '',
    ...extra,
  };
}

/** Runs a command in its own process group, SIGKILLed as a group after `timeoutMs`. */
function run(args: string[], cwd: string, extra: Record<string, string> = {}, timeoutMs = 5 * MINUTE): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: env(extra), detached: true });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(killGroup, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, output });
    });
  });
}

interface MatrixJson {
  cells: Array<{ issue: string; layer: string; state: string; required: boolean }>;
}

async function cells(dir: string): Promise<string[]> {
  const report = JSON.parse(await readFile(join(dir, 'reports', 'matrix.json'), 'utf8')) as MatrixJson;
  return report.cells.filter((c) => c.required).map((c) => `${c.issue} × ${c.layer}: ${c.state}`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-languages-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const examples: Array<{ name: string; broken: Record<string, string>; covered: string[]; red: string[] }> = [
  {
    name: 'rust-kv',
    broken: { KV_BROKEN: '1' },
    covered: ['kv-torn-write × l2: covered', 'kv-monotonic × l2: covered'],
    red: ['kv-torn-write × l2: failed', 'kv-monotonic × l2: failed'],
  },
  {
    name: 'py-journal',
    broken: { PYJOURNAL_BROKEN: '1' },
    covered: ['torn-tail × l2: covered'],
    red: ['torn-tail × l2: failed'],
  },
  {
    name: 'go-store',
    broken: { GOSTORE_BROKEN: '1' },
    covered: ['atomic-save × l1: covered'],
    red: ['atomic-save × l1: failed'],
  },
];

describe.each(examples)('examples/$name through faultline run --gate', ({ name, broken, covered, red }) => {
  let dir = '';
  beforeAll(async () => {
    dir = join(work, name);
    await cp(join(import.meta.dirname, name), dir, {
      recursive: true,
      filter: (src) => !/[/\\](target|reports|out|__pycache__|\.faultline)$/.test(src),
    });
  });

  test('every required cell covered, with evidence from the test process', async () => {
    const ran = await run(['run', '--gate'], dir);
    expect(ran.code, ran.output).toBe(0);
    expect(await cells(dir)).toEqual(covered);
  });

  test('faultline verify: the declared break (FAULTLINE_BREAK) turns the cell red in the command too', async () => {
    const ran = await run(['verify'], dir);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain('verify: 1 of 1 break caught');
  });

  test('the broken variant turns its cells red and fails the gate', async () => {
    const ran = await run(['run', '--gate'], dir, broken);
    expect(ran.code, ran.output).toBe(1);
    expect(await cells(dir)).toEqual(red);
    expect(ran.output).toContain('gate: FAILED');
  });
});
