#!/usr/bin/env node
// Plain JS with no dependencies so it runs (and explains) on any Node version.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`faultline-toxiproxy needs Node.js >= 22.12 (developed on 24); this is ${process.version}.`);
  process.exit(2);
}
if (!process.features.typescript) {
  // Node 22.12–22.17 strips TypeScript only behind a flag: re-run ourselves with it.
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await import('../src/bin.ts');
}
