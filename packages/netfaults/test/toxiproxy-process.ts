// A `faultline-toxiproxy -proxy-metrics` process on a free loopback port: the external server the
// external-backend tests and bench/netfaults share (the embedded server's binary, with the real
// server's flags and start line).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const SERVER_BIN = join(import.meta.dirname, '..', '..', 'toxiproxy', 'bin', 'faultline-toxiproxy.js');

export interface RunningServer {
  url: string;
  proc: ChildProcess;
}

/** Starts the server; resolves with its URL once its start line names the port (bounded: 10 s). */
export async function startToxiproxyProcess(): Promise<RunningServer> {
  const proc = spawn(process.execPath, [SERVER_BIN, '-host=127.0.0.1', '-port=0', '-proxy-metrics'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`faultline-toxiproxy did not start in 10 s: ${text}`));
    }, 10_000);
    proc.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /"port":"(\d+)".*Starting Toxiproxy HTTP server/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`faultline-toxiproxy exited (${code}): ${text}`));
    });
  });
  proc.stdout?.resume();
  return { url: `http://127.0.0.1:${port}`, proc };
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is reaped. */
export async function stopToxiproxyProcess(server: RunningServer | undefined): Promise<void> {
  if (!server || server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  const exited = once(server.proc, 'exit');
  server.proc.kill('SIGTERM');
  const timer = setTimeout(() => server.proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
