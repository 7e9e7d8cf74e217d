import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { RlimitSupport } from '@faultline/crash';
import { loadMatrix, MatrixError } from '@faultline/matrix';
import { detectBackends } from '@faultline/netfaults';
import { planRun } from '@faultline/runner';

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

/**
 * How @faultline/crash applies rlimits in this project, or why it cannot say. crash is an optional
 * peer of the CLI: a project without layer-2 tests does not install it (nor its native addon).
 */
async function loadRlimitSupport(): Promise<RlimitSupport | Error> {
  try {
    return (await import('@faultline/crash')).rlimitSupport();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function notInstalled(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && error.message.includes('@faultline/crash');
}

/**
 * The `l2 rlimits` check: the method @faultline/crash uses for Node children (the same text the
 * run records as its `rlimits` capability), and what is missing when it cannot limit them.
 */
export function rlimitCheck(support: RlimitSupport | Error, prlimitRuns: () => boolean): Check {
  const name = 'l2 rlimits';
  if (support instanceof Error) {
    if (!notInstalled(support))
      return { name, ok: false, detail: `@faultline/crash does not load: ${support.message}` };
    const prlimit = prlimitRuns();
    const tool = prlimit ? 'prlimit(1) available' : 'prlimit(1) not found';
    return { name, ok: prlimit, detail: `@faultline/crash not installed (layer-2 tests add it); ${tool}` };
  }
  const ok = support.method === 'preload' || support.prlimit;
  const notes = [
    support.posixError,
    support.method === 'preload' && !support.prlimit
      ? 'prlimit(1) not found: non-Node commands and applyRlimits need it'
      : undefined,
  ].filter((n): n is string => n !== undefined);
  return { name, ok, detail: [support.summary, ...notes].join('; ') };
}

/** What this machine can run, each with the reason when it cannot. */
export async function doctor(matrixFile?: string): Promise<Check[]> {
  const checks: Check[] = [];
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  checks.push({
    name: 'node',
    ok: major > 22 || (major === 22 && minor >= 12),
    detail: `${process.version} (needs >= 22.12; tested on 24)`,
  });
  if (matrixFile) {
    try {
      const loaded = loadMatrix(matrixFile);
      const plan = planRun(loaded);
      checks.push({
        name: 'matrix',
        ok: true,
        detail: `${matrixFile}: ${loaded.matrix.issues.length} issues, layers ${plan.layers.map((l) => l.layer).join(', ')}`,
      });
    } catch (error) {
      checks.push({ name: 'matrix', ok: false, detail: error instanceof MatrixError ? error.message : String(error) });
    }
  }
  const l3 = await detectBackends();
  checks.push({ name: 'l3 backend containers', ok: l3.containers.ok, detail: l3.containers.detail });
  checks.push({ name: 'l3 backend embedded', ok: l3.embedded.ok, detail: l3.embedded.detail });
  checks.push(rlimitCheck(await loadRlimitSupport(), () => has('prlimit', ['--version']) !== undefined));
  checks.push({
    name: 'l2 /proc',
    ok: existsSync('/proc/self/statm'),
    detail: existsSync('/proc/self/statm') ? 'RSS sampling available' : 'no /proc: RSS sampling unavailable',
  });
  return checks;
}
