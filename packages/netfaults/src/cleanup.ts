// Last-resort removal of containers this process started, when it exits without close()
// (a suite that forgot it, an uncaught error). `exit` handlers must be synchronous, so a
// short-lived node child deletes them through the engine's API. A SIGKILLed process cannot
// clean up: under `faultline run` the runner removes the containers labelled with the attempt it
// stopped (containers.ts adds the label); elsewhere Ryuk does on GitHub Actions, and
// scripts/l3-containers.sh removes what testcontainers left.
import { spawnSync } from 'node:child_process';
import { engineEndpoint } from '@faultline/evidence';

const live = new Set<string>();
let hooked = false;

const REMOVE = `
const http = require('node:http');
const [target, ...ids] = JSON.parse(process.argv[1]);
let left = ids.length;
for (const id of ids) {
  const req = http.request({ ...target, method: 'DELETE', path: '/containers/' + id + '?force=true&v=true', timeout: 5000 }, (res) => { res.resume(); res.on('end', () => { if (--left === 0) process.exit(0); }); });
  req.on('error', () => { if (--left === 0) process.exit(0); });
  req.on('timeout', () => req.destroy());
  req.end();
}`;

function removeLeftovers(): void {
  if (live.size === 0) return;
  const target = engineEndpoint();
  if (!target) return;
  spawnSync(process.execPath, ['-e', REMOVE, JSON.stringify([target, ...live])], { stdio: 'ignore', timeout: 10_000 });
  live.clear();
}

export function trackContainer(id: string): void {
  live.add(id);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeLeftovers);
  }
}

export function untrackContainer(id: string): void {
  live.delete(id);
}

// Proxies this process created on a shared (external) server: deleted by the environment's
// close(); if the process exits first (an uncaught error, SIGINT, SIGTERM), the exit hook deletes
// them by name, so a stopped run leaves nothing on a server others use.
const liveProxies = new Map<string, { apiUrl: string; name: string }>();
let proxyHooked = false;

const DELETE_PROXIES = `
const list = JSON.parse(process.argv[1]);
let left = list.length;
const done = () => { if (--left === 0) process.exit(0); };
for (const { apiUrl, name } of list) {
  fetch(apiUrl + '/proxies/' + encodeURIComponent(name), { method: 'DELETE', signal: AbortSignal.timeout(5000) })
    .then((r) => r.body?.cancel()).catch(() => undefined).finally(done);
}`;

function removeProxyLeftovers(): void {
  if (liveProxies.size === 0) return;
  const list = [...liveProxies.values()];
  liveProxies.clear();
  spawnSync(process.execPath, ['-e', DELETE_PROXIES, JSON.stringify(list)], { stdio: 'ignore', timeout: 10_000 });
}

/**
 * SIGINT/SIGTERM: delete, stop listening, and raise the signal again, so the process meets it as if
 * we had never listened: it dies of it, or its own handlers run (a polite listener such as
 * signal-exit's, loaded by testcontainers, stands back while we listen and acts on the second).
 */
function onSignal(signal: NodeJS.Signals): void {
  removeProxyLeftovers();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

export function trackProxy(apiUrl: string, name: string): void {
  liveProxies.set(`${apiUrl} ${name}`, { apiUrl, name });
  if (proxyHooked) return;
  proxyHooked = true;
  process.on('exit', removeProxyLeftovers);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export function untrackProxy(apiUrl: string, name: string): void {
  liveProxies.delete(`${apiUrl} ${name}`);
}
