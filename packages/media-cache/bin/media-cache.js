#!/usr/bin/env node
// Plain-JS launcher: fail with one clear line on an old Node, then run the TypeScript CLI.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`media-cache needs Node >= 22.12 (this is ${process.versions.node}); install a newer Node.\n`);
  process.exit(2);
}
await import('../src/cli.ts');
