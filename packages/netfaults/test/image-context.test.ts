// The embedded server's image is built from a copied context with no npm install: what is copied
// must run on its own. Checked without a container engine: the context's server answers -version
// from a directory outside the workspace, where no node_modules of the repository can help it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, test } from 'vitest';
import { copyServer } from '../src/image.ts';

test('the image context holds the server and every package it imports, and runs by itself', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-image-context-'));
  try {
    const app = join(dir, 'app');
    await copyServer(app);
    const r = await execa(process.execPath, [join(app, 'bin/faultline-toxiproxy.js'), '-version'], {
      cwd: dir,
      reject: false,
      timeout: 20_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^toxiproxy-server version 2\.12\.0/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
