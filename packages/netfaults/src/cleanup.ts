// Last-resort removal of containers this process started, when it exits without close()
// (a suite that forgot it, an uncaught error). `exit` handlers must be synchronous, so a
// short-lived node child deletes them through the engine's API. A SIGKILLed process cannot
// clean up: on GitHub Actions Ryuk does; here `podman rm -af` after the run (scripts/l3-containers.sh).
import { spawnSync } from 'node:child_process';
import { engineEndpoint } from './engine.ts';

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
