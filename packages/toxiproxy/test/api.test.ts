// Checklist items 1–31 and 57–58 of the reference (§5, api_test.go), driven through
// toxiproxy-node-client, plus raw HTTP checks for exact codes, bodies and headers.
import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { api, type Env, isListening, portOf, startServer, track } from './helpers.ts';

/** A port that was free a moment ago (for tests that need a fixed `localhost:P`). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function createProxy(env: Env, name: string, listen = 'localhost:0', enabled?: boolean) {
  return env.client.createProxy({
    name,
    listen,
    upstream: 'localhost:7171',
    ...(enabled === undefined ? {} : { enabled }),
  });
}

describe('HTTP basics', () => {
  test('1: every routed response carries X-Toxiproxy-Request-Id (20-char xid)', async () => {
    const { server } = await startServer();
    for (const [method, path] of [
      ['GET', '/version'],
      ['GET', '/proxies'],
      ['GET', '/proxies/missing'],
      ['POST', '/reset'],
    ] as const) {
      const res = await api(server, method, path);
      expect(res.headers.get('x-toxiproxy-request-id'), `${method} ${path}`).toMatch(/^[0-9a-v]{20}$/);
    }
    const a = await api(server, 'GET', '/version');
    const b = await api(server, 'GET', '/version');
    expect(a.headers.get('x-toxiproxy-request-id')).not.toBe(b.headers.get('x-toxiproxy-request-id'));
  });

  test('2: browser user agents get 403, others do not', async () => {
    const { server } = await startServer();
    const browser = await api(server, 'GET', '/proxies', undefined, { 'User-Agent': 'Mozilla/5.0 (X11)' });
    expect(browser.status).toBe(403);
    expect(browser.text).toBe('User agent not allowed\n');
    expect(browser.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const wget = await api(server, 'GET', '/proxies', undefined, { 'User-Agent': 'Wget/2.1' });
    expect(wget.status).toBe(200);
  });

  test('3: GET /proxies with no proxies is an empty map', async () => {
    const env = await startServer();
    expect(await env.client.getAll()).toEqual({});
    expect((await api(env.server, 'GET', '/proxies')).text).toBe('{}');
  });

  test('30: GET /version body is exact', async () => {
    const env = await startServer();
    const res = await api(env.server, 'GET', '/version');
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"version": "2.12.0"}\n');
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(await env.client.getVersion()).toBe('{"version": "2.12.0"}\n');
    const custom = await startServer({ version: 'git' });
    expect((await api(custom.server, 'GET', '/version')).text).toBe('{"version": "git"}\n');
  });

  test('unrouted paths are 404 text, wrong methods 405 empty, trailing slash not tolerated', async () => {
    const { server } = await startServer();
    const missing = await api(server, 'GET', '/nope');
    expect([missing.status, missing.text, missing.headers.get('x-toxiproxy-request-id')]).toEqual([
      404,
      '404 page not found\n',
      null,
    ]);
    expect((await api(server, 'GET', '/proxies/')).status).toBe(404);
    for (const [method, path] of [
      ['PUT', '/proxies'],
      ['GET', '/reset'],
      ['HEAD', '/version'],
    ] as const) {
      const res = await api(server, method, path);
      expect([res.status, res.text], `${method} ${path}`).toEqual([405, '']);
    }
    expect((await api(server, 'GET', '/metrics')).status).toBe(404);
  });

  test('errors are {"error","status"} JSON in a text/plain body with nosniff', async () => {
    const { server } = await startServer();
    const res = await api(server, 'GET', '/proxies/ghost');
    expect(res.status).toBe(404);
    expect(res.text).toBe('{"error":"proxy not found","status":404}\n');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const empty = await api(server, 'POST', '/proxies', '');
    expect(empty.text).toBe('{"error":"bad request body: EOF","status":400}\n');
    const garbage = await api(server, 'POST', '/proxies', 'xyz');
    expect(JSON.parse(garbage.text)).toEqual({
      error: "bad request body: invalid character 'x' looking for beginning of value",
      status: 400,
    });
  });
});

describe("Go's exact syntax errors for bodies that are not JSON", () => {
  const cases: Array<[string, string]> = [
    ['not json', "invalid character 'o' in literal null (expecting 'u')"],
    ['xyz', "invalid character 'x' looking for beginning of value"],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['fa', 'unexpected EOF'],
    ['{', 'unexpected EOF'],
    ['  ', 'EOF'],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"a":}', "invalid character '}' looking for beginning of value"],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['[1.x]', "invalid character 'x' after decimal point in numeric literal"],
    ['[1ex]', "invalid character 'x' in exponent of numeric literal"],
    ['"a\\qb"', "invalid character 'q' in string escape code"],
    ['"\\u12x4"', "invalid character 'x' in \\u hexadecimal character escape"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ['\\', "invalid character '\\\\' looking for beginning of value"],
    ['\u0001', "invalid character '\\x01' looking for beginning of value"],
  ];
  test.each(cases)('%j', async (body, message) => {
    const { server } = await startServer();
    const res = await api(server, 'POST', '/proxies', body);
    expect([res.status, JSON.parse(res.text).error]).toEqual([400, `bad request body: ${message}`]);
  });

  test('only the first value counts: trailing bytes after it are ignored, as by a Go Decoder', async () => {
    const { server } = await startServer();
    const res = await api(server, 'POST', '/proxies', '{"name":"a","upstream":"127.0.0.1:1","listen":"localhost:0"} x');
    expect(res.status).toBe(201);
  });
});

describe('proxies', () => {
  test('4: blank name or upstream is 400 with the exact message', async () => {
    const env = await startServer();
    await expect(env.client.createProxy({ name: '', listen: 'localhost:0', upstream: 'x:1' })).rejects.toThrow(
      'status code 400',
    );
    const noName = await api(env.server, 'POST', '/proxies', { listen: 'localhost:0', upstream: 'x:1' });
    expect(noName.text).toBe('{"error":"missing required field: name","status":400}\n');
    const noUpstream = await api(env.server, 'POST', '/proxies', { name: 'a', listen: 'localhost:0' });
    expect([noUpstream.status, JSON.parse(noUpstream.text).error]).toEqual([400, 'missing required field: upstream']);
  });

  test('12: created proxy JSON: localhost listen reported as 127.0.0.1, upstream verbatim, Logger artefact', async () => {
    const env = await startServer();
    const port = await freePort();
    const created = await api(env.server, 'POST', '/proxies', {
      name: 'mysql_master',
      listen: `localhost:${port}`,
      upstream: 'localhost:20001',
    });
    expect(created.status).toBe(201);
    expect(created.text).toBe(
      `{"name":"mysql_master","listen":"127.0.0.1:${port}","upstream":"localhost:20001","enabled":true,"Logger":{},"toxics":[]}`,
    );
    const all = await env.client.getAll();
    expect(Object.keys(all)).toEqual(['mysql_master']);
    const proxy = await env.client.get('mysql_master');
    expect(proxy.toJson()).toEqual({
      name: 'mysql_master',
      listen: `127.0.0.1:${port}`,
      upstream: 'localhost:20001',
      enabled: true,
    });
  });

  test('13: created via POST /proxies shows in GET and its port is open', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'saved');
    expect((await env.client.get('saved')).listen).toBe(proxy.listen);
    expect(await isListening(portOf(proxy.listen))).toBe(true);
  });

  test('14: created disabled: listen kept verbatim, port closed', async () => {
    const env = await startServer();
    const port = await freePort();
    const proxy = await createProxy(env, 'off', `localhost:${port}`, false);
    expect([proxy.listen, proxy.enabled]).toEqual([`localhost:${port}`, false]);
    expect(await isListening(port)).toBe(false);
  });

  test('15: created disabled, then enabled (port opens) and disabled again (port closes)', async () => {
    const env = await startServer();
    const port = await freePort();
    const proxy = await createProxy(env, 'toggle', `localhost:${port}`, false);
    const on = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect([on.enabled, on.listen]).toEqual([true, `127.0.0.1:${port}`]);
    expect(await isListening(port)).toBe(true);
    const off = await on.update({ enabled: false, listen: on.listen, upstream: on.upstream });
    expect(off.enabled).toBe(false);
    expect(await isListening(port)).toBe(false);
  });

  test('16: delete closes the port and empties the list; a second delete is 404', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'gone');
    await proxy.remove();
    expect(await isListening(portOf(proxy.listen))).toBe(false);
    expect(await env.client.getAll()).toEqual({});
    await expect(proxy.remove()).rejects.toThrow('status code 404');
    const again = await api(env.server, 'DELETE', '/proxies/gone');
    expect([again.status, again.text]).toEqual([404, '{"error":"proxy not found","status":404}\n']);
  });

  test('17: port conflict is 500 with the bind error; works after the first is deleted', async () => {
    const env = await startServer();
    const port = await freePort();
    await createProxy(env, 'first', `localhost:${port}`);
    const conflict = await api(env.server, 'POST', '/proxies', {
      name: 'second',
      listen: `localhost:${port}`,
      upstream: 'x:1',
    });
    expect(conflict.status).toBe(500);
    expect(JSON.parse(conflict.text).error).toBe(`listen tcp 127.0.0.1:${port}: bind: address already in use`);
    expect(Object.keys(await env.client.getAll())).toEqual(['first']);
    await (await env.client.get('first')).remove();
    expect((await createProxy(env, 'second', `localhost:${port}`)).listen).toBe(`127.0.0.1:${port}`);
  });

  test('18: name conflict is 409 (checked before binding); works after delete', async () => {
    const env = await startServer();
    const first = await createProxy(env, 'dup');
    const res = await api(env.server, 'POST', '/proxies', { name: 'dup', listen: first.listen, upstream: 'x:1' });
    expect([res.status, JSON.parse(res.text).error]).toEqual([409, 'proxy already exists']);
    await expect(createProxy(env, 'dup')).rejects.toThrow('status code 409');
    await first.remove();
    await createProxy(env, 'dup');
  });

  test('listen forms: "" and 0.0.0.0 bind every interface as [::]; unresolvable or portless listen is 500', async () => {
    const env = await startServer();
    const any = await createProxy(env, 'any', '');
    expect(any.listen).toMatch(/^\[::\]:\d+$/);
    const port = await freePort();
    const wildcard = await createProxy(env, 'wild', `0.0.0.0:${port}`);
    expect(wildcard.listen).toBe(`[::]:${port}`);
    expect(await isListening(port)).toBe(true);
    const portless = await api(env.server, 'POST', '/proxies', { name: 'bad', listen: 'nonsense', upstream: 'x:1' });
    expect([portless.status, JSON.parse(portless.text).error]).toEqual([
      500,
      'listen tcp: address nonsense: missing port in address',
    ]);
    expect(Object.keys(await env.client.getAll())).toEqual(['any', 'wild']);
  });

  test('update: listen change rebinds, hostname resolving to the same address keeps it (37, 40 via API)', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'move');
    const moved = await api(env.server, 'PATCH', '/proxies/move', { listen: 'localhost:0' });
    const movedListen = JSON.parse(moved.text).listen as string;
    expect(movedListen).not.toBe(proxy.listen);
    expect(await isListening(portOf(proxy.listen))).toBe(false);
    const same = await api(env.server, 'POST', '/proxies/move', { listen: `localhost:${portOf(movedListen)}` });
    expect(JSON.parse(same.text).listen).toBe(movedListen);
    const bad = await api(env.server, 'PATCH', '/proxies/move', { listen: 'nonsense' });
    expect([bad.status, JSON.parse(bad.text).error]).toEqual([500, 'address nonsense: missing port in address']);
    const empty = await api(env.server, 'PATCH', '/proxies/move', '');
    expect([empty.status, JSON.parse(empty.text).error]).toEqual([400, 'bad request body: EOF']);
    expect((await api(env.server, 'PATCH', '/proxies/ghost', {})).status).toBe(404);
  });

  test('names: spaces work URL-encoded; a name with "/" can be created but never addressed', async () => {
    const env = await startServer();
    await createProxy(env, 'with space');
    expect((await api(env.server, 'GET', '/proxies/with%20space')).status).toBe(200);
    await createProxy(env, 'a/b');
    expect((await api(env.server, 'GET', '/proxies/a%2Fb')).status).toBe(404);
    expect((await api(env.server, 'DELETE', '/proxies/a%2Fb')).status).toBe(404);
  });

  test('19: /reset keeps proxies, re-enables them, removes toxics; port open', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'r');
    await proxy.addToxic({
      name: 'lat',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 10, jitter: 0 },
    });
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    const reset = await api(env.server, 'POST', '/reset');
    expect([reset.status, reset.text]).toEqual([204, '']);
    await env.client.reset();
    const after = await api(env.server, 'GET', '/proxies/r');
    const json = JSON.parse(after.text);
    expect([json.enabled, json.toxics, json.listen]).toEqual([true, [], proxy.listen]);
    expect(await isListening(portOf(json.listen))).toBe(true);
  });
});

describe('populate', () => {
  test('5: two proxies created, returned in request order, both listening', async () => {
    const env = await startServer();
    const proxies = await env.client.populate([
      { name: 'one', listen: 'localhost:0', upstream: 'localhost:7171' },
      { name: 'two', listen: 'localhost:0', upstream: 'localhost:7171' },
    ]);
    expect(Object.keys(proxies)).toEqual(['one', 'two']);
    for (const proxy of Object.values(proxies)) expect(await isListening(portOf(proxy.listen))).toBe(true);
    const raw = await api(env.server, 'POST', '/populate', [
      { name: 'b', listen: 'localhost:0', upstream: 'x:1' },
      { name: 'a', listen: 'localhost:0', upstream: 'x:1' },
    ]);
    expect(raw.status).toBe(201);
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(raw.text).proxies.map((p: { name: string }) => p.name)).toEqual(['b', 'a']);
  });

  test('6: an entry without enabled is created enabled', async () => {
    const env = await startServer();
    const res = await api(env.server, 'POST', '/populate', [{ name: 'up', listen: 'localhost:0', upstream: 'x:1' }]);
    expect(res.status).toBe(201);
    const [proxy] = JSON.parse(res.text).proxies;
    expect(proxy.enabled).toBe(true);
    expect(await isListening(portOf(proxy.listen))).toBe(true);
  });

  test('7: an enabled:false entry is not listening, the other is', async () => {
    const env = await startServer();
    const port = await freePort();
    const proxies = await env.client.populate([
      { name: 'off', listen: `localhost:${port}`, upstream: 'x:1', enabled: false },
      { name: 'on', listen: 'localhost:0', upstream: 'x:1' },
    ]);
    expect(proxies.off!.enabled).toBe(false);
    expect(await isListening(port)).toBe(false);
    expect(await isListening(portOf(proxies.on!.listen))).toBe(true);
  });

  test('8: an identical existing proxy is kept (toxics too), a changed one is replaced', async () => {
    const env = await startServer();
    const [p1, p2] = [await freePort(), await freePort()];
    const first = await env.client.populate([
      { name: 'keep', listen: `127.0.0.1:${p1}`, upstream: 'x:1' },
      { name: 'change', listen: 'localhost:0', upstream: 'x:1' },
    ]);
    for (const proxy of [first.keep!, first.change!]) {
      await proxy.addToxic({
        name: 't',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency: 1, jitter: 0 },
      });
    }
    const res = await api(env.server, 'POST', '/populate', [
      { name: 'keep', listen: `localhost:${p1}`, upstream: 'x:1' },
      { name: 'change', listen: `localhost:${p2}`, upstream: 'x:1' },
    ]);
    const [keep, change] = JSON.parse(res.text).proxies;
    expect([keep.listen, keep.toxics.length]).toEqual([`127.0.0.1:${p1}`, 1]);
    expect([change.listen, change.toxics.length]).toEqual([`127.0.0.1:${p2}`, 0]);
    expect(await isListening(portOf(first.change!.listen))).toBe(false);
  });

  test('populate keeps a disabled identical proxy disabled', async () => {
    const env = await startServer();
    const port = await freePort();
    // A disabled proxy stores listen verbatim, so it matches when the entry resolves to it.
    await env.client.populate([{ name: 'd', listen: `127.0.0.1:${port}`, upstream: 'x:1', enabled: false }]);
    const res = await api(env.server, 'POST', '/populate', [
      { name: 'd', listen: `127.0.0.1:${port}`, upstream: 'x:1' },
    ]);
    expect(JSON.parse(res.text).proxies[0].enabled).toBe(false);
  });

  test('9: a missing name fails validation before anything is created', async () => {
    const env = await startServer();
    const body = [
      { name: 'ok', listen: 'localhost:0', upstream: 'x:1' },
      { name: '', listen: 'localhost:0', upstream: 'x:1' },
    ];
    await expect(env.client.populate(body)).rejects.toThrow('status code 400');
    const res = await api(env.server, 'POST', '/populate', body);
    expect(res.text).toBe('{"error":"missing required field: name at proxy 2","status":400,"proxies":null}');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await env.client.getAll()).toEqual({});
  });

  test('10: a bad listen stops processing: earlier entries stay, later ones are not created', async () => {
    const env = await startServer();
    const res = await api(env.server, 'POST', '/populate', [
      { name: 'one', listen: 'localhost:0', upstream: 'x:1' },
      { name: 'two', listen: 'local373', upstream: 'x:1' },
      { name: 'three', listen: 'localhost:0', upstream: 'x:1' },
    ]);
    const json = JSON.parse(res.text);
    expect([res.status, json.error]).toEqual([500, 'listen tcp: address local373: missing port in address']);
    expect(json.proxies.map((p: { name: string }) => p.name)).toEqual(['one']);
    expect(Object.keys(await env.client.getAll())).toEqual(['one']);
  });

  test('11: a toxic can be added to a populated proxy', async () => {
    const env = await startServer();
    const { pop } = await env.client.populate([{ name: 'pop', listen: 'localhost:0', upstream: 'x:1' }]);
    const toxic = await pop!.addToxic({
      name: 'lat',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 5, jitter: 0 },
    });
    expect(toxic.name).toBe('lat');
  });

  test('decode errors carry proxies:null; [] answers an empty array (deviation, node client works)', async () => {
    const env = await startServer();
    const res = await api(env.server, 'POST', '/populate', { name: 'x' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ status: 400, proxies: null });
    expect(JSON.parse(res.text).error).toMatch(/^bad request body: json: cannot unmarshal object/);
    expect(await env.client.populate([])).toEqual({});
  });
});

describe('toxics', () => {
  // An empty name is what the node client sends when none is given: the server names it.
  const latency = (name = '', stream: 'upstream' | 'downstream' = 'downstream') => ({
    name,
    type: 'latency' as const,
    stream,
    toxicity: 1,
    attributes: { latency: 100, jitter: 10 },
  });

  test('20: a new proxy has no toxics', async () => {
    const env = await startServer();
    await createProxy(env, 'p');
    const res = await api(env.server, 'GET', '/proxies/p/toxics');
    expect([res.status, res.text]).toEqual([200, '[]']);
    expect((await api(env.server, 'GET', '/proxies/ghost/toxics')).status).toBe(404);
  });

  test('21: a named latency toxic reads back type, stream, toxicity and attributes', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    const res = await api(env.server, 'POST', '/proxies/p/toxics', latency('lat'));
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      '{"attributes":{"latency":100,"jitter":10},"name":"lat","type":"latency","stream":"downstream","toxicity":1}',
    );
    const toxic = await proxy.getToxic('lat');
    expect(toxic.toJson()).toEqual({
      name: 'lat',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 100, jitter: 10 },
    });
  });

  test('22: two latency toxics downstream, none upstream', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    await proxy.addToxic(latency('a'));
    await proxy.addToxic(latency('b'));
    const list = JSON.parse((await api(env.server, 'GET', '/proxies/p/toxics')).text) as Array<{ stream: string }>;
    expect(list.map((t) => t.stream)).toEqual(['downstream', 'downstream']);
  });

  test('23/24: a name in use (any type, either stream) is 409 and the original is kept', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    await proxy.addToxic(latency('same'));
    await expect(
      proxy.addToxic({ name: 'same', type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate: 1 } }),
    ).rejects.toThrow('status code 409');
    const upstream = await api(env.server, 'POST', '/proxies/p/toxics', latency('same', 'upstream'));
    expect([upstream.status, JSON.parse(upstream.text).error]).toEqual([409, 'toxic already exists']);
    expect((await proxy.getToxic('same')).type).toBe('latency');
  });

  test('25: unnamed latency up and down get latency_upstream and latency_downstream', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    await proxy.addToxic(latency('', 'upstream'));
    await proxy.addToxic(latency('', 'downstream'));
    expect((await proxy.getToxic('latency_upstream')).stream).toBe('upstream');
    expect((await proxy.getToxic('latency_downstream')).stream).toBe('downstream');
    const all = JSON.parse((await api(env.server, 'GET', '/proxies/p')).text).toxics as Array<{ name: string }>;
    expect(all.map((t) => t.name)).toEqual(['latency_upstream', 'latency_downstream']);
  });

  test('26: toxicity 0.2 is stored and read back as 0.2 (float32)', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    await proxy.addToxic({ ...latency('t'), toxicity: 0.2 });
    expect((await proxy.getToxic('t')).toxicity).toBe(0.2);
    expect((await api(env.server, 'GET', '/proxies/p/toxics/t')).text).toContain('"toxicity":0.2}');
  });

  test('27: noop with the stream omitted defaults to downstream, toxicity 1, attributes {}', async () => {
    const env = await startServer();
    await createProxy(env, 'p');
    const res = await api(env.server, 'POST', '/proxies/p/toxics', { type: 'noop' });
    expect(res.text).toBe(
      '{"attributes":{},"name":"noop_downstream","type":"noop","stream":"downstream","toxicity":1}',
    );
    const nulls = await api(env.server, 'POST', '/proxies/p/toxics', {
      name: 'n',
      type: 'noop',
      toxicity: null,
      stream: null,
    });
    expect(JSON.parse(nulls.text)).toMatchObject({ stream: 'downstream', toxicity: 1 });
    const zero = await api(env.server, 'POST', '/proxies/p/toxics', { name: 'z', type: 'noop', toxicity: 0 });
    expect(JSON.parse(zero.text).toxicity).toBe(0);
  });

  test('28: partial update keeps unspecified attributes and toxicity', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    const toxic = await proxy.addToxic(latency('t'));
    const updated = await toxic.update({ toxicity: 0.5, attributes: { latency: 1000 } } as never);
    expect([updated.toxicity, updated.attributes]).toEqual([0.5, { latency: 1000, jitter: 10 }]);
    const again = await api(env.server, 'PATCH', '/proxies/p/toxics/t', {
      attributes: { jitter: 5 },
      name: 'x',
      type: 'noop',
    });
    expect(JSON.parse(again.text)).toEqual({
      attributes: { latency: 1000, jitter: 5 },
      name: 't',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.5,
    });
    const empty = await api(env.server, 'POST', '/proxies/p/toxics/t', '');
    expect([empty.status, JSON.parse(empty.text).error]).toEqual([400, 'bad request body: EOF']);
    expect((await api(env.server, 'POST', '/proxies/p/toxics/ghost', {})).status).toBe(404);
  });

  test('29: a removed toxic is gone; removing again is 404', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    const toxic = await proxy.addToxic(latency('t'));
    await toxic.remove();
    expect((await api(env.server, 'GET', '/proxies/p/toxics')).text).toBe('[]');
    const again = await api(env.server, 'DELETE', '/proxies/p/toxics/t');
    expect([again.status, JSON.parse(again.text).error]).toEqual([404, 'toxic not found']);
    expect(JSON.parse((await api(env.server, 'DELETE', '/proxies/ghost/toxics/t')).text).error).toBe('proxy not found');
  });

  test('31/57: stream parses case-insensitively and is echoed; "", unknown, -123 are invalid', async () => {
    const env = await startServer();
    await createProxy(env, 'p');
    const upper = await api(env.server, 'POST', '/proxies/p/toxics', { type: 'noop', stream: 'UPSTREAM' });
    expect(JSON.parse(upper.text)).toMatchObject({ name: 'noop_UPSTREAM', stream: 'UPSTREAM' });
    const mixed = await api(env.server, 'POST', '/proxies/p/toxics', { type: 'noop', stream: 'DownStream' });
    expect(mixed.status).toBe(200);
    for (const stream of ['walrustream', '', 'unknown', '-123']) {
      const res = await api(env.server, 'POST', '/proxies/p/toxics', { type: 'noop', stream });
      expect([res.status, JSON.parse(res.text).error], stream).toEqual([
        400,
        'stream was invalid, can be either upstream or downstream',
      ]);
    }
  });

  test('type and attribute decoding: unknown type / "down" 400, ints only, unknown keys ignored, all defaults', async () => {
    const env = await startServer();
    const proxy = await createProxy(env, 'p');
    await expect(
      proxy.addToxic({ type: 'down', stream: 'downstream', toxicity: 1, attributes: {} } as never),
    ).rejects.toThrow('status code 400');
    const missingType = await api(env.server, 'POST', '/proxies/p/toxics', {});
    expect(JSON.parse(missingType.text).error).toBe('invalid toxic type');
    const fraction = await api(env.server, 'POST', '/proxies/p/toxics', {
      type: 'latency',
      attributes: { latency: 1.5 },
    });
    expect([fraction.status, JSON.parse(fraction.text).error]).toEqual([
      400,
      'bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64',
    ]);
    const text = await api(env.server, 'POST', '/proxies/p/toxics', {
      type: 'latency',
      attributes: { latency: 'abc' },
    });
    expect([text.status, JSON.parse(text.text).error]).toEqual([
      400,
      'bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of type int64',
    ]);
    const defaults: Record<string, unknown> = {
      latency: { latency: 0, jitter: 0 },
      bandwidth: { rate: 0 },
      slow_close: { delay: 0 },
      timeout: { timeout: 0 },
      reset_peer: { timeout: 0 },
      limit_data: { bytes: 0 },
    };
    for (const [type, attributes] of Object.entries(defaults)) {
      const res = await api(env.server, 'POST', '/proxies/p/toxics', { type, attributes: { bogus: 1 } });
      expect(JSON.parse(res.text).attributes, type).toEqual(attributes);
    }
    const negative = await api(env.server, 'POST', '/proxies/p/toxics', {
      name: 'neg',
      type: 'latency',
      toxicity: 7,
      attributes: { latency: -5 },
    });
    expect(JSON.parse(negative.text)).toMatchObject({ toxicity: 7, attributes: { latency: -5 } });
  });

  test('deviations: values that crash or hang the real server are 400', async () => {
    const env = await startServer();
    await createProxy(env, 'p');
    for (const [type, attributes] of [
      ['slicer', { average_size: 0 }],
      ['slicer', { average_size: -1 }],
      ['slicer', { average_size: 10, size_variation: -1 }],
      ['bandwidth', { rate: -1 }],
    ] as const) {
      const res = await api(env.server, 'POST', '/proxies/p/toxics', { type, attributes });
      expect(res.status, `${type} ${JSON.stringify(attributes)}`).toBe(400);
      expect(JSON.parse(res.text).error).toMatch(new RegExp(`^invalid ${type} toxic: `));
    }
    const ok = await api(env.server, 'POST', '/proxies/p/toxics', {
      name: 's',
      type: 'slicer',
      attributes: { average_size: 10 },
    });
    expect(ok.status).toBe(200);
    const update = await api(env.server, 'POST', '/proxies/p/toxics/s', { attributes: { average_size: 0 } });
    expect(update.status).toBe(400);
    expect(JSON.parse((await api(env.server, 'GET', '/proxies/p/toxics/s')).text).attributes.average_size).toBe(10);
  });
});

test('58: -proxy-metrics exposes received/sent byte counters per link', async () => {
  const env = await startServer({ proxyMetrics: true });
  const { startUpstream, connect, readBytes } = await import('./helpers.ts');
  const upstream = await startUpstream();
  const proxy = await env.client.createProxy({ name: 'm', listen: 'localhost:0', upstream: upstream.address });
  const socket = await connect(portOf(proxy.listen));
  socket.write('hello');
  await readBytes(socket, 5);
  socket.end();
  const { waitFor } = await import('./helpers.ts');
  await waitFor(() => env.server.connectionCount === 0);
  const res = await api(env.server, 'GET', '/metrics');
  expect(res.status).toBe(200);
  const labels = `listener="${proxy.listen}",proxy="m",upstream="${upstream.address}"`;
  expect(res.text).toContain(`toxiproxy_proxy_received_bytes_total{direction="upstream",${labels}} 5`);
  expect(res.text).toContain(`toxiproxy_proxy_sent_bytes_total{direction="upstream",${labels}} 5`);
  expect(res.text).toContain(`toxiproxy_proxy_sent_bytes_total{direction="downstream",${labels}} 5`);
  track(() => undefined);
});
