#!/usr/bin/env node
// Only the Node version guard loads before the check: on an old Node this prints one clear
// message instead of a syntax or loader error from deep inside a dependency.
import { requireNode } from '@faultline/evidence/node-guard';

requireNode('faultline');
// `--version` answers before anything else loads: it is what scripts and bug reports call first.
if (process.argv[2] === '--version' || process.argv[2] === '-v') {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}
// Cache compiled modules on disk (`validate` ~20% faster warm); the env var carries it to the vitest
// workers we start, whose startup is most of a small suite's wall time. A directory that cannot be used
// turns the cache off: enableCompileCache returns a status, it does not throw.
const { enableCompileCache } = await import('node:module');
const { tmpdir } = await import('node:os');
process.env.NODE_COMPILE_CACHE ??= `${tmpdir()}/faultline-compile-cache`;
enableCompileCache?.(process.env.NODE_COMPILE_CACHE);
// `faultline list | head` closes our stdout early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import('../dist/main.js');
process.exitCode = await main(process.argv.slice(2), { out: process.stdout, err: process.stderr });
