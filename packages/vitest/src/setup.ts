// Setup file added by defineLayerProject: gives every test its own evidence log so that
// recordFault() works from test bodies and from library code, with no context passing.
// aroundEach runs each attempt of a test (and its hooks) inside an AsyncLocalStorage scope, so
// concurrent tests keep their evidence apart. Evidence is held to the test whose code path
// fired it: its own async scope, a callback it bound (bindEvidence), a loopback HTTP request it
// sent to a server started in a hook, or, when exactly one test is running, that test (the only
// code that can be running). Anything else (a hook, shared code while several tests run, a
// test that already ended) is unattributed: reported for the file, covering nothing.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EvidenceLog, setEvidenceSink } from '@faultline/evidence';
import { afterAll, aroundEach } from 'vitest';
import { attributeLoopbackHttp } from './attribution.ts';
import type { FaultlineAttempt } from './meta.ts';
import './meta.ts';

const scope = new AsyncLocalStorage<EvidenceLog>();
const running = new Set<EvidenceLog>();
const finished = new WeakSet<EvidenceLog>();
let unattributed = new EvidenceLog();

attributeLoopbackHttp(scope);

function owner(): EvidenceLog | undefined {
  const own = scope.getStore();
  if (own) return finished.has(own) ? undefined : own;
  if (running.size === 1) return running.values().next().value;
  return undefined;
}

setEvidenceSink({
  record(evidence) {
    (owner() ?? unattributed).record(evidence);
  },
  current() {
    const own = scope.getStore();
    return own && !finished.has(own) ? own : undefined;
  },
});

const attempt = (log: EvidenceLog): FaultlineAttempt => ({ evidence: log.entries, dropped: log.dropped });

aroundEach(async (runTest, { task }) => {
  const log = new EvidenceLog();
  running.add(log);
  try {
    await scope.run(log, runTest);
  } finally {
    running.delete(log);
    finished.add(log);
    // A retry runs this again: append the attempt, never overwrite the previous one's evidence.
    task.meta.faultline = {
      ...task.meta.faultline,
      attempts: [...(task.meta.faultline?.attempts ?? []), attempt(log)],
    };
  }
});

// Registered first, so it runs after the file's own afterAll hooks (vitest runs them as a stack).
// vitest passes fixtures first (a destructuring pattern is required) and the suite second.
// biome-ignore lint/correctness/noEmptyPattern: no fixtures are used, only the suite
afterAll(({}, suite) => {
  if (unattributed.entries.length === 0 && unattributed.dropped === 0) return;
  suite.file.meta.faultline = { ...suite.file.meta.faultline, unattributed: attempt(unattributed) };
  unattributed = new EvidenceLog();
});
