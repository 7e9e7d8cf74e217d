// The `faultline-toxiproxy` bin: toxiproxy-server's flags (-host, -port, -config, -version).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { isListening, portOf, track } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/faultline-toxiproxy.js');

function run(args: string[]): {
  child: ChildProcess;
  output: Promise<{ stdout: string; stderr: string; code: number | null }>;
} {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const output = new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) =>
    child.on('exit', (code) => resolve({ stdout, stderr, code })),
  );
  return { child, output };
}

/** Waits for the startup log line and returns the API base URL. */
function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 10 s')), 10_000);
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d;
      const line = buffer.split('\n').find((l) => l.includes('Starting Toxiproxy HTTP server'));
      if (!line) return;
      clearTimeout(timer);
      const { host, port } = JSON.parse(line) as { host: string; port: string };
      resolve(`http://${host}:${port}`);
    });
  });
}

test('-version prints the version like toxiproxy-server', async () => {
  const { stdout, code } = await run(['-version']).output;
  expect([stdout, code]).toEqual(['toxiproxy-server version 2.12.0\n', 0]);
});

test('an unknown flag is a usage error (exit 2)', async () => {
  const { stderr, code } = await run(['-bogus']).output;
  expect(code).toBe(2);
  expect(stderr).toContain('Usage of faultline-toxiproxy');
});

test('-host/-port/-config: serves the API, creates the configured proxies, stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-toxiproxy-'));
  track(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'proxies.json');
  writeFileSync(config, JSON.stringify([{ name: 'redis', listen: '127.0.0.1:0', upstream: '127.0.0.1:6379' }]));
  const { child, output } = run(['-host', '127.0.0.1', '-port=0', '--config', config]);
  const url = await started(child);
  const version = await fetch(`${url}/version`);
  expect(await version.text()).toBe('{"version": "2.12.0"}\n');
  const proxies = (await (await fetch(`${url}/proxies`)).json()) as Record<string, { listen: string }>;
  expect(Object.keys(proxies)).toEqual(['redis']);
  expect(await isListening(portOf(proxies.redis!.listen))).toBe(true);
  child.kill('SIGTERM');
  expect((await output).code).toBe(0);
});

test('an unreadable -config fails with a clear message', async () => {
  const { stdout, code } = await run(['-port', '0', '-config', '/nonexistent/proxies.json']).output;
  expect(code).toBe(1);
  expect(stdout).toContain('cannot read config file /nonexistent/proxies.json');
});
