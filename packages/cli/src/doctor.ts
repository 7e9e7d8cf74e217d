import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE_REQUIREMENT, nodeSupported } from '@faultline/evidence/node-guard';
import { loadMatrix, MatrixError, planRun, plural } from '@faultline/matrix';
import type { Flags } from './args.ts';
import type { Io } from './commands.ts';
import { loadRlimitSupport, rlimitCheck } from './rlimits.ts';

/** One line of `faultline doctor` (and one object of `doctor --json`). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function has(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

/** A test runner of another language a command project may call (see @faultline/runner's command projects). */
interface Toolchain {
  name: string;
  /** Executables tried in order: on PATH by name, or an absolute path (rustup's ~/.cargo/bin). */
  candidates: string[];
  args: string[];
  use: string;
}

const TOOLCHAINS: readonly Toolchain[] = [
  {
    name: 'cargo',
    candidates: ['cargo', join(homedir(), '.cargo', 'bin', 'cargo')],
    args: ['--version'],
    use: 'cargo test, libtest JSON with RUSTC_BOOTSTRAP=1',
  },
  { name: 'go', candidates: ['go'], args: ['version'], use: 'go test -json' },
  { name: 'pytest', candidates: ['pytest', 'pytest-3', 'py.test'], args: ['--version'], use: 'pytest --junitxml' },
];

/** The first line a tool prints for its version (stdout or, for older pytest, stderr), if it runs. */
function versionOf(file: string, args: string[]): string | undefined {
  const r = spawnSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout}\n${r.stderr}`
    .split('\n')
    .find((l) => l.trim())
    ?.trim();
}

/** Which toolchains for command projects in other languages this machine has, with their versions. */
export function toolchainChecks(toolchains: readonly Toolchain[] = TOOLCHAINS): Check[] {
  return toolchains.map((t) => {
    for (const candidate of t.candidates) {
      const version = versionOf(candidate, t.args);
      if (version === undefined) continue;
      const where = candidate.includes('/')
        ? ` at ${candidate} (not on PATH: use the full path or add its directory)`
        : '';
      return { name: `toolchain ${t.name}`, ok: true, detail: `${version}${where}` };
    }
    return {
      name: `toolchain ${t.name}`,
      ok: false,
      detail: `not found (needed only by command projects that run ${t.use})`,
    };
  });
}

/** What this machine can run, each with the reason when it cannot. */
export async function doctor(matrixFile?: string): Promise<Check[]> {
  const checks: Check[] = [];
  checks.push({ name: 'node', ok: nodeSupported(), detail: `${process.version} (needs ${NODE_REQUIREMENT})` });
  if (matrixFile) {
    try {
      const loaded = loadMatrix(matrixFile);
      const plan = planRun(loaded);
      checks.push({
        name: 'matrix',
        ok: true,
        detail: `${matrixFile}: ${plural(loaded.matrix.issues.length, 'issue')}, layers ${plan.layers.map((l) => l.layer).join(', ')}`,
      });
    } catch (error) {
      checks.push({ name: 'matrix', ok: false, detail: error instanceof MatrixError ? error.message : String(error) });
    }
  }
  // Loaded here, not at the top: testcontainers is most of the CLI's start-up time, and only
  // doctor needs it (`faultline validate` and `--help` stay fast).
  const { detectBackends } = await import('@faultline/netfaults');
  const l3 = await detectBackends();
  checks.push({ name: 'l3 backend containers', ok: l3.containers.ok, detail: l3.containers.detail });
  checks.push({ name: 'l3 backend embedded', ok: l3.embedded.ok, detail: l3.embedded.detail });
  if (l3.external) checks.push({ name: 'l3 backend external', ok: l3.external.ok, detail: l3.external.detail });
  checks.push(rlimitCheck(await loadRlimitSupport(), () => has('prlimit', ['--version']) !== undefined));
  checks.push({
    name: 'l2 /proc',
    ok: existsSync('/proc/self/statm'),
    detail: existsSync('/proc/self/statm') ? 'RSS sampling available' : 'no /proc: RSS sampling unavailable',
  });
  checks.push(...toolchainChecks());
  return checks;
}

/** `faultline doctor`: the checks, as a table or JSON. */
export async function doctorCommand(io: Io, flags: Flags): Promise<number> {
  const matrixPath = resolve(typeof flags.matrix === 'string' ? flags.matrix : 'matrix.yaml');
  const checks = await doctor(existsSync(matrixPath) ? matrixPath : undefined);
  if (flags.json) io.out.write(`${JSON.stringify(checks, null, 2)}\n`);
  else for (const c of checks) io.out.write(`${c.ok ? 'ok  ' : 'no  '} ${c.name.padEnd(22)} ${c.detail}\n`);
  return 0;
}
