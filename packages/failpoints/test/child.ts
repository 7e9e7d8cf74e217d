// Spawns the fixture as a real child process and reaps it: every test that starts one
// calls stop() in a finally, so a failing run leaves no orphan.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

const FIXTURE = new URL('./fixtures/child.ts', import.meta.url).pathname;

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `re` on stdout/stderr; rejects after `ms`. */
  waitFor: (stream: 'stdout' | 'stderr', re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Like exited, but after stdout and stderr are drained. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: () => Promise<void>;
}

export function startChild(mode: string, env: Record<string, string> = {}): Child {
  const clean = { ...process.env };
  delete clean.FAILPOINTS;
  delete clean.FAILPOINTS_HTTP;
  delete clean.FAULTLINE_SEED;
  const proc = spawn(process.execPath, [FIXTURE, mode], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  proc.stdout!.on('data', (d: Buffer) => {
    out.stdout += d.toString();
    for (const l of listeners) l();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    out.stderr += d.toString();
    for (const l of listeners) l();
  });
  const exited = once(proc, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const closed = once(proc, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const waitFor = (stream: 'stdout' | 'stderr', re: RegExp, ms = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out[stream]);
        if (m) {
          done();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`child ${mode}: no ${re} on ${stream} within ${ms} ms; stdout=${out.stdout} stderr=${out.stderr}`),
        );
      }, ms);
      const onExit = () => {
        setImmediate(() => {
          check();
          if (listeners.has(check)) {
            done();
            reject(
              new Error(`child ${mode} exited before ${re} on ${stream}; stdout=${out.stdout} stderr=${out.stderr}`),
            );
          }
        });
      };
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
        proc.off('exit', onExit);
      };
      listeners.add(check);
      proc.once('exit', onExit);
      check();
    });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  };
  return { proc, stdout: () => out.stdout, stderr: () => out.stderr, waitFor, exited, closed, stop };
}

/** Runs the fixture to completion and returns its exit status and output. */
export async function runChild(mode: string, env: Record<string, string> = {}) {
  const child = startChild(mode, env);
  const guard = setTimeout(() => child.proc.kill('SIGKILL'), 15_000); // bounded: never hang the suite
  try {
    const status = await child.closed;
    return { ...status, stdout: child.stdout(), stderr: child.stderr() };
  } finally {
    clearTimeout(guard);
    await child.stop();
  }
}
