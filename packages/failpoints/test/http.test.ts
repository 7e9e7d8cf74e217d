// Checklist §7 "Multi-process extensions", items 23-25, against the in-process server and a real child.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ControlServer, FailScenario, failpoint, parseControlAddress, startHttpControl } from '../src/index.ts';
import { startChild } from './child.ts';

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request over TCP (`127.0.0.1:PORT`) or a Unix socket path. */
function call(address: string, method: string, path: string, body?: string): Promise<Reply> {
  const where = address.includes('/')
    ? { socketPath: address }
    : { host: address.slice(0, address.lastIndexOf(':')), port: Number(address.slice(address.lastIndexOf(':') + 1)) };
  return new Promise((resolve, reject) => {
    const req = request({ ...where, method, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('http control (in process)', () => {
  let server: ControlServer;
  let scenario: FailScenario;
  beforeAll(async () => {
    scenario = await FailScenario.setup({ failpoints: {} });
    server = await startHttpControl('127.0.0.1:0');
  });
  afterAll(async () => {
    await server.close();
    scenario.teardown();
  });

  test('23: PUT 204, bad spec 400, GET spec/404, GET / lists, DELETE 204/400, other methods 405', async () => {
    const a = server.address;
    expect(a).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await call(a, 'PUT', '/h-23', 'return(9)')).status).toBe(204);
    expect(failpoint('h-23', (x) => x)).toBe('9');
    const bad = await call(a, 'PUT', '/h-23', 'retrun(9)');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/unknown task "retrun"/);
    expect(await call(a, 'GET', '/h-23')).toMatchObject({ status: 200, body: 'return(9)' });
    expect((await call(a, 'GET', '/nope')).status).toBe(404);
    expect(await call(a, 'PUT', '/has%20space', 'off')).toMatchObject({ status: 400 });
    await call(a, 'PUT', '/h-23b', '50%off');
    expect(await call(a, 'GET', '/')).toMatchObject({ status: 200, body: 'h-23=return(9)\nh-23b=50%off\n' });
    expect((await call(a, 'DELETE', '/h-23b')).status).toBe(204);
    expect((await call(a, 'DELETE', '/h-23b')).status).toBe(400);
    const post = await call(a, 'POST', '/h-23');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, PUT, DELETE');
    expect((await call(a, 'DELETE', '/')).status).toBe(405);
    expect((await call(a, 'PUT', '/h-23/count', '1')).status).toBe(405);
  });

  test('23b: PUT /failpoints sets in bulk, all-or-nothing', async () => {
    const a = server.address;
    expect((await call(a, 'PUT', '/failpoints', 'x1=return(1);x2=off;')).status).toBe(204);
    expect((await call(a, 'GET', '/x2')).body).toBe('off');
    const bad = await call(a, 'PUT', '/failpoints', 'x3=off;x4=bogus');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/unable to configure failpoint "x4"/);
    expect((await call(a, 'GET', '/x3')).status).toBe(404);
  });

  test('24: GET /NAME/count counts triggers, resets on re-enable, long-polls with after/timeout', async () => {
    const a = server.address;
    await call(a, 'PUT', '/h-24', '2*return->off');
    failpoint('h-24', () => 0);
    failpoint('h-24', () => 0);
    failpoint('h-24', () => 0);
    expect((await call(a, 'GET', '/h-24/count')).body).toBe('3\n');
    await call(a, 'PUT', '/h-24', 'off');
    expect((await call(a, 'GET', '/h-24/count')).body).toBe('0\n');
    expect((await call(a, 'GET', '/missing/count')).status).toBe(404);

    const waiting = call(a, 'GET', '/h-24/count?after=0&timeout=5000');
    setTimeout(() => failpoint('h-24'), 50);
    expect(await waiting).toMatchObject({ status: 200, body: '1\n' });
    const late = await call(a, 'GET', '/h-24/count?after=5&timeout=50');
    expect(late.status).toBe(408);
    expect(late.body).toMatch(/did not trigger more than 5 times within 50 ms/);
    expect((await call(a, 'GET', '/h-24/count?after=x')).status).toBe(400);
  });

  test('loopback only; Unix socket is created 0600', async () => {
    expect(() => parseControlAddress('0.0.0.0:1234')).toThrow(/refusing non-loopback host "0.0.0.0"/);
    expect(() => parseControlAddress('example.com:80')).toThrow(/non-loopback/);
    expect(() => parseControlAddress('127.0.0.1')).toThrow(/expected 127.0.0.1:PORT/);
    expect(parseControlAddress('[::1]:0')).toEqual({ kind: 'tcp', host: '::1', port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'fp-sock-'));
    const sock = join(dir, 'control.sock');
    const unix = await startHttpControl(sock);
    try {
      expect(statSync(sock).mode & 0o777).toBe(0o600);
      expect((await call(sock, 'PUT', '/u', 'return')).status).toBe(204);
      expect(await call(sock, 'GET', '/u')).toMatchObject({ status: 200, body: 'return' });
    } finally {
      await unix.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('http control of a real running child', () => {
  test('23/24: FAILPOINTS_HTTP drives a live process: PUT changes behaviour, count long-polls, DELETE restores', async () => {
    const child = startChild('loop', { FAILPOINTS_HTTP: '127.0.0.1:0' });
    try {
      const [, address] = await child.waitFor('stderr', /failpoints: http control on (127\.0\.0\.1:\d+)\n/);
      await child.waitFor('stdout', /value undefined\n/);
      expect((await call(address!, 'PUT', '/value', 'return(7)')).status).toBe(204);
      await child.waitFor('stdout', /value 7\n/);
      const polled = await call(address!, 'GET', '/value/count?after=10&timeout=10000');
      expect(polled.status).toBe(200);
      expect(Number(polled.body)).toBeGreaterThan(10);
      expect((await call(address!, 'GET', '/')).body).toBe('value=return(7)\n');
      expect((await call(address!, 'DELETE', '/value')).status).toBe(204);
      await child.waitFor('stdout', /value 7\nvalue undefined\n/);
    } finally {
      await child.stop();
    }
  });

  test('25: a PUT of exit(42) is acknowledged before the process dies', async () => {
    const child = startChild('loop', { FAILPOINTS_HTTP: '127.0.0.1:0' });
    try {
      const [, address] = await child.waitFor('stderr', /http control on (127\.0\.0\.1:\d+)\n/);
      await child.waitFor('stdout', /ready/);
      const put = await call(address!, 'PUT', '/crash', 'exit(42)');
      expect(put.status).toBe(204);
      expect(await child.exited).toEqual({ code: 42, signal: null });
      await child.closed;
      expect(child.stderr()).toMatch(/failpoints: "crash" fired exit\(42\) in pid \d+/);
    } finally {
      await child.stop();
    }
  });

  test('25b: kill(SIGKILL) over a Unix socket control path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-child-'));
    const sock = join(dir, 'fp.sock');
    const child = startChild('loop', { FAILPOINTS_HTTP: sock });
    try {
      await child.waitFor('stderr', /http control on .*fp\.sock\n/);
      expect(statSync(sock).mode & 0o777).toBe(0o600);
      expect((await call(sock, 'PUT', '/crash', 'kill(SIGKILL)')).status).toBe(204);
      expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
