// Shared test plumbing: fixture paths, temp dirs, and evidence capture.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvidenceLog, setEvidenceSink } from '@faultline/evidence';

export function fixture(name: string): string {
  return join(import.meta.dirname, 'fixtures', name);
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-crash-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Routes evidence into a fresh log until `stop()`; the log is what a test run would store. */
export function captureEvidence(): { log: EvidenceLog; stop: () => void } {
  const log = new EvidenceLog(1000);
  const previous = setEvidenceSink(log);
  return { log, stop: () => setEvidenceSink(previous) };
}
