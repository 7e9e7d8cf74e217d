// reapAttemptContainers against a fake engine on a unix socket: it speaks just the two calls the reaper
// makes (list by label, force-delete), so the filter, the query flags and the time bound are checked on
// any machine; suites/self/test/interrupt-containers.test.ts does it on a real engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { reapAttemptContainers } from '../src/container-reap.ts';

interface Container {
  Id: string;
  Labels: Record<string, string>;
}

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A Docker-compatible engine holding `containers`; `handle` may answer a request first (returns true then). */
async function fakeEngine(
  containers: Container[],
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<{ env: NodeJS.ProcessEnv; containers: Container[]; deletes: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-engine-'));
  dirs.push(dir);
  const deletes: string[] = [];
  const server = createServer((req, res) => {
    if (handle?.(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://engine');
    if (req.method === 'GET' && url.pathname === '/containers/json') {
      const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as { label?: string[] };
      const matching = containers.filter((c) =>
        (filters.label ?? []).every((l) => {
          const [k = '', v] = l.split('=');
          return c.Labels[k] === v;
        }),
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(matching));
      return;
    }
    const del = /^\/containers\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'DELETE' && del?.[1]) {
      deletes.push(`${del[1]}?${url.searchParams.toString()}`);
      const at = containers.findIndex((c) => c.Id === del[1]);
      if (at < 0) return void res.writeHead(404).end('{"message":"no such container"}');
      containers.splice(at, 1);
      return void res.writeHead(204).end();
    }
    res.writeHead(404).end();
  });
  servers.push(server);
  const socket = join(dir, 'engine.sock');
  await new Promise<void>((r) => server.listen(socket, r));
  return { env: { DOCKER_HOST: `unix://${socket}` }, containers, deletes };
}

const label = (attempt: string) => ({ 'dev.faultline.attempt': attempt, 'dev.faultline.netfaults': 'toxiproxy' });

describe('reapAttemptContainers', () => {
  test("force-removes (with volumes) exactly the attempt's labelled containers", async () => {
    const engine = await fakeEngine([
      { Id: 'aaa', Labels: label('l3-1-x') },
      { Id: 'bbb', Labels: label('l3-1-other') },
      { Id: 'ccc', Labels: {} },
      { Id: 'ddd', Labels: label('l3-1-x') },
    ]);
    const reap = await reapAttemptContainers('l3-1-x', 1000, engine.env);
    expect(reap.removed.sort()).toEqual(['aaa', 'ddd']);
    expect(reap.failed).toBeUndefined();
    expect(engine.deletes.sort()).toEqual(['aaa?force=true&v=true', 'ddd?force=true&v=true']);
    expect(engine.containers.map((c) => c.Id)).toEqual(['bbb', 'ccc']);
  });

  test('no engine socket: nothing to do, at once', async () => {
    const started = performance.now();
    const reap = await reapAttemptContainers('x', 1000, { DOCKER_HOST: 'unix:///nonexistent/engine.sock' });
    expect(reap).toEqual({ removed: [], skipped: 'no engine socket at /nonexistent/engine.sock' });
    expect(performance.now() - started).toBeLessThan(100);
  });

  test('an engine that never answers is given up on within the bound', async () => {
    const engine = await fakeEngine([], () => true); // accepts, never responds
    const started = performance.now();
    const reap = await reapAttemptContainers('x', 300, engine.env);
    const took = performance.now() - started;
    expect(reap.removed).toEqual([]);
    expect(reap.skipped).toMatch(/^the engine did not list containers: /);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1500);
  });

  test('a container the engine refuses to remove is named in failed; one already gone is not counted', async () => {
    let engine: Awaited<ReturnType<typeof fakeEngine>> | undefined;
    engine = await fakeEngine(
      [
        { Id: 'stuck', Labels: label('a') },
        { Id: 'gone', Labels: label('a') },
      ],
      (req, res) => {
        if (req.method !== 'DELETE') return false;
        if (req.url?.startsWith('/containers/stuck')) {
          res.writeHead(500).end('{"message":"device busy"}');
          return true;
        }
        // Removed meanwhile (the test's own close() won the race): the fake answers 404.
        engine?.containers.splice(
          engine.containers.findIndex((c) => c.Id === 'gone'),
          1,
        );
        return false;
      },
    );
    const reap = await reapAttemptContainers('a', 1000, engine.env);
    expect(reap.removed).toEqual([]);
    expect(reap.failed).toEqual(['stuck: HTTP 500']);
  });
});
