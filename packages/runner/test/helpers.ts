import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/test/run-cli.ts';

const usesResults = ['run', 'gate', 'report', 'list', 'merge'];

export const demo = join(import.meta.dirname, 'fixtures', 'demo');

/** Runs the faultline CLI in-process on the demo workspace with results and reports in a temp dir. */
export async function faultline(args: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-runner-'));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const gates = args[0] === 'gate' || args[0] === 'report' || args.includes('--gate');
    const extra = [
      ...(args.includes('--results') || !usesResults.includes(args[0] ?? '')
        ? []
        : ['--results', join(dir, 'results')]),
      ...(gates ? ['--out', join(dir, 'reports')] : []),
    ];
    return { ...(await runCli([...args, ...extra])), dir };
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
