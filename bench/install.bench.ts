// Figures of faultline as a user installs it (issue 13): the CLI's cold start from the installed
// package against `vitest --version` in the same project, and the install size of @faultline/cli
// with its dependencies against vitest's alone. Tarball sizes go in the note.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packPublicPackages, publicPackages, REPO } from '../test/pack.ts';
import { type BenchFigure, figure, median } from './figure.ts';

const RUNS = 10;
/** What `npm i -D @faultline/cli` brings from this repository (its @faultline closure). */
const CLI_CLOSURE = ['cli', 'matrix', 'runner', 'netfaults', 'toxiproxy', 'vitest', 'evidence'].map(
  (p) => `@faultline/${p}`,
);

/** A user's shell: no source condition or loader from this run. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'));

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function project(install: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-install-bench-'));
  sh('npm', ['init', '-y'], dir);
  sh('npm', ['install', '--save-dev', '--no-audit', '--no-fund', ...install], dir);
  return dir;
}

const kib = (dir: string) => Number(sh('du', ['-sk', 'node_modules'], dir).split('\t')[0]) / 1024;

function timeNode(cwd: string, args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    execFileSync(process.execPath, args, { cwd, env, stdio: 'ignore' });
    samples.push(performance.now() - t);
  }
  return median(samples);
}

export default async function install(): Promise<BenchFigure[]> {
  sh('npm', ['run', 'build', '--silent'], REPO);
  const { dir: packs, packed } = packPublicPackages(publicPackages());
  const dirs: string[] = [packs];
  try {
    const cli = project(CLI_CLOSURE.map((name) => packed.get(name)!.tarball));
    const bare = project(['vitest@^5.1.1']);
    dirs.push(cli, bare);
    const bin = join(cli, 'node_modules/@faultline/cli/bin/faultline.js');
    const vitest = join(cli, 'node_modules/vitest/vitest.mjs');
    const vitestVersion = timeNode(cli, [vitest, '--version']);
    const version = timeNode(cli, [bin, '--version']);
    const validate = timeNode(cli, [bin, 'validate', '--matrix', join(REPO, 'matrix.yaml')]);
    const sizes = [...packed].map(([name, p]) => `${name.slice('@faultline/'.length)} ${(p.size / 1024).toFixed(1)}`);
    return [
      figure(
        'cold start: --version (installed)',
        'ms',
        { label: 'vitest --version', value: vitestVersion },
        { label: 'faultline --version', value: version },
        { budget: '<= 1.0x', ok: version <= vitestVersion },
      ),
      figure(
        'cold start: validate reference matrix (installed)',
        'ms',
        { label: 'vitest --version', value: vitestVersion },
        { label: 'faultline validate', value: validate },
      ),
      figure(
        'install size (du node_modules)',
        'MiB',
        { label: 'vitest alone', value: kib(bare) },
        { label: '@faultline/cli + deps', value: kib(cli) },
        { note: `packed KiB: ${sizes.join(', ')}` },
      ),
    ];
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
