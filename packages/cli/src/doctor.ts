import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { loadMatrix, MatrixError } from '@faultline/matrix';
import { planRun } from '@faultline/runner';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function dockerSocket(): string | undefined {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (host) return undefined;
  return ['/var/run/docker.sock', '/run/podman/podman.sock'].find((p) => existsSync(p));
}

/** Pings the Docker-compatible API (Docker or Podman) within 2 s. */
function pingEngine(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/version', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        try {
          const v = JSON.parse(body) as { Version?: string; Components?: Array<{ Name: string }> };
          resolve(`${v.Components?.[0]?.Name ?? 'engine'} ${v.Version ?? '?'}`);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function has(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
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
  const socket = dockerSocket();
  const engine = socket ? await pingEngine(socket) : undefined;
  checks.push({
    name: 'l3 backend containers',
    ok: engine !== undefined,
    detail: engine
      ? `${engine} at ${socket}`
      : socket
        ? `no answer from ${socket}`
        : `no container engine: DOCKER_HOST is ${process.env.DOCKER_HOST ? 'not a unix socket' : 'unset'} and no docker/podman socket exists`,
  });
  checks.push({
    name: 'l3 backend embedded',
    ok: true,
    detail: '@faultline/toxiproxy in-process server (always available)',
  });
  const require = createRequire(import.meta.url);
  let posix: string;
  try {
    require.resolve('posix');
    posix = 'posix addon resolvable';
  } catch {
    posix = 'posix addon missing';
  }
  const prlimit = has('prlimit', ['--version']);
  checks.push({
    name: 'l2 rlimits',
    ok: posix.endsWith('resolvable') || prlimit !== undefined,
    detail: `${posix}; prlimit ${prlimit ? 'available' : 'missing'}`,
  });
  checks.push({
    name: 'l2 /proc',
    ok: existsSync('/proc/self/statm'),
    detail: existsSync('/proc/self/statm') ? 'RSS sampling available' : 'no /proc: RSS sampling unavailable',
  });
  return checks;
}
