// Temp dirs a test file creates, removed together by cleanupTemps() (from afterEach or afterAll).
// Each test file runs in its own module instance, so the registry is per file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const temps: string[] = [];

/** A fresh dir under the OS tmpdir; keep `prefix` short: unix socket paths must stay under 108 bytes. */
export async function tempDir(prefix = 'mc-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Removes every dir tempDir() created since the last call. */
export async function cleanupTemps(): Promise<void> {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
}
