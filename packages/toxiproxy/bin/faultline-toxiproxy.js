#!/usr/bin/env node
// Plain JS with no dependencies so it runs (and explains) on any Node version.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`faultline-toxiproxy needs Node.js >= 22.12 (developed on 24); this is ${process.version}.`);
  process.exit(2);
}
await import('../dist/bin.js');
