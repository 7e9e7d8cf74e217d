// Shared test plumbing: fixture paths and temp dirs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function fixture(name: string): string {
  return join(import.meta.dirname, 'fixtures', name);
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-crash-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
