import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  actedOn,
  bindEvidence,
  captureEvidence,
  EvidenceLog,
  evidenceTarget,
  isRecordingEvidence,
  recordFault,
  recordNoEffect,
  reportCapability,
  setEvidenceSink,
} from '../src/index.ts';

describe('recordFault', () => {
  test('outside a test (no sink) it keeps nothing and says so', () => {
    const previous = setEvidenceSink(undefined);
    try {
      expect(isRecordingEvidence()).toBe(false);
      expect(recordFault({ kind: 'failpoint', name: 'x', detail: 'fired' })).toBe(false);
    } finally {
      setEvidenceSink(previous);
    }
  });

  test('repeats of one fault merge into one entry with a count; distinct faults are capped', () => {
    const { log, restore } = captureEvidence(3);
    try {
      for (let i = 0; i < 5; i++) recordFault({ kind: 'failpoint', name: 'a', detail: 'fired return(1)' });
      recordFault({ kind: 'failpoint', name: 'a', detail: 'fired panic', count: 2 });
      recordFault({ kind: 'kill', name: 'pid 1', detail: 'SIGKILL', attributes: { wave: 1 } });
      recordFault({ kind: 'kill', name: 'pid 2', detail: 'SIGKILL' });
      recordFault({ kind: 'kill', name: 'pid 3', detail: 'SIGKILL', count: 4 });
      expect(log.entries.map((e) => [e.name, e.detail, e.count])).toEqual([
        ['a', 'fired return(1)', 5],
        ['a', 'fired panic', 2],
        ['pid 1', 'SIGKILL', 1],
      ]);
      expect(log.dropped).toBe(5);
      expect(log.entries[2]!.attributes).toEqual({ wave: 1 });
    } finally {
      restore();
    }
  });

  test('two copies of the module share one sink (a global slot, not module state)', async () => {
    vi.resetModules();
    const copy = await import('../src/recorder.ts');
    expect(copy.recordFault).not.toBe(recordFault); // really a second instance of the module
    const log = new EvidenceLog();
    const previous = setEvidenceSink(log);
    try {
      expect(copy.recordFault({ kind: 'toxic', name: 'p/t', detail: 'latency' })).toBe(true);
      expect(log.entries).toHaveLength(1);
    } finally {
      setEvidenceSink(previous);
    }
  });
});

describe('recordNoEffect', () => {
  test('keeps a "did not act" entry that covers nothing and never merges with an acting one', () => {
    const { log, restore } = captureEvidence();
    try {
      recordNoEffect({ kind: 'rlimit', name: 'NOFILE', detail: 'x' });
      recordFault({ kind: 'rlimit', name: 'NOFILE', detail: 'x' });
      recordFault({ kind: 'toxic', name: 'latency', detail: 'counted no bytes', count: 0 });
      expect(log.entries.map((e) => [e.acted, e.count, actedOn(e)])).toEqual([
        [false, 0, false],
        [undefined, 1, true],
        [undefined, 0, false],
      ]);
    } finally {
      restore();
    }
  });
});

describe('reportCapability', () => {
  const saved = process.env.FAULTLINE_RUN_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.FAULTLINE_RUN_DIR;
    else process.env.FAULTLINE_RUN_DIR = saved;
  });

  test('appends one JSON line per fact to the run directory, and is a no-op outside a run', () => {
    delete process.env.FAULTLINE_RUN_DIR;
    expect(() => reportCapability('backend', 'embedded')).not.toThrow();
    const dir = mkdtempSync(join(tmpdir(), 'faultline-run-'));
    process.env.FAULTLINE_RUN_DIR = dir;
    reportCapability('backend', 'containers');
    reportCapability('containerRuntime', false);
    const lines = readFileSync(join(dir, 'capabilities.ndjson'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { key: 'backend', value: 'containers' },
      { key: 'containerRuntime', value: false },
    ]);
  });
});

describe('binding evidence to a test', () => {
  test('bindEvidence() and evidenceTarget() keep the test that was current when they were called', () => {
    const mine = new EvidenceLog();
    const other = new EvidenceLog();
    // A sink like the vitest setup file's: `current()` names the running test.
    let running: EvidenceLog | undefined = mine;
    const previous = setEvidenceSink({ record: (e) => (running ?? other).record(e), current: () => running });
    try {
      const target = evidenceTarget();
      const job = bindEvidence(() => recordFault({ kind: 'job', name: 'bound', detail: 'fired later' }));
      running = undefined; // the job runs later, from code no test owns
      job();
      recordFault({ kind: 'failpoint', name: 'armed', detail: 'fired later' }, { target });
      recordFault({ kind: 'stray', name: 'x', detail: 'nobody' });
      expect(mine.entries.map((e) => e.name)).toEqual(['bound', 'armed']);
      expect(other.entries.map((e) => e.name)).toEqual(['x']);
    } finally {
      setEvidenceSink(previous);
    }
  });

  test('outside a test, bindEvidence() returns the function itself and evidenceTarget() nothing', () => {
    const previous = setEvidenceSink(undefined);
    try {
      const fn = () => 1;
      expect(bindEvidence(fn)).toBe(fn);
      expect(evidenceTarget()).toBeUndefined();
    } finally {
      setEvidenceSink(previous);
    }
  });
});
